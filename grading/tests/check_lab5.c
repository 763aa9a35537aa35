/* check_lab5.c - lab5's checkers on hand-made logs: each must pass the good log and fail the
 * bad one with the right verdict. */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grader.h"
#include "tests/testlog.h"

/* Node 0's section is [10, 20]; node 1's starts at enter1 and ends at exit1. Both converge. */
static void two_members(double enter1, double exit1, const char *digest1)
{
    char line[256];
    run_reset(2);
    add("node=0 ev=request req=u0.1.1 t=9");
    add("node=1 ev=req from=u0 req=u0.1.1 t=9.5");
    add("node=1 ev=rep to=u0 req=u0.1.1 t=9.6");
    add("node=0 ev=cs-enter req=u0.1.1 t=10");
    add("node=0 ev=send msg=u0:1 lts=3 t=10.1");
    add("node=0 ev=deliver msg=u0:1 lts=3 t=10.2");
    add("node=0 ev=cs-exit req=u0.1.1 t=20");
    add("node=1 ev=request req=u1.1.1 t=11");
    add("node=0 ev=req from=u1 req=u1.1.1 t=11.5");
    add("node=0 ev=defer to=u1 req=u1.1.1 t=11.6");
    add("node=0 ev=rep to=u1 req=u1.1.1 deferred=1 t=20.1");
    snprintf(line, sizeof line, "node=1 ev=cs-enter req=u1.1.1 t=%.1f", enter1);
    add(line);
    add("node=1 ev=send msg=u1:1 lts=5 t=21");
    add("node=1 ev=deliver msg=u1:1 lts=5 t=21");
    add("node=1 ev=deliver msg=u0:1 lts=3 t=21");
    add("node=0 ev=deliver msg=u1:1 lts=5 t=22");
    snprintf(line, sizeof line, "node=1 ev=cs-exit req=u1.1.1 t=%.1f", exit1);
    add(line);
    add("node=0 ev=replicas agree=1 n=2 digest=ab t=40");
    add("node=0 ev=history n=2 digest=ab t=40");
    snprintf(line, sizeof line, "node=1 ev=replicas agree=1 n=2 digest=%s t=40", digest1);
    add(line);
    snprintf(line, sizeof line, "node=1 ev=history n=2 digest=%s t=40", digest1);
    add(line);
}

START_TEST(good_log_passes)
{
    two_members(20.5, 30, "ab");
    struct verdict v = check("mutual-exclusion");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    ck_assert_ptr_nonnull(strstr(R.info, "2 critical sections"));
    v = check("two-n-minus-one"); /* N=2: 1 REQ + 1 REP per entry */
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
}
END_TEST

/* Node 0 asks twice; for its second request it counts u1's REP naming `grant_req`. */
static void second_request(const char *grant_req)
{
    char line[256];
    run_reset(2);
    add("node=0 ev=request req=u0.1.1 t=1");
    add("node=1 ev=req from=u0 req=u0.1.1 t=1.5");
    add("node=1 ev=rep to=u0 req=u0.1.1 t=1.6");
    add("node=0 ev=grant from=u1 req=u0.1.1 t=2");
    add("node=0 ev=cs-enter req=u0.1.1 t=3");
    add("node=0 ev=send msg=u0:1 lts=3 t=3.1");
    add("node=0 ev=deliver msg=u0:1 lts=3 t=3.2");
    add("node=1 ev=deliver msg=u0:1 lts=3 t=3.3");
    add("node=0 ev=cs-exit req=u0.1.1 t=4");
    add("node=0 ev=request req=u0.1.2 t=5");
    add("node=1 ev=req from=u0 req=u0.1.2 t=5.5");
    add("node=1 ev=rep to=u0 req=u0.1.2 t=5.6");
    snprintf(line, sizeof line, "node=0 ev=grant from=u1 req=%s t=6", grant_req);
    add(line);
    add("node=0 ev=cs-enter req=u0.1.2 t=7");
    add("node=0 ev=cs-exit req=u0.1.2 t=8");
    for (int i = 0; i < 2; i++) {
        snprintf(line, sizeof line, "node=%d ev=replicas agree=1 n=1 digest=ab t=10", i);
        add(line);
        snprintf(line, sizeof line, "node=%d ev=history n=1 digest=ab t=10", i);
        add(line);
    }
}

