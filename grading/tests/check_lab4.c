/* check_lab4.c - lab4-heartbeat's checkers on hand-made logs: each good log must pass, each
 * log with a broken detector must fail with the property named. */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grader.h"
#include "tests/testlog.h"

/* The harness gives every node a port; the checkers name nodes by theirs (127.0.0.1:700<i>). */
static void reset_ports(int n)
{
    run_reset(n);
    for (int i = 0; i < n; i++)
        R.node[i].port = 7000 + i;
}

static void fault(double t, enum fault_kind k, int node)
{
    R.applied[R.napplied++] = (struct applied_fault){t, k, node};
}

/* ---- the P2P registry (test "completeness": timeout 500, interval 100, W = 1000 ms) ---- */

static void status(int o, int p, const char *st, double t, const char *id)
{
    addf("node=%d ev=status peer=127.0.0.1:%d status=%s id=%s was=X t=%.0f", o, 7000 + p, st, id,
         t);
}

/* Three nodes up at 0..2 ms, all seeing each other at 100. */
static void three_up(void)
{
    reset_ports(3);
    for (int i = 0; i < 3; i++)
        addf("node=%d ev=ready id=u%d t=%d", i, i, i);
    for (int o = 0; o < 3; o++)
        for (int p = 0; p < 3; p++)
            if (o != p)
                status(o, p, "ALIVE", 100, p == 0 ? "u0" : p == 1 ? "u1" : "u2");
}

/* The same, and node 2 crashes at 1000. */
static void three_nodes(void)
{
    three_up();
    fault(1000, F_CRASH, 2);
}

START_TEST(peers_good)
{
    three_nodes();
    status(0, 2, "TIMEOUT", 1550, "u2");
    status(1, 2, "TIMEOUT", 1590, "u2");
    expect_pass("completeness");
    ck_assert_ptr_nonnull(strstr(R.info, "detection ms min/median/max 550/590/590 (2)"));
}
END_TEST

START_TEST(peers_false_suspicion)
{
    three_nodes();
    status(0, 2, "TIMEOUT", 1550, "u2");
    status(1, 2, "TIMEOUT", 1590, "u2");
    status(0, 1, "TIMEOUT", 1500, "u1"); /* node 1 never stopped */
    expect_fail("completeness", V_SAFETY, "accuracy violated: node 0 marked node 1 TIMEOUT");
}
END_TEST

/* Node 1 was never stopped by the grader, but says it was descheduled 700 ms (ev=stalled): node
 * 0, which heard nothing from it for 600 ms >= --timeout 500, is right to mark it TIMEOUT. Not
 * when node 0 fired before its timeout ran out, nor when node 1 was running all along. */
static void starved(int silent_ms, bool stalled)
{
    three_nodes();
    status(0, 2, "TIMEOUT", 1550, "u2");
    status(1, 2, "TIMEOUT", 1590, "u2");
    if (stalled)
        add("node=1 ev=stalled ms=700 t=1700");
    addf("node=0 ev=status peer=127.0.0.1:7001 status=TIMEOUT id=u1 was=ALIVE silent_ms=%d "
         "t=1600",
         silent_ms);
    status(0, 1, "ALIVE", 1750, "u1"); /* heard again once it ran */
}

START_TEST(peers_starved_peer_is_not_a_false_suspicion)
{
    starved(600, true);
    expect_pass("completeness");
    starved(300, true); /* fired before the timeout: still a false suspicion */
    expect_fail("completeness", V_SAFETY, "accuracy violated: node 0 marked node 1 TIMEOUT");
    starved(600, false); /* node 1 was running */
    expect_fail("completeness", V_SAFETY, "accuracy violated: node 0 marked node 1 TIMEOUT");
}
END_TEST

