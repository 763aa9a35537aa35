/* check_grader.c - tests of the grader itself: parsing, verdicts, lab1's checkers, the harness. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copy.h"
#include "grader.h"
#include "pool.h"
#include "report.h"
#include "tests/testlog.h"

/* ---- event lines ---- */

START_TEST(parse_basic)
{
    struct event e;
    ck_assert_int_eq(event_parse("node=2 lc=7 ev=recv from=1 msg=1:4 t=12.5", &e), 0);
    ck_assert_int_eq(e.node, 2);
    ck_assert_str_eq(e.ev, "recv");
    ck_assert_str_eq(event_get(&e, "msg"), "1:4");
    long long x;
    ck_assert(event_int(&e, "lc", &x) && x == 7);
    ck_assert(!event_int(&e, "msg", &x)); /* "1:4" is not a number */
    ck_assert(!event_get(&e, "nope"));
    ck_assert(e.t > 12.4 && e.t < 12.6);
    event_free(&e);
}
END_TEST

START_TEST(parse_quoted)
{
    struct event e;
    ck_assert_int_eq(event_parse("node=0 ev=bad reason=\"bad \\\"magic\\\" here\" len=3", &e), 0);
    ck_assert_str_eq(event_get(&e, "reason"), "bad \"magic\" here");
    ck_assert_str_eq(event_get(&e, "len"), "3");
    event_free(&e);
}
END_TEST

START_TEST(parse_rejects)
{
    static const char *bad[] = {
        "hello world", "", "lc=1 node=2 ev=x", "node=x ev=a", "node=1 ev", "node=1 ev=\"open",
        "node=999 ev=a", "node=-1 ev=a", "node=1 a=\"x\"y",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct event e;
        ck_assert_msg(event_parse(bad[i], &e) < 0, "accepted: %s", bad[i]);
    }
}
END_TEST

START_TEST(parse_vector)
{
    struct event e;
    long long v[8];
    ck_assert_int_eq(event_parse("node=0 vc=[3,0,12] a=[] b=[1,] c=[1 d=[1,2]x", &e), 0);
    ck_assert_int_eq(event_vector(&e, "vc", v, 8), 3);
    ck_assert(v[0] == 3 && v[1] == 0 && v[2] == 12);
    ck_assert_int_eq(event_vector(&e, "a", v, 8), 0);
    ck_assert_int_eq(event_vector(&e, "b", v, 8), -1);
    ck_assert_int_eq(event_vector(&e, "c", v, 8), -1);
    ck_assert_int_eq(event_vector(&e, "d", v, 8), -1);
    ck_assert_int_eq(event_vector(&e, "vc", v, 2), -1); /* does not fit */
    event_free(&e);
}
END_TEST

START_TEST(verdict_keeps_every_reason)
{
    struct verdict v = {.kind = V_PASS};
    verdict_add(&v, V_LIVENESS, R_GENERIC, "timeout: node 1 has not printed ev=done");
    verdict_fail(&v, V_LIVENESS, "never followed a new leader");
    verdict_add(&v, V_LIVENESS, R_STALL, "no progress for 8s");
    verdict_fail(&v, V_SAFETY, "unsafe %d", 1);
    verdict_fail(&v, V_SAFETY, "unsafe %d", 1); /* the same reason twice is kept once */
    verdict_add(&v, V_CRASH, R_GENERIC, "node 1 did not exit within 3s of SIGTERM");
    ck_assert_int_eq(v.n, 5);
    /* The most specific first: the checker's properties (the most severe of them first), then
     * what the stall saw, then the generic ones. */
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_str_eq(v.msg, "unsafe 1");
    ck_assert_str_eq(v.reason[1].text, "never followed a new leader");
    ck_assert_str_eq(v.reason[2].text, "no progress for 8s");
    ck_assert_int_eq(v.reason[3].kind, V_CRASH);
    ck_assert_str_eq(v.reason[4].text, "timeout: node 1 has not printed ev=done");
    ck_assert(verdict_has(&v, V_CRASH) && !verdict_has(&v, V_HARNESS));
    verdict_fail(&v, V_CRASH, "boom");
    ck_assert_int_eq(v.kind, V_CRASH);
    verdict_add(&v, V_HARNESS, R_GENERIC, "interrupted"); /* the run says nothing: first */
    ck_assert_int_eq(v.kind, V_HARNESS);
    for (int i = 0; i < 5; i++)
        verdict_fail(&v, V_LIVENESS, "reason %d", i);
    ck_assert_int_eq(v.n, G_MAXREASONS);
    ck_assert_int_eq(v.more, 4);
    ck_assert_str_eq(v.reason[G_MAXREASONS - 1].text, "reason 3"); /* the least specific went */
}
END_TEST

START_TEST(msgmap_grows)
{
    struct msgmap *m = msgmap_new();
    static char ids[5000][16];
    static struct event ev[5000];
    for (int i = 0; i < 5000; i++) {
        snprintf(ids[i], sizeof ids[i], "%d:%d", i % 7, i);
        ck_assert(msgmap_put(m, ids[i], &ev[i]));
    }
    ck_assert(!msgmap_put(m, "3:3", &ev[0])); /* duplicate id */
    for (int i = 0; i < 5000; i++)
        ck_assert_ptr_eq(msgmap_get(m, ids[i]), &ev[i]);
    ck_assert_ptr_null(msgmap_get(m, "9:9"));
    msgmap_free(m);
}
END_TEST

/* ---- lab1's checkers on hand-made logs: each must pass the good log and fail the bad ---- */

