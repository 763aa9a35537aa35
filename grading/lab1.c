/* lab1.c - lab1-lamport's grading tests: the table, the checkers, and the bad-input injector. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "grader.h"

#define LC_LIMIT (1LL << 48) /* lab1's documented bound on clock values */

static bool is_clock_event(const struct event *e)
{
    return !strcmp(e->ev, "local") || !strcmp(e->ev, "send") || !strcmp(e->ev, "recv");
}

/* Index every send by its message id. */
static struct msgmap *index_sends(struct run *r, struct verdict *v)
{
    struct msgmap *m = msgmap_new();
    char a[512];
    for (int i = 0; m && i < r->n; i++)
        for_each_event(r, i, e) {
            if (strcmp(e->ev, "send") != 0)
                continue;
            const char *id = event_get(e, "msg");
            if (!id)
                verdict_fail(v, V_SAFETY, "a send without msg=: %s", event_str(e, a, sizeof a));
            else if (!msgmap_put(m, id, e))
                verdict_fail(v, V_SAFETY, "two sends with the same message id: %s",
                             event_str(e, a, sizeof a));
        }
    return m;
}

/* Per node: every clock event has lc=, and lc strictly increases. */
static void check_monotonic(struct run *r, struct verdict *v)
{
    char a[512], b[512];
    for (int i = 0; i < r->n; i++) {
        const struct event *prev = NULL;
        long long lc, plc = 0;
        for_each_event(r, i, e) {
            if (!is_clock_event(e))
                continue;
            if (!event_int(e, "lc", &lc)) {
                verdict_fail(v, V_SAFETY, "event without lc=: %s", event_str(e, a, sizeof a));
                return;
            }
            if (prev && lc <= plc) {
                verdict_fail(v, V_SAFETY, "clock did not increase on node %d: %s then %s", i,
                             event_str(prev, a, sizeof a), event_str(e, b, sizeof b));
                return;
            }
            prev = e, plc = lc;
        }
    }
}

/* One receive against its send: it was sent, to us, by them, with that timestamp, and
 * C(send) < C(receive). */
static void check_receive(const struct event *e, const struct event *s, struct verdict *v)
{
    char a[512], b[512];
    long long slc = -1, rlc = -1, ts = -1, from = -1, to = -1;
    event_int(s, "lc", &slc), event_int(e, "lc", &rlc), event_int(e, "ts", &ts);
    event_int(e, "from", &from), event_int(s, "to", &to);
    if (from != s->node || to != e->node)
        verdict_fail(v, V_SAFETY, "receive does not match its send (from/to): %s vs %s",
                     event_str(e, a, sizeof a), event_str(s, b, sizeof b));
    else if (ts != slc)
        verdict_fail(v, V_SAFETY, "receive reports ts=%lld but the send had lc=%lld: %s vs %s",
                     ts, slc, event_str(e, a, sizeof a), event_str(s, b, sizeof b));
    else if (rlc <= slc)
        verdict_fail(v, V_SAFETY,
                     "clock condition violated: C(send)=%lld is not < C(receive)=%lld\n"
                     "      send:    %s\n      receive: %s",
                     slc, rlc, event_str(s, b, sizeof b), event_str(e, a, sizeof a));
}

struct totals {
    int sends, recvs, locals, bad;
    long long max_lc;
};

static void check_receives(struct run *r, struct msgmap *m, struct totals *tot,
                           struct verdict *v)
{
    char a[512];
    for (int i = 0; i < r->n; i++) {
        int recvs = 0;
        for_each_event(r, i, e) {
            long long lc;
            if (event_int(e, "lc", &lc) && lc > tot->max_lc)
                tot->max_lc = lc;
            tot->sends += !strcmp(e->ev, "send");
            tot->locals += !strcmp(e->ev, "local");
            tot->bad += !strcmp(e->ev, "bad");
            if (strcmp(e->ev, "recv") != 0)
                continue;
            recvs++;
            const char *id = event_get(e, "msg");
            const struct event *s = id ? msgmap_get(m, id) : NULL;
            if (!s)
                verdict_fail(v, V_SAFETY, "received a message that was never sent: %s",
                             event_str(e, a, sizeof a));
            else
                check_receive(e, s, v);
        }
        tot->recvs += recvs;
        if (recvs == 0 && r->node[i].n > 0)
            verdict_fail(v, V_LIVENESS, "node %d never received a message: nothing to check",
                         i);
    }
}

