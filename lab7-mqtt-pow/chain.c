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

const struct challenge *chain_seen_find(const struct seen *s, uint32_t epoch, uint64_t tx)
{
    for (int i = s->n - 1; i >= 0; i--)
        if (s->c[i].epoch == epoch && s->c[i].tx == tx)
            return &s->c[i];
    return NULL;
}

enum seen_verdict chain_seen_add(struct seen *s, const struct msg *m)
{
    const struct challenge *old = chain_seen_find(s, m->epoch, m->tx);
    if (old)
        return old->difficulty == m->difficulty && !strcmp(old->data, m->data) ? SEEN_REPEAT
                                                                               : SEEN_CONFLICT;
    if (s->n == CHAIN_SEEN) /* forget the oldest */
        memmove(s->c, s->c + 1, --s->n * sizeof *s->c);
    struct challenge *ch = &s->c[s->n++];
    ch->epoch = m->epoch;
    ch->tx = m->tx;
    ch->difficulty = m->difficulty;
    memcpy(ch->data, m->data, sizeof ch->data);
    return SEEN_NEW;
}

enum chain_verdict chain_check(const struct chain *c, const struct seen *seen, const struct msg *m)
{
    const struct result *r = chain_find(c, m->tx);
    if (r) /* what we have was checked when it came: the same again, or a lie */
        return same(r, m) ? CH_DUP : CH_CONFLICT;
    const struct challenge *ch = chain_seen_find(seen, m->epoch, m->tx);
    if (!ch)
        return CH_UNSEEN;
    if (ch->difficulty != m->difficulty || strcmp(ch->data, m->data) != 0)
        return CH_MISMATCH;
    /* The proof, for the challenge we saw: an invalid result is rejected whoever sent it. */
    if (ch->difficulty == 0 || !pow_check(ch->data, strlen(ch->data), m->nonce, ch->difficulty))
        return CH_INVALID;
    if (c->n == 0 || m->tx == chain_last_tx(c) + 1)
        return CH_ACCEPT;
    return m->tx > chain_last_tx(c) ? CH_GAP : CH_OLD;
}

enum chain_verdict chain_check_missed(const struct chain *c, const struct seen *seen,
                                      const struct msg *m)
{
    if (c->n == 0 || m->tx != chain_last_tx(c) + 1)
        return CH_UNSEEN;
    const struct challenge *later = NULL; /* the newest challenge of the epoch past m->tx */
    for (int i = 0; i < seen->n; i++)
        if (seen->c[i].epoch == m->epoch && seen->c[i].tx > m->tx)
            later = &seen->c[i];
    if (!later)
        return CH_UNSEEN;
    if (m->difficulty < later->difficulty)
        return CH_MISMATCH;
    if (m->difficulty == 0 || !pow_check(m->data, strlen(m->data), m->nonce, m->difficulty))
        return CH_INVALID;
    return CH_ACCEPT;
}

const char *chain_verdict_name(enum chain_verdict v)
{
    static const char *const names[] = {"accept",      "duplicate",        "conflict",
                                        "gap",         "old",              "invalid_pow",
                                        "unseen_challenge", "not_the_challenge"};
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