/* Two nodes: 0 sends to 1, 1 sends back. */
static void good_lamport(const char *recv_lc)
{
    run_reset(2);
    add("node=0 ev=ready");
    add("node=0 lc=1 ev=local");
    add("node=0 lc=2 ev=send to=1 msg=0:1");
    add("node=1 ev=ready");
    add("node=1 lc=1 ev=send to=0 msg=1:1");
    char line[128];
    snprintf(line, sizeof line, "node=1 lc=%s ev=recv from=0 msg=0:1 ts=2", recv_lc);
    add(line);
    add("node=0 lc=3 ev=recv from=1 msg=1:1 ts=1");
}

START_TEST(lamport_good_passes)
{
    good_lamport("3");
    struct verdict v = check("clock-condition");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
}
END_TEST

START_TEST(lamport_missing_plus_one_fails)
{
    good_lamport("2"); /* max(1, 2) without the +1 */
    struct verdict v = check("clock-condition");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "clock condition"));
}
END_TEST

START_TEST(lamport_phantom_receive_fails)
{
    good_lamport("3");
    add("node=1 lc=9 ev=recv from=0 msg=0:7 ts=5");
    struct verdict v = check("clock-condition");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "never sent"));
}
END_TEST

START_TEST(lamport_not_monotonic_fails)
{
    good_lamport("3");
    add("node=0 lc=3 ev=local");
    struct verdict v = check("clock-condition");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "did not increase"));
}
END_TEST

START_TEST(lamport_wrong_ts_fails)
{
    run_reset(2);
    add("node=0 lc=2 ev=send to=1 msg=0:1");
    add("node=1 lc=5 ev=recv from=0 msg=0:1 ts=1");
    add("node=1 lc=6 ev=send to=0 msg=1:1");
    add("node=0 lc=7 ev=recv from=1 msg=1:1 ts=6");
    struct verdict v = check("clock-condition");
    ck_assert_int_eq(v.kind, V_SAFETY);
}
END_TEST

START_TEST(lamport_no_receives_is_liveness)
{
    run_reset(2);
    add("node=0 lc=1 ev=send to=1 msg=0:1");
    add("node=1 lc=1 ev=send to=0 msg=1:1");
    struct verdict v = check("clock-condition");
    ck_assert_int_eq(v.kind, V_LIVENESS);
}
END_TEST

/* Vector clocks, 2 nodes: a = local on 0; b = send 0->1; c = local on 1 (concurrent with a, b);
 * d = receive of b on 1. */
static void vector_run(const char *c_vc, const char *d_vc)
{
    char line[128];
    run_reset(2);
    add("node=0 lc=1 ev=local vc=[1,0]");
    add("node=0 lc=2 ev=send to=1 msg=0:1 vc=[2,0]");
    add("node=1 lc=1 ev=send to=0 msg=1:1 vc=[0,1]");
    snprintf(line, sizeof line, "node=1 lc=2 ev=local vc=%s", c_vc);
    add(line);
    snprintf(line, sizeof line, "node=1 lc=3 ev=recv from=0 msg=0:1 ts=2 vc=%s", d_vc);
    add(line);
    add("node=0 lc=3 ev=recv from=1 msg=1:1 ts=1 vc=[3,1]");
}

START_TEST(vector_good_passes)
{
    vector_run("[0,2]", "[2,3]");
    struct verdict v = check("vector-hb");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
}
END_TEST

START_TEST(vector_missing_merge_fails)
{
    vector_run("[0,2]", "[0,3]"); /* the receive forgot to merge: b -> d is lost */
    struct verdict v = check("vector-hb");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "happened before"));
}
END_TEST

START_TEST(vector_false_order_fails)
{
    vector_run("[2,2]", "[2,3]"); /* c claims to follow a and b, but it is concurrent */
    struct verdict v = check("vector-hb");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "did not happen before"));
}
END_TEST

START_TEST(vector_missing_vc_fails)
{
    vector_run("[0,2]", "[2,3]");
    add("node=0 lc=4 ev=local");
    struct verdict v = check("vector-hb");
    ck_assert_int_eq(v.kind, V_SAFETY);
}
END_TEST

/* ---- the harness, against a fake node whose misbehaviour is chosen per test ---- */

static struct gtest fake_test;
static const struct lab fake_lab = {"grading", "fake_node", &fake_test, 1, NULL};

static void fake_check(struct run *r, struct verdict *v)
{
    (void)r, (void)v;
}

static struct verdict run_fake_net(const char *mode, int nodes, struct run *r, const char *net);
static const char *fake_net = "";

static struct verdict run_fake(const char *mode, int nodes, struct run *r)
{
    return run_fake_net(mode, nodes, r, "drop 0.0\ndelay 0 0");
}

static struct verdict run_fake_sched(const char *mode, int nodes, struct run *r,
                                     const struct fault *f, int nf);

static struct verdict run_fake_net(const char *mode, int nodes, struct run *r, const char *net)
{
    fake_net = net;
    return run_fake_sched(mode, nodes, r, NULL, 0);
}

static struct verdict run_fake_sched(const char *mode, int nodes, struct run *r,
                                     const struct fault *f, int nf)
{
    const char *net = fake_net;
    static char args[64];
    snprintf(args, sizeof args, "{id} %s", mode);
    fake_test = (struct gtest){.name = mode, .points = 1, .nodes = nodes, .args = args,
                               .net = net, .check = fake_check, .timeout_ms = 3000,
                               .what = "harness", .nfaults = nf};
    for (int i = 0; i < nf; i++)
        fake_test.faults[i] = f[i];
    static struct options o;
    static char root[4096];
    ck_assert_ptr_nonnull(realpath("../..", root));
    /* A generous grace (a loaded machine can take a while to run a SIGTERMed node), except
     * where the test is that the harness gives up on a node that ignores SIGTERM. */
    int grace = strcmp(mode, "stubborn") == 0 ? 500 : 5000;
    o = (struct options){.root = root, .build = "build", .slow = 1, .grace_ms = grace};
    memset(r, 0, sizeof *r);
    r->lab = &fake_lab, r->test = &fake_test, r->opt = &o, r->seed = 5;
    int len = snprintf(r->dir, sizeof r->dir, "%.400s/grading/build/harness-%.40s", root, mode);
    ck_assert(len > 0 && (size_t)len < sizeof r->dir);
    ck_assert(mkdir(r->dir, 0755) == 0 || errno == EEXIST);
    struct verdict v = {.kind = V_PASS};
    run_test(r, &v);
    return v;
}