/* A peer never heard from and suspected during start-up is not judged; later it is. */
START_TEST(peers_unknown_at_startup)
{
    three_nodes();
    R.t_ready = 50;
    status(0, 2, "TIMEOUT", 1550, "u2");
    status(1, 2, "TIMEOUT", 1590, "u2");
    add("node=1 ev=status peer=127.0.0.1:7000 status=TIMEOUT id=- was=UNKNOWN t=1040");
    add("node=1 ev=status peer=127.0.0.1:7000 status=ALIVE id=u0 was=TIMEOUT t=1045");
    expect_pass("completeness");
    add("node=1 ev=status peer=127.0.0.1:7000 status=TIMEOUT id=- was=UNKNOWN t=1100");
    add("node=1 ev=status peer=127.0.0.1:7000 status=ALIVE id=u0 was=TIMEOUT t=1105");
    expect_fail("completeness", V_SAFETY, "accuracy violated: node 1 marked node 0 TIMEOUT");
}
END_TEST

/* detection-floor: timeout 2000, interval 100, so L = 2000 - 100 - 400 = 1500 ms. A TIMEOUT
 * 200 ms after the crash at 4000 (the first missed beat) is too early; 1600 ms is fine. */
START_TEST(peers_early_detection)
{
    three_up();
    fault(4000, F_CRASH, 2);
    status(0, 2, "TIMEOUT", 5600, "u2");
    status(1, 2, "TIMEOUT", 6000, "u2");
    expect_pass("detection-floor");
    three_up();
    fault(4000, F_CRASH, 2);
    status(0, 2, "TIMEOUT", 5600, "u2");
    status(1, 2, "TIMEOUT", 4200, "u2");
    expect_fail("detection-floor", V_SAFETY,
                "accuracy violated: node 1 marked node 2 TIMEOUT only 200 ms after it went down");
    three_nodes(); /* the crash at 1000 is less than W after the start: judged all the same */
    status(0, 2, "TIMEOUT", 1082, "u2");
    status(1, 2, "TIMEOUT", 2600, "u2");
    expect_fail("detection-floor", V_SAFETY,
                "accuracy violated: node 0 marked node 2 TIMEOUT only 82 ms after it went down");
    three_up(); /* timeout 500, interval 100: no floor, 200 ms is possible there */
    fault(4000, F_CRASH, 2);
    status(0, 2, "TIMEOUT", 4500, "u2");
    status(1, 2, "TIMEOUT", 4200, "u2");
    expect_pass("completeness");
}
END_TEST

START_TEST(peers_late_detection)
{
    three_nodes();
    status(0, 2, "TIMEOUT", 1550, "u2");
    status(1, 2, "TIMEOUT", 2100, "u2"); /* after 1000 + W */
    expect_fail("completeness", V_LIVENESS, "completeness violated: node 2 was crashed");
}
END_TEST

START_TEST(peers_never_converged)
{
    three_nodes();
    status(0, 2, "TIMEOUT", 1550, "u2");
    status(1, 2, "TIMEOUT", 1590, "u2");
    expect_pass("completeness");
    status(0, 1, "TIMEOUT", 300, "u1"); /* early (node 1 up < W): not a false suspicion... */
    expect_fail("completeness", V_LIVENESS,
                "node 1 was up at the end (since 1 ms into the run) but "
                "node 0's registry still has it TIMEOUT"); /* ...but stale */
}
END_TEST

START_TEST(peers_never_detected)
{
    three_nodes();
    status(0, 2, "TIMEOUT", 1550, "u2");
    expect_fail("completeness", V_LIVENESS, "node 1 still had it ALIVE");
}
END_TEST

/* Node 2 restarts at 3000, ready at 3010: ALIVE again with a new id. */
static void restarted(const char *new_id)
{
    three_nodes();
    status(0, 2, "TIMEOUT", 1550, "u2");
    status(1, 2, "TIMEOUT", 1590, "u2");
    fault(3000, F_RESTART, 2);
    char line[128];
    snprintf(line, sizeof line, "node=2 ev=ready id=%s t=3010", new_id);
    add_life(line, 1);
}

START_TEST(restart_good)
{
    restarted("v2");
    status(0, 2, "ALIVE", 3100, "v2");
    status(1, 2, "ALIVE", 3050, "v2");
    expect_pass("restart");
    ck_assert_ptr_nonnull(strstr(R.info, "recovery ms min/median/max 40/90/90"));
}
END_TEST

