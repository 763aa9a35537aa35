/* check.c - small helpers shared by the labs' checkers: message maps, counts, fault lookups. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grader.h"

/* An open-addressing hash table from message id to its send event. Grows at half full. */
struct msgmap {
    size_t cap, n;
    const char **id;
    const struct event **ev;
};

static size_t hash(const char *s)
{
    size_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

struct msgmap *msgmap_new(void)
{
    struct msgmap *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cap = 1024;
    m->id = calloc(m->cap, sizeof *m->id);
    m->ev = calloc(m->cap, sizeof *m->ev);
    if (!m->id || !m->ev) {
        msgmap_free(m);
        return NULL;
    }
    return m;
}

void msgmap_free(struct msgmap *m)
{
    if (!m)
        return;
    free(m->id);
    free(m->ev);
    free(m);
}

static size_t slot(const struct msgmap *m, const char *id)
{
    size_t i = hash(id) & (m->cap - 1);
    while (m->id[i] && strcmp(m->id[i], id) != 0)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static bool grow(struct msgmap *m)
{
    struct msgmap big = {.cap = m->cap * 2};
    big.id = calloc(big.cap, sizeof *big.id);
    big.ev = calloc(big.cap, sizeof *big.ev);
    if (!big.id || !big.ev) {
        free(big.id);
        free(big.ev);
        return false;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->id[i])
            continue;
        size_t j = slot(&big, m->id[i]);
        big.id[j] = m->id[i];
        big.ev[j] = m->ev[i];
    }
    free(m->id);
    free(m->ev);
    m->id = big.id;
    m->ev = big.ev;
    m->cap = big.cap;
    return true;
}

bool msgmap_put(struct msgmap *m, const char *id, const struct event *e)
{
    if (2 * (m->n + 1) > m->cap && !grow(m))
        return false;
    size_t i = slot(m, id);
    if (m->id[i])
        return false;
    m->id[i] = id; /* points into the event's buffer, which outlives the map */
    m->ev[i] = e;
    m->n++;
    return true;
}

const struct event *msgmap_get(const struct msgmap *m, const char *id)
{
    size_t i = slot(m, id);
    return m->id[i] ? m->ev[i] : NULL;
}

int run_count(const struct run *r, int node, const char *ev)
{
    int c = 0;
    for (int i = 0; i < r->node[node].n; i++)
        if (strcmp(r->node[node].ev[i].ev, ev) == 0)
            c++;
    return c;
}

const struct applied_fault *run_fault(const struct run *r, enum fault_kind k, int node)
{
    for (int i = 0; i < r->napplied; i++)
        if (r->applied[i].kind == k && r->applied[i].node == node)
            return &r->applied[i];
    return NULL;
}

/* The default end of a run: every node that is running has printed ev=done in its current life. */
bool until_all_done(struct run *r, char *why, size_t cap)
{
    for (int i = 0; i < r->n; i++) {
        const struct nodelog *nl = &r->node[i];
        if (!nl->pid)
            continue;
        bool done = false;
        for (int j = nl->n - 1; j >= 0 && nl->ev[j].life == nl->life && !done; j--)
            done = strcmp(nl->ev[j].ev, "done") == 0;
        if (!done) {
            snprintf(why, cap, "node %d has not printed ev=done (%d events so far)", i, nl->n);
            return false;
        }
    }
    return true;
}

const char *const net_stat_names[NS_N] = {"dropped",     "duplicated",  "delayed",
                                          "partitioned", "tcp_refused", "tcp_cut"};

int net_stats(const char *dir, long long sum[NS_N])
{
    char path[700], line[512];
    int lines = 0;
    memset(sum, 0, NS_N * sizeof *sum);
    snprintf(path, sizeof path, "%s/faultnet.stats", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        struct event e;
        if (event_parse(line, &e) < 0)
            continue;
        lines++;
        for (int k = 0; k < NS_N; k++) {
            long long x;
            if (event_int(&e, net_stat_names[k], &x))
                sum[k] += x;
        }
        event_free(&e);
    }
    fclose(f);
    return lines;
}

void run_info(struct run *r, const char *fmt, ...)
{
    size_t len = strlen(r->info);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->info + len, sizeof r->info - len, fmt, ap);
    va_end(ap);
}

int run_count_bad(const struct run *r, int node, const char *why)
{
    int n = 0;
    for_each_event(r, node, e)
        n += event_is(e, "bad", "why", why);
    return n;
}
