/* lab2.c - lab2-snapshot's grading tests: the table, the snapshot checkers, the garbage injector.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "grader.h"

/*
 * Everything here is derived from the players' event lines (lab2-snapshot/README.md, "Event
 * lines"), never from the players' own conclusions: the send and receive of every message (paired
 * by msg=), each player's ev=record for a snapshot, the ev=chan lines that put a message in a
 * channel state, and the initiator's ev=snapshot verdict. A player's log is in program order, so
 * an event's position (seq) says whether it came before or after that player's record.
 */

#define MAXSNAPS 512

struct snapinfo {
    const char *id;                      /* "0:3" */
    int init;                            /* the initiator's id */
    const struct event *initiate;        /* ev=initiate at the initiator */
    const struct event *result;          /* ev=snapshot at the initiator, NULL if it never came */
    const struct event *rec[G_MAXNODES]; /* each player's ev=record */
    long long gold;      /* recorded states + recorded channel messages (from events) */
    struct msgmap *chan; /* msg id -> its ev=chan line */
    int nchan;
};

struct snaps {
    struct snapinfo s[MAXSNAPS];
    int n;
    struct msgmap *send, *recv;
    long long expect; /* the true total: players x initial gold */
    int sends, recvs, complete, incomplete, bad, pairs, chanmsgs;
};

static struct snapinfo *snap_get(struct snaps *S, const char *id, int init, struct verdict *v)
{
    for (int k = 0; k < S->n; k++)
        if (!strcmp(S->s[k].id, id))
            return &S->s[k];
    if (S->n == MAXSNAPS) {
        verdict_fail(v, V_HARNESS, "more than %d snapshots in one run", MAXSNAPS);
        return NULL;
    }
    struct snapinfo *s = &S->s[S->n++];
    memset(s, 0, sizeof *s);
    s->id = id, s->init = init, s->chan = msgmap_new();
    if (!s->chan)
        verdict_fail(v, V_HARNESS, "out of memory");
    return s->chan ? s : NULL;
}

static void snaps_free(struct snaps *S)
{
    for (int k = 0; k < S->n; k++)
        msgmap_free(S->s[k].chan);
    msgmap_free(S->send), msgmap_free(S->recv);
    free(S);
}

/* The snapshot an event names (snap=<init>:<n>), created on first sight. */
static struct snapinfo *snap_of(struct snaps *S, const struct event *e, struct verdict *v)
{
    char a[512];
    const char *id = event_get(e, "snap");
    int init;
    unsigned n;
    char extra;
    if (!id || sscanf(id, "%d:%u%c", &init, &n, &extra) != 2 || init < 0 || init >= G_MAXNODES) {
        verdict_fail(v, V_SAFETY, "an event without a valid snap=<initiator>:<n>: %s",
                     event_str(e, a, sizeof a));
        return NULL;
    }
    return snap_get(S, id, init, v);
}

/* One event into the index. */
static void index_event(struct snaps *S, const struct event *e, struct verdict *v)
{
    char a[512];
    const char *msg = event_get(e, "msg");
    struct snapinfo *s;
    if (!strcmp(e->ev, "send") || !strcmp(e->ev, "recv")) {
        bool send = e->ev[0] == 's';
        S->sends += send, S->recvs += !send;
        if (!msg || !msgmap_put(send ? S->send : S->recv, msg, e))
            verdict_fail(v, V_SAFETY, "%s without a msg= or with the id of an earlier one: %s",
                         e->ev, event_str(e, a, sizeof a));
    } else if (!strcmp(e->ev, "initiate") || !strcmp(e->ev, "snapshot")) {
        if ((s = snap_of(S, e, v)) && s->init != e->node)
            verdict_fail(v, V_SAFETY, "player %d speaks for a snapshot it did not start: %s",
                         e->node, event_str(e, a, sizeof a));
        else if (s && e->ev[0] == 'i')
            s->initiate = e;
        else if (s && s->result)
            verdict_fail(v, V_SAFETY, "two results for one snapshot: %s",
                         event_str(e, a, sizeof a));
        else if (s)
            s->result = e;
    } else if (!strcmp(e->ev, "record")) {
        if ((s = snap_of(S, e, v)) && s->rec[e->node])
            verdict_fail(v, V_SAFETY, "player %d recorded its state twice in one snapshot: %s",
                         e->node, event_str(e, a, sizeof a));
        else if (s)
            s->rec[e->node] = e;
    } else if (!strcmp(e->ev, "chan")) {
        if ((s = snap_of(S, e, v)) && (!msg || !msgmap_put(s->chan, msg, e)))
            verdict_fail(v, V_SAFETY, "a message recorded twice in one snapshot's channels: %s",
                         event_str(e, a, sizeof a));
        else if (s)
            s->nchan++;
    } else if (!strcmp(e->ev, "bad")) {
        S->bad++;
    }
}

static struct snaps *index_run(struct run *r, struct verdict *v)
{
    struct snaps *S = calloc(1, sizeof *S);
    if (!S || !(S->send = msgmap_new()) || !(S->recv = msgmap_new())) {
        verdict_fail(v, V_HARNESS, "out of memory");
        if (S)
            snaps_free(S);
        return NULL;
    }
    long long gold = -1;
    for (int i = 0; i < r->n; i++)
        for_each_event(r, i, e) {
            if (!strcmp(e->ev, "ready") && gold < 0)
                event_int(e, "gold", &gold);
            index_event(S, e, v);
        }
    S->expect = gold * r->n;
    if (gold < 0)
        verdict_fail(v, V_SAFETY, "no ev=ready line says gold=<initial coins>");
    return S;
}

/* Every receive matches its send: same ends, same gold. */
static void check_pairs(struct run *r, struct snaps *S, struct verdict *v)
{
    char a[512], b[512];
    for (int i = 0; i < r->n; i++)
        for (int j = 0; j < r->node[i].n; j++) {
            const struct event *e = &r->node[i].ev[j], *s;
            if (strcmp(e->ev, "recv") != 0)
                continue;
            const char *id = event_get(e, "msg");
            long long from = -1, to = -2, g1 = -1, g2 = -2;
            if (!id || !(s = msgmap_get(S->send, id))) {
                verdict_fail(v, V_SAFETY, "received a message that was never sent: %s",
                             event_str(e, a, sizeof a));
                continue;
            }
            event_int(e, "from", &from), event_int(s, "to", &to);
            event_int(e, "gold", &g1), event_int(s, "gold", &g2);
            if (from != s->node || to != e->node || g1 != g2)
                verdict_fail(v, V_SAFETY,
                             "a receive does not match its send (ends or gold): "
                             "%s vs %s",
                             event_str(e, a, sizeof a), event_str(s, b, sizeof b));
        }
}