/* Every pid a node printed is gone (reaped, not a zombie). */
static void assert_all_gone(struct run *r)
{
    for (int i = 0; i < r->n; i++)
        for (int j = 0; j < r->node[i].n; j++) {
            long long pid;
            if (event_int(&r->node[i].ev[j], "pid", &pid))
                ck_assert_msg(kill((pid_t)pid, 0) < 0 && errno == ESRCH, "pid %lld alive", pid);
        }
}

START_TEST(harness_good_run)
{
    static struct run r;
    struct verdict v = run_fake("good", 3, &r);
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(run_count(&r, i, "ready"), 1);
        ck_assert_int_eq(run_count(&r, i, "stats"), 1); /* output after SIGTERM is collected */
        ck_assert_int_gt(r.node[i].port, 0);
    }
    /* Ports come from below the ephemeral range, where no outgoing connection takes them. */
    int lo = 32768, hi = 60999;
    FILE *pr = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (pr) {
        ck_assert_int_eq(fscanf(pr, "%d %d", &lo, &hi), 2);
        fclose(pr);
    }
    if (lo > 11000)
        for (int i = 0; i < 3; i++)
            ck_assert_int_lt(r.node[i].port, lo);
    assert_all_gone(&r);
    char path[700];
    snprintf(path, sizeof path, "%s/node2.out", r.dir);
    ck_assert_int_eq(access(path, R_OK), 0);
    snprintf(path, sizeof path, "%s/net.conf", r.dir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char conf[1024] = "";
    size_t n = fread(conf, 1, sizeof conf - 1, f);
    conf[n] = '\0';
    fclose(f);
    ck_assert_ptr_nonnull(strstr(conf, "drop 0.0"));
    ck_assert_ptr_nonnull(strstr(conf, "seed 5"));
}
END_TEST

/* Crash node 1, restart it with the same identity, partition, heal, partition again. */
START_TEST(harness_crash_restart_partition)
{
    static struct run r;
    fake_net = "drop 0.0";
    static const struct fault sched[] = {{50, F_CRASH, 1, NULL}, {150, F_RESTART, 1, NULL},
                                         {200, F_PARTITION, 0, "0 1"}, {250, F_HEAL, 0, NULL},
                                         {300, F_PARTITION, 0, "1 0"}};
    struct verdict v = run_fake_sched("good", 2, &r, sched, 5);
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg); /* our own SIGKILL is not a crash */
    ck_assert_int_eq(run_count(&r, 1, "ready"), 2);
    ck_assert_int_eq(r.node[1].ev[r.node[1].n - 1].life, 1);
    ck_assert_int_eq(r.napplied, 5);
    ck_assert_ptr_nonnull(run_fault(&r, F_RESTART, 1));
    char path[700], conf[1024] = "";
    snprintf(path, sizeof path, "%s/net.conf", r.dir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    conf[fread(conf, 1, sizeof conf - 1, f)] = '\0';
    fclose(f);
    ck_assert_ptr_nonnull(strstr(conf, "partition 1 0"));
    assert_all_gone(&r);
}
END_TEST

START_TEST(harness_no_injection_is_harness_error)
{
    static struct run r; /* the fake node sends nothing, so nothing can be dropped */
    struct verdict v = run_fake_net("good", 2, &r, "drop 0.5");
    ck_assert_int_eq(v.kind, V_HARNESS);
    ck_assert_ptr_nonnull(strstr(v.msg, "injected none"));
}
END_TEST

START_TEST(harness_never_ready_is_liveness)
{
    static struct run r;
    struct verdict v = run_fake("silent", 2, &r);
    ck_assert_int_eq(v.kind, V_LIVENESS);
    ck_assert_ptr_nonnull(strstr(v.msg, "ready"));
}
END_TEST

START_TEST(harness_segv_is_crash)
{
    static struct run r;
    struct verdict v = run_fake("segv", 2, &r);
    ck_assert_int_eq(v.kind, V_CRASH);
    ck_assert_ptr_nonnull(strstr(v.msg, "signal 11"));
    assert_all_gone(&r);
}
END_TEST

START_TEST(harness_bad_exit_is_crash)
{
    static struct run r;
    struct verdict v = run_fake("exit3", 2, &r);
    ck_assert_int_eq(v.kind, V_CRASH);
    ck_assert_ptr_nonnull(strstr(v.msg, "status 3"));
}
END_TEST

START_TEST(harness_sanitizer_report_is_crash)
{
    static struct run r;
    struct verdict v = run_fake("asan", 1, &r);
    ck_assert_int_eq(v.kind, V_CRASH);
    ck_assert_ptr_nonnull(strstr(v.msg, "AddressSanitizer"));
}
END_TEST

/* --valgrind memchecks node 0-2, the highest id and the nodes the schedule names (not a
 * network directive's node field); --valgrind-all every node; no --valgrind none. */
