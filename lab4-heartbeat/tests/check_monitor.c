/* check_monitor.c - Q4's monitor: failures, recovery, the lowest alive id, critical, with a
 * fake clock. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "monitor.h"

#define T0 5000
static struct monitor M;

static void setup(void)
{
    monitor_init(&M, 300);
}

static int tick(int64_t t, long *first)
{
    long failed[MON_MAX_WORKERS] = {-1};
    int k = monitor_tick(&M, t, failed, MON_MAX_WORKERS);
    if (first)
        *first = failed[0];
    return k;
}

START_TEST(nothing_known)
{
    ck_assert_int_eq(monitor_target(&M), MON_NONE);
    ck_assert(!monitor_update_critical(&M)); /* no worker yet is not a failure */
    ck_assert_int_eq(monitor_next_deadline(&M), INT64_MAX);
}
END_TEST

START_TEST(lowest_alive_id)
{
    ck_assert_int_eq(monitor_on_beat(&M, 13, T0), MON_JOINED);
    ck_assert_int_eq(monitor_target(&M), 13);
    ck_assert_int_eq(monitor_on_beat(&M, 2, T0), MON_JOINED);
    ck_assert_int_eq(monitor_on_beat(&M, 77777777, T0), MON_JOINED);
    ck_assert_int_eq(monitor_on_beat(&M, 2, T0 + 50), MON_BEAT);
    ck_assert_int_eq(monitor_target(&M), 2); /* by id, not by order of arrival */
}
END_TEST

START_TEST(failover_then_critical)
{
    monitor_on_beat(&M, 1, T0);
    monitor_on_beat(&M, 2, T0);
    monitor_on_beat(&M, 3, T0);
    long first;
    ck_assert_int_eq(tick(T0 + 300, NULL), 0); /* exactly the timeout: not yet */
    monitor_on_beat(&M, 2, T0 + 200);
    monitor_on_beat(&M, 3, T0 + 250);
    ck_assert_int_eq(tick(T0 + 301, &first), 1);
    ck_assert_int_eq(first, 1);
    ck_assert_int_eq(monitor_target(&M), 2);
    ck_assert(!monitor_update_critical(&M));
    ck_assert_int_eq(tick(T0 + 501, &first), 1);
    ck_assert_int_eq(first, 2);
    ck_assert_int_eq(monitor_target(&M), 3);
    ck_assert_int_eq(tick(T0 + 551, &first), 1);
    ck_assert_int_eq(monitor_target(&M), MON_NONE);
    ck_assert(monitor_update_critical(&M));  /* it became critical now */
    ck_assert(!monitor_update_critical(&M)); /* and says so once */
    ck_assert(M.critical);
}
END_TEST

START_TEST(recovery_leaves_critical)
{
    monitor_on_beat(&M, 4, T0);
    tick(T0 + 400, NULL);
    ck_assert(monitor_update_critical(&M));
    ck_assert_int_eq(monitor_on_beat(&M, 4, T0 + 1000), MON_RECOVERED);
    ck_assert(!monitor_update_critical(&M));
    ck_assert(!M.critical);
    ck_assert_int_eq(monitor_target(&M), 4);
    ck_assert_int_eq(monitor_on_beat(&M, 4, T0 + 1050), MON_BEAT);
    /* a recovered lower id takes the orders back */
    monitor_on_beat(&M, 9, T0 + 1050);
    ck_assert_int_eq(monitor_target(&M), 4);
}
END_TEST

START_TEST(deadline_and_forgive)
{
    monitor_on_beat(&M, 1, T0);
    monitor_on_beat(&M, 2, T0 + 100);
    ck_assert_int_eq(monitor_next_deadline(&M), T0 + 301);
    monitor_forgive(&M, 1000); /* the monitor itself was stopped */
    ck_assert_int_eq(tick(T0 + 1200, NULL), 0);
    ck_assert_int_eq(monitor_next_deadline(&M), T0 + 1301);
}
END_TEST

START_TEST(table_full)
{
    for (long i = 0; i < MON_MAX_WORKERS; i++)
        ck_assert_int_eq(monitor_on_beat(&M, i + 100, T0), MON_JOINED);
    ck_assert_int_eq(monitor_on_beat(&M, 1, T0), MON_FULL);
    ck_assert_int_eq(monitor_target(&M), 100);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("monitor");
    TCase *t = tcase_create("monitor");
    tcase_set_timeout(t, 10);
    tcase_add_checked_fixture(t, setup, NULL);
    tcase_add_test(t, nothing_known);
    tcase_add_test(t, lowest_alive_id);
    tcase_add_test(t, failover_then_critical);
    tcase_add_test(t, recovery_leaves_critical);
    tcase_add_test(t, deadline_and_forgive);
    tcase_add_test(t, table_full);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