/* No balance ever exceeds all the gold that exists: a larger have= is forged or wrapped money
 * (issue 12: forged transfers took a balance past 2^32). */
static void check_balances(struct run *r, struct snaps *S, struct verdict *v)
{
    char a[512];
    for (int i = 0; i < r->n; i++)
        for_each_event(r, i, e) {
            long long have = -1;
            if (strcmp(e->ev, "send") != 0 && strcmp(e->ev, "recv") != 0)
                continue;
            if (!event_int(e, "have", &have) || have < 0 || have > S->expect) {
                verdict_fail(v, V_SAFETY,
                             "player %d's balance is have=%lld, but only %lld coins exist "
                             "(players x initial gold): forged or wrapped money was "
                             "accepted: %s",
                             i, have, S->expect, event_str(e, a, sizeof a));
                return;
            }
        }
}

/* The cut of snapshot s is consistent and its channel states are exactly right. For each message
 * m from i to j: pre = sent before i's record, post = not received before j's record.
 *   !pre and received before j's record   -> an orphan: the cut is inconsistent;
 *   pre and post                          -> m must be in the state of channel i->j, and received;
 *   in the channel state but not pre&post -> recorded wrongly (the seed's rule does this). */
static void check_cut(struct run *r, struct snaps *S, struct snapinfo *s, struct verdict *v)
{
    char a[512], b[512], c[512], d[512];
    int matched = 0;
    for (int i = 0; i < r->n; i++)
        for_each_event(r, i, snd) {
            if (strcmp(snd->ev, "send") != 0)
                continue;
            const char *id = event_get(snd, "msg");
            long long to = -1;
            if (!id || !event_int(snd, "to", &to) || to < 0 || to >= r->n || !s->rec[to])
                continue;
            const struct event *rcv = msgmap_get(S->recv, id), *ch = msgmap_get(s->chan, id);
            bool pre = snd->seq < s->rec[i]->seq;
            bool post = !rcv || rcv->seq > s->rec[to]->seq;
            S->pairs++;
            matched += ch != NULL;
            if (!pre && !post)
                verdict_fail(v, V_SAFETY,
                             "snapshot %s: inconsistent cut: message %s was sent after player "
                             "%d recorded its state, but received before player %lld recorded "
                             "its own\n      record: %s\n      send:   %s\n      receive: %s\n"
                             "      record: %s",
                             s->id, id, i, to, event_str(s->rec[i], a, sizeof a),
                             event_str(snd, b, sizeof b), event_str(rcv, c, sizeof c),
                             event_str(s->rec[to], d, sizeof d));
            else if (pre && post && !rcv)
                verdict_fail(v, V_SAFETY,
                             "snapshot %s completed, but message %s, sent before "
                             "player %d's record, was never received: %s",
                             s->id, id, i, event_str(snd, a, sizeof a));
            else if (pre && post && !ch)
                verdict_fail(v, V_SAFETY,
                             "snapshot %s: channel %d->%lld lost a message: %s was sent before "
                             "player %d recorded and received after player %lld recorded, so it "
                             "was in the channel at the cut, but no ev=chan records it\n"
                             "      send:    %s\n      receive: %s",
                             s->id, i, to, id, i, to, event_str(snd, a, sizeof a),
                             event_str(rcv, b, sizeof b));
            else if (!(pre && post) && ch)
                verdict_fail(v, V_SAFETY,
                             "snapshot %s: wrong channel state: message %s was recorded in "
                             "channel %d->%lld, but it was %s, so it is not in transit at the "
                             "cut (is the channel still recorded after its marker arrived?)\n"
                             "      sender's record: %s\n      send:     %s\n"
                             "      recorded: %s",
                             s->id, id, i, to,
                             pre ? "received before the receiver recorded its state"
                                 : "sent after the sender recorded its state",
                             event_str(s->rec[i], a, sizeof a), event_str(snd, b, sizeof b),
                             event_str(ch, c, sizeof c));
        }
    if (matched != s->nchan)
        verdict_fail(v, V_SAFETY,
                     "snapshot %s: %d ev=chan lines name messages that were never "
                     "sent to that player",
                     s->id, s->nchan - matched);
}

/* Sum of what the players recorded: states plus channel messages, from their own lines. */
static long long recorded_gold(struct run *r, struct snapinfo *s)
{
    long long sum = 0, g;
    for (int i = 0; i < r->n; i++) {
        if (s->rec[i] && event_int(s->rec[i], "gold", &g))
            sum += g;
        for_each_event(r, i, e) {
            const char *id = event_get(e, "snap");
            if (!strcmp(e->ev, "chan") && id && !strcmp(id, s->id) && event_int(e, "gold", &g))
                sum += g;
        }
    }
    return sum;
}

/* A snapshot the initiator calls complete: everyone recorded, the total is the true total, both
 * as printed and as recomputed from the players' lines, and the cut is consistent. */
static void check_complete(struct run *r, struct snaps *S, struct snapinfo *s, struct verdict *v)
{
    char a[512];
    long long total = -1;
    for (int i = 0; i < r->n; i++)
        if (!s->rec[i]) {
            verdict_fail(v, V_SAFETY,
                         "snapshot %s is reported complete, but player %d never "
                         "recorded its state in it: %s",
                         s->id, i, event_str(s->result, a, sizeof a));
            return;
        }
    s->gold = recorded_gold(r, s);
    event_int(s->result, "total", &total);
    /* A wrong channel state is the cause, a wrong total its symptom: name the cause first,
     * except in the test that is about the total. */
    bool total_first = r->test && !strcmp(r->test->name, "total-conserved");
    if (!total_first)
        check_cut(r, S, s, v);
    if (total != S->expect || s->gold != S->expect)
        verdict_fail(v, V_SAFETY,
                     "snapshot %s: total not conserved: the true total is always %lld (players "
                     "x initial gold), the initiator printed total=%lld, and the players' "
                     "ev=record and ev=chan lines add up to %lld\n      %s",
                     s->id, S->expect, total, s->gold, event_str(s->result, a, sizeof a));
    if (total_first)
        check_cut(r, S, s, v);
    S->chanmsgs += s->nchan;
}

/* Which players start timed snapshots: "--initiators 0,1" in the test's arguments. */
static unsigned initiators(const struct run *r)
{
    const char *p = r->test ? strstr(r->test->args, "--initiators ") : NULL;
    unsigned mask = 0;
    for (p = p ? p + 13 : NULL; p && *p >= '0' && *p <= '9';) {
        char *end;
        long id = strtol(p, &end, 10);
        mask |= 1u << (id & 31);
        p = *end == ',' ? end + 1 : end;
    }
    return mask ? mask : 1u;
}

