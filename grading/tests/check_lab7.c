/* check_lab7.c - lab7-mqtt-pow's checkers on hand-made logs: good logs pass, and two leaders,
 * two winners, a fake proof, a gap in a result list, a winning cheater each fail. */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grader.h"
#include "tests/testlog.h"

/* ---- helpers copied from check_grader.c ---- */

/* The layout of lab7.c's struct lab7_state: the attack tests read forged= from it. */
static struct {
    int slot;
    double restart_t;
    char conf[600];
    int forged;
    double attack_t;
} state;

static void attacked_once(void)
{
    memset(&state, 0, sizeof state);
    state.forged = 1;
    R.lab_state = &state;
}

/* Real proofs at difficulty 8: SHA-256("d1" || "0000000000000280") starts with 8 zero bits
 * (640 = 0x280), and so on; nonce 1 for d1 has none. */
#define R1(n, w) "node=" #n " ev=result tx=1 winner=" #w " nonce=640 difficulty=8 data=d1 leader=0"
#define R2(n, w) "node=" #n " ev=result tx=2 winner=" #w " nonce=867 difficulty=8 data=d2 leader=0"
#define R3(n, w) "node=" #n " ev=result tx=3 winner=" #w " nonce=132 difficulty=8 data=d3 leader=0"

/* Three nodes; 0 leads epoch 1 (the highest vote); 1 and 2 mine. */
static void good_run(void)
{
    run_reset(3);
    for (int i = 0; i < 3; i++) {
        char line[128];
        snprintf(line, sizeof line, "node=%d ev=ready", i);
        add(line);
        snprintf(line, sizeof line, "node=%d ev=vote epoch=1 value=%d", i, i == 0 ? 900 : 100 + i);
        add(line);
        snprintf(line, sizeof line, "node=%d ev=leader leader=0 epoch=1", i);
        add(line);
    }
    add(R1(0, 1)), add(R1(1, 1)), add(R1(2, 1));
    add(R2(0, 2)), add(R2(1, 2)), add(R2(2, 2));
    add(R3(0, 1)), add(R3(1, 1)), add(R3(2, 1));
}

START_TEST(good_log_passes)
{
    good_run();
    struct verdict v = check("one-leader");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    v = check("valid-winners");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    ck_assert_str_eq(R.info, "transactions=3");
}
END_TEST

START_TEST(two_leaders_fail)
{
    good_run();
    add("node=2 ev=leader leader=2 epoch=1");
    struct verdict v = check("valid-winners");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "two leaders in epoch 1"));
}
END_TEST

START_TEST(leader_not_highest_vote_fails)
{
    run_reset(2);
    add("node=0 ev=vote epoch=1 value=5");
    add("node=1 ev=vote epoch=1 value=7");
    add("node=0 ev=leader leader=0 epoch=1");
    add("node=1 ev=leader leader=0 epoch=1");
    add(R1(0, 1)), add(R1(1, 1));
    struct verdict v = check("one-leader");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "highest vote"));
}
END_TEST

START_TEST(two_winners_fail)
{
    good_run();
    add("node=2 ev=result tx=4 winner=1 nonce=640 difficulty=8 data=d1 leader=0");
    add("node=1 ev=result tx=4 winner=2 nonce=640 difficulty=8 data=d1 leader=0");
    struct verdict v = check("valid-winners");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "two different winners"));
}
END_TEST

START_TEST(fake_proof_fails)
{
    run_reset(2);
    add("node=0 ev=leader leader=0 epoch=1");
    add("node=1 ev=leader leader=0 epoch=1");
    add("node=0 ev=result tx=1 winner=1 nonce=1 difficulty=8 data=d1 leader=0");
    struct verdict v = check("valid-winners");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "proof is invalid"));
    ck_assert_ptr_nonnull(strstr(v.msg, "0000000000000001"));
}
END_TEST

START_TEST(gap_in_list_fails)
{
    run_reset(2);
    add("node=0 ev=leader leader=0 epoch=1");
    add("node=1 ev=leader leader=0 epoch=1");
    add(R1(0, 1)), add(R2(0, 1)), add(R3(0, 1));
    add(R1(1, 1)), add(R3(1, 1)); /* node 1 skipped tx 2 */
    struct verdict v = check("same-lists");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "tx=3 follows tx=1"));
}
END_TEST

START_TEST(restarted_node_may_start_later)
{
    run_reset(2);
    add("node=0 ev=leader leader=0 epoch=1");
    add("node=1 ev=leader leader=0 epoch=1");
    add(R1(0, 1)), add(R2(0, 1)), add(R3(0, 1));
    add(R1(1, 1));
    add("node=1 ev=ready"); /* a new life joins at tx 3 */
    R.node[1].ev[R.node[1].n - 1].life = 1;
    add(R3(1, 1));
    R.node[1].ev[R.node[1].n - 1].life = 1;
    struct verdict v = check("same-lists");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
}
END_TEST

