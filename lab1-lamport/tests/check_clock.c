/* check_clock.c - unit tests of the clock rules in clock.c, driven directly, no sockets. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

/* clock_init() for a test, which must not fail. */
static void init(struct clock_state *c, int id, int n, bool vector)
{
    ck_assert_int_eq(clock_init(c, id, n, vector), 0);
}

/* A message as node `sender` would send it now. */
static struct lc_msg sent_by(struct clock_state *sender, uint32_t seq)
{
    struct lc_msg m;
    memset(&m, 0, sizeof m);
    m.kind = PROTO_KIND_CLOCK;
    m.sender = (uint16_t)sender->id;
    m.seq = seq;
    clock_send(sender, &m);
    return m;
}

/* ---- Lamport rules ---- */

START_TEST(init_starts_at_zero)
{
    struct clock_state c;
    ck_assert_int_eq(clock_init(&c, 2, 3, true), 0);
    ck_assert_uint_eq(c.lc, 0);
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(c.vc[i], 0);
}
END_TEST

START_TEST(init_rejects_bad_ids)
{
    struct clock_state c;
    ck_assert_int_eq(clock_init(&c, 3, 3, false), CLOCK_EINVAL);
    ck_assert_int_eq(clock_init(&c, -1, 3, false), CLOCK_EINVAL);
    ck_assert_int_eq(clock_init(&c, 0, 0, false), CLOCK_EINVAL);
    ck_assert_int_eq(clock_init(&c, 0, PROTO_MAX_NODES + 1, false), CLOCK_EINVAL);
    ck_assert_int_eq(clock_init(&c, PROTO_MAX_NODES - 1, PROTO_MAX_NODES, false), 0);
}
END_TEST

START_TEST(local_ticks)
{
    struct clock_state c;
    init(&c, 0, 3, false);
    for (uint64_t i = 1; i <= 5; i++) {
        clock_local(&c);
        ck_assert_uint_eq(c.lc, i);
    }
}
END_TEST

START_TEST(send_ticks_and_stamps)
{
    struct clock_state c;
    init(&c, 1, 3, false);
    clock_local(&c);
    struct lc_msg m = sent_by(&c, 1);
    ck_assert_uint_eq(c.lc, 2);
    ck_assert_uint_eq(m.lc, 2); /* the send event's own timestamp */
    ck_assert_uint_eq(m.vlen, 0);
}
END_TEST

/* max(lc, ts) + 1, for a message clock bigger, smaller and equal to ours. */
static const struct {
    uint64_t ours, theirs, after;
} recv_cases[] = {
    {2, 10, 11}, /* message ahead: jump past it */
    {10, 3, 11}, /* message behind: just tick */
    {5, 5, 6},   /* equal: still strictly above both */
    {0, 0, 1},   /* first event of all */
    {0, PROTO_CLOCK_MAX, PROTO_CLOCK_MAX + 1},
};

START_TEST(recv_takes_max_plus_one)
{
    struct clock_state c;
    struct lc_msg m;
    memset(&m, 0, sizeof m);
    init(&c, 0, 3, false);
    c.lc = recv_cases[_i].ours;
    m.sender = 1;
    m.lc = recv_cases[_i].theirs;
    ck_assert_int_eq(clock_recv(&c, &m), 0);
    ck_assert_uint_eq(c.lc, recv_cases[_i].after);
}
END_TEST

START_TEST(lamport_rejects_a_vector)
{
    struct clock_state c, before;
    struct lc_msg m;
    memset(&m, 0, sizeof m);
    init(&c, 0, 3, false);
    clock_local(&c);
    before = c;
    m.lc = 50;
    m.vlen = 3;
    ck_assert_int_eq(clock_recv(&c, &m), CLOCK_EVLEN);
    ck_assert_mem_eq(&c, &before, sizeof c); /* untouched */
}
END_TEST

/* ---- vector rules ---- */

START_TEST(vector_own_entry_counts_events)
{
    struct clock_state c;
    init(&c, 1, 3, true);
    clock_local(&c);
    struct lc_msg m = sent_by(&c, 1);
    ck_assert_uint_eq(c.vc[0], 0);
    ck_assert_uint_eq(c.vc[1], 2);
    ck_assert_uint_eq(c.vc[2], 0);
    ck_assert_uint_eq(m.vlen, 3);
    ck_assert_uint_eq(m.vc[1], 2);
    ck_assert_uint_eq(m.lc, 2);
}
END_TEST

START_TEST(vector_recv_merges_then_ticks)
{
    struct clock_state a, b;
    init(&a, 0, 3, true);
    init(&b, 1, 3, true);
    clock_local(&a);
    clock_local(&a); /* a = [2,0,0] */
    for (int i = 0; i < 3; i++)
        clock_local(&b); /* b = [0,3,0] */
    struct lc_msg m = sent_by(&b, 1); /* b = [0,4,0] */
    ck_assert_int_eq(clock_recv(&a, &m), 0);
    ck_assert_uint_eq(a.vc[0], 3); /* own entry: 2 events + this receive */
    ck_assert_uint_eq(a.vc[1], 4); /* everything b had done */
    ck_assert_uint_eq(a.vc[2], 0);
    ck_assert_uint_eq(a.lc, 5); /* max(2, 4) + 1 */
}
END_TEST