/* Every snapshot: complete ones checked in full; returns the index, NULL on failure. */
static struct snaps *check_all(struct run *r, struct verdict *v)
{
    char a[512];
    struct snaps *S = index_run(r, v);
    if (!S)
        return NULL;
    check_pairs(r, S, v);
    check_balances(r, S, v);
    for (int k = 0; k < S->n; k++) {
        struct snapinfo *s = &S->s[k];
        long long complete = -1;
        if (!s->initiate && !s->result)
            continue; /* records of a snapshot whose initiator's lines were lost (crashed) */
        if (!s->result) {
            verdict_fail(v, V_LIVENESS, "snapshot %s was started but never finished: %s", s->id,
                         event_str(s->initiate, a, sizeof a));
            continue;
        }
        event_int(s->result, "complete", &complete);
        if (complete == 1)
            S->complete++, check_complete(r, S, s, v);
        else if (complete == 0 && event_get(s->result, "why"))
            S->incomplete++;
        else
            verdict_fail(v, V_SAFETY,
                         "a result that is neither complete=1 nor complete=0 "
                         "why=<reason>: %s",
                         event_str(s->result, a, sizeof a));
    }
    unsigned init = initiators(r);
    for (int i = 0; i < r->n; i++)
        if ((init & (1u << i)) && run_count(r, i, "snapshot") == 0)
            verdict_fail(v, V_LIVENESS, "initiator %d never finished a snapshot", i);
    snprintf(r->info, sizeof r->info,
             "%d players, %d snapshots complete, %d incomplete, %d transfers (%d received), "
             "%d in channel states, true total %lld, %d message/snapshot pairs checked, "
             "%d bad inputs logged",
             r->n, S->complete, S->incomplete, S->sends, S->recvs, S->chanmsgs, S->expect, S->pairs,
             S->bad);
    return S;
}

static void check_snapshots(struct run *r, struct verdict *v)
{
    struct snaps *S = check_all(r, v);
    if (S && S->incomplete)
        verdict_fail(v, V_SAFETY,
                     "%d snapshots were reported incomplete in a run where no "
                     "player failed",
                     S->incomplete);
    if (S)
        snaps_free(S);
}

/* The end of a run: every initiator printed ev=done (its --snapshots are all over). */
static bool until_initiators_done(struct run *r, char *why, size_t cap)
{
    unsigned init = initiators(r);
    for (int i = 0; i < r->n; i++)
        if ((init & (1u << i)) && r->node[i].pid && run_count(r, i, "done") == 0) {
            snprintf(why, cap, "initiator %d has not printed ev=done (%d snapshots finished)", i,
                     run_count(r, i, "snapshot"));
            return false;
        }
    return true;
}

/* ---- concurrent initiators ---- */

static void check_concurrent(struct run *r, struct verdict *v)
{
    struct snaps *S = check_all(r, v);
    if (!S)
        return;
    int overlaps = 0;
    for (int a = 0; a < S->n; a++)
        for (int b = 0; b < S->n; b++) {
            const struct snapinfo *x = &S->s[a], *y = &S->s[b];
            /* y started while x was running, from another initiator */
            overlaps += x->init != y->init && x->initiate && x->result && y->initiate &&
                        y->initiate->t > x->initiate->t && y->initiate->t < x->result->t;
        }
    if (S->incomplete)
        verdict_fail(v, V_SAFETY, "%d snapshots reported incomplete with no failure",
                     S->incomplete);
    if (overlaps == 0)
        verdict_fail(v, V_LIVENESS,
                     "no two snapshots of different initiators overlapped in "
                     "time: nothing concurrent was tested");
    run_info(r, "; %d overlapping pairs", overlaps);
    snaps_free(S);
}

/* ---- a paused player ---- */

#define PAUSED 2

static void check_paused(struct run *r, struct verdict *v)
{
    struct snaps *S = check_all(r, v);
    const struct applied_fault *p = run_fault(r, F_PAUSE, PAUSED);
    const struct applied_fault *c = run_fault(r, F_RESUME, PAUSED);
    if (!S)
        return;
    if (!p || !c)
        verdict_fail(v, V_HARNESS, "the pause/resume of player %d was not applied", PAUSED);
    int waited = 0;
    for (int k = 0; p && c && k < S->n; k++) {
        const struct snapinfo *s = &S->s[k];
        long long complete = 0;
        if (s->initiate && s->result && event_int(s->result, "complete", &complete) &&
            complete == 1 && s->initiate->t > p->t && s->initiate->t < c->t && s->result->t > c->t)
            waited++;
    }
    if (S->incomplete)
        verdict_fail(v, V_SAFETY,
                     "%d snapshots reported incomplete: a paused player is slow, "
                     "not dead",
                     S->incomplete);
    if (p && c && waited == 0)
        verdict_fail(v, V_LIVENESS,
                     "no snapshot started while player %d was stopped completed "
                     "after it resumed",
                     PAUSED);
    run_info(r, "; %d snapshots waited for the paused player", waited);
    snaps_free(S);
}

/* ---- a player crashes while snapshots run ----
 *
 * The crash must come after at least one snapshot has completed, or the test cannot tell a
 * player that never completes a snapshot from a slow machine; and while a snapshot still needs
 * the crashed player's report, or a player that forgets the snapshots it was waiting in is not
 * seen. So it is not one F_CRASH at a fixed time: from CRASH_FIRST_MS on, CRASH_CALLS F_CALLs
 * (the table's CRASH_AT) read the logs, and once a snapshot is complete and the initiator's
 * latest one still waits for player CRASHED's report, SIGSTOP it, then CRASH_STOP_MS later SIGKILL
 * it (at CRASH_LAST_MS both, in any case). While it is stopped the others exchange every marker
 * that does not come from it, so when its streams end nothing else is left to arrive for that
 * snapshot: a player that only notices the death when its next marker comes (and not at
 * peer_down) hangs. The crash is recorded as the F_CRASH the harness would have applied
 * (killed_by_us), at the stop, the last moment it ran: "complete before the crash" never counts
 * a result it did not take part in alive. */

#define CRASHED 2
#define CRASH_FIRST_MS 620
#define CRASH_CALLS 31     /* 20 calls 40 ms apart from 620 ms, then 11 calls 400 ms apart */
#define CRASH_LAST_MS 5800 /* from 1800 ms to 5800 ms: a loaded machine's slow snapshots */
#define CRASH_STOP_MS 150  /* stopped this long before it is killed */