START_TEST(grant_for_an_earlier_request_fails)
{
    second_request("u0.1.2");
    struct verdict v = check("late-replies");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    second_request("u0.1.1"); /* a late REP of the first request let it in */
    v = check("late-replies");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_msg(strstr(v.msg, "a REP was counted for a request it does not name") &&
                      strstr(v.msg, "pending request: node=0#") && strstr(v.msg, "u0.1.2"),
                  "%s", v.msg);
}
END_TEST

START_TEST(overlap_fails)
{
    two_members(15, 30, "ab"); /* node 1 entered while node 0 was inside */
    struct verdict v = check("mutual-exclusion");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "mutual exclusion violated"));
    ck_assert_ptr_nonnull(strstr(v.msg, "req=u1.1.1"));
}
END_TEST

START_TEST(different_histories_fail)
{
    two_members(20.5, 30, "cd");
    struct verdict v = check("sync-replicas");
    ck_assert_int_eq(v.kind, V_LIVENESS);
    ck_assert_ptr_nonnull(strstr(v.msg, "differs"));
}
END_TEST

START_TEST(ungranted_request_fails)
{
    two_members(20.5, 30, "ab");
    add("node=1 ev=request req=u1.1.2 t=50");
    struct verdict v = check("all-granted");
    ck_assert_int_eq(v.kind, V_LIVENESS);
    ck_assert_ptr_nonnull(strstr(v.msg, "req=u1.1.2"));
}
END_TEST

START_TEST(extra_reply_breaks_the_count)
{
    two_members(20.5, 30, "ab");
    add("node=1 ev=rep to=u0 req=u0.1.1 t=12"); /* a second REP for one request */
    struct verdict v = check("two-n-minus-one");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "not 2(N-1) = 2"));
}
END_TEST

/* Node 1 checkpointed n=2 seq=1, was killed and restarted, and restored n=restored. */
static void restart_log(int restored)
{
    char line[128];
    two_members(20.5, 30, "ab");
    add("node=1 ev=checkpoint n=2 seq=1 t=35");
    snprintf(line, sizeof line, "node=1 ev=restored n=%d seq=1 t=60", restored);
    add_life(line, 1);
    add_life("node=1 ev=ready t=60", 1);
    add_life("node=1 ev=replicas agree=1 n=2 digest=ab t=70", 1);
    add_life("node=1 ev=history n=2 digest=ab t=70", 1);
    R.applied[0] = (struct applied_fault){50, F_CRASH, 1};
    R.applied[1] = (struct applied_fault){55, F_RESTART, 1};
    R.napplied = 2;
}

START_TEST(restore_less_than_checkpoint_fails)
{
    restart_log(1);
    struct verdict v = check("kill-restart");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "restored less"));
    restart_log(2);
    v = check("kill-restart");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    ck_assert_ptr_nonnull(strstr(R.info, "restarted 1 times"));
    /* a second life killed before it printed anything; the third restored too little */
    add_life("node=1 ev=restored n=1 seq=1 t=90", 3);
    add_life("node=1 ev=ready t=90", 3);
    v = check("kill-restart");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "n=1 seq=1 after"));
}
END_TEST

START_TEST(fresh_start_after_kill_fails)
{
    two_members(20.5, 30, "ab");
    add("node=1 ev=checkpoint n=2 seq=1 t=35");
    add_life("node=1 ev=fresh boot=1 t=60", 1);
    add_life("node=1 ev=ready t=60", 1);
    add_life("node=1 ev=replicas agree=1 n=2 digest=ab t=70", 1);
    add_life("node=1 ev=history n=2 digest=ab t=70", 1);
    R.applied[0] = (struct applied_fault){50, F_CRASH, 1};
    R.applied[1] = (struct applied_fault){55, F_RESTART, 1};
    R.napplied = 2;
    struct verdict v = check("kill-during-checkpoint");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "without restoring"));
}
END_TEST

START_TEST(silent_bad_input_fails)
{
    two_members(20.5, 30, "ab");
    for (int i = 0; i < 9; i++)
        add("node=0 ev=bad why=x t=5");
    for (int i = 0; i < 10; i++)
        add("node=1 ev=bad why=x t=5");
    struct verdict v = check("bad-input");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 0 logged 9"));
    add("node=0 ev=bad why=x t=5");
    v = check("bad-input");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    add("node=1 ev=deliver msg=u0:999999 lts=5 t=50");
    v = check("bad-input");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "forged"));
}
END_TEST

