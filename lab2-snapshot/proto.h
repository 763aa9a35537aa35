/* proto.h - the lab2 wire format: length-prefixed binary frames on a TCP stream. */
#ifndef PROTO_H
#define PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "hmac.h"

/*
 * TCP is a byte stream, so every message is a frame with a fixed header that
 * says how long the rest is. Integers are unsigned, big-endian, packed byte by
 * byte (never a C struct on the wire).
 *
 *  offset   0       1       2       3       4       5
 *         +-------+-------+-------+-------+-------+-------+
 *      0  |  'S'  |  'N'  |version| type  |  payload len  |   header, 6 bytes
 *         +-------+-------+-------+-------+-------+-------+
 *      6  | payload: exactly the length its type requires   |
 *
 *  type 1 HELLO   from u16                                   (2 bytes)
 *         first frame on every connection: who is sending on this stream
 *  type 5 WELCOME from u16                                   (2 bytes)
 *         the only frame ever sent back on a connection: the acceptor's answer
 *         to a HELLO. Until it arrives the connector sends nothing else, so a
 *         connection that reached the wrong process loses nothing
 *  type 2 XFER    seq u32 | gold u32                         (8 bytes)
 *         gold coins moving from the stream's sender; msg id = <from>:<seq>. One counter
 *         per sender for all its peers: on a channel, seqs strictly increase, with gaps
 *  type 3 MARKER  init u16 | n u32                           (6 bytes)
 *         Chandy-Lamport marker of snapshot <init>:<n>
 *  type 4 REPORT  init u16 | n u32 | from u16 | ok u8 | gold u32 | life u32 |
 *                 score u32 | items u8 | chan_gold u32 | chan_msgs u32   (30 bytes)
 *         a player's recorded state and the sums of its recorded channel
 *         states, sent to the initiator; ok=0: it could not finish (a peer died)
 *
 * With --key (README "Group key"), every frame of every type is signed instead: version 2, the
 * same header and payload, then a trailer of PROTO_SIGNED_EXTRA bytes:
 *
 *   6+plen  | sender u16 | to u16 | stamp u64 | tag: HMAC-SHA256(key, every byte before it) 32 |
 *
 * sender and to are the writer's and the reader's ids (a frame for one player is refused by
 * the others); stamp is the sender's wall clock in microseconds, strictly increasing per sender
 * (freshness, auth.c). The payload length in the header stays the type's length. The tag is
 * checked before any field is believed; whether the stamp is fresh is the receiver's business.
 */
#define PROTO_MAGIC0 'S'
#define PROTO_MAGIC1 'N'
#define PROTO_VERSION 1
#define PROTO_VERSION_SIGNED 2
#define PROTO_HDR_LEN 6
#define PROTO_MAX_PAYLOAD 30
#define PROTO_TAG_LEN HMAC_SHA256_LEN
#define PROTO_SIGNED_EXTRA (12 + PROTO_TAG_LEN) /* sender, to, stamp, tag */
/* The largest frame, signed or not: what every buffer of frames is sized by. */
#define PROTO_MAX_FRAME (PROTO_HDR_LEN + PROTO_MAX_PAYLOAD + PROTO_SIGNED_EXTRA)
#define PROTO_MAX_NODES 16

enum proto_type {
    PROTO_HELLO = 1,
    PROTO_XFER = 2,
    PROTO_MARKER = 3,
    PROTO_REPORT = 4,
    PROTO_WELCOME = 5
};

/* A decoded frame; only the fields of its type are meaningful. */
struct proto_msg {
    uint8_t type;
    uint16_t from; /* HELLO, REPORT */
    uint32_t seq;  /* XFER */
    uint32_t gold; /* XFER: coins moved; REPORT: the player's recorded gold */
    uint16_t init; /* MARKER, REPORT: the snapshot's initiator ... */
    uint32_t n;    /* ... and its number at that initiator */
    uint8_t ok;    /* REPORT */
    uint32_t life, score;
    uint8_t items;
    uint32_t chan_gold, chan_msgs;
    uint16_t sender; /* signed frames only: the writer's id ... */
    uint16_t to;     /* ... the reader's id ... */
    uint64_t stamp;  /* ... and the writer's clock, microseconds */
};

/* Negative results of proto_decode(); proto_strerror() names them as why= tokens. */
enum proto_error {
    PROTO_EMAGIC = -1,   /* does not start with "SN" */
    PROTO_EVERSION = -2, /* a version we do not speak */
    PROTO_ETYPE = -3,    /* unknown type */
    PROTO_ELEN = -4,     /* payload length wrong for its type */
    PROTO_EVALUE = -5,   /* a field out of range (a node id >= PROTO_MAX_NODES, ok > 1) */
    PROTO_ENOKEY = -6,   /* a signed frame, but we run without --key */
    PROTO_EMAC = -7,     /* with --key: the tag is missing (a plain frame) or wrong */
};

/* Decode the frame at the start of buf[0..len). Returns the bytes it used (>0),
 * 0 if buf holds only part of a frame (read more), or a proto_error (<0): the
 * stream is corrupt and cannot be resynchronised, so close the connection. */
int proto_decode(const uint8_t *buf, size_t len, struct proto_msg *out);

/* Encode m into buf. Returns the bytes written, or 0 if cap is too small or
 * the type is unknown. */
size_t proto_encode(const struct proto_msg *m, uint8_t *buf, size_t cap);

/* With --key: write m (sender, to and stamp included) as a signed frame, tagged with key (a
 * context from hmac_sha256_init, not changed). Returns the bytes written, or 0 as above. */
size_t proto_encode_signed(const struct proto_msg *m, const struct hmac_sha256 *key, uint8_t *buf,
                           size_t cap);

/* With --key: decode the signed frame at the start of buf[0..len). Results as proto_decode's;
 * a plain (version 1) frame is PROTO_EMAC as soon as its version byte is there, and so is a
 * wrong tag, checked (in constant time) before any field is read. */
int proto_decode_signed(const uint8_t *buf, size_t len, const struct hmac_sha256 *key,
                        struct proto_msg *out);

/* "bad_magic", "bad_version", ..., "needs-key", "bad-mac": a token for ev=bad why=. */
const char *proto_strerror(int err);

#endif
