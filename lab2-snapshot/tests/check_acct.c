/* check_acct.c - which incoming coins a player accepts: the reproducers, boundaries. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "acct.h"

/* Apply an XFER the way node.c does: check, then accept and add. Returns the why token. */
static const char *deliver(struct acct *a, int from, uint32_t seq, uint32_t gold, uint32_t *bal)
{
    const char *why = acct_check(a, from, seq, gold, *bal);
    if (!why) {
        acct_accept(a, from, seq);
        *bal += gold;
    }
    return why;
}

/* Issue 12: "msg=1:10 accepted 14 M times" took a player from 100 to 4,294,967,200 and then to
 * 204. Here the same 14 M frames move at most one transfer's worth of gold. */
START_TEST(replayed_xfer_14m_times)
{
    struct acct a;
    uint32_t bal = 100;
    acct_init(&a, 3, 100);
    ck_assert_ptr_null(deliver(&a, 1, 10, 30, &bal));
    ck_assert_uint_eq(bal, 130);
    long refused = 0; /* counted, not asserted 14 M times: a Check assertion costs a syscall */
    for (long k = 0; k < 14000000; k++)
        refused += deliver(&a, 1, 10, 30, &bal) != NULL;
    ck_assert_int_eq(refused, 14000000);
    ck_assert_uint_eq(bal, 130);
    ck_assert_str_eq(deliver(&a, 1, 10, 30, &bal), "replay");
}
END_TEST

/* Fresh numbers cannot be told from genuine ones without a key, but the balance is bounded by
 * the supply, so it never wraps, whatever the flood. */
START_TEST(fresh_xfer_flood_never_wraps)
{
    struct acct a;
    uint32_t bal = 100;
    acct_init(&a, 3, 100);
    uint32_t most = bal;
    for (uint32_t seq = 1; seq <= 14000000; seq++) {
        deliver(&a, 1, seq, 300, &bal); /* the most the old check let through */
        deliver(&a, 2, seq, 7, &bal);
        most = bal > most ? bal : most;
    }
    ck_assert_uint_le(most, 300);
    ck_assert_uint_ge(bal, 100);
    ck_assert_str_eq(acct_check(&a, 1, 14000001, 300, bal), "overflow");
}
END_TEST

/* One counter per sender for all its peers: gaps are normal, going back never is. */
START_TEST(gaps_accepted_back_refused)
{
    struct acct a;
    uint32_t bal = 100;
    acct_init(&a, 3, 100);
    ck_assert_ptr_null(deliver(&a, 1, 3, 1, &bal));
    ck_assert_ptr_null(deliver(&a, 1, 7, 1, &bal)); /* 4..6 went to other players */
    ck_assert_str_eq(deliver(&a, 1, 5, 1, &bal), "replay");
    ck_assert_str_eq(deliver(&a, 1, 7, 1, &bal), "replay");
    ck_assert_ptr_null(deliver(&a, 1, 8, 1, &bal));
    ck_assert_ptr_null(deliver(&a, 2, 1, 1, &bal)); /* numbers are per sender */
    ck_assert_str_eq(deliver(&a, 2, 1, 1, &bal), "replay");
    ck_assert_uint_eq(bal, 104);
}
END_TEST

START_TEST(malformed_and_boundaries)
{
    struct acct a;
    acct_init(&a, 3, 100);
    ck_assert_str_eq(acct_check(&a, 1, 0, 5, 100), "bad_seq");
    ck_assert_str_eq(acct_check(&a, -1, 1, 5, 100), "bad_seq");
    ck_assert_str_eq(acct_check(&a, PROTO_MAX_NODES, 1, 5, 100), "bad_seq");
    ck_assert_str_eq(acct_check(&a, 1, 1, 0, 100), "bad_gold");
    ck_assert_ptr_null(acct_check(&a, 1, 1, 200, 100)); /* exactly the supply */
    ck_assert_str_eq(acct_check(&a, 1, 1, 201, 100), "overflow");
    ck_assert_str_eq(acct_check(&a, 1, 1, UINT32_MAX, 100), "overflow");
    ck_assert_str_eq(acct_check(&a, 1, 1, 1, UINT32_MAX), "overflow"); /* the sum is 64-bit */
    ck_assert_ptr_null(acct_check(&a, 1, UINT32_MAX, 1, 0));
    acct_accept(&a, 1, UINT32_MAX);
    ck_assert_str_eq(acct_check(&a, 1, UINT32_MAX, 1, 0), "replay"); /* nothing wraps to 0 */
    acct_init(&a, PROTO_MAX_NODES, 100000000); /* the largest --gold, 16 players */
    ck_assert_ptr_null(acct_check(&a, 3, 1, 100000000, 1500000000));
    ck_assert_str_eq(acct_check(&a, 3, 1, 100000001, 1500000000), "overflow");
}
END_TEST

static Suite *acct_suite(void)
{
    Suite *s = suite_create("acct");
    TCase *tc = tcase_create("acct");
    tcase_set_timeout(tc, 120); /* 14 M iterations, also under valgrind */
    tcase_add_test(tc, replayed_xfer_14m_times);
    tcase_add_test(tc, fresh_xfer_flood_never_wraps);
    tcase_add_test(tc, gaps_accepted_back_refused);
    tcase_add_test(tc, malformed_and_boundaries);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(acct_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
