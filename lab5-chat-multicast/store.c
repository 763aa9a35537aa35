/* store.c - the ordered, duplicate-free history, its index and its summaries. */
#include <stdlib.h>
#include <string.h>

#include "store.h"

void store_init(struct store *s)
{
    memset(s, 0, sizeof *s);
}

void store_free(struct store *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->m[i]);
    free(s->m);
    free(s->slot);
    store_init(s);
}

void store_limit(struct store *s, size_t max_total, size_t max_author, const char *owner)
{
    s->max_total = max_total, s->max_author = max_author;
    strncpy(s->owner, owner ? owner : "", PROTO_NAMELEN);
    s->owner[PROTO_NAMELEN] = '\0';
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

/* ---- the index: (author, seq) -> message, linear probing ---- */

static size_t hash(const char *author, uint32_t seq)
{
    uint64_t h = 14695981039346656037ULL;
    for (const char *p = author; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ seq) * 1099511628211ULL;
    return (size_t)(h ^ (h >> 29));
}

static size_t probe(const struct store *s, const char *author, uint32_t seq)
{
    size_t mask = s->nslot - 1, i = hash(author, seq) & mask;
    while (s->slot[i] && (s->slot[i]->seq != seq || strcmp(s->slot[i]->author, author)))
        i = (i + 1) & mask;
    return i;
}

/* Keep the table at most half full, so probes stay short. */
static int index_grow(struct store *s)
{
    if (s->nslot >= 2 * (s->n + 1))
        return 0;
    size_t nslot = s->nslot ? 2 * s->nslot : 128;
    struct chatmsg **slot = calloc(nslot, sizeof *slot);
    if (!slot)
        return -1;
    free(s->slot);
    s->slot = slot, s->nslot = nslot;
    for (size_t i = 0; i < s->n; i++)
        s->slot[probe(s, s->m[i]->author, s->m[i]->seq)] = s->m[i];
    return 0;
}

const struct chatmsg *store_find(const struct store *s, const char *author, uint32_t seq)
{
    return s->nslot ? s->slot[probe(s, author, seq)] : NULL;
}

/* ---- authors ---- */

static struct store_author *author_of(const struct store *s, const char *name)
{
    for (int i = 0; i < s->nauthors; i++) /* at most STORE_MAX_AUTHORS */
        if (!strcmp(s->author[i].name, name))
            return (struct store_author *)&s->author[i];
    return NULL;
}

/* May m be added under the caps? The owner's own messages always may. */
static int room_for(const struct store *s, const struct chatmsg *m, const struct store_author *a)
{
    if (!a && s->nauthors == STORE_MAX_AUTHORS)
        return 0;
    if (s->owner[0] && !strcmp(m->author, s->owner))
        return 1;
    if (s->max_total && s->n >= s->max_total)
        return 0;
    return !(s->max_author && a && a->count >= s->max_author);
}

static void count_in(struct store *s, struct store_author *a, const struct chatmsg *m)
{
    if (!a) {
        a = &s->author[s->nauthors++];
        memset(a, 0, sizeof *a);
        strcpy(a->name, m->author);
    }
    a->count++;
    if (m->seq > a->max)
        a->max = m->seq;
    while (a->prefix < a->max && store_find(s, a->name, a->prefix + 1))
        a->prefix++; /* amortized O(1): prefix only grows */
}

/* Where m goes in the order: binary search. */
static size_t position(const struct store *s, const struct chatmsg *m)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp(s->m[mid], m) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int make_room(struct store *s)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        struct chatmsg **p = realloc(s->m, cap * sizeof *p);
        if (!p)
            return -1;
        s->m = p, s->cap = cap;
    }
    return index_grow(s);
}

int store_add(struct store *s, const struct chatmsg *m)
{
    const struct chatmsg *old = store_find(s, m->author, m->seq);
    if (old)
        return old->lts == m->lts && !strcmp(old->text, m->text) ? 0 : -1;
    struct store_author *a = author_of(s, m->author);
    if (!room_for(s, m, a))
        return -3;
    struct chatmsg *c = malloc(sizeof *c);
    if (!c || make_room(s) < 0) {
        free(c);
        return -2;
    }
    *c = *m;
    /* The order is (lts, author, seq) whatever the arrival order: histories converge. */
    size_t i = position(s, c);
    memmove(&s->m[i + 1], &s->m[i], (s->n - i) * sizeof *s->m);
    s->m[i] = c;
    s->n++;
    s->slot[probe(s, c->author, c->seq)] = c;
    count_in(s, a, c);
    return 1;
}

int store_seq_ok(const struct store *s, const char *author, uint32_t seq)
{
    uint32_t known = store_max_seq(s, author);
    if (seq == 0 || seq > UINT32_MAX - STORE_SEQ_WINDOW)
        return 0;
    return seq <= known || seq - known <= STORE_SEQ_WINDOW;
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
        const struct chatmsg *m = s->m[i];
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
    const struct store_author *a = author_of(s, author);
    return a ? a->max : 0;
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
    for (int i = 0; i < s->nauthors && n < cap; i++, n++) {
        strcpy(out[n].name, s->author[i].name);
        out[n].prefix = s->author[i].prefix, out[n].max = s->author[i].max;
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
        const struct store_author *a = author_of(s, sum[k].name);
        uint32_t prefix = a ? a->prefix : 0, max = a ? a->max : 0;
        if (prefix < sum[k].prefix || max < sum[k].max)
            return 1;
    }
    return 0;
}
