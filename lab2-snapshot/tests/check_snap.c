/* check_snap.c - the Chandy-Lamport state machine, driven directly: no sockets, no clocks. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snap.h"

/* ---- a fake I/O layer that writes down what the algorithm asks for ---- */

static char log_[8192];
static struct snap_report last_report;
static int reports, finishes, records, marker_rounds;
static struct snap last_finish;

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
    va_list ap;
    size_t len = strlen(log_);
    va_start(ap, fmt);
    vsnprintf(log_ + len, sizeof log_ - len, fmt, ap);
    va_end(ap);
}

static void f_record(void *ctx, const struct snap *s)
{
    (void)ctx;
    records++;
    note("record %d:%u gold=%u; ", s->init, s->n, s->rec.gold);
}

static void f_markers(void *ctx, const struct snap *s)
{
    (void)ctx;
    marker_rounds++;
    note("markers %d:%u; ", s->init, s->n);
}

static void f_marker(void *ctx, const struct snap *s, int from)
{
    (void)ctx;
    note("marker %d:%u from %d; ", s->init, s->n, from);
}

static void f_chan(void *ctx, const struct snap *s, int from, uint32_t seq, uint32_t gold)
{
    (void)ctx;
    note("chan %d:%u %d:%u gold=%u; ", s->init, s->n, from, seq, gold);
}

static void f_report(void *ctx, const struct snap_report *r)
{
    (void)ctx;
    reports++;
    last_report = *r;
    note("report %d:%u ok=%d; ", r->init, r->n, r->ok);
}

static void f_finish(void *ctx, const struct snap *s)
{
    (void)ctx;
    finishes++;
    last_finish = *s;
    note("finish %d:%u failed=%d; ", s->init, s->n, s->failed);
}

static const struct snap_ops ops = {NULL,   f_record, f_markers, f_marker,
                                    f_chan, f_report, f_finish};

static struct snap_node sn;

static void setup(int id, int n)
{
    log_[0] = '\0';
    reports = finishes = records = marker_rounds = 0;
    snap_init(&sn, id, n, &ops);
}

static struct snap_state ST(uint32_t gold) {
    return (struct snap_state){.gold = gold, .life = 50, .score = 10, .items = 1};
}

static struct snap_report
rep(int init, uint32_t n, int from, uint32_t gold, uint32_t cg)
{
    return (struct snap_report){.init = init,
                                .n = n,
                                .from = from,
                                .ok = true,
                                .st = ST(gold),
                                .chan_gold = cg,
                                .chan_msgs = cg ? 1 : 0};
}

/* ---- marker rules ---- */

START_TEST(initiator_records_then_markers)
{
    setup(0, 3);
    struct snap_state st = ST(100);
    ck_assert_uint_eq(snap_start(&sn, &st), 1);
    ck_assert_str_eq(log_, "record 0:1 gold=100; markers 0:1; ");
    ck_assert_int_eq(snap_active(&sn), 1);
    ck_assert_uint_eq(snap_start(&sn, &st), 2); /* ids go up */
}
END_TEST

START_TEST(first_marker_records_and_closes_its_channel)
{
    setup(1, 3);
    struct snap_state st = ST(80);
    ck_assert_int_eq(snap_on_marker(&sn, 0, 0, 1, &st), SNAP_OK);
    ck_assert_str_eq(log_, "marker 0:1 from 0; record 0:1 gold=80; markers 0:1; ");
    log_[0] = '\0';
    snap_on_xfer(&sn, 0, 5, 3); /* channel 0->1 is closed: after the marker */
    ck_assert_str_eq(log_, "");
    snap_on_xfer(&sn, 2, 7, 4); /* channel 2->1 is open */
    ck_assert_str_eq(log_, "chan 0:1 2:7 gold=4; ");
    ck_assert_int_eq(reports, 0);
    ck_assert_int_eq(snap_on_marker(&sn, 2, 0, 1, &st), SNAP_OK);
    ck_assert_int_eq(reports, 1);
    ck_assert(last_report.ok);
    ck_assert_uint_eq(last_report.st.gold, 80); /* the state at the record, not now */
    ck_assert_uint_eq(last_report.chan_gold, 4);
    ck_assert_uint_eq(last_report.chan_msgs, 1);
    ck_assert_int_eq(snap_active(&sn), 0);
    log_[0] = '\0';
    snap_on_xfer(&sn, 2, 8, 1); /* the snapshot is over here: nothing more is recorded */
    ck_assert_str_eq(log_, "");
}
END_TEST