START_TEST(dead_member_must_be_noticed)
{
    run_reset(3);
    add("node=0 ev=replicas agree=1 n=0 digest=e t=40");
    add("node=0 ev=history n=0 digest=e t=40");
    add("node=1 ev=replicas agree=1 n=0 digest=e t=40");
    add("node=1 ev=history n=0 digest=e t=40");
    add("node=0 ev=peer-dead peer=u2 t=30");
    R.applied[0] = (struct applied_fault){10, F_CRASH, 2};
    R.napplied = 1;
    struct verdict v = check("dead-member");
    ck_assert_int_eq(v.kind, V_LIVENESS);
    add("node=1 ev=peer-dead peer=u2 t=30");
    v = check("dead-member");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
}
END_TEST

/* Issue 12: a member that shows a message in its own name it never sent fails; so does one
 * that did not log the forgery as ev=bad. */
START_TEST(own_name_forgery_shown_fails)
{
    two_members(20.5, 30, "ab");
    add("node=0 ev=bad why=forged-author msg=u0:2 from=mallory t=5");
    add("node=1 ev=bad why=forged-author msg=u1:2 from=mallory t=5");
    struct verdict v = check("forged-author");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    add("node=1 ev=deliver msg=u0:2 lts=5 from=mallory t=6"); /* u1 cannot tell: allowed */
    v = check("forged-author");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    add("node=0 ev=deliver msg=u0:2 lts=5 from=mallory t=6"); /* u0 knows it never sent it */
    v = check("forged-author");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 0 showed a message in its own name"));
    ck_assert_ptr_nonnull(strstr(v.msg, "msg=u0:2"));
    two_members(20.5, 30, "ab");
    add("node=0 ev=bad why=forged-author msg=u0:2 from=mallory t=5");
    v = check("forged-author");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "only 1 of 2 members logged ev=bad"));
}
END_TEST

START_TEST(huge_or_wrapped_seq_fails)
{
    two_members(20.5, 30, "ab");
    struct verdict v = check("forged-huge-seq");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    add("node=1 ev=deliver msg=u1:4294967295 lts=5 from=mallory t=6");
    v = check("forged-huge-seq");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 1 delivered a message with an absurd"));
    two_members(20.5, 30, "ab");
    add("node=1 ev=send msg=u1:0 lts=9 t=31");
    v = check("forged-huge-seq");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 1 sent a message with an absurd or wrapped"));
}
END_TEST

START_TEST(ghost_test_needs_a_live_ghost)
{
    two_members(20.5, 30, "ab");
    add("node=0 ev=peer-alive peer=ghost t=1");
    struct verdict v = check("ghost-member");
    ck_assert_int_eq(v.kind, V_HARNESS); /* node 1 never heard it: the run proves nothing */
    add("node=1 ev=peer-alive peer=ghost t=1");
    v = check("ghost-member");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    add("node=1 ev=request req=u1.1.2 t=50"); /* locked out by the ghost */
    v = check("ghost-member");
    ck_assert_int_eq(v.kind, V_LIVENESS);
    ck_assert_ptr_nonnull(strstr(v.msg, "req=u1.1.2"));
}
END_TEST

/* key-forged: two_members, one injection (8 forged datagrams and a marker per member). */
static void key_forged_log(int missing)
{
    char line[160];
    two_members(20.5, 30, "ab");
    for (int i = 0; i < 2; i++)
        for (int k = i == missing; k < 9; k++) {
            snprintf(line, sizeof line, "node=%d ev=bad why=bad-mac len=%d addr=127.0.0.1:9 t=5",
                     i, k == 8 ? 6 : 40 + k);
            add(line);
        }
    R.applied[R.napplied++] = (struct applied_fault){0, F_CALL, 0};
}

START_TEST(key_forged_believed_fails)
{
    key_forged_log(-1);
    struct verdict v = check("key-forged");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    ck_assert_ptr_nonnull(strstr(R.info, "8 forged datagrams sent to each member, each logged "
                                         "at least 8 bad-mac"));
    key_forged_log(1); /* one forgery not refused (the marker does not count) */
    v = check("key-forged");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 1 logged 7 ev=bad why=bad-mac for the 8"));
    static const char *const believed[] = {
        "node=1 ev=peer-alive peer=mallory t=6",
        "node=0 ev=peer-restarted peer=u1 boot=4294967295 t=6",
        "node=1 ev=deliver msg=u0:100 lts=5 from=mallory t=6",
    };
    for (size_t k = 0; k < sizeof believed / sizeof *believed; k++) {
        key_forged_log(-1);
        add(believed[k]);
        v = check("key-forged");
        ck_assert_int_eq(v.kind, V_SAFETY);
        ck_assert_msg(strstr(v.msg, "believed a datagram without the group key"), "%s", v.msg);
    }
}
END_TEST

