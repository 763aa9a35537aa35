/* bully.c - the Bully election algorithm: state + event + now -> new state + messages + timers. */
#include "bully.h"

#include <string.h>

static void out_clear(struct bully_out *out)
{
    memset(out, 0, sizeof *out);
}

static void emit(struct bully_out *out, uint8_t type, int to, uint32_t round)
{
    /* BULLY_MAX_SENDS is two broadcasts' worth; no single event needs more. */
    if (out->nsend < BULLY_MAX_SENDS)
        out->send[out->nsend++] = (struct bully_send){type, to, round};
}

static void timers_off(struct bully *b)
{
    b->t_answer = b->t_coord = b->t_heartbeat = b->t_leader = BULLY_NEVER;
}

static void set_leader(struct bully *b, int leader, enum bully_via via, struct bully_out *out)
{
    /* A win is always reported (it is an announcement); a follow only when it changes. */
    if (b->leader != leader || via == BULLY_WON)
        out->via = via;
    b->leader = leader;
}

/* STEP 3: we won: tell every lower id, then keep telling everyone by heartbeat. */
static void win(struct bully *b, int64_t now, struct bully_out *out)
{
    timers_off(b);
    b->role = BULLY_LEADER;
    b->wins++;
    set_leader(b, b->cfg.id, BULLY_WON, out);
    for (int j = 0; j < b->cfg.id; j++)
        emit(out, PROTO_COORDINATOR, j, b->round);
    b->t_heartbeat = now + b->cfg.heartbeat_ms;
}

/* STEP 1: ELECTION to every higher id. The highest id has nobody to ask and wins at once. */
static void start_election(struct bully *b, int64_t now, enum bully_cause cause,
                           struct bully_out *out)
{
    timers_off(b);
    b->round++;
    b->elections++;
    out->cause = cause;
    if (b->cfg.id == b->cfg.n - 1) {
        win(b, now, out);
        return;
    }
    b->role = BULLY_ELECTING;
    for (int j = b->cfg.id + 1; j < b->cfg.n; j++)
        emit(out, PROTO_ELECTION, j, b->round);
    b->t_answer = now + b->cfg.answer_ms;
}

static void follow(struct bully *b, int64_t now, int j, enum bully_via via, struct bully_out *out)
{
    timers_off(b);
    b->role = BULLY_FOLLOWER;
    set_leader(b, j, via, out);
    b->t_leader = now + b->cfg.leader_ms;
}

void bully_init(struct bully *b, const struct bully_config *cfg)
{
    memset(b, 0, sizeof *b);
    b->cfg = *cfg;
    b->role = BULLY_FOLLOWER;
    b->leader = -1;
    timers_off(b);
}

void bully_start(struct bully *b, int64_t now, struct bully_out *out)
{
    out_clear(out);
    start_election(b, now, BULLY_STARTUP, out);
}

/* STEP 2: a lower id asks. We answer "I am alive" and take the election over, unless one of
 * ours is already running. A leader answers and re-announces itself to the asker instead. */
static void on_election(struct bully *b, int64_t now, const struct proto_msg *m,
                        struct bully_out *out)
{
    int from = m->sender;
    if (from > b->cfg.id) {
        out->bad = "election-from-higher"; /* ELECTION only ever goes up */
        return;
    }
    emit(out, PROTO_ANSWER, from, m->round);
    if (b->role == BULLY_LEADER)
        emit(out, PROTO_COORDINATOR, from, b->round);
    else if (b->role == BULLY_FOLLOWER)
        start_election(b, now, BULLY_FROM_LOWER, out);
    /* ELECTING or WAITING: our own election already covers it */
}

/* A higher id is alive and takes over: stop, and wait for its COORDINATOR. An ANSWER for an
 * older round (late, duplicated) says nothing about the election we are in now. */
static void on_answer(struct bully *b, int64_t now, const struct proto_msg *m,
                      struct bully_out *out)
{
    if (m->sender < b->cfg.id) {
        out->bad = "answer-from-lower";
        return;
    }
    if (b->role != BULLY_ELECTING || m->round != b->round)
        return;
    b->role = BULLY_WAITING;
    b->t_answer = BULLY_NEVER;
    b->t_coord = now + b->cfg.coord_ms;
}