START_TEST(harness_memchecks_where_the_scenario_happens)
{
    static struct gtest t = {.name = "big", .nodes = 64, .nfaults = 3};
    t.faults[0] = (struct fault){100, F_PAUSE, 10, NULL};
    t.faults[1] = (struct fault){200, F_NET, 20, "loss 0.1"};
    t.faults[2] = (struct fault){300, F_RESTART, 30, NULL};
    struct options o = {.valgrind = true};
    static struct run r;
    r = (struct run){.test = &t, .opt = &o, .n = 64};
    char got[256] = "";
    for (int i = 0; i < r.n; i++)
        if (harness_memchecked(&r, i))
            snprintf(got + strlen(got), sizeof got - strlen(got), "%d ", i);
    ck_assert_str_eq(got, "0 1 2 10 30 63 ");
    r.n = 4;
    ck_assert(harness_memchecked(&r, 3));
    o.valgrind_all = true, r.n = 64;
    for (int i = 0; i < r.n; i++)
        ck_assert(harness_memchecked(&r, i));
    o.valgrind = o.valgrind_all = false;
    ck_assert(!harness_memchecked(&r, 0));
}
END_TEST

START_TEST(harness_stubborn_node_is_killed)
{
    static struct run r;
    struct verdict v = run_fake("stubborn", 2, &r);
    ck_assert_int_eq(v.kind, V_CRASH);
    ck_assert_ptr_nonnull(strstr(v.msg, "did not exit"));
    assert_all_gone(&r);
}
END_TEST

/* ---- progress: a run that stops moving ends early, one that moves slowly does not ---- */

static void fake_progress(const struct run *r, struct progress_rule *p)
{
    (void)r;
    p->background = "beat";
    p->stall_ms = 1500;
    p->open = "start", p->close = "end", p->key = "op", p->open_ms = 1000;
}

/* A run of mode with a 30 s cap and a 1.5 s stall window; how long it took goes in secs. */
static struct verdict run_progress(const char *mode, const struct fault *f, int nf, until_fn until,
                                   struct run *r, double *secs)
{
    static struct gtest t;
    static char args[64];
    snprintf(args, sizeof args, "{id} %s", mode);
    t = (struct gtest){.name = mode,
                       .points = 1,
                       .nodes = 2,
                       .args = args,
                       .net = "",
                       .check = fake_check,
                       .timeout_ms = 30000,
                       .what = "progress",
                       .nfaults = nf,
                       .until = until};
    for (int i = 0; i < nf; i++)
        t.faults[i] = f[i];
    static const struct lab lab = {"grading", "fake_node", &t, 1, fake_progress};
    static struct options o;
    static char root[4096];
    ck_assert_ptr_nonnull(realpath("../..", root));
    o = (struct options){.root = root, .build = "build", .slow = 1, .grace_ms = 5000};
    memset(r, 0, sizeof *r);
    r->lab = &lab, r->test = &t, r->opt = &o, r->seed = 5;
    snprintf(r->dir, sizeof r->dir, "%.400s/grading/build/progress-%.40s", root, mode);
    ck_assert(mkdir(r->dir, 0755) == 0 || errno == EEXIST);
    struct verdict v = {.kind = V_PASS};
    double t0 = mono_ms();
    run_test(r, &v);
    *secs = (mono_ms() - t0) / 1e3;
    return v;
}

START_TEST(progress_silent_node_stalls)
{
    static struct run r;
    double secs;
    struct verdict v = run_progress("stall", NULL, 0, NULL, &r, &secs);
    ck_assert_int_eq(v.kind, V_LIVENESS);
    ck_assert_msg(strstr(v.msg, "no progress for 1.") && strstr(v.msg, "ev=done") &&
                      strstr(v.msg, "has logged nothing for") && strstr(v.msg, "node=0#1 lc=1"),
                  "%s", v.msg);
    ck_assert_msg(secs < 20, "took %.1fs: the stall should end it, not the 30 s cap", secs);
    assert_all_gone(&r);
}
END_TEST

START_TEST(progress_background_only_stalls)
{
    static struct run r;
    double secs;
    struct verdict v = run_progress("beats", NULL, 0, NULL, &r, &secs);
    ck_assert_int_eq(v.kind, V_LIVENESS);
    ck_assert_msg(strstr(v.msg, "but ev=beat") && strstr(v.msg, "only background events (ev=beat)"),
                  "%s", v.msg);
    ck_assert_msg(secs < 20, "took %.1fs: beats are not progress", secs);
}
END_TEST

START_TEST(progress_slow_node_does_not_stall)
{
    static struct run r;
    double secs; /* 1.8 s of events 150 ms apart: longer than the window, never quiet that long */
    struct verdict v = run_progress("slow", NULL, 0, NULL, &r, &secs);
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    ck_assert_int_eq(run_count(&r, 0, "local"), 13);
}
END_TEST

static bool until_never(struct run *r, char *why, size_t cap)
{
    (void)r;
    snprintf(why, cap, "the test's end, which never comes");
    return false;
}

/* An operation left open ends the run open_ms after it began, though events go on all along
 * (each under the 1.5 s stall window); closed ones are fine. */
START_TEST(progress_open_operation_stalls)
{
    static struct run r;
    double secs;
    struct verdict v = run_progress("leak", NULL, 0, until_never, &r, &secs);
    ck_assert_int_eq(v.kind, V_LIVENESS);
    ck_assert_msg(strstr(v.msg, "ev=start op=2 has not been followed by node 0's ev=end op=2 for "
                                "1.") &&
                      strstr(v.msg, "within 1.0s"),
                  "%s", v.msg);
    ck_assert_msg(secs < 20, "took %.1fs: the open operation should end it", secs);
}
END_TEST

START_TEST(progress_closed_operations_do_not_stall)
{
    static struct run r;
    double secs;
    struct verdict v = run_progress("ops", NULL, 0, NULL, &r, &secs);
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    ck_assert_int_eq(run_count(&r, 1, "end"), 6);
}
END_TEST