/* The seed recorded every message after the first marker; this is the counter-example. */
START_TEST(message_after_marker_on_same_channel_not_recorded)
{
    setup(2, 3);
    struct snap_state st = ST(50);
    snap_on_marker(&sn, 0, 0, 1, &st);
    snap_on_xfer(&sn, 1, 1, 10); /* before 1's marker: in transit at the cut */
    snap_on_marker(&sn, 1, 0, 1, &st);
    ck_assert_int_eq(reports, 1);
    ck_assert_uint_eq(last_report.chan_gold, 10);
    setup(2, 4);
    snap_on_marker(&sn, 0, 0, 1, &st);
    snap_on_marker(&sn, 1, 0, 1, &st);
    snap_on_xfer(&sn, 1, 2, 10); /* after 1's marker: sent after 1 recorded */
    snap_on_xfer(&sn, 3, 1, 6);
    snap_on_marker(&sn, 3, 0, 1, &st);
    ck_assert_uint_eq(last_report.chan_gold, 6);
    ck_assert_uint_eq(last_report.chan_msgs, 1);
}
END_TEST

START_TEST(nothing_recorded_outside_a_snapshot)
{
    setup(1, 3);
    snap_on_xfer(&sn, 0, 1, 5);
    snap_on_xfer(&sn, 2, 1, 5);
    ck_assert_str_eq(log_, "");
}
END_TEST

START_TEST(two_players_complete_at_once)
{
    setup(1, 2);
    struct snap_state st = ST(10);
    snap_on_marker(&sn, 0, 0, 1, &st);
    ck_assert_int_eq(reports, 1);
    ck_assert_int_eq(snap_active(&sn), 0);
}
END_TEST

START_TEST(bad_and_stale_markers)
{
    setup(1, 3);
    struct snap_state st = ST(10);
    ck_assert_int_eq(snap_on_marker(&sn, 1, 0, 1, &st), SNAP_BAD); /* from ourselves */
    ck_assert_int_eq(snap_on_marker(&sn, 3, 0, 1, &st), SNAP_BAD); /* from nobody */
    ck_assert_int_eq(snap_on_marker(&sn, 0, 7, 1, &st), SNAP_BAD); /* initiator out of range */
    ck_assert_int_eq(snap_on_marker(&sn, 0, 1, 5, &st), SNAP_BAD); /* ours, never started */
    ck_assert_int_eq(snap_on_marker(&sn, 0, 0, 1, &st), SNAP_OK);
    ck_assert_int_eq(snap_on_marker(&sn, 0, 0, 1, &st), SNAP_BAD); /* twice on one channel */
    ck_assert_int_eq(snap_on_marker(&sn, 2, 0, 1, &st), SNAP_OK);
    ck_assert_int_eq(snap_on_marker(&sn, 2, 0, 1, &st), SNAP_STALE); /* over already */
    ck_assert_int_eq(records, 1);
}
END_TEST

/* ---- the initiator collects ---- */

START_TEST(initiator_collects_every_report)
{
    setup(0, 3);
    struct snap_state st = ST(100);
    snap_start(&sn, &st);
    snap_on_xfer(&sn, 1, 1, 5);
    ck_assert_int_eq(snap_on_marker(&sn, 1, 0, 1, &st), SNAP_OK);
    ck_assert_int_eq(snap_on_marker(&sn, 2, 0, 1, &st), SNAP_OK);
    ck_assert_int_eq(reports, 0); /* its own report stays local */
    struct snap_report r1 = rep(0, 1, 1, 90, 0), r2 = rep(0, 1, 2, 105, 0);
    ck_assert_int_eq(snap_on_report(&sn, &r1), SNAP_OK);
    ck_assert_int_eq(finishes, 0);
    ck_assert_int_eq(snap_on_report(&sn, &r1), SNAP_BAD); /* twice */
    ck_assert_int_eq(snap_on_report(&sn, &r2), SNAP_OK);
    ck_assert_int_eq(finishes, 1);
    ck_assert(!last_finish.failed);
    ck_assert_uint_eq(last_finish.rep[0].st.gold + last_finish.rep[0].chan_gold +
                          last_finish.rep[1].st.gold + last_finish.rep[2].st.gold,
                      300);
    ck_assert_int_eq(snap_active(&sn), 0);
    ck_assert_uint_eq(sn.complete, 1);
    ck_assert_int_eq(snap_on_report(&sn, &r2), SNAP_STALE);
}
END_TEST

