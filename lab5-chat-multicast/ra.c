/* ra.c - Ricart-Agrawala (1981), with the two changes a lossy, crashy group needs:
 * idempotent retransmission of REQ/REP, and a reply set of *live* peers only. */
#include <string.h>

#include "ra.h"

void ra_init(struct ra *ra, const char *me, uint32_t boot, int64_t retx_ms, int64_t dead_ms)
{
    memset(ra, 0, sizeof *ra);
    strncpy(ra->me, me, PROTO_NAMELEN);
    ra->boot = boot;
    ra->retx_ms = retx_ms;
    ra->dead_ms = dead_ms;
}

void ra_observe(struct ra *ra, uint64_t ts)
{
    ra->lc = (ts > ra->lc ? ts : ra->lc) + 1;
}

int ra_peer(struct ra *ra, const char *name)
{
    for (int i = 0; i < ra->npeers; i++)
        if (!strcmp(ra->peer[i].name, name))
            return i;
    if (ra->npeers == RA_MAXPEERS)
        return -1;
    struct ra_peer *p = &ra->peer[ra->npeers];
    memset(p, 0, sizeof *p);
    strncpy(p->name, name, PROTO_NAMELEN);
    return ra->npeers++;
}

bool ra_heard(struct ra *ra, int i, int64_t now)
{
    struct ra_peer *p = &ra->peer[i];
    bool was = p->alive;
    p->alive = true;
    p->last_heard = now;
    /* A peer that comes back during our request must answer it too: it may want the section. */
    return !was;
}

int ra_incarnation(struct ra *ra, int i, uint32_t boot)
{
    struct ra_peer *p = &ra->peer[i];
    if (boot < p->boot)
        return -1;
    if (boot == p->boot)
        return 0;
    int restarted = p->boot != 0;
    p->boot = boot;
    p->replied = false; /* its REP came from a life that no longer holds to it: ask again */
    p->deferred = false;
    return restarted;
}

bool ra_before(uint64_t ts_a, const char *a, uint64_t ts_b, const char *b)
{
    return ts_a < ts_b || (ts_a == ts_b && strcmp(a, b) < 0);
}

/* Must peer i answer our request? Alive, and not a ghost (see ra_ghosts). */
static bool must_answer(const struct ra_peer *p)
{
    return p->alive && !p->ghost;
}

bool ra_all_replied(const struct ra *ra)
{
    for (int i = 0; i < ra->npeers; i++)
        if (must_answer(&ra->peer[i]) && !ra->peer[i].replied)
            return false;
    return true;
}

/* A member that only ever sent HELLOs (a "ghost": a forger, or a program that is not a chat
 * member) would hold every section until it falls silent. A genuine member proves itself by
 * the RA traffic it sends: whoever is inside the section, or wants it, has sent us its REQ (it
 * could not enter without our REP), so waiting less for a peer we never had a REQ or REP from
 * keeps safety among genuine members. What stays unprotected: README "Trust model". */
int ra_ghosts(struct ra *ra, int64_t now, int *out)
{
    int n = 0;
    if (ra->state != RA_WANTED || ra->ghost_ms <= 0 || now - ra->requested_at < ra->ghost_ms)
        return 0;
    for (int i = 0; i < ra->npeers; i++) {
        struct ra_peer *p = &ra->peer[i];
        if (must_answer(p) && !p->replied && !p->proven) {
            p->ghost = true;
            out[n++] = i;
        }
    }
    return n;
}

int64_t ra_ghost_deadline(const struct ra *ra)
{
    if (ra->state != RA_WANTED || ra->ghost_ms <= 0)
        return INT64_MAX;
    for (int i = 0; i < ra->npeers; i++)
        if (must_answer(&ra->peer[i]) && !ra->peer[i].replied && !ra->peer[i].proven)
            return ra->requested_at + ra->ghost_ms;
    return INT64_MAX;
}

/* A REQ or a REP: the peer takes part; from now on it is always waited for. */
static void prove(struct ra_peer *p)
{
    p->proven = true;
    p->ghost = false;
}

bool ra_request(struct ra *ra, int64_t now)
{
    ra->lc++;
    ra->my_ts = ra->lc;
    ra->my_req++;
    ra->state = RA_WANTED;
    ra->asked_at = ra->requested_at = now;
    for (int i = 0; i < ra->npeers; i++)
        ra->peer[i].replied = false;
    return ra_all_replied(ra);
}

/* STEP 2 of RA: on a request, reply at once unless we hold the section or want it with an
 * earlier (timestamp, name); then defer. */
enum ra_action ra_on_request(struct ra *ra, int i, uint64_t ts, uint32_t boot, uint32_t req)
{
    struct ra_peer *p = &ra->peer[i];
    bool dup = p->seen_boot == boot && p->seen_req == req;
    prove(p);
    if (!dup && (boot < p->seen_boot || (boot == p->seen_boot && req < p->seen_req)))
        return RA_DUP; /* an old request overtaken by a newer one */
    if (dup) {
        ts = p->seen_ts; /* the stamp of the first copy decides, not a later one */
        if (p->deferred && p->def_boot == boot && p->def_req == req)
            return RA_DUP; /* still owed: it will come on release */
    }
    p->seen_boot = boot, p->seen_req = req, p->seen_ts = ts;
    bool mine_first = ra->state == RA_HELD ||
                      (ra->state == RA_WANTED && ra_before(ra->my_ts, ra->me, ts, p->name));
    if (mine_first) {
        p->deferred = true, p->def_boot = boot, p->def_req = req;
        return RA_DEFER;
    }
    /* A duplicate we answered before: our REP may have been lost, so answer again. */
    return RA_REPLY;
}

bool ra_on_reply(struct ra *ra, int i, uint32_t boot, uint32_t req)
{
    prove(&ra->peer[i]);
    if (ra->state != RA_WANTED || boot != ra->boot || req != ra->my_req || ra->peer[i].replied)
        return false;
    ra->peer[i].replied = true;
    return ra_all_replied(ra);
}

void ra_enter(struct ra *ra)
{
    ra->state = RA_HELD;
}

/* STEP 3: on release, answer every deferred request. */
int ra_release(struct ra *ra, int *owed)
{
    int n = 0;
    ra->state = RA_RELEASED;
    for (int i = 0; i < ra->npeers; i++)
        if (ra->peer[i].deferred) {
            ra->peer[i].deferred = false;
            owed[n++] = i;
        }
    return n;
}

int ra_tick(struct ra *ra, int64_t now, int *dead, bool *retx, char miss[][PROTO_NAMELEN + 1],
            int *nmiss)
{
    int nd = 0;
    *retx = false, *nmiss = 0;
    for (int i = 0; i < ra->npeers; i++) {
        struct ra_peer *p = &ra->peer[i];
        if (p->alive && now - p->last_heard > ra->dead_ms) {
            /* Silent too long: crashed or cut off. It stops blocking us; a request it made is
             * forgotten (it will retransmit if it is alive after all). */
            p->alive = false;
            p->deferred = false;
            dead[nd++] = i;
        }
    }
    if (ra->state == RA_WANTED && now - ra->asked_at >= ra->retx_ms) {
        for (int i = 0; i < ra->npeers; i++)
            if (must_answer(&ra->peer[i]) && !ra->peer[i].replied && *nmiss < PROTO_MAXLIST)
                strcpy(miss[(*nmiss)++], ra->peer[i].name);
        if (*nmiss > 0) {
            *retx = true;
            ra->asked_at = now;
        }
    }
    return nd;
}
