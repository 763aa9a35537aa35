/* snap.h - the Chandy-Lamport snapshot algorithm as a state machine: no sockets, no clocks. */
#ifndef SNAP_H
#define SNAP_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

/* Snapshots a player takes part in at the same time (several initiators, or a
 * slow one started before the last one ended). */
#define SNAP_MAX_ACTIVE 64

/* What a player records: the seed's game state (life, score, items) plus the
 * gold coins that move in messages, whose total over players and channels is
 * constant. */
struct snap_state {
    uint32_t gold, life, score;
    uint8_t items; /* one bit per item, see node.c's item names */
};

/* One player's part of a snapshot, as sent to the initiator. */
struct snap_report {
    int init;
    uint32_t n;
    int from;
    bool ok; /* false: this player could not finish (a peer died before its marker came) */
    struct snap_state st;
    uint32_t chan_gold, chan_msgs; /* sums over every channel state this player recorded */
};

/* One snapshot <init>:<n> as one player sees it. */
struct snap {
    bool used;
    int init;
    uint32_t n;
    /* The local part: every player records its state and its incoming channels. */
    bool local_done;
    struct snap_state rec;
    uint32_t marker_from; /* bit j: the marker from player j has arrived (channel j closed) */
    uint32_t chan_gold, chan_msgs;
    /* The initiator's part (init == our id): collect every player's report. */
    bool agg_done;
    bool failed;
    int lost;          /* failed: the player that died (or that reported failure) */
    uint32_t reported; /* bit j: player j's report is in rep[j] */
    struct snap_report rep[PROTO_MAX_NODES];
};

/* What the algorithm asks of the I/O layer. Every call happens inside an snap_* call. */
struct snap_ops {
    void *ctx;
    void (*record)(void *ctx, const struct snap *s);           /* we recorded s->rec */
    void (*markers)(void *ctx, const struct snap *s);          /* send a marker on every channel */
    void (*marker)(void *ctx, const struct snap *s, int from); /* a marker closed channel from */
    void (*chan)(void *ctx, const struct snap *s, int from, uint32_t seq, uint32_t gold);
    void (*report)(void *ctx, const struct snap_report *r); /* send r to r->init (not us) */
    void (*finish)(void *ctx, const struct snap *s);        /* we initiated s: it is over */
};

struct snap_node {
    int id, n;
    uint32_t dead;                       /* bit j: player j is known to have died */
    uint32_t next_n;                     /* the number of our last snapshot */
    uint32_t done_upto[PROTO_MAX_NODES]; /* per initiator: snapshots <= this are over here */
    struct snap slot[SNAP_MAX_ACTIVE];
    const struct snap_ops *ops;
    uint64_t started, complete, incomplete; /* as initiator */
};

/* snap_on_marker() and snap_on_report() results */
enum { SNAP_OK = 0, SNAP_STALE = 1, SNAP_BAD = -1, SNAP_FULL = -2 };

void snap_init(struct snap_node *sn, int id, int n, const struct snap_ops *ops);

/* Start snapshot <id>:<next>: record st, send markers. Returns its number, or 0
 * when SNAP_MAX_ACTIVE snapshots are already running here. */
uint32_t snap_start(struct snap_node *sn, const struct snap_state *st);

/* A marker of <init>:<n> arrived on the channel from player from; st is our
 * state right now (recorded if this is the first marker of that snapshot). */
int snap_on_marker(struct snap_node *sn, int from, int init, uint32_t n,
                   const struct snap_state *st);

/* An application message arrived from player from. Call it before the message
 * changes our state; it records the message in every channel state that is open. */
void snap_on_xfer(struct snap_node *sn, int from, uint32_t seq, uint32_t gold);

/* A report arrived for one of our snapshots. */
int snap_on_report(struct snap_node *sn, const struct snap_report *r);

/* Player peer died (its TCP stream ended): snapshots that still need it cannot complete. */
void snap_peer_down(struct snap_node *sn, int peer);

/* Snapshots still running here (local part or collection). */
int snap_active(const struct snap_node *sn);

#endif
