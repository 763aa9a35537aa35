/* check_lab3.c - lab3-bully's checkers on hand-made logs: good logs pass, each broken rule fails.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grader.h"
#include "tests/testlog.h"

static void crash(int node, double t)
{
    R.applied[R.napplied++] = (struct applied_fault){t, F_CRASH, node};
}

/* Three nodes start; 2 wins at once and tells 0 and 1. */
static void good_startup(void)
{
    run_reset(3);
    for (int i = 0; i < 3; i++) {
        char line[128];
        snprintf(line, sizeof line, "node=%d ev=ready t=%d", i, 10 + i);
        add(line);
        snprintf(line, sizeof line, "node=%d ev=election round=1 why=startup t=%d", i, 11 + i);
        add(line);
    }
    add("node=0 ev=send type=ELECTION to=1 msg=0:1 round=1 t=12");
    add("node=0 ev=send type=ELECTION to=2 msg=0:2 round=1 t=12");
    add("node=1 ev=send type=ELECTION to=2 msg=1:1 round=1 t=13");
    add("node=2 ev=leader leader=2 via=won round=1 t=13");
    add("node=2 ev=send type=COORDINATOR to=0 msg=2:1 round=1 t=13");
    add("node=2 ev=send type=COORDINATOR to=1 msg=2:2 round=1 t=13");
    add("node=0 ev=recv type=COORDINATOR from=2 msg=2:1 round=1 t=14");
    add("node=0 ev=leader leader=2 via=coordinator round=1 t=14");
    add("node=1 ev=recv type=ANSWER from=2 msg=2:3 round=1 t=14");
    add("node=1 ev=recv type=COORDINATOR from=2 msg=2:2 round=1 t=15");
    add("node=1 ev=leader leader=2 via=coordinator round=1 t=15");
}

START_TEST(startup_good_passes)
{
    good_startup();
    struct verdict v = check("startup");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    ck_assert_ptr_nonnull(strstr(R.info, "leader 2 agreed by all 3 alive nodes 5 ms"));
    ck_assert_ptr_nonnull(strstr(R.info, "5 election messages (3 ELECTION, 0 ANSWER, 2"));
}
END_TEST

/* The broken variant: 1 heard 2's ANSWER, yet declared itself leader. */
START_TEST(leader_after_answer_fails)
{
    good_startup();
    add("node=1 ev=leader leader=-1 via=suspect t=1020");
    add("node=1 ev=election round=2 why=leader-silent t=1020");
    add("node=1 ev=recv type=ANSWER from=2 msg=2:9 round=2 t=1021");
    add("node=1 ev=leader leader=1 via=won round=2 t=1022");
    add("node=1 ev=recv type=COORDINATOR from=2 msg=2:10 round=1 t=1023");
    add("node=1 ev=leader leader=2 via=coordinator round=2 t=1023");
    struct verdict v = check("startup");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 1 declared itself leader although a higher node "
                                        "had answered"));
}
END_TEST

/* An ANSWER to an older round says nothing about the current one: no failure. */
START_TEST(stale_answer_passes)
{
    good_startup();
    add("node=1 ev=leader leader=-1 via=suspect t=1020");
    add("node=1 ev=election round=2 why=leader-silent t=1020");
    add("node=1 ev=recv type=ANSWER from=2 msg=2:9 round=1 t=1021");
    add("node=1 ev=leader leader=1 via=won round=2 t=1222");
    add("node=1 ev=recv type=COORDINATOR from=2 msg=2:10 round=1 t=1223");
    add("node=1 ev=leader leader=2 via=coordinator round=2 t=1223");
    struct verdict v = check("startup");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
}
END_TEST

START_TEST(disagreement_fails)
{
    good_startup();
    add("node=0 ev=leader leader=1 via=coordinator round=1 t=1030");
    struct verdict v = check("startup");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "agreement: node 0 ended following 1, but the highest "
                                        "alive id is 2"));
}
END_TEST

