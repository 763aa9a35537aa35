/* check_registry.c - the P2P registry's transitions and timing, driven by a fake clock. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

static const char *const ADDRS[] = {"127.0.0.1:9101", "127.0.0.1:9102", "127.0.0.1:9103"};
#define T0 1000000 /* the fake clock's start, ms: any value works */

static struct registry R;

static void setup(void)
{
    ck_assert_int_eq(registry_init(&R, ADDRS, 3, 500, 0.8, T0), 0);
}

static void teardown(void)
{
    registry_free(&R);
}

/* Tick at t; returns how many changed, the first one in *first. */
static int tick(int64_t t, int *first)
{
    int changed[8] = {-1};
    int k = registry_tick(&R, t, changed, 8);
    if (first)
        *first = changed[0];
    return k;
}

START_TEST(starts_unknown)
{
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(R.peer[i].status, REG_UNKNOWN);
        ck_assert_str_eq(R.peer[i].addr, ADDRS[i]);
        ck_assert_str_eq(R.peer[i].id, "");
    }
    ck_assert_int_eq(registry_next_deadline(&R), INT64_MAX); /* nobody asked yet */
    ck_assert_int_eq(tick(T0 + 5000, NULL), 0);
}
END_TEST

START_TEST(first_answer_alive)
{
    int ch = registry_on_alive(&R, 1, "uuid-b", true, 0.2, T0 + 10);
    ck_assert_int_eq(ch, REG_CH_STATUS | REG_CH_ID);
    ck_assert_int_eq(R.peer[1].status, REG_ALIVE);
    ck_assert_str_eq(R.peer[1].id, "uuid-b");
    ck_assert_int_eq(R.peer[1].last_seen, T0 + 10);
    /* the same answer again changes nothing */
    ck_assert_int_eq(registry_on_alive(&R, 1, "uuid-b", true, 0.2, T0 + 110), 0);
    ck_assert_int_eq(R.peer[1].last_seen, T0 + 110);
}
END_TEST

/* The rule is "more than timeout": silent for exactly 500 ms is still ALIVE. */
START_TEST(timeout_boundary)
{
    registry_on_alive(&R, 0, "a", false, 0, T0);
    registry_on_alive(&R, 1, "b", false, 0, T0);
    registry_on_alive(&R, 2, "c", false, 0, T0);
    ck_assert_int_eq(tick(T0 + 499, NULL), 0);
    ck_assert_int_eq(tick(T0 + 500, NULL), 0);
    ck_assert_int_eq(R.peer[0].status, REG_ALIVE);
    registry_on_alive(&R, 0, "a", false, 0, T0 + 400);
    registry_on_alive(&R, 2, "c", false, 0, T0 + 450);
    int first;
    ck_assert_int_eq(tick(T0 + 501, &first), 1);
    ck_assert_int_eq(first, 1);
    ck_assert_int_eq(R.peer[1].status, REG_TIMEOUT);
    ck_assert_int_eq(tick(T0 + 600, NULL), 0); /* reported once, not at every tick */
    ck_assert_int_eq(registry_next_deadline(&R), T0 + 400 + 501);
    ck_assert_int_eq(tick(T0 + 951, NULL), 2);
    ck_assert_int_eq(registry_next_deadline(&R), INT64_MAX);
}
END_TEST

START_TEST(never_answers_times_out)
{
    for (int i = 0; i < 3; i++)
        registry_on_ask(&R, i, T0 + 10);
    registry_on_ask(&R, 1, T0 + 200); /* asked again: the timer still runs from the first */
    registry_on_alive(&R, 0, "a", false, 0, T0 + 300);
    ck_assert_int_eq(registry_next_deadline(&R), T0 + 511);
    int first;
    ck_assert_int_eq(tick(T0 + 510, &first), 0);
    ck_assert_int_eq(tick(T0 + 511, &first), 2); /* 1 and 2: silent since the first request */
    ck_assert_int_eq(R.peer[1].status, REG_TIMEOUT);
    ck_assert_int_eq(R.peer[2].status, REG_TIMEOUT);
    ck_assert_int_eq(R.peer[0].status, REG_ALIVE);
}
END_TEST

