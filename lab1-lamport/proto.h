/* proto.h - the lab1 wire format: one clock-stamped message per UDP datagram. */
#ifndef PROTO_H
#define PROTO_H

#include <stddef.h>
#include <stdint.h>

/*
 * A message is one UDP datagram. Every integer is unsigned and big-endian
 * (network byte order); the fields are packed byte by byte, never by sending
 * a C struct, whose padding and byte order depend on the compiler and CPU.
 *
 *  offset   0       1       2       3
 *         +-------+-------+-------+-------+
 *      0  |  'L'  |  'C'  |version| kind  |  magic "LC", version 1, kind 1
 *         +-------+-------+-------+-------+
 *      4  |    sender     |     vlen      |  u16 each; vlen is 0 in Lamport mode
 *         +-------+-------+-------+-------+
 *      8  |              seq              |  u32: 1, 2, 3, ... per sender
 *         +-------+-------+-------+-------+
 *     12  |        lc (high 4 bytes)      |  u64: Lamport clock of the send event
 *     16  |        lc (low 4 bytes)       |
 *         +-------+-------+-------+-------+
 *     20  |     vc[0] (8 bytes, u64)      |  vlen entries: vector clock of the send
 *         |              ...              |
 *         +-------+-------+-------+-------+
 *  20 + 8*vlen: end. The datagram must be exactly this long.
 */
#define PROTO_MAGIC0 'L'
#define PROTO_MAGIC1 'C'
#define PROTO_VERSION 1
#define PROTO_KIND_CLOCK 1 /* the only kind in version 1 */
#define PROTO_HDR_LEN 20
#define PROTO_MAX_NODES 64 /* so vlen <= 64 */
#define PROTO_MAX_FRAME (PROTO_HDR_LEN + 8 * PROTO_MAX_NODES)

/*
 * Largest clock value (Lamport or vector entry) a frame may carry: 2^48.
 * Clocks never go down, and the receive rule copies the largest clock it
 * sees, so one forged timestamp near 2^64 would spread to every node and
 * stay forever; the next +1 would then wrap to 0 and break the clock
 * condition everywhere. 2^48 leaves 2^16 times headroom below the wrap,
 * yet lasts 8.9 years at a million events per second.
 */
#define PROTO_CLOCK_MAX ((uint64_t)1 << 48)

/* A decoded message. vc[0..vlen) is meaningful, the rest is not. */
struct lc_msg {
    uint8_t kind;
    uint16_t sender; /* the sender's --id */
    uint16_t vlen;   /* entries in vc: 0 (Lamport mode) or the number of nodes */
    uint32_t seq;    /* with sender, names the message: msg=<sender>:<seq> */
    uint64_t lc;
    uint64_t vc[PROTO_MAX_NODES];
};

/* Negative results of proto_decode(); proto_strerror() names them. */
enum proto_error {
    PROTO_ETRUNC = -1,    /* shorter than its header says */
    PROTO_ETRAILING = -2, /* longer than its header says (oversize) */
    PROTO_EMAGIC = -3,    /* does not start with "LC" */
    PROTO_EVERSION = -4,  /* a version we don't speak */
    PROTO_EKIND = -5,     /* a kind we don't know */
    PROTO_EVLEN = -6,     /* vlen > PROTO_MAX_NODES */
    PROTO_ECLOCK = -7,    /* a clock value > PROTO_CLOCK_MAX */
};

/* Bytes a frame with vlen vector entries takes. */
size_t proto_frame_len(uint16_t vlen);

/* Write m into buf. Returns the bytes written, or 0 if cap is too small or
 * m->vlen > PROTO_MAX_NODES. Values are written as given, even absurd clocks
 * (the tests need such frames); the decoder is the one that refuses them. */
size_t proto_encode(const struct lc_msg *m, uint8_t *buf, size_t cap);

/* Read one datagram of len bytes. Returns len (> 0) on success, or a
 * negative enum proto_error; on error *out is unspecified. Never returns 0:
 * a datagram arrives whole, so "need more bytes" cannot happen. */
int proto_decode(const uint8_t *buf, size_t len, struct lc_msg *out);

/* A short token without spaces for a proto_decode() error, e.g. "bad-magic".
 * It is the why= value of the node's ev=bad line. */
const char *proto_strerror(int code);

#endif