static void check_lamport(struct run *r, struct verdict *v)
{
    struct totals tot = {0};
    struct msgmap *m = index_sends(r, v);
    if (!m) {
        verdict_fail(v, V_HARNESS, "out of memory");
        return;
    }
    check_receives(r, m, &tot, v); /* first: its message names both ends of the message */
    check_monotonic(r, v);
    msgmap_free(m);
    snprintf(r->info, sizeof r->info,
             "%d nodes: %d local, %d sends, %d receives (%.0f%% of sends), %d bad inputs "
             "logged, max clock %lld",
             r->n, tot.locals, tot.sends, tot.recvs,
             tot.sends ? 100.0 * tot.recvs / tot.sends : 0.0, tot.bad, tot.max_lc);
    if (tot.max_lc >= LC_LIMIT)
        verdict_fail(v, V_SAFETY, "a clock reached %lld (>= 2^48): a forged timestamp was "
                                  "accepted", tot.max_lc);
}

/* ---- vector mode: the true happened-before, from message ids and per-node order ---- */

struct vcheck {
    int n;            /* nodes */
    int total;        /* events in all logs */
    int *base;        /* base[i]: index of node i's first event */
    long long *truth; /* true vector clock of every clock event, n entries each */
    long long *lab;   /* the vector the lab printed */
    bool *done;
};

static long long *tv(struct vcheck *c, const struct event *e)
{
    return &c->truth[(size_t)(c->base[e->node] + e->seq) * (size_t)c->n];
}

static long long *lv(struct vcheck *c, const struct event *e)
{
    return &c->lab[(size_t)(c->base[e->node] + e->seq) * (size_t)c->n];
}

/* Give e its true vector: the previous event's on the same node, merged with the send's for a
 * receive, then one more in its own entry. False if its send has no vector yet. */
static bool derive(struct vcheck *c, const struct event *prev, const struct event *e,
                   struct msgmap *m)
{
    long long *t = tv(c, e);
    const struct event *s = NULL;
    if (!strcmp(e->ev, "recv")) {
        const char *id = event_get(e, "msg");
        s = id ? msgmap_get(m, id) : NULL;
        if (s && !c->done[c->base[s->node] + s->seq])
            return false;
    }
    for (int k = 0; k < c->n; k++) {
        t[k] = prev ? tv(c, prev)[k] : 0;
        if (s && tv(c, s)[k] > t[k])
            t[k] = tv(c, s)[k];
    }
    t[e->node]++;
    c->done[c->base[e->node] + e->seq] = true;
    return true;
}

/* Walk all logs in an order that respects send-before-receive. */
static int derive_all(struct run *r, struct vcheck *c, struct msgmap *m)
{
    int pos[G_MAXNODES] = {0}, left = 0;
    const struct event *prev[G_MAXNODES] = {0};
    for (int i = 0; i < r->n; i++)
        for_each_event(r, i, e)
            left += is_clock_event(e);
    for (bool progress = true; progress && left > 0;) {
        progress = false;
        for (int i = 0; i < r->n; i++)
            while (pos[i] < r->node[i].n) {
                const struct event *e = &r->node[i].ev[pos[i]];
                if (is_clock_event(e)) {
                    if (!derive(c, prev[i], e, m))
                        break;
                    prev[i] = e, left--, progress = true;
                }
                pos[i]++;
            }
    }
    return left;
}

static bool vless(const long long *a, const long long *b, int n)
{
    bool strict = false;
    for (int k = 0; k < n; k++) {
        if (a[k] > b[k])
            return false;
        strict |= a[k] < b[k];
    }
    return strict;
}

