/* check_ra.c - Ricart-Agrawala's decision rules, retransmission and dead peers, fake clock. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ra.h"

static char miss[PROTO_MAXLIST][PROTO_NAMELEN + 1];

/* "b" with peers a and c, both heard at t=0; retransmit after 100 ms, dead after 1000 ms. */
static struct ra setup(void)
{
    struct ra ra;
    ra_init(&ra, "b", 1, 100, 1000);
    ra_heard(&ra, ra_peer(&ra, "a"), 0);
    ra_heard(&ra, ra_peer(&ra, "c"), 0);
    return ra;
}

START_TEST(released_replies_at_once)
{
    struct ra ra = setup();
    ck_assert_int_eq(ra_on_request(&ra, 0, 5, 1, 1), RA_REPLY);
}
END_TEST

START_TEST(priority_by_timestamp_then_name)
{
    ck_assert(ra_before(1, "z", 2, "a"));
    ck_assert(ra_before(2, "a", 2, "b"));
    ck_assert(!ra_before(2, "b", 2, "a"));
    ck_assert(!ra_before(3, "a", 2, "b"));
    struct ra ra = setup();
    ra.lc = 9;
    ck_assert(!ra_request(&ra, 0)); /* ts 10 */
    ck_assert_int_eq(ra.my_ts, 10);
    ck_assert_int_eq(ra_on_request(&ra, 0, 11, 1, 1), RA_DEFER); /* a's is later */
    ck_assert_int_eq(ra_on_request(&ra, 1, 9, 1, 1), RA_REPLY);  /* c's is earlier */
    ck_assert_int_eq(ra_on_request(&ra, 1, 10, 1, 2), RA_DEFER); /* c's next: tie, b < c */
}
END_TEST

START_TEST(tie_broken_by_name)
{
    struct ra ra = setup();
    ra.lc = 9;
    ra_request(&ra, 0);                                          /* ts 10, name b */
    ck_assert_int_eq(ra_on_request(&ra, 0, 10, 1, 1), RA_REPLY); /* a < b: a goes first */
    ck_assert_int_eq(ra_on_request(&ra, 1, 10, 1, 1), RA_DEFER); /* b < c: c waits */
}
END_TEST

START_TEST(held_defers_and_release_answers)
{
    struct ra ra = setup();
    int owed[RA_MAXPEERS];
    ck_assert(!ra_request(&ra, 0));
    ck_assert(!ra_on_reply(&ra, 0, 1, ra.my_req));
    ck_assert(!ra_on_reply(&ra, 0, 1, ra.my_req));     /* a duplicate REP changes nothing */
    ck_assert(!ra_on_reply(&ra, 1, 1, ra.my_req + 1)); /* a REP for another request */
    ck_assert(!ra_on_reply(&ra, 1, 2, ra.my_req));     /* ... or another boot */
    ck_assert(ra_on_reply(&ra, 1, 1, ra.my_req));
    ra_enter(&ra);
    ck_assert_int_eq(ra_on_request(&ra, 0, 1, 1, 1), RA_DEFER); /* even an older stamp */
    ck_assert_int_eq(ra_on_request(&ra, 0, 1, 1, 1), RA_DUP);   /* retransmitted: still owed */
    ck_assert_int_eq(ra_release(&ra, owed), 1);
    ck_assert_int_eq(owed[0], 0);
    ck_assert_int_eq(ra.state, RA_RELEASED);
    ck_assert_int_eq(ra_release(&ra, owed), 0); /* owed once only */
}
END_TEST

START_TEST(lost_rep_is_answered_again)
{
    struct ra ra = setup();
    ck_assert_int_eq(ra_on_request(&ra, 0, 5, 1, 1), RA_REPLY);
    /* the REP was lost; a retransmitted REQ (same boot and number) gets another */
    ck_assert_int_eq(ra_on_request(&ra, 0, 5, 1, 1), RA_REPLY);
    /* ... judged by the first copy's stamp, even if a later copy claims another */
    ra.lc = 1;
    ra_request(&ra, 0); /* ts 2: earlier than 5, so we defer it though this copy claims 1 */
    ck_assert_int_eq(ra_on_request(&ra, 0, 1, 1, 1), RA_DEFER);
    /* an old request arriving after a newer one is ignored */
    ck_assert_int_eq(ra_on_request(&ra, 0, 9, 1, 2), RA_DEFER);
    ck_assert_int_eq(ra_on_request(&ra, 0, 5, 1, 1), RA_DUP);
}
END_TEST

