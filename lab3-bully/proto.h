/* proto.h - the lab3 wire format: one Bully message (ELECTION, ANSWER, COORDINATOR, HEARTBEAT) per
 * UDP datagram. */
#ifndef PROTO_H
#define PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "hmac.h"

/*
 * A message is one UDP datagram of exactly PROTO_LEN bytes. Integers are
 * unsigned and big-endian, packed byte by byte (never a C struct).
 *
 *  offset   0       1       2       3
 *         +-------+-------+-------+-------+
 *      0  |  'B'  |  'Y'  |version| type  |  magic "BY", version 1, type 1..4
 *         +-------+-------+-------+-------+
 *      4  |    sender     |    (zero)     |  u16 sender id; two reserved zero bytes
 *         +-------+-------+-------+-------+
 *      8  |             round             |  u32: the sender's election number; an
 *         +-------+-------+-------+-------+       ANSWER echoes the ELECTION's round
 *     12  |              seq              |  u32: 1, 2, 3, ... per sender: msg=<sender>:<seq>
 *         +-------+-------+-------+-------+
 *     16  end
 *
 * With --key (README "Group key"), every frame is signed instead: version 2, PROTO_SIGNED_LEN
 * bytes, the reserved bytes carry the receiver's id, and two fields follow:
 *
 *      4  |    sender     |      to       |  u16 receiver id: a frame for one node is refused
 *         +-------+-------+-------+-------+       by the others (no replaying it elsewhere)
 *         ...   round, seq as above   ...
 *     16  |             stamp             |  u64: the sender's wall clock in microseconds,
 *     20  |        (low 32 bits)          |       strictly increasing per sender (freshness)
 *         +-------+-------+-------+-------+
 *     24  |   tag: HMAC-SHA256(key, bytes 0..23), 32 bytes                     |
 *     56  end
 *
 * The tag covers every byte before it, so no field can be changed without the key. Whether the
 * stamp is fresh is the receiver's business (auth.c): the codec only checks the tag.
 */
#define PROTO_MAGIC0 'B'
#define PROTO_MAGIC1 'Y'
#define PROTO_VERSION 1
#define PROTO_LEN 16
#define PROTO_VERSION_SIGNED 2
#define PROTO_TAG_LEN HMAC_SHA256_LEN
#define PROTO_SIGNED_LEN (24 + PROTO_TAG_LEN)
#define PROTO_MAX_NODES 64

enum proto_type {
    PROTO_ELECTION = 1,    /* to every higher id: "I am holding an election" */
    PROTO_ANSWER = 2,      /* (OK) to the lower id that sent ELECTION: "I am alive, I take over" */
    PROTO_COORDINATOR = 3, /* from the winner to every lower id: "I am the leader" */
    PROTO_HEARTBEAT = 4,   /* from the leader to everyone, every --heartbeat ms */
};

struct proto_msg {
    uint8_t type;    /* enum proto_type */
    uint16_t sender; /* the sender's --id */
    uint32_t round;
    uint32_t seq;
    uint16_t to;    /* signed frames only: the receiver's id */
    uint64_t stamp; /* signed frames only: the sender's clock, microseconds */
};

/* Negative results of proto_decode(); proto_strerror() names them. */
enum proto_error {
    PROTO_ETRUNC = -1,    /* shorter than PROTO_LEN */
    PROTO_ETRAILING = -2, /* longer than PROTO_LEN */
    PROTO_EMAGIC = -3,    /* does not start with "BY" */
    PROTO_EVERSION = -4,  /* a version we don't speak */
    PROTO_ETYPE = -5,     /* a type we don't know */
    PROTO_ERESERVED = -6, /* reserved bytes not zero */
    PROTO_ENOKEY = -7,    /* a signed frame, but we run without --key */
    PROTO_EMAC = -8,      /* with --key: the tag is missing (a plain frame) or wrong */
};

/* Write m into buf. Returns PROTO_LEN, or 0 if cap is too small. Any type
 * value is written as given (the tests need bad frames); decode refuses it. */
size_t proto_encode(const struct proto_msg *m, uint8_t *buf, size_t cap);

/* Read one datagram of len bytes. Returns len (> 0), or a negative enum
 * proto_error. Never 0: a datagram arrives whole. */
int proto_decode(const uint8_t *buf, size_t len, struct proto_msg *out);

/* With --key: write m (all fields, to and stamp included) as a signed frame, tagged with key (a
 * context from hmac_sha256_init, not changed). Returns PROTO_SIGNED_LEN, or 0 if cap is too small.
 */
size_t proto_encode_signed(const struct proto_msg *m, const struct hmac_sha256 *key, uint8_t *buf,
                           size_t cap);

/* With --key: read one signed datagram. The tag is checked (in constant time) before any field
 * is believed. Returns len (> 0) or a negative enum proto_error: PROTO_EMAC for a plain frame or
 * a wrong tag. */
int proto_decode_signed(const uint8_t *buf, size_t len, const struct hmac_sha256 *key,
                        struct proto_msg *out);

/* A short token without spaces for a decode error, e.g. "bad-magic": the why= of ev=bad. */
const char *proto_strerror(int code);

/* "ELECTION", "ANSWER", "COORDINATOR", "HEARTBEAT", or "?" */
const char *proto_type_name(int type);

#endif