START_TEST(two_leaders_fail)
{
    good_startup();
    add("node=1 ev=election round=2 why=election-from-lower t=1030");
    add("node=1 ev=leader leader=1 via=won round=2 t=1231");
    struct verdict v = check("startup");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "2 alive nodes ended believing they lead (1, 2)"));
    /* the count of self-believed leaders is reported too, when it is the only fault */
    run_reset(2);
    add("node=0 ev=ready t=1");
    add("node=0 ev=election round=1 why=startup t=1");
    add("node=1 ev=ready t=1");
    add("node=1 ev=election round=1 why=startup t=1");
    add("node=1 ev=leader leader=-1 via=suspect t=2");
    add("node=0 ev=leader leader=-1 via=suspect t=2");
    v = check("startup");
    ck_assert_int_eq(v.kind, V_LIVENESS); /* a stuck election is no wrong decision */
    ck_assert_ptr_nonnull(strstr(v.msg, "agreement: node 0 ended following -1"));
    ck_assert_ptr_nonnull(strstr(R.info, "no agreement: 0 of 2 alive nodes follow 1"));
    ck_assert_ptr_null(strstr(R.info, "agreed by all"));
}
END_TEST

START_TEST(election_downward_fails)
{
    good_startup();
    add("node=1 ev=send type=ELECTION to=0 msg=1:7 round=1 t=13");
    struct verdict v = check("startup");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 1 sent an ELECTION to node 0"));
    good_startup();
    add("node=1 ev=send type=ANSWER to=2 msg=1:7 round=1 t=13");
    v = check("startup");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 1 sent an ANSWER to node 2"));
}
END_TEST

START_TEST(following_lower_fails)
{
    good_startup();
    add("node=2 ev=leader leader=0 via=coordinator round=1 t=1030");
    struct verdict v = check("startup");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 2 followed the lower id 0"));
}
END_TEST

START_TEST(leader_without_election_fails)
{
    run_reset(2);
    add("node=0 ev=ready t=1");
    add("node=0 ev=election round=1 why=startup t=1");
    add("node=0 ev=leader leader=1 via=coordinator round=1 t=2");
    add("node=1 ev=ready t=1");
    add("node=1 ev=leader leader=1 via=won round=0 t=1");
    struct verdict v = check("startup");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 1 took a leader before holding any election"));
}
END_TEST

/* With 2 crashed, 1 is the highest alive: following 1 passes, still following 2 fails. */
START_TEST(crashed_leader_is_replaced)
{
    good_startup();
    crash(2, 1050);
    add("node=0 ev=leader leader=-1 via=suspect t=1060");
    add("node=0 ev=election round=2 why=leader-silent t=1060");
    add("node=0 ev=send type=ELECTION to=1 msg=0:3 round=2 t=1060");
    add("node=0 ev=send type=ELECTION to=2 msg=0:4 round=2 t=1060");
    add("node=1 ev=recv type=ELECTION from=0 msg=0:3 round=2 t=1061");
    add("node=1 ev=send type=ANSWER to=0 msg=1:2 round=2 t=1061");
    add("node=1 ev=election round=2 why=election-from-lower t=1061");
    add("node=1 ev=send type=ELECTION to=2 msg=1:3 round=2 t=1061");
    add("node=0 ev=recv type=ANSWER from=1 msg=1:2 round=2 t=1062");
    struct verdict v = check("leader-killed");
    /* node 0 still has no leader, 1 still follows the dead 2: stalled, not wrong */
    ck_assert_int_eq(v.kind, V_LIVENESS);
    ck_assert_ptr_nonnull(strstr(v.msg, "highest alive id is 1"));
    ck_assert_ptr_nonnull(strstr(R.info, "no agreement: 0 of 2 alive nodes follow 1"));
    add("node=1 ev=leader leader=1 via=won round=2 t=1270");
    add("node=1 ev=send type=COORDINATOR to=0 msg=1:4 round=2 t=1270");
    add("node=0 ev=leader leader=1 via=coordinator round=2 t=1271");
    v = check("leader-killed");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    ck_assert_ptr_nonnull(strstr(R.info, "leader 1 agreed by all 2 alive nodes 221 ms"));
    ck_assert_ptr_nonnull(strstr(R.info, "5 election messages (3 ELECTION, 1 ANSWER, 1 COORD"));
    ck_assert_ptr_nonnull(strstr(R.info, "n=3: best n-1=2, worst (n-1)^2+n-2=5"));
}
END_TEST