static bool until_input(struct run *r, char *why, size_t cap)
{
    snprintf(why, cap, "node 1 has not echoed its input");
    return run_count(r, 1, "input") >= 1;
}

START_TEST(progress_waits_for_scheduled_faults)
{
    static struct run r;
    double secs; /* quiet for 2.5 s (longer than the window) until the scheduled input comes */
    static const struct fault f[] = {{2500, F_INPUT, 1, "go\n"}};
    struct verdict v = run_progress("echo", f, 1, until_input, &r, &secs);
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
}
END_TEST

/* bin0/args0 for node 0, {aux}, stdin input at start and by F_INPUT, setup/teardown with a
 * helper process that the harness stops. */
static int aux_slot = -1, teardown_calls;
static pid_t aux_pid;
static int echo_setup(struct run *r, struct verdict *v)
{
    char *argv[] = {"sleep", "30", NULL};
    aux_slot = harness_spawn(r, argv, "sleep.log");
    if (aux_slot < 0)
        return verdict_fail(v, V_HARNESS, "spawn"), -1;
    aux_pid = r->aux_pid[aux_slot];
    return 0;
}
static void echo_teardown(struct run *r, struct verdict *v)
{
    (void)v;
    teardown_calls++;
    ck_assert_int_gt(r->aux_pid[aux_slot], 0); /* still running: the harness stops it after */
}
static bool echo_until(struct run *r, char *why, size_t cap)
{
    (void)why, (void)cap;
    return run_count(r, 1, "input") >= 2 && run_count(r, 0, "input") >= 1;
}

START_TEST(harness_roles_input_aux)
{
    static struct run r;
    static struct gtest t;
    t = (struct gtest){.name = "echo", .points = 1, .nodes = 2, .args = "{id} echo",
                       .args0 = "{id} echo0 {aux}", .net = "", .input = "hello {id}\n",
                       .faults = {{30, F_INPUT, 1, "more=x\n"}}, .nfaults = 1,
                       .until = echo_until, .check = fake_check, .timeout_ms = 3000,
                       .what = "harness", .setup = echo_setup, .teardown = echo_teardown};
    static const struct lab lab = {"grading", "fake_node", &t, 1, NULL};
    static struct options o;
    static char root[4096];
    ck_assert_ptr_nonnull(realpath("../..", root));
    /* The same generous grace as run_fake_sched(): these echo nodes do exit on SIGTERM, and
     * 0.5 s for that is not always enough on a loaded machine. */
    o = (struct options){.root = root, .build = "build", .slow = 1, .grace_ms = 5000};
    memset(&r, 0, sizeof r);
    r.lab = &lab, r.test = &t, r.opt = &o, r.seed = 5;
    snprintf(r.dir, sizeof r.dir, "%.400s/grading/build/harness-echo", root);
    ck_assert(mkdir(r.dir, 0755) == 0 || errno == EEXIST);
    struct verdict v = {.kind = V_PASS};
    run_test(&r, &v);
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    char want[32];
    snprintf(want, sizeof want, "%d", r.aux_port);
    ck_assert_int_gt(r.aux_port, 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_ne(r.aux_port, r.node[i].port);
    const struct event *role0 = &r.node[0].ev[1], *role1 = &r.node[1].ev[1];
    ck_assert_str_eq(role0->ev, "role");
    ck_assert_str_eq(event_get(role0, "mode"), "echo0");
    ck_assert_str_eq(event_get(role0, "extra"), want);
    ck_assert_str_eq(event_get(role1, "mode"), "echo");
    ck_assert_str_eq(event_get(&r.node[0].ev[2], "line"), "hello_0");
    ck_assert_str_eq(event_get(&r.node[1].ev[2], "line"), "hello_1");
    ck_assert_str_eq(event_get(&r.node[1].ev[3], "line"), "more_x");
    ck_assert_int_eq(run_count(&r, 0, "eof"), 1); /* stdin closed at stop */
    ck_assert_int_eq(teardown_calls, 1);
    ck_assert_int_eq(r.aux_pid[aux_slot], 0);
    ck_assert(kill(aux_pid, 0) < 0 && errno == ESRCH);
    assert_all_gone(&r);
}
END_TEST

/* ---- the report ---- */

static const struct lab report_lab = {.dir = "labX"};
static const struct gtest report_ok = {.name = "fine", .points = 10, .what = "w"};
static const struct gtest report_bad = {.name = "broken", .points = 15, .what = "w"};

/* Score `fine` (passed) and, if with_failure, `broken` (1 of 2 runs passed) as the grader does;
 * return what report_finish() printed on stdout. */
static const char *report_output(bool with_failure)
{
    static char buf[4096];
    struct result pass = {.v = {.kind = V_PASS}}, fail = {.v = {.kind = V_PASS}};
    verdict_add(&fail.v, V_LIVENESS, R_GENERIC, "timeout after 9.0s: node 1 never voted");
    verdict_fail(&fail.v, V_SAFETY, "two leaders");
    snprintf(fail.rerun, sizeof fail.rerun, "make grade LAB=labX TEST=broken SEED=3");
    char path[] = "/tmp/check_grader_reportXXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    dup2(fd, STDOUT_FILENO);
    struct report rep;
    report_init(&rep);
    if (with_failure)
        report_add(&rep, &report_lab, &report_bad, 1, 2, &fail);
    report_add(&rep, &report_lab, &report_ok, 1, 1, &pass);
    report_finish(&rep, NULL);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    unlink(path);
    ck_assert_int_gt(n, 0);
    buf[n] = '\0';
    return buf;
}

/* The tail of a long grading log must name every failed test, so a CI page that shows only the
 * last lines still says what failed and how to rerun it. */
START_TEST(report_recaps_failures_before_score)
{
    const char *buf = report_output(true);
    const char *recap = strstr(buf, "Failed:\n");
    ck_assert_msg(recap, "no recap in: %s", buf);
    ck_assert_msg(strstr(recap, "labX: broken (15 pts, 1/2 runs passed)"), "%s", buf);
    ck_assert_msg(strstr(recap, "two leaders"), "%s", buf);
    ck_assert_msg(strstr(strstr(recap, "two leaders"), "also liveness/timeout: timeout after 9.0s"),
                  "every reason, the most specific first: %s", buf);
    ck_assert_msg(strstr(recap, "rerun: make grade LAB=labX TEST=broken SEED=3"), "%s", buf);
    ck_assert_msg(!strstr(recap, "fine"), "a passing test is not a failure: %s", buf);
    ck_assert_msg(strstr(recap, "Score: 10/25\n"), "the recap comes before the score: %s", buf);
}
END_TEST

START_TEST(report_no_recap_when_all_pass)
{
    ck_assert_str_eq(report_output(false), "Score: 10/10\n");
}
END_TEST

/* ---- grading a copy (copy.c) ---- */

/* A fresh directory under the test's scratch place, with an optional Makefile. */
static const char *scratch_dir(const char *name, const char *makefile)
{
    static char path[600];
    char cwd[400];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    snprintf(path, sizeof path, "%s/copy-tests", cwd);
    ck_assert(mkdir(path, 0755) == 0 || errno == EEXIST);
    snprintf(path, sizeof path, "%s/copy-tests/%s", cwd, name);
    ck_assert(mkdir(path, 0755) == 0 || errno == EEXIST);
    if (makefile) {
        char mk[700];
        snprintf(mk, sizeof mk, "%s/Makefile", path);
        FILE *f = fopen(mk, "w");
        ck_assert_ptr_nonnull(f);
        fputs(makefile, f);
        ck_assert_int_eq(fclose(f), 0);
    }
    return path;
}

START_TEST(copy_root_from_own_path)
{
    /* The kit is found from the program's path, whatever the cwd (this test runs in
     * ROOT/grading/build*; the grader is its sibling). */
    char want[4096], got[4096], cwd[4096];
    ck_assert_ptr_nonnull(realpath("../..", want));
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir("/"), 0);
    int rc = copy_find_root(got, sizeof got);
    ck_assert_int_eq(chdir(cwd), 0); /* CK_FORK=no (valgrind) runs every test in this process */
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(got, want);
}
END_TEST

