/* check_lab2.c - lab2-snapshot's checkers on hand-made logs: good logs pass, each broken one fails.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grader.h"
#include "tests/testlog.h"

/* ---- helpers (from check_grader.c) ---- */

/* ---- a good two-player snapshot, written out by hand ----
 *
 *   player 0:  send 0:1 (10) | RECORD 90 | ............ recv 1:1 (5) -> chan | marker from 1
 *   player 1:  send 1:1 (5) | recv 0:1 (10) | marker from 0 -> RECORD 105 | send 1:2 (3)
 *
 * 1:1 was sent before 1 recorded and received after 0 recorded: in transit, so it is the state
 * of channel 1->0. Total: 90 + 105 + 5 = 200 = 2 x 100.
 */
static void good(const char *chan_line, const char *total)
{
    char line[256];
    run_reset(2);
    add("node=0 ev=ready port=1 players=2 gold=100 t=1");
    add("node=1 ev=ready port=2 players=2 gold=100 t=1");
    add("node=0 ev=send msg=0:1 to=1 gold=10 have=90 t=2");
    add("node=0 ev=initiate snap=0:1 by=timer t=3");
    add("node=0 ev=record snap=0:1 gold=90 life=1 score=1 items=none t=3");
    add("node=1 ev=send msg=1:1 to=0 gold=5 have=95 t=4");
    add("node=1 ev=recv msg=0:1 from=0 gold=10 have=105 t=5");
    add("node=1 ev=marker snap=0:1 from=0 t=6");
    add("node=1 ev=record snap=0:1 gold=105 life=1 score=1 items=none t=6");
    add("node=1 ev=send msg=1:2 to=0 gold=3 have=102 t=7");
    add("node=0 ev=recv msg=1:1 from=1 gold=5 have=95 t=8");
    if (chan_line)
        add(chan_line);
    add("node=0 ev=marker snap=0:1 from=1 t=9");
    add("node=0 ev=recv msg=1:2 from=1 gold=3 have=98 t=10");
    snprintf(line, sizeof line, "node=0 ev=snapshot snap=0:1 complete=1 total=%s t=11", total);
    add(line);
}

#define CHAN "node=0 ev=chan snap=0:1 from=1 msg=1:1 gold=5 t=8"

START_TEST(good_passes_every_snapshot_test)
{
    static const char *tests[] = {"total-conserved", "consistent-cut", "slow-channels",
                                  "eight-players"};
    for (size_t k = 0; k < sizeof tests / sizeof *tests; k++) {
        good(CHAN, "200");
        expect_pass(tests[k]);
    }
}
END_TEST

START_TEST(missing_channel_message_fails)
{
    good(NULL, "195");
    expect_fail("consistent-cut", V_SAFETY, "lost a message");
    good(NULL, "195");
    expect_fail("total-conserved", V_SAFETY, "total not conserved");
}
END_TEST

/* The seed's rule: keep recording a channel after its marker arrived. */
START_TEST(message_after_marker_recorded_fails)
{
    good(CHAN, "203");
    add("node=0 ev=chan snap=0:1 from=1 msg=1:2 gold=3 t=10");
    expect_fail("consistent-cut", V_SAFETY, "sent after the sender recorded its state");
}
END_TEST

START_TEST(wrong_printed_total_fails)
{
    good(CHAN, "201");
    expect_fail("total-conserved", V_SAFETY, "initiator printed total=201");
}
END_TEST

/* An orphan: received before the receiver's record, sent after the sender's. */
START_TEST(orphan_message_fails)
{
    run_reset(2);
    add("node=0 ev=ready port=1 players=2 gold=100 t=1");
    add("node=1 ev=ready port=2 players=2 gold=100 t=1");
    add("node=0 ev=initiate snap=0:1 by=timer t=2");
    add("node=0 ev=record snap=0:1 gold=100 life=1 score=1 items=none t=2");
    add("node=0 ev=send msg=0:1 to=1 gold=10 have=90 t=3");
    add("node=1 ev=recv msg=0:1 from=0 gold=10 have=110 t=4");
    add("node=1 ev=marker snap=0:1 from=0 t=5");
    add("node=1 ev=record snap=0:1 gold=100 life=1 score=1 items=none t=5");
    add("node=0 ev=marker snap=0:1 from=1 t=6");
    add("node=0 ev=snapshot snap=0:1 complete=1 total=200 t=7");
    expect_fail("consistent-cut", V_SAFETY, "inconsistent cut");
}
END_TEST