static bool some_complete(const struct run *r, int node)
{
    for (int j = 0; j < r->node[node].n; j++) {
        long long complete = 0;
        const struct event *e = &r->node[node].ev[j];
        if (!strcmp(e->ev, "snapshot") && event_int(e, "complete", &complete) && complete == 1)
            return true;
    }
    return false;
}

/* Node's first ev=<ev> snap=<id>, or NULL. */
static const struct event *snap_event(const struct run *r, int node, const char *ev, const char *id)
{
    for_each_event(r, node, e) {
        const char *s = event_get(e, "snap");
        if (!strcmp(e->ev, ev) && s && !strcmp(s, id))
            return e;
    }
    return NULL;
}

/* The initiator's latest snapshot has no result yet and player CRASHED has not reported in it. */
static bool needs_crashed(const struct run *r)
{
    const char *id = NULL;
    for_each_event(r, 0, e)
        if (!strcmp(e->ev, "initiate"))
            id = event_get(e, "snap");
    return id && !snap_event(r, 0, "snapshot", id) && !snap_event(r, CRASHED, "report", id);
}

static void inject_crash(struct run *r, int node, struct verdict *v)
{
    struct nodelog *nl = &r->node[node];
    const struct applied_fault *f = run_fault(r, F_CRASH, node);
    double now = mono_ms();
    bool last = now - r->t_ready >= CRASH_LAST_MS - 20;
    (void)v;
    if (nl->pid <= 0)
        return;
    if (!f && !last && !(some_complete(r, 0) && needs_crashed(r)))
        return;
    if (!f) { /* stage 1: stop it; the others finish all they can without it */
        nl->killed_by_us = nl->paused = true;
        if (r->napplied < G_MAXFAULTS)
            r->applied[r->napplied++] = (struct applied_fault){now, F_CRASH, node};
        kill(-nl->pid, SIGSTOP);
    }
    if (last || (f && now - f->t >= CRASH_STOP_MS)) /* stage 2: it dies, its streams end */
        kill(-nl->pid, SIGKILL);
}

static void check_crash(struct run *r, struct verdict *v)
{
    char a[512];
    struct snaps *S = check_all(r, v);
    const struct applied_fault *f = run_fault(r, F_CRASH, CRASHED);
    if (!S)
        return;
    if (!f)
        verdict_fail(v, V_HARNESS, "the crash of player %d was not applied", CRASHED);
    int before = 0; /* complete snapshots over before the crash: all four players alive */
    for (int k = 0; f && k < S->n; k++) {
        const struct snapinfo *s = &S->s[k];
        long long complete = 0;
        if (!s->initiate || !s->result || !event_int(s->result, "complete", &complete) ||
            complete != 1)
            continue;
        before += s->result->t >= 0 && s->result->t < f->t;
        if (s->initiate->t > f->t + 5)
            verdict_fail(v, V_SAFETY,
                         "snapshot %s started after player %d crashed, yet it is "
                         "reported complete: %s",
                         s->id, CRASHED, event_str(s->result, a, sizeof a));
    }
    /* Reporting every snapshot incomplete is not how a crash is survived: the ones taken while
     * every player was alive must complete (and check_all checked their totals and cuts). */
    if (f && before == 0)
        verdict_fail(v, V_LIVENESS,
                     "no snapshot completed before player %d crashed (%.0f ms after the start), "
                     "while every player was alive",
                     CRASHED, f->t - r->t_ready);
    run_info(r, "; %d complete before player %d crashed", before, CRASHED);
    if (S->incomplete == 0)
        verdict_fail(v, V_LIVENESS,
                     "player %d crashed, yet no snapshot was reported "
                     "incomplete (complete=0 why=...)",
                     CRASHED);
    snaps_free(S);
}

/* ---- bad input: the grader connects to every player and sends garbage ---- */

#define NGARBAGE 9

/* lab2's frame, written independently of the lab's code (README "The protocol"):
 * "SN" | version 1 | type | payload length u16 | payload. */
static size_t frame(uint8_t *b, int version, int type, int plen, const uint8_t *payload, int paylen)
{
    b[0] = 'S', b[1] = 'N', b[2] = (uint8_t)version, b[3] = (uint8_t)type;
    b[4] = (uint8_t)(plen >> 8), b[5] = (uint8_t)plen;
    memcpy(b + 6, payload, (size_t)paylen);
    return 6 + (size_t)paylen;
}

static void send_conn(struct run *r, int node, const uint8_t *b, size_t len, struct verdict *v)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)r->node[node].port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0 ||
        send(fd, b, len, MSG_NOSIGNAL) != (ssize_t)len)
        verdict_fail(v, V_HARNESS, "could not send garbage to player %d: %m", node);
    if (fd >= 0)
        close(fd);
}

static void inject_garbage(struct run *r, int node, struct verdict *v)
{
    uint8_t b[NGARBAGE][128];
    size_t len[NGARBAGE];
    uint8_t self[2] = {0, (uint8_t)node}, far[2] = {0, 200}, xfer[8] = {0, 0, 0, 1, 0, 0, 0, 5};
    uint64_t x = r->seed * 2654435761u + (uint64_t)node;
    for (size_t k = 0; k < sizeof b[0]; k++, x = x * 6364136223846793005ULL + 1)
        b[0][k] = (uint8_t)(x >> 33);
    b[0][0] = 0xFF, len[0] = 100;                          /* random bytes */
    len[1] = frame(b[1], 1, 1, 2, self, 2), b[1][0] = 'X'; /* bad magic */
    len[2] = frame(b[2], 7, 1, 2, self, 2);                /* bad version */
    len[3] = frame(b[3], 1, 99, 2, self, 2);               /* unknown type */
    len[4] = frame(b[4], 1, 1, 5, self, 2);                /* HELLO with a wrong length */
    len[5] = frame(b[5], 1, 2, 8, xfer, 8);                /* gold before any HELLO */
    len[6] = frame(b[6], 1, 1, 2, far, 2);                 /* HELLO from player 200 */
    len[7] = frame(b[7], 1, 1, 2, self, 2);                /* HELLO claiming to be the player */
    len[8] = frame(b[8], 1, 1, 2, self, 2) - 5;            /* cut off mid-frame */
    for (int k = 0; k < NGARBAGE; k++)
        send_conn(r, node, b[k], len[k], v);
}

/* The why= of each garbage connection above (README "The protocol"): each breaks one rule. */
static const char *const garbage_why[NGARBAGE] = {"bad_magic", "bad_magic",  "bad_version",
                                                  "bad_type",  "bad_length", "no_hello",
                                                  "bad_value", "bad_hello",  "truncated"};

