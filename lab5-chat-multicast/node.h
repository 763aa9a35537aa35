/* node.h - one chat member: sockets, the poll loop, and the glue between RA, history, replicas
 * and checkpoints. All state lives in struct node and is touched only by the loop's thread. */
#ifndef NODE_H
#define NODE_H

#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "hmac.h"
#include "ra.h"
#include "store.h"

struct node_cfg {
    char user[PROTO_NAMELEN + 1];
    int id;               /* node= in event lines */
    struct in_addr group; /* multicast group */
    int port;             /* group port */
    struct in_addr iface; /* where we join and send: 127.0.0.1 unless --iface */
    int uport;            /* our unicast port (REPs and resends come here); 0 = any */
    char dir[512];        /* replicas and checkpoint */
    int replicas;         /* R */
    int delay_ms;         /* artificial random delay before delivery, 0..delay_ms */
    int cs_ms;            /* how long we hold the section (the send) */
    int checkpoint_ms, check_ms, antientropy_ms, heartbeat_ms, dead_ms, retx_ms, join_ms;
    int ghost_ms;                /* wait this long for a peer that never took part in RA */
    int history_max, author_max; /* caps on others' messages kept (store_limit) */
    int sync_rounds, sync_round_ms;
    int expect;       /* group size to wait for before the first send (0: don't) */
    int ckpt_slow_ms; /* test-only: pause between fsync and rename */
    uint64_t seed;
    bool verbose;
    bool keyed;             /* --key: sign every datagram, refuse any without a good tag */
    struct hmac_sha256 key; /* its HMAC context, set up once (auth_load_key) */
};

/* Run until SIGINT/SIGTERM (*stop set) or `quit`. Returns the exit status. The caller's signal
 * handler sets *stop and writes a byte to wake_fd's other end. */
int node_run(const struct node_cfg *cfg, volatile sig_atomic_t *stop, int wake_fd);

#endif
