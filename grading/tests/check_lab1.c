/* check_lab1.c - lab1-lamport's checkers on hand-made logs: good logs pass, each broken one fails.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grader.h"
#include "tests/testlog.h"

#define GHOST "127.0.0.1:7999" /* R.aux_port below: the ghost member's address */
#define STRANGER "127.0.0.1:40000"

/* Three nodes in a ring, each sends once and receives once; vc= in vector mode (the lab's N is
 * 4: the ghost is member 3). */
static void ring(bool vector)
{
    static const char *lamport[] = {
        "node=0 lc=1 ev=send to=1 msg=0:1",        "node=1 lc=1 ev=send to=2 msg=1:1",
        "node=2 lc=1 ev=send to=0 msg=2:1",        "node=1 lc=2 ev=recv from=0 msg=0:1 ts=1",
        "node=2 lc=2 ev=recv from=1 msg=1:1 ts=1", "node=0 lc=2 ev=recv from=2 msg=2:1 ts=1"};
    static const char *vec[] = {"vc=[1,0,0,0]", "vc=[0,1,0,0]", "vc=[0,0,1,0]",
                                "vc=[1,2,0,0]", "vc=[0,1,2,0]", "vc=[2,0,1,0]"};
    char line[160];
    tl_reset(&R, 3);
    R.aux_port = 7999;
    for (int k = 0; k < 6; k++) {
        snprintf(line, sizeof line, "%s%s%s t=%d", lamport[k], vector ? " " : "",
                 vector ? vec[k] : "", k + 1);
        add(line);
    }
}

/* What a correct node logs for the bad-input datagrams (lab1.c bad_cases()). */
static void bad_lines(int node, bool vector, const char *skip)
{
    static const char *stranger[] = {
        "bad-magic",   "truncated", "truncated",      "trailing-bytes", "bad-magic",
        "bad-version", "bad-vlen",  "unknown-sender", "unknown-sender", "unknown-sender"};
    static const char *ghost[] = {"unknown-sender", "absurd-clock", "absurd-clock",
                                  "vlen-mismatch",  "absurd-clock", "vc-ahead"};
    char line[160];
    for (size_t k = 0; k < sizeof stranger / sizeof *stranger; k++) {
        snprintf(line, sizeof line, "node=%d ev=bad why=%s src=" STRANGER " len=20 t=10", node,
                 stranger[k]);
        add(line);
    }
    for (int k = 0; k < (vector ? 6 : 4); k++) {
        if (skip && !strcmp(ghost[k], skip)) {
            skip = NULL; /* leave out one line with this token */
            continue;
        }
        snprintf(line, sizeof line, "node=%d ev=bad why=%s src=" GHOST " len=20 t=10", node,
                 ghost[k]);
        add(line);
    }
}

static void bad_log(bool vector, int node_skipping, const char *skip)
{
    ring(vector);
    for (int i = 0; i < 3; i++)
        bad_lines(i, vector, i == node_skipping ? skip : NULL);
}

START_TEST(bad_input_good_log_passes)
{
    bad_log(false, -1, NULL);
    expect_pass("bad-input");
    bad_log(true, -1, NULL);
    expect_pass("bad-input-vector");
}
END_TEST

/* No bound: the absurd frame from the ghost is accepted, or refused for some other reason. */
START_TEST(bad_input_missing_token_fails)
{
    bad_log(false, 1, "absurd-clock");
    add("node=1 ev=bad why=unknown-sender src=" GHOST " len=20 t=11"); /* right count, wrong why */
    expect_fail("bad-input", V_SAFETY, "node 1 logged 1 ev=bad why=absurd-clock");
    bad_log(true, 2, "vc-ahead");
    expect_fail("bad-input-vector", V_SAFETY, "why=vc-ahead from a member's address");
    /* the token from a stranger's port does not count: the test is about the member's address */
    bad_log(false, 0, "vlen-mismatch");
    add("node=0 ev=bad why=vlen-mismatch src=" STRANGER " len=20 t=11");
    expect_fail("bad-input", V_SAFETY, "why=vlen-mismatch from a member's address");
}
END_TEST

