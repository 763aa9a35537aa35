/* registry.h - the P2P node's registry of peers: ALIVE/TIMEOUT by last answer, with a clock
 * passed in (so tests drive it with a fake one). No sockets, no printing. */
#ifndef REGISTRY_H
#define REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define REG_ADDR_MAX 24 /* "255.255.255.255:65535" */

/*
 * A peer's status, as 004 defines it, plus UNKNOWN for "never answered yet". Transitions:
 *   UNKNOWN -> ALIVE    first answer
 *   UNKNOWN -> TIMEOUT  no answer within timeout of our first request to it (a peer dead from
 *                       the start is reported too; the clock starts when we ask, not when we
 *                       start, so a node that starts slowly does not blame its peers)
 *   ALIVE   -> TIMEOUT  no answer for more than timeout ms since the last one (last_seen)
 *   TIMEOUT -> ALIVE    an answer again (the peer came back, maybe as a new SERVER_ID)
 * The rule: a peer is TIMEOUT at time now iff now - last_seen > timeout.
 */
enum reg_status { REG_UNKNOWN, REG_ALIVE, REG_TIMEOUT };

struct reg_peer {
    char addr[REG_ADDR_MAX]; /* host:port, as configured: the registry's key */
    char id[PROTO_ID_MAX];   /* SERVER_ID of the last answer, "" before any */
    enum reg_status status;
    int64_t last_seen; /* ms, when the last answer arrived (the first request before) */
    bool asked;        /* we sent (or tried to send) it a request: its timer runs */
    bool has_load;
    double load;     /* LOAD of the last answer */
    bool overloaded; /* load > threshold (sprint 2) */
};

struct registry {
    struct reg_peer *peer;
    int n;
    int64_t timeout;  /* ms */
    double threshold; /* sprint 2: flag peers whose load is above it; <= 0: off */
};

/* What an answer or a tick changed, for the caller to log (bit set). */
enum { REG_CH_STATUS = 1, REG_CH_ID = 2, REG_CH_FLAG = 4 };

/* n peers with the given addresses, all UNKNOWN since now. Returns 0 or -1 (no memory). */
int registry_init(struct registry *r, const char *const *addrs, int n, int64_t timeout,
                  double threshold, int64_t now);
void registry_free(struct registry *r);

/* We are asking peer i now (a request, or a connection attempt). Starts the timer of a peer
 * never asked before; changes nothing else. */
void registry_on_ask(struct registry *r, int i, int64_t now);

/* Peer i answered ALIVE at now. Returns the REG_CH_* bits of what changed. */
int registry_on_alive(struct registry *r, int i, const char *id, bool has_load, double load,
                      int64_t now);

/* Apply the timeout rule at now: peers silent for more than timeout become TIMEOUT. Writes
 * the indexes that changed to changed[] (at most cap) and returns how many changed. */
int registry_tick(struct registry *r, int64_t now, int *changed, int cap);

/* We ourselves were not running for delta ms (SIGSTOP, an overloaded machine): that time
 * says nothing about the peers, so it is not counted against them. Without this, a paused
 * node wakes up and suspects every peer at once. */
void registry_forgive(struct registry *r, int64_t delta);

/* The earliest time at which registry_tick() could change something; INT64_MAX if never. */
int64_t registry_next_deadline(const struct registry *r);

const char *registry_status_name(enum reg_status s);

/* The human registry (stderr), one line per peer, like 004's printout. Returns the length
 * written (truncated to cap - 1 like snprintf). */
size_t registry_format(const struct registry *r, int64_t now, char *buf, size_t cap);

#endif
