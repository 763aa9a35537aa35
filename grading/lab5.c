/* lab5.c - lab5-chat-multicast's grading tests: mutual exclusion, liveness, message count,
 * convergence after sync, checkpoints across kill -9, loss, a dead member, bad input, and the
 * attacks of issue 12 (a ghost member, a forged author, a forged huge seq; with --key, forged
 * and wrong-key datagrams). */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "grader.h"

/* ---- helpers ---- */

/* Did node i end the run killed (its last crash not followed by a restart)? */
static bool ended_dead(const struct run *r, int i)
{
    bool dead = false;
    for (int k = 0; k < r->napplied; k++)
        if (r->applied[k].node == i && r->applied[k].kind == F_CRASH)
            dead = true;
        else if (r->applied[k].node == i && r->applied[k].kind == F_RESTART)
            dead = false;
    return dead;
}

static int last_life(const struct nodelog *nl)
{
    return nl->n ? nl->ev[nl->n - 1].life : 0;
}

/* The last event named ev of node i's life (NULL if none). */
static const struct event *last_in_life(const struct nodelog *nl, int life, const char *ev)
{
    for (int j = nl->n - 1; j >= 0; j--)
        if (nl->ev[j].life == life && !strcmp(nl->ev[j].ev, ev))
            return &nl->ev[j];
    return NULL;
}

static bool same_req(const struct event *a, const struct event *b)
{
    const char *x = event_get(a, "req"), *y = event_get(b, "req");
    return x && y && !strcmp(x, y);
}

/* ---- mutual exclusion: no two members' critical sections overlap in time ---- */

struct interval {
    const struct event *enter;
    double from, to;
};

/* A section's end: its cs-exit, or (killed inside it) the last line of that life. */
static double section_end(const struct nodelog *nl, int j)
{
    const struct event *e = &nl->ev[j];
    double end = e->t;
    for (int k = j + 1; k < nl->n && nl->ev[k].life == e->life; k++) {
        end = nl->ev[k].t;
        if (!strcmp(nl->ev[k].ev, "cs-exit") && same_req(e, &nl->ev[k]))
            return end;
        if (!strcmp(nl->ev[k].ev, "cs-enter"))
            break;
    }
    return end;
}

static int collect_sections(struct run *r, struct interval *iv, int cap)
{
    int n = 0;
    for (int i = 0; i < r->n; i++)
        for (int j = 0; j < r->node[i].n && n < cap; j++)
            if (!strcmp(r->node[i].ev[j].ev, "cs-enter"))
                iv[n].enter = &r->node[i].ev[j], iv[n].from = r->node[i].ev[j].t,
                iv[n].to = section_end(&r->node[i], j), n++;
    return n;
}

static void check_mutex(struct run *r, struct verdict *v)
{
    int cap = 0;
    for (int i = 0; i < r->n; i++)
        cap += run_count(r, i, "cs-enter");
    struct interval *iv = calloc((size_t)cap + 1, sizeof *iv);
    if (!iv) {
        verdict_fail(v, V_HARNESS, "out of memory");
        return;
    }
    int n = collect_sections(r, iv, cap);
    char a[512], b[512];
    for (int x = 0; x < n; x++)
        for (int y = x + 1; y < n; y++) {
            const struct interval *p = &iv[x], *q = &iv[y];
            if (p->enter->node == q->enter->node || p->from >= q->to || q->from >= p->to)
                continue;
            verdict_fail(v, V_SAFETY,
                         "mutual exclusion violated: two members were in the critical section "
                         "at once (%.3f ms of overlap)\n      %s  (inside t=%.3f..%.3f)\n"
                         "      %s  (inside t=%.3f..%.3f)\n      a member must not enter "
                         "before every live peer has replied, and must defer replies while it "
                         "holds or has the older request",
                         (p->to < q->to ? p->to : q->to) - (p->from > q->from ? p->from : q->from),
                         event_str(p->enter, a, sizeof a), p->from, p->to,
                         event_str(q->enter, b, sizeof b), q->from, q->to);
            free(iv);
            return;
        }
    run_info(r, "%s%d critical sections, none overlapping", r->info[0] ? "; " : "", n);
    free(iv);
}

/* ---- liveness: every request is granted ---- */

static void check_granted(struct run *r, struct verdict *v)
{
    char a[512];
    int requests = 0, granted = 0;
    for (int i = 0; i < r->n; i++) {
        const struct nodelog *nl = &r->node[i];
        for (int j = 0; j < nl->n; j++) {
            const struct event *e = &nl->ev[j];
            /* a request cut short by a kill -9 of its own member is not owed a grant */
            if (strcmp(e->ev, "request") != 0 || e->life != last_life(nl) || ended_dead(r, i))
                continue;
            requests++;
            bool ok = false;
            for (int k = j + 1; k < nl->n && !ok; k++)
                ok = !strcmp(nl->ev[k].ev, "cs-enter") && same_req(e, &nl->ev[k]);
            granted += ok;
            if (!ok)
                verdict_fail(v, V_LIVENESS,
                             "a request was never granted (no cs-enter with its "
                             "req=): %s",
                             event_str(e, a, sizeof a));
        }
    }
    /* the summary line says what happened, also when it is a failure */
    if (granted == requests)
        run_info(r, "%s%d requests of surviving members, all granted", r->info[0] ? "; " : "",
                 requests);
    else
        run_info(r, "%s%d requests of surviving members, only %d granted (%d never entered)",
                 r->info[0] ? "; " : "", requests, granted, requests - granted);
}

/* ---- convergence: after sync, every live member holds every message, replicas agree ---- */

/* Distinct message ids ever sent (ev=send msg=), over every member and life. */
/* Was member i SIGKILLed by the schedule (a crash, or a restart's kill)? */
static bool ever_killed(const struct run *r, int i)
{
    for (int k = 0; k < r->napplied; k++)
        if (r->applied[k].node == i &&
            (r->applied[k].kind == F_CRASH || r->applied[k].kind == F_RESTART))
            return true;
    return false;
}

/* Messages sent: every id a member printed ev=send for, and every id in the name u<i> of a member
 * the grader killed that someone delivered: the kill may land after the datagram left and
 * before its author printed ev=send (seen: u1:2 delivered by u0 and u2, never logged by u1). */
static int count_sent(struct run *r)
{
    struct msgmap *m = msgmap_new();
    int n = 0;
    for (int i = 0; m && i < r->n; i++)
        for_each_event(r, i, e) {
            const char *id = event_get(e, "msg");
            int author = -1, len = 0;
            bool counts = !strcmp(e->ev, "send");
            if (!counts && id && !strcmp(e->ev, "deliver") &&
                sscanf(id, "u%d:%*u%n", &author, &len) == 1 && id[len] == '\0' && author >= 0 &&
                author < r->n && author != i)
                counts = ever_killed(r, author);
            if (counts && id && msgmap_put(m, id, e))
                n++;
        }
    msgmap_free(m);
    return n;
}

/* Writes what is still missing into why. Members 0..upto-1 that are alive (running: now; else
 * at the end) must have converged. */
static bool converged_among(struct run *r, int upto, bool running, char *why, size_t cap)
{
    int want = count_sent(r);
    const char *digest = NULL;
    for (int i = 0; i < upto; i++) {
        const struct nodelog *nl = &r->node[i];
        if (running ? !nl->pid : ended_dead(r, i))
            continue;
        int life = running ? nl->life : last_life(nl);
        const struct event *h = last_in_life(nl, life, "history");
        const struct event *rep = last_in_life(nl, life, "replicas");
        long long n = -1, agree = 0;
        if (!h || !event_int(h, "n", &n) || n != want) {
            snprintf(why, cap,
                     "node %d: after sync its history holds %lld messages, not the "
                     "%d that were sent%s",
                     i, n, want, h ? "" : " (no ev=history after sync)");
            return false;
        }
        if (!digest)
            digest = event_get(h, "digest");
        if (!digest || !event_get(h, "digest") || strcmp(digest, event_get(h, "digest"))) {
            snprintf(why, cap,
                     "node %d's history (digest=%s) differs from node 0's or the "
                     "first live member's (digest=%s): same messages, different content or order",
                     i, event_get(h, "digest"), digest);
            return false;
        }
        if (!rep || !event_int(rep, "agree", &agree) || agree != 1 || !event_get(rep, "digest") ||
            strcmp(event_get(rep, "digest"), digest)) {
            snprintf(why, cap,
                     "node %d: its replicas do not agree with its history (last "
                     "ev=replicas agree=%lld digest=%s)",
                     i, agree, rep && event_get(rep, "digest") ? event_get(rep, "digest") : "-");
            return false;
        }
    }
    snprintf(why, cap, "%d messages", want);
    return true;
}