static void fmt_vec(const long long *a, int n, char *buf, size_t cap)
{
    size_t len = (size_t)snprintf(buf, cap, "[");
    for (int k = 0; k < n && len < cap; k++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%lld", k ? "," : "", a[k]);
    if (len < cap)
        snprintf(buf + len, cap - len, "]");
}

/* e -> f in truth iff V(e) < V(f) in the lab's clocks, for every ordered pair. */
static long long compare_pairs(struct run *r, struct vcheck *c, struct verdict *v)
{
    long long pairs = 0;
    char a[512], b[512], va[256], vb[256];
    for (int i = 0; i < r->n; i++)
        for_each_event(r, i, e) {
            if (!is_clock_event(e))
                continue;
            for (int j = 0; j < r->n; j++)
                for_each_event(r, j, f) {
                    if (e == f || !is_clock_event(f))
                        continue;
                    pairs++;
                    bool hb = vless(tv(c, e), tv(c, f), c->n);
                    if (hb == vless(lv(c, e), lv(c, f), c->n))
                        continue;
                    fmt_vec(lv(c, e), c->n, va, sizeof va);
                    fmt_vec(lv(c, f), c->n, vb, sizeof vb);
                    verdict_fail(v, V_SAFETY,
                                 "%s\n      e: %s\n      f: %s\n      V(e)=%s V(f)=%s",
                                 hb ? "e happened before f, but V(e) < V(f) does not hold"
                                    : "e did not happen before f, yet V(e) < V(f)",
                                 event_str(e, a, sizeof a), event_str(f, b, sizeof b), va, vb);
                    return pairs;
                }
        }
    return pairs;
}

/* Copy the lab's vectors; every clock event must carry one of the right size. */
static bool load_lab_vectors(struct run *r, struct vcheck *c, struct verdict *v)
{
    char a[512];
    for (int i = 0; i < r->n; i++)
        for_each_event(r, i, e) {
            if (is_clock_event(e) && event_vector(e, "vc", lv(c, e), c->n) != c->n) {
                verdict_fail(v, V_SAFETY, "event without a vc= of %d entries: %s", c->n,
                             event_str(e, a, sizeof a));
                return false;
            }
        }
    return true;
}

static void check_vector(struct run *r, struct verdict *v)
{
    check_lamport(r, v); /* the Lamport clock still obeys its rules in vector mode */
    struct vcheck c = {.n = r->n};
    c.base = calloc((size_t)r->n, sizeof *c.base);
    for (int i = 0; c.base && i < r->n; i++)
        c.base[i] = c.total, c.total += r->node[i].n;
    c.truth = calloc((size_t)c.total * (size_t)r->n + 1, sizeof *c.truth);
    c.lab = calloc((size_t)c.total * (size_t)r->n + 1, sizeof *c.lab);
    c.done = calloc((size_t)c.total + 1, sizeof *c.done);
    struct msgmap *m = index_sends(r, v);
    if (!c.base || !c.truth || !c.lab || !c.done || !m)
        verdict_fail(v, V_HARNESS, "out of memory");
    else if (load_lab_vectors(r, &c, v)) {
        int left = derive_all(r, &c, m);
        if (left)
            verdict_fail(v, V_SAFETY, "%d events wait for sends that never come before them: "
                                      "the logs contradict causality", left);
        else {
            long long pairs = compare_pairs(r, &c, v);
            run_info(r, "; %lld event pairs compared", pairs);
        }
    }
    msgmap_free(m);
    free(c.base), free(c.truth), free(c.lab), free(c.done);
}

/* ---- a paused node ---- */

#define PAUSED 1 /* the node the paused-node test stops */

/* What node PAUSED had to do after its resume: the messages the others sent it while it was
 * stopped (they wait in its socket), and its own events if it had not printed ev=done. */
static int owed_after_resume(const struct run *r, const struct applied_fault *p,
                             const struct applied_fault *c, bool *unfinished)
{
    int owed = 0;
    for (int k = 0; k < r->n; k++)
        for_each_event(r, k, e) {
            long long to = -1;
            owed += k != PAUSED && !strcmp(e->ev, "send") && event_int(e, "to", &to) &&
                    to == PAUSED && e->t > p->t && e->t < c->t;
        }
    *unfinished = true;
    for_each_event(r, PAUSED, e) if (!strcmp(e->ev, "done") && e->t < p->t) *unfinished = false;
    return owed;
}

/* paused-node ends when every node is done and node PAUSED has shown it is running again, if
 * it had anything to do: ending at the last ev=done raced the resumed node's drain (under
 * memcheck it read its backlog after the SIGTERM 250 ms later, and "did nothing" failed the
 * reference). A node that never moves again is ended by the stall window. */
static bool until_paused(struct run *r, char *why, size_t cap)
{
    if (!until_all_done(r, why, cap))
        return false;
    const struct applied_fault *p = run_fault(r, F_PAUSE, PAUSED);
    const struct applied_fault *c = run_fault(r, F_RESUME, PAUSED);
    bool unfinished;
    if (!p || !c)
        return true; /* the checker says so */
    int owed = owed_after_resume(r, p, c, &unfinished);
    if (!owed && !unfinished)
        return true;
    for_each_event(r, PAUSED, e) if (e->t > c->t && is_clock_event(e)) return true;
    snprintf(why, cap,
             "node %d was sent %d messages while it was stopped and has logged nothing since "
             "its resume",
             PAUSED, owed);
    return false;
}

static void check_paused(struct run *r, struct verdict *v)
{
    check_lamport(r, v);
    const struct applied_fault *p = run_fault(r, F_PAUSE, PAUSED);
    const struct applied_fault *c = run_fault(r, F_RESUME, PAUSED);
    if (!p || !c) {
        verdict_fail(v, V_HARNESS, "the pause/resume of node %d was not applied", PAUSED);
        return;
    }
    bool unfinished;
    int owed = owed_after_resume(r, p, c, &unfinished);
    int during = 0, after = 0, backlog = 0;
    for_each_event(r, PAUSED, e) {
        /* 20 ms of slack: the node may have read its clock just before the signal landed */
        during += e->t > p->t + 20 && e->t < c->t;
        after += e->t > c->t && is_clock_event(e);
        backlog += e->t > c->t && e->t < c->t + 50 && !strcmp(e->ev, "recv");
    }
    if (during)
        verdict_fail(v, V_HARNESS, "node %d logged %d events while it was stopped: the pause "
                                   "did not take effect", PAUSED, during);
    if (!after && (owed || unfinished))
        verdict_fail(v, V_LIVENESS,
                     "node %d did nothing after it was resumed (%d messages were sent to it "
                     "while it was stopped%s)",
                     PAUSED, owed, unfinished ? ", and it had not printed ev=done" : "");
    run_info(r, "; node %d paused %.0f ms, then %d events (%d receives in its first 50 ms)", PAUSED,
             c->t - p->t, after, backlog);
}

/* ---- bad input: the grader itself sends garbage and forgeries to every node ----
 *
 * Each bad datagram fails exactly one of the receiver's checks (README "What a receiver checks"),
 * so its why= token does not depend on the order the checks run in. The checks that come after
 * "is the sender a member?" can only be reached from a member's address, so the bad-input tests
 * give the nodes one more member, the GHOST: id r->n, at the run's aux port, which no node holds.
 * The grader binds that port and sends the frames meant for those checks from it. */

#define FORGED_SEQ 999999u        /* a message id no honest node reaches in a test */
#define FORGED_LC (1ULL << 40)    /* every forged frame's clock: far above any honest clock */
#define ABSURD_LC (1ULL << 60)    /* above the documented bound of 2^48 */
#define JUST_ABOVE (LC_LIMIT + 1) /* the first value the bound refuses */
#define MAXBAD 16

struct bad_case {
    const char *why; /* the token the node must log; NULL: any (random bytes) */
    bool ghost;      /* sent from the ghost member's address */
    size_t len;
    uint8_t b[600];
};

/* lab1's frame, written independently of the lab's code (README "The protocol"):
 * "LC" | version 1 | kind 1 | sender u16 | vlen u16 | seq u32 | lc u64 | vlen x u64.
 * The header only: the vlen field says vlen, but no entries follow. */
static size_t frame(uint8_t *b, int version, int from, int vlen, uint32_t seq, uint64_t lc)
{
    b[0] = 'L', b[1] = 'C', b[2] = (uint8_t)version, b[3] = 1;
    b[4] = (uint8_t)(from >> 8), b[5] = (uint8_t)from;
    b[6] = (uint8_t)(vlen >> 8), b[7] = (uint8_t)vlen;
    for (int k = 0; k < 4; k++)
        b[8 + k] = (uint8_t)(seq >> (24 - 8 * k));
    for (int k = 0; k < 8; k++)
        b[12 + k] = (uint8_t)(lc >> (56 - 8 * k));
    return 20;
}

/* A whole frame: the header, then vlen (at most 64) entries, all 0 if vc is NULL. */
static size_t frame_vc(uint8_t *b, int from, int vlen, uint32_t seq, uint64_t lc,
                       const uint64_t *vc)
{
    size_t len = frame(b, 1, from, vlen, seq, lc);
    for (int i = 0; i < vlen && i < 64; i++, len += 8)
        for (int k = 0; k < 8; k++)
            b[len + (size_t)k] = (uint8_t)((vc ? vc[i] : 0) >> (56 - 8 * k));
    return len;
}

static bool vector_test(const struct run *r)
{
    return r->test && strstr(r->test->args, "--vector");
}

static struct bad_case *add_case(struct bad_case *c, int *n, const char *why, bool ghost)
{
    struct bad_case *k = &c[(*n)++];
    memset(k, 0, sizeof *k);
    k->why = why, k->ghost = ghost;
    return k;
}

/* The bad datagrams for node `node`: the same list for the injector and the checker. */
static int bad_cases(const struct run *r, int node, struct bad_case *c)
{
    int n = 0, other = (node + 1) % r->n, ghost = r->n;
    int vlen = vector_test(r) ? r->n + 1 : 0; /* the vector length a member's frame has */
    uint64_t vc[65] = {0};
    struct bad_case *k;
    uint64_t x = r->seed * 2654435761u + (uint64_t)node;
    k = add_case(c, &n, NULL, false); /* random bytes */
    for (size_t i = 0; i < 37; i++, x = x * 6364136223846793005ULL + 1)
        k->b[i] = (uint8_t)(x >> 33);
    k->len = 37;
    add_case(c, &n, "truncated", false)->len = 0; /* empty */
    k = add_case(c, &n, "truncated", false);
    k->len = frame(k->b, 1, other, 0, 1, 1) - 10;
    k = add_case(c, &n, "trailing-bytes", false);
    k->len = frame(k->b, 1, other, 0, 1, 1) + 100;
    memset(k->b + 20, 0xAB, 100);
    k = add_case(c, &n, "bad-magic", false);
    k->len = frame(k->b, 1, other, 0, 1, 1), k->b[0] = 'X';
    k = add_case(c, &n, "bad-version", false);
    k->len = frame(k->b, 9, other, 0, 1, 1);
    k = add_case(c, &n, "bad-vlen", false); /* vector too long */
    k->len = frame(k->b, 1, other, 1000, 1, 1);
    /* Well-formed frames with sane clocks whose sender is not who sent them. */
    k = add_case(c, &n, "unknown-sender", false); /* names a member, from a stranger's port */
    k->len = frame_vc(k->b, other, vlen, FORGED_SEQ, FORGED_LC, NULL);
    k = add_case(c, &n, "unknown-sender", false); /* sender out of range */
    k->len = frame_vc(k->b, 200, vlen, FORGED_SEQ, FORGED_LC, NULL);
    k = add_case(c, &n, "unknown-sender", false); /* claims to be the node itself */
    k->len = frame_vc(k->b, node, vlen, FORGED_SEQ, FORGED_LC, NULL);
    k = add_case(c, &n, "unknown-sender", true); /* a member's address, another member's id */
    k->len = frame_vc(k->b, other, vlen, FORGED_SEQ, FORGED_LC, NULL);
    /* From the ghost, in its own name: only the check each is meant for can refuse it. */
    k = add_case(c, &n, "absurd-clock", true);
    k->len = frame_vc(k->b, ghost, vlen, FORGED_SEQ, ABSURD_LC, NULL);
    k = add_case(c, &n, "absurd-clock", true); /* the bound itself: 2^48 + 1 */
    k->len = frame_vc(k->b, ghost, vlen, FORGED_SEQ, JUST_ABOVE, NULL);
    k = add_case(c, &n, "vlen-mismatch", true); /* a vector of the wrong length */
    k->len = frame_vc(k->b, ghost, vlen ? vlen - 1 : 2, FORGED_SEQ, FORGED_LC, NULL);
    if (vlen) {
        vc[ghost] = 3;
        vc[other] = JUST_ABOVE; /* an absurd entry in the vector */
        k = add_case(c, &n, "absurd-clock", true);
        k->len = frame_vc(k->b, ghost, vlen, FORGED_SEQ, 5, vc);
        vc[other] = 0;
        vc[node] = FORGED_LC; /* claims events of ours that we never had */
        k = add_case(c, &n, "vc-ahead", true);
        k->len = frame_vc(k->b, ghost, vlen, FORGED_SEQ, 5, vc);
    }
    return n;
}

static int udp_socket(struct run *r, int port, struct verdict *v)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in me = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || (port && bind(fd, (struct sockaddr *)&me, sizeof me) < 0)) {
        verdict_fail(v, V_HARNESS, "socket for the bad input (port %d, aux %d): %m", port,
                     r->aux_port);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static void inject_garbage(struct run *r, int node, struct verdict *v)
{
    static struct bad_case c[MAXBAD];
    int n = bad_cases(r, node, c);
    int stranger = udp_socket(r, 0, v), ghost = udp_socket(r, r->aux_port, v);
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)r->node[node].port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (int k = 0; stranger >= 0 && ghost >= 0 && k < n; k++)
        if (sendto(c[k].ghost ? ghost : stranger, c[k].b, c[k].len, 0, (struct sockaddr *)&to,
                   sizeof to) < 0)
            verdict_fail(v, V_HARNESS, "sendto node %d: %m", node);
    if (stranger >= 0)
        close(stranger);
    if (ghost >= 0)
        close(ghost);
}