/* key-wrong-key: u0, u1 are the group (two_members), u3 of 4 holds another key. */
static void wrong_key_log(void)
{
    two_members(20.5, 30, "ab");
    R.n = 4;
    add("node=0 ev=bad why=bad-mac len=40 addr=127.0.0.1:9 t=5");
    add("node=1 ev=bad why=bad-mac len=40 addr=127.0.0.1:9 t=5");
    add("node=2 ev=bad why=bad-mac len=40 addr=127.0.0.1:9 t=5");
    add("node=3 ev=bad why=bad-mac len=40 addr=127.0.0.1:8 t=5");
}

START_TEST(key_wrong_key_believed_fails)
{
    wrong_key_log();
    add("node=2 ev=replicas agree=1 n=2 digest=ab t=40");
    add("node=2 ev=history n=2 digest=ab t=40");
    struct verdict v = check("key-wrong-key");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    ck_assert_ptr_nonnull(strstr(R.info, "the group logged 3 ev=bad why=bad-mac for u3's"));
    add("node=1 ev=peer-alive peer=u3 t=6");
    v = check("key-wrong-key");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 1 believed u3, which holds another key"));
    wrong_key_log();
    add("node=2 ev=replicas agree=1 n=2 digest=ab t=40");
    add("node=2 ev=history n=2 digest=ab t=40");
    add("node=3 ev=deliver msg=u0:1 lts=3 t=21");
    v = check("key-wrong-key");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_ptr_nonnull(strstr(v.msg, "node 3 believed the group"));
    wrong_key_log(); /* node 2 of the group never converged */
    v = check("key-wrong-key");
    ck_assert_int_eq(v.kind, V_LIVENESS);
}
END_TEST

/* The summary line never claims what did not happen: "all granted" only when all were. */
START_TEST(summary_says_how_many_were_granted)
{
    two_members(20.5, 30, "ab");
    add("node=1 ev=request req=u1.1.2 t=50");
    add("node=0 ev=request req=u0.1.2 t=50");
    struct verdict v = check("mutual-exclusion");
    ck_assert_int_eq(v.kind, V_LIVENESS);
    ck_assert_msg(strstr(R.info, "4 requests of surviving members, only 2 granted (2 never "
                                 "entered)"),
                  "%s", R.info);
    ck_assert_ptr_null(strstr(R.info, "all granted"));
    two_members(20.5, 30, "cd"); /* histories differ: not "converged" */
    v = check("mutual-exclusion");
    ck_assert_int_eq(v.kind, V_LIVENESS);
    ck_assert_msg(strstr(R.info, "NOT converged: node 1's history"), "%s", R.info);
}
END_TEST

/* Lamport's receive rule: lc after a REQ stamped ts is above ts, and a later request of that
 * member is stamped above it. */
START_TEST(clock_not_moved_by_a_req_fails)
{
    two_members(20.5, 30, "ab");
    add("node=1 ev=req from=u0 req=u0.1.2 ts=7 lc=8 t=31");
    add("node=1 ev=request req=u1.1.2 ts=9 lc=9 t=32");
    add("node=1 ev=cs-enter req=u1.1.2 t=33");
    add("node=1 ev=cs-exit req=u1.1.2 t=34");
    struct verdict v = check("mutual-exclusion");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    two_members(20.5, 30, "ab");
    add("node=1 ev=req from=u0 req=u0.1.2 ts=7 lc=7 t=31");
    v = check("mutual-exclusion");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_msg(strstr(v.msg, "lc=7 after a REQ stamped ts=7"), "%s", v.msg);
    two_members(20.5, 30, "ab");
    add("node=1 ev=req from=u0 req=u0.1.2 ts=7 lc=8 t=31");
    add("node=1 ev=request req=u1.1.2 ts=6 lc=6 t=32");
    add("node=1 ev=cs-enter req=u1.1.2 t=33");
    add("node=1 ev=cs-exit req=u1.1.2 t=34");
    v = check("mutual-exclusion");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_msg(strstr(v.msg, "stamped its request ts=6, not above the REQ ts=7"), "%s", v.msg);
    /* a REQ seen in an earlier life does not bind the restored clock */
    two_members(20.5, 30, "ab");
    add("node=1 ev=req from=u0 req=u0.1.2 ts=7 lc=8 t=31");
    add_life("node=1 ev=request req=u1.2.1 ts=6 lc=6 t=40", 1);
    add_life("node=1 ev=cs-enter req=u1.2.1 t=41", 1);
    add_life("node=1 ev=cs-exit req=u1.2.1 t=42", 1);
    v = check("mutual-exclusion");
    ck_assert_msg(v.kind != V_SAFETY, "%s", v.msg);
}
END_TEST