static bool converged(struct run *r, bool running, char *why, size_t cap)
{
    return converged_among(r, r->n, running, why, cap);
}

/* Progress of a chat run: a section entered, a message delivered, a history reported after sync,
 * a member (re)started. A deadlocked copy (a REP never sent, two members that both defer) makes
 * none; rather than wait out the 90-120 s cap, the run ends STALL_MS after the last progress
 * (never before the last fault) and the checkers name what is stuck (the requests never
 * granted, the members that disagree). The longest quiet moment of a correct run is a wait for
 * --dead-ms (3 s) or --ghost-ms (1.5 s). */
#define STALL_MS 10000

static bool stalled(struct run *r)
{
    static const char *const progress[] = {"cs-enter", "deliver", "history", "ready"};
    double last = r->t_ready;
    for (int k = 0; k < r->napplied; k++)
        last = r->applied[k].t > last ? r->applied[k].t : last;
    for (int i = 0; i < r->n; i++)
        for (int j = r->node[i].n - 1; j >= 0 && r->node[i].ev[j].t > last; j--)
            for (size_t k = 0; k < sizeof progress / sizeof *progress; k++)
                if (!strcmp(r->node[i].ev[j].ev, progress[k]))
                    last = r->node[i].ev[j].t;
    return mono_ms() - last > STALL_MS * r->opt->slow;
}

static bool until_converged(struct run *r, char *why, size_t cap)
{
    return converged(r, true, why, cap) || stalled(r);
}

/* Members that never restarted must have printed ev=deliver for every message sent. */
static void check_delivered(struct run *r, struct verdict *v)
{
    for (int i = 0; i < r->n; i++) {
        if (last_life(&r->node[i]) != 0 || ended_dead(r, i))
            continue;
        struct msgmap *m = msgmap_new();
        for (int j = 0; m && j < r->node[i].n; j++)
            if (!strcmp(r->node[i].ev[j].ev, "deliver") && event_get(&r->node[i].ev[j], "msg"))
                msgmap_put(m, event_get(&r->node[i].ev[j], "msg"), &r->node[i].ev[j]);
        for (int k = 0; m && k < r->n; k++)
            for_each_event(r, k, e) {
                char a[512];
                if (!strcmp(e->ev, "send") && event_get(e, "msg") &&
                    !msgmap_get(m, event_get(e, "msg"))) {
                    verdict_fail(v, V_LIVENESS, "node %d never delivered a message: %s", i,
                                 event_str(e, a, sizeof a));
                    msgmap_free(m);
                    return;
                }
            }
        msgmap_free(m);
    }
}

static void check_converged(struct run *r, struct verdict *v)
{
    char why[600];
    bool ok = converged(r, false, why, sizeof why);
    if (!ok)
        verdict_fail(v, V_LIVENESS, "after sync the members disagree: %s", why);
    check_delivered(r, v);
    run_info(r, "%s%s: %s", r->info[0] ? "; " : "", ok ? "converged" : "NOT converged", why);
}

/* ---- the Lamport clock: a REQ's timestamp is seen before the member acts on it ---- */

/* Property (Lamport's receive rule, which RA's safety rests on): the clock after receiving a
 * REQ stamped ts is above ts (ev=req lc > ts), and a member's request is stamped above every
 * REQ it received before in that life. Without the max, a member that replied to an older
 * request can stamp its own below it, get the reply of the older one and enter beside it. */
static void check_clock(struct run *r, struct verdict *v)
{
    char a[512], b[512];
    for (int i = 0; i < r->n; i++) {
        const struct event *seen = NULL; /* the REQ with the largest ts received in this life */
        long long top = -1;
        for (int j = 0; j < r->node[i].n; j++) {
            const struct event *e = &r->node[i].ev[j];
            long long ts, lc;
            if (j > 0 && e->life != r->node[i].ev[j - 1].life)
                seen = NULL, top = -1;
            if (!event_int(e, "ts", &ts))
                continue;
            if (!strcmp(e->ev, "req")) {
                if (event_int(e, "lc", &lc) && lc <= ts) {
                    verdict_fail(v, V_SAFETY,
                                 "node %d's Lamport clock did not move past a REQ it received "
                                 "(lc=%lld after a REQ stamped ts=%lld): %s\n      on receive, "
                                 "lc = max(lc, ts) + 1",
                                 i, lc, ts, event_str(e, a, sizeof a));
                    return;
                }
                if (ts > top)
                    top = ts, seen = e;
            } else if (!strcmp(e->ev, "request") && seen && ts <= top) {
                verdict_fail(v, V_SAFETY,
                             "node %d stamped its request ts=%lld, not above the REQ ts=%lld it "
                             "had received before\n      received: %s\n      request:  %s\n"
                             "      the clock must take the max of every timestamp it sees",
                             i, ts, top, event_str(seen, a, sizeof a), event_str(e, b, sizeof b));
                return;
            }
        }
    }
}

/* ---- STEP 3: the replies deferred are sent on leaving the section ---- */

/* Did node i, between its events from and to (same life), log ev=name with key=value? */
static bool logged(const struct run *r, int i, int from, int to, const char *name, const char *key,
                   const char *value)
{
    for (int j = from; j < to; j++) {
        const struct event *e = &r->node[i].ev[j];
        const char *x = event_get(e, key);
        if (!strcmp(e->ev, name) && x && !strcmp(x, value))
            return true;
    }
    return false;
}

/* Property: after a member deferred X, the cs-exit that follows is followed by a REP to X
 * before the member requests again (or its life ends), unless X was declared dead or restarted
 * in between. A REP that only comes when X retransmits its REQ is not a deferred reply sent. */
static void check_deferred_sent(struct run *r, struct verdict *v)
{
    char a[512], b[512];
    for (int i = 0; i < r->n; i++) {
        const struct nodelog *nl = &r->node[i];
        for (int j = 0; j < nl->n; j++) {
            const struct event *d = &nl->ev[j];
            const char *to = event_get(d, "to");
            if (strcmp(d->ev, "defer") != 0 || !to)
                continue;
            int x = j + 1, end;
            while (x < nl->n && nl->ev[x].life == d->life && strcmp(nl->ev[x].ev, "cs-exit"))
                x++;
            if (x == nl->n || nl->ev[x].life != d->life)
                continue; /* killed, or the run ended, before leaving the section */
            for (end = x + 1; end < nl->n && nl->ev[end].life == d->life; end++)
                if (!strcmp(nl->ev[end].ev, "request"))
                    break;
            bool at_request = end < nl->n && nl->ev[end].life == d->life;
            if (!at_request && (end < nl->n || ended_dead(r, i)))
                continue; /* killed after cs-exit, perhaps before the REPs left */
            if (logged(r, i, x, end, "rep", "to", to) ||
                logged(r, i, j, end, "peer-dead", "peer", to) ||
                logged(r, i, j, end, "peer-restarted", "peer", to))
                continue;
            verdict_fail(v, V_LIVENESS,
                         "node %d deferred %s's request and left the section without sending "
                         "it the REP it owed: %s\n      after: %s\n      STEP 3: on leaving "
                         "the critical section, reply to every deferred request",
                         i, to, event_str(d, a, sizeof a), event_str(&nl->ev[x], b, sizeof b));
            return;
        }
    }
}

/* Property: a message id is sent once. A member restarted from an older checkpoint that reuses
 * the seq of a message it sent before the crash gives the group two messages with one id. */
