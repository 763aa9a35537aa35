/* store.h - the message history: a set of (author, seq) messages, kept in (Lamport timestamp,
 * author) order, with the per-author summaries that anti-entropy (`sync`) exchanges. */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct chatmsg {
    char author[PROTO_NAMELEN + 1];
    uint32_t seq;
    uint64_t lts;
    char text[PROTO_MAXTEXT + 1];
};

struct store {
    struct chatmsg *m; /* sorted by (lts, author, seq): the displayed order */
    size_t n, cap;
};

void store_init(struct store *s);
void store_free(struct store *s);
/* 1 added, 0 already there (same text), -1 conflict (same id, other content), -2 no memory. */
int store_add(struct store *s, const struct chatmsg *m);
const struct chatmsg *store_find(const struct store *s, const char *author, uint32_t seq);
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
