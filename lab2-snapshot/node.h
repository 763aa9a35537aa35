/* node.h - the I/O layer: TCP connections to every peer and one poll() loop that owns all state. */
#ifndef NODE_H
#define NODE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acct.h"
#include "auth.h"
#include "conntab.h"
#include "proto.h"
#include "snap.h"

#define NODE_ADDR_STRLEN 22 /* "255.255.255.255:65535" and its NUL */
#define NODE_MAX_CONNS 64   /* inbound connections: every peer plus strangers (conntab.h) */
#define NODE_OUTBUF 65536   /* bytes queued for one peer before we stop sending gold to it */
#define NODE_DELAYQ 2048    /* frames held back by --delay-ms, per peer */

/* What the command line says. main() fills it; the node only reads it. */
struct node_config {
    int id, n;
    struct sockaddr_in addrs[PROTO_MAX_NODES];
    uint32_t interval_ms;   /* mean gap between gold transfers; 0 = only the `give` command */
    uint32_t gold;          /* coins every player starts with */
    uint32_t initiators;    /* bit j: player j starts snapshots every snap_every_ms */
    uint32_t snap_every_ms; /* 0 = only on `snap` or SIGUSR1 */
    uint32_t snapshots;     /* --snapshots: how many timed ones, then ev=done; 0 = no limit */
    uint32_t delay_ms;      /* hold every outgoing frame 0..delay_ms ms (order kept) */
    uint32_t hello_ms;      /* an inbound connection without a HELLO by then is closed */
    uint64_t seed;
    bool keyed;             /* --key given: sign every frame, accept only signed ones */
    struct hmac_sha256 key; /* --key, already keyed */
};

/* A frame waiting for its release time (--delay-ms). */
struct held {
    int64_t at_us;
    uint8_t len;
    uint8_t bytes[PROTO_MAX_FRAME];
};

/* Our sending side of the channel to one peer: one TCP connection we open. */
struct peer_out {
    /* IDLE -> CONNECTING -> HELLO (HELLO sent, waiting for WELCOME) -> UP -> DEAD. Only
     * frames queued in buf ever leave in UP; before UP a failure just means: try again. */
    enum { OUT_IDLE, OUT_CONNECTING, OUT_HELLO, OUT_UP, OUT_DEAD } st;
    int fd;
    int64_t retry_us;    /* OUT_IDLE: when to try to connect again */
    uint32_t backoff_ms; /* doubles after each failure, up to 1 s */
    bool ever_up;
    uint8_t welcome[PROTO_MAX_FRAME]; /* OUT_HELLO: the answer read so far */
    size_t wlen;
    bool doomed;              /* a marker or report did not fit: treat the peer as dead */
    uint8_t buf[NODE_OUTBUF]; /* encoded frames not yet written */
    size_t len;
    struct held q[NODE_DELAYQ]; /* ring of frames not yet due */
    int qhead, qlen;
    int64_t last_at_us; /* release time of the last frame queued: FIFO even with jitter */
};

/*
 * Everything a running player knows. One thread owns all of it: after
 * node_open(), only node_run()'s poll() loop touches these fields, so nothing
 * needs a lock. Signal handlers only write a byte to the self-pipe (wake_fd).
 */
struct node {
    const struct node_config *cfg;
    int lfd;     /* listening TCP socket */
    int wake_fd; /* readable: 'x' = stop (SIGINT/SIGTERM), 'u' = snapshot (SIGUSR1) */
    int in_fd;   /* stdin for commands, -1 after EOF */
    char line[256];
    size_t line_len;
    struct snap_state st;
    struct snap_node snap;
    struct snap_ops ops;
    struct acct acct;     /* which incoming coins we may accept */
    struct peer_out *out; /* [cfg->n], heap: large */
    struct conn conns[NODE_MAX_CONNS];
    uint64_t rng;
    uint32_t seq;
    /* --key: our last frame's stamp (auth_next_stamp), and per sender the latest stamp accepted,
     * kept apart for the three kinds of stream a sender's frames reach us on, because frames on
     * different connections may be read in another order than they were stamped: its HELLOs
     * (one per connection attempt), its channel's frames (one connection, FIFO, stamped when
     * queued) and its WELCOMEs (one per connection we open to it). */
    uint64_t stamp;
    struct auth_guard g_hello, g_chan, g_welcome;
    int64_t next_xfer_us, next_snap_us;
    uint32_t timed_left; /* timed snapshots still to start */
    bool done_logged;
    uint64_t n_sent, n_recv, n_bad, n_markers, gold_sent, gold_recv;
};

/* Bind and listen. Returns 0, or -1 with errno set. */
int node_open(struct node *nd, const struct node_config *cfg, int wake_fd, int in_fd);

/* Print ev=ready, then run until wake_fd says stop. Returns 0, or -1 if poll() fails. */
int node_run(struct node *nd);

void node_log_stats(const struct node *nd);
void node_close(struct node *nd);
int node_addr_str(const struct sockaddr_in *a, char *buf, size_t cap);

#endif