/* STEP 3: node 1 defers u0's request while inside, leaves and requests again without the REP. */
static void deferred_log(const char *after_exit)
{
    two_members(20.5, 30, "ab");
    add("node=1 ev=request req=u1.1.2 t=40");
    add("node=1 ev=cs-enter req=u1.1.2 t=41");
    add("node=1 ev=req from=u0 req=u0.1.2 t=42");
    add("node=1 ev=defer to=u0 req=u0.1.2 state=held t=42");
    add("node=1 ev=cs-exit req=u1.1.2 t=43");
    if (after_exit)
        add(after_exit);
    add("node=1 ev=request req=u1.1.3 t=44");
    add("node=1 ev=rep to=u0 req=u0.1.2 t=500"); /* only when u0 retransmitted */
    add("node=1 ev=cs-enter req=u1.1.3 t=501");
    add("node=1 ev=cs-exit req=u1.1.3 t=502");
}

START_TEST(deferred_reply_not_sent_on_exit_fails)
{
    deferred_log("node=1 ev=rep to=u0 req=u0.1.2 deferred=1 t=43.1");
    struct verdict v = check("mutual-exclusion");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    deferred_log("node=1 ev=peer-dead peer=u0 silent_ms=3001 t=43.1"); /* excused */
    v = check("mutual-exclusion");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    two_members(20.5, 30, "ab"); /* killed right after cs-exit: its REPs may not have left */
    add("node=1 ev=request req=u1.1.2 t=40");
    add("node=1 ev=cs-enter req=u1.1.2 t=41");
    add("node=1 ev=defer to=u0 req=u0.1.2 state=held t=42");
    add("node=1 ev=cs-exit req=u1.1.2 t=43");
    add_life("node=1 ev=ready t=60", 1);
    v = check("mutual-exclusion");
    ck_assert_msg(v.kind != V_LIVENESS || !strstr(v.msg, "deferred"), "%s", v.msg);
    deferred_log(NULL);
    v = check("mutual-exclusion");
    ck_assert_int_eq(v.kind, V_LIVENESS);
    ck_assert_msg(strstr(v.msg, "node 1 deferred u0's request and left the section without"), "%s",
                  v.msg);
}
END_TEST

START_TEST(message_id_sent_twice_fails)
{
    two_members(20.5, 30, "ab");
    add_life("node=1 ev=send msg=u1:1 lts=9 t=60", 1); /* restarted, reused seq 1 */
    struct verdict v = check("mutual-exclusion");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_msg(strstr(v.msg, "message id u1:1 was sent twice"), "%s", v.msg);
}
END_TEST

/* damaged-checkpoint: node 1 checkpointed n=1 then n=2, was killed, its newest file damaged. */
static void damaged_log(const char *restore)
{
    two_members(20.5, 30, "ab");
    add("node=1 ev=checkpoint n=1 seq=1 t=25");
    add("node=1 ev=checkpoint n=2 seq=1 t=35");
    add_life(restore, 1);
    add_life("node=1 ev=ready t=60", 1);
    add_life("node=1 ev=replicas agree=1 n=2 digest=ab t=70", 1);
    add_life("node=1 ev=history n=2 digest=ab t=70", 1);
    R.applied[0] = (struct applied_fault){50, F_CRASH, 1};
    R.applied[1] = (struct applied_fault){52, F_CALL, 1};
    R.applied[2] = (struct applied_fault){55, F_RESTART, 1};
    for (int k = 0; k < 2; k++) /* two more rounds, restarts that printed nothing */
        R.applied[3 + k] = (struct applied_fault){60 + k, F_CALL, 1};
    R.napplied = 5;
}