/* Node i's ev=bad lines with this why= (any, if NULL) and, if ghost, from the ghost's address. */
static int count_bad(const struct run *r, int i, const char *why, bool ghost)
{
    char src[32];
    int n = 0;
    snprintf(src, sizeof src, "127.0.0.1:%d", r->aux_port);
    for_each_event(r, i, e) {
        const char *w = event_get(e, "why"), *s = event_get(e, "src");
        n += !strcmp(e->ev, "bad") && (!why || (w && !strcmp(w, why))) &&
             (!ghost || (s && !strcmp(s, src)));
    }
    return n;
}

/* A clock value that only a forged frame could have put there: FORGED_LC or more, in lc= or in
 * any vc= entry, or anything but 0 in the ghost's vc= entry (it never sends). */
static void check_untouched(struct run *r, int i, struct verdict *v)
{
    char a[512];
    long long vc[G_MAXNODES + 1];
    for_each_event(r, i, e) {
        long long lc = 0;
        int nv = is_clock_event(e) && vector_test(r) ? event_vector(e, "vc", vc, r->n + 1) : 0;
        bool forged = event_int(e, "lc", &lc) && lc >= (long long)FORGED_LC;
        for (int k = 0; k < nv; k++)
            forged |= vc[k] >= (long long)FORGED_LC || (k == r->n && vc[k] != 0);
        if (forged) {
            verdict_fail(v, V_SAFETY,
                         "node %d's clock took a value from a datagram it refused (or should "
                         "have): a bad frame must be dropped before the clock is touched: %s",
                         i, event_str(e, a, sizeof a));
            return;
        }
    }
}

