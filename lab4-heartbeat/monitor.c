/* monitor.c - Q4's failure monitor: the timeout rule and the failover target (no I/O). */
#include "monitor.h"

#include <string.h>

void monitor_init(struct monitor *m, int64_t timeout)
{
    memset(m, 0, sizeof *m);
    m->timeout = timeout;
}

static struct mon_worker *find(struct monitor *m, long id)
{
    for (int i = 0; i < m->n; i++)
        if (m->w[i].id == id)
            return &m->w[i];
    return NULL;
}

enum mon_beat_result monitor_on_beat(struct monitor *m, long id, int64_t now)
{
    struct mon_worker *w = find(m, id);
    enum mon_beat_result res = MON_BEAT;
    if (!w) {
        if (m->n == MON_MAX_WORKERS)
            return MON_FULL;
        w = &m->w[m->n++];
        w->id = id;
        res = MON_JOINED;
    } else if (!w->alive)
        res = MON_RECOVERED; /* the seed deleted failed workers and never said they came back */
    w->alive = true;
    if (now > w->last_seen)
        w->last_seen = now;
    w->beats++;
    return res;
}

int monitor_tick(struct monitor *m, int64_t now, long *failed, int cap)
{
    int k = 0;
    for (int i = 0; i < m->n; i++) {
        struct mon_worker *w = &m->w[i];
        /* STEP 2: the timeout rule, the same as the P2P registry's. */
        if (!w->alive || now - w->last_seen <= m->timeout)
            continue;
        w->alive = false;
        if (k < cap)
            failed[k++] = w->id;
    }
    return k;
}

long monitor_target(const struct monitor *m)
{
    long best = MON_NONE;
    for (int i = 0; i < m->n; i++)
        if (m->w[i].alive && (best == MON_NONE || m->w[i].id < best))
            best = m->w[i].id;
    return best;
}

bool monitor_update_critical(struct monitor *m)
{
    bool none = m->n > 0 && monitor_target(m) == MON_NONE;
    bool became = none && !m->critical;
    m->critical = none;
    return became;
}

void monitor_forgive(struct monitor *m, int64_t delta)
{
    for (int i = 0; i < m->n; i++)
        if (m->w[i].alive)
            m->w[i].last_seen += delta;
}

int64_t monitor_next_deadline(const struct monitor *m)
{
    int64_t next = INT64_MAX;
    for (int i = 0; i < m->n; i++)
        if (m->w[i].alive && m->w[i].last_seen + m->timeout + 1 < next)
            next = m->w[i].last_seen + m->timeout + 1;
    return next;
}