static void check_unique_ids(struct run *r, struct verdict *v)
{
    struct msgmap *m = msgmap_new();
    char a[512], b[512];
    for (int i = 0; m && i < r->n; i++)
        for_each_event(r, i, e) {
            const char *id = event_get(e, "msg");
            if (strcmp(e->ev, "send") != 0 || !id || msgmap_put(m, id, e))
                continue;
            verdict_fail(v, V_SAFETY,
                         "message id %s was sent twice\n      first:  %s\n      again:  %s\n"
                         "      after a restart a member must never reuse a seq it sent before "
                         "(its replicas hold what it sent after the checkpoint)",
                         id, event_str(msgmap_get(m, id), a, sizeof a), event_str(e, b, sizeof b));
            msgmap_free(m);
            return;
        }
    msgmap_free(m);
}

/* A REP counts only for the request it names (README, STEP 2): every ev=grant of a member names
 * its pending request, the last ev=request of the same life. A grant for another request is a
 * late or duplicated REP of an earlier one taken as a yes for the new one: it can let the member
 * in before the peer agreed, whether or not the grader saw the overlap this time. */
static void check_grants_match(struct run *r, struct verdict *v)
{
    char a[512], b[512];
    for (int i = 0; i < r->n; i++) {
        const struct event *pending = NULL;
        for_each_event(r, i, e) {
            if (!strcmp(e->ev, "request"))
                pending = e;
            else if (!strcmp(e->ev, "grant") && pending && pending->life == e->life &&
                     !same_req(pending, e)) {
                verdict_fail(v, V_SAFETY,
                             "a REP was counted for a request it does not name: %s\n      "
                             "pending request: %s\n      a REP of an earlier request (late, or "
                             "a duplicate) must be ignored: compare its req and req_boot",
                             event_str(e, a, sizeof a), event_str(pending, b, sizeof b));
                return;
            }
        }
    }
}

static void check_chat(struct run *r, struct verdict *v)
{
    check_mutex(r, v);
    check_granted(r, v);
    check_grants_match(r, v);
    check_converged(r, v);
    check_clock(r, v);
    check_deferred_sent(r, v);
    check_unique_ids(r, v);
    int retx = 0, bad = 0;
    for (int i = 0; i < r->n; i++)
        retx += run_count(r, i, "retx"), bad += run_count(r, i, "bad");
    run_info(r, "; %d REQ retransmissions, %d ev=bad", retx, bad);
}

/* ---- exactly 2(N-1) control messages per entry, without faults ---- */

static void count_for(struct run *r, const struct event *enter, int *reqs, int *reps)
{
    *reqs = *reps = 0;
    for (int i = 0; i < r->n; i++)
        for (int j = 0; i != enter->node && j < r->node[i].n; j++) {
            const struct event *e = &r->node[i].ev[j];
            *reqs += !strcmp(e->ev, "req") && same_req(e, enter);
            *reps += !strcmp(e->ev, "rep") && same_req(e, enter);
        }
}

static void check_count(struct run *r, struct verdict *v)
{
    check_chat(r, v);
    int entries = 0, retx = 0, want = 2 * (r->n - 1), used = 0, off = 0;
    char a[512];
    for (int i = 0; i < r->n; i++) {
        retx += run_count(r, i, "retx");
        for_each_event(r, i, e) {
            if (strcmp(e->ev, "cs-enter") != 0)
                continue;
            int reqs, reps;
            count_for(r, e, &reqs, &reps);
            entries++;
            used += reqs + reps;
            off += reqs + reps != want;
            if (reqs + reps != want)
                verdict_fail(v, V_SAFETY,
                             "an entry used %d control messages (%d REQ received, "
                             "%d REP sent), not 2(N-1) = %d: %s",
                             reqs + reps, reqs, reps, want, event_str(e, a, sizeof a));
        }
    }
    run_info(r,
             "; %d entries used %d control messages (N-1 REQ deliveries + N-1 REP = %d each; "
             "%d entries used another number), %d retransmissions",
             entries, used, want, off, retx);
}

/* ---- kill -9 and restart: the restored state is the last checkpoint ---- */

/* Every later life of node i that got as far as ev=ready started from a checkpoint (never from
 * nothing) at least as new as the last one any earlier life completed (back = 0), or, when the
 * grader damaged the newest file while the member was down, the newest one it did not damage
 * (back = 1: what .prev holds). A life killed before it printed anything (a slow start under valgrind) says
 * nothing. Returns how many lives restored; *lives counts the restarted lives. */
static int check_restores(struct run *r, int i, int back, struct verdict *v, int *lives)
{
    const struct nodelog *nl = &r->node[i];
    /* The completed checkpoints, oldest first, less those the grader damaged: with back = 1
     * each restart drops the newest (the file damaged while the member was down), so the bar
     * is what .prev holds, also after a life that saved only once (then .prev is still the file
     * that life restored, the newest undamaged one). */
    const struct event *c[64];
    char a[512], b[512];
    int restored = 0, nc = 0;
    for (int life = 0; life <= last_life(nl); life++) {
        if (life > 0 && back && nc > 0)
            nc--;
        const struct event *s = last_in_life(nl, life, "restored"), *want = nc ? c[nc - 1] : NULL;
        if (life > 0 && last_in_life(nl, life, "ready")) {
            long long cn = 0, cs = 0, sn = -1, ss = -1;
            (*lives)++;
            if (!s && want) {
                const struct event *f = last_in_life(nl, life, "fresh");
                verdict_fail(v, V_SAFETY,
                             "node %d restarted (life %d) without restoring a "
                             "checkpoint%s%s%s",
                             i, life, f ? ": " : "", f ? event_str(f, a, sizeof a) : "",
                             back ? "\n      its newest checkpoint was damaged while it was "
                                    "down: it must fall back to the previous one (.prev)"
                                  : "");
                return restored;
            }
            restored += s != NULL;
            if (s && want && event_int(want, "n", &cn) && event_int(want, "seq", &cs) &&
                event_int(s, "n", &sn) && event_int(s, "seq", &ss) && (sn < cn || ss < cs))
                verdict_fail(v, V_SAFETY,
                             "node %d restored less than its %s checkpoint "
                             "(n=%lld seq=%lld before the kill, n=%lld seq=%lld after)\n      "
                             "checkpoint: %s\n      restored:   %s",
                             i, back ? "previous" : "last", cn, cs, sn, ss,
                             event_str(want, a, sizeof a), event_str(s, b, sizeof b));
        }
        for (int j = 0; j < nl->n; j++)
            if (nl->ev[j].life == life && !strcmp(nl->ev[j].ev, "checkpoint")) {
                if (nc == 64) /* only the newest few can ever be a bar */
                    memmove(c, c + 1, 63 * sizeof *c), nc--;
                c[nc++] = &nl->ev[j];
            }
    }
    return restored;
}

#define VICTIM 1

/* How many of node i's restarts restored from=previous, and how many files it rejected. */
static void count_restores(const struct run *r, int i, int *prev, int *bad)
{
    *prev = 0;
    *bad = run_count(r, i, "checkpoint-bad");
    for_each_event(r, i, e) {
        const char *from = event_get(e, "from");
        *prev += !strcmp(e->ev, "restored") && from && !strcmp(from, "previous");
    }
}

static void check_restart(struct run *r, struct verdict *v)
{
    check_chat(r, v);
    int lives = 0, prev, bad;
    int restored = check_restores(r, VICTIM, 0, v, &lives);
    if (lives == 0)
        verdict_fail(v, V_HARNESS, "node %d was never restarted", VICTIM);
    count_restores(r, VICTIM, &prev, &bad);
    run_info(r,
             "; node %d restarted %d times, restored %d times (%d from .prev), %d checkpoint "
             "files rejected",
             VICTIM, lives, restored, prev, bad);
}

/* ---- the newest checkpoint damaged while the member is down: restore from .prev ---- */

static const char *const damage_name[] = {"truncated to half", "one byte flipped", "removed"};
#define NDAMAGE 3

/* F_CALL while VICTIM is down (killed, not yet restarted): damage <user>.ckpt in its --dir
 * (README "Files"), the k-th time in the k-th way of damage_name. */