/* STEP 4: accept a COORDINATOR only from a higher id. A lower one claiming to lead while we are
 * alive is wrong (a lost ANSWER, a stale message, a forgery): refuse it; if we lead, say so
 * again to every lower id. Our heartbeats correct the impostor too. */
static void on_coordinator(struct bully *b, int64_t now, const struct proto_msg *m,
                           struct bully_out *out)
{
    if (m->sender < b->cfg.id) {
        out->bad = "coordinator-from-lower";
        if (b->role == BULLY_LEADER)
            for (int j = 0; j < b->cfg.id; j++)
                emit(out, PROTO_COORDINATOR, j, b->round);
        return;
    }
    follow(b, now, m->sender, BULLY_COORDINATOR, out);
}

/* STEP 5: heartbeats keep a follower's trust in its leader. One from a higher id than the leader
 * we know (a restarted or resumed node that still leads) wins us over: it outranks ours. */
static void on_heartbeat(struct bully *b, int64_t now, const struct proto_msg *m,
                         struct bully_out *out)
{
    int from = m->sender;
    if (from < b->cfg.id) {
        /* A lower node believes it leads; if we lead, correct it. Otherwise our own leader's
         * heartbeats (from a higher id than it) will. */
        if (b->role == BULLY_LEADER)
            emit(out, PROTO_COORDINATOR, from, b->round);
        return;
    }
    if (b->role == BULLY_FOLLOWER && from == b->leader)
        b->t_leader = now + b->cfg.leader_ms;
    else if (b->role != BULLY_FOLLOWER || b->leader < 0 || from > b->leader)
        follow(b, now, from, BULLY_HEARTBEAT, out);
    /* else: from is between us and our leader; our leader's heartbeats will correct it */
}

void bully_on_message(struct bully *b, int64_t now, const struct proto_msg *m,
                      struct bully_out *out)
{
    out_clear(out);
    switch (m->type) {
    case PROTO_ELECTION: on_election(b, now, m, out); break;
    case PROTO_ANSWER: on_answer(b, now, m, out); break;
    case PROTO_COORDINATOR: on_coordinator(b, now, m, out); break;
    case PROTO_HEARTBEAT: on_heartbeat(b, now, m, out); break;
    default: out->bad = "bad-type"; /* proto_decode() never lets one through */
    }
}

void bully_on_timer(struct bully *b, int64_t now, struct bully_out *out)
{
    out_clear(out);
    if (now >= b->t_answer) { /* ELECTING and nobody higher answered: we are the highest alive */
        win(b, now, out);
    } else if (now >= b->t_coord) { /* WAITING: whoever answered died before announcing */
        start_election(b, now, BULLY_NO_COORDINATOR, out);
    } else if (now >= b->t_leader) { /* FOLLOWER: the leader went silent */
        b->leader = -1;
        out->via_before = BULLY_SUSPECT;
        start_election(b, now, BULLY_LEADER_SILENT, out);
    } else if (now >= b->t_heartbeat) {
        for (int j = 0; j < b->cfg.n; j++)
            if (j != b->cfg.id)
                emit(out, PROTO_HEARTBEAT, j, b->round);
        /* From now, not from the missed deadline: a paused leader sends one, not a burst. */
        b->t_heartbeat = now + b->cfg.heartbeat_ms;
    }
}

int64_t bully_next_deadline(const struct bully *b)
{
    int64_t t = b->t_answer;
    if (b->t_coord < t)
        t = b->t_coord;
    if (b->t_heartbeat < t)
        t = b->t_heartbeat;
    if (b->t_leader < t)
        t = b->t_leader;
    return t;
}

const char *bully_cause_name(enum bully_cause c)
{
    static const char *const names[] = {"none", "startup", "leader-silent", "election-from-lower",
                                        "no-coordinator"};
    return (unsigned)c < sizeof names / sizeof *names ? names[c] : "?";
}

const char *bully_via_name(enum bully_via v)
{
    static const char *const names[] = {"none", "won", "coordinator", "heartbeat", "suspect"};
    return (unsigned)v < sizeof names / sizeof *names ? names[v] : "?";
}

const char *bully_role_name(enum bully_role r)
{
    static const char *const names[] = {"follower", "electing", "waiting", "leader"};
    return (unsigned)r < sizeof names / sizeof *names ? names[r] : "?";
}
