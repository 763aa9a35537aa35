/* node.h - the I/O layer: one UDP socket and one poll() loop that owns all of a node's state. */
#ifndef NODE_H
#define NODE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "proto.h"

/* "255.255.255.255:65535" and its NUL */
#define NODE_ADDR_STRLEN 22

/* What the command line says. main() fills it; the node only reads it. */
struct node_config {
    int id;                                    /* --id: our index in addrs */
    int n;                                     /* how many nodes --nodes lists */
    struct sockaddr_in addrs[PROTO_MAX_NODES]; /* --nodes, in id order */
    bool vector;                               /* --vector */
    uint32_t interval_ms;                      /* --interval: mean gap between own events */
    double send_prob;                          /* --send-prob */
    uint64_t count;                            /* --count: own events before ev=done; 0 = no limit */
    uint64_t seed;                             /* --seed */
};

/*
 * Everything a running node knows. One thread owns all of it: after
 * node_open(), only node_run()'s poll() loop reads or writes these fields,
 * so nothing needs a lock. Signals do not touch it either: the handler in
 * main.c only writes a byte to the self-pipe whose read end is wake_fd.
 */
struct node {
    const struct node_config *cfg;
    int sock;                 /* UDP socket bound to cfg->addrs[cfg->id] */
    int wake_fd;              /* becomes readable when SIGINT or SIGTERM arrives */
    struct clock_state clock; /* the algorithm: clock.c */
    uint64_t rng;             /* PRNG state (splitmix64), starts at cfg->seed */
    uint32_t seq;             /* our last message's number, 0 before any (wraps after 2^32) */
    int64_t next_event_us;    /* CLOCK_MONOTONIC time of our next own event; INT64_MAX = none */
    uint64_t events;          /* own events so far: local + send */
    uint64_t n_local, n_sent, n_recv, n_bad; /* the counters of ev=stats */
};

/* Bind the socket and set the node up. Returns 0, or -1 with errno set. */
int node_open(struct node *nd, const struct node_config *cfg, int wake_fd);

/* Print ev=ready, then run events and receive messages until wake_fd
 * becomes readable. Returns 0 then, or -1 with errno set if poll() fails. */
int node_run(struct node *nd);

/* Print the ev=stats line. */
void node_log_stats(const struct node *nd);

/* Close the socket. Returns 0, or -1 with errno set. */
int node_close(struct node *nd);

/* Write a as "127.0.0.1:7001". Returns 0, or -1 if cap is too small. */
int node_addr_str(const struct sockaddr_in *a, char *buf, size_t cap);

#endif