static void inject_damage(struct run *r, int node, struct verdict *v)
{
    char path[700];
    int k = 0;
    for (int j = 0; j < r->napplied; j++)
        k += r->applied[j].kind == F_CALL && r->applied[j].node == node;
    if (r->node[node].pid > 0) {
        verdict_fail(v, V_HARNESS,
                     "node %d was still running when its checkpoint was to be "
                     "damaged",
                     node);
        return;
    }
    snprintf(path, sizeof path, "%s/node%d/u%d.ckpt", r->dir, node, node);
    FILE *f = fopen(path, "r+b");
    long size = f && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    int c = EOF;
    if (f && size > 0 && k % NDAMAGE == 1 && fseek(f, size / 2, SEEK_SET) == 0 &&
        (c = fgetc(f)) != EOF && fseek(f, size / 2, SEEK_SET) == 0)
        fputc(c ^ 0x5A, f);
    if (f)
        fclose(f);
    /* a missing file (a member that never checkpointed) is the restart check's business */
    if (size > 0 && k % NDAMAGE == 0 && truncate(path, size / 2) != 0)
        verdict_fail(v, V_HARNESS, "truncate %s: %m", path);
    if (k % NDAMAGE == 2 && unlink(path) != 0 && errno != ENOENT)
        verdict_fail(v, V_HARNESS, "unlink %s: %m", path);
}

/* Restarted each time from a checkpoint at least as new as the one before the damaged one, never
 * from the damaged file itself; with every message it sent before (no id reused, check_chat). */
static void check_damaged(struct run *r, struct verdict *v)
{
    char a[512];
    check_chat(r, v);
    int calls = 0, lives = 0, prev, bad;
    for (int k = 0; k < r->napplied; k++)
        calls += r->applied[k].kind == F_CALL;
    if (calls != NDAMAGE)
        verdict_fail(v, V_HARNESS, "the checkpoint was damaged %d times, not %d", calls, NDAMAGE);
    int restored = check_restores(r, VICTIM, 1, v, &lives);
    if (lives == 0)
        verdict_fail(v, V_HARNESS, "node %d was never restarted", VICTIM);
    for_each_event(r, VICTIM, e) {
        const char *from = event_get(e, "from");
        if (e->life > 0 && !strcmp(e->ev, "restored") && from && !strcmp(from, "checkpoint"))
            verdict_fail(v, V_SAFETY,
                         "node %d restored its newest checkpoint file, which the grader had %s "
                         "while it was down: %s\n      a damaged checkpoint must be rejected "
                         "(length, checksum) and the previous one (.prev) used",
                         VICTIM, damage_name[(e->life - 1) % NDAMAGE], event_str(e, a, sizeof a));
    }
    count_restores(r, VICTIM, &prev, &bad);
    run_info(r,
             "; node %d's newest checkpoint damaged %d times while it was down (truncated, a byte "
             "flipped, removed): restored %d of %d restarts, %d from .prev, %d files rejected",
             VICTIM, calls, restored, lives, prev, bad);
}

/* ---- a member crashed while the others request ---- */

static void check_dead_peer(struct run *r, struct verdict *v)
{
    check_chat(r, v);
    int noticed = 0;
    double worst = 0;
    const struct applied_fault *kill = run_fault(r, F_CRASH, 2);
    for (int i = 0; i < r->n; i++)
        for (int j = 0; i != 2 && j < r->node[i].n; j++) {
            const char *p = event_get(&r->node[i].ev[j], "peer");
            if (strcmp(r->node[i].ev[j].ev, "peer-dead") || !p || strcmp(p, "u2"))
                continue;
            noticed++;
            if (kill && r->node[i].ev[j].t - kill->t > worst)
                worst = r->node[i].ev[j].t - kill->t;
        }
    if (noticed < r->n - 1)
        verdict_fail(v, V_LIVENESS,
                     "only %d of the %d survivors declared the killed member u2 "
                     "dead (ev=peer-dead peer=u2)",
                     noticed, r->n - 1);
    run_info(r,
             "; %d survivors dropped u2, the last %.0f ms "
             "after the kill",
             noticed, worst);
}

/* ---- bad input ---- */

#define NGARBAGE 10

/* The chat's header, written independently of the lab's code (README "The protocol"):
 * 'R' 'A' version kind | boot u32 | name (len u8 + bytes) | lc u64. Returns the length. */
static size_t hdr(uint8_t *b, int version, int kind, const char *name, uint64_t lc)
{
    size_t p = 0, n = strlen(name);
    b[p++] = 'R', b[p++] = 'A', b[p++] = (uint8_t)version, b[p++] = (uint8_t)kind;
    b[p++] = 0, b[p++] = 0, b[p++] = 0, b[p++] = 1;
    b[p++] = (uint8_t)n;
    memcpy(b + p, name, n), p += n;
    for (int k = 0; k < 8; k++)
        b[p++] = (uint8_t)(lc >> (56 - 8 * k));
    return p;
}

static size_t put_u32(uint8_t *b, size_t p, uint32_t x)
{
    for (int k = 0; k < 4; k++)
        b[p++] = (uint8_t)(x >> (24 - 8 * k));
    return p;
}

/* A MSG claiming to come from (and be written by) name, seq 999999. */
static size_t forged_msg(uint8_t *b, const char *name)
{
    size_t p = hdr(b, 1, 4, name, 5), n = strlen(name);
    b[p++] = (uint8_t)n;
    memcpy(b + p, name, n), p += n;
    p = put_u32(b, p, 999999);
    for (int k = 0; k < 8; k++)
        b[p++] = k == 7 ? 5 : 0;
    b[p++] = 0, b[p++] = 6;
    memcpy(b + p, "forged", 6);
    return p + 6;
}

static void inject_garbage(struct run *r, int node, struct verdict *v)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        verdict_fail(v, V_HARNESS, "socket: %m");
        return;
    }
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)r->node[node].port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    static uint8_t b[NGARBAGE][3000];
    size_t len[NGARBAGE];
    char me[16], other[16];
    snprintf(me, sizeof me, "u%d", node);
    snprintf(other, sizeof other, "u%d", (node + 1) % r->n);
    uint64_t x = r->seed * 2654435761u + (uint64_t)node;
    for (size_t k = 0; k < sizeof b[0]; k++, x = x * 6364136223846793005ULL + 1)
        b[0][k] = b[1][k] = (uint8_t)(x >> 33);
    len[0] = 37;                                       /* random bytes */
    len[1] = sizeof b[1];                              /* oversize */
    len[2] = 0;                                        /* empty */
    len[3] = hdr(b[3], 1, 1, other, 1) - 5;            /* truncated header */
    len[4] = hdr(b[4], 1, 1, other, 1), b[4][0] = 'X'; /* bad magic */
    len[5] = hdr(b[5], 7, 1, other, 1);                /* bad version */
    len[6] = hdr(b[6], 1, 2, other, 1ULL << 60);       /* REQ, absurd timestamp */
    len[6] = put_u32(b[6], len[6], 1), b[6][len[6]++] = 0;
    len[7] = hdr(b[7], 1, 3, other, 3); /* REP for someone else */
    len[7] = put_u32(b[7], len[7], 1), len[7] = put_u32(b[7], len[7], 1);
    b[7][len[7]++] = 3, memcpy(b[7] + len[7], "zzz", 3), len[7] += 3;
    len[8] = forged_msg(b[8], other); /* forged sender: a live peer */
    len[9] = forged_msg(b[9], me);    /* forged sender: the node itself */
    for (int k = 0; k < NGARBAGE; k++)
        if (sendto(fd, b[k], len[k], 0, (struct sockaddr *)&to, sizeof to) < 0)
            verdict_fail(v, V_HARNESS, "sendto node %d: %m", node);
    close(fd);
}

static void check_bad(struct run *r, struct verdict *v)
{
    check_chat(r, v);
    char a[512];
    for (int i = 0; i < r->n; i++) {
        int bad = run_count(r, i, "bad");
        if (bad < NGARBAGE)
            verdict_fail(v, V_SAFETY,
                         "node %d logged %d ev=bad lines for the %d bad datagrams it "
                         "was sent: some bad input was accepted or ignored silently",
                         i, bad, NGARBAGE);
        for_each_event(r, i, e) {
            const char *id = event_get(e, "msg");
            if (!strcmp(e->ev, "deliver") && id && strstr(id, ":999999"))
                verdict_fail(v, V_SAFETY, "node %d delivered a forged message: %s", i,
                             event_str(e, a, sizeof a));
        }
    }
}

