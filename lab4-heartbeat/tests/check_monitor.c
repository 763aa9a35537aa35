/* check_monitor.c - Q4's monitor: failures, recovery, the lowest alive id, critical, with a
 * fake clock. */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "monitor.h"

#define T0 5000
#define FORGET 3000
#define LOOPBACK 0x0100007fu /* 127.0.0.1 in network order (on this little-endian test host) */
static struct monitor M;
static unsigned long Seq; /* one counter for every beat: each worker's SEQ grows */

static void setup(void)
{
    monitor_init(&M, 300, FORGET);
    Seq = 0;
}

/* A beat from UDP port `port`, incarnation inc. */
static enum mon_beat_result beat_from(long id, uint16_t port, uint64_t inc, unsigned long seq,
                                      int64_t t, long *evicted)
{
    struct mon_beat b = {id, LOOPBACK, port, inc, seq};
    long ev;
    return monitor_on_beat(&M, &b, t, evicted ? evicted : &ev);
}

/* A well-behaved worker's beat: its own port (derived from its id), a growing SEQ. */
static enum mon_beat_result beat(long id, int64_t t)
{
    return beat_from(id, (uint16_t)(10000 + id % 50000), 1, ++Seq, t, NULL);
}

static bool alive(long id)
{
    const struct mon_worker *w = monitor_find(&M, id);
    return w && w->alive;
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
    ck_assert_int_eq(beat(13, T0), MON_JOINED);
    ck_assert_int_eq(monitor_target(&M), 13);
    ck_assert_int_eq(beat(2, T0), MON_JOINED);
    ck_assert_int_eq(beat(77777777, T0), MON_JOINED);
    ck_assert_int_eq(beat(2, T0 + 50), MON_BEAT);
    ck_assert_int_eq(monitor_target(&M), 2); /* by id, not by order of arrival */
}
END_TEST

START_TEST(failover_then_critical)
{
    beat(1, T0);
    beat(2, T0);
    beat(3, T0);
    long first;
    ck_assert_int_eq(tick(T0 + 300, NULL), 0); /* exactly the timeout: not yet */
    beat(2, T0 + 200);
    beat(3, T0 + 250);
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
    beat(4, T0);
    tick(T0 + 400, NULL);
    ck_assert(monitor_update_critical(&M));
    ck_assert_int_eq(beat(4, T0 + 1000), MON_RECOVERED);
    ck_assert(!monitor_update_critical(&M));
    ck_assert(!M.critical);
    ck_assert_int_eq(monitor_target(&M), 4);
    ck_assert_int_eq(beat(4, T0 + 1050), MON_BEAT);
    /* a recovered lower id takes the orders back */
    beat(9, T0 + 1050);
    ck_assert_int_eq(monitor_target(&M), 4);
}
END_TEST

START_TEST(deadline_and_forgive)
{
    beat(1, T0);
    beat(2, T0 + 100);
    ck_assert_int_eq(monitor_next_deadline(&M), T0 + 301);
    monitor_forgive(&M, 1000); /* the monitor itself was stopped */
    ck_assert_int_eq(tick(T0 + 1200, NULL), 0);
    ck_assert_int_eq(monitor_next_deadline(&M), T0 + 1301);
}
END_TEST

START_TEST(table_full)
{
    for (long i = 0; i < MON_MAX_WORKERS; i++)
        ck_assert_int_eq(beat(i + 100, T0), MON_JOINED);
    ck_assert_int_eq(beat(1, T0), MON_FULL);
    ck_assert_int_eq(monitor_target(&M), 100);
}
END_TEST

/* Issue 12: 70 forged ids (each from its own port) filled the table for good, so a genuine
 * worker was refused for ever. Now nobody alive is pushed out, but once the forged ones have
 * failed, a newcomer takes the slot of the one silent longest. */
