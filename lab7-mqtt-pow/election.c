/* election.c - the vote rule (highest vote, ties by higher id) over a table of participants. */
#include <string.h>

#include "election.h"

void election_init(struct election *e, uint32_t self)
{
    memset(e, 0, sizeof *e);
    e->self = self;
    election_add(e, self);
}

static int find(const struct election *e, uint32_t id)
{
    for (int i = 0; i < e->n; i++)
        if (e->id[i] == id)
            return i;
    return -1;
}

static void drop(struct election *e, int i)
{
    e->n--;
    e->id[i] = e->id[e->n];
    e->alive[i] = e->alive[e->n];
    e->voted[i] = e->voted[e->n];
    e->proven[i] = e->proven[e->n];
    e->vote[i] = e->vote[e->n];
    e->heard[i] = e->heard[e->n];
}

/* The entry to give up for a newcomer: dead first, then never voted; oldest first. */
static int victim(const struct election *e)
{
    int best = -1;
    for (int pass = 0; pass < 2 && best < 0; pass++)
        for (int i = 0; i < e->n; i++) {
            bool ok = e->id[i] != e->self && (pass == 0 ? !e->alive[i] : !e->proven[i]);
            if (ok && (best < 0 || e->heard[i] < e->heard[best]))
                best = i;
        }
    return best;
}

int election_add(struct election *e, uint32_t id)
{
    int i = find(e, id);
    if (i >= 0) {
        e->heard[i] = ++e->clock;
        if (e->alive[i])
            return 0;
        e->alive[i] = true;
        return 1;
    }
    if (e->n == ELECTION_MAX) {
        int v = victim(e);
        if (v < 0)
            return -1;
        drop(e, v);
    }
    e->id[e->n] = id;
    e->alive[e->n] = true;
    e->voted[e->n] = false;
    e->proven[e->n] = false;
    e->heard[e->n] = ++e->clock;
    e->n++;
    return 1;
}

bool election_remove(struct election *e, uint32_t id)
{
    int i = find(e, id);
    if (i < 0 || !e->alive[i])
        return false;
    e->alive[i] = false;
    return true;
}

int election_alive(const struct election *e)
{
    int k = 0;
    for (int i = 0; i < e->n; i++)
        k += e->alive[i];
    return k;
}

bool election_epoch_ok(const struct election *e, uint32_t epoch, bool announce)
{
    if (epoch > MSG_MAX_EPOCH)
        return false;
    return epoch <= e->epoch + ELECTION_EPOCH_STEP || (announce && e->epoch == 0);
}

uint32_t election_next_epoch(const struct election *e)
{
    return e->epoch < MSG_MAX_EPOCH ? e->epoch + 1 : 0;
}

bool election_is_alive(const struct election *e, uint32_t id)
{
    int i = find(e, id);
    return i >= 0 && e->alive[i];
}

void election_start(struct election *e, uint32_t epoch)
{
    e->epoch = epoch;
    e->decided = false;
    memset(e->voted, 0, sizeof e->voted);
}

int election_vote(struct election *e, uint32_t id, uint32_t epoch, uint64_t value)
{
    if (epoch != e->epoch)
        return 0;
    if (election_add(e, id) < 0)
        return 0;
    int i = find(e, id);
    if (e->voted[i])
        return 0;
    e->voted[i] = true;
    e->proven[i] = true;
    e->vote[i] = value;
    return 1;
}

bool election_complete(const struct election *e)
{
    for (int i = 0; i < e->n; i++)
        if (e->alive[i] && !e->voted[i])
            return false;
    return true;
}

bool election_decide(struct election *e)
{
    int best = -1;
    for (int i = 0; i < e->n; i++) {
        if (!e->alive[i] || !e->voted[i])
            continue;
        if (best < 0 || e->vote[i] > e->vote[best] ||
            (e->vote[i] == e->vote[best] && e->id[i] > e->id[best]))
            best = i;
    }
    if (best < 0)
        return false;
    uint32_t leader = e->id[best];
    for (int i = 0; i < e->n; i++)
        if (!e->proven[i] && e->id[i] != e->self)
            drop(e, i--);
    best = find(e, leader);
    e->decided = true;
    e->leader = e->id[best];
    e->leader_vote = e->vote[best];
    return true;
}