START_TEST(unfinished_snapshot_is_liveness)
{
    good(CHAN, "200");
    add("node=0 ev=initiate snap=0:2 by=timer t=12");
    add("node=0 ev=record snap=0:2 gold=98 life=1 score=1 items=none t=12");
    expect_fail("total-conserved", V_LIVENESS, "never finished");
}
END_TEST

START_TEST(complete_without_every_record_fails)
{
    run_reset(2);
    add("node=0 ev=ready port=1 players=2 gold=100 t=1");
    add("node=0 ev=initiate snap=0:1 by=timer t=2");
    add("node=0 ev=record snap=0:1 gold=100 life=1 score=1 items=none t=2");
    add("node=0 ev=snapshot snap=0:1 complete=1 total=200 t=3");
    expect_fail("total-conserved", V_SAFETY, "player 1 never recorded");
}
END_TEST

START_TEST(phantom_receive_fails)
{
    good(CHAN, "200");
    add("node=1 ev=recv msg=0:77 from=0 gold=1 have=1 t=12");
    expect_fail("total-conserved", V_SAFETY, "never sent");
}
END_TEST

START_TEST(incomplete_without_failure_fails)
{
    good(CHAN, "200");
    add("node=0 ev=initiate snap=0:2 by=timer t=12");
    add("node=0 ev=snapshot snap=0:2 complete=0 why=peer_lost peer=1 t=13");
    expect_fail("total-conserved", V_SAFETY, "incomplete");
}
END_TEST

/* ---- crash ---- */

static void with_fault(enum fault_kind k, int node, double t)
{
    R.applied[R.napplied++] = (struct applied_fault){t, k, node};
}

/* good() plus a second snapshot 0:2 that player 2's crash (at t=20) should make incomplete. */
static void crash_log(const char *after)
{
    char line[128];
    good(CHAN, "200");
    with_fault(F_CRASH, 2, 20);
    add("node=0 ev=initiate snap=0:2 by=timer t=30");
    add("node=0 ev=record snap=0:2 gold=98 life=1 score=1 items=none t=30");
    add("node=1 ev=marker snap=0:2 from=0 t=30.5");
    add("node=1 ev=record snap=0:2 gold=102 life=1 score=1 items=none t=30.5");
    add("node=0 ev=marker snap=0:2 from=1 t=30.7");
    snprintf(line, sizeof line, "node=0 ev=snapshot snap=0:2 %s t=31", after);
    add(line);
}

START_TEST(crash_checks)
{
    crash_log("complete=0 why=peer_lost peer=2");
    expect_pass("crash-during-snapshot");
    crash_log("complete=1 total=200");
    expect_fail("crash-during-snapshot", V_SAFETY, "started after player 2 crashed");
    good(CHAN, "200");
    with_fault(F_CRASH, 2, 20);
    expect_fail("crash-during-snapshot", V_LIVENESS, "no snapshot was reported incomplete");
}
END_TEST

/* issue 13: a player that reports every snapshot incomplete, even the ones taken while every
 * player was alive, took full marks here. */
START_TEST(crash_nothing_complete_fails)
{
    run_reset(2);
    add("node=0 ev=ready port=1 players=2 gold=100 t=1");
    add("node=1 ev=ready port=2 players=2 gold=100 t=1");
    add("node=0 ev=initiate snap=0:1 by=timer t=3");
    add("node=0 ev=record snap=0:1 gold=100 life=1 score=1 items=none t=3");
    add("node=0 ev=snapshot snap=0:1 complete=0 why=peer_lost peer=-1 t=11");
    with_fault(F_CRASH, 2, 20);
    add("node=0 ev=initiate snap=0:2 by=timer t=30");
    add("node=0 ev=snapshot snap=0:2 complete=0 why=peer_lost peer=1 t=31");
    expect_fail("crash-during-snapshot", V_LIVENESS, "no snapshot completed before player 2");
    crash_log("complete=0 why=peer_lost peer=2"); /* 0:1 complete at t=11, before the crash */
    expect_pass("crash-during-snapshot");
}
END_TEST

