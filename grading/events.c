/* events.c - parse event lines (common/EVENTS.md) into key/value pairs. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grader.h"

/* Split "k=v k2="a b" ..." in place. Quoted values lose their quotes and escapes. */
static int split_pairs(char *p, struct event *e)
{
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        if (e->nkv == G_MAXKV)
            return 0; /* extra pairs are ignored, not an error */
        char *k = p;
        while (*p && *p != '=' && *p != ' ')
            p++;
        if (*p != '=')
            return -1;
        *p++ = '\0';
        char *v = p;
        if (*p == '"') {
            char *w = v;
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1])
                    p++;
                *w++ = *p;
            }
            if (*p != '"')
                return -1;
            p++;
            *w = '\0';
            if (*p && *p != ' ')
                return -1;
            if (*p)
                p++;
        } else {
            while (*p && *p != ' ')
                p++;
            if (*p)
                *p++ = '\0';
        }
        e->key[e->nkv] = k;
        e->val[e->nkv] = v;
        e->nkv++;
    }
    return 0;
}

int event_parse(const char *line, struct event *out)
{
    memset(out, 0, sizeof *out);
    if (strncmp(line, "node=", 5) != 0)
        return -1;
    out->buf = strdup(line);
    if (!out->buf)
        return -1;
    long long node;
    if (split_pairs(out->buf, out) < 0 || !event_int(out, "node", &node) || node < 0 ||
        node >= G_MAXNODES) {
        event_free(out);
        return -1;
    }
    out->node = (int)node;
    const char *ev = event_get(out, "ev");
    out->ev = ev ? ev : "";
    const char *t = event_get(out, "t");
    out->t = t ? strtod(t, NULL) : -1;
    return 0;
}

void event_free(struct event *e)
{
    free(e->buf);
    e->buf = NULL;
    e->nkv = 0;
}

const char *event_get(const struct event *e, const char *key)
{
    for (int i = 0; i < e->nkv; i++)
        if (strcmp(e->key[i], key) == 0)
            return e->val[i];
    return NULL;
}

bool event_is(const struct event *e, const char *ev, const char *key, const char *val)
{
    const char *v = key ? event_get(e, key) : NULL;
    return !strcmp(e->ev, ev) && (!key || (v && !strcmp(v, val)));
}

bool event_int(const struct event *e, const char *key, long long *out)
{
    const char *v = event_get(e, key);
    if (!v || !*v)
        return false;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (*end || errno)
        return false;
    *out = x;
    return true;
}

int event_vector(const struct event *e, const char *key, long long *v, int cap)
{
    const char *s = event_get(e, key);
    if (!s || *s != '[')
        return -1;
    int n = 0;
    s++;
    if (*s == ']')
        return s[1] ? -1 : 0;
    for (;;) {
        char *end;
        errno = 0;
        long long x = strtoll(s, &end, 10);
        if (end == s || errno || n == cap)
            return -1;
        v[n++] = x;
        if (*end == ']')
            return end[1] ? -1 : n;
        if (*end != ',')
            return -1;
        s = end + 1;
    }
}

const char *event_str(const struct event *e, char *buf, size_t cap)
{
    size_t len = (size_t)snprintf(buf, cap, "node=%d#%d", e->node, e->seq);
    for (int i = 0; i < e->nkv && len < cap; i++) {
        if (strcmp(e->key[i], "node") == 0 || strcmp(e->key[i], "t") == 0)
            continue; /* node is printed first; t is noise in a failure message */
        len += (size_t)snprintf(buf + len, cap - len, " %s=%s", e->key[i], e->val[i]);
    }
    return buf;
}

/* ---- verdicts ---- */

const char *verdict_name(enum verdict_kind k)
{
    static const char *names[] = {"pass",          "liveness/timeout", "safety violation", "crash",
                                  "harness error", "build failed",     "not run"};
    return names[k];
}

static int severity(enum verdict_kind k)
{
    static const int s[] = {0, 1, 2, 3, 4, 5, 6};
    return s[k];
}

/* Does a come before b in the list? A harness error first (the run says nothing about the lab),
 * then the most specific rank, then the most severe kind; equal ones stay in the order found. */
static bool before(const struct reason *a, const struct reason *b)
{
    if ((a->kind == V_HARNESS) != (b->kind == V_HARNESS))
        return a->kind == V_HARNESS;
    if (a->rank != b->rank)
        return a->rank < b->rank;
    return severity(a->kind) > severity(b->kind);
}

static void verdict_addv(struct verdict *v, enum verdict_kind k, enum reason_rank rank,
                         const char *fmt, va_list ap)
{
    struct reason r = {.kind = k, .rank = rank};
    vsnprintf(r.text, sizeof r.text, fmt, ap);
    for (int i = 0; i < v->n; i++)
        if (v->reason[i].kind == k && strcmp(v->reason[i].text, r.text) == 0)
            return; /* the same reason twice says nothing new */
    int at = v->n;
    while (at > 0 && before(&r, &v->reason[at - 1]))
        at--;
    if (v->n == G_MAXREASONS) {
        v->more++;
        if (at == G_MAXREASONS)
            return;
        v->n--; /* the least specific goes */
    }
    memmove(&v->reason[at + 1], &v->reason[at], (size_t)(v->n - at) * sizeof r);
    v->reason[at] = r;
    v->n++;
    v->kind = v->reason[0].kind;
    snprintf(v->msg, sizeof v->msg, "%s", v->reason[0].text);
}

void verdict_add(struct verdict *v, enum verdict_kind k, enum reason_rank rank, const char *fmt,
                 ...)
{
    va_list ap;
    va_start(ap, fmt);
    verdict_addv(v, k, rank, fmt, ap);
    va_end(ap);
}

void verdict_fail(struct verdict *v, enum verdict_kind k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verdict_addv(v, k, R_PROPERTY, fmt, ap);
    va_end(ap);
}

bool verdict_has(const struct verdict *v, enum verdict_kind k)
{
    for (int i = 0; i < v->n; i++)
        if (v->reason[i].kind == k)
            return true;
    return false;
}
