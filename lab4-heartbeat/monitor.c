/* monitor.c - Q4's failure monitor: the timeout rule, what a beat must pass, and the failover
 * target (no I/O). */
#include "monitor.h"

#include <string.h>

void monitor_init(struct monitor *m, int64_t timeout, int64_t forget)
{
    memset(m, 0, sizeof *m);
    m->timeout = timeout;
    m->forget = forget;
}

static struct mon_worker *find(struct monitor *m, long id)
{
    for (int i = 0; i < m->n; i++)
        if (m->w[i].id == id)
            return &m->w[i];
    return NULL;
}

const struct mon_worker *monitor_find(const struct monitor *m, long id)
{
    return find((struct monitor *)m, id);
}

static bool same_source(const struct mon_worker *w, const struct mon_beat *b)
{
    return w->ip == b->ip && w->port == b->port;
}

/* Freshness within one address: a restart brings a higher incarnation, and inside one
 * incarnation SEQ only grows. A duplicated datagram or one delivered late is not news. */
static bool fresh(const struct mon_worker *w, const struct mon_beat *b)
{
    return b->inc > w->inc || (b->inc == w->inc && b->seq > w->seq);
}

static void remove_at(struct monitor *m, int i)
{
    memmove(&m->w[i], &m->w[i + 1], (size_t)(m->n - i - 1) * sizeof m->w[0]);
    m->n--;
}

/* A slot for a new worker: a free one, else the failed worker silent longest gives its own up
 * (its id to *evicted). NULL if every worker is alive: nobody alive is ever pushed out. */
static struct mon_worker *new_slot(struct monitor *m, long *evicted)
{
    if (m->n == MON_MAX_WORKERS) {
        int old = -1;
        for (int i = 0; i < m->n; i++)
            if (!m->w[i].alive && (old < 0 || m->w[i].last_seen < m->w[old].last_seen))
                old = i;
        if (old < 0)
            return NULL;
        *evicted = m->w[old].id;
        remove_at(m, old);
    }
    struct mon_worker *w = &m->w[m->n++];
    memset(w, 0, sizeof *w);
    return w;
}

static enum mon_beat_result join(struct monitor *m, const struct mon_beat *b, long *evicted)
{
    for (int i = 0; i < m->n; i++)
        if (m->w[i].alive && same_source(&m->w[i], b))
            return MON_ADDR_IN_USE;
    struct mon_worker *w = new_slot(m, evicted);
    if (!w)
        return MON_FULL;
    w->id = b->id, w->ip = b->ip, w->port = b->port;
    return MON_JOINED;
}

enum mon_beat_result monitor_on_beat(struct monitor *m, const struct mon_beat *b, int64_t now,
                                     long *evicted)
{
    struct mon_worker *w = find(m, b->id);
    enum mon_beat_result res = MON_BEAT;
    *evicted = MON_NONE;
    if (!w) {
        if ((res = join(m, b, evicted)) != MON_JOINED)
            return res;
        w = find(m, b->id);
    } else if (!same_source(w, b))
        return MON_WRONG_SOURCE; /* a stranger's beat must not keep a dead worker alive */
    else if (!fresh(w, b))
        return MON_STALE;
    else if (!w->alive)
        res = MON_RECOVERED; /* the seed deleted failed workers and never said they came back */
    w->alive = true;
    w->inc = b->inc, w->seq = b->seq;
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

int monitor_forget(struct monitor *m, int64_t now, long *gone, int cap)
{
    int k = 0;
    for (int i = 0; i < m->n;) {
        if (m->w[i].alive || now - m->w[i].last_seen <= m->forget) {
            i++;
            continue;
        }
        if (k < cap)
            gone[k++] = m->w[i].id;
        remove_at(m, i);
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
    /* Still critical once the failed workers have been forgotten: nobody came back. */
    bool none = (m->n > 0 || m->critical) && monitor_target(m) == MON_NONE;
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
    for (int i = 0; i < m->n; i++) {
        int64_t t = m->w[i].last_seen + (m->w[i].alive ? m->timeout : m->forget) + 1;
        if (t < next)
            next = t;
    }
    return next;
}
