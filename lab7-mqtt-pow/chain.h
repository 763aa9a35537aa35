/* chain.h - the list of results every node keeps, and the leader's judgement of solutions. */
#ifndef CHAIN_H
#define CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"

struct result {
    uint64_t tx;
    uint32_t winner;
    uint64_t nonce;
    uint32_t difficulty;
    char data[MSG_MAX_DATA + 1];
};

/* Results in tx order, without gaps from the first one this node saw (a late joiner starts
 * from the chain's last result, not from tx 1). */
struct chain {
    struct result *r;
    size_t n, cap;
};

/* The challenge the leader has open, if any. */
struct open_tx {
    bool open;
    uint64_t tx;
    uint32_t difficulty;
    char data[MSG_MAX_DATA + 1];
};

/* The challenges this node saw from its leaders (issued, for a leader), newest last. A result is
 * checked against these, never against the difficulty and data it carries: anyone can publish
 * a result "in the leader's name" with difficulty 1 and data of their choosing (issue 12). A few
 * are kept because a node that reconnects may get the retained challenge for tx+1 before the
 * result of tx. */
#define CHAIN_SEEN 8
struct challenge {
    uint32_t epoch;
    uint64_t tx;
    uint32_t difficulty;
    char data[MSG_MAX_DATA + 1];
};
struct seen {
    int n;
    struct challenge c[CHAIN_SEEN];
};

enum seen_verdict {
    SEEN_NEW,      /* the first challenge for this tx in this epoch: remembered */
    SEEN_REPEAT,   /* the same one again (a reconnection, a retained copy) */
    SEEN_CONFLICT, /* another challenge for a tx that has one in this epoch: refused */
};
/* One tx has one challenge per epoch: the first one heard wins. */
enum seen_verdict chain_seen_add(struct seen *s, const struct msg *m);
const struct challenge *chain_seen_find(const struct seen *s, uint32_t epoch, uint64_t tx);

enum chain_verdict {
    CH_ACCEPT,   /* the next result (or a first one): append it */
    CH_DUP,      /* the same result again (QoS 1 redelivery, a retained copy): ignore */
    CH_CONFLICT, /* a different result for a tx we already have: reject */
    CH_GAP,      /* a tx beyond the next one: we missed results; reject */
    CH_OLD,      /* a tx before our last one that we do not have */
    CH_INVALID,  /* the proof does not hold: reject, whoever the leader is */
    CH_UNSEEN,   /* no challenge for this tx was seen in this epoch: cannot be checked */
    CH_MISMATCH, /* its difficulty or data are not those of the challenge we saw */
};

void chain_init(struct chain *c);
void chain_free(struct chain *c);
uint64_t chain_last_tx(const struct chain *c); /* 0 when empty */
const struct result *chain_find(const struct chain *c, uint64_t tx);
/* Judge a result message: the same as one we have, or the next one, for a challenge in seen
 * (same epoch, tx, difficulty and data), with a proof the node re-checks itself. */
enum chain_verdict chain_check(const struct chain *c, const struct seen *seen, const struct msg *m);
/* A result chain_check found CH_UNSEEN, because this node missed its challenge while it was
 * disconnected (the leader re-sends such results when asked, README "Missed results"). It is
 * accepted only as the next tx of a non-empty list, when this node saw a challenge for a later
 * tx in the same epoch (so it knows the chain went on without it), at a difficulty at least that
 * challenge's, with a proof that holds for the data the result carries. What it cannot check:
 * that the leader really issued that data. CH_UNSEEN when it is not such a result. */
enum chain_verdict chain_check_missed(const struct chain *c, const struct seen *seen,
                                      const struct msg *m);
const char *chain_verdict_name(enum chain_verdict v);
/* Append a result judged CH_ACCEPT; -1 if out of memory. */
int chain_append(struct chain *c, const struct msg *m);

enum sol_verdict {
    SOL_WIN,     /* first valid solution of the open tx */
    SOL_CLOSED,  /* for a tx that already has a winner: later ones are ignored */
    SOL_UNKNOWN, /* for a tx never issued (or nothing open) */
    SOL_STALE,   /* for the open tx but other data (an old challenge's solution) */
    SOL_INVALID, /* the proof does not hold */
};
/* The leader's judgement of a solution message. */
enum sol_verdict chain_judge(const struct chain *c, const struct open_tx *o, const struct msg *m);
const char *sol_verdict_name(enum sol_verdict v);

#endif