START_TEST(restart_same_id)
{
    restarted("u2");
    status(0, 2, "ALIVE", 3100, "u2");
    status(1, 2, "ALIVE", 3050, "u2");
    expect_fail("restart", V_SAFETY, "a new incarnation needs a new id");
}
END_TEST

START_TEST(restart_never_alive)
{
    restarted("v2");
    status(0, 2, "ALIVE", 3100, "v2");
    expect_fail("restart", V_LIVENESS, "recovery missing: node 2 was up again");
}
END_TEST

/* A pause: node 1 stopped at 1000, resumed at 2500; suspected meanwhile, then ALIVE. */
START_TEST(pause_good_and_bad)
{
    three_up();
    fault(1000, F_PAUSE, 1);
    fault(2500, F_RESUME, 1);
    status(0, 1, "TIMEOUT", 1500, "u1");
    status(2, 1, "TIMEOUT", 1500, "u1");
    status(0, 1, "ALIVE", 2501, "u1");
    status(2, 1, "ALIVE", 2502, "u1");
    expect_pass("paused-node");
    status(1, 0, "TIMEOUT", 2600, "u0"); /* the paused node blames the others for its pause */
    expect_fail("paused-node", V_SAFETY, "accuracy violated: node 1 marked node 0 TIMEOUT");
}
END_TEST

/* ---- bad input and load ---- */

START_TEST(bad_input_needs_every_bad_event)
{
    three_nodes();
    status(0, 2, "TIMEOUT", 1550, "u2");
    status(1, 2, "TIMEOUT", 1590, "u2");
    const char *whys[] = {"line-too-long", "slow-line", "not-heartbeat", "json-syntax"};
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 4; k++)
            addf("node=%d ev=bad why=%s from=127.0.0.1:5 t=%d", i, whys[k], 400 + k);
    expect_pass("bad-input");
    reset_ports(3); /* the same without the slow-line events of node 1 */
    three_nodes();
    status(0, 2, "TIMEOUT", 1550, "u2");
    status(1, 2, "TIMEOUT", 1590, "u2");
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 4; k++)
            if (i == 0 || k != 1)
                addf("node=%d ev=bad why=%s from=127.0.0.1:5 t=%d", i, whys[k], 400 + k);
    expect_fail("bad-input", V_SAFETY, "node 1 logged no ev=bad why=slow-line");
    /* --line-timeout 1000: a slow-line close 1300 ms after the injection passes, 5000 fails */
    three_nodes();
    status(0, 2, "TIMEOUT", 1550, "u2");
    status(1, 2, "TIMEOUT", 1590, "u2");
    fault(100, F_CALL, 0);
    fault(100, F_CALL, 1);
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 4; k++)
            addf("node=%d ev=bad why=%s from=127.0.0.1:5 t=%d", i, whys[k],
                 k != 1   ? 400 + k
                 : i == 0 ? 1400
                          : 5100);
    expect_fail(
        "bad-input", V_LIVENESS,
        "node 1 closed the connection whose line never ended (one byte sent) 5000 ms after");
    R.node[1].ev[R.node[1].n - 3].t = 1400;
    expect_pass("bad-input");
}
END_TEST

static void loaded(bool unflag, bool early)
{
    three_up();
    for (int o = 0; early && o < 2; o++)
        addf("node=%d ev=load peer=127.0.0.1:7002 load=0.95 threshold=0.80 overloaded=1 t=500", o);
    fault(800, F_INPUT, 2);
    add("node=2 ev=own_load load=0.95 t=801");
    fault(2000, F_INPUT, 2);
    add("node=2 ev=own_load load=0.20 t=2001");
    for (int o = 0; o < 2; o++) {
        if (!early)
            addf("node=%d ev=load peer=127.0.0.1:7002 load=0.95 threshold=0.80 overloaded=1 "
                 "t=900",
                 o);
        if (unflag)
            addf("node=%d ev=load peer=127.0.0.1:7002 load=0.20 threshold=0.80 overloaded=0 "
                 "t=2100",
                 o);
        addf("node=%d ev=registry alive=2 timeout=0 unknown=0 t=3000", o);
    }
}

