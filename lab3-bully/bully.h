/* bully.h - the Bully election algorithm as a pure state machine: no sockets, no clock of its own.
 */
#ifndef BULLY_H
#define BULLY_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

#define BULLY_NEVER INT64_MAX /* a timer that is off */
#define BULLY_MAX_SENDS (2 * PROTO_MAX_NODES)

/*
 * Garcia-Molina's Bully algorithm (IEEE Trans. Computers, 1982), with a
 * heartbeat from the leader as the failure detector. Ids are 0..n-1; a
 * higher id has priority. Every function takes `now` (ms, any monotonic
 * origin) and fills a struct bully_out with what to send and what to log;
 * the caller (node.c) does the I/O. The unit tests drive it directly.
 *
 * Roles:
 *   FOLLOWER  knows a leader (or none yet) and watches its heartbeats
 *   ELECTING  sent ELECTION to every higher id, waits --answer-timeout
 *   WAITING   got an ANSWER, waits --coord-timeout for the COORDINATOR
 *   LEADER    won: sent COORDINATOR to every lower id, sends HEARTBEATs
 *
 * Invariant: leader is -1 (unknown), our own id (role LEADER), or higher
 * than our id: we only ever follow a node that outranks us.
 */
enum bully_role { BULLY_FOLLOWER, BULLY_ELECTING, BULLY_WAITING, BULLY_LEADER };

struct bully_config {
    int id, n;
    int64_t answer_ms;    /* ELECTING -> we win if no ANSWER by then */
    int64_t coord_ms;     /* WAITING -> new election if no COORDINATOR by then */
    int64_t heartbeat_ms; /* LEADER: gap between heartbeats */
    int64_t leader_ms;    /* FOLLOWER: silence from the leader before we suspect it */
};

struct bully {
    struct bully_config cfg;
    enum bully_role role;
    int leader;     /* -1 unknown */
    uint32_t round; /* our latest election's number, 0 before the first */
    int64_t t_answer, t_coord, t_heartbeat, t_leader; /* deadlines; BULLY_NEVER = off */
    uint64_t elections, wins;
};

struct bully_send {
    uint8_t type; /* enum proto_type */
    int to;
    uint32_t round;
};

/* Why an election started (ev=election why=...). */
enum bully_cause {
    BULLY_NO_ELECTION,
    BULLY_STARTUP,        /* we (re)started: Bully says a recovering node holds one */
    BULLY_LEADER_SILENT,  /* the leader's heartbeats stopped */
    BULLY_FROM_LOWER,     /* a lower id sent us ELECTION */
    BULLY_NO_COORDINATOR, /* someone answered, then nobody announced */
};

/* How our view of the leader changed (ev=leader via=...). */
enum bully_via { BULLY_NO_CHANGE, BULLY_WON, BULLY_COORDINATOR, BULLY_HEARTBEAT, BULLY_SUSPECT };

struct bully_out {
    const char *bad;           /* non-NULL: the message broke the protocol and was ignored */
    enum bully_via via_before; /* a change before the election below (suspecting the leader) */
    enum bully_cause cause;    /* an election started */
    enum bully_via via;        /* the view changed (after the election started, e.g. we won) */
    int nsend;
    struct bully_send send[BULLY_MAX_SENDS];
};

void bully_init(struct bully *b, const struct bully_config *cfg);

/* The node just started: hold an election. */
void bully_start(struct bully *b, int64_t now, struct bully_out *out);

/* A decoded message from `from` (a valid id other than ours: node.c checks). */
void bully_on_message(struct bully *b, int64_t now, const struct proto_msg *m,
                      struct bully_out *out);

/* Fire whatever deadlines have passed. Call when now >= bully_next_deadline(). */
void bully_on_timer(struct bully *b, int64_t now, struct bully_out *out);

int64_t bully_next_deadline(const struct bully *b);

const char *bully_cause_name(enum bully_cause c);
const char *bully_via_name(enum bully_via v);
const char *bully_role_name(enum bully_role r);

#endif