START_TEST(damaged_checkpoint_needs_prev)
{
    damaged_log("node=1 ev=restored from=previous n=1 seq=1 t=60");
    struct verdict v = check("damaged-checkpoint");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    ck_assert_msg(strstr(R.info, "restored 1 of 1 restarts, 1 from .prev"), "%s", R.info);
    damaged_log("node=1 ev=fresh boot=1 t=60");
    v = check("damaged-checkpoint");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_msg(strstr(v.msg, "without restoring") && strstr(v.msg, ".prev"), "%s", v.msg);
    damaged_log("node=1 ev=restored from=checkpoint n=2 seq=1 t=60");
    v = check("damaged-checkpoint");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_msg(strstr(v.msg, "restored its newest checkpoint file, which the grader had "
                                "truncated"),
                  "%s", v.msg);
    damaged_log("node=1 ev=restored from=previous n=0 seq=0 t=60");
    v = check("damaged-checkpoint");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_msg(strstr(v.msg, "restored less than its previous checkpoint"), "%s", v.msg);
}
END_TEST

/* A life that saved only once after restoring from .prev (seen under valgrind): the next damage
 * destroys that save, and .prev still holds the file the life restored (n=1), not the damaged
 * n=2 before it. Restoring n=1 is right; less is not. */
static void damaged_twice_log(const char *second_restore)
{
    two_members(20.5, 30, "ab");
    add("node=1 ev=checkpoint n=1 seq=1 t=25");
    add("node=1 ev=checkpoint n=2 seq=1 t=35");
    add_life("node=1 ev=ready t=60", 1);
    add_life("node=1 ev=restored from=previous n=1 seq=1 t=61", 1);
    add_life("node=1 ev=checkpoint n=1 seq=1 t=62", 1);
    add_life("node=1 ev=ready t=80", 2);
    add_life(second_restore, 2);
    add_life("node=1 ev=replicas agree=1 n=2 digest=ab t=90", 2);
    add_life("node=1 ev=history n=2 digest=ab t=90", 2);
    R.applied[0] = (struct applied_fault){50, F_CRASH, 1};
    R.applied[1] = (struct applied_fault){52, F_CALL, 1};
    R.applied[2] = (struct applied_fault){55, F_RESTART, 1};
    R.applied[3] = (struct applied_fault){70, F_CRASH, 1};
    R.applied[4] = (struct applied_fault){72, F_CALL, 1};
    R.applied[5] = (struct applied_fault){75, F_RESTART, 1};
    R.applied[6] = (struct applied_fault){95, F_CALL, 1}; /* a third round that printed nothing */
    R.napplied = 7;
}

START_TEST(damaged_after_a_single_save_wants_what_prev_holds)
{
    damaged_twice_log("node=1 ev=restored from=previous n=1 seq=1 t=81");
    struct verdict v = check("damaged-checkpoint");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    damaged_twice_log("node=1 ev=restored from=previous n=0 seq=0 t=81");
    v = check("damaged-checkpoint");
    ck_assert_int_eq(v.kind, V_SAFETY);
    ck_assert_msg(strstr(v.msg, "restored less than its previous checkpoint"), "%s", v.msg);
}
END_TEST

int main(void)
{
    tl_lab = "lab5-chat-multicast";
    Suite *s = suite_create("lab5");
    TCase *tc = tcase_create("checkers");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, good_log_passes);
    tcase_add_test(tc, grant_for_an_earlier_request_fails);
    tcase_add_test(tc, overlap_fails);
    tcase_add_test(tc, different_histories_fail);
    tcase_add_test(tc, ungranted_request_fails);
    tcase_add_test(tc, extra_reply_breaks_the_count);
    tcase_add_test(tc, restore_less_than_checkpoint_fails);
    tcase_add_test(tc, fresh_start_after_kill_fails);
    tcase_add_test(tc, silent_bad_input_fails);
    tcase_add_test(tc, dead_member_must_be_noticed);
    tcase_add_test(tc, own_name_forgery_shown_fails);
    tcase_add_test(tc, huge_or_wrapped_seq_fails);
    tcase_add_test(tc, ghost_test_needs_a_live_ghost);
    tcase_add_test(tc, key_forged_believed_fails);
    tcase_add_test(tc, key_wrong_key_believed_fails);
    tcase_add_test(tc, summary_says_how_many_were_granted);
    tcase_add_test(tc, clock_not_moved_by_a_req_fails);
    tcase_add_test(tc, deferred_reply_not_sent_on_exit_fails);
    tcase_add_test(tc, message_id_sent_twice_fails);
    tcase_add_test(tc, damaged_checkpoint_needs_prev);
    tcase_add_test(tc, damaged_after_a_single_save_wants_what_prev_holds);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    run_reset(0);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