/* Player i refused each garbage connection with the token of the rule it breaks: one check
 * missing would otherwise hide behind another's ev=bad line. */
static void check_garbage_why(struct run *r, int i, struct verdict *v)
{
    for (int k = 0; k < NGARBAGE; k++) {
        int want = 0, got = run_count_bad(r, i, garbage_why[k]);
        for (int m = 0; m < NGARBAGE; m++)
            want += !strcmp(garbage_why[m], garbage_why[k]);
        if (got < want) {
            verdict_fail(v, V_SAFETY,
                         "player %d logged %d ev=bad why=%s, but it was sent %d garbage "
                         "connections that only that check refuses (README \"The protocol\")",
                         i, got, garbage_why[k], want);
            return;
        }
    }
}

static void check_bad(struct run *r, struct verdict *v)
{
    for (int i = 0; i < r->n; i++)
        check_garbage_why(r, i, v); /* first: the most specific reason */
    struct snaps *S = check_all(r, v);
    if (!S)
        return;
    for (int i = 0; i < r->n; i++) {
        int bad = run_count(r, i, "bad");
        double last_bad = 0, last_alive = 0;
        for_each_event(r, i, e) {
            if (!strcmp(e->ev, "bad"))
                last_bad = e->t;
            /* it still plays (gold arrives) or still takes part in snapshots */
            if (!strcmp(e->ev, "recv") || !strcmp(e->ev, "record") || !strcmp(e->ev, "marker"))
                last_alive = e->t;
        }
        if (bad < NGARBAGE)
            verdict_fail(v, V_SAFETY,
                         "player %d logged %d ev=bad lines for the %d garbage "
                         "connections it was sent: some bad input was accepted or "
                         "ignored silently",
                         i, bad, NGARBAGE);
        else if (last_alive < last_bad)
            verdict_fail(v, V_LIVENESS,
                         "player %d neither received gold nor took part in a snapshot "
                         "after the garbage: it did not go on with its peers",
                         i);
    }
    if (S->incomplete)
        verdict_fail(v, V_SAFETY,
                     "%d snapshots reported incomplete: garbage from a stranger "
                     "must not break the players' channels",
                     S->incomplete);
    snaps_free(S);
}

/* ---- attacks by a stranger on the LAN (issue 12), over the wire against the real players ----
 *
 * Player 1 starts partitioned (faultnet refuses its connects, and everyone's to it), so for the
 * others it has not started yet. The grader, outside the partition, then connects to players 0
 * and 2 and lies: it claims to be player 1, floods forged coins, or says nothing at all. It keeps
 * those connections open. Then the partition heals and the real player 1 must still join. */

#define GOLD 100    /* --gold in BASE below */
#define LATE 1      /* the player that starts late (partitioned) */
#define NSILENT 70  /* silent connections: more than the 64 inbound slots of the kit's player */
#define NFLOOD 2000 /* forged XFERs of each kind */
#define MAXHELD (NSILENT + 8)

/* The grader's own connections to the players, kept open until each player closes them. */
struct held_conns {
    int fd[MAXHELD];
    int n, closed;
};

static struct held_conns *held(struct run *r)
{
    if (!r->lab_state)
        r->lab_state = calloc(1, sizeof(struct held_conns));
    return r->lab_state;
}

static void teardown_held(struct run *r, struct verdict *v)
{
    (void)v;
    struct held_conns *h = r->lab_state;
    for (int k = 0; h && k < h->n; k++)
        if (h->fd[k] >= 0)
            close(h->fd[k]);
    free(h);
    r->lab_state = NULL;
}

/* Connect to player node and send b (may be empty); the connection is kept. */
static void hold_conn(struct run *r, int node, const uint8_t *b, size_t len, struct verdict *v)
{
    struct held_conns *h = held(r);
    struct timeval tv = {5, 0}; /* never hang the grader on a player that stopped reading */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)r->node[node].port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (!h || h->n == MAXHELD || fd < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
        connect(fd, (struct sockaddr *)&to, sizeof to) < 0 ||
        (len && send(fd, b, len, MSG_NOSIGNAL) != (ssize_t)len)) {
        verdict_fail(v, V_HARNESS, "could not hold a connection to player %d: %m", node);
        if (fd >= 0)
            close(fd);
        return;
    }
    h->fd[h->n++] = fd;
}

/* A HELLO claiming to be player LATE, then k forged XFERs (seq, gold) appended to b. */
static size_t forged(uint8_t *b, size_t at, uint32_t seq, uint32_t gold, int k)
{
    uint8_t hello[2] = {0, LATE};
    if (at == 0)
        at = frame(b, 1, 1, 2, hello, 2);
    for (int i = 0; i < k; i++) {
        uint8_t x[8] = {(uint8_t)(seq >> 24), (uint8_t)(seq >> 16),  (uint8_t)(seq >> 8),
                        (uint8_t)seq,         (uint8_t)(gold >> 24), (uint8_t)(gold >> 16),
                        (uint8_t)(gold >> 8), (uint8_t)gold};
        at += frame(b + at, 1, 2, 8, x, 8);
    }
    return at;
}

/* F_CALL: a HELLO in player LATE's name, nothing more. */
static void inject_forged_hello(struct run *r, int node, struct verdict *v)
{
    uint8_t b[16];
    hold_conn(r, node, b, forged(b, 0, 0, 0, 0), v);
}

/* F_CALL: a HELLO in player LATE's name and a flood of coins no honest player could send:
 * sequence number 0 (numbers start at 1); and to player 0, which never gives (--interval 0) so
 * it holds at least GOLD, msg=LATE:10 again and again with the whole supply, which would leave
 * it with more than exists. The kit's player before issue 12 accepted every one. */
static void inject_xfer_flood(struct run *r, int node, struct verdict *v)
{
    static uint8_t b[8 + 2 * NFLOOD * 14];
    size_t len = forged(b, 0, 0, 5, NFLOOD);
    if (node == 0)
        len = forged(b, len, 10, (uint32_t)(GOLD * r->n), NFLOOD);
    hold_conn(r, node, b, len, v);
}

/* F_CALL: NSILENT connections that never send a byte. */
static void inject_silent(struct run *r, int node, struct verdict *v)
{
    for (int k = 0; k < NSILENT; k++)
        hold_conn(r, node, NULL, 0, v);
}