/* ---- attacks by a stranger on the LAN (issue 12): one socket, one address, one name ---- */

#define STRANGER "mallory"
#define GHOST "ghost"
#define FORGED_TEXT "FORGED by " STRANGER
#define SENDS_PER_NODE 8 /* IN8 */

struct forger {
    int fd; /* bound once: every forged datagram of a run comes from the same address */
};

static int forger_setup(struct run *r, struct verdict *v)
{
    struct forger *f = calloc(1, sizeof *f);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (!f || (f->fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
        bind(f->fd, (struct sockaddr *)&a, sizeof a) < 0) {
        verdict_fail(v, V_HARNESS, "forger socket: %m");
        free(f);
        return -1;
    }
    r->lab_state = f;
    return 0;
}

static void forger_teardown(struct run *r, struct verdict *v)
{
    struct forger *f = r->lab_state;
    (void)v;
    if (f)
        close(f->fd);
    free(f);
    r->lab_state = NULL;
}

/* Send b[0..len) from the forger's socket to every member's unicast port. */
static void to_everyone(struct run *r, const uint8_t *b, size_t len, struct verdict *v)
{
    const struct forger *f = r->lab_state;
    for (int i = 0; f && i < r->n; i++) {
        struct sockaddr_in to = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)r->node[i].port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (sendto(f->fd, b, len, 0, (struct sockaddr *)&to, sizeof to) < 0)
            verdict_fail(v, V_HARNESS, "sendto node %d: %m", i);
    }
}

/* A MSG from `from` whose author is `author`, with seq and text (README "The protocol"). */
static size_t msg_as(uint8_t *b, const char *from, const char *author, uint32_t seq,
                     const char *text)
{
    size_t p = hdr(b, 1, 4, from, 5), n = strlen(author), t = strlen(text);
    b[p++] = (uint8_t)n;
    memcpy(b + p, author, n), p += n;
    p = put_u32(b, p, seq);
    for (int k = 0; k < 8; k++)
        b[p++] = k == 7 ? 5 : 0; /* lts 5 */
    b[p++] = (uint8_t)(t >> 8), b[p++] = (uint8_t)t;
    memcpy(b + p, text, t);
    return p + t;
}

/* A SUM from `from` claiming that author's messages run up to max. */
static size_t sum_as(uint8_t *b, const char *from, const char *author, uint32_t max)
{
    size_t p = hdr(b, 1, 5, from, 5), n = strlen(author);
    b[p++] = 1;
    b[p++] = (uint8_t)n;
    memcpy(b + p, author, n), p += n;
    p = put_u32(b, p, 0);
    return put_u32(b, p, max);
}

/* The ghost: a HELLO now and then, and nothing else (no REQ, no REP: it never takes part). */
static void inject_ghost(struct run *r, int node, struct verdict *v)
{
    uint8_t b[64];
    (void)node;
    to_everyone(r, b, hdr(b, 1, 1, GHOST, 1), v);
}

/* A stranger resends "messages" written in member u<node>'s name (its seq 2: the next one it
 * would use once it has sent its first). */
static void inject_forged_author(struct run *r, int node, struct verdict *v)
{
    uint8_t b[256];
    char victim[16];
    snprintf(victim, sizeof victim, "u%d", node);
    to_everyone(r, b, msg_as(b, STRANGER, victim, 2, FORGED_TEXT), v);
}

/* The reproducer: u<node>:4294967295, and a summary claiming it. */
static void inject_huge_seq(struct run *r, int node, struct verdict *v)
{
    uint8_t b[256];
    char victim[16];
    snprintf(victim, sizeof victim, "u%d", node);
    to_everyone(r, b, msg_as(b, STRANGER, victim, 4294967295u, FORGED_TEXT), v);
    to_everyone(r, b, sum_as(b, STRANGER, victim, 4294967295u), v);
}

/* Every member sent its SENDS_PER_NODE messages, and every member delivered all of them. */
static bool until_all_delivered(struct run *r, char *why, size_t cap)
{
    int want = r->n * SENDS_PER_NODE, sent = count_sent(r);
    if (sent < want) {
        snprintf(why, cap, "%d of the %d messages sent", sent, want);
        return false;
    }
    for (int i = 0; i < r->n; i++) {
        struct msgmap *m = msgmap_new();
        int got = 0;
        for (int j = 0; m && j < r->node[i].n; j++) {
            const struct event *e = &r->node[i].ev[j];
            if (!strcmp(e->ev, "deliver") && event_get(e, "msg"))
                msgmap_put(m, event_get(e, "msg"), e);
        }
        for (int k = 0; m && k < r->n; k++)
            for_each_event(r, k, e) {
                got += !strcmp(e->ev, "send") && event_get(e, "msg") &&
                       msgmap_get(m, event_get(e, "msg"));
            }
        msgmap_free(m);
        if (got < want) {
            snprintf(why, cap, "node %d delivered %d of the %d messages sent", i, got, want);
            return false;
        }
    }
    return true;
}

/* Did node i send (ev=send) message id? */
static bool node_sent(const struct run *r, int i, const char *id)
{
    for_each_event(r, i, e)
        if (!strcmp(e->ev, "send") && event_get(e, "msg") && !strcmp(event_get(e, "msg"), id))
            return true;
    return false;
}

/* Property: a member never shows (ev=deliver) a message in its own name it did not send. */
static int check_own_name(struct run *r, struct verdict *v)
{
    char a[512], own[24];
    int refused = 0;
    for (int i = 0; i < r->n; i++) {
        snprintf(own, sizeof own, "u%d:", i);
        refused += run_count(r, i, "bad") > 0;
        for_each_event(r, i, e) {
            const char *id = event_get(e, "msg");
            if (!strcmp(e->ev, "deliver") && id && !strncmp(id, own, strlen(own)) &&
                !node_sent(r, i, id))
                verdict_fail(v, V_SAFETY,
                             "node %d showed a message in its own name that it never sent (a "
                             "forgery by a stranger): %s\n      a member knows what it wrote: "
                             "it must refuse (ev=bad) a message of its own name it did not send",
                             i, event_str(e, a, sizeof a));
        }
    }
    return refused;
}

static void check_ghost(struct run *r, struct verdict *v)
{
    check_chat(r, v);
    int alive = 0, dead = 0;
    for (int i = 0; i < r->n; i++)
        for_each_event(r, i, e) {
            const char *p = event_get(e, "peer");
            alive += p && !strcmp(p, GHOST) && !strcmp(e->ev, "peer-alive");
            dead += p && !strcmp(p, GHOST) && !strcmp(e->ev, "peer-dead");
        }
    /* The test means something only if the ghost looked alive to the members all along. */
    if (alive < r->n)
        verdict_fail(v, V_HARNESS, "only %d of %d members heard the ghost (ev=peer-alive "
                     "peer=" GHOST ")", alive, r->n);
    if (dead > 0)
        verdict_fail(v, V_HARNESS, "the ghost was declared dead (--dead-ms is meant to be longer "
                     "than the run)");
    int sections = 0, requests = 0;
    for (int i = 0; i < r->n; i++)
        sections += run_count(r, i, "cs-enter"), requests += run_count(r, i, "request");
    run_info(r, "; a HELLO-only ghost was alive to %d members, %d critical sections completed%s",
             alive, sections, v->kind == V_PASS ? ": it locked nobody out" : "");
    if (sections < requests)
        verdict_fail(v, V_LIVENESS,
                     "a ghost that only sends HELLO locked members out: %d requests, %d critical "
                     "sections\n      a peer that never took part (no REQ, no REP) must not be "
                     "waited for until it falls silent",
                     requests, sections);
}