START_TEST(retransmits_only_to_silent_peers)
{
    struct ra ra = setup();
    int dead[RA_MAXPEERS], nmiss;
    bool retx;
    ra_request(&ra, 0);
    ra_on_reply(&ra, 0, 1, ra.my_req);
    ck_assert_int_eq(ra_tick(&ra, 50, dead, &retx, miss, &nmiss), 0);
    ck_assert(!retx);
    ra_tick(&ra, 100, dead, &retx, miss, &nmiss);
    ck_assert(retx);
    ck_assert_int_eq(nmiss, 1);
    ck_assert_str_eq(miss[0], "c");
    ra_tick(&ra, 150, dead, &retx, miss, &nmiss);
    ck_assert(!retx); /* the timer restarted */
    ra_tick(&ra, 200, dead, &retx, miss, &nmiss);
    ck_assert(retx);
}
END_TEST

START_TEST(dead_peer_is_dropped_and_readded)
{
    struct ra ra = setup();
    int dead[RA_MAXPEERS], nmiss;
    bool retx;
    ra_request(&ra, 0);
    ra_heard(&ra, 0, 900); /* a keeps talking, c falls silent */
    ck_assert(ra_on_reply(&ra, 0, 1, ra.my_req) == false);
    ck_assert_int_eq(ra_tick(&ra, 1000, dead, &retx, miss, &nmiss), 0); /* not yet: > 1000 */
    ck_assert(!ra_all_replied(&ra));
    ck_assert_int_eq(ra_tick(&ra, 1001, dead, &retx, miss, &nmiss), 1);
    ck_assert_int_eq(dead[0], 1);
    ck_assert(ra_all_replied(&ra)); /* c no longer blocks us */
    ra_enter(&ra);
    int owed[RA_MAXPEERS];
    ra_release(&ra, owed);
    /* c speaks again: it is back in the reply set of the next request */
    ck_assert(ra_heard(&ra, 1, 1500));
    ck_assert(!ra_heard(&ra, 1, 1501));
    ck_assert(!ra_request(&ra, 1502));
    ra_on_reply(&ra, 0, 1, ra.my_req);
    ck_assert(!ra_all_replied(&ra));
}
END_TEST

/* Issue 12: a ghost "g" that only sends HELLOs (heard every 100 ms, so never dead) used to hold
 * b's request until --dead-ms. Now it is waited for ghost_ms, then b enters; a genuine peer "a"
 * (one that sent a REQ or REP) is still waited for however long it takes. */
