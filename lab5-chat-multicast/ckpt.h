/* ckpt.h - checkpoints: the node's state in one file, written atomically, read defensively. */
#ifndef CKPT_H
#define CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "store.h"

#define CKPT_MAGIC "RACK"
#define CKPT_VERSION 1
#define CKPT_MAXPEERS 64

struct ckpt_peer {
    char name[PROTO_NAMELEN + 1];
    uint32_t ip;   /* network order */
    uint16_t port; /* network order */
};

struct ckpt_state {
    char user[PROTO_NAMELEN + 1];
    uint32_t boot;     /* incarnations so far */
    uint32_t next_seq; /* the next own message gets this seq */
    uint64_t lc;       /* Lamport clock */
    int npeers;
    struct ckpt_peer peer[CKPT_MAXPEERS];
    struct store history;
};

/* crc32 (IEEE 802.3, as zlib's), bitwise: small and slow enough for a chat. */
uint32_t ckpt_crc32(const void *p, size_t n);
/* Serialize into a malloc'd buffer (*len bytes); NULL on no memory. */
uint8_t *ckpt_encode(const struct ckpt_state *st, size_t *len);
/* 0 ok, -1 with *why (static text) if the bytes are not a valid checkpoint. st->history must be
 * initialized (empty); on failure it is left empty. */
int ckpt_decode(const uint8_t *buf, size_t len, struct ckpt_state *st, const char **why);
/* Write path atomically: path.tmp, fsync, (slow_ms pause: test-only), old file kept as
 * path.prev, rename, fsync of the directory. 0 or -1 (errno). Returns bytes in *bytes. */
int ckpt_save(const char *path, const struct ckpt_state *st, int slow_ms, size_t *bytes);
/* Read path; on failure *why says what was wrong (no file: "missing"). */
int ckpt_load(const char *path, struct ckpt_state *st, const char **why);

#endif