START_TEST(reports_before_local_part_done)
{
    setup(0, 3);
    struct snap_state st = ST(100);
    snap_start(&sn, &st);
    struct snap_report r1 = rep(0, 1, 1, 90, 0), r2 = rep(0, 1, 2, 110, 0);
    snap_on_report(&sn, &r1);
    snap_on_report(&sn, &r2);
    ck_assert_int_eq(finishes, 0); /* our own channels are still open */
    snap_on_marker(&sn, 1, 0, 1, &st);
    snap_on_marker(&sn, 2, 0, 1, &st);
    ck_assert_int_eq(finishes, 1);
}
END_TEST

START_TEST(forged_reports)
{
    setup(0, 3);
    struct snap_state st = ST(100);
    snap_start(&sn, &st);
    struct snap_report r = rep(1, 1, 2, 1, 0); /* for a snapshot of player 1 */
    ck_assert_int_eq(snap_on_report(&sn, &r), SNAP_BAD);
    r = rep(0, 1, 0, 1, 0); /* from ourselves */
    ck_assert_int_eq(snap_on_report(&sn, &r), SNAP_BAD);
    r = rep(0, 9, 1, 1, 0); /* a snapshot we never started */
    ck_assert_int_eq(snap_on_report(&sn, &r), SNAP_BAD);
}
END_TEST

/* ---- concurrent snapshot ids ---- */

START_TEST(concurrent_snapshots_are_independent)
{
    setup(2, 4);
    struct snap_state a = ST(40), b = ST(55);
    snap_on_marker(&sn, 0, 0, 1, &a); /* 0:1 records with 40 */
    snap_on_xfer(&sn, 1, 1, 5);       /* open in 0:1 only */
    snap_on_marker(&sn, 1, 1, 1, &b); /* 1:1 records with 55 */
    ck_assert_int_eq(records, 2);
    log_[0] = '\0';
    snap_on_xfer(&sn, 3, 1, 2); /* open in both */
    ck_assert_str_eq(log_, "chan 0:1 3:1 gold=2; chan 1:1 3:1 gold=2; ");
    log_[0] = '\0';
    snap_on_xfer(&sn, 1, 2, 7); /* closed in 1:1 (its marker came on 1), open in 0:1 */
    ck_assert_str_eq(log_, "chan 0:1 1:2 gold=7; ");
    snap_on_marker(&sn, 1, 0, 1, &a);
    snap_on_marker(&sn, 3, 0, 1, &a);
    ck_assert_int_eq(reports, 1);
    ck_assert_int_eq(last_report.init, 0);
    ck_assert_uint_eq(last_report.chan_gold, 14);
    ck_assert_uint_eq(last_report.st.gold, 40);
    snap_on_marker(&sn, 0, 1, 1, &b);
    snap_on_marker(&sn, 3, 1, 1, &b);
    ck_assert_int_eq(reports, 2);
    ck_assert_int_eq(last_report.init, 1);
    ck_assert_uint_eq(last_report.chan_gold, 2);
    ck_assert_uint_eq(last_report.st.gold, 55);
}
END_TEST

START_TEST(one_after_another)
{
    setup(1, 2);
    struct snap_state st = ST(10);
    for (uint32_t n = 1; n <= 100; n++)
        ck_assert_int_eq(snap_on_marker(&sn, 0, 0, n, &st), SNAP_OK);
    ck_assert_int_eq(reports, 100);
    ck_assert_int_eq(snap_on_marker(&sn, 0, 0, 50, &st), SNAP_STALE);
}
END_TEST