START_TEST(flood_then_genuine_joins)
{
    int joined = 0, full = 0;
    for (long i = 0; i < 70; i++) {
        enum mon_beat_result r = beat_from(1000 + i, (uint16_t)(20000 + i), 1, 1, T0 + i, NULL);
        joined += r == MON_JOINED, full += r == MON_FULL;
    }
    ck_assert_int_eq(joined, MON_MAX_WORKERS);
    ck_assert_int_eq(full, 70 - MON_MAX_WORKERS);
    ck_assert_int_eq(beat(7, T0 + 100), MON_FULL); /* all 64 are alive: none may be evicted */
    ck_assert_int_eq(tick(T0 + 400, NULL), MON_MAX_WORKERS);
    long evicted = 0;
    ck_assert_int_eq(beat_from(7, 10007, 1, ++Seq, T0 + 410, &evicted), MON_JOINED);
    ck_assert_int_eq(evicted, 1000); /* the one silent longest */
    ck_assert_int_eq(monitor_target(&M), 7);
    ck_assert_int_eq(beat(7, T0 + 450), MON_BEAT);
    ck_assert_int_eq(tick(T0 + 751, NULL), 1); /* and it is monitored: its own failure shows */
    ck_assert(!alive(7));
}
END_TEST

START_TEST(evicts_failed_only_oldest_first)
{
    for (long i = 0; i < MON_MAX_WORKERS; i++)
        beat(i + 100, T0 + i);
    for (long i = 0; i < MON_MAX_WORKERS; i++)
        if (i != 5 && i != 9)
            beat(i + 100, T0 + 200); /* 105 and 109 go silent; 109 beat last at T0 + 9 */
    ck_assert_int_eq(tick(T0 + 310, NULL), 2);
    long evicted = 0;
    ck_assert_int_eq(beat_from(1, 10001, 1, ++Seq, T0 + 320, &evicted), MON_JOINED);
    ck_assert_int_eq(evicted, 105);
    ck_assert_int_eq(beat_from(2, 10002, 1, ++Seq, T0 + 320, &evicted), MON_JOINED);
    ck_assert_int_eq(evicted, 109);
    ck_assert_int_eq(beat_from(3, 10003, 1, ++Seq, T0 + 320, &evicted), MON_FULL);
    ck_assert_int_eq(evicted, MON_NONE);
    ck_assert(alive(100) && alive(163) && !monitor_find(&M, 105));
}
END_TEST

/* Issue 12: a stranger's beats for a killed worker kept it "alive". An id belongs to the
 * address of its first beat: a beat from elsewhere is refused, whatever INC and SEQ it claims,
 * and it does not block the real worker either. */
START_TEST(forged_source_refused)
{
    ck_assert_int_eq(beat_from(2, 7002, 50, 1, T0, NULL), MON_JOINED);
    ck_assert_int_eq(beat_from(2, 7002, 50, 2, T0 + 50, NULL), MON_BEAT);
    /* worker 2 is killed at T0 + 60; a stranger on port 9999 speaks for it */
    for (int k = 0; k < 20; k++)
        ck_assert_int_eq(beat_from(2, 9999, 999999, 4000000000UL, T0 + 60 + 20 * k, NULL),
                         MON_WRONG_SOURCE);
    long first = 0;
    ck_assert_int_eq(tick(T0 + 351, &first), 1);
    ck_assert_int_eq(first, 2);
    ck_assert_int_eq(beat_from(2, 9999, 999999, 4000000001UL, T0 + 400, NULL), MON_WRONG_SOURCE);
    ck_assert(!alive(2));
    /* the real worker restarts on its port: a higher incarnation, SEQ from 1 again */
    ck_assert_int_eq(beat_from(2, 7002, 51, 1, T0 + 500, NULL), MON_RECOVERED);
    ck_assert_int_eq(monitor_target(&M), 2);
}
END_TEST

START_TEST(forged_high_seq_does_not_lock_out)
{
    ck_assert_int_eq(beat_from(1, 7001, 50, 1, T0, NULL), MON_JOINED);
    ck_assert_int_eq(beat_from(1, 9999, 4000000000000ULL, 4000000000UL, T0 + 10, NULL),
                     MON_WRONG_SOURCE);
    ck_assert_int_eq(beat_from(1, 7001, 50, 2, T0 + 50, NULL), MON_BEAT);
    ck_assert_int_eq(tick(T0 + 349, NULL), 0);
}
END_TEST