/* ---- pause ---- */

START_TEST(pause_checks)
{
    good(CHAN, "200"); /* snapshot 0:1 ran from t=3 to t=11 */
    with_fault(F_PAUSE, 2, 2.5);
    with_fault(F_RESUME, 2, 10);
    expect_pass("paused-player");
    good(CHAN, "200");
    with_fault(F_PAUSE, 2, 1);
    with_fault(F_RESUME, 2, 2);
    expect_fail("paused-player", V_LIVENESS, "completed after it resumed");
}
END_TEST

/* ---- concurrency ---- */

/* Player 1 starts 1:1 at t0 (0:1 runs from t=3 to t=11); nothing is in transit for it. */
static void second_initiator(double t0)
{
    char line[128];
    snprintf(line, sizeof line, "node=1 ev=initiate snap=1:1 by=timer t=%.1f", t0);
    add(line);
    snprintf(line, sizeof line,
             "node=1 ev=record snap=1:1 gold=102 life=1 score=1 items=none "
             "t=%.1f",
             t0);
    add(line);
    add("node=0 ev=marker snap=1:1 from=1 t=20");
    add("node=0 ev=record snap=1:1 gold=98 life=1 score=1 items=none t=20");
    add("node=1 ev=marker snap=1:1 from=0 t=21");
    add("node=1 ev=snapshot snap=1:1 complete=1 total=200 t=22");
}

START_TEST(concurrent_checks)
{
    good(CHAN, "200");
    second_initiator(12); /* after 0:1 ended: one after another, not concurrent */
    expect_fail("concurrent-initiators", V_LIVENESS, "overlapped");
    good(CHAN, "200");
    second_initiator(7.5);
    expect_pass("concurrent-initiators");
}
END_TEST

/* ---- bad input ---- */

START_TEST(bad_input_checks)
{
    good(CHAN, "200");
    R.n = 2;
    expect_fail("bad-input", V_SAFETY, "ev=bad why=bad_magic");
    static const char *why[9] = {"bad_magic", "bad_magic", "bad_version", "bad_type", "bad_length",
                                 "no_hello",  "bad_value", "bad_hello",   "truncated"};
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 9; k++) {
            char line[96];
            snprintf(line, sizeof line, "node=%d ev=bad why=%s from=? t=1.5", i,
                     i == 1 && k == 2 ? "bad_hello" : why[k]); /* no version check on 1 */
            add(line);
        }
    /* nine ev=bad lines each, but player 1 refused the bad version only for what came after */
    expect_fail("bad-input", V_SAFETY, "player 1 logged 0 ev=bad why=bad_version");
    add("node=1 ev=bad why=bad_version from=? t=1.5");
    expect_pass("bad-input");
    add("node=1 ev=bad why=bad_magic from=? t=50"); /* nothing from player 1 after this one */
    expect_fail("bad-input", V_LIVENESS, "player 1 neither received gold");
}
END_TEST

/* ---- attacks (issue 12) ---- */

START_TEST(balance_above_supply_fails)
{
    good(CHAN, "200");
    add("node=1 ev=send msg=1:3 to=0 gold=1 have=101 t=12");
    add("node=0 ev=recv msg=1:3 from=1 gold=1 have=99 t=13");
    expect_pass("total-conserved");
    good(CHAN, "200");
    add("node=1 ev=send msg=1:3 to=0 gold=1 have=101 t=12");
    add("node=0 ev=recv msg=1:3 from=1 gold=1 have=4294967200 t=13"); /* the wrap */
    expect_fail("total-conserved", V_SAFETY, "but only 200 coins exist");
}
END_TEST

START_TEST(attack_checks)
{
    good(CHAN, "200");
    expect_fail("forged-hello", V_LIVENESS, "player 1 never joined player 0");
    add("node=1 ev=connect to=0 t=1.5");
    expect_pass("forged-hello");
    expect_pass("silent-connections");
    expect_fail("forged-xfer-flood", V_SAFETY,
                "player 0 was sent 4000 forged transfers and refused none");
    add("node=0 ev=bad why=replay from=1 msg=1:10 gold=300 have=100 t=1.6");
    expect_pass("forged-xfer-flood");
    add("node=0 ev=snapshot snap=0:2 complete=0 why=peer_lost peer=1 t=12");
    add("node=0 ev=initiate snap=0:2 by=timer t=11.5");
    expect_fail("forged-hello", V_SAFETY, "1 snapshots reported incomplete");
}
END_TEST

