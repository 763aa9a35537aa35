/* monitor.h - Q4's failure monitor: workers' last beats, the timeout rule, and where the
 * "purchase orders" go (the lowest alive id). A clock passed in; no sockets, no printing. */
#ifndef MONITOR_H
#define MONITOR_H

#include <stdbool.h>
#include <stdint.h>

#define MON_MAX_WORKERS 64
#define MON_NONE (-1L) /* no alive worker: the critical state */

struct mon_worker {
    long id;
    bool alive;
    int64_t last_seen; /* ms */
    unsigned long beats;
};

struct monitor {
    struct mon_worker w[MON_MAX_WORKERS]; /* in order of first beat */
    int n;
    int64_t timeout; /* ms */
    bool critical;   /* every known worker has failed */
};

/* What a beat did, for the caller to log. */
enum mon_beat_result { MON_BEAT, MON_JOINED, MON_RECOVERED, MON_FULL };

void monitor_init(struct monitor *m, int64_t timeout);

/* Worker id beat at now. A worker seen for the first time joins; a failed one recovers. */
enum mon_beat_result monitor_on_beat(struct monitor *m, long id, int64_t now);

/* Apply the timeout rule (now - last_seen > timeout: failed). Writes the ids that just failed
 * to failed[] (at most cap) and returns how many. */
int monitor_tick(struct monitor *m, int64_t now, long *failed, int cap);

/* The target of the orders: the lowest alive id, or MON_NONE. */
long monitor_target(const struct monitor *m);

/* Set m->critical from the current state; true if it just became critical (the last alive
 * worker failed). It is left when a worker joins or recovers. */
bool monitor_update_critical(struct monitor *m);

/* The monitor itself did not run for delta ms: do not count that against the workers. */
void monitor_forgive(struct monitor *m, int64_t delta);

/* The earliest time monitor_tick() could change something; INT64_MAX if never. */
int64_t monitor_next_deadline(const struct monitor *m);

#endif
