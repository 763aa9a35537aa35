/* check_logic.c - the election rule and the results chain, driven directly (no sockets). */
#include <check.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "chain.h"
#include "election.h"
#include "msg.h"
#include "pow.h"

START_TEST(highest_vote_wins)
{
    struct election e;
    election_init(&e, 1);
    election_add(&e, 2);
    election_add(&e, 3);
    election_start(&e, 1);
    ck_assert_int_eq(election_vote(&e, 1, 1, 50), 1);
    ck_assert_int_eq(election_vote(&e, 2, 1, 90), 1);
    ck_assert(!election_complete(&e)); /* 3 has not voted */
    ck_assert_int_eq(election_vote(&e, 3, 1, 70), 1);
    ck_assert(election_complete(&e));
    ck_assert(election_decide(&e));
    ck_assert_uint_eq(e.leader, 2);
    ck_assert_uint_eq(e.leader_vote, 90);
}
END_TEST

START_TEST(ties_by_higher_id)
{
    struct election e;
    election_init(&e, 5);
    election_start(&e, 1);
    election_vote(&e, 5, 1, 10);
    election_vote(&e, 9, 1, 10);
    election_vote(&e, 7, 1, 10);
    ck_assert(election_decide(&e));
    ck_assert_uint_eq(e.leader, 9);
}
END_TEST

START_TEST(votes_of_other_epochs_and_duplicates)
{
    struct election e;
    election_init(&e, 1);
    election_start(&e, 2);
    ck_assert_int_eq(election_vote(&e, 4, 1, 1000), 0); /* an old round */
    ck_assert_int_eq(election_vote(&e, 4, 2, 5), 1);
    ck_assert_int_eq(election_vote(&e, 4, 2, 999), 0); /* QoS 1 may deliver twice */
    election_vote(&e, 1, 2, 6);
    ck_assert(election_decide(&e));
    ck_assert_uint_eq(e.leader, 1);
}
END_TEST

/* Issue 12 §1: a forged vote for epoch 4294967295 moved every node there and the next election
 * wrapped to 0. Now such an epoch does not even decode, a jump of more than
 * ELECTION_EPOCH_STEP moves nobody, and the epoch after the last one is refused, not 0. */
START_TEST(epochs_bounded_never_wrap)
{
    struct msg m;
    const char *why = "unset";
    const char *forged = "{\"type\": \"vote\", \"node\": 666, \"epoch\": 4294967295, "
                         "\"value\": 4294967295}";
    ck_assert_int_eq(msg_decode(forged, strlen(forged), &m, &why), -1);
    ck_assert_str_eq(why, "out_of_range");
    struct election e;
    election_init(&e, 1);
    ck_assert(election_epoch_ok(&e, 1, false));
    ck_assert(!election_epoch_ok(&e, 5000, false)); /* a vote: too far even for a newcomer */
    ck_assert(election_epoch_ok(&e, 5000, true));   /* a newcomer learns the group's epoch */
    election_start(&e, 3);
    ck_assert(election_epoch_ok(&e, 3 + ELECTION_EPOCH_STEP, false));
    ck_assert(!election_epoch_ok(&e, 3 + ELECTION_EPOCH_STEP + 1, false));
    ck_assert(!election_epoch_ok(&e, 3 + ELECTION_EPOCH_STEP + 1, true));
    ck_assert(!election_epoch_ok(&e, UINT32_MAX, true));
    ck_assert_uint_eq(election_next_epoch(&e), 4);
    election_start(&e, MSG_MAX_EPOCH);
    ck_assert(!election_epoch_ok(&e, MSG_MAX_EPOCH + 1, false));
    ck_assert_uint_eq(election_next_epoch(&e), 0); /* used up: refused, never a wrap to 0 */
}
END_TEST

/* Issue 12 §2: 71 forged inits filled the 64-entry table, and a genuine late node was never
 * registered. Entries that never voted make room; those that voted are kept. */
