/* registry.c - the P2P node's registry of peers and its timeout rule (no I/O). */
#include "registry.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int registry_init(struct registry *r, const char *const *addrs, int n, int64_t timeout,
                  double threshold, int64_t now)
{
    memset(r, 0, sizeof *r);
    r->peer = calloc(n > 0 ? (size_t)n : 1, sizeof *r->peer);
    if (!r->peer)
        return -1;
    r->n = n;
    r->timeout = timeout;
    r->threshold = threshold;
    for (int i = 0; i < n; i++) {
        snprintf(r->peer[i].addr, sizeof r->peer[i].addr, "%s", addrs[i]);
        r->peer[i].status = REG_UNKNOWN;
        r->peer[i].last_seen = now; /* until registry_on_ask(): the timer is not running */
    }
    return 0;
}

void registry_free(struct registry *r)
{
    free(r->peer);
    r->peer = NULL;
    r->n = 0;
}

void registry_on_ask(struct registry *r, int i, int64_t now)
{
    struct reg_peer *p = &r->peer[i];
    if (!p->asked && p->status == REG_UNKNOWN)
        p->last_seen = now;
    p->asked = true;
}

int registry_on_alive(struct registry *r, int i, const char *id, bool has_load, double load,
                      int64_t now)
{
    struct reg_peer *p = &r->peer[i];
    int ch = 0;
    if (p->status != REG_ALIVE)
        ch |= REG_CH_STATUS;
    if (strcmp(p->id, id) != 0)
        ch |= REG_CH_ID; /* first answer, or the peer restarted with a new SERVER_ID */
    snprintf(p->id, sizeof p->id, "%s", id);
    p->status = REG_ALIVE;
    p->asked = true;
    if (now > p->last_seen)
        p->last_seen = now;
    p->has_load = has_load;
    p->load = has_load ? load : 0;
    bool over = r->threshold > 0 && has_load && load > r->threshold;
    if (over != p->overloaded)
        ch |= REG_CH_FLAG;
    p->overloaded = over;
    return ch;
}

/* STEP 2: the timeout rule. Strictly more than timeout: a peer answering exactly every
 * timeout ms is not suspected. */
static bool timed_out(const struct registry *r, const struct reg_peer *p, int64_t now)
{
    return p->asked && p->status != REG_TIMEOUT && now - p->last_seen > r->timeout;
}

int registry_tick(struct registry *r, int64_t now, int *changed, int cap)
{
    int k = 0;
    for (int i = 0; i < r->n; i++) {
        struct reg_peer *p = &r->peer[i];
        if (!timed_out(r, p, now))
            continue;
        p->status = REG_TIMEOUT;
        if (k < cap)
            changed[k++] = i;
    }
    return k;
}

void registry_forgive(struct registry *r, int64_t delta)
{
    for (int i = 0; i < r->n; i++)
        if (r->peer[i].status != REG_TIMEOUT)
            r->peer[i].last_seen += delta;
}

int64_t registry_next_deadline(const struct registry *r)
{
    int64_t next = INT64_MAX;
    for (int i = 0; i < r->n; i++)
        if (r->peer[i].asked && r->peer[i].status != REG_TIMEOUT &&
            r->peer[i].last_seen + r->timeout + 1 < next)
            next = r->peer[i].last_seen + r->timeout + 1;
    return next;
}

const char *registry_status_name(enum reg_status s)
{
    return s == REG_ALIVE ? "ALIVE" : s == REG_TIMEOUT ? "TIMEOUT" : "UNKNOWN";
}

/* snprintf at buf + *len, keeping *len <= cap - 1 when the text is cut. */
static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    if (*len + 1 >= cap)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len = *len + (size_t)n < cap ? *len + (size_t)n : cap - 1;
}

size_t registry_format(const struct registry *r, int64_t now, char *buf, size_t cap)
{
    size_t len = 0;
    if (cap == 0)
        return 0;
    buf[0] = '\0';
    append(buf, cap, &len, "registry: %d peers (timeout %lld ms)\n", r->n, (long long)r->timeout);
    for (int i = 0; i < r->n; i++) {
        const struct reg_peer *p = &r->peer[i];
        append(buf, cap, &len, "  %-21s %-7s id=%s last_seen=%lld ms ago", p->addr,
               registry_status_name(p->status), p->id[0] ? p->id : "-",
               (long long)(now - p->last_seen));
        if (p->has_load)
            append(buf, cap, &len, " load=%.2f%s", p->load, p->overloaded ? " OVERLOADED" : "");
        append(buf, cap, &len, "\n");
    }
    return len;
}