static void check_forged_author(struct run *r, struct verdict *v)
{
    check_mutex(r, v);
    check_granted(r, v);
    check_delivered(r, v); /* a member's own next messages do not collide with the forgery */
    int refused = check_own_name(r, v);
    if (refused < r->n)
        verdict_fail(v, V_SAFETY, "only %d of %d members logged ev=bad for the forged message "
                     "in their own name", refused, r->n);
    run_info(r, "%s%d of %d members logged ev=bad for the forgery in their own name%s",
             r->info[0] ? "; " : "", refused, r->n,
             v->kind == V_PASS ? ", none showed it, all their messages reached everyone" : "");
}

static void check_huge_seq(struct run *r, struct verdict *v)
{
    check_chat(r, v);
    char a[512];
    for (int i = 0; i < r->n; i++)
        for_each_event(r, i, e) {
            const char *id = event_get(e, "msg"), *colon = id ? strchr(id, ':') : NULL;
            if ((!strcmp(e->ev, "deliver") || !strcmp(e->ev, "send")) && colon &&
                (strtoull(colon + 1, NULL, 10) >= 1000000 || !strcmp(colon + 1, "0")))
                verdict_fail(v, V_SAFETY, "node %d %s a message with an absurd or wrapped seq: "
                             "%s\n      a seq far ahead of what is known is a forgery; it "
                             "must never move (or wrap) a member's own sequence",
                             i, !strcmp(e->ev, "send") ? "sent" : "delivered",
                             event_str(e, a, sizeof a));
        }
    int refused = 0;
    for (int i = 0; i < r->n; i++)
        refused += run_count(r, i, "bad") > 0;
    run_info(r, "; %d of %d members logged ev=bad for the forged seqs%s", refused, r->n,
             v->kind == V_PASS ? ", every member still sends" : "");
}

/* ---- --key: the group key keeps strangers out (README "Group key") ---- */

#define OUTSIDER 3           /* key-wrong-key: u3 holds another key */
#define GROUP_ADDR 0xEFFF4D01u /* 239.255.77.1, BASE's --group */
#define FORGED_PER_CALL 8    /* datagrams each member gets per injection of key-forged */
#define MARKER_LEN 6         /* and then one of this length (see inject_key_forged) */
#define KEY_CALLS 5          /* injections in key-forged */

/* One key file per member, in its own {dir} (as lab3's grading does), so that a test can give
 * one member another key. */

static int setup_group_key(struct run *r, struct verdict *v)
{
    return harness_write_keys(r, -1, v);
}

/* --key under delay, reordering and duplicates: the replay window must not cost the lab its
 * properties; the numbers say how many copies were refused and how many overtaken datagrams
 * fell below the window. */
static void check_key_reordered(struct run *r, struct verdict *v)
{
    int replay = 0, stale = 0, badmac = 0;
    check_chat(r, v);
    for (int i = 0; i < r->n; i++)
        replay += run_count_bad(r, i, "replay"), stale += run_count_bad(r, i, "stale"),
            badmac += run_count_bad(r, i, "bad-mac");
    if (badmac > 0)
        verdict_fail(v, V_SAFETY, "%d ev=bad why=bad-mac among members that share the key: an "
                     "honest datagram was refused", badmac);
    /* Honest members never reuse a stamp, so every replay is a copy the fault library made:
     * one duplicated datagram reaches at most every member once more. More replays than that
     * are honest reordered datagrams refused (a "stamp must increase" rule does that). */
    long long sum[NS_N];
    if (net_stats(r->dir, sum) > 0 && replay > r->n * sum[NS_DUPLICATED])
        verdict_fail(v, V_LIVENESS,
                     "%d datagrams refused as replays, but the network duplicated only %lld "
                     "(at most %lld copies reach the members): honest reordered datagrams were "
                     "refused; the replay window must accept a stamp below the highest seen if "
                     "it is new",
                     replay, sum[NS_DUPLICATED], r->n * sum[NS_DUPLICATED]);
    run_info(r, "; %d copies refused (replay), %d overtaken below the window (stale)", replay,
             stale);
}

static int setup_key_forger(struct run *r, struct verdict *v)
{
    return harness_write_keys(r, -1, v) < 0 ? -1 : forger_setup(r, v);
}

static int setup_outsider_key(struct run *r, struct verdict *v)
{
    return harness_write_keys(r, OUTSIDER, v);
}

/* lab5's signed datagram (README "Group key"), written independently of the lab's code: the
 * plain datagram b[0..len) with version 2, then group u32 | port u16 | stamp u64 | tag[32].
 * The group and a fresh stamp are right; the grader has no key, so the tag is bytes of its own:
 * what a forger without the key can send. Returns the new length. */
static size_t fake_signed(struct run *r, uint8_t *b, size_t len, uint64_t stamp)
{
    b[2] = 2;
    len = put_u32(b, len, GROUP_ADDR);
    b[len++] = (uint8_t)(r->aux_port >> 8), b[len++] = (uint8_t)r->aux_port;
    len = put_u32(b, len, (uint32_t)(stamp >> 32));
    len = put_u32(b, len, (uint32_t)stamp);
    for (int k = 0; k < 32; k++)
        b[len++] = (uint8_t)(stamp * 31 + (uint64_t)k * 131);
    return len;
}

/* The attacks that work without a key, each plain (no tag) and signed with a tag not made with
 * the group key: a HELLO as member u<node+1> with boot 0xFFFFFFFF (the incarnation lock-out), a
 * MSG by the stranger, a REQ by the stranger (a peer that takes part must be waited for). */
static void inject_key_forged(struct run *r, int node, struct verdict *v)
{
    uint8_t b[4][320];
    size_t len[4];
    char victim[16];
    snprintf(victim, sizeof victim, "u%d", (node + 1) % r->n);
    len[0] = hdr(b[0], 1, 1, victim, 5);
    memset(b[0] + 4, 0xFF, 4); /* boot 4294967295 */
    len[1] = msg_as(b[1], STRANGER, STRANGER, 1, FORGED_TEXT);
    len[2] = put_u32(b[2], hdr(b[2], 1, 2, STRANGER, 1), 1), b[2][len[2]++] = 0; /* REQ 1 */
    len[3] = msg_as(b[3], STRANGER, victim, 100, FORGED_TEXT);
    uint64_t stamp = harness_wall_us();
    for (int k = 0; k < 4; k++)
        to_everyone(r, b[k], len[k], v);
    for (int k = 0; k < 4; k++)
        to_everyone(r, b[k], fake_signed(r, b[k], len[k], stamp++), v);
    /* Last, a marker (too short to be signed): once a member logs it, it has processed the
     * forgeries before it (one socket to one socket on loopback keeps the order). */
    to_everyone(r, (const uint8_t *)"marker", MARKER_LEN, v);
}

/* ev=bad lines of node with this why (and, if markers is false, not for a marker). */
static int count_bad(const struct run *r, int node, const char *why, bool markers)
{
    int n = 0;
    for_each_event(r, node, e) {
        const char *w = event_get(e, "why");
        long long len = -1;
        bool marker = event_int(e, "len", &len) && len == MARKER_LEN;
        n += !strcmp(e->ev, "bad") && w && !strcmp(w, why) && marker == markers;
    }
    return n;
}

/* Converged, and every member has processed every injection (logged its marker). */
static bool until_forgeries_seen(struct run *r, char *why, size_t cap)
{
    for (int i = 0; i < r->n; i++) {
        int seen = count_bad(r, i, "bad-mac", true);
        if (seen < KEY_CALLS) {
            snprintf(why, cap, "node %d has processed %d of the %d injections", i, seen,
                     KEY_CALLS);
            return false;
        }
    }
    return converged(r, true, why, cap) || stalled(r);
}

/* Node i's first line that shows it believed a forgery: a message by the stranger or with the
 * forged text delivered, the stranger heard as a peer, or a member's boot taken as 4294967295. */
static const struct event *believed_forgery(const struct run *r, int i)
{
    for_each_event(r, i, e) {
        const char *id = event_get(e, "msg"), *p = event_get(e, "peer"), *b = event_get(e, "boot");
        if (!strcmp(e->ev, "deliver") && id &&
            (!strncmp(id, STRANGER ":", strlen(STRANGER) + 1) || strstr(id, ":100")))
            return e;
        if (p && !strcmp(p, STRANGER))
            return e;
        if (!strcmp(e->ev, "peer-restarted") && b && !strcmp(b, "4294967295"))
            return e;
    }
    return NULL;
}