START_TEST(table_full)
{
    setup(0, 3);
    struct snap_state st = ST(1);
    for (int k = 0; k < SNAP_MAX_ACTIVE; k++)
        ck_assert_uint_ne(snap_start(&sn, &st), 0);
    ck_assert_uint_eq(snap_start(&sn, &st), 0);
    ck_assert_int_eq(snap_on_marker(&sn, 1, 1, 1, &st), SNAP_FULL);
    ck_assert_int_eq(reports, 1);
    ck_assert(!last_report.ok); /* the initiator hears it cannot complete */
}
END_TEST

/* ---- dead peers ---- */

START_TEST(initiator_sees_participant_die)
{
    setup(0, 3);
    struct snap_state st = ST(100);
    snap_start(&sn, &st);
    snap_on_marker(&sn, 1, 0, 1, &st);
    snap_peer_down(&sn, 2);
    ck_assert_int_eq(finishes, 1);
    ck_assert(last_finish.failed);
    ck_assert_int_eq(last_finish.lost, 2);
    ck_assert_int_eq(snap_active(&sn), 0);
    ck_assert_uint_eq(sn.incomplete, 1);
    /* a snapshot started now cannot complete either */
    snap_start(&sn, &st);
    ck_assert_int_eq(finishes, 2);
    ck_assert(last_finish.failed);
    ck_assert_int_eq(last_finish.lost, 2);
}
END_TEST

START_TEST(participant_reports_failure)
{
    setup(1, 3);
    struct snap_state st = ST(100);
    snap_on_marker(&sn, 0, 0, 1, &st);
    snap_peer_down(&sn, 2); /* its marker will never come */
    ck_assert_int_eq(reports, 1);
    ck_assert(!last_report.ok);
    struct snap_report r = {.init = 0, .n = 1, .from = 1, .ok = false};
    setup(0, 3);
    snap_start(&sn, &st);
    ck_assert_int_eq(snap_on_report(&sn, &r), SNAP_OK);
    ck_assert_int_eq(finishes, 1);
    ck_assert(last_finish.failed);
    ck_assert_int_eq(last_finish.lost, 1);
}
END_TEST

START_TEST(dead_peer_after_its_marker_is_harmless)
{
    setup(1, 3);
    struct snap_state st = ST(100);
    snap_on_marker(&sn, 0, 0, 1, &st);
    snap_on_marker(&sn, 2, 0, 1, &st);
    ck_assert(last_report.ok);
    snap_peer_down(&sn, 2);
    ck_assert_int_eq(reports, 1);
}
END_TEST

static Suite *snap_suite(void)
{
    Suite *s = suite_create("snap");
    TCase *m = tcase_create("markers");
    tcase_set_timeout(m, 30);
    tcase_add_test(m, initiator_records_then_markers);
    tcase_add_test(m, first_marker_records_and_closes_its_channel);
    tcase_add_test(m, message_after_marker_on_same_channel_not_recorded);
    tcase_add_test(m, nothing_recorded_outside_a_snapshot);
    tcase_add_test(m, two_players_complete_at_once);
    tcase_add_test(m, bad_and_stale_markers);
    suite_add_tcase(s, m);
    TCase *c = tcase_create("collect");
    tcase_set_timeout(c, 30);
    tcase_add_test(c, initiator_collects_every_report);
    tcase_add_test(c, reports_before_local_part_done);
    tcase_add_test(c, forged_reports);
    suite_add_tcase(s, c);
    TCase *k = tcase_create("concurrent");
    tcase_set_timeout(k, 30);
    tcase_add_test(k, concurrent_snapshots_are_independent);
    tcase_add_test(k, one_after_another);
    tcase_add_test(k, table_full);
    suite_add_tcase(s, k);
    TCase *d = tcase_create("dead-peers");
    tcase_set_timeout(d, 30);
    tcase_add_test(d, initiator_sees_participant_die);
    tcase_add_test(d, participant_reports_failure);
    tcase_add_test(d, dead_peer_after_its_marker_is_harmless);
    suite_add_tcase(s, d);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(snap_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
