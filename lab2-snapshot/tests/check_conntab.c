/* check_conntab.c - the inbound connection table's rules, on a table filled by hand. */
#include <check.h>
#include <stdlib.h>

#include "conntab.h"

#define N 6
static struct conn t[N];

static void clear(void)
{
    for (int k = 0; k < N; k++)
        t[k] = (struct conn){.fd = -1, .peer = -1};
}

static void put(int k, int peer, bool spoke, int64_t since)
{
    t[k] = (struct conn){.fd = 10 + k, .peer = peer, .spoke = spoke, .since_us = since};
}

START_TEST(strangers_make_room_and_time_out)
{
    clear();
    ck_assert_int_eq(ctab_free(t, N), 0);
    ck_assert_int_eq(ctab_oldest_stranger(t, N), -1);
    ck_assert(ctab_next_expiry(t, N, 100) == INT64_MAX);
    for (int k = 0; k < N; k++)
        put(k, k < 2 ? 1 : -1, k == 0, 50 - k); /* 0 is a channel, 1 a claim, 2..5 strangers */
    ck_assert_int_eq(ctab_free(t, N), -1);
    ck_assert_int_eq(ctab_oldest_stranger(t, N), 5); /* not 1, older but a claim */
    ck_assert(ctab_next_expiry(t, N, 100) == 145);
    ck_assert_int_eq(ctab_expired(t, N, 144, 100), -1);
    ck_assert_int_eq(ctab_expired(t, N, 145, 100), 5);
    t[5].fd = -1;
    ck_assert_int_eq(ctab_free(t, N), 5);
    ck_assert_int_eq(ctab_expired(t, N, 145, 100), -1);
}
END_TEST

/* Issue 12: a forged HELLO for a player not started yet shut the real one out for good. */
START_TEST(claims_until_one_speaks)
{
    clear();
    put(0, 1, false, 10); /* the forger's silent claim to be player 1 */
    put(1, -1, false, 20);
    int victim = 7;
    ck_assert_int_eq(ctab_on_hello(t, N, 1, 1, &victim), CTAB_ACCEPT); /* the real one */
    put(1, 1, false, 20);
    put(2, -1, false, 30);
    ck_assert_int_eq(ctab_on_hello(t, N, 2, 1, &victim), CTAB_EVICT);
    ck_assert_int_eq(victim, 0);                                       /* the oldest silent claim */
    ck_assert_int_eq(ctab_on_hello(t, N, 2, 2, &victim), CTAB_ACCEPT); /* other ids unaffected */
    t[1].spoke = true; /* its first frame was accepted: it is player 1's channel */
    ck_assert_int_eq(ctab_rival(t, N, 1), 0);
    t[0].fd = -1;
    ck_assert_int_eq(ctab_rival(t, N, 1), -1);
    ck_assert_int_eq(ctab_on_hello(t, N, 2, 1, &victim), CTAB_TAKEN);
}
END_TEST

static Suite *conntab_suite(void)
{
    Suite *s = suite_create("conntab");
    TCase *tc = tcase_create("conntab");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, strangers_make_room_and_time_out);
    tcase_add_test(tc, claims_until_one_speaks);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(conntab_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