START_TEST(copy_infers_lab_from_name)
{
    char why[512];
    static const char *const names[][2] = {{"lab3-mine", "lab3-bully"},
                                           {"lab1", "lab1-lamport"},
                                           {"lab7-mqtt-pow", "lab7-mqtt-pow"},
                                           {"lab5-alice-v2/", "lab5-chat-multicast"}};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const struct lab *l = copy_infer_lab(scratch_dir(names[i][0], NULL), why, sizeof why);
        ck_assert_msg(l && strcmp(l->dir, names[i][1]) == 0, "%s: %s", names[i][0],
                      l ? l->dir : why);
    }
    /* lab10 is not lab1; no Makefile: nothing to go by, and the reason says so */
    ck_assert_ptr_null(copy_infer_lab(scratch_dir("lab10-x", NULL), why, sizeof why));
    ck_assert_ptr_nonnull(strstr(why, "no Makefile"));
    ck_assert_ptr_null(copy_infer_lab(scratch_dir("lab3bully", NULL), why, sizeof why));
}
END_TEST

START_TEST(copy_infers_lab_from_makefile)
{
    char why[512];
    const struct lab *l =
        copy_infer_lab(scratch_dir("alice", "all: $(B)/heartbeat\n"), why, sizeof why);
    ck_assert_msg(l && strcmp(l->dir, "lab4-heartbeat") == 0, "%s", l ? l->dir : why);
    l = copy_infer_lab(scratch_dir("bob", "all: build/wallet-server build/wallet-client\n"), why,
                       sizeof why);
    ck_assert_msg(l && strcmp(l->dir, "lab6-wallet") == 0, "%s", l ? l->dir : why);
    /* chatter is not chat; two labs' programs: ambiguous. Both say which programs it looked for. */
    ck_assert_ptr_null(
        copy_infer_lab(scratch_dir("carol", "all: $(B)/chatter\n"), why, sizeof why));
    ck_assert_ptr_nonnull(strstr(why, "none"));
    ck_assert_ptr_nonnull(strstr(why, "lamport (lab1-lamport)"));
    ck_assert_ptr_null(
        copy_infer_lab(scratch_dir("dave", "all: $(B)/bully $(B)/chat\n"), why, sizeof why));
    ck_assert_ptr_nonnull(strstr(why, "several"));
}
END_TEST

START_TEST(copy_logs_apart)
{
    char a[700], b[700], c[700];
    copy_logs_dir("/kit", "/home/alice/lab1-lamport", a, sizeof a);
    copy_logs_dir("/kit", "/home/bob/lab1-lamport", b, sizeof b);
    copy_logs_dir("/kit", "/home/alice/lab1-lamport", c, sizeof c);
    ck_assert_str_ne(a, b); /* same name, different copies */
    ck_assert_str_eq(a, c); /* stable: a rerun finds its logs */
    ck_assert_int_eq(strncmp(a, "/kit/grading/logs/lab1-lamport-", 31), 0);
    ck_assert_int_eq(strlen(a), 31 + 8);
}
END_TEST