START_TEST(cheater_wins_fails)
{
    good_run();
    add("node=1 ev=cheat kind=invalid tx=1 nonce=5");
    struct verdict v = check("cheat-invalid");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "cheats"));
}
END_TEST

START_TEST(cheater_never_rejected_fails)
{
    good_run();
    add("node=0 ev=cheat kind=stale tx=1 nonce=5"); /* node 0 cheats but nobody noticed */
    struct verdict v = check("cheat-stale");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "never printed ev=reject"));
    add("node=1 ev=reject tx=1 from=0 nonce=5 why=stale");
    v = check("cheat-stale");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
}
END_TEST

START_TEST(no_transaction_is_liveness)
{
    run_reset(1);
    add("node=0 ev=leader leader=0 epoch=1");
    struct verdict v = check("valid-winners");
    ck_assert_int_eq(v.kind, V_LIVENESS);
}
END_TEST

START_TEST(too_few_bad_lines_fail)
{
    good_run();
    for (int k = 0; k < 5; k++) {
        add("node=0 ev=bad why=malformed_json topic=system/init from=-1");
        add("node=1 ev=bad why=malformed_json topic=system/init from=-1");
    }
    attacked_once();
    struct verdict v = check("bad-input");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 2 logged 0 ev=bad"));
}
END_TEST

/* The attack tests (issue 12) need the attack to have happened: a run where the injector got
 * nothing out proves nothing and is never a pass. */
START_TEST(attack_that_never_happened_is_not_a_pass)
{
    static const char *const attacks[] = {"forged-result", "forged-challenge", "big-retained",
                                          "table-flood",   "broker-auth",      "forged-epoch",
                                          "near-miss",     "bad-input"};
    for (size_t k = 0; k < sizeof attacks / sizeof *attacks; k++) {
        good_run();
        R.lab_state = NULL;
        struct verdict v = check(attacks[k]);
        ck_assert_msg(v.kind == V_HARNESS, "%s: %d %s", attacks[k], v.kind, v.msg);
        ck_assert_ptr_nonnull(strstr(v.msg, "proved nothing"));
    }
}
END_TEST

START_TEST(solution_after_result_fails)
{
    good_run();
    add("node=1 ev=solution tx=4 nonce=5 from=1 hashes=9"); /* tx 4 is still open: fine */
    struct verdict v = check("valid-winners");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    add("node=2 ev=solution tx=2 nonce=5 from=2 hashes=9"); /* node 2 accepted tx 2 already */
    v = check("valid-winners");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 2 published a solution for tx=2 after"));
}
END_TEST

START_TEST(solution_in_a_new_life_passes)
{
    good_run();
    add("node=2 ev=ready");
    R.node[2].ev[R.node[2].n - 1].life = 1;
    add("node=2 ev=solution tx=2 nonce=5 from=2 hashes=9");
    R.node[2].ev[R.node[2].n - 1].life = 1;
    struct verdict v = check("valid-winners");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
}
END_TEST

/* near-miss: the leader (0) refused the short proof and the one for another tx, every follower
 * refused the short result, and tx 1 went to node 902's exact proof. drop: which line to leave
 * out (0: none). */
static void near_miss_run(int drop, int winner)
{
    char line[160];
    run_reset(3);
    for (int i = 0; i < 3; i++) {
        snprintf(line, sizeof line, "node=%d ev=leader leader=0 epoch=1", i);
        add(line);
        snprintf(line, sizeof line,
                 "node=%d ev=result tx=1 winner=%d nonce=640 difficulty=8 data=d1 leader=0", i,
                 winner);
        add(line);
    }
    if (drop != 1)
        add("node=0 ev=reject tx=1 from=900 nonce=1 why=invalid_pow");
    if (drop != 2)
        add("node=0 ev=reject tx=6 from=901 nonce=640 why=unknown_tx");
    add("node=1 ev=bad why=invalid_pow topic=system/result from=0 tx=1 winner=900 nonce=1");
    if (drop != 3)
        add("node=2 ev=bad why=invalid_pow topic=system/result from=0 tx=1 winner=900 nonce=1");
    attacked_once();
}

START_TEST(near_miss_good_log_passes)
{
    near_miss_run(0, 902);
    struct verdict v = check("near-miss");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    ck_assert_str_eq(R.info, "transactions=1 rounds=1 short-proof rejects=1 wrong-tx rejects=1");
}
END_TEST