/* 1 wins 50 ms after its election began, with --answer-timeout 200: it did not wait. */
START_TEST(victory_before_answer_timeout_fails)
{
    good_startup();
    add("node=1 ev=leader leader=-1 via=suspect t=1020");
    add("node=1 ev=election round=2 why=leader-silent t=1020");
    add("node=1 ev=send type=ELECTION to=2 msg=1:5 round=2 t=1020");
    add("node=1 ev=leader leader=1 via=won round=2 t=1070");
    add("node=1 ev=recv type=COORDINATOR from=2 msg=2:10 round=1 t=1080");
    add("node=1 ev=leader leader=2 via=coordinator round=2 t=1080");
    struct verdict v = check("startup");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 1 declared itself leader 50 ms after"));
    /* the same after the whole 200 ms (less the clock's grain) passes */
    good_startup();
    add("node=1 ev=leader leader=-1 via=suspect t=1020");
    add("node=1 ev=election round=2 why=leader-silent t=1020.5");
    add("node=1 ev=leader leader=1 via=won round=2 t=1219");
    add("node=1 ev=recv type=COORDINATOR from=2 msg=2:10 round=1 t=1230");
    add("node=1 ev=leader leader=2 via=coordinator round=2 t=1230");
    v = check("startup");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
}
END_TEST

/* 2 got 0's ELECTION while it led and never answered it: fails once 2 lived on 50 ms. */
START_TEST(unanswered_election_fails)
{
    good_startup();
    add("node=2 ev=recv type=ELECTION from=0 msg=0:7 round=2 t=1300");
    add("node=2 ev=send type=COORDINATOR to=0 msg=2:9 round=1 t=1300");
    struct verdict v = check("startup");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg); /* may have died before it could */
    add("node=2 ev=send type=HEARTBEAT to=0 msg=2:10 round=1 t=1400");
    v = check("startup");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 2 received an ELECTION from the lower node 0 and "
                                        "never sent it an ANSWER"));
    good_startup();
    add("node=2 ev=recv type=ELECTION from=0 msg=0:7 round=2 t=1300");
    add("node=2 ev=send type=ANSWER to=0 msg=2:8 round=2 t=1300");
    add("node=2 ev=send type=HEARTBEAT to=0 msg=2:10 round=1 t=1400");
    v = check("startup");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
}
END_TEST

/* leader-killed among 3 nodes: the worst case is 5 messages, so more than 10 fails. */
START_TEST(message_bound_enforced)
{
    char line[128];
    good_startup();
    crash(2, 1050);
    add("node=0 ev=leader leader=-1 via=suspect t=1060");
    add("node=0 ev=election round=2 why=leader-silent t=1060");
    add("node=1 ev=election round=2 why=election-from-lower t=1061");
    add("node=1 ev=leader leader=1 via=won round=2 t=1270");
    add("node=0 ev=leader leader=1 via=coordinator round=2 t=1271");
    for (int k = 0; k < 10; k++) {
        snprintf(line, sizeof line, "node=0 ev=send type=ELECTION to=1 msg=0:%d round=2 t=%d",
                 10 + k, 1060 + k);
        add(line);
    }
    struct verdict v = check("leader-killed");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg); /* 10 = 2 x 5: still within the bound */
    add("node=1 ev=send type=ANSWER to=0 msg=1:9 round=2 t=1080");
    v = check("leader-killed");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "message bound: 11 ELECTION/ANSWER/COORDINATOR"));
    v = check("loss-20"); /* under loss the textbook bound does not apply */
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
}
END_TEST

/* --leader-timeout 600: 0 follows 2 from t=14; heartbeats at 400 and 800; suspecting at 1000 is
 * too soon (200 ms after the last one), at 1400 it is right. */
START_TEST(early_suspicion_fails)
{
    good_startup();
    add("node=0 ev=recv type=HEARTBEAT from=2 msg=2:20 round=1 t=400");
    add("node=0 ev=recv type=HEARTBEAT from=2 msg=2:21 round=1 t=800");
    add("node=0 ev=leader leader=-1 via=suspect t=1000");
    add("node=0 ev=election round=2 why=leader-silent t=1000");
    add("node=0 ev=leader leader=2 via=coordinator round=1 t=1010");
    struct verdict v = check("startup");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 0 gave up on its leader 2 only 200 ms after"));
    good_startup();
    add("node=0 ev=recv type=HEARTBEAT from=2 msg=2:20 round=1 t=400");
    add("node=0 ev=recv type=HEARTBEAT from=2 msg=2:21 round=1 t=800");
    add("node=0 ev=leader leader=-1 via=suspect t=1400");
    add("node=0 ev=election round=2 why=leader-silent t=1400");
    add("node=0 ev=leader leader=2 via=coordinator round=1 t=1410");
    v = check("startup");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
}
END_TEST