START_TEST(copy_build_verdicts)
{
    char msg[3072], log[700];
    /* A failing build: the message quotes the end of the compiler's output. */
    const char *d = scratch_dir("broken", "all:\n\t@echo compiling x.c\n"
                                          "\t@echo 'x.c:3:1: error: expected ; before }' >&2\n"
                                          "\t@exit 1\n");
    snprintf(log, sizeof log, "%s/build.log", d);
    ck_assert_int_eq(copy_build(d, "build", log, 30, msg, sizeof msg), -1);
    ck_assert_msg(strstr(msg, "x.c:3:1: error: expected ; before }") && strstr(msg, "exited 2"),
                  "%s", msg);
    /* The sanitizer builds are the lab Makefiles' SAN=; make grade's own variables (a DIR= in
     * MAKEFLAGS, a SAN= or B= make exported) are not passed down to the copy's build. */
    d = scratch_dir("san", "all:\n\t@echo 'SAN=$(SAN) DIR=$(DIR) B=$(B)' >got\n");
    snprintf(log, sizeof log, "%s/build.log", d);
    char got[700];
    snprintf(got, sizeof got, "%s/got", d);
    setenv("MAKEFLAGS", "DIR=/somewhere", 1);
    setenv("SAN", "tsan", 1);
    setenv("B", "elsewhere", 1);
    static const char *const builds[][2] = {{"build-asan", "SAN=asan DIR= B=\n"},
                                            {"build", "SAN= DIR= B=\n"},
                                            {"build-tsan", "SAN=tsan DIR= B=\n"}};
    for (size_t i = 0; i < sizeof builds / sizeof *builds; i++) {
        ck_assert_msg(copy_build(d, builds[i][0], log, 30, msg, sizeof msg) == 0, "%s", msg);
        FILE *f = fopen(got, "r");
        char line[100] = "";
        ck_assert_ptr_nonnull(f);
        ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
        fclose(f);
        ck_assert_str_eq(line, builds[i][1]);
    }
    unsetenv("MAKEFLAGS");
    unsetenv("SAN");
    unsetenv("B");
    ck_assert_int_eq(copy_build(d, "elsewhere", log, 30, msg, sizeof msg), 1); /* not built */
    /* A build that hangs is stopped, compilers and all (the sleep is make's child). */
    d = scratch_dir("hang", "all:\n\t@echo started; sleep 100\n");
    snprintf(log, sizeof log, "%s/build.log", d);
    ck_assert_int_eq(copy_build(d, "build", log, 1, msg, sizeof msg), -1);
    ck_assert_msg(strstr(msg, "was stopped after 1 s") && strstr(msg, "started"), "%s", msg);
}
END_TEST

/* ---- the pool: runs in parallel, reported in table order ---- */

/* Six fake tests; a fault at wait_ms keeps a run going that long, so with three at a time the
 * quick ones finish before the slow ones begin to. p3's node crashes: a failure comes back too
 * (one node, so that which crash is reported first cannot differ between two runs). */
#define POOL_N 6
static const int pool_wait_ms[POOL_N] = {2500, 0, 1200, 0, 600, 0};
static struct gtest pool_tests[POOL_N];
static const struct lab pool_lab = {"grading", "fake_node", pool_tests, POOL_N, NULL};
static struct pool_job pool_jobs[POOL_N];
static char pool_seen[POOL_N][160]; /* what done() saw, in the order it saw it */
static double pool_end[POOL_N];     /* when each run ended (by the child's clock) */
static int pool_nseen;

static void pool_setup(void)
{
    static char names[POOL_N][8];
    for (int i = 0; i < POOL_N; i++) {
        snprintf(names[i], sizeof names[i], "p%d", i);
        pool_tests[i] = (struct gtest){.name = names[i],
                                       .points = 1,
                                       .nodes = i == 3 ? 1 : 2,
                                       .args = i == 3 ? "{id} segv" : "{id} good",
                                       .net = "",
                                       .check = fake_check,
                                       .timeout_ms = 20000,
                                       .what = "pool"};
        if (pool_wait_ms[i])
            pool_tests[i].faults[pool_tests[i].nfaults++] =
                (struct fault){pool_wait_ms[i], F_NET, 0, ""};
        pool_jobs[i] = (struct pool_job){&pool_lab, &pool_tests[i], 100 + (uint64_t)i, 0};
    }
}

static int pool_fake_run(void *ctx, const struct pool_job *j, struct result *res)
{
    (void)ctx;
    static struct run r;
    static struct options o;
    static char root[4096];
    if (!realpath("../..", root))
        return -1;
    o = (struct options){.root = root, .build = "build", .slow = 1, .grace_ms = 5000};
    memset(&r, 0, sizeof r);
    r.lab = j->lab, r.test = j->test, r.opt = &o, r.seed = j->seed;
    snprintf(r.dir, sizeof r.dir, "%.400s/grading/build/pool-%.40s", root, j->test->name);
    mkdir(r.dir, 0755);
    res->v = (struct verdict){.kind = V_PASS};
    int rc = run_test(&r, &res->v);
    res->seed = j->seed;
    res->secs = mono_ms(); /* when it ended: the test checks that runs overlapped */
    snprintf(res->info, sizeof res->info, "%s seed=%llu", j->test->name,
             (unsigned long long)j->seed);
    return rc;
}

static void pool_record(void *ctx, const struct pool_job *j, const struct result *res, int rc)
{
    (void)ctx;
    ck_assert_int_eq(rc, 0);
    int i = (int)(j - pool_jobs);
    ck_assert(i >= 0 && i < POOL_N && pool_nseen < POOL_N);
    pool_end[i] = res->secs;
    snprintf(pool_seen[pool_nseen++], sizeof pool_seen[0], "job %d: %.40s %s %.60s", i, res->info,
             verdict_name(res->v.kind), res->v.msg);
}

