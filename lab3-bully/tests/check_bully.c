/* check_bully.c - the Bully state machine driven directly: single transitions, then a whole
 * cluster simulated in memory to check who wins and the exact message counts. */
#include <check.h>
#include <string.h>

#include "bully.h"

#define ANS 100 /* answer timeout */
#define COORD 300
#define HB 50
#define LEAD 250

static struct bully mk(int id, int n)
{
    struct bully b;
    struct bully_config c = {id, n, ANS, COORD, HB, LEAD};
    bully_init(&b, &c);
    return b;
}

static struct proto_msg msg(int type, int from, uint32_t round)
{
    return (struct proto_msg){(uint8_t)type, (uint16_t)from, round, 1, 0, 0};
}

/* How many sends of this type, and to whom (a bit per destination). */
static int count(const struct bully_out *o, int type, uint64_t *to)
{
    int k = 0;
    if (to)
        *to = 0;
    for (int i = 0; i < o->nsend; i++)
        if (o->send[i].type == type) {
            k++;
            if (to)
                *to |= 1ULL << o->send[i].to;
        }
    return k;
}

/* ---- single transitions ---- */

START_TEST(highest_wins_at_once)
{
    struct bully b = mk(4, 5);
    struct bully_out o;
    uint64_t to;
    bully_start(&b, 1000, &o);
    ck_assert_int_eq(o.cause, BULLY_STARTUP);
    ck_assert_int_eq(o.via, BULLY_WON);
    ck_assert_int_eq(b.role, BULLY_LEADER);
    ck_assert_int_eq(b.leader, 4);
    ck_assert_int_eq(count(&o, PROTO_ELECTION, NULL), 0);
    ck_assert_int_eq(count(&o, PROTO_COORDINATOR, &to), 4);
    ck_assert_uint_eq(to, 0xf); /* 0, 1, 2, 3 */
    ck_assert_int_eq(bully_next_deadline(&b), 1000 + HB);
}
END_TEST

START_TEST(lowest_asks_every_higher)
{
    struct bully b = mk(0, 5);
    struct bully_out o;
    uint64_t to;
    bully_start(&b, 1000, &o);
    ck_assert_int_eq(b.role, BULLY_ELECTING);
    ck_assert_int_eq(o.via, BULLY_NO_CHANGE);
    ck_assert_int_eq(count(&o, PROTO_ELECTION, &to), 4);
    ck_assert_uint_eq(to, 0x1e); /* 1..4 */
    ck_assert_int_eq(o.send[0].round, 1);
    ck_assert_int_eq(bully_next_deadline(&b), 1000 + ANS);
}
END_TEST

START_TEST(no_answer_means_we_win)
{
    struct bully b = mk(2, 5);
    struct bully_out o;
    uint64_t to;
    bully_start(&b, 0, &o);
    bully_on_timer(&b, ANS - 1 + 1, &o);
    ck_assert_int_eq(b.role, BULLY_LEADER);
    ck_assert_int_eq(o.via, BULLY_WON);
    ck_assert_int_eq(count(&o, PROTO_COORDINATOR, &to), 2);
    ck_assert_uint_eq(to, 0x3);
}
END_TEST

START_TEST(answer_means_wait_then_retry)
{
    struct bully b = mk(1, 5);
    struct bully_out o;
    struct proto_msg m = msg(PROTO_ANSWER, 3, 1);
    bully_start(&b, 0, &o);
    bully_on_message(&b, 10, &m, &o);
    ck_assert_ptr_null(o.bad);
    ck_assert_int_eq(b.role, BULLY_WAITING);
    ck_assert_int_eq(bully_next_deadline(&b), 10 + COORD);
    bully_on_timer(&b, 10 + COORD, &o); /* the one who answered never announced */
    ck_assert_int_eq(o.cause, BULLY_NO_COORDINATOR);
    ck_assert_int_eq(b.role, BULLY_ELECTING);
    ck_assert_int_eq(b.round, 2);
    ck_assert_int_eq(count(&o, PROTO_ELECTION, NULL), 3);
}
END_TEST