/* Node i refused each bad datagram with the token of the check meant for it. */
static void check_tokens(struct run *r, int i, const struct bad_case *c, int n, struct verdict *v)
{
    for (int k = 0; k < n; k++) {
        int want = 0;
        for (int m = 0; m < n; m++)
            want += c[m].why && c[k].why && !strcmp(c[m].why, c[k].why) && c[m].ghost == c[k].ghost;
        int got = c[k].why ? count_bad(r, i, c[k].why, c[k].ghost) : 0;
        if (c[k].why && got < want) {
            verdict_fail(v, V_SAFETY,
                         "node %d logged %d ev=bad why=%s%s, but it was sent %d datagrams that "
                         "only that check refuses (README \"What a receiver checks\")",
                         i, got, c[k].why, c[k].ghost ? " from a member's address" : "", want);
            return;
        }
    }
}

/* The most specific reasons first: a missing why= names the check that is missing; a forged
 * frame accepted, a clock moved by a refused one; then the Lamport rules (a forged frame that was
 * accepted also shows there as a receive that was never sent). */
static void check_bad(struct run *r, struct verdict *v)
{
    static struct bad_case c[MAXBAD];
    char a[512];
    for (int i = 0; i < r->n; i++) {
        int n = bad_cases(r, i, c), bad = count_bad(r, i, NULL, false);
        check_tokens(r, i, c, n, v);
        for_each_event(r, i, e) {
            const char *id = event_get(e, "msg");
            if (!strcmp(e->ev, "recv") && id && strstr(id, ":999999"))
                verdict_fail(v, V_SAFETY,
                             "node %d accepted a datagram the grader forged (seq %u): %s", i,
                             FORGED_SEQ, event_str(e, a, sizeof a));
        }
        check_untouched(r, i, v);
        if (bad < n)
            verdict_fail(v, V_SAFETY,
                         "node %d logged %d ev=bad lines for the %d bad datagrams "
                         "it was sent: some bad input was accepted or ignored "
                         "silently",
                         i, bad, n);
    }
    check_lamport(r, v); /* writes r->info */
    int n = bad_cases(r, 0, c), ghost = 0;
    for (int k = 0; k < n; k++)
        ghost += c[k].ghost;
    run_info(r, "; %d bad datagrams sent to each node, %d of them from a member's address", n,
             ghost);
}