/* Node 2 logs load 0.95 at `up` and 0.2 at `down`; nobody flags it. */
static void unflagged_window(double up, double down)
{
    three_up();
    fault(800, F_INPUT, 2);
    fault(2000, F_INPUT, 2);
    addf("node=2 ev=own_load load=0.95 t=%.0f", up);
    addf("node=2 ev=own_load load=0.20 t=%.0f", down);
    for (int o = 0; o < 2; o++)
        addf("node=%d ev=registry alive=2 timeout=0 unknown=0 t=3000", o);
}

/* Node 2 read both `load` commands late and 77 ms apart (Valgrind): nobody had to see 0.95. A
 * window of 1200 ms that nobody flags still fails. */
START_TEST(load_window_too_short_to_see)
{
    unflagged_window(2500, 2577);
    expect_pass("load-threshold");
    ck_assert_msg(strstr(R.info, "for only 77 ms"), "%s", R.info);
    unflagged_window(801, 2001); /* 1200 ms, but node 2 was stalled 1100 of them */
    add("node=2 ev=stalled ms=1100 t=1950");
    expect_pass("load-threshold");
    ck_assert_msg(strstr(R.info, "for only 100 ms"), "%s", R.info);
    unflagged_window(801, 2001);
    expect_fail("load-threshold", V_LIVENESS, "node 0 never flagged node 2 overloaded");
}
END_TEST

START_TEST(load_flags)
{
    loaded(true, false);
    expect_pass("load-threshold");
    loaded(false, false);
    expect_fail("load-threshold", V_LIVENESS, "kept node 2 flagged");
    loaded(true, true);
    expect_fail("load-threshold", V_SAFETY, "node 0 flagged node 2 overloaded before");
}
END_TEST

/* ---- Q4 (test "monitor-failover": timeout 300, worker interval 50, W = 750 ms) ---- */

/* Monitor 0, workers 1 and 2 ready at 5; orders every 100 ms. */
static void q4(void)
{
    reset_ports(3);
    add("node=0 ev=ready role=monitor t=0");
    add("node=1 ev=ready role=worker t=5");
    add("node=2 ev=ready role=worker t=5");
    add("node=0 ev=joined worker=1 to=1 t=6");
    add("node=0 ev=joined worker=2 to=1 t=6");
    add("node=0 ev=order id=1 to=1 t=900");
    fault(1000, F_CRASH, 1);
    add("node=0 ev=failed worker=1 to=2 t=1320");
    add("node=0 ev=order id=2 to=2 t=1400");
    fault(2000, F_CRASH, 2);
    add("node=0 ev=failed worker=2 to=none t=2310");
    add("node=0 ev=critical why=no-alive-worker workers=2 t=2310");
    add("node=0 ev=order id=3 to=none t=2400");
}

/* The monitor's last accepted beat from worker 1 came at 1000: failing it at 1150 is before
 * its timeout of 300 ran out; at 1320 (as in q4()) it is right. */
START_TEST(q4_failed_before_timeout)
{
    q4();
    expect_pass("monitor-failover");
    reset_ports(3);
    add("node=0 ev=ready role=monitor t=0");
    add("node=1 ev=ready role=worker t=5");
    add("node=2 ev=ready role=worker t=5");
    add("node=0 ev=joined worker=1 to=1 t=6");
    add("node=0 ev=joined worker=2 to=1 t=6");
    add("node=0 ev=recv from=1 msg=1:20 t=1000");
    fault(1000, F_CRASH, 1);
    add("node=0 ev=failed worker=1 to=2 t=1150");
    expect_fail("monitor-failover", V_SAFETY,
                "the monitor reported worker 1 failed 150 ms after the last beat it accepted");
    R.node[0].ev[R.node[0].n - 1].t = 1320; /* no longer this reason (others may still object) */
    struct verdict v = check("monitor-failover");
    ck_assert_ptr_null(strstr(v.msg, "after the last beat it accepted"));
}
END_TEST

