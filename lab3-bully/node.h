/* node.h - the I/O layer: one UDP socket and one poll() loop that owns all of a node's state. */
#ifndef NODE_H
#define NODE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "bully.h"
#include "proto.h"

/* "255.255.255.255:65535" and its NUL */
#define NODE_ADDR_STRLEN 22

/* What the command line says. main() fills it; the node only reads it. */
struct node_config {
    int id;                                                /* --id: our index in addrs */
    int n;                                                 /* how many nodes --nodes lists */
    struct sockaddr_in addrs[PROTO_MAX_NODES];             /* --nodes, in id order */
    uint32_t answer_ms, coord_ms, heartbeat_ms, leader_ms; /* the four timeouts */
    bool keyed;                                            /* --key given: sign and check */
    struct hmac_sha256 key;                                /* --key, already keyed */
};

/*
 * Everything a running node knows. One thread owns all of it: after
 * node_open(), only node_run()'s poll() loop touches these fields, so
 * nothing needs a lock. The signal handler in main.c only writes a byte to
 * the self-pipe whose read end is wake_fd.
 */
struct node {
    const struct node_config *cfg;
    int sock;           /* UDP socket bound to cfg->addrs[cfg->id] */
    int wake_fd;        /* readable when SIGINT or SIGTERM arrived */
    struct bully bully; /* the algorithm: bully.c */
    uint32_t seq;       /* our last message's number (msg=<id>:<seq>) */
    uint64_t stamp;     /* --key: our last frame's stamp (auth_next_stamp) */
    struct auth_guard guard; /* --key: the latest stamp accepted from each sender */
    uint64_t n_sent, n_recv, n_bad;
};

/* Bind the socket and set the node up. Returns 0, or -1 with errno set. */
int node_open(struct node *nd, const struct node_config *cfg, int wake_fd);

/* Print ev=ready, start an election, then run until wake_fd is readable.
 * Returns 0 then, or -1 with errno set if poll() fails. */
int node_run(struct node *nd);

void node_log_stats(const struct node *nd);
int node_close(struct node *nd);
int node_addr_str(const struct sockaddr_in *a, char *buf, size_t cap);

#endif