START_TEST(no_view_is_liveness)
{
    run_reset(1);
    add("node=0 ev=ready t=1");
    struct verdict v = check("startup");
    ck_assert_int_eq(v.kind, V_LIVENESS);
}
END_TEST

/* The end condition: every running node follows the highest running id, for long enough. */
START_TEST(until_needs_stable_agreement)
{
    char why[256], line[128];
    double old = mono_ms() - 5000, now = mono_ms();
    const struct gtest *t = find_test("startup");
    run_reset(2);
    for (int i = 0; i < 2; i++)
        R.node[i].pid = 12345 + i, R.node[i].ready = true;
    snprintf(line, sizeof line, "node=0 ev=leader leader=1 via=coordinator round=1 t=%.3f", old);
    add(line);
    ck_assert(!t->until(&R, why, sizeof why));
    ck_assert_ptr_nonnull(strstr(why, "node 1 follows -2"));
    snprintf(line, sizeof line, "node=1 ev=leader leader=1 via=won round=1 t=%.3f", now);
    add(line);
    ck_assert(!t->until(&R, why, sizeof why)); /* agreed, but only just now */
    ck_assert_ptr_nonnull(strstr(why, "only for"));
    R.node[1].ev[0].t = old;
    ck_assert_msg(t->until(&R, why, sizeof why), "%s", why);
    R.node[1].pid = 0; /* 1 died: 0 must now follow itself */
    ck_assert(!t->until(&R, why, sizeof why));
    ck_assert_ptr_nonnull(strstr(why, "not the highest alive id 0"));
}
END_TEST

START_TEST(bad_input_needs_every_bad_line)
{
    run_reset(5);
    crash(0, 1), crash(4, 1);
    R.applied[R.napplied++] = (struct applied_fault){100, F_CALL, 1};
    for (int i = 1; i <= 3; i++) {
        char line[128];
        snprintf(line, sizeof line, "node=%d ev=ready t=0", i);
        add(line);
        snprintf(line, sizeof line, "node=%d ev=election round=1 why=startup t=0", i);
        add(line);
        snprintf(line, sizeof line, "node=%d ev=leader leader=4 via=coordinator round=1 t=101", i);
        add(line);
        snprintf(line, sizeof line, "node=%d ev=leader leader=3 via=%s round=1 t=200", i,
                 i == 3 ? "won" : "coordinator");
        add(line);
        for (int k = 0; k < 13 - (i == 2); k++) {
            snprintf(line, sizeof line, "node=%d ev=bad why=bad-magic src=127.0.0.1:9 len=3 t=100",
                     i);
            add(line);
        }
    }
    struct verdict v = check("bad-input");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 2 logged 12 ev=bad lines for the 13"));
    add("node=2 ev=bad why=unknown-id src=127.0.0.1:9 len=16 t=100");
    v = check("bad-input");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
}
END_TEST

/* key-forged-leader: 4 leads, is killed at 1000, forgeries at 1200 and 1350, 3 takes over; every
 * node logs FORGED_PER_CALL (4) bad-mac lines per injection. */
static void forged_leader_log(int missing_bad_mac)
{
    run_reset(5);
    for (int i = 0; i < 5; i++) {
        char line[160];
        snprintf(line, sizeof line, "node=%d ev=ready t=0", i);
        add(line);
        snprintf(line, sizeof line, "node=%d ev=election round=1 why=startup t=1", i);
        add(line);
        snprintf(line, sizeof line, "node=%d ev=leader leader=4 via=%s round=1 t=5", i,
                 i == 4 ? "won" : "coordinator");
        add(line);
        if (i == 4)
            continue;
        snprintf(line, sizeof line, "node=%d ev=recv type=HEARTBEAT from=4 msg=4:9 round=1 t=990",
                 i);
        add(line);
        for (int k = i == missing_bad_mac; k < 8; k++) {
            snprintf(line, sizeof line, "node=%d ev=bad why=bad-mac src=127.0.0.1:9 len=56 t=%d", i,
                     k < 4 ? 1201 : 1351);
            add(line);
        }
        snprintf(line, sizeof line, "node=%d ev=leader leader=3 via=%s round=2 t=1700", i,
                 i == 3 ? "won" : "coordinator");
        if (i == 3)
            add("node=3 ev=election round=2 why=leader-silent t=1450");
        add(line);
    }
    crash(4, 1000);
    R.applied[R.napplied++] = (struct applied_fault){1200, F_CALL, 4};
    R.applied[R.napplied++] = (struct applied_fault){1350, F_CALL, 4};
}