/* Has the player closed each of our connections? (EOF, or a reset if it had unread bytes.) */
static int count_closed(struct held_conns *h)
{
    for (int k = 0; k < h->n; k++) {
        if (h->fd[k] < 0)
            continue;
        char c[256];
        ssize_t got;
        while ((got = recv(h->fd[k], c, sizeof c, MSG_DONTWAIT)) > 0) {
        } /* WELCOMEs */
        if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            close(h->fd[k]), h->fd[k] = -1, h->closed++;
    }
    return h->closed;
}

/* The end of an attack run: the initiators are done and every lying connection was closed by
 * the player it lied to (a silent one after its HELLO timeout, a forged claim when the real
 * player spoke): a player that keeps them holds slots and can be locked up. */
/* Has player i received coins from the late player? (Its join is only shown by them.) */
static bool heard_late(struct run *r, int i)
{
    for_each_event(r, i, e) {
        const char *from = event_get(e, "from");
        if (!strcmp(e->ev, "recv") && from && atoi(from) == LATE)
            return true;
    }
    return false;
}

static bool until_attack_over(struct run *r, char *why, size_t cap)
{
    struct held_conns *h = r->lab_state;
    if (!until_initiators_done(r, why, cap))
        return false;
    for (int i = 0; i < r->n; i++)
        if (i != LATE && !heard_late(r, i)) {
            snprintf(why, cap, "player %d has not received coins from the late player %d", i,
                     LATE);
            return false;
        }
    if (h && count_closed(h) < h->n) {
        snprintf(why, cap,
                 "%d of the grader's %d lying connections are still open: the player "
                 "never closes a connection that says nothing or lies about who it is",
                 h->n - h->closed, h->n);
        return false;
    }
    return true;
}

/* The late player joined: the others took its HELLO (ev=connect at it), its coins arrived. */
static void check_joined(struct run *r, struct verdict *v)
{
    for (int i = 0; i < r->n; i++) {
        char want[32];
        bool connected = false, got = false;
        snprintf(want, sizeof want, "%d", i);
        for (int j = 0; i != LATE && j < r->node[LATE].n; j++) {
            const struct event *e = &r->node[LATE].ev[j];
            const char *to = event_get(e, "to");
            connected |= !strcmp(e->ev, "connect") && to && !strcmp(to, want);
        }
        got = i != LATE && heard_late(r, i);
        if (i != LATE && !connected)
            verdict_fail(v, V_LIVENESS,
                         "player %d never joined player %d (no ev=connect to=%d at player %d): "
                         "a stranger's connection locked the real player out",
                         LATE, i, i, LATE);
        else if (i != LATE && !got)
            verdict_fail(v, V_LIVENESS, "player %d never received coins from player %d", i, LATE);
    }
}

static void check_attack(struct run *r, struct verdict *v)
{
    struct snaps *S = check_all(r, v);
    if (!S)
        return;
    if (S->incomplete)
        verdict_fail(v, V_SAFETY,
                     "%d snapshots reported incomplete: a stranger's lies must not "
                     "break the players' channels",
                     S->incomplete);
    check_joined(r, v);
    snaps_free(S);
}

/* ... and the forged transfers were refused and said so (ev=bad why=... msg=...). Not all of
 * them need be read: once the real player's first frame is accepted the forger's connection is
 * closed with the rest of the flood unread (on a slow machine, before it was all processed).
 * Money first: a forged coin accepted is the worse failure. */
static void check_flood(struct run *r, struct verdict *v)
{
    check_attack(r, v);
    for (int i = 0; i < r->n; i += 2) {
        int refused = 0;
        for_each_event(r, i, e)
            refused += !strcmp(e->ev, "bad") && event_get(e, "msg");
        if (refused == 0)
            verdict_fail(v, V_SAFETY,
                         "player %d was sent %d forged transfers and refused none with ev=bad "
                         "why=... msg=...: forged coins must be refused and logged",
                         i, i == 0 ? 2 * NFLOOD : NFLOOD);
    }
}

/* ---- --key: the group key keeps strangers out (README "Group key") ----
 *
 * Every player holds the key, except in key-wrong-key, where player OUTSIDER holds another one.
 * The grader holds none: what it sends is what a stranger on the LAN can send. */

#define OUTSIDER 2  /* key-wrong-key: this player holds another key */
#define NKEYFORGED 4 /* forged connections per attacked player in key-forged */
#define NSIGNED 100 /* forged signed XFERs on one of them */

static int setup_group_key(struct run *r, struct verdict *v)
{
    return harness_write_keys(r, -1, v);
}

static int setup_outsider_key(struct run *r, struct verdict *v)
{
    return harness_write_keys(r, OUTSIDER, v);
}

/* lab2's signed frame (README "Group key"), written independently of the lab's code: the plain
 * frame with version 2, then sender u16 | to u16 | stamp u64 | tag[32]. The grader has no key,
 * so the tag is bytes of its own, and the stamp is fresh: only the tag can give it away. */
static size_t signed_frame(uint8_t *b, int type, const uint8_t *payload, int len, int sender,
                           int to)
{
    static uint64_t last;
    uint64_t stamp = last = harness_wall_us() > last ? harness_wall_us() : last + 1;
    size_t n = frame(b, 2, type, len, payload, len);
    b[n] = 0, b[n + 1] = (uint8_t)sender, b[n + 2] = 0, b[n + 3] = (uint8_t)to;
    for (int k = 0; k < 8; k++)
        b[n + 4 + k] = (uint8_t)(stamp >> (56 - 8 * k));
    for (int k = 0; k < 32; k++)
        b[n + 12 + k] = (uint8_t)(stamp * 31 + (uint64_t)k * 131);
    return n + 44;
}

/* F_CALL: NKEYFORGED connections to a keyed player, each in player LATE's name: a plain HELLO
 * and a flood of plain XFERs (forged-xfer-flood's, which the keyless player refuses only by
 * their numbers); a HELLO and NSIGNED fresh, plausible XFERs in the signed layout with a tag not
 * made with the key; a plain HELLO alone; a signed HELLO alone. */
static void inject_key_forged(struct run *r, int node, struct verdict *v)
{
    static uint8_t b[8 + 2 * NFLOOD * 14 + (NSIGNED + 1) * 80];
    uint8_t hello[2] = {0, LATE};
    hold_conn(r, node, b, forged(b, 0, 0, 5, NFLOOD), v);
    size_t len = signed_frame(b, 1, hello, 2, LATE, node);
    for (uint32_t seq = 1; seq <= NSIGNED; seq++) {
        uint8_t x[8] = {0, 0, (uint8_t)(seq >> 8), (uint8_t)seq, 0, 0, 0, 5};
        len += signed_frame(b + len, 2, x, 8, LATE, node);
    }
    hold_conn(r, node, b, len, v);
    hold_conn(r, node, b, frame(b, 1, 1, 2, hello, 2), v);
    hold_conn(r, node, b, signed_frame(b, 1, hello, 2, LATE, node), v);
}

