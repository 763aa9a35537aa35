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
        for (int j = 0; j < r->node[i].n; j++) {
            const struct event *e = &r->node[i].ev[j];
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
        for (int j = 0; j < r->node[i].n; j++) {
            const struct event *e = &r->node[i].ev[j];
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
        for (int j = 0; j < r->node[i].n; j++) {
            const struct event *e = &r->node[i].ev[j];
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
        for (int j = 0; j < r->node[i].n; j++)
            left += is_clock_event(&r->node[i].ev[j]);
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
        for (int x = 0; x < r->node[i].n; x++) {
            const struct event *e = &r->node[i].ev[x];
            if (!is_clock_event(e))
                continue;
            for (int j = 0; j < r->n; j++)
                for (int y = 0; y < r->node[j].n; y++) {
                    const struct event *f = &r->node[j].ev[y];
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
        for (int j = 0; j < r->node[i].n; j++) {
            const struct event *e = &r->node[i].ev[j];
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
            size_t len = strlen(r->info);
            snprintf(r->info + len, sizeof r->info - len, "; %lld event pairs compared", pairs);
        }
    }
    msgmap_free(m);
    free(c.base), free(c.truth), free(c.lab), free(c.done);
}

/* ---- a paused node ---- */

#define PAUSED 1 /* the node the paused-node test stops */

static void check_paused(struct run *r, struct verdict *v)
{
    check_lamport(r, v);
    const struct applied_fault *p = run_fault(r, F_PAUSE, PAUSED);
    const struct applied_fault *c = run_fault(r, F_RESUME, PAUSED);
    if (!p || !c) {
        verdict_fail(v, V_HARNESS, "the pause/resume of node %d was not applied", PAUSED);
        return;
    }
    int during = 0, after = 0, backlog = 0;
    for (int j = 0; j < r->node[PAUSED].n; j++) {
        const struct event *e = &r->node[PAUSED].ev[j];
        /* 20 ms of slack: the node may have read its clock just before the signal landed */
        during += e->t > p->t + 20 && e->t < c->t;
        after += e->t > c->t && is_clock_event(e);
        backlog += e->t > c->t && e->t < c->t + 50 && !strcmp(e->ev, "recv");
    }
    if (during)
        verdict_fail(v, V_HARNESS, "node %d logged %d events while it was stopped: the pause "
                                   "did not take effect", PAUSED, during);
    if (!after)
        verdict_fail(v, V_LIVENESS, "node %d did nothing after it was resumed", PAUSED);
    size_t len = strlen(r->info);
    snprintf(r->info + len, sizeof r->info - len,
             "; node %d paused %.0f ms, then %d events (%d receives in its first 50 ms)", PAUSED,
             c->t - p->t, after, backlog);
}

/* ---- bad input: the grader itself sends garbage and forgeries to every node ---- */

#define FORGED_SEQ 999999u /* a message id no honest node reaches in a test */
#define NGARBAGE 11

/* lab1's frame, written independently of the lab's code (README "The protocol"):
 * "LC" | version 1 | kind 1 | sender u16 | vlen u16 | seq u32 | lc u64 | vlen x u64. */
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

static void inject_garbage(struct run *r, int node, struct verdict *v)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        verdict_fail(v, V_HARNESS, "socket: %m");
        return;
    }
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)r->node[node].port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    uint8_t b[NGARBAGE][160];
    size_t len[NGARBAGE];
    int other = (node + 1) % r->n;
    uint64_t x = r->seed * 2654435761u + (uint64_t)node;
    for (size_t k = 0; k < sizeof b[0]; k++, x = x * 6364136223846793005ULL + 1)
        b[0][k] = (uint8_t)(x >> 33);
    len[0] = 37;                                                   /* random bytes */
    len[1] = 0;                                                    /* empty */
    len[2] = frame(b[2], 1, other, 0, 1, 1) - 10;                  /* truncated */
    len[3] = frame(b[3], 1, other, 0, 1, 1) + 100;                 /* trailing bytes */
    memset(b[3] + 20, 0xAB, 100);
    len[4] = frame(b[4], 1, other, 0, 1, 1), b[4][0] = 'X';       /* bad magic */
    len[5] = frame(b[5], 9, other, 0, 1, 1);                       /* bad version */
    len[6] = frame(b[6], 1, other, 1000, 1, 1);                    /* vector too long */
    len[7] = frame(b[7], 1, other, 0, FORGED_SEQ, 1ULL << 60);     /* absurd clock */
    len[8] = frame(b[8], 1, other, 0, FORGED_SEQ, 5);              /* forged sender */
    len[9] = frame(b[9], 1, 200, 0, FORGED_SEQ, 5);                /* sender out of range */
    len[10] = frame(b[10], 1, node, 0, FORGED_SEQ, 5);             /* claims to be us */
    for (int k = 0; k < NGARBAGE; k++)
        if (sendto(fd, b[k], len[k], 0, (struct sockaddr *)&to, sizeof to) < 0)
            verdict_fail(v, V_HARNESS, "sendto node %d: %m", node);
    close(fd);
}

static void check_bad(struct run *r, struct verdict *v)
{
    check_lamport(r, v);
    char a[512];
    for (int i = 0; i < r->n; i++) {
        int bad = run_count(r, i, "bad");
        if (bad < NGARBAGE)
            verdict_fail(v, V_SAFETY, "node %d logged %d ev=bad lines for the %d bad datagrams "
                                      "it was sent: some bad input was accepted or ignored "
                                      "silently", i, bad, NGARBAGE);
        for (int j = 0; j < r->node[i].n; j++) {
            const struct event *e = &r->node[i].ev[j];
            const char *id = event_get(e, "msg");
            if (!strcmp(e->ev, "recv") && id && strstr(id, ":999999"))
                verdict_fail(v, V_SAFETY, "node %d accepted a forged datagram: %s", i,
                             event_str(e, a, sizeof a));
        }
    }
}

/* ---- the table ---- */

#define ARGS "--id {id} --nodes {nodes} --interval 10 --count 60 --seed {seed}"
#define VARGS ARGS " --vector"
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
     .check = check_paused, .timeout_ms = 60000,
     .what = CLOCKS ", node 1 stopped for 1 s: it goes on and its backlog obeys the rule"},
    {.name = "ten-nodes", .points = 10, .nodes = 10, .args = ARGS, .net = "",
     .check = check_lamport, .timeout_ms = 90000, .what = CLOCKS ", 10 nodes"},
    {.name = "vector-hb", .points = 20, .nodes = 4, .args = VARGS,
     .net = "delay 5 40\nreorder 0.3 30", .check = check_vector, .timeout_ms = 60000,
     .what = "e -> f (derived from message ids) iff V(e) < V(f), for every pair of events"},
    {.name = "vector-faults", .points = 10, .nodes = 4, .args = VARGS,
     .net = "drop 0.2\ndup 0.2\nreorder 0.3 30", .check = check_vector, .timeout_ms = 60000,
     .what = "e -> f iff V(e) < V(f), with loss, duplicates and reordering"},
    {.name = "bad-input", .points = 10, .nodes = 3, .args = ARGS, .net = "",
     .faults = {{100, F_CALL, 0, NULL}, {100, F_CALL, 1, NULL}, {100, F_CALL, 2, NULL}},
     .nfaults = 3, .check = check_bad, .inject = inject_garbage, .timeout_ms = 60000,
     .what = "malformed and forged datagrams are logged as ev=bad and never touch a clock"},
};

const struct lab lab1_lamport = {"lab1-lamport", "lamport", tests, sizeof tests / sizeof *tests,
                                 NULL};
