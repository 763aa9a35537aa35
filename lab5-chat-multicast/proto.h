/* proto.h - the chat's datagrams: explicit big-endian packing, never a struct on the wire. */
#ifndef PROTO_H
#define PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "hmac.h"

#define PROTO_VERSION 1
#define PROTO_MAXDGRAM 2048 /* anything longer is "oversize" */
#define PROTO_NAMELEN 15    /* user names: 1..15 of [A-Za-z0-9_-] */
#define PROTO_MAXTEXT 512   /* chat text bytes, no control characters */
#define PROTO_MAXLIST 64    /* names in a REQ's "missing" list, entries in a SUM */

/* With --key (README "Group key") every datagram is signed: the plain datagram with version
 * byte 2 instead of 1, then a trailer of
 *     group u32 | gport u16 | stamp u64 | tag: HMAC-SHA256(key, every byte before it), 32 bytes
 * The group (multicast address and port) is signed instead of a receiver: a datagram of one
 * group is refused by another group sharing the key. The stamp is the sender's wall clock in
 * microseconds, increasing per sender; whether it is fresh is auth.c's business. */
#define PROTO_VERSION_SIGNED 2
#define PROTO_TAG_LEN HMAC_SHA256_LEN
#define PROTO_TRAILER (4 + 2 + 8 + PROTO_TAG_LEN)

enum proto_kind { P_HELLO = 1, P_REQ = 2, P_REP = 3, P_MSG = 4, P_SUM = 5 };

struct proto_sum {
    char name[PROTO_NAMELEN + 1];
    uint32_t prefix; /* it holds every seq 1..prefix of name */
    uint32_t max;    /* and nothing above max */
};

/* One decoded datagram. Which fields mean something depends on kind (README "The protocol"). */
struct proto_msg {
    int kind;
    uint32_t boot;                /* sender's incarnation */
    char from[PROTO_NAMELEN + 1]; /* who sends this datagram */
    uint64_t lc;                  /* sender's Lamport clock (REQ: the request's timestamp) */
    uint32_t req;                 /* REQ, REP: request number within req_boot */
    uint32_t req_boot;            /* REP: the requester's boot the REP answers */
    char to[PROTO_NAMELEN + 1];   /* REP: the requester */
    int nmiss;                    /* REQ: 0 = everyone must answer; else only these */
    char miss[PROTO_MAXLIST][PROTO_NAMELEN + 1];
    char author[PROTO_NAMELEN + 1]; /* MSG: who wrote it (differs from `from` on a resend) */
    uint32_t seq;                   /* MSG: author's sequence number, from 1 */
    uint64_t lts;                   /* MSG: the message's Lamport timestamp (its order) */
    uint16_t tlen;                  /* MSG */
    char text[PROTO_MAXTEXT + 1];   /* MSG, NUL-terminated */
    int nsum;                       /* SUM */
    struct proto_sum sum[PROTO_MAXLIST];
    uint32_t group; /* signed only: the group's IPv4 address, host order */
    uint16_t gport; /* signed only: the group's port */
    uint64_t stamp; /* signed only: the sender's clock, microseconds */
};

/* Bytes written, 0 if it does not fit in cap or a field is invalid. */
size_t proto_encode(const struct proto_msg *m, uint8_t *buf, size_t cap);
/* >0 bytes consumed (== len), <0 malformed; *why names the problem (a static token). */
int proto_decode(const uint8_t *buf, size_t len, struct proto_msg *m, const char **why);
/* With --key: m (group, gport, stamp included) as a signed datagram tagged with key (not
 * changed). Bytes written, 0 if it does not fit or a field is invalid. */
size_t proto_encode_signed(const struct proto_msg *m, const struct hmac_sha256 *key, uint8_t *buf,
                           size_t cap);
/* With --key: the tag is checked (constant time) before any field is believed. >0 or <0 like
 * proto_decode; *why is "bad-mac" for a plain datagram (no tag) or a wrong tag. */
int proto_decode_signed(const uint8_t *buf, size_t len, const struct hmac_sha256 *key,
                        struct proto_msg *m, const char **why);
/* A valid user name: 1..15 of [A-Za-z0-9_-]. */
int proto_name_ok(const char *s);
/* Text a chat message may carry: <= PROTO_MAXTEXT bytes, no control characters. */
int proto_text_ok(const char *s, size_t len);

#endif
