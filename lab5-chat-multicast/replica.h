/* replica.h - R local replica logs of the history, their agreement check and repair. */
#ifndef REPLICA_H
#define REPLICA_H

#include <stdint.h>

#include "store.h"

#define REPLICA_MAX 16

/* One line per message: "<lts> <author> <seq> <text>\n" (text has no control characters). */
/* Append m to replica-<k>.log in dir, for k in 0..r-1. Returns how many appends failed. */
int replica_append(const char *dir, int r, const struct chatmsg *m);

struct replica_report {
    int agree;       /* every replica holds exactly the history's messages */
    int repaired;    /* replicas rewritten */
    int bad_lines;   /* unparseable lines found (a torn last line after a crash) */
    size_t n;        /* messages in the history */
    uint64_t digest; /* digest of what the replicas hold after repair (== history's) */
};

/* Compare each replica (as a set of messages) with the history. With repair, a replica that
 * differs is rewritten from the history, in history order, via a temporary file and rename;
 * canonical=1 rewrites all of them, so replicas are byte-identical across members. */
int replica_check(const char *dir, int r, const struct store *history, int repair, int canonical,
                  struct replica_report *out);
/* Parse one replica file into st (messages it holds); returns bad lines, -1 if unreadable. */
int replica_load(const char *path, struct store *st);

#endif