/* key-forged: the partition heals at 1.4; before it nobody may take a HELLO in player 1's name,
 * and player 0 logs one bad-mac per forged connection (4). */
static void key_forged_log(int bad_macs)
{
    good(CHAN, "200");
    add("node=1 ev=connect to=0 t=1.5");
    add("node=0 ev=accept from=1 t=1.45");
    for (int k = 0; k < bad_macs; k++)
        add("node=0 ev=bad why=bad-mac from=? t=1.2");
    R.applied[R.napplied++] = (struct applied_fault){1.4, F_NET, 0};
}

START_TEST(key_forged_checks)
{
    key_forged_log(4);
    expect_pass("key-forged");
    key_forged_log(3); /* one forged connection ignored silently or under another reason */
    expect_fail("key-forged", V_SAFETY, "player 0 logged 3 ev=bad why=bad-mac for the 4 forged");
    key_forged_log(4);
    add("node=0 ev=accept from=1 t=1.3"); /* a claim taken before the real player could come */
    expect_fail("key-forged", V_SAFETY, "player 0 took a HELLO in player 1's name");
    key_forged_log(4);
    R.napplied = 0;
    expect_fail("key-forged", V_HARNESS, "never healed");
}
END_TEST

/* key-wrong-key: 0 and 1 play, 2 holds another key and is refused both ways. */
static void wrong_key_log(void)
{
    run_reset(3);
    for (int i = 0; i < 3; i++) {
        char line[96];
        snprintf(line, sizeof line, "node=%d ev=ready port=%d players=3 gold=100 t=1", i, i + 1);
        add(line);
        snprintf(line, sizeof line, "node=%d ev=bad why=bad-mac from=? t=2", i);
        add(line);
    }
    add("node=0 ev=connect to=1 t=2");
    add("node=1 ev=accept from=0 t=2");
    add("node=0 ev=send msg=0:1 to=1 gold=10 have=90 t=3");
    add("node=1 ev=recv msg=0:1 from=0 gold=10 have=110 t=4");
}

START_TEST(key_wrong_key_checks)
{
    wrong_key_log();
    expect_pass("key-wrong-key");
    ck_assert_ptr_nonnull(strstr(R.info, "outsider 2 1"));
    add("node=0 ev=accept from=2 t=5");
    expect_fail("key-wrong-key", V_SAFETY, "player 0 and player 2 hold different keys");
    wrong_key_log();
    add("node=2 ev=connect to=1 t=5");
    expect_fail("key-wrong-key", V_SAFETY, "player 2 and player 1 hold different keys");
    wrong_key_log();
    add("node=1 ev=recv msg=2:1 from=2 gold=10 have=120 t=5"); /* coins from the outsider */
    expect_fail("key-wrong-key", V_SAFETY, "never sent");
}
END_TEST

static Suite *lab2_suite(void)
{
    Suite *s = suite_create("lab2");
    TCase *tc = tcase_create("checkers");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, good_passes_every_snapshot_test);
    tcase_add_test(tc, missing_channel_message_fails);
    tcase_add_test(tc, message_after_marker_recorded_fails);
    tcase_add_test(tc, wrong_printed_total_fails);
    tcase_add_test(tc, orphan_message_fails);
    tcase_add_test(tc, unfinished_snapshot_is_liveness);
    tcase_add_test(tc, complete_without_every_record_fails);
    tcase_add_test(tc, phantom_receive_fails);
    tcase_add_test(tc, incomplete_without_failure_fails);
    tcase_add_test(tc, crash_checks);
    tcase_add_test(tc, crash_nothing_complete_fails);
    tcase_add_test(tc, pause_checks);
    tcase_add_test(tc, concurrent_checks);
    tcase_add_test(tc, bad_input_checks);
    tcase_add_test(tc, balance_above_supply_fails);
    tcase_add_test(tc, attack_checks);
    tcase_add_test(tc, key_forged_checks);
    tcase_add_test(tc, key_wrong_key_checks);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    tl_lab = "lab2-snapshot";
    SRunner *sr = srunner_create(lab2_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    run_reset(0);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