START_TEST(stale_answer_is_ignored)
{
    struct bully b = mk(1, 5);
    struct bully_out o;
    struct proto_msg m = msg(PROTO_ANSWER, 3, 7); /* a round we never held */
    bully_start(&b, 0, &o);
    bully_on_message(&b, 10, &m, &o);
    ck_assert_ptr_null(o.bad);
    ck_assert_int_eq(b.role, BULLY_ELECTING);
    bully_on_timer(&b, ANS, &o);
    ck_assert_int_eq(b.role, BULLY_LEADER);
}
END_TEST

START_TEST(answer_from_lower_is_bad)
{
    struct bully b = mk(3, 5);
    struct bully_out o;
    struct proto_msg m = msg(PROTO_ANSWER, 1, 1);
    bully_start(&b, 0, &o);
    bully_on_message(&b, 1, &m, &o);
    ck_assert_str_eq(o.bad, "answer-from-lower");
    ck_assert_int_eq(b.role, BULLY_ELECTING);
}
END_TEST

START_TEST(election_from_lower_is_answered_and_taken_over)
{
    struct bully b = mk(2, 5);
    struct bully_out o;
    struct proto_msg c = msg(PROTO_COORDINATOR, 4, 1), e = msg(PROTO_ELECTION, 0, 9);
    uint64_t to;
    bully_on_message(&b, 0, &c, &o);
    ck_assert_int_eq(b.leader, 4);
    bully_on_message(&b, 5, &e, &o);
    ck_assert_ptr_null(o.bad);
    ck_assert_int_eq(count(&o, PROTO_ANSWER, &to), 1);
    ck_assert_uint_eq(to, 0x1);
    ck_assert_int_eq(o.send[0].round, 9); /* the ANSWER echoes the asker's round */
    ck_assert_int_eq(o.cause, BULLY_FROM_LOWER);
    ck_assert_int_eq(count(&o, PROTO_ELECTION, &to), 2);
    ck_assert_uint_eq(to, 0x18);
    /* a second ELECTION while ours runs: answered, no new election */
    bully_on_message(&b, 6, &e, &o);
    ck_assert_int_eq(o.cause, BULLY_NO_ELECTION);
    ck_assert_int_eq(count(&o, PROTO_ANSWER, NULL), 1);
    ck_assert_int_eq(count(&o, PROTO_ELECTION, NULL), 0);
}
END_TEST

START_TEST(leader_answers_and_reannounces)
{
    struct bully b = mk(4, 5);
    struct bully_out o;
    struct proto_msg e = msg(PROTO_ELECTION, 1, 3);
    uint64_t to;
    bully_start(&b, 0, &o);
    bully_on_message(&b, 5, &e, &o);
    ck_assert_int_eq(count(&o, PROTO_ANSWER, &to), 1);
    ck_assert_uint_eq(to, 0x2);
    ck_assert_int_eq(count(&o, PROTO_COORDINATOR, &to), 1);
    ck_assert_uint_eq(to, 0x2);
    ck_assert_int_eq(b.role, BULLY_LEADER);
    ck_assert_int_eq(o.cause, BULLY_NO_ELECTION);
}
END_TEST

START_TEST(election_from_higher_is_bad)
{
    struct bully b = mk(1, 5);
    struct bully_out o;
    struct proto_msg e = msg(PROTO_ELECTION, 3, 1);
    bully_on_message(&b, 0, &e, &o);
    ck_assert_str_eq(o.bad, "election-from-higher");
    ck_assert_int_eq(o.nsend, 0);
}
END_TEST

START_TEST(coordinator_from_higher_is_followed_until_silent)
{
    struct bully b = mk(1, 5);
    struct bully_out o;
    struct proto_msg c = msg(PROTO_COORDINATOR, 3, 1), h = msg(PROTO_HEARTBEAT, 3, 1);
    bully_start(&b, 0, &o);
    bully_on_message(&b, 10, &c, &o);
    ck_assert_int_eq(o.via, BULLY_COORDINATOR);
    ck_assert_int_eq(b.leader, 3);
    ck_assert_int_eq(b.role, BULLY_FOLLOWER);
    ck_assert_int_eq(bully_next_deadline(&b), 10 + LEAD);
    bully_on_message(&b, 100, &h, &o); /* a heartbeat pushes the deadline on */
    ck_assert_int_eq(o.via, BULLY_NO_CHANGE);
    ck_assert_int_eq(bully_next_deadline(&b), 100 + LEAD);
    bully_on_timer(&b, 100 + LEAD, &o);
    ck_assert_int_eq(o.via_before, BULLY_SUSPECT);
    ck_assert_int_eq(o.cause, BULLY_LEADER_SILENT);
    ck_assert_int_eq(b.leader, -1);
    ck_assert_int_eq(b.role, BULLY_ELECTING);
}
END_TEST

