/* snap.c - Chandy-Lamport (1985) with snapshot ids, reports to the initiator, and dead peers. */
#include "snap.h"

#include <string.h>

#define BIT(j) ((uint32_t)1 << (j))

void snap_init(struct snap_node *sn, int id, int n, const struct snap_ops *ops)
{
    memset(sn, 0, sizeof *sn);
    sn->id = id, sn->n = n, sn->ops = ops;
}

static uint32_t peers_mask(const struct snap_node *sn)
{
    uint32_t all = sn->n >= 32 ? 0xffffffffu : BIT(sn->n) - 1;
    return all & ~BIT(sn->id);
}

static struct snap *find(struct snap_node *sn, int init, uint32_t n)
{
    for (int k = 0; k < SNAP_MAX_ACTIVE; k++)
        if (sn->slot[k].used && sn->slot[k].init == init && sn->slot[k].n == n)
            return &sn->slot[k];
    return NULL;
}

static struct snap *alloc(struct snap_node *sn, int init, uint32_t n)
{
    for (int k = 0; k < SNAP_MAX_ACTIVE; k++)
        if (!sn->slot[k].used) {
            struct snap *s = &sn->slot[k];
            memset(s, 0, sizeof *s);
            s->used = true, s->init = init, s->n = n, s->lost = -1;
            return s;
        }
    return NULL;
}

static void maybe_free(struct snap_node *sn, struct snap *s)
{
    if (s->local_done && (s->init != sn->id || s->agg_done))
        s->used = false;
}

/* The initiator's result is known: complete (every report in) or not. */
static void finish(struct snap_node *sn, struct snap *s)
{
    s->agg_done = true;
    if (s->failed)
        sn->incomplete++;
    else
        sn->complete++;
    sn->ops->finish(sn->ops->ctx, s);
    maybe_free(sn, s);
}

/* STEP 4: the initiator collects one report per player (its own included); one failed report
 * makes the snapshot incomplete: a total without every player would be wrong. */
static void aggregate(struct snap_node *sn, struct snap *s, const struct snap_report *r)
{
    if (s->agg_done)
        return;
    if (!r->ok) {
        if (!s->failed)
            s->lost = r->from; /* they could not finish: a peer of theirs died */
        s->failed = true;
        finish(sn, s);
        return;
    }
    s->rep[r->from] = *r;
    s->reported |= BIT(r->from);
    if (s->reported == (peers_mask(sn) | BIT(sn->id)))
        finish(sn, s);
}

/* Our part of s is over: every channel closed by its marker (ok), or a peer died first. */
static void local_finish(struct snap_node *sn, struct snap *s, bool ok)
{
    s->local_done = true;
    if (s->n > sn->done_upto[s->init])
        sn->done_upto[s->init] = s->n;
    struct snap_report r = {.init = s->init,
                            .n = s->n,
                            .from = sn->id,
                            .ok = ok,
                            .st = s->rec,
                            .chan_gold = s->chan_gold,
                            .chan_msgs = s->chan_msgs};
    if (s->init == sn->id)
        aggregate(sn, s, &r);
    else
        sn->ops->report(sn->ops->ctx, &r);
    maybe_free(sn, s);
}

static int lowest_bit(uint32_t m)
{
    int j = 0;
    while (!(m & BIT(j)))
        j++;
    return j;
}

static void check_local(struct snap_node *sn, struct snap *s)
{
    if (s->local_done)
        return;
    if ((s->marker_from & peers_mask(sn)) == peers_mask(sn)) {
        local_finish(sn, s, true);
        return;
    }
    uint32_t missing = sn->dead & ~s->marker_from & peers_mask(sn);
    if (missing == 0)
        return;
    if (s->init == sn->id && !s->failed) /* name the dead player, not ourselves */
        s->failed = true, s->lost = lowest_bit(missing);
    local_finish(sn, s, false); /* a marker that will never come */
}

/* STEP 1: record our own state, then send a marker on every outgoing channel
 * before any other message, so every message we send after the record comes
 * after the marker on its (FIFO) channel. */
static void record(struct snap_node *sn, struct snap *s, const struct snap_state *st)
{
    s->rec = *st;
    sn->ops->record(sn->ops->ctx, s);
    sn->ops->markers(sn->ops->ctx, s);
}