START_TEST(flood_cannot_lock_out)
{
    struct election e;
    election_init(&e, 1);
    election_start(&e, 1);
    for (uint32_t id = 1; id <= 3; id++)
        election_vote(&e, id, 1, 100 + id); /* three genuine nodes voted */
    ck_assert(election_decide(&e));
    for (uint32_t id = 1000; id < 1071; id++)
        ck_assert_int_eq(election_add(&e, id), 1);
    ck_assert_int_eq(e.n, ELECTION_MAX);
    ck_assert_int_eq(election_add(&e, 7), 1); /* the genuine late node gets in */
    ck_assert(election_is_alive(&e, 7));
    for (uint32_t id = 1; id <= 3; id++)
        ck_assert(election_is_alive(&e, id)); /* no voter was evicted */
    /* The next round: the late node's vote counts; the forged entries, which never vote, are
     * dropped once the round is decided (here, as after a vote timeout). */
    election_start(&e, 2);
    for (uint32_t id = 1; id <= 3; id++)
        election_vote(&e, id, 2, 100 + id);
    ck_assert_int_eq(election_vote(&e, 7, 2, 5000), 1);
    ck_assert(!election_complete(&e));
    ck_assert(election_decide(&e));
    ck_assert_uint_eq(e.leader, 7);
    ck_assert_int_eq(e.n, 4);
    ck_assert(election_complete(&e));
    /* A table full of nodes that all voted refuses a newcomer rather than evict one. */
    election_start(&e, 3);
    for (uint32_t id = 100; e.n < ELECTION_MAX; id++)
        election_vote(&e, id, 3, id);
    ck_assert_int_eq(election_add(&e, 9999), -1);
}
END_TEST

START_TEST(dead_nodes_are_not_waited_for_nor_elected)
{
    struct election e;
    election_init(&e, 1);
    election_add(&e, 2);
    election_add(&e, 3);
    election_start(&e, 1);
    election_vote(&e, 3, 1, 100); /* 3 votes, then dies */
    election_vote(&e, 1, 1, 10);
    ck_assert(election_remove(&e, 3));
    ck_assert(!election_remove(&e, 3)); /* a second Will, or a goodbye and then the Will */
    ck_assert(!election_complete(&e));  /* still 2 */
    election_vote(&e, 2, 1, 20);
    ck_assert(election_complete(&e));
    ck_assert_int_eq(election_alive(&e), 2);
    ck_assert(election_decide(&e));
    ck_assert_uint_eq(e.leader, 2);
    ck_assert_int_eq(election_add(&e, 3), 1); /* back from the dead */
    ck_assert_int_eq(election_add(&e, 3), 0);
}
END_TEST

START_TEST(new_epoch_forgets_votes)
{
    struct election e;
    election_init(&e, 1);
    election_start(&e, 1);
    election_vote(&e, 1, 1, 1);
    ck_assert(election_decide(&e));
    election_start(&e, 2);
    ck_assert(!e.decided);
    ck_assert(!election_complete(&e));
    ck_assert(!election_decide(&e)); /* no votes yet */
}
END_TEST

/* ---- the chain ---- */

#define DIFF 8

static uint64_t mine(const char *data)
{
    atomic_int cancel = 0;
    uint64_t nonce = 0;
    struct pow_job job = {data, strlen(data), DIFF, 1, 0};
    ck_assert_int_eq(pow_mine(&job, &cancel, &nonce, NULL), 1);
    return nonce;
}

static uint64_t bad_nonce(const char *data)
{
    uint64_t n = 0;
    while (pow_check(data, strlen(data), n, DIFF))
        n++;
    return n;
}

static struct msg result(uint64_t tx, const char *data, uint64_t nonce)
{
    struct msg m = {.type = MSG_RESULT,
                    .node = 1,
                    .epoch = 1,
                    .tx = tx,
                    .difficulty = DIFF,
                    .nonce = nonce,
                    .winner = 2};
    strcpy(m.data, data);
    return m;
}

/* The challenges a follower saw for tx 1..last, data "d<tx>", epoch 1 (the last CHAIN_SEEN). */
static struct seen seen_upto(uint64_t last)
{
    struct seen s = {0};
    for (uint64_t tx = 1; tx <= last; tx++) {
        struct msg ch = {.type = MSG_CHALLENGE, .node = 1, .epoch = 1, .tx = tx, .difficulty = DIFF};
        snprintf(ch.data, sizeof ch.data, "d%llu", (unsigned long long)tx);
        ck_assert_int_eq(chain_seen_add(&s, &ch), SEEN_NEW);
    }
    return s;
}

START_TEST(results_in_order)
{
    struct chain c;
    chain_init(&c);
    struct seen seen = seen_upto(7);
    struct msg r5 = result(5, "d5", mine("d5")), r6 = result(6, "d6", mine("d6"));
    ck_assert_int_eq(chain_check(&c, &seen, &r5), CH_ACCEPT); /* a late joiner starts anywhere */
    ck_assert_int_eq(chain_append(&c, &r5), 0);
    ck_assert_int_eq(chain_check(&c, &seen, &r5), CH_DUP);
    struct msg other = r5;
    other.winner = 3;
    ck_assert_int_eq(chain_check(&c, &seen, &other), CH_CONFLICT);
    struct msg r7 = result(7, "d7", mine("d7"));
    ck_assert_int_eq(chain_check(&c, &seen, &r7), CH_GAP);
    ck_assert_int_eq(chain_check(&c, &seen, &r6), CH_ACCEPT);
    chain_append(&c, &r6);
    struct msg r4 = result(4, "d4", mine("d4"));
    ck_assert_int_eq(chain_check(&c, &seen, &r4), CH_OLD);
    ck_assert_uint_eq(chain_last_tx(&c), 6);
    ck_assert_ptr_nonnull(chain_find(&c, 5));
    ck_assert_ptr_null(chain_find(&c, 7));
    for (uint64_t tx = 7; tx < 100; tx++) { /* growth */
        struct msg r = result(tx, "d5", r5.nonce);
        ck_assert_int_eq(chain_append(&c, &r), 0);
    }
    ck_assert_uint_eq(chain_find(&c, 50)->tx, 50);
    chain_free(&c);
}
END_TEST