START_TEST(pool_keeps_table_order)
{
    pool_setup();
    char serial[POOL_N][160];
    pool_nseen = 0;
    ck_assert_int_eq(pool_run(pool_jobs, POOL_N, 1, pool_fake_run, pool_record, NULL, NULL), 0);
    ck_assert_int_eq(pool_nseen, POOL_N);
    memcpy(serial, pool_seen, sizeof serial);
    pool_nseen = 0;
    ck_assert_int_eq(pool_run(pool_jobs, POOL_N, 3, pool_fake_run, pool_record, NULL, NULL), 0);
    ck_assert_int_eq(pool_nseen, POOL_N);
    for (int i = 0; i < POOL_N; i++) {
        char want[32];
        snprintf(want, sizeof want, "job %d: p%d seed=%d ", i, i, 100 + i);
        ck_assert_msg(strncmp(pool_seen[i], want, strlen(want)) == 0, "%d-th reported: %s", i,
                      pool_seen[i]);
        ck_assert_str_eq(pool_seen[i], serial[i]); /* --jobs 3 reads as --jobs 1 */
        ck_assert_msg(strstr(serial[i], i == 3 ? "crash node" : "pass "), "%s", serial[i]);
    }
    /* The order was the pool's doing, not the runs': p1 and p3 ended before p0 (2.5 s of wait). */
    ck_assert_msg(pool_end[1] < pool_end[0] && pool_end[3] < pool_end[0],
                  "runs did not overlap: ended at %.0f %.0f %.0f ms", pool_end[0], pool_end[1],
                  pool_end[3]);
}
END_TEST

/* Two runs at once never pick the same port: each slot probes only its own share. */
START_TEST(pool_slots_take_disjoint_ports)
{
    static struct run r;
    memset(&r, 0, sizeof r);
    int lo[4], hi[4];
    for (int s = 0; s < 4; s++) {
        harness_port_slot(s, 4);
        lo[s] = INT_MAX, hi[s] = 0;
        for (int k = 0; k < 300; k++) {
            int p = harness_free_port(&r);
            ck_assert_int_gt(p, 0);
            lo[s] = p < lo[s] ? p : lo[s];
            hi[s] = p > hi[s] ? p : hi[s];
        }
    }
    harness_port_slot(0, 1);
    for (int s = 0; s + 1 < 4; s++)
        ck_assert_msg(hi[s] < lo[s + 1], "slot %d took %d..%d, slot %d %d..%d", s, lo[s], hi[s],
                      s + 1, lo[s + 1], hi[s + 1]);
}
END_TEST

static Suite *grader_suite(void)
{
    Suite *s = suite_create("grader");
    TCase *tc = tcase_create("events");
    tcase_add_test(tc, parse_basic);
    tcase_add_test(tc, parse_quoted);
    tcase_add_test(tc, parse_rejects);
    tcase_add_test(tc, parse_vector);
    tcase_add_test(tc, verdict_keeps_every_reason);
    tcase_add_test(tc, msgmap_grows);
    suite_add_tcase(s, tc);
    tc = tcase_create("report");
    tcase_add_test(tc, report_recaps_failures_before_score);
    tcase_add_test(tc, report_no_recap_when_all_pass);
    suite_add_tcase(s, tc);
    tc = tcase_create("lab1-checkers");
    tcase_add_test(tc, lamport_good_passes);
    tcase_add_test(tc, lamport_missing_plus_one_fails);
    tcase_add_test(tc, lamport_phantom_receive_fails);
    tcase_add_test(tc, lamport_not_monotonic_fails);
    tcase_add_test(tc, lamport_wrong_ts_fails);
    tcase_add_test(tc, lamport_no_receives_is_liveness);
    tcase_add_test(tc, vector_good_passes);
    tcase_add_test(tc, vector_missing_merge_fails);
    tcase_add_test(tc, vector_false_order_fails);
    tcase_add_test(tc, vector_missing_vc_fails);
    suite_add_tcase(s, tc);
    tc = tcase_create("copy");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, copy_root_from_own_path);
    tcase_add_test(tc, copy_infers_lab_from_name);
    tcase_add_test(tc, copy_infers_lab_from_makefile);
    tcase_add_test(tc, copy_logs_apart);
    tcase_add_test(tc, copy_build_verdicts);
    suite_add_tcase(s, tc);
    tc = tcase_create("harness");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, harness_good_run);
    tcase_add_test(tc, harness_crash_restart_partition);
    tcase_add_test(tc, harness_no_injection_is_harness_error);
    tcase_add_test(tc, harness_never_ready_is_liveness);
    tcase_add_test(tc, harness_segv_is_crash);
    tcase_add_test(tc, harness_bad_exit_is_crash);
    tcase_add_test(tc, harness_sanitizer_report_is_crash);
    tcase_add_test(tc, harness_stubborn_node_is_killed);
    tcase_add_test(tc, harness_memchecks_where_the_scenario_happens);
    tcase_add_test(tc, harness_roles_input_aux);
    tcase_add_test(tc, progress_silent_node_stalls);
    tcase_add_test(tc, progress_background_only_stalls);
    tcase_add_test(tc, progress_slow_node_does_not_stall);
    tcase_add_test(tc, progress_open_operation_stalls);
    tcase_add_test(tc, progress_closed_operations_do_not_stall);
    tcase_add_test(tc, progress_waits_for_scheduled_faults);
    suite_add_tcase(s, tc);
    tc = tcase_create("pool");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, pool_keeps_table_order);
    tcase_add_test(tc, pool_slots_take_disjoint_ports);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    tl_lab = "lab1-lamport";
    SRunner *sr = srunner_create(grader_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    run_reset(0);
    return failed ? 1 : 0;
}
