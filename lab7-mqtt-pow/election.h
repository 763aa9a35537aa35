/* election.h - who takes part and who leads: the vote rule as a pure state machine. */
#ifndef ELECTION_H
#define ELECTION_H

#include <stdbool.h>
#include <stdint.h>

#define ELECTION_MAX 64

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
    uint64_t vote[ELECTION_MAX];
    bool decided;
    uint32_t leader;
    uint64_t leader_vote;
};

void election_init(struct election *e, uint32_t self);
/* A participant was heard of (init, vote, ...): 1 if new or back from the dead, 0 if known,
 * -1 if the table is full. */
int election_add(struct election *e, uint32_t id);
/* Its Last Will arrived: no longer waited for. True if it was alive until now. */
bool election_remove(struct election *e, uint32_t id);
int election_alive(const struct election *e);
/* Start epoch (> current): forget the votes and the decision. */
void election_start(struct election *e, uint32_t epoch);
/* Record a vote of the current epoch: 1 if new, 0 if a duplicate or another epoch. */
int election_vote(struct election *e, uint32_t id, uint32_t epoch, uint64_t value);
/* Every live participant voted. */
bool election_complete(const struct election *e);
/* Apply the rule to the votes in hand (from live participants); false if there are none. */
bool election_decide(struct election *e);

#endif