START_TEST(ghost_does_not_block_but_members_do)
{
    struct ra ra;
    int out[RA_MAXPEERS];
    ra_init(&ra, "b", 1, 100, 1000000);
    ra.ghost_ms = 500;
    int a = ra_peer(&ra, "a"), g = ra_peer(&ra, "g");
    ra_heard(&ra, a, 0), ra_heard(&ra, g, 0);
    ck_assert_int_eq(ra_on_request(&ra, a, 1, 1, 1), RA_REPLY); /* a takes part */
    ck_assert(!ra_request(&ra, 10));
    ck_assert(!ra_on_reply(&ra, a, 1, ra.my_req)); /* a grants; g never will */
    for (int64_t t = 10; t < 510; t += 100) {
        ra_heard(&ra, g, t);
        ck_assert_int_eq(ra_ghosts(&ra, t, out), 0);
        ck_assert(!ra_all_replied(&ra));
    }
    ck_assert(ra_ghost_deadline(&ra) == 510);
    ck_assert_int_eq(ra_ghosts(&ra, 510, out), 1);
    ck_assert_int_eq(out[0], g);
    ck_assert(ra_all_replied(&ra)); /* b may enter */
    ck_assert(ra_ghost_deadline(&ra) == INT64_MAX);
    ra_enter(&ra);
    int owed[RA_MAXPEERS];
    ra_release(&ra, owed);
    /* the next request is not held by the ghost at all */
    ck_assert(!ra_request(&ra, 600));
    ck_assert(ra_on_reply(&ra, a, 1, ra.my_req));
    ra_enter(&ra), ra_release(&ra, owed);
    /* a genuine member that never granted yet is not a ghost once it has sent a REQ: waited
     * for long after ghost_ms (safety: it may be in the section) */
    ck_assert(!ra_request(&ra, 1000));
    ck_assert_int_eq(ra_on_request(&ra, g, 100, 1, 1), RA_DEFER); /* g asks: it takes part */
    ck_assert(!ra_all_replied(&ra));
    ck_assert_int_eq(ra_ghosts(&ra, 5000, out), 0);
    ck_assert(ra_on_reply(&ra, a, 1, ra.my_req) == false);
    ck_assert(ra_on_reply(&ra, g, 1, ra.my_req)); /* granted only with g's REP */
}
END_TEST

/* With ghost_ms 0 (ra_init's default) nobody is ever a ghost: plain Ricart-Agrawala. */
START_TEST(no_ghost_rule_by_default)
{
    struct ra ra = setup();
    int out[RA_MAXPEERS];
    ck_assert(!ra_request(&ra, 0));
    ck_assert_int_eq(ra_ghosts(&ra, 100000, out), 0);
    ck_assert(!ra_all_replied(&ra));
}
END_TEST

/* b asks; a grants, then restarts with an older clock and asks first: its grant is void. */
START_TEST(restarted_peer_must_grant_again)
{
    struct ra ra = setup();
    ck_assert_int_eq(ra_incarnation(&ra, 0, 1), 0); /* first heard: not a restart */
    ck_assert_int_eq(ra_incarnation(&ra, 1, 1), 0);
    ra.lc = 99;
    ra_request(&ra, 0); /* ts 100 */
    ck_assert(!ra_on_reply(&ra, 0, 1, ra.my_req));
    ck_assert_int_eq(ra_incarnation(&ra, 0, 2), 1);
    ck_assert_int_eq(ra_incarnation(&ra, 0, 1), -1); /* a stale datagram of the old life */
    ck_assert_int_eq(ra_on_request(&ra, 0, 51, 2, 1), RA_REPLY); /* its new request is older */
    ck_assert(!ra_on_reply(&ra, 1, 1, ra.my_req)); /* c's REP alone is not enough now */
    ck_assert(!ra_all_replied(&ra));
    ck_assert(ra_on_reply(&ra, 0, 1, ra.my_req)); /* a's new life grants again */
}
END_TEST

START_TEST(alone_is_granted_at_once)
{
    struct ra ra;
    ra_init(&ra, "solo", 1, 100, 1000);
    ck_assert(ra_request(&ra, 0));
}
END_TEST

START_TEST(clock_rule)
{
    struct ra ra = setup();
    ra_observe(&ra, 10);
    ck_assert_int_eq(ra.lc, 11);
    ra_observe(&ra, 3);
    ck_assert_int_eq(ra.lc, 12);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ra");
    TCase *tc = tcase_create("rules");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, released_replies_at_once);
    tcase_add_test(tc, priority_by_timestamp_then_name);
    tcase_add_test(tc, tie_broken_by_name);
    tcase_add_test(tc, held_defers_and_release_answers);
    tcase_add_test(tc, lost_rep_is_answered_again);
    tcase_add_test(tc, retransmits_only_to_silent_peers);
    tcase_add_test(tc, dead_peer_is_dropped_and_readded);
    tcase_add_test(tc, restarted_peer_must_grant_again);
    tcase_add_test(tc, alone_is_granted_at_once);
    tcase_add_test(tc, clock_rule);
    tcase_add_test(tc, ghost_does_not_block_but_members_do);
    tcase_add_test(tc, no_ghost_rule_by_default);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