static void check_key_forged(struct run *r, struct verdict *v)
{
    char a[512];
    int calls = 0, least = -1;
    check_chat(r, v);
    for (int k = 0; k < r->napplied; k++)
        calls += r->applied[k].kind == F_CALL;
    if (!calls)
        verdict_fail(v, V_HARNESS, "the forgeries were not sent");
    for (int i = 0; i < r->n; i++) {
        const struct event *e = believed_forgery(r, i);
        if (e)
            verdict_fail(v, V_SAFETY,
                         "node %d believed a datagram without the group key: %s\n      with "
                         "--key a missing or wrong tag must be dropped (ev=bad why=bad-mac) "
                         "before any field is used",
                         i, event_str(e, a, sizeof a));
        int bad = count_bad(r, i, "bad-mac", false);
        if (bad < FORGED_PER_CALL * calls)
            verdict_fail(v, V_SAFETY,
                         "node %d logged %d ev=bad why=bad-mac for the %d datagrams without a "
                         "good tag it was sent",
                         i, bad, FORGED_PER_CALL * calls);
        least = least < 0 || bad < least ? bad : least;
    }
    run_info(r, "; %d forged datagrams sent to each member, each logged at least %d bad-mac",
             FORGED_PER_CALL * calls, least);
}

/* The group 0..OUTSIDER-1 converges and never hears u3, who holds another key; u3, hearing
 * nobody, never reaches --expect and reads nothing of the group. */
static bool until_group_converged(struct run *r, char *why, size_t cap)
{
    return (count_sent(r) == OUTSIDER * SENDS_PER_NODE &&
            converged_among(r, OUTSIDER, true, why, cap)) ||
           stalled(r);
}

static void check_outsider(struct run *r, struct verdict *v)
{
    char a[512], why[600], out[16];
    check_mutex(r, v);
    check_granted(r, v);
    if (!converged_among(r, OUTSIDER, false, why, sizeof why))
        verdict_fail(v, V_LIVENESS, "after sync the group's members disagree: %s", why);
    snprintf(out, sizeof out, "u%d", OUTSIDER);
    int bad = 0;
    for (int i = 0; i < r->n; i++) {
        for_each_event(r, i, e) {
            const char *p = event_get(e, "peer"), *id = event_get(e, "msg");
            bool heard = i < OUTSIDER ? (p && !strcmp(p, out)) ||
                                            (id && !strncmp(id, "u3:", 3) &&
                                             !strcmp(e->ev, "deliver"))
                                      : !strcmp(e->ev, "peer-alive") || !strcmp(e->ev, "deliver");
            if (heard) {
                verdict_fail(v, V_SAFETY,
                             "node %d believed %s, which holds another key: %s\n      every "
                             "datagram signed with another key must be dropped (why=bad-mac)",
                             i, i < OUTSIDER ? out : "the group", event_str(e, a, sizeof a));
                break;
            }
        }
        int b = run_count_bad(r, i, "bad-mac");
        if (b == 0)
            verdict_fail(v, V_SAFETY, "node %d logged no ev=bad why=bad-mac for the other key's "
                         "datagrams", i);
        bad += i < OUTSIDER ? b : 0;
    }
    run_info(r, "; the group logged %d ev=bad why=bad-mac for u%d's datagrams (another key): %s",
             bad, OUTSIDER, why);
}

/* ---- the table ---- */

/* {aux} is a free port per run, so runs never hear each other; 239.255/16 is admin-scoped. */
#define BASE                                                                                       \
    "u{id} --id {id} --group 239.255.77.1 --port {aux} --uport {port} --dir {dir} "                \
    "--seed {seed} --join-ms 800 --heartbeat-ms 200 --dead-ms 3000 --retx-ms 400 "                 \
    "--checkpoint-ms 500 --check-ms 1000 --antientropy-ms 500 --sync-round-ms 150 "
#define ARGS BASE "--cs-ms 20"
#define KEYARGS ARGS " --key {dir}/group.key"
#define IN3 "hello from {id}\nsecond from {id}\nthird from {id}\n"
#define IN8 IN3 "four {id}\nfive {id}\nsix {id}\nseven {id}\neight {id}\n"
#define IN20 IN8 IN8 "n17 {id}\nn18 {id}\nn19 {id}\nn20 {id}\n"
#define CHAT "no two critical sections overlap, every request is granted, all members converge"

/* Progress: requests, grants, deliveries, syncs; a member checkpoints and retransmits all along.
 * A member may rightly wait --dead-ms (3 s) for a dead peer: the window is twice that + 2 s. A
 * live member checkpoints about every 0.5 s: one silent for 4 s is hung. A request is an
 * operation that must end in its cs-enter: the reference's longest wait, in 3 grades, is 3.05 s
 * (dead-member: --dead-ms after the crash) and 2.8 s under loss-20, so one open for 10 s is
 * stuck even while the others chat on (a REP never sent: 10 s, not the 90 s cap). */
static void progress(const struct run *r, struct progress_rule *p)
{
    (void)r;
    p->background = "checkpoint replicas retx";
    p->stall_ms = 8000;
    p->silent_ms = 4000;
    p->open = "request", p->close = "cs-enter", p->key = "req", p->open_ms = 10000;
}