uint32_t snap_start(struct snap_node *sn, const struct snap_state *st)
{
    struct snap *s = alloc(sn, sn->id, sn->next_n + 1);
    if (!s)
        return 0;
    sn->next_n++, sn->started++;
    record(sn, s, st);
    check_local(sn, s);
    return sn->next_n;
}

/* STEP 2: a marker. The first one of a snapshot makes us record (the channel
 * it came on is empty in the snapshot); every marker closes its channel. */
int snap_on_marker(struct snap_node *sn, int from, int init, uint32_t n,
                   const struct snap_state *st)
{
    if (from < 0 || from >= sn->n || from == sn->id || init < 0 || init >= sn->n)
        return SNAP_BAD;
    struct snap *s = find(sn, init, n);
    if (!s) {
        /* Channels are FIFO, so a player sees the markers of one initiator's
         * snapshots in number order: an older number here is over already. */
        if (n <= sn->done_upto[init])
            return SNAP_STALE;
        if (init == sn->id)
            return SNAP_BAD; /* we never started it */
        s = alloc(sn, init, n);
        if (!s) {
            struct snap_report r = {.init = init, .n = n, .from = sn->id, .ok = false};
            sn->done_upto[init] = n;
            sn->ops->report(sn->ops->ctx, &r);
            return SNAP_FULL;
        }
        s->marker_from |= BIT(from);
        sn->ops->marker(sn->ops->ctx, s, from);
        record(sn, s, st);
    } else {
        if (s->local_done || (s->marker_from & BIT(from)))
            return SNAP_BAD; /* a second marker on one channel */
        s->marker_from |= BIT(from);
        sn->ops->marker(sn->ops->ctx, s, from);
    }
    check_local(sn, s);
    return SNAP_OK;
}

/* STEP 3: the recording rule. A message belongs to the state of channel
 * from->us in snapshot s iff it arrives after we recorded (s exists here) and
 * before the marker on that same channel. */
void snap_on_xfer(struct snap_node *sn, int from, uint32_t seq, uint32_t gold)
{
    for (int k = 0; k < SNAP_MAX_ACTIVE; k++) {
        struct snap *s = &sn->slot[k];
        if (!s->used || s->local_done)
            continue;
        if (s->marker_from & BIT(from)) /* THE RULE: that channel is closed for s */
            continue;
        s->chan_gold += gold, s->chan_msgs++;
        sn->ops->chan(sn->ops->ctx, s, from, seq, gold);
    }
}

int snap_on_report(struct snap_node *sn, const struct snap_report *r)
{
    if (r->init != sn->id || r->from < 0 || r->from >= sn->n || r->from == sn->id)
        return SNAP_BAD;
    struct snap *s = find(sn, r->init, r->n);
    if (!s)
        return r->n >= 1 && r->n <= sn->next_n ? SNAP_STALE : SNAP_BAD;
    if (s->agg_done)
        return SNAP_STALE; /* it already failed for another reason */
    if (s->reported & BIT(r->from))
        return SNAP_BAD;
    aggregate(sn, s, r);
    return SNAP_OK;
}

/* STEP 5: a dead player never sends its marker or its report: every snapshot that still waits
 * for either ends incomplete now, instead of hanging or printing a total without it. */
void snap_peer_down(struct snap_node *sn, int peer)
{
    if (peer < 0 || peer >= sn->n || peer == sn->id || (sn->dead & BIT(peer)))
        return;
    sn->dead |= BIT(peer);
    for (int k = 0; k < SNAP_MAX_ACTIVE; k++) {
        struct snap *s = &sn->slot[k];
        if (!s->used)
            continue;
        /* Collection first: its reason names the dead player. */
        if (s->init == sn->id && !s->agg_done && !(s->reported & BIT(peer))) {
            s->failed = true, s->lost = peer;
            finish(sn, s);
        }
        if (s->used)
            check_local(sn, s);
    }
}

int snap_active(const struct snap_node *sn)
{
    int k, a = 0;
    for (k = 0; k < SNAP_MAX_ACTIVE; k++)
        a += sn->slot[k].used;
    return a;
}