START_TEST(invalid_result_refused)
{
    struct chain c;
    chain_init(&c);
    struct seen seen = seen_upto(1);
    struct msg r = result(1, "d1", bad_nonce("d1"));
    ck_assert_int_eq(chain_check(&c, &seen, &r), CH_INVALID);
    r = result(1, "d1", mine("d1"));
    r.difficulty = 0; /* "no work" is not a proof, nor another difficulty than the challenge's */
    ck_assert_int_eq(chain_check(&c, &seen, &r), CH_MISMATCH);
    chain_free(&c);
}
END_TEST

/* Issue 12 §3: a forged RESULT in the leader's name, difficulty 1, winner 666, made-up data,
 * was accepted by every node: its proof was checked with its own difficulty and data. */
START_TEST(forged_result_refused)
{
    struct chain c;
    chain_init(&c);
    struct seen seen = seen_upto(1);
    struct msg f = result(1, "forged", 0);
    f.difficulty = 1, f.winner = 666;
    while (!pow_check(f.data, strlen(f.data), f.nonce, 1))
        f.nonce++; /* a real proof, at the difficulty it claims */
    ck_assert_int_eq(chain_check(&c, &seen, &f), CH_MISMATCH); /* not the challenge we saw */
    strcpy(f.data, "d1");
    while (!pow_check(f.data, strlen(f.data), f.nonce, 1))
        f.nonce++;
    ck_assert_int_eq(chain_check(&c, &seen, &f), CH_MISMATCH); /* the data, but difficulty 1 */
    f = result(2, "d2", mine("d2"));
    ck_assert_int_eq(chain_check(&c, &seen, &f), CH_UNSEEN); /* a challenge never issued */
    f = result(1, "d1", mine("d1"));
    f.epoch = 2;
    ck_assert_int_eq(chain_check(&c, &seen, &f), CH_UNSEEN); /* another epoch's */
    f.epoch = 1;
    ck_assert_int_eq(chain_check(&c, &seen, &f), CH_ACCEPT); /* the real one */
    ck_assert_str_eq(chain_verdict_name(CH_MISMATCH), "not_the_challenge");
    chain_free(&c);
}
END_TEST

/* Issue 12 §3: a forged CHALLENGE for the same tx with other data, 10 ms after the real one, made
 * both miners drop the real one. One tx has one challenge per epoch: the first one heard. */
/* A follower that missed the challenges (and results) of tx 3 and 4 while disconnected, and saw
 * the one of tx 5: the leader's re-sent results 3 and 4 are taken in order, on their own proof, at
 * no less than the difficulty of the challenge it saw; nothing else gets in that way. */
START_TEST(missed_results_resynced)
{
    struct chain c;
    chain_init(&c);
    struct seen seen = seen_upto(2);
    struct msg r2 = result(2, "d2", mine("d2"));
    ck_assert_int_eq(chain_append(&c, &r2), 0);
    struct msg r3 = result(3, "x3", mine("x3")), r4 = result(4, "x4", mine("x4"));
    ck_assert_int_eq(chain_check(&c, &seen, &r3), CH_UNSEEN);
    ck_assert_int_eq(chain_check_missed(&c, &seen, &r3), CH_UNSEEN); /* no later challenge yet */
    struct msg ch5 = {.type = MSG_CHALLENGE, .node = 1, .epoch = 1, .tx = 5, .difficulty = DIFF};
    strcpy(ch5.data, "d5");
    ck_assert_int_eq(chain_seen_add(&seen, &ch5), SEEN_NEW);
    ck_assert_int_eq(chain_check_missed(&c, &seen, &r4), CH_UNSEEN); /* not the next tx */
    struct msg easy = result(3, "x3", 0);                            /* difficulty 1, made up */
    easy.difficulty = 1;
    while (!pow_check("x3", 2, easy.nonce, 1))
        easy.nonce++;
    ck_assert_int_eq(chain_check_missed(&c, &seen, &easy), CH_MISMATCH);
    struct msg wrong = result(3, "x3", bad_nonce("x3"));
    ck_assert_int_eq(chain_check_missed(&c, &seen, &wrong), CH_INVALID);
    struct msg other_epoch = r3;
    other_epoch.epoch = 2;
    ck_assert_int_eq(chain_check_missed(&c, &seen, &other_epoch), CH_UNSEEN);
    ck_assert_int_eq(chain_check_missed(&c, &seen, &r3), CH_ACCEPT);
    ck_assert_int_eq(chain_append(&c, &r3), 0);
    ck_assert_int_eq(chain_check_missed(&c, &seen, &r4), CH_ACCEPT);
    ck_assert_int_eq(chain_append(&c, &r4), 0);
    struct msg r5 = result(5, "d5", mine("d5"));
    ck_assert_int_eq(chain_check(&c, &seen, &r5), CH_ACCEPT); /* and on as before */
    ck_assert_int_eq(chain_check_missed(&c, &seen, &r5), CH_UNSEEN);
    chain_free(&c);
}
END_TEST