START_TEST(recovers_with_new_id)
{
    registry_on_alive(&R, 2, "old", false, 0, T0);
    tick(T0 + 600, NULL);
    ck_assert_int_eq(R.peer[2].status, REG_TIMEOUT);
    int ch = registry_on_alive(&R, 2, "new", false, 0, T0 + 2000);
    ck_assert_int_eq(ch, REG_CH_STATUS | REG_CH_ID);
    ck_assert_int_eq(R.peer[2].status, REG_ALIVE);
    ck_assert_str_eq(R.peer[2].id, "new");
    /* back with the same id (a paused node): only the status changes */
    tick(T0 + 2600, NULL);
    ck_assert_int_eq(registry_on_alive(&R, 2, "new", false, 0, T0 + 3000), REG_CH_STATUS);
    /* restarted faster than the timeout: the id changes, the status does not */
    ck_assert_int_eq(registry_on_alive(&R, 2, "newer", false, 0, T0 + 3100), REG_CH_ID);
}
END_TEST

START_TEST(late_answer_never_moves_back)
{
    registry_on_alive(&R, 0, "a", false, 0, T0 + 300);
    registry_on_alive(&R, 0, "a", false, 0, T0 + 200); /* an older timestamp */
    ck_assert_int_eq(R.peer[0].last_seen, T0 + 300);
}
END_TEST

START_TEST(load_flag)
{
    ck_assert_int_eq(registry_on_alive(&R, 0, "a", true, 0.5, T0) & REG_CH_FLAG, 0);
    ck_assert_int_eq(registry_on_alive(&R, 0, "a", true, 0.81, T0 + 1), REG_CH_FLAG);
    ck_assert(R.peer[0].overloaded);
    ck_assert_int_eq(registry_on_alive(&R, 0, "a", true, 0.9, T0 + 2), 0);
    ck_assert_int_eq(registry_on_alive(&R, 0, "a", true, 0.8, T0 + 3), REG_CH_FLAG); /* not > */
    ck_assert(!R.peer[0].overloaded);
    ck_assert_int_eq(registry_on_alive(&R, 0, "a", false, 0, T0 + 4), 0); /* no LOAD: no flag */
    R.threshold = 0;                                                      /* off */
    ck_assert_int_eq(registry_on_alive(&R, 0, "a", true, 99, T0 + 5), 0);
}
END_TEST

START_TEST(forgive_our_own_pause)
{
    registry_on_ask(&R, 2, T0);
    registry_on_alive(&R, 0, "a", false, 0, T0 + 100);
    registry_on_alive(&R, 1, "b", false, 0, T0 + 100);
    ck_assert_int_eq(tick(T0 + 501, NULL), 1); /* 2 never answered */
    registry_forgive(&R, 2000);                /* we were stopped for 2 s */
    ck_assert_int_eq(tick(T0 + 2550, NULL), 0);
    ck_assert_int_eq(R.peer[0].status, REG_ALIVE);
    ck_assert_int_eq(R.peer[2].status, REG_TIMEOUT); /* a TIMEOUT stays one */
    ck_assert_int_eq(tick(T0 + 2601, NULL), 2);
}
END_TEST

START_TEST(format_lists_every_peer)
{
    char buf[1024];
    registry_on_ask(&R, 2, T0);
    registry_on_alive(&R, 0, "uuid-a", true, 0.9, T0);
    tick(T0 + 501, NULL);
    size_t n = registry_format(&R, T0 + 700, buf, sizeof buf);
    ck_assert_uint_eq(n, strlen(buf));
    ck_assert_ptr_nonnull(strstr(buf, "127.0.0.1:9101"));
    ck_assert_ptr_nonnull(strstr(buf, "uuid-a"));
    ck_assert_ptr_nonnull(strstr(buf, "OVERLOADED"));
    ck_assert_ptr_nonnull(strstr(buf, "127.0.0.1:9103        TIMEOUT"));
    ck_assert_ptr_nonnull(strstr(buf, "last_seen=700 ms ago"));
    char small[40];
    n = registry_format(&R, T0, small, sizeof small);
    ck_assert_uint_eq(n, strlen(small)); /* cut, still terminated */
    ck_assert_uint_lt(n, sizeof small);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("registry");
    TCase *t = tcase_create("transitions");
    tcase_set_timeout(t, 10);
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, starts_unknown);
    tcase_add_test(t, first_answer_alive);
    tcase_add_test(t, timeout_boundary);
    tcase_add_test(t, never_answers_times_out);
    tcase_add_test(t, recovers_with_new_id);
    tcase_add_test(t, late_answer_never_moves_back);
    tcase_add_test(t, load_flag);
    tcase_add_test(t, forgive_our_own_pause);
    tcase_add_test(t, format_lists_every_peer);
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
