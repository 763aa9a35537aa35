/* store.h - the message history: a set of (author, seq) messages, kept in (Lamport timestamp,
 * author) order, with the per-author summaries that anti-entropy (`sync`) exchanges.
 *
 * Bounded (README "Trust model"): an index makes every lookup O(1) and every insertion
 * O(log n) plus a pointer move, and optional caps bound what others can make us keep. */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* A seq may run at most this far ahead of the highest one known for its author: anything
 * further is a forgery (it would burn the sequence space; 4294967295 used to wrap it to 0). */
#define STORE_SEQ_WINDOW 1000u
/* Authors a history holds: every one of them fits in one summary (PROTO_MAXLIST entries). */
#define STORE_MAX_AUTHORS PROTO_MAXLIST
/* Defaults of the node's caps (--history-max, --author-max). */
#define STORE_DEF_TOTAL 8192
#define STORE_DEF_AUTHOR 2048

struct chatmsg {
    char author[PROTO_NAMELEN + 1];
    uint32_t seq;
    uint64_t lts;
    char text[PROTO_MAXTEXT + 1];
};

struct store_author {
    char name[PROTO_NAMELEN + 1];
    uint32_t max;    /* highest seq held */
    uint32_t prefix; /* every seq 1..prefix is held */
    size_t count;    /* messages held */
};

struct store {
    struct chatmsg **m; /* sorted by (lts, author, seq): the displayed order */
    size_t n, cap;
    struct chatmsg **slot; /* open-addressing index (author, seq) -> message; NULL = empty */
    size_t nslot;          /* a power of two, at least 2n */
    struct store_author author[STORE_MAX_AUTHORS];
    int nauthors;
    /* caps on what others make us keep; 0 = none. The owner's own messages are exempt: a
     * member always keeps (and can always send) what it wrote. */
    size_t max_total, max_author;
    char owner[PROTO_NAMELEN + 1];
};

void store_init(struct store *s);
void store_free(struct store *s);
/* Set the caps (0 = none) and whose messages are exempt from them. */
void store_limit(struct store *s, size_t max_total, size_t max_author, const char *owner);
/* 1 added, 0 already there (same text), -1 conflict (same id, other content), -2 no memory,
 * -3 full (a cap, or STORE_MAX_AUTHORS authors). */
int store_add(struct store *s, const struct chatmsg *m);
const struct chatmsg *store_find(const struct store *s, const char *author, uint32_t seq);
/* Is seq plausible for author: 1..(highest known + STORE_SEQ_WINDOW), never near wrapping? */
int store_seq_ok(const struct store *s, const char *author, uint32_t seq);
/* FNV-1a 64 over the ordered messages: equal digests = equal histories in equal order. */
uint64_t store_digest(const struct store *s);
/* Highest seq of author, 0 if none. */
uint32_t store_max_seq(const struct store *s, const char *author);
/* Fill out[] with one entry per author (at most cap); returns the count. */
int store_summary(const struct store *s, struct proto_sum *out, int cap);
/* Does a peer whose summary is sum[0..n) lack message m? (Possibly: anything above its prefix.) */
int store_peer_lacks(const struct proto_sum *sum, int n, const struct chatmsg *m);
/* Does summary sum[0..n) show a message we lack? */
int store_we_lack(const struct store *s, const struct proto_sum *sum, int n);

#endif