START_TEST(q4_good)
{
    q4();
    expect_pass("monitor-failover");
    ck_assert_ptr_nonnull(strstr(R.info, "failure detection ms min/median/max 310/320/320 (2)"));
}
END_TEST

START_TEST(q4_wrong_target)
{
    q4();
    add("node=0 ev=order id=4 to=2 t=2500"); /* 2 died 500 ms ago... still allowed (< W) */
    expect_pass("monitor-failover");
    add("node=0 ev=order id=5 to=2 t=3000"); /* ...but not 1000 ms after */
    expect_fail("monitor-failover", V_SAFETY, "failover violated");
}
END_TEST

START_TEST(q4_higher_id_while_lower_alive)
{
    q4();
    add("node=0 ev=order id=9 to=2 t=800"); /* worker 1 is alive and lower */
    expect_fail("monitor-failover", V_SAFETY, "failover violated");
}
END_TEST

START_TEST(q4_missing_critical)
{
    reset_ports(2);
    add("node=0 ev=ready role=monitor t=0");
    add("node=1 ev=ready role=worker t=5");
    fault(1000, F_CRASH, 1);
    add("node=0 ev=failed worker=1 to=none t=1300");
    expect_fail("monitor-failover", V_LIVENESS, "did not report ev=critical");
}
END_TEST

START_TEST(q4_false_failure_and_early_critical)
{
    q4();
    add("node=0 ev=failed worker=2 to=none t=1500"); /* 2 was alive */
    expect_fail("monitor-failover", V_SAFETY, "accuracy violated: the monitor reported worker 2");
    q4();
    add("node=0 ev=critical why=no-alive-worker workers=2 t=1500");
    expect_fail("monitor-failover", V_SAFETY, "critical reported");
}
END_TEST

/* A worker the grader never stopped, but whose own beats stopped for longer than the timeout
 * (a stalled process): the monitor is right to report it. Beats 50 ms apart are not silence. */
START_TEST(q4_silent_worker_is_not_a_false_failure)
{
    q4();
    for (int t = 10; t <= 1100; t += 50)
        addf("node=2 ev=send to=0 msg=2:%d t=%d", t / 50, t);
    add("node=2 ev=send to=0 msg=2:99 t=1560"); /* 450 ms without a beat (timeout 300) */
    add("node=0 ev=failed worker=2 to=none t=1500");
    add("node=0 ev=critical why=no-alive-worker workers=2 t=1500");
    add("node=0 ev=recovered worker=2 to=2 t=1561");
    expect_pass("monitor-failover");
    ck_assert_msg(strstr(R.info, "itself silent > timeout 1"), "%s", R.info);
    q4();
    for (int t = 10; t <= 1500; t += 50) /* beating all along, up to 10 ms before the report */
        addf("node=2 ev=send to=0 msg=2:%d t=%d", t / 50, t);
    add("node=0 ev=failed worker=2 to=none t=1500");
    expect_fail("monitor-failover", V_SAFETY, "accuracy violated: the monitor reported worker 2");
}
END_TEST

START_TEST(q4_never_recovered)
{
    q4();
    fault(3000, F_RESTART, 1);
    add_life("node=1 ev=ready role=worker t=3010", 1);
    expect_fail("monitor-failover", V_LIVENESS, "no ev=recovered worker=1");
    add("node=0 ev=recovered worker=1 to=1 t=3060");
    expect_pass("monitor-failover");
}
END_TEST

/* ---- attacks on the monitor (tests "monitor-forged-beats", "monitor-flood") ---- */

/* Monitor 0, workers 1 and 2; worker 2 killed at 1000 and reported failed at 1320. */
static void q4_forged(void)
{
    reset_ports(3);
    add("node=0 ev=ready role=monitor t=0");
    add("node=1 ev=ready role=worker t=5");
    add("node=2 ev=ready role=worker t=5");
    add("node=0 ev=joined worker=1 to=1 t=6");
    add("node=0 ev=joined worker=2 to=1 t=6");
    add("node=0 ev=order id=1 to=1 t=900");
    fault(1000, F_CRASH, 2);
    add("node=0 ev=failed worker=2 to=1 t=1320");
    add("node=0 ev=order id=2 to=1 t=1400");
}

