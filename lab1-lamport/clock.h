/* clock.h - Lamport and vector clocks as pure functions on a struct: no sockets, no output. */
#ifndef CLOCK_H
#define CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* Errors from clock_init() and clock_recv(); clock_strerror() names them. */
enum clock_error {
    CLOCK_EINVAL = -1, /* clock_init: id or n out of range */
    CLOCK_EVLEN = -2,  /* clock_recv: vector of the wrong size for our mode */
    CLOCK_EAHEAD = -3, /* clock_recv: the message knows more of our events than we did */
};

/* Room clock_format_vc() needs at most: 64 entries of up to 20 digits, commas, brackets. */
#define CLOCK_VC_STRMAX (PROTO_MAX_NODES * 21 + 3)

struct clock_state {
    int id;      /* our index in vc */
    int n;       /* number of nodes, the length of vc */
    bool vector; /* keep the vector clock as well as the Lamport clock */
    uint64_t lc; /* Lamport clock: the timestamp of our latest event, 0 before any */
    /* vc[i] = how many of node i's events happened before (or are) our latest event */
    uint64_t vc[PROTO_MAX_NODES];
};

/* Start at zero. Returns 0, or CLOCK_EINVAL unless 1 <= n <= 64 and 0 <= id < n. */
int clock_init(struct clock_state *c, int id, int n, bool vector);

/* A local event: tick. */
void clock_local(struct clock_state *c);

/* A send event: tick, then stamp m's lc, vlen and vc (vlen = 0 in Lamport mode). */
void clock_send(struct clock_state *c, struct lc_msg *m);

/* A receive event: apply the receive rule with m's clocks. Returns 0, or a
 * negative enum clock_error and leaves c untouched if m does not fit. */
int clock_recv(struct clock_state *c, const struct lc_msg *m);

/* Write the vector clock as "[3,0,1]". Returns its length, or -1 if cap is
 * too small (CLOCK_VC_STRMAX always suffices). */
int clock_format_vc(const struct clock_state *c, char *buf, size_t cap);

/* A short token without spaces for a clock error, e.g. "vlen-mismatch". */
const char *clock_strerror(int code);

#endif