START_TEST(one_challenge_per_tx_and_epoch)
{
    struct seen s = seen_upto(1);
    struct msg ch = {.type = MSG_CHALLENGE, .node = 1, .epoch = 1, .tx = 1, .difficulty = DIFF};
    strcpy(ch.data, "d1");
    ck_assert_int_eq(chain_seen_add(&s, &ch), SEEN_REPEAT);
    strcpy(ch.data, "forged");
    ck_assert_int_eq(chain_seen_add(&s, &ch), SEEN_CONFLICT);
    strcpy(ch.data, "d1");
    ch.difficulty = 1;
    ck_assert_int_eq(chain_seen_add(&s, &ch), SEEN_CONFLICT);
    ck_assert_str_eq(chain_seen_find(&s, 1, 1)->data, "d1"); /* the first is kept */
    ch.epoch = 2; /* a new leader may issue the same tx again */
    strcpy(ch.data, "new");
    ck_assert_int_eq(chain_seen_add(&s, &ch), SEEN_NEW);
    for (uint64_t tx = 2; tx < 20; tx++) { /* bounded: the oldest are forgotten */
        ch.tx = tx;
        chain_seen_add(&s, &ch);
    }
    ck_assert_int_eq(s.n, CHAIN_SEEN);
    ck_assert_ptr_null(chain_seen_find(&s, 1, 1));
    ck_assert_ptr_nonnull(chain_seen_find(&s, 2, 19));
}
END_TEST

START_TEST(judge_solutions)
{
    struct chain c;
    chain_init(&c);
    struct open_tx o = {true, 3, DIFF, "tx3"};
    struct msg s = {.type = MSG_SOLUTION, .node = 2, .tx = 3, .nonce = mine("tx3")};
    strcpy(s.data, "tx3");
    ck_assert_int_eq(chain_judge(&c, &o, &s), SOL_WIN);
    struct msg wrong = s;
    wrong.nonce = bad_nonce("tx3");
    ck_assert_int_eq(chain_judge(&c, &o, &wrong), SOL_INVALID);
    struct msg stale = s;
    strcpy(stale.data, "tx2");
    ck_assert_int_eq(chain_judge(&c, &o, &stale), SOL_STALE);
    struct msg future = s;
    future.tx = 4;
    ck_assert_int_eq(chain_judge(&c, &o, &future), SOL_UNKNOWN);
    struct msg r = result(3, "tx3", s.nonce);
    chain_append(&c, &r);
    o.open = false;
    ck_assert_int_eq(chain_judge(&c, &o, &s), SOL_CLOSED); /* later ones are ignored */
    ck_assert_int_eq(chain_judge(&c, &o, &future), SOL_UNKNOWN);
    ck_assert_str_eq(sol_verdict_name(SOL_STALE), "stale");
    chain_free(&c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("logic");
    TCase *tc = tcase_create("election");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, highest_vote_wins);
    tcase_add_test(tc, ties_by_higher_id);
    tcase_add_test(tc, votes_of_other_epochs_and_duplicates);
    tcase_add_test(tc, dead_nodes_are_not_waited_for_nor_elected);
    tcase_add_test(tc, new_epoch_forgets_votes);
    tcase_add_test(tc, epochs_bounded_never_wrap);
    tcase_add_test(tc, flood_cannot_lock_out);
    suite_add_tcase(s, tc);
    tc = tcase_create("chain");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, results_in_order);
    tcase_add_test(tc, invalid_result_refused);
    tcase_add_test(tc, forged_result_refused);
    tcase_add_test(tc, missed_results_resynced);
    tcase_add_test(tc, one_challenge_per_tx_and_epoch);
    tcase_add_test(tc, judge_solutions);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