START_TEST(coordinator_from_lower_is_refused)
{
    struct bully f = mk(2, 5), l = mk(4, 5);
    struct bully_out o;
    struct proto_msg c4 = msg(PROTO_COORDINATOR, 4, 1), c1 = msg(PROTO_COORDINATOR, 1, 1);
    uint64_t to;
    bully_on_message(&f, 0, &c4, &o);
    bully_on_message(&f, 1, &c1, &o);
    ck_assert_str_eq(o.bad, "coordinator-from-lower");
    ck_assert_int_eq(f.leader, 4);
    ck_assert_int_eq(o.nsend, 0);
    bully_start(&l, 0, &o);
    bully_on_message(&l, 1, &c1, &o); /* the leader says so again to every lower id */
    ck_assert_str_eq(o.bad, "coordinator-from-lower");
    ck_assert_int_eq(l.leader, 4);
    ck_assert_int_eq(count(&o, PROTO_COORDINATOR, &to), 4);
    ck_assert_uint_eq(to, 0xf);
}
END_TEST

START_TEST(heartbeats_from_a_higher_leader_win_over)
{
    struct bully b = mk(1, 5);
    struct bully_out o;
    struct proto_msg c3 = msg(PROTO_COORDINATOR, 3, 1), h2 = msg(PROTO_HEARTBEAT, 2, 1),
                     h4 = msg(PROTO_HEARTBEAT, 4, 1);
    bully_on_message(&b, 0, &c3, &o);
    bully_on_message(&b, 1, &h2, &o); /* between us and our leader: ignored */
    ck_assert_int_eq(b.leader, 3);
    ck_assert_int_eq(o.via, BULLY_NO_CHANGE);
    bully_on_message(&b, 2, &h4, &o); /* higher than our leader: a resumed/restarted leader */
    ck_assert_int_eq(b.leader, 4);
    ck_assert_int_eq(o.via, BULLY_HEARTBEAT);
}
END_TEST

START_TEST(leader_steps_down_for_higher_corrects_lower)
{
    struct bully b = mk(3, 5);
    struct bully_out o;
    struct proto_msg h1 = msg(PROTO_HEARTBEAT, 1, 1), h4 = msg(PROTO_HEARTBEAT, 4, 1);
    uint64_t to;
    bully_start(&b, 0, &o);
    bully_on_timer(&b, ANS, &o);
    ck_assert_int_eq(b.role, BULLY_LEADER);
    bully_on_message(&b, 5, &h1, &o);
    ck_assert_int_eq(count(&o, PROTO_COORDINATOR, &to), 1);
    ck_assert_uint_eq(to, 0x2);
    bully_on_message(&b, 6, &h4, &o);
    ck_assert_int_eq(b.role, BULLY_FOLLOWER);
    ck_assert_int_eq(b.leader, 4);
}
END_TEST

START_TEST(leader_heartbeats_everyone)
{
    struct bully b = mk(2, 4);
    struct bully_out o;
    uint64_t to;
    bully_start(&b, 0, &o);
    bully_on_timer(&b, ANS, &o);
    bully_on_timer(&b, ANS + HB, &o);
    ck_assert_int_eq(count(&o, PROTO_HEARTBEAT, &to), 3);
    ck_assert_uint_eq(to, 0xb); /* 0, 1, 3 */
    ck_assert_int_eq(bully_next_deadline(&b), ANS + 2 * HB);
    /* late (a paused leader): one heartbeat, next one a full gap from now */
    bully_on_timer(&b, ANS + 10 * HB, &o);
    ck_assert_int_eq(count(&o, PROTO_HEARTBEAT, NULL), 3);
    ck_assert_int_eq(bully_next_deadline(&b), ANS + 11 * HB);
}
END_TEST

/* ---- a cluster in memory: instant, lossless delivery in send order ---- */

#define SIM_N 16
#define QCAP 4096

