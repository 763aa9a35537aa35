/* acct.h - which incoming coins a player may accept: per-sender sequence numbers, bounded balance.
 */
#ifndef ACCT_H
#define ACCT_H

#include <stdint.h>

#include "proto.h"

/*
 * Money must be conserved whatever arrives. The receiver cannot check that a transfer is
 * genuine (there is no key: see README "Trust model"), but it can refuse what no honest
 * sender could ever produce:
 *  - a sequence number that is 0, or not above the last one accepted from that sender: a
 *    duplicate or a replay. A sender numbers all its transfers, to every peer, with one
 *    counter (the message id <from>:<seq> is unique in the run), so on one TCP channel an
 *    honest sender's numbers strictly increase, with gaps where it sent to someone else. A
 *    gap is therefore normal and accepted; going back never is. The last number is kept per
 *    sender, not per connection, so a replay on a new connection is refused too.
 *  - an amount of 0, or one that would leave our balance above the supply (players x initial
 *    gold): all the gold that exists. At that instant the sender held at most the supply minus
 *    our balance, so it cannot have sent more. This also keeps every balance far below 2^32.
 * Pure functions, no I/O: the node logs the token as ev=bad why=<token>.
 */
struct acct {
    uint64_t supply;                    /* players x initial gold: no balance is ever larger */
    uint32_t last_seq[PROTO_MAX_NODES]; /* highest seq accepted from each sender; 0 = none yet */
};

void acct_init(struct acct *a, int n, uint32_t gold);

/* NULL if an XFER (seq, gold) from player from may be added to balance; otherwise why not:
 * "bad_seq" (0), "replay" (not above the last one accepted from from), "bad_gold" (0 coins),
 * "overflow" (balance + gold would exceed the supply). */
const char *acct_check(const struct acct *a, int from, uint32_t seq, uint32_t gold,
                       uint32_t balance);

/* The XFER passed acct_check and was applied: remember its number. */
void acct_accept(struct acct *a, int from, uint32_t seq);

#endif