START_TEST(forged_beats_must_not_revive)
{
    q4_forged();
    add("node=0 ev=bad why=wrong-source from=127.0.0.1:9 worker=2 t=1500");
    expect_pass("monitor-forged-beats");
    add("node=0 ev=recovered worker=2 to=1 t=1500"); /* nobody restarted it */
    expect_fail("monitor-forged-beats", V_SAFETY, "forged beats revived a dead worker: worker 2");
    q4_forged();
    add("node=0 ev=joined worker=2 to=1 t=1600");
    expect_fail("monitor-forged-beats", V_SAFETY, "forged beats revived a dead worker");
}
END_TEST

/* The late worker's own log says when it was ready; the monitor must register it by then +
 * timeout + W (300 + 750 ms). */
START_TEST(flood_must_not_lock_out)
{
    char dir[] = "/tmp/check_lab4.XXXXXX", path[600];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    reset_ports(3);
    snprintf(R.dir, sizeof R.dir, "%s", dir);
    snprintf(path, sizeof path, "%s/late-worker.log", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("node=50 ev=ready role=worker monitor=127.0.0.1:7000 interval=50 t=1000\n", f);
    fclose(f);
    struct verdict v = {.kind = V_PASS};
    R.test = find_test("monitor-flood");
    ck_assert_int_eq(R.test->setup(&R, &v), 0);
    add("node=0 ev=ready role=monitor t=0");
    add("node=1 ev=ready role=worker t=5");
    add("node=2 ev=ready role=worker t=5");
    add("node=0 ev=joined worker=1 to=1 t=6");
    add("node=0 ev=joined worker=2 to=1 t=6");
    add("node=0 ev=order id=1 to=1 t=900");
    add("node=0 ev=bad why=too-many-workers worker=50 t=1010");
    expect_fail("monitor-flood", V_LIVENESS, "table flooding locked a genuine worker out");
    add("node=0 ev=joined worker=50 to=1 t=2100"); /* after 1000 + 300 + 750: too late */
    expect_fail("monitor-flood", V_LIVENESS, "no ev=joined worker=50 within 1050 ms");
    add("node=0 ev=joined worker=50 to=1 t=1320");
    expect_pass("monitor-flood");
    ck_assert_ptr_nonnull(strstr(R.info, "late worker joined 320 ms after its ready"));
    R.test->teardown(&R, &v);
    unlink(path);
    rmdir(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("lab4");
    TCase *t = tcase_create("checkers");
    tcase_set_timeout(t, 20);
    tcase_add_test(t, peers_good);
    tcase_add_test(t, peers_false_suspicion);
    tcase_add_test(t, peers_starved_peer_is_not_a_false_suspicion);
    tcase_add_test(t, peers_unknown_at_startup);
    tcase_add_test(t, peers_early_detection);
    tcase_add_test(t, peers_late_detection);
    tcase_add_test(t, peers_never_detected);
    tcase_add_test(t, peers_never_converged);
    tcase_add_test(t, restart_good);
    tcase_add_test(t, restart_same_id);
    tcase_add_test(t, restart_never_alive);
    tcase_add_test(t, pause_good_and_bad);
    tcase_add_test(t, bad_input_needs_every_bad_event);
    tcase_add_test(t, load_flags);
    tcase_add_test(t, load_window_too_short_to_see);
    tcase_add_test(t, q4_good);
    tcase_add_test(t, q4_failed_before_timeout);
    tcase_add_test(t, q4_wrong_target);
    tcase_add_test(t, q4_higher_id_while_lower_alive);
    tcase_add_test(t, q4_missing_critical);
    tcase_add_test(t, q4_false_failure_and_early_critical);
    tcase_add_test(t, q4_silent_worker_is_not_a_false_failure);
    tcase_add_test(t, q4_never_recovered);
    tcase_add_test(t, forged_beats_must_not_revive);
    tcase_add_test(t, flood_must_not_lock_out);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    tl_lab = "lab4-heartbeat";
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    reset_ports(0);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
