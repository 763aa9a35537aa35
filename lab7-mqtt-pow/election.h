/* election.h - who takes part and who leads: the vote rule as a pure state machine. */
#ifndef ELECTION_H
#define ELECTION_H

#include <stdbool.h>
#include <stdint.h>

#include "msg.h"

#define ELECTION_MAX 64
/* The epoch rule (README "Trust model"): an epoch someone else names is taken only if it is at
 * most ELECTION_EPOCH_STEP ahead of ours (a node that missed a few elections still catches up;
 * a forged vote for a huge epoch moves nobody), and never beyond MSG_MAX_EPOCH, so epochs never
 * wrap. The one exception is a node with no epoch yet (0, just started): it takes the epoch of
 * the leader's announcement, since a long-running group may be far beyond 16. */
#define ELECTION_EPOCH_STEP 16

/* The rule: in each epoch every live participant publishes one random vote; once a node has a
 * vote from every participant it believes alive (or the vote timeout ran out), the leader is
 * the highest vote, ties broken by the higher node id. Every node applies the same rule to the
 * same set of votes, so every node elects the same leader. */
struct election {
    uint32_t self;
    uint32_t epoch;
    int n; /* participants known (self included) */
    uint32_t id[ELECTION_MAX];
    bool alive[ELECTION_MAX]; /* false after its Last Will arrived */
    bool voted[ELECTION_MAX]; /* a vote for `epoch` arrived */
    bool proven[ELECTION_MAX]; /* it has voted in some epoch: not evicted for a newcomer */
    uint64_t heard[ELECTION_MAX]; /* `clock` when last heard of: the oldest goes first */
    uint64_t clock;
    uint64_t vote[ELECTION_MAX];
    bool decided;
    uint32_t leader;
    uint64_t leader_vote;
};

void election_init(struct election *e, uint32_t self);
/* A participant was heard of (init, vote, ...): 1 if new or back from the dead, 0 if known,
 * -1 if the table is full. Anyone can claim an id, so a full table makes room for a newcomer:
 * the longest-unheard dead entry goes, else the longest-unheard one that never voted. Only
 * when every entry has voted is a newcomer refused. */
int election_add(struct election *e, uint32_t id);
/* Its Last Will arrived: no longer waited for. True if it was alive until now. */
bool election_remove(struct election *e, uint32_t id);
int election_alive(const struct election *e);
bool election_is_alive(const struct election *e, uint32_t id);
/* May a message of `epoch` move us there? announce: it is a leader's announcement. */
bool election_epoch_ok(const struct election *e, uint32_t epoch, bool announce);
/* The epoch after ours, or 0 if epochs are used up (MSG_MAX_EPOCH): never a wrap. */
uint32_t election_next_epoch(const struct election *e);
/* Start epoch (> current): forget the votes and the decision. */
void election_start(struct election *e, uint32_t epoch);
/* Record a vote of the current epoch: 1 if new, 0 if a duplicate or another epoch. */
int election_vote(struct election *e, uint32_t id, uint32_t epoch, uint64_t value);
/* Every live participant voted. */
bool election_complete(const struct election *e);
/* Apply the rule to the votes in hand (from live participants); false if there are none.
 * Entries that never voted, not even in this epoch, are dropped then: they had a whole round
 * (forged inits never vote, and must not be waited for again). */
bool election_decide(struct election *e);

#endif