/* The frame was refused, but the clock had moved already. */
START_TEST(bad_input_clock_touched_fails)
{
    bad_log(false, -1, NULL);
    add("node=0 lc=1099511627777 ev=local t=20");
    expect_fail("bad-input", V_SAFETY, "took a value from a datagram it refused");
    bad_log(true, -1, NULL);
    add("node=0 lc=3 ev=local vc=[3,0,0,3] t=20"); /* the ghost's entry: it never sent */
    expect_fail("bad-input-vector", V_SAFETY, "took a value from a datagram it refused");
}
END_TEST

START_TEST(bad_input_accepted_forgery_fails)
{
    bad_log(false, -1, NULL);
    add("node=0 lc=3 ev=recv from=3 msg=3:999999 ts=2 t=20");
    expect_fail("bad-input", V_SAFETY, "accepted a datagram the grader forged");
}
END_TEST

/* paused-node: node 1 stopped from t=100 to t=1100, done before it. A ring of messages before
 * the pause; node 0 sends node 1 msg 0:2 at t=500 (owed), which node 1 reads at t=1101
 * (drained). */
static void paused_log(bool owed, bool drained)
{
    run_reset(3);
    R.applied[R.napplied++] = (struct applied_fault){100, F_PAUSE, 1};
    R.applied[R.napplied++] = (struct applied_fault){1100, F_RESUME, 1};
    add("node=1 lc=1 ev=send to=0 msg=1:1 t=10");
    add("node=0 lc=2 ev=recv from=1 msg=1:1 ts=1 t=11");
    add("node=0 lc=3 ev=send to=2 msg=0:1 t=20");
    add("node=2 lc=4 ev=recv from=0 msg=0:1 ts=3 t=21");
    add("node=2 lc=5 ev=send to=1 msg=2:1 t=30");
    add("node=1 lc=6 ev=recv from=2 msg=2:1 ts=5 t=31");
    add("node=1 ev=done events=2 t=50");
    if (owed)
        add("node=0 lc=4 ev=send to=1 msg=0:2 t=500");
    if (owed && drained)
        add("node=1 lc=7 ev=recv from=0 msg=0:2 ts=4 t=1101");
    add("node=0 ev=done events=3 t=1200");
    add("node=2 ev=done events=2 t=1200");
}

static bool paused_until(char *why, size_t cap)
{
    return find_test("paused-node")->until(&R, why, cap);
}

START_TEST(paused_drained_passes)
{
    char why[256] = "";
    paused_log(true, true);
    expect_pass("paused-node");
    ck_assert_msg(paused_until(why, sizeof why), "%s", why);
}
END_TEST

/* Done before the pause, but owed a message sent while it was stopped: it must read it, and
 * the run does not end before it has. */
START_TEST(paused_never_drained_fails)
{
    char why[256] = "";
    paused_log(true, false);
    expect_fail("paused-node", V_LIVENESS, "did nothing after it was resumed (1 messages");
    ck_assert(!paused_until(why, sizeof why));
    ck_assert_msg(strstr(why, "sent 1 messages while it was stopped"), "%s", why);
}
END_TEST

/* Done before the pause and owed nothing: nothing to do after the resume is not a failure. */
START_TEST(paused_with_nothing_to_do_passes)
{
    char why[256] = "";
    paused_log(false, false);
    expect_pass("paused-node");
    ck_assert_msg(paused_until(why, sizeof why), "%s", why);
}
END_TEST

static Suite *lab1_suite(void)
{
    Suite *s = suite_create("lab1");
    TCase *tc = tcase_create("checkers");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, bad_input_good_log_passes);
    tcase_add_test(tc, bad_input_missing_token_fails);
    tcase_add_test(tc, bad_input_clock_touched_fails);
    tcase_add_test(tc, bad_input_accepted_forgery_fails);
    tcase_add_test(tc, paused_drained_passes);
    tcase_add_test(tc, paused_never_drained_fails);
    tcase_add_test(tc, paused_with_nothing_to_do_passes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    tl_lab = "lab1-lamport";
    SRunner *sr = srunner_create(lab1_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    tl_reset(&R, 0);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