struct sim {
    int n;
    struct bully b[SIM_N];
    bool alive[SIM_N];
    int64_t now;
    struct {
        int from, to;
        struct bully_send s;
    } q[QCAP];
    int qh, qt;
    int sent[5]; /* by type; counted from the moment of the last sim_reset_counts */
    int elections[SIM_N];
};

static void sim_out(struct sim *s, int from, const struct bully_out *o)
{
    for (int i = 0; i < o->nsend; i++) {
        ck_assert_int_lt(s->qt, QCAP);
        s->q[s->qt].from = from, s->q[s->qt].to = o->send[i].to, s->q[s->qt].s = o->send[i];
        s->qt++;
        s->sent[o->send[i].type]++;
    }
    s->elections[from] += o->cause != BULLY_NO_ELECTION;
}

static void sim_deliver(struct sim *s)
{
    struct bully_out o;
    for (; s->qh < s->qt; s->qh++) {
        int to = s->q[s->qh].to, from = s->q[s->qh].from;
        if (!s->alive[to])
            continue; /* a dead node's datagrams go nowhere */
        struct proto_msg m = {s->q[s->qh].s.type, (uint16_t)from, s->q[s->qh].s.round, 0, 0, 0};
        bully_on_message(&s->b[to], s->now, &m, &o);
        ck_assert_ptr_null(o.bad);
        sim_out(s, to, &o);
    }
    s->qh = s->qt = 0;
}

static void sim_init(struct sim *s, int n)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    struct bully_out o;
    for (int i = 0; i < n; i++) {
        s->b[i] = mk(i, n);
        s->alive[i] = true;
    }
    for (int i = 0; i < n; i++) {
        bully_start(&s->b[i], 0, &o);
        sim_out(s, i, &o);
    }
    sim_deliver(s);
}

/* Run every timer due up to `until`, in time order, delivering after each. */
static void sim_run(struct sim *s, int64_t until)
{
    for (;;) {
        int who = -1;
        int64_t t = BULLY_NEVER;
        for (int i = 0; i < s->n; i++)
            if (s->alive[i] && bully_next_deadline(&s->b[i]) < t)
                t = bully_next_deadline(&s->b[i]), who = i;
        if (who < 0 || t > until)
            break;
        s->now = t;
        struct bully_out o;
        bully_on_timer(&s->b[who], t, &o);
        sim_out(s, who, &o);
        sim_deliver(s);
    }
    s->now = until;
}

static void sim_reset_counts(struct sim *s)
{
    memset(s->sent, 0, sizeof s->sent);
    memset(s->elections, 0, sizeof s->elections);
}

static int election_msgs(const struct sim *s)
{
    return s->sent[PROTO_ELECTION] + s->sent[PROTO_ANSWER] + s->sent[PROTO_COORDINATOR];
}

static void assert_all_follow(const struct sim *s, int leader)
{
    for (int i = 0; i < s->n; i++)
        if (s->alive[i]) {
            ck_assert_msg(s->b[i].leader == leader, "node %d follows %d, not %d", i, s->b[i].leader,
                          leader);
            ck_assert_int_eq(s->b[i].role, i == leader ? BULLY_LEADER : BULLY_FOLLOWER);
        }
}

START_TEST(sim_startup_elects_highest)
{
    struct sim s;
    sim_init(&s, 5);
    sim_run(&s, 2000);
    assert_all_follow(&s, 4);
    ck_assert_int_eq(s.b[4].wins, 1);
}
END_TEST

/* Best case: the second highest notices first. It asks the dead leader (1 ELECTION), gets no
 * ANSWER, and tells the n-2 others: n-1 messages in all (the textbook's n-2 COORDINATORs, plus
 * the one ELECTION our node cannot know is pointless). */
START_TEST(sim_best_case_n_minus_1)
{
    for (int n = 3; n <= SIM_N; n++) {
        struct sim s;
        sim_init(&s, n);
        sim_run(&s, 1000);
        s.alive[n - 1] = false;
        sim_reset_counts(&s);
        s.b[n - 2].t_leader = s.now + 1; /* it notices first */
        sim_run(&s, s.now + 5000);
        assert_all_follow(&s, n - 2);
        ck_assert_int_eq(s.sent[PROTO_ELECTION], 1);
        ck_assert_int_eq(s.sent[PROTO_ANSWER], 0);
        ck_assert_int_eq(s.sent[PROTO_COORDINATOR], n - 2);
        ck_assert_int_eq(election_msgs(&s), n - 1);
    }
}
END_TEST

