/* node.h - one pownode: discovery, election, challenges, mining, results, over one MQTT session. */
#ifndef NODE_H
#define NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "hmac.h"

enum cheat { CHEAT_NONE, CHEAT_INVALID, CHEAT_STALE };

struct node_cfg {
    uint32_t id;
    const char *broker;
    int port;
    const char *cafile;  /* NULL: plain TCP */
    const char *user;    /* broker user name (CONNECT), NULL: anonymous */
    char password[128];  /* read from --password-file; "" when none */
    int participants;    /* K: discovery ends when this many are known */
    int threads;         /* mining threads */
    unsigned difficulty; /* leading zero bits a solution needs */
    uint64_t seed;
    int init_timeout_ms; /* discovery (and each vote round) gives up after this */
    int pause_ms;        /* leader: wait between a result and the next challenge */
    uint64_t rounds;     /* leader: stop after this tx; every node prints ev=done at it. 0: never */
    int keepalive;       /* seconds */
    enum cheat cheat;
    bool fixed_vote; /* --vote: a chosen vote instead of a random one (tests) */
    uint64_t vote;
    bool keyed;             /* --key: sign every message, drop unsigned ones (README) */
    struct hmac_sha256 key; /* the group key, set up once */
};

/* Run until *stop (set by a signal; wake_fd is written then) becomes nonzero. Returns 0 on a
 * clean end, 1 if the node could not start (a message went to stderr). Prints ev=stats. */
int node_run(const struct node_cfg *cfg, volatile int *stop, int wake_fd);

#endif