START_TEST(vector_rejects_wrong_size)
{
    struct clock_state c, before;
    struct lc_msg m;
    memset(&m, 0, sizeof m);
    init(&c, 0, 3, true);
    clock_local(&c);
    before = c;
    m.sender = 1;
    m.lc = 9;
    for (uint16_t vlen = 0; vlen <= PROTO_MAX_NODES; vlen++) {
        if (vlen == 3)
            continue;
        m.vlen = vlen;
        ck_assert_int_eq(clock_recv(&c, &m), CLOCK_EVLEN);
        ck_assert_mem_eq(&c, &before, sizeof c);
    }
}
END_TEST

START_TEST(vector_rejects_our_entry_ahead)
{
    struct clock_state c, before;
    struct lc_msg m;
    memset(&m, 0, sizeof m);
    init(&c, 0, 3, true);
    clock_local(&c); /* we did 1 event */
    before = c;
    m.sender = 1;
    m.vlen = 3;
    m.vc[0] = 2; /* claims to know 2 of ours */
    ck_assert_int_eq(clock_recv(&c, &m), CLOCK_EAHEAD);
    ck_assert_mem_eq(&c, &before, sizeof c);
    m.vc[0] = 1; /* knowing all of ours is fine */
    ck_assert_int_eq(clock_recv(&c, &m), 0);
}
END_TEST

START_TEST(format_vc)
{
    struct clock_state c;
    char buf[CLOCK_VC_STRMAX];
    init(&c, 0, 3, true);
    c.vc[0] = 1;
    c.vc[2] = 12;
    ck_assert_int_eq(clock_format_vc(&c, buf, sizeof buf), 8);
    ck_assert_str_eq(buf, "[1,0,12]");
    ck_assert_int_eq(clock_format_vc(&c, buf, 9), 8); /* exactly enough */
    ck_assert_int_eq(clock_format_vc(&c, buf, 8), -1);
    ck_assert_int_eq(clock_format_vc(&c, buf, 0), -1);
}
END_TEST

START_TEST(format_vc_widest)
{
    struct clock_state c;
    char buf[CLOCK_VC_STRMAX];
    init(&c, 0, PROTO_MAX_NODES, true);
    for (int i = 0; i < PROTO_MAX_NODES; i++)
        c.vc[i] = UINT64_MAX;
    ck_assert_int_eq(clock_format_vc(&c, buf, sizeof buf), PROTO_MAX_NODES * 21 + 1);
}
END_TEST

/* ---- the properties, on random runs ---- */

/* Three clocks exchange messages in a random order, with deliveries late,
 * out of order and duplicated, as UDP may. For every delivery the clock
 * condition must hold: C(send) < C(receive), and V(send) < V(receive). */
START_TEST(clock_condition_on_random_runs)
{
    enum { N = 3, STEPS = 2000, INFLIGHT = 16 };
    struct clock_state c[N];
    struct lc_msg flying[INFLIGHT];
    int nflying = 0, delivered = 0;
    unsigned seed = 42;
    for (int i = 0; i < N; i++)
        init(&c[i], i, N, true);
    for (int step = 0; step < STEPS; step++) {
        int who = rand_r(&seed) % N;
        int what = rand_r(&seed) % 3;
        if (what == 0) {
            clock_local(&c[who]);
        } else if (what == 1 && nflying < INFLIGHT) {
            flying[nflying++] = sent_by(&c[who], (uint32_t)step);
        } else if (nflying > 0) {
            delivered++;
            int k = rand_r(&seed) % nflying;
            struct lc_msg m = flying[k];
            int to = (m.sender + 1 + rand_r(&seed) % (N - 1)) % N;
            ck_assert_int_eq(clock_recv(&c[to], &m), 0);
            ck_assert_uint_gt(c[to].lc, m.lc);
            for (int i = 0; i < N; i++)
                ck_assert_uint_ge(c[to].vc[i], m.vc[i]);
            ck_assert_uint_gt(c[to].vc[to], m.vc[to]);
            if (rand_r(&seed) % 4 != 0) /* sometimes keep it: a duplicate later */
                flying[k] = flying[--nflying];
        }
    }
    ck_assert_int_gt(delivered, STEPS / 4); /* the run really exercised receives */
}
END_TEST

static Suite *clock_suite(void)
{
    Suite *s = suite_create("clock");
    TCase *lamport = tcase_create("lamport");
    TCase *vector = tcase_create("vector");
    TCase *props = tcase_create("properties");

    tcase_set_timeout(lamport, 10);
    tcase_add_test(lamport, init_starts_at_zero);
    tcase_add_test(lamport, init_rejects_bad_ids);
    tcase_add_test(lamport, local_ticks);
    tcase_add_test(lamport, send_ticks_and_stamps);
    tcase_add_loop_test(lamport, recv_takes_max_plus_one, 0,
                        (int)(sizeof recv_cases / sizeof recv_cases[0]));
    tcase_add_test(lamport, lamport_rejects_a_vector);
    suite_add_tcase(s, lamport);

    tcase_set_timeout(vector, 10);
    tcase_add_test(vector, vector_own_entry_counts_events);
    tcase_add_test(vector, vector_recv_merges_then_ticks);
    tcase_add_test(vector, vector_rejects_wrong_size);
    tcase_add_test(vector, vector_rejects_our_entry_ahead);
    tcase_add_test(vector, format_vc);
    tcase_add_test(vector, format_vc_widest);
    suite_add_tcase(s, vector);

    tcase_set_timeout(props, 20);
    tcase_add_test(props, clock_condition_on_random_runs);
    suite_add_tcase(s, props);
    return s;
}

/* Fork mode is Check's default: each test runs in its own process, so a
 * crash fails one test, not the run. CK_FORK=no (used under valgrind)
 * turns it off. */
int main(void)
{
    SRunner *sr = srunner_create(clock_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