static void good_forged_leader(void)
{
    forged_leader_log(-1);
}

START_TEST(forged_leader_refused_passes)
{
    good_forged_leader();
    struct verdict v = check("key-forged-leader");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
}
END_TEST

/* A forged heartbeat believed after the forgeries began fails, even though 3 wins in the end. */
START_TEST(forged_leader_believed_fails)
{
    good_forged_leader();
    add("node=1 ev=recv type=HEARTBEAT from=4 msg=4:999999 round=1 t=1360");
    struct verdict v = check("key-forged-leader");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 1 believed a frame in the dead leader 4's name"));
}
END_TEST

/* One forgery without its bad-mac line (ignored silently, or counted under another reason). */
START_TEST(forged_leader_needs_every_bad_mac)
{
    forged_leader_log(2);
    struct verdict v = check("key-forged-leader");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 2 logged 7 ev=bad why=bad-mac for the 8"));
}
END_TEST

/* key-wrong-key: 4 holds another key and leads itself; 0-3 elect 3 and refuse 4's frames. */
static void good_outsider(void)
{
    run_reset(5);
    for (int i = 0; i < 5; i++) {
        char line[160];
        snprintf(line, sizeof line, "node=%d ev=ready t=0", i);
        add(line);
        snprintf(line, sizeof line, "node=%d ev=election round=1 why=startup t=1", i);
        add(line);
        snprintf(line, sizeof line, "node=%d ev=leader leader=%d via=%s round=1 t=300", i,
                 i == 4 ? 4 : 3, i >= 3 ? "won" : "coordinator");
        add(line);
        if (i < 4) {
            snprintf(line, sizeof line, "node=%d ev=bad why=bad-mac src=127.0.0.1:9 len=56 t=5", i);
            add(line);
        }
    }
}

START_TEST(outsider_refused_passes)
{
    good_outsider();
    struct verdict v = check("key-wrong-key");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    ck_assert_ptr_nonnull(strstr(R.info, "nodes 0-3 (group key) logged 4 ev=bad why=bad-mac"));
}
END_TEST

START_TEST(outsider_believed_fails)
{
    good_outsider();
    add("node=2 ev=leader leader=4 via=coordinator round=1 t=400");
    struct verdict v = check("key-wrong-key");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 2 believed node 4, which holds another key"));
}
END_TEST

int main(void)
{
    tl_lab = "lab3-bully";
    Suite *s = suite_create("lab3");
    TCase *tc = tcase_create("checkers");
    tcase_add_test(tc, startup_good_passes);
    tcase_add_test(tc, leader_after_answer_fails);
    tcase_add_test(tc, stale_answer_passes);
    tcase_add_test(tc, disagreement_fails);
    tcase_add_test(tc, two_leaders_fail);
    tcase_add_test(tc, following_lower_fails);
    tcase_add_test(tc, election_downward_fails);
    tcase_add_test(tc, leader_without_election_fails);
    tcase_add_test(tc, crashed_leader_is_replaced);
    tcase_add_test(tc, victory_before_answer_timeout_fails);
    tcase_add_test(tc, message_bound_enforced);
    tcase_add_test(tc, unanswered_election_fails);
    tcase_add_test(tc, early_suspicion_fails);
    tcase_add_test(tc, no_view_is_liveness);
    tcase_add_test(tc, until_needs_stable_agreement);
    tcase_add_test(tc, bad_input_needs_every_bad_line);
    tcase_add_test(tc, forged_leader_refused_passes);
    tcase_add_test(tc, forged_leader_believed_fails);
    tcase_add_test(tc, forged_leader_needs_every_bad_mac);
    tcase_add_test(tc, outsider_refused_passes);
    tcase_add_test(tc, outsider_believed_fails);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    run_reset(0);
    return failed ? 1 : 0;
}
