/* chain.c - results in tx order and the checks on results and solutions; pure, no I/O. */
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "pow.h"

void chain_init(struct chain *c)
{
    memset(c, 0, sizeof *c);
}

void chain_free(struct chain *c)
{
    free(c->r);
    memset(c, 0, sizeof *c);
}

uint64_t chain_last_tx(const struct chain *c)
{
    return c->n ? c->r[c->n - 1].tx : 0;
}

const struct result *chain_find(const struct chain *c, uint64_t tx)
{
    if (c->n == 0 || tx < c->r[0].tx || tx > chain_last_tx(c))
        return NULL;
    return &c->r[tx - c->r[0].tx]; /* no gaps: the index follows from the tx */
}

static bool same(const struct result *r, const struct msg *m)
{
    return r->winner == m->winner && r->nonce == m->nonce && r->difficulty == m->difficulty &&
           !strcmp(r->data, m->data);
}

enum chain_verdict chain_check(const struct chain *c, const struct msg *m)
{
    /* The proof first: an invalid result is rejected whatever else it claims. */
    if (m->difficulty == 0 || !pow_check(m->data, strlen(m->data), m->nonce, m->difficulty))
        return CH_INVALID;
    const struct result *r = chain_find(c, m->tx);
    if (r)
        return same(r, m) ? CH_DUP : CH_CONFLICT;
    if (c->n == 0 || m->tx == chain_last_tx(c) + 1)
        return CH_ACCEPT;
    return m->tx > chain_last_tx(c) ? CH_GAP : CH_OLD;
}

const char *chain_verdict_name(enum chain_verdict v)
{
    static const char *const names[] = {"accept", "duplicate", "conflict",
                                        "gap",    "old",       "invalid_pow"};
    return (unsigned)v < sizeof names / sizeof *names ? names[v] : "?";
}

int chain_append(struct chain *c, const struct msg *m)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        struct result *r = realloc(c->r, cap * sizeof *r);
        if (!r)
            return -1;
        c->r = r;
        c->cap = cap;
    }
    struct result *r = &c->r[c->n++];
    r->tx = m->tx;
    r->winner = m->winner;
    r->nonce = m->nonce;
    r->difficulty = m->difficulty;
    memcpy(r->data, m->data, sizeof r->data);
    return 0;
}

enum sol_verdict chain_judge(const struct chain *c, const struct open_tx *o, const struct msg *m)
{
    if (chain_find(c, m->tx))
        return SOL_CLOSED;
    if (!o->open || m->tx != o->tx)
        return SOL_UNKNOWN;
    if (strcmp(m->data, o->data) != 0)
        return SOL_STALE;
    if (!pow_check(o->data, strlen(o->data), m->nonce, o->difficulty))
        return SOL_INVALID;
    return SOL_WIN;
}

const char *sol_verdict_name(enum sol_verdict v)
{
    static const char *const names[] = {"win", "closed", "unknown_tx", "stale", "invalid_pow"};
    return (unsigned)v < sizeof names / sizeof *names ? names[v] : "?";
}
