/* peer.h - the P2P heartbeat node (004): one poll() loop owning the listening socket, one
 * outgoing connection per peer, the incoming connections, stdin and the registry. */
#ifndef PEER_H
#define PEER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "proto.h"
#include "registry.h"

#define PEER_MAX_PEERS 128
#define PEER_MAX_IN 256 /* incoming connections at once; more are refused with ev=bad */

/* What the command line says. main() fills it; the node only reads it. */
struct peer_config {
    int id;                    /* --id: node= in event lines */
    struct sockaddr_in listen; /* --port (and --host) */
    int npeers;
    struct sockaddr_in paddr[PEER_MAX_PEERS]; /* --peer, our own address removed */
    char pname[PEER_MAX_PEERS][REG_ADDR_MAX]; /* the same as text, the registry's keys */
    int interval_ms;                          /* --interval */
    int timeout_ms;                           /* --timeout */
    int line_timeout_ms;                      /* --line-timeout: a request must end by then */
    double load_threshold;                    /* --load-threshold; 0 = off */
    double load;                              /* --load; < 0: the machine's load average */
    bool quiet;                               /* --quiet: registry printed on demand only */
    int stall_ms; /* --stall: once, 1 s in, sleep this long mid-turn (as a SIGSTOP there would) */
};

/* Run the node until SIGINT/SIGTERM (a byte 't' on wake_fd); 'u' on wake_fd (SIGUSR1) prints
 * the registry. Returns 0, or -1 with a message on stderr if start-up failed. */
int peer_main(const struct peer_config *cfg, int wake_fd);

#endif
