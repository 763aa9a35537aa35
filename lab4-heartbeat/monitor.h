/* monitor.h - Q4's failure monitor: workers' last beats, the timeout rule, and where the
 * "purchase orders" go (the lowest alive id). A clock passed in; no sockets, no printing. */
#ifndef MONITOR_H
#define MONITOR_H

#include <stdbool.h>
#include <stdint.h>

#define MON_MAX_WORKERS 64
#define MON_NONE (-1L) /* no alive worker: the critical state */

/*
 * What the monitor can check in a beat without a key (see the README's trust model):
 *   - an id belongs to the address (IPv4 and UDP port) of its first beat until the monitor
 *     forgets the worker; a beat for it from anywhere else is refused (MON_WRONG_SOURCE);
 *   - one address speaks for one alive worker (MON_ADDR_IN_USE);
 *   - from its own address, a worker's beats must be fresh: a higher incarnation (INC, the
 *     worker's start time: a restart) or, in the same incarnation, a higher SEQ (MON_STALE:
 *     a duplicate, or an old beat delivered late).
 * A failed worker silent for `forget` ms is removed (its id and address are free again); when
 * the table is full, a newcomer takes the slot of the failed worker silent longest.
 */
struct mon_beat {
    long id;
    uint32_t ip;   /* the sender's address, network order */
    uint16_t port; /* the sender's UDP port, network order */
    uint64_t inc;  /* incarnation; 0 when the beat has none */
    unsigned long seq;
};

struct mon_worker {
    long id;
    bool alive;
    int64_t last_seen; /* ms */
    unsigned long beats;
    uint32_t ip; /* the address this id is bound to */
    uint16_t port;
    uint64_t inc; /* the freshest beat accepted: (inc, seq) */
    unsigned long seq;
};

struct monitor {
    struct mon_worker w[MON_MAX_WORKERS]; /* in order of first beat */
    int n;
    int64_t timeout; /* ms */
    int64_t forget;  /* ms: a failed worker silent this long is removed */
    bool critical;   /* every known worker has failed */
};

/* What a beat did, for the caller to log. */
enum mon_beat_result {
    MON_BEAT,
    MON_JOINED,
    MON_RECOVERED,
    MON_FULL,         /* a new id, and all MON_MAX_WORKERS are alive */
    MON_WRONG_SOURCE, /* the id is bound to another address */
    MON_ADDR_IN_USE,  /* the address speaks for another alive worker */
    MON_STALE,        /* (inc, seq) not above the last accepted one */
};

void monitor_init(struct monitor *m, int64_t timeout, int64_t forget);

/* A beat arrived at now. A worker seen for the first time joins (if the table was full, the
 * failed worker silent longest makes room: its id goes to *evicted, else MON_NONE); a failed
 * one recovers. Refused beats change nothing. */
enum mon_beat_result monitor_on_beat(struct monitor *m, const struct mon_beat *b, int64_t now,
                                     long *evicted);

/* Apply the timeout rule (now - last_seen > timeout: failed). Writes the ids that just failed
 * to failed[] (at most cap) and returns how many. */
int monitor_tick(struct monitor *m, int64_t now, long *failed, int cap);

/* Remove the failed workers silent for more than forget ms; their ids go to gone[] (at most
 * cap), and the count is returned. */
int monitor_forget(struct monitor *m, int64_t now, long *gone, int cap);

/* The worker with this id, or NULL. */
const struct mon_worker *monitor_find(const struct monitor *m, long id);

/* The target of the orders: the lowest alive id, or MON_NONE. */
long monitor_target(const struct monitor *m);

/* Set m->critical from the current state; true if it just became critical (the last alive
 * worker failed). It is left when a worker joins or recovers. */
bool monitor_update_critical(struct monitor *m);

/* The monitor itself did not run for delta ms: do not count that against the workers. */
void monitor_forgive(struct monitor *m, int64_t delta);

/* The earliest time monitor_tick() or monitor_forget() could change something; INT64_MAX if
 * never. */
int64_t monitor_next_deadline(const struct monitor *m);

#endif
