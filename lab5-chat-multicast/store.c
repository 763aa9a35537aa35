/* store.c - the ordered, duplicate-free history and its summaries. */
#include <stdlib.h>
#include <string.h>

#include "store.h"

void store_init(struct store *s)
{
    memset(s, 0, sizeof *s);
}

void store_free(struct store *s)
{
    free(s->m);
    store_init(s);
}

static int cmp(const struct chatmsg *a, const struct chatmsg *b)
{
    if (a->lts != b->lts)
        return a->lts < b->lts ? -1 : 1;
    int c = strcmp(a->author, b->author);
    if (c)
        return c;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

const struct chatmsg *store_find(const struct store *s, const char *author, uint32_t seq)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->m[i].seq == seq && !strcmp(s->m[i].author, author))
            return &s->m[i];
    return NULL;
}

int store_add(struct store *s, const struct chatmsg *m)
{
    const struct chatmsg *old = store_find(s, m->author, m->seq);
    if (old)
        return old->lts == m->lts && !strcmp(old->text, m->text) ? 0 : -1;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        struct chatmsg *p = realloc(s->m, cap * sizeof *p);
        if (!p)
            return -2;
        s->m = p, s->cap = cap;
    }
    /* Insertion keeps the order: the history converges to (lts, author) order whatever the
     * arrival order was. */
    size_t i = s->n;
    while (i > 0 && cmp(&s->m[i - 1], m) > 0) {
        s->m[i] = s->m[i - 1];
        i--;
    }
    s->m[i] = *m;
    s->n++;
    return 1;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

uint64_t store_digest(const struct store *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < s->n; i++) {
        const struct chatmsg *m = &s->m[i];
        unsigned char num[12];
        for (int k = 0; k < 8; k++)
            num[k] = (unsigned char)(m->lts >> (56 - 8 * k));
        for (int k = 0; k < 4; k++)
            num[8 + k] = (unsigned char)(m->seq >> (24 - 8 * k));
        h = fnv(h, num, sizeof num);
        h = fnv(h, m->author, strlen(m->author) + 1);
        h = fnv(h, m->text, strlen(m->text) + 1);
    }
    return h;
}

uint32_t store_max_seq(const struct store *s, const char *author)
{
    uint32_t max = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->m[i].seq > max && !strcmp(s->m[i].author, author))
            max = s->m[i].seq;
    return max;
}

static int find_sum(const struct proto_sum *sum, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(sum[i].name, name))
            return i;
    return -1;
}

int store_summary(const struct store *s, struct proto_sum *out, int cap)
{
    int n = 0;
    for (size_t i = 0; i < s->n; i++)
        if (find_sum(out, n, s->m[i].author) < 0 && n < cap) {
            struct proto_sum *e = &out[n++];
            strcpy(e->name, s->m[i].author);
            e->max = store_max_seq(s, e->name);
            e->prefix = 0;
            while (e->prefix < e->max && store_find(s, e->name, e->prefix + 1))
                e->prefix++;
        }
    return n;
}

int store_peer_lacks(const struct proto_sum *sum, int n, const struct chatmsg *m)
{
    int k = find_sum(sum, n, m->author);
    return k < 0 || m->seq > sum[k].prefix;
}

int store_we_lack(const struct store *s, const struct proto_sum *sum, int n)
{
    for (int k = 0; k < n; k++) {
        uint32_t have = 0;
        while (have < sum[k].prefix && store_find(s, sum[k].name, have + 1))
            have++;
        if (have < sum[k].prefix || store_max_seq(s, sum[k].name) < sum[k].max)
            return 1;
    }
    return 0;
}