/* Player i's first ev=accept from=who before time t, or NULL. */
static const struct event *accepted_before(const struct run *r, int i, int who, double t)
{
    for_each_event(r, i, e) {
        long long from = -1;
        if (e->t >= 0 && e->t < t && !strcmp(e->ev, "accept") && event_int(e, "from", &from) &&
            from == who)
            return e;
    }
    return NULL;
}

/* key-forged: with the key, a forged HELLO is not even a claim: no player took a HELLO in LATE's
 * name before the partition healed (the real LATE could not reach anyone until then), and each
 * forged connection was one ev=bad why=bad-mac. Money, snapshots and the late join as in
 * forged-xfer-flood (check_attack; a forged coin accepted fails check_pairs: never sent). */
static void check_key_forged(struct run *r, struct verdict *v)
{
    char a[512];
    const struct applied_fault *heal = run_fault(r, F_NET, 0);
    if (!heal) {
        verdict_fail(v, V_HARNESS, "the partition was never healed");
        return;
    }
    check_attack(r, v);
    for (int i = 0; i < r->n; i += 2) {
        const struct event *e = accepted_before(r, i, LATE, heal->t);
        int bad = run_count_bad(r, i, "bad-mac");
        if (e)
            verdict_fail(v, V_SAFETY,
                         "player %d took a HELLO in player %d's name from a stranger without the "
                         "group key (a missing or wrong tag must be ev=bad why=bad-mac and the "
                         "connection closed): %s",
                         i, LATE, event_str(e, a, sizeof a));
        if (bad < NKEYFORGED)
            verdict_fail(v, V_SAFETY,
                         "player %d logged %d ev=bad why=bad-mac for the %d forged connections "
                         "without a good tag it was sent",
                         i, bad, NKEYFORGED);
    }
    run_info(r, "; %d forged connections per attacked player, each bad-mac", NKEYFORGED);
}

/* key-wrong-key ends when the group has played and has refused the outsider a few times. */
static bool until_outsider_refused(struct run *r, char *why, size_t cap)
{
    for (int i = 0; i < r->n; i++) {
        int bad = run_count_bad(r, i, "bad-mac"),
            recv = i == OUTSIDER ? 20 : run_count(r, i, "recv");
        if (bad < 3 || recv < 20) {
            snprintf(why, cap, "player %d: %d ev=bad why=bad-mac (want 3), %d coins received", i,
                     bad, recv);
            return false;
        }
    }
    return true;
}

/* key-wrong-key: the outsider holds another key. Nobody in the group ever takes its HELLO or its
 * WELCOME, or its coins; it takes none of theirs; every one of its tries is a bad-mac; the
 * group's own coins all pair up and no balance exceeds the supply. */
static void check_outsider(struct run *r, struct verdict *v)
{
    char a[512];
    struct snaps *S = index_run(r, v);
    if (!S)
        return;
    check_pairs(r, S, v);
    check_balances(r, S, v);
    for (int i = 0; i < r->n; i++)
        for_each_event(r, i, e) {
            long long peer = -1;
            bool with_outsider = (!strcmp(e->ev, "accept") && event_int(e, "from", &peer)) ||
                                 (!strcmp(e->ev, "connect") && event_int(e, "to", &peer));
            if (with_outsider && (i == OUTSIDER || peer == OUTSIDER)) {
                verdict_fail(v, V_SAFETY,
                             "player %d and player %d hold different keys, yet one took the "
                             "other's frame (it must be ev=bad why=bad-mac): %s",
                             i, i == OUTSIDER ? (int)peer : OUTSIDER, event_str(e, a, sizeof a));
                break;
            }
        }
    snprintf(r->info, sizeof r->info,
             "bad-mac lines: player 0 %d, player 1 %d, outsider %d %d; %d transfers (%d received)",
             run_count_bad(r, 0, "bad-mac"), run_count_bad(r, 1, "bad-mac"), OUTSIDER,
             run_count_bad(r, OUTSIDER, "bad-mac"), S->sends, S->recvs);
    snaps_free(S);
}

/* ---- the table ---- */

#define BASE "--id {id} --nodes {nodes} --seed {seed} --gold 100 "
#define SNAPS " --snapshot-every 100 --snapshots 10"
#define KEY " --key {dir}/group.key"
#define CRASH_AT(ms) {ms, F_CALL, CRASHED, NULL}

/* Progress: snapshots (markers, states, reports). Players send money all along, stuck or not,
 * and a stranger's rejected frames (bad) come as long as it tries. A snapshot is an operation
 * that must end: its initiator's ev=snapshot (complete or not) follows its ev=initiate within
 * milliseconds in a correct run (markers cross loopback; a crashed peer is seen at once and a
 * paused one is a fault, after which the window starts again), so one open for 5 s is stuck:
 * a copy that never forwards a marker is told so in seconds rather than at the 90 s cap. */
static void progress(const struct run *r, struct progress_rule *p)
{
    (void)r;
    p->background = "send recv bad";
    p->open = "initiate", p->close = "snapshot", p->key = "snap", p->open_ms = 5000;
}