static const struct gtest tests[] = {
    {.name = "mutual-exclusion",
     .points = 15,
     .nodes = 3,
     .args = ARGS " --expect 3",
     .net = "",
     .input = IN8 "sync\n",
     .until = until_converged,
     .check = check_chat,
     .timeout_ms = 90000,
     .what = CHAT ": 3 members sending 8 messages each at once"},
    {.name = "all-granted",
     .points = 10,
     .nodes = 4,
     .args = ARGS " --expect 4",
     .net = "delay 0 10\nreorder 0.3 20",
     .input = IN8 "sync\n",
     .until = until_converged,
     .check = check_chat,
     .timeout_ms = 90000,
     .what = "every request is eventually granted (4 members, delayed and reordered datagrams)"},
    {.name = "two-n-minus-one",
     .points = 10,
     .nodes = 4,
     .args = BASE "--cs-ms 20 --retx-ms 5000 --expect 4",
     .net = "",
     .input = IN8 "sync\n",
     .until = until_converged,
     .check = check_count,
     .timeout_ms = 90000,
     .what = "exactly 2(N-1) control messages per entry without faults: N-1 REQ, N-1 REP"},
    {.name = "sync-replicas",
     .points = 15,
     .nodes = 4,
     .args = ARGS " --delay 60 --expect 4",
     .net = "delay 0 20\nreorder 0.3 30\ndup 0.1",
     .input = IN8 "sync\n",
     .until = until_converged,
     .check = check_chat,
     .timeout_ms = 90000,
     .what = "after sync every member has every message in the same order and its R replicas "
             "are identical (artificial delay, reordering, duplicates)"},
    {.name = "kill-restart",
     .points = 10,
     .nodes = 3,
     .args = ARGS " --expect 3",
     .net = "",
     .input = IN8 "sync\n",
     .faults = {{2500, F_CRASH, VICTIM, NULL}, {3000, F_RESTART, VICTIM, NULL}},
     .nfaults = 2,
     .until = until_converged,
     .check = check_restart,
     .timeout_ms = 90000,
     .what = "kill -9 then restart restores history, sequence numbers and peers from the last "
             "checkpoint; the member catches up by sync"},
    {.name = "kill-during-checkpoint",
     .points = 10,
     .nodes = 3,
     .args = ARGS " --checkpoint-ms 120 --ckpt-slow-ms 80 --expect 3",
     .net = "",
     .input = IN20 "sync\n",
     .faults = {{900, F_CRASH, VICTIM, NULL},
                {950, F_RESTART, VICTIM, NULL},
                {2030, F_CRASH, VICTIM, NULL},
                {2080, F_RESTART, VICTIM, NULL},
                {3170, F_CRASH, VICTIM, NULL},
                {3220, F_RESTART, VICTIM, NULL},
                {4290, F_CRASH, VICTIM, NULL},
                {4340, F_RESTART, VICTIM, NULL},
                {5450, F_CRASH, VICTIM, NULL},
                {5500, F_RESTART, VICTIM, NULL}},
     .nfaults = 10,
     .until = until_converged,
     .check = check_restart,
     .timeout_ms = 120000,
     .what = "kill -9 at varied moments of slowed checkpoint writes: every restart loads a "
             "checkpoint at least as new as the last completed one"},
    {.name = "damaged-checkpoint",
     .points = 10,
     .nodes = 3,
     /* --cs-ms 50: member 1 is killed while it is still sending */
     .args = BASE "--cs-ms 50 --checkpoint-ms 300 --expect 3",
     .net = "",
     .input = IN20 "sync\n",
     .faults = {{1300, F_CRASH, VICTIM, NULL},
                {1400, F_CALL, VICTIM, NULL},
                {1500, F_RESTART, VICTIM, NULL},
                {2900, F_CRASH, VICTIM, NULL},
                {3000, F_CALL, VICTIM, NULL},
                {3100, F_RESTART, VICTIM, NULL},
                {4500, F_CRASH, VICTIM, NULL},
                {4600, F_CALL, VICTIM, NULL},
                {4700, F_RESTART, VICTIM, NULL}},
     .nfaults = 9,
     .inject = inject_damage,
     .until = until_converged,
     .check = check_damaged,
     .timeout_ms = 120000,
     .what = "member 1 killed three times; while it is down its newest checkpoint is truncated, "
             "corrupted, removed: each restart restores .prev, reuses no message id, catches up"},
    {.name = "loss-20",
     .points = 10,
     .nodes = 3,
     /* anti-entropy rarer than the sends: a lost message is a hole below later ones of its
      * author, which only a summary's prefix reveals (sync fills it at the end) */
     .args = ARGS " --expect 3 --antientropy-ms 3000",
     .net = "drop 0.2",
     .input = IN8 "sync\n",
     .until = until_converged,
     .check = check_chat,
     .timeout_ms = 120000,
     .what = CHAT ", 20% of datagrams lost (REQ/REP retransmitted, sync fills gaps)"},
    {.name = "late-replies",
     .points = 5,
     .nodes = 3,
     /* a REP held back longer than --retx-ms: the REQ is resent and answered again, the member
      * enters, leaves and asks again before the held-back copy arrives */
     .args = BASE "--cs-ms 20 --retx-ms 100 --expect 3",
     .net = "reorder 0.3 250",
     .input = IN8 "sync\n",
     .until = until_converged,
     .check = check_chat,
     .timeout_ms = 90000,
     .what = CHAT ": 30% of datagrams held back 250 ms, longer than --retx-ms (100): a REP "
                  "that arrives after its request was granted must not grant the next one"},
    {.name = "dead-member",
     .points = 10,
     .nodes = 3,
     .args = BASE "--cs-ms 50 --expect 3",
     .net = "",
     .input = IN20 "sync\n",
     .faults = {{1500, F_CRASH, 2, NULL}},
     .nfaults = 1,
     .until = until_converged,
     .check = check_dead_peer,
     .timeout_ms = 120000,
     .what = "a member killed while the others request: dropped after the timeout, the others "
             "go on safely"},
    {.name = "ten-members",
     .points = 5,
     .nodes = 10,
     .args = ARGS " --expect 10",
     .net = "",
     .input = IN3 "sync\n",
     .until = until_converged,
     .check = check_chat,
     .timeout_ms = 120000,
     .what = CHAT ", 10 members"},
    {.name = "bad-input",
     .points = 5,
     .nodes = 3,
     .args = ARGS " --expect 3",
     .net = "",
     .input = IN8 "sync\n",
     .faults = {{300, F_CALL, 0, NULL}, {300, F_CALL, 1, NULL}, {300, F_CALL, 2, NULL}},
     .nfaults = 3,
     .inject = inject_garbage,
     .until = until_converged,
     .check = check_bad,
     .timeout_ms = 90000,
     .what = "malformed, oversize, misaddressed, absurd and forged datagrams are logged as "
             "ev=bad; never a crash or a broken section"},
    {.name = "ghost-member",
     .points = 5,
     .nodes = 3,
     /* --dead-ms longer than the run: only the ghost rule can stop the wait */
     .args = ARGS " --expect 3 --dead-ms 600000",
     .net = "",
     .input = IN8 "sync\n",
     .faults = {{0, F_CALL, 0, NULL},
                {500, F_CALL, 0, NULL},
                {1000, F_CALL, 0, NULL},
                {2000, F_CALL, 0, NULL},
                {4000, F_CALL, 0, NULL},
                {8000, F_CALL, 0, NULL}},
     .nfaults = 6,
     .inject = inject_ghost,
     .setup = forger_setup,
     .teardown = forger_teardown,
     .until = until_converged,
     .check = check_ghost,
     .timeout_ms = 60000,
     .what = "a \"member\" that only sends HELLO never locks the others out: " CHAT},
    {.name = "forged-author",
     .points = 5,
     .nodes = 3,
     .args = ARGS " --expect 3",
     .net = "",
     .input = IN8 "sync\n",
     .faults = {{0, F_CALL, 0, NULL}, {0, F_CALL, 1, NULL}, {0, F_CALL, 2, NULL}},
     .nfaults = 3,
     .inject = inject_forged_author,
     .setup = forger_setup,
     .teardown = forger_teardown,
     .until = until_all_delivered,
     .check = check_forged_author,
     .timeout_ms = 90000,
     .what = "a stranger's message in a member's name: that member never shows it (ev=bad) and "
             "its own messages still reach everyone"},
    {.name = "forged-huge-seq",
     .points = 5,
     .nodes = 3,
     .args = ARGS " --expect 3",
     .net = "",
     .input = IN8 "sync\n",
     .faults = {{0, F_CALL, 0, NULL}, {0, F_CALL, 1, NULL}, {0, F_CALL, 2, NULL}},
     .nfaults = 3,
     .inject = inject_huge_seq,
     .setup = forger_setup,
     .teardown = forger_teardown,
     .until = until_converged,
     .check = check_huge_seq,
     .timeout_ms = 90000,
     .what = "forged u<i>:4294967295 (and a summary claiming it) cannot wrap a member's seq: "
             "every member still sends, " CHAT},
    {.name = "key-forged",
     .points = 5,
     .nodes = 3,
     .args = KEYARGS " --expect 3",
     .net = "",
     .input = IN8 "sync\n",
     .faults = {{0, F_CALL, 0, NULL},
                {300, F_CALL, 1, NULL},
                {600, F_CALL, 2, NULL},
                {1200, F_CALL, 0, NULL},
                {2400, F_CALL, 1, NULL}},
     .nfaults = KEY_CALLS,
     .inject = inject_key_forged,
     .setup = setup_key_forger,
     .teardown = forger_teardown,
     .until = until_forgeries_seen,
     .check = check_key_forged,
     .timeout_ms = 90000,
     .what = "--key: a stranger's HELLO (boot 4294967295 in a member's name), MSG and REQ, "
             "without a tag and with a tag not made with the key: all dropped (bad-mac), " CHAT},
    {.name = "key-wrong-key",
     .points = 5,
     .nodes = 4,
     .args = KEYARGS " --expect 3",
     .net = "",
     .input = IN8 "sync\n",
     .setup = setup_outsider_key,
     .until = until_group_converged,
     .check = check_outsider,
     .timeout_ms = 90000,
     .what = "--key: u3 holds another key: u0-u2 never believe it (bad-mac) and converge, "
             "u3 reads nothing of the group"},
    {.name = "key-reordered",
     .points = 5,
     .nodes = 4,
     .args = KEYARGS " --delay 60 --expect 4",
     .net = "delay 0 20\nreorder 0.3 30\ndup 0.1",
     .input = IN8 "sync\n",
     .setup = setup_group_key,
     .until = until_converged,
     .check = check_key_reordered,
     .timeout_ms = 90000,
     .what = "--key with delayed, reordered and duplicated datagrams (as sync-replicas): the "
             "replay window refuses copies, no honest datagram is bad-mac, " CHAT},
};

const struct lab lab5_chat = {"lab5-chat-multicast", "chat", tests, sizeof tests / sizeof *tests,
                              progress};