/* Worst case: the lowest notices first, and every alive node holds an election:
 * ELECTION sum_{i=0}^{n-2} (n-1-i) = n(n-1)/2, ANSWER sum_{i=1}^{n-2} i = (n-1)(n-2)/2,
 * COORDINATOR n-2: (n-1)^2 + n - 2 in all. */
START_TEST(sim_worst_case_quadratic)
{
    for (int n = 3; n <= SIM_N; n++) {
        struct sim s;
        sim_init(&s, n);
        sim_run(&s, 1000);
        s.alive[n - 1] = false;
        sim_reset_counts(&s);
        s.b[0].t_leader = s.now + 1;
        sim_run(&s, s.now + 5000);
        assert_all_follow(&s, n - 2);
        ck_assert_int_eq(s.sent[PROTO_ELECTION], n * (n - 1) / 2);
        ck_assert_int_eq(s.sent[PROTO_ANSWER], (n - 1) * (n - 2) / 2);
        ck_assert_int_eq(s.sent[PROTO_COORDINATOR], n - 2);
        ck_assert_int_eq(election_msgs(&s), (n - 1) * (n - 1) + n - 2);
        for (int i = 0; i < n - 1; i++)
            ck_assert_int_eq(s.elections[i], 1);
    }
}
END_TEST

/* The old leader comes back: it holds an election, nobody outranks it, it wins, and its
 * COORDINATOR makes the interim leader step down. */
START_TEST(sim_restarted_leader_takes_over)
{
    struct sim s;
    struct bully_out o;
    sim_init(&s, 5);
    sim_run(&s, 1000);
    s.alive[4] = false;
    sim_run(&s, 3000);
    assert_all_follow(&s, 3);
    s.b[4] = mk(4, 5); /* a new process: no memory of the old one */
    s.alive[4] = true;
    bully_start(&s.b[4], s.now, &o);
    sim_out(&s, 4, &o);
    sim_deliver(&s);
    sim_run(&s, 5000);
    assert_all_follow(&s, 4);
}
END_TEST

/* A node that answered dies before announcing: the askers retry and a lower one wins. */
START_TEST(sim_answerer_dies_mid_election)
{
    struct sim s;
    sim_init(&s, 5);
    sim_run(&s, 1000);
    s.alive[4] = false;
    s.b[0].t_leader = s.now + 1;
    sim_run(&s, s.now + 1 + ANS / 2); /* 3 has answered and is waiting to win */
    ck_assert_int_eq(s.b[3].role, BULLY_ELECTING);
    ck_assert_int_eq(s.b[2].role, BULLY_WAITING);
    s.alive[3] = false;
    sim_run(&s, s.now + 3000);
    assert_all_follow(&s, 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bully");
    TCase *one = tcase_create("transitions"), *sim = tcase_create("cluster");
    tcase_set_timeout(one, 10);
    tcase_set_timeout(sim, 30);
    tcase_add_test(one, highest_wins_at_once);
    tcase_add_test(one, lowest_asks_every_higher);
    tcase_add_test(one, no_answer_means_we_win);
    tcase_add_test(one, answer_means_wait_then_retry);
    tcase_add_test(one, stale_answer_is_ignored);
    tcase_add_test(one, answer_from_lower_is_bad);
    tcase_add_test(one, election_from_lower_is_answered_and_taken_over);
    tcase_add_test(one, leader_answers_and_reannounces);
    tcase_add_test(one, election_from_higher_is_bad);
    tcase_add_test(one, coordinator_from_higher_is_followed_until_silent);
    tcase_add_test(one, coordinator_from_lower_is_refused);
    tcase_add_test(one, heartbeats_from_a_higher_leader_win_over);
    tcase_add_test(one, leader_steps_down_for_higher_corrects_lower);
    tcase_add_test(one, leader_heartbeats_everyone);
    tcase_add_test(sim, sim_startup_elects_highest);
    tcase_add_test(sim, sim_best_case_n_minus_1);
    tcase_add_test(sim, sim_worst_case_quadratic);
    tcase_add_test(sim, sim_restarted_leader_takes_over);
    tcase_add_test(sim, sim_answerer_dies_mid_election);
    suite_add_tcase(s, one);
    suite_add_tcase(s, sim);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