/* From its own address, a beat must be news: a duplicate, or an old beat delivered late (the
 * network may reorder and duplicate datagrams), must not refresh last_seen or revive it. */
START_TEST(stale_beats_refused)
{
    ck_assert_int_eq(beat_from(4, 7004, 50, 10, T0, NULL), MON_JOINED);
    ck_assert_int_eq(beat_from(4, 7004, 50, 10, T0 + 1, NULL), MON_STALE); /* duplicate */
    ck_assert_int_eq(beat_from(4, 7004, 50, 9, T0 + 2, NULL), MON_STALE);  /* reordered */
    ck_assert_int_eq(beat_from(4, 7004, 49, 99, T0 + 3, NULL), MON_STALE); /* older life */
    ck_assert_int_eq(tick(T0 + 301, NULL), 1);                            /* from T0, not T0+3 */
    ck_assert_int_eq(beat_from(4, 7004, 50, 10, T0 + 400, NULL), MON_STALE); /* late: still dead */
    ck_assert(!alive(4));
    ck_assert_int_eq(beat_from(4, 7004, 50, 11, T0 + 410, NULL), MON_RECOVERED);
    ck_assert_int_eq(beat_from(4, 7004, 51, 1, T0 + 420, NULL), MON_BEAT); /* a quick restart */
    ck_assert_int_eq(beat_from(4, 7004, 50, 12, T0 + 430, NULL), MON_STALE);
}
END_TEST

START_TEST(one_address_one_alive_worker)
{
    ck_assert_int_eq(beat_from(1, 7001, 50, 1, T0, NULL), MON_JOINED);
    ck_assert_int_eq(beat_from(8, 7001, 50, 2, T0 + 10, NULL), MON_ADDR_IN_USE);
    ck_assert_int_eq(M.n, 1);
    tick(T0 + 301, NULL);
    ck_assert_int_eq(beat_from(8, 7001, 50, 3, T0 + 310, NULL), MON_JOINED); /* 1 has failed */
}
END_TEST

/* Failed workers do not stay for ever: after FORGET ms of silence they are removed, and their id
 * may come back from a new address. The monitor stays critical when it forgets the last one. */
START_TEST(failed_workers_forgotten)
{
    long gone[MON_MAX_WORKERS] = {0};
    ck_assert_int_eq(beat_from(3, 7003, 50, 1, T0, NULL), MON_JOINED);
    tick(T0 + 301, NULL);
    ck_assert(monitor_update_critical(&M));
    ck_assert_int_eq(monitor_next_deadline(&M), T0 + FORGET + 1);
    ck_assert_int_eq(beat_from(3, 7777, 60, 1, T0 + 1000, NULL), MON_WRONG_SOURCE);
    ck_assert_int_eq(monitor_forget(&M, T0 + FORGET, gone, MON_MAX_WORKERS), 0);
    ck_assert_int_eq(monitor_forget(&M, T0 + FORGET + 1, gone, MON_MAX_WORKERS), 1);
    ck_assert_int_eq(gone[0], 3);
    ck_assert_int_eq(M.n, 0);
    ck_assert(!monitor_update_critical(&M) && M.critical); /* still critical, said once */
    ck_assert_int_eq(monitor_next_deadline(&M), INT64_MAX);
    ck_assert_int_eq(beat_from(3, 7777, 60, 1, T0 + FORGET + 10, NULL), MON_JOINED);
    ck_assert(!monitor_update_critical(&M) && !M.critical);
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
    tcase_add_test(t, flood_then_genuine_joins);
    tcase_add_test(t, evicts_failed_only_oldest_first);
    tcase_add_test(t, forged_source_refused);
    tcase_add_test(t, forged_high_seq_does_not_lock_out);
    tcase_add_test(t, stale_beats_refused);
    tcase_add_test(t, one_address_one_alive_worker);
    tcase_add_test(t, failed_workers_forgotten);
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