START_TEST(near_miss_failures)
{
    static const struct {
        int drop, winner;
        const char *says;
    } cases[] = {
        {1, 902, "not whole hex digits"},
        {2, 902, "counts only for the open tx"},
        {3, 902, "node 2 refused 0 of 1 results"},
        {0, 900, "not won by the only valid proof"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        near_miss_run(cases[k].drop, cases[k].winner);
        struct verdict v = check("near-miss");
        ck_assert_msg(v.kind == V_SAFETY, "case %zu: %d %s", k, v.kind, v.msg);
        ck_assert_msg(strstr(v.msg, cases[k].says), "case %zu: %s", k, v.msg);
    }
}
END_TEST

/* bad-input: five refusals per node, and the challenge and result of node 999 refused as
 * not_leader. drop: the node whose result refusal is missing (-1: none). */
static void bad_input_run(int drop)
{
    char line[160];
    good_run();
    for (int i = 0; i < 3; i++) {
        for (int k = 0; k < 3; k++) {
            snprintf(line, sizeof line,
                     "node=%d ev=bad why=malformed_json topic=system/init from=-1", i);
            add(line);
        }
        snprintf(line, sizeof line, "node=%d ev=bad why=not_leader topic=system/challenge from=999",
                 i);
        add(line);
        if (i != drop) {
            snprintf(line, sizeof line,
                     "node=%d ev=bad why=not_leader topic=system/result from=999", i);
            add(line);
        } else {
            snprintf(line, sizeof line,
                     "node=%d ev=bad why=unseen_challenge topic=system/result from=999", i);
            add(line);
        }
    }
    attacked_once();
}

START_TEST(bad_input_needs_not_leader)
{
    bad_input_run(-1);
    struct verdict v = check("bad-input");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    bad_input_run(1);
    v = check("bad-input");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 1 did not refuse the result from node 999"));
    bad_input_run(-1);
    add("node=2 ev=challenge tx=4 difficulty=1 data=forged leader=999 epoch=1");
    v = check("bad-input");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 2 took the challenge or result forged"));
}
END_TEST

START_TEST(leader_vote_from_another_epoch_fails)
{
    good_run();
    add("node=1 ev=vote epoch=2 value=55");
    add("node=2 ev=vote epoch=2 value=44");
    add("node=2 ev=leader leader=1 epoch=2 vote=55 via=votes");
    struct verdict v = check("valid-winners");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    add("node=1 ev=leader leader=1 epoch=2 vote=101 via=votes"); /* its epoch-1 vote */
    v = check("valid-winners");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 1 follows node 1 with vote=101 in epoch 2"));
}
END_TEST

START_TEST(forged_leave_believed_fails)
{
    good_run();
    attacked_once();
    struct verdict v = check("forged-epoch");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    add("node=1 ev=leave peer=0 known=2");
    v = check("forged-epoch");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 1 believed the forged leave of leader 0"));
}
END_TEST

START_TEST(table_points_sum)
{
    int sum = 0;
    for (int l = 0; l < g_nlabs; l++)
        for (int t = 0; strcmp(g_labs[l]->dir, "lab7-mqtt-pow") == 0 && t < g_labs[l]->ntests; t++)
            sum += g_labs[l]->tests[t].points;
    ck_assert_int_eq(sum, 125); /* restart-missed added 5 */
}
END_TEST

int main(void)
{
    tl_lab = "lab7-mqtt-pow";
    Suite *s = suite_create("lab7");
    TCase *tc = tcase_create("checkers");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, good_log_passes);
    tcase_add_test(tc, two_leaders_fail);
    tcase_add_test(tc, leader_not_highest_vote_fails);
    tcase_add_test(tc, two_winners_fail);
    tcase_add_test(tc, fake_proof_fails);
    tcase_add_test(tc, gap_in_list_fails);
    tcase_add_test(tc, restarted_node_may_start_later);
    tcase_add_test(tc, cheater_wins_fails);
    tcase_add_test(tc, cheater_never_rejected_fails);
    tcase_add_test(tc, no_transaction_is_liveness);
    tcase_add_test(tc, too_few_bad_lines_fail);
    tcase_add_test(tc, attack_that_never_happened_is_not_a_pass);
    tcase_add_test(tc, solution_after_result_fails);
    tcase_add_test(tc, solution_in_a_new_life_passes);
    tcase_add_test(tc, near_miss_good_log_passes);
    tcase_add_test(tc, near_miss_failures);
    tcase_add_test(tc, bad_input_needs_not_leader);
    tcase_add_test(tc, leader_vote_from_another_epoch_fails);
    tcase_add_test(tc, forged_leave_believed_fails);
    tcase_add_test(tc, table_points_sum);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    run_reset(0);
    return failed ? 1 : 0;
}
