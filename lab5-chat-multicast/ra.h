/* ra.h - Ricart-Agrawala mutual exclusion over a changing set of peers, with retransmission and
 * dead-peer handling. Pure logic: no sockets, no clock of its own (times are passed in ms), so
 * tests drive it with a fake clock. */
#ifndef RA_H
#define RA_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

#define RA_MAXPEERS 64

enum ra_state { RA_RELEASED, RA_WANTED, RA_HELD };

struct ra_peer {
    char name[PROTO_NAMELEN + 1];
    uint32_t ip;   /* network order; where its datagrams come from (REPs go there) */
    uint16_t port; /* network order */
    uint32_t boot; /* its incarnation, as last heard */
    int64_t last_heard;
    bool alive;    /* heard within dead_ms; only alive peers must answer our request */
    bool proven;   /* it took part in mutual exclusion: we had a REQ or a REP from it */
    bool ghost;    /* unproven, and it let a request of ours wait ghost_ms: not waited for
                    * until it sends a REQ or a REP (README "Trust model") */
    bool replied;  /* answered our current request */
    bool deferred; /* we owe it a REP for (def_boot, def_req) once we release */
    uint32_t def_boot, def_req;
    uint32_t seen_boot, seen_req; /* the newest request of it we have seen (duplicates) */
    uint64_t seen_ts;
};

struct ra {
    char me[PROTO_NAMELEN + 1];
    uint32_t boot;
    uint64_t lc; /* Lamport clock */
    enum ra_state state;
    uint64_t my_ts;   /* timestamp of our current request */
    uint32_t my_req;  /* its number within this boot; counts from 1 */
    int64_t asked_at; /* when the request (or its last retransmission) went out */
    int64_t retx_ms;  /* retransmit the REQ to silent peers after this long */
    int64_t dead_ms;  /* a peer silent this long no longer has to answer */
    int64_t ghost_ms; /* an unproven peer is waited for this long per request; 0: forever */
    int64_t requested_at; /* when the current request started */
    int npeers;
    struct ra_peer peer[RA_MAXPEERS];
};

/* What the caller must do after an event. */
enum ra_action { RA_NONE, RA_REPLY, RA_DEFER, RA_DUP };

void ra_init(struct ra *ra, const char *me, uint32_t boot, int64_t retx_ms, int64_t dead_ms);
/* A timestamp received: lc = max(lc, ts) + 1. */
void ra_observe(struct ra *ra, uint64_t ts);
/* Peer index for name (added if new, -1 if the table is full). */
int ra_peer(struct ra *ra, const char *name);
/* Any datagram from peer i at now: it is alive. Returns true if it was dead or unknown before. */
bool ra_heard(struct ra *ra, int i, int64_t now);
/* A datagram from peer i's incarnation boot. Returns -1 if it is from an older incarnation (a
 * stale datagram: drop it), 1 if the peer restarted: whatever its previous life granted or asked
 * is forgotten (a restarted member does not remember granting our request), 0 otherwise. */
int ra_incarnation(struct ra *ra, int i, uint32_t boot);
/* Start a request: stamps it (lc+1) and returns true if it is granted at once (no live peer). */
bool ra_request(struct ra *ra, int64_t now);
/* A REQ from peer i. RA_REPLY: send a REP now; RA_DEFER: owe one; RA_DUP: nothing new. */
enum ra_action ra_on_request(struct ra *ra, int i, uint64_t ts, uint32_t boot, uint32_t req);
/* A REP from peer i for (boot, req). Returns true when this REP completes the grant. */
bool ra_on_reply(struct ra *ra, int i, uint32_t boot, uint32_t req);
/* Unproven peers that have let the current request wait ghost_ms: marked ghosts (no longer
 * waited for) and listed in out[]; returns their count. Call from the timer. */
int ra_ghosts(struct ra *ra, int64_t now, int *out);
/* When ra_ghosts next has something to do (INT64_MAX: nothing pending). */
int64_t ra_ghost_deadline(const struct ra *ra);
/* Are all live peers' replies in? (Also true when a silent peer was just declared dead.) */
bool ra_all_replied(const struct ra *ra);
void ra_enter(struct ra *ra);
/* Leave the critical section: fills owed[] with the peers we deferred; returns how many. */
int ra_release(struct ra *ra, int *owed);
/* Timers. dead[]: peers declared dead now (returns their count). *retx: the REQ should be sent
 * again, to the peers listed in miss[] (names copied, *nmiss set). */
int ra_tick(struct ra *ra, int64_t now, int *dead, bool *retx, char miss[][PROTO_NAMELEN + 1],
            int *nmiss);
/* True if (ts_a, a) has priority over (ts_b, b): smaller timestamp, then smaller name. */
bool ra_before(uint64_t ts_a, const char *a, uint64_t ts_b, const char *b);

#endif