static const struct gtest tests[] = {
    {.name = "total-conserved",
     .points = 15,
     .nodes = 3,
     .args = BASE "--interval 10 --initiators 0" SNAPS,
     .net = "",
     .until = until_initiators_done,
     .check = check_snapshots,
     .timeout_ms = 90000,
     .what = "every complete snapshot's recorded states + channel messages = players x gold"},
    {.name = "consistent-cut",
     .points = 20,
     .nodes = 4,
     .args = BASE "--interval 3 --initiators 0" SNAPS,
     .net = "",
     .until = until_initiators_done,
     .check = check_snapshots,
     .timeout_ms = 90000,
     .what = "no message received before the cut was sent after it; channel states are exactly "
             "the messages in transit at the cut"},
    {.name = "slow-channels",
     .points = 15,
     .nodes = 4,
     .args = BASE "--interval 5 --delay-ms 40 --initiators 0" SNAPS,
     .net = "",
     .until = until_initiators_done,
     .check = check_snapshots,
     .timeout_ms = 90000,
     .what = "total and cut hold when every frame is held 0-40 ms (FIFO kept)"},
    {.name = "concurrent-initiators",
     .points = 15,
     .nodes = 4,
     .args = BASE "--interval 5 --delay-ms 20 --initiators 0,1,3" SNAPS,
     .net = "",
     .until = until_initiators_done,
     .check = check_concurrent,
     .timeout_ms = 90000,
     .what = "three players start snapshots that overlap; each is complete, conserved, consistent"},
    {.name = "eight-players",
     .points = 10,
     .nodes = 8,
     .args = BASE "--interval 10 --initiators 0,5" SNAPS,
     .net = "",
     .until = until_initiators_done,
     .check = check_snapshots,
     .timeout_ms = 120000,
     .what = "total and cut with 8 players and two initiators"},
    {.name = "paused-player",
     .points = 10,
     .nodes = 3,
     .args = BASE "--interval 10 --initiators 0 --snapshot-every 200 --snapshots 10",
     .net = "",
     .faults = {{300, F_PAUSE, PAUSED, NULL}, {1500, F_RESUME, PAUSED, NULL}},
     .nfaults = 2,
     .until = until_initiators_done,
     .check = check_paused,
     .timeout_ms = 90000,
     .what = "player 2 stopped 1.2 s: snapshots wait for it and complete after it resumes"},
    {.name = "crash-during-snapshot",
     .points = 10,
     .nodes = 4,
     .args = BASE "--interval 5 --delay-ms 20 --initiators 0 --snapshot-every 100 "
                  "--snapshots 60",
     .net = "",
     /* CRASH_CALLS chances to crash player 2: see inject_crash(); 60 snapshots outlast them */
     .faults = {CRASH_AT(620), CRASH_AT(660), CRASH_AT(700), CRASH_AT(740), CRASH_AT(780),
                CRASH_AT(820), CRASH_AT(860), CRASH_AT(900), CRASH_AT(940), CRASH_AT(980),
                CRASH_AT(1020), CRASH_AT(1060), CRASH_AT(1100), CRASH_AT(1140), CRASH_AT(1180),
                CRASH_AT(1220), CRASH_AT(1260), CRASH_AT(1300), CRASH_AT(1340), CRASH_AT(1380),
                CRASH_AT(1800), CRASH_AT(2200), CRASH_AT(2600), CRASH_AT(3000), CRASH_AT(3400),
                CRASH_AT(3800), CRASH_AT(4200), CRASH_AT(4600), CRASH_AT(5000), CRASH_AT(5400),
                CRASH_AT(5800)},
     .nfaults = CRASH_CALLS,
     .until = until_initiators_done,
     .check = check_crash,
     .inject = inject_crash,
     .timeout_ms = 90000,
     .what = "player 2 killed after a complete snapshot, while one needs its report: that one and "
             "later ones say complete=0, never a wrong total"},
    {.name = "bad-input",
     .points = 5,
     .nodes = 3,
     /* 20 snapshots: the run goes on well after the garbage, even on a slow machine */
     .args = BASE "--interval 10 --initiators 0 --snapshot-every 100 --snapshots 20",
     .net = "",
     .faults = {{150, F_CALL, 0, NULL}, {150, F_CALL, 1, NULL}, {150, F_CALL, 2, NULL}},
     .nfaults = 3,
     .until = until_initiators_done,
     .check = check_bad,
     .inject = inject_garbage,
     .timeout_ms = 90000,
     .what = "garbage TCP connections are logged as ev=bad and closed; the game goes on"},
    {.name = "forged-xfer-flood",
     .points = 5,
     .nodes = 3,
     .args = BASE "--interval 10 --initiators 0" SNAPS,
     .args0 = BASE "--interval 0 --initiators 0" SNAPS, /* player 0 holds >= its 100 coins */
     .net = "partition 0,2 1",
     .faults = {{100, F_CALL, 0, NULL}, {100, F_CALL, 2, NULL}, {500, F_NET, 0, ""}},
     .nfaults = 3,
     .until = until_attack_over,
     .check = check_flood,
     .inject = inject_xfer_flood,
     .teardown = teardown_held,
     .timeout_ms = 45000,
     .what = "forged and replayed XFERs in a late player's name are refused: no balance above "
             "the supply, every snapshot total = players x gold, the real player still joins"},
    {.name = "silent-connections",
     .points = 5,
     .nodes = 3,
     .args = BASE "--interval 10 --initiators 0" SNAPS,
     .net = "partition 0,2 1",
     .faults = {{100, F_CALL, 0, NULL}, {400, F_NET, 0, ""}},
     .nfaults = 2,
     .until = until_attack_over,
     .check = check_attack,
     .inject = inject_silent,
     .teardown = teardown_held,
     .timeout_ms = 45000,
     .what = "70 connections that never send HELLO do not lock the late player out, and the "
             "player closes every one of them"},
    {.name = "forged-hello",
     .points = 5,
     .nodes = 3,
     .args = BASE "--interval 10 --initiators 0" SNAPS,
     .net = "partition 0,2 1",
     .faults = {{100, F_CALL, 0, NULL}, {100, F_CALL, 2, NULL}, {400, F_NET, 0, ""}},
     .nfaults = 3,
     .until = until_attack_over,
     .check = check_attack,
     .inject = inject_forged_hello,
     .teardown = teardown_held,
     .timeout_ms = 45000,
     .what = "a silent HELLO in the name of a player not started yet does not shut it out"},
    {.name = "key-forged",
     .points = 5,
     .nodes = 3,
     .args = BASE "--interval 10 --initiators 0" SNAPS KEY,
     .net = "partition 0,2 1",
     .faults = {{100, F_CALL, 0, NULL}, {100, F_CALL, 2, NULL}, {500, F_NET, 0, ""}},
     .nfaults = 3,
     .until = until_attack_over,
     .check = check_key_forged,
     .inject = inject_key_forged,
     .setup = setup_group_key,
     .teardown = teardown_held,
     .timeout_ms = 45000,
     .what = "--key: HELLOs and XFERs in a late player's name without a good tag (plain, or a "
             "tag not made with the key) are bad-mac and closed, never even a claim; money and "
             "every snapshot total conserved; the real player joins"},
    {.name = "key-wrong-key",
     .points = 5,
     .nodes = 3,
     .args = BASE "--interval 10" KEY,
     .net = "",
     .until = until_outsider_refused,
     .check = check_outsider,
     .setup = setup_outsider_key,
     .timeout_ms = 45000,
     .what = "--key: player 2 holds another key: 0 and 1 never take its frames nor it theirs "
             "(bad-mac both ways); 0 and 1 play on, every coin conserved"},
};

const struct lab lab2_snapshot = {"lab2-snapshot", "player", tests, sizeof tests / sizeof *tests,
                                  progress};