/* ---- the table ---- */

#define ARGS "--id {id} --nodes {nodes} --interval 10 --count 60 --seed {seed}"
#define VARGS ARGS " --vector"
/* The bad-input tests: one more member, the ghost, at the aux port the grader sends from. */
#define GARGS "--id {id} --nodes {nodes},127.0.0.1:{aux} --interval 10 --count 60 --seed {seed}"
#define CLOCKS "C(send) < C(receive) for every message; clocks strictly increase per node"

static const struct gtest tests[] = {
    {.name = "clock-condition", .points = 10, .nodes = 3, .args = ARGS, .net = "",
     .check = check_lamport, .timeout_ms = 60000, .what = CLOCKS ", no faults"},
    {.name = "loss-30", .points = 10, .nodes = 3, .args = ARGS, .net = "drop 0.30",
     .check = check_lamport, .timeout_ms = 60000, .what = CLOCKS ", 30% of datagrams lost"},
    {.name = "delay-reorder", .points = 10, .nodes = 3, .args = ARGS,
     .net = "delay 5 40\nreorder 0.3 30", .check = check_lamport, .timeout_ms = 60000,
     .what = CLOCKS ", datagrams delayed 5-40 ms and 30% reordered"},
    {.name = "duplicates", .points = 10, .nodes = 3, .args = ARGS, .net = "dup 0.20",
     .check = check_lamport, .timeout_ms = 60000,
     .what = CLOCKS ", 20% duplicated: every copy is a receive"},
    {.name = "paused-node", .points = 10, .nodes = 3, .args = ARGS, .net = "",
     .faults = {{150, F_PAUSE, PAUSED, NULL}, {1150, F_RESUME, PAUSED, NULL}}, .nfaults = 2,
     .until = until_paused, .check = check_paused, .timeout_ms = 60000,
     .what = CLOCKS ", node 1 stopped for 1 s: it goes on and its backlog obeys the rule"},
    {.name = "ten-nodes", .points = 10, .nodes = 10, .args = ARGS, .net = "",
     .check = check_lamport, .timeout_ms = 90000, .what = CLOCKS ", 10 nodes"},
    {.name = "vector-hb", .points = 20, .nodes = 4, .args = VARGS,
     .net = "delay 5 40\nreorder 0.3 30", .check = check_vector, .timeout_ms = 60000,
     .what = "e -> f (derived from message ids) iff V(e) < V(f), for every pair of events"},
    {.name = "vector-faults", .points = 10, .nodes = 4, .args = VARGS,
     .net = "drop 0.2\ndup 0.2\nreorder 0.3 30", .check = check_vector, .timeout_ms = 60000,
     .what = "e -> f iff V(e) < V(f), with loss, duplicates and reordering"},
    {.name = "bad-input", .points = 10, .nodes = 3, .args = GARGS, .net = "",
     .faults = {{100, F_CALL, 0, NULL}, {100, F_CALL, 1, NULL}, {100, F_CALL, 2, NULL}},
     .nfaults = 3, .check = check_bad, .inject = inject_garbage, .timeout_ms = 60000,
     .what = "malformed and forged datagrams (absurd clocks and wrong vectors from a member's "
             "address) are each refused by the check meant for them and never touch a clock"},
    {.name = "bad-input-vector", .points = 10, .nodes = 3, .args = GARGS " --vector", .net = "",
     .faults = {{100, F_CALL, 0, NULL}, {100, F_CALL, 1, NULL}, {100, F_CALL, 2, NULL}},
     .nfaults = 3, .check = check_bad, .inject = inject_garbage, .timeout_ms = 60000,
     .what = "vector mode: a vector claiming more of our events than we had (vc-ahead), of the "
             "wrong length, or with an absurd entry, from a member's address, is refused and "
             "merges nothing"},
};

const struct lab lab1_lamport = {"lab1-lamport", "lamport", tests, sizeof tests / sizeof *tests,
                                 NULL};
