/* lab4.c - lab4-heartbeat's grading tests: failure detectors judged against the faults the
 * grader itself injected (completeness, accuracy, recovery), the Q4 monitor's failover, and
 * injectors that misbehave on TCP connections. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "grader.h"

/*
 * The ground truth. A node is "down" from the moment the grader crashed or paused it until it
 * is up again (the ev=ready of its next life, or the resume), and before its first ev=ready.
 * A detector with timeout T and interval I may take up to W = T + I + slack to notice a change
 * (the last answer can be up to I old when the peer stops; then T of silence; slack for
 * scheduling). So:
 *   accuracy      a TIMEOUT of p at t is false if p was up during all of [t - W, t]; and
 *                 also if p, once it had answered, stayed up until less than L = T - I -
 *                 slack before t: its last answer came at most I before it stopped, then a
 *                 correct detector waits T, so this one fired sooner (on a missed beat);
 *   completeness  when p goes down at a (and stays down past a + W), every observer that is up
 *                 has p TIMEOUT at a + W; the detection latency is when it said so, minus a;
 *   recovery      when p is up again at b, every observer that is up says ALIVE by b + W.
 * SLACK_MS is multiplied by --slow (Valgrind, sanitizers): a slow machine may be late, never
 * wrong about who is up.
 */
#define SLACK_MS 400.0
#define INF 1e300
#define MAXDOWN (G_MAXFAULTS + 1)

/* ---- small helpers ---- */

/* The value of "--flag N" in an argument template, or def. */
static double arg_ms(const char *args, const char *flag, double def)
{
    const char *s = args ? strstr(args, flag) : NULL;
    return s ? strtod(s + strlen(flag), NULL) : def;
}

static double slack(const struct run *r)
{
    return SLACK_MS * (r->opt && r->opt->slow > 1 ? r->opt->slow : 1);
}

/* The grader's L (see above): how long a correct P2P detector needs at least; 0 if the test's
 * timings give no margin. */
static double peer_floor(const struct run *r)
{
    double l = arg_ms(r->test->args, "--timeout ", 3000) -
               arg_ms(r->test->args, "--interval ", 1000) - slack(r);
    return l > 0 ? l : 0;
}

/* The grader's W (see above) for the P2P tests and for the monitor tests. */
static double peer_window(const struct run *r)
{
    return arg_ms(r->test->args, "--timeout ", 3000) + arg_ms(r->test->args, "--interval ", 1000) +
           slack(r);
}

static double monitor_window(const struct run *r)
{
    return arg_ms(r->test->args0, "--timeout ", 3000) + arg_ms(r->test->args, "--interval ", 1000) +
           slack(r);
}

/* The node listening on the port of "127.0.0.1:7003", or -1. */
static int node_of_addr(const struct run *r, const char *addr)
{
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    int port = colon ? atoi(colon + 1) : -1;
    for (int i = 0; i < r->n; i++)
        if (r->node[i].port == port)
            return i;
    return -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Latencies of one test, printed as min/median/max. */
struct lat {
    double v[G_MAXNODES * G_MAXNODES];
    int n;
};

static void lat_add(struct lat *l, double ms)
{
    if (l->n < (int)(sizeof l->v / sizeof *l->v))
        l->v[l->n++] = ms < 0 ? 0 : ms;
}

static void lat_info(struct run *r, const char *what, struct lat *l)
{
    if (l->n == 0)
        return;
    qsort(l->v, (size_t)l->n, sizeof *l->v, cmp_double);
    run_info(r, "%s%s ms min/median/max %.0f/%.0f/%.0f (%d)", r->info[0] ? "; " : "", what, l->v[0],
             l->v[l->n / 2], l->v[l->n - 1], l->n);
}

/* ---- the ground truth: when was each node down ---- */

struct down {
    double a, b;  /* down during [a, b]; b = INF: until the end */
    bool crashed; /* a crash or restart (else: a pause, or the start) */
    bool initial; /* before its first ev=ready */
};

/* The t of node i's ev=ready in life `life`, or INF. */
static double ready_at(const struct run *r, int i, int life)
{
    for_each_event(r, i, e)
        if (e->life == life && !strcmp(e->ev, "ready"))
            return e->t;
    return INF;
}

static int downs(const struct run *r, int i, struct down *d)
{
    int k = 0, life = 0;
    d[k++] = (struct down){-INF, ready_at(r, i, 0), false, true};
    for (int f = 0; f < r->napplied && k < MAXDOWN; f++) {
        const struct applied_fault *af = &r->applied[f];
        if (af->node != i)
            continue;
        if (af->kind == F_CRASH && d[k - 1].b < INF) /* (a node already down stays down) */
            d[k++] = (struct down){af->t, INF, true, false};
        else if (af->kind == F_RESTART) {
            double up = ready_at(r, i, ++life);
            if (k > 1 && d[k - 1].b == INF && d[k - 1].crashed)
                d[k - 1].b = up; /* crashed earlier, back now */
            else
                d[k++] = (struct down){af->t, up, true, false};
        } else if (af->kind == F_PAUSE)
            d[k++] = (struct down){af->t, INF, false, false};
        else if (af->kind == F_RESUME && k > 1 && d[k - 1].b == INF && !d[k - 1].crashed)
            d[k - 1].b = af->t;
    }
    return k;
}

/* Was node i up during all of [a, b]? */
static bool up_during(const struct run *r, int i, double a, double b)
{
    struct down d[MAXDOWN];
    int k = downs(r, i, d);
    for (int j = 0; j < k; j++)
        if (d[j].a <= b && d[j].b >= a)
            return false;
    return true;
}

/* Is node i down at t, and since before since? */
static bool down_since(const struct run *r, int i, double since, double t)
{
    struct down d[MAXDOWN];
    int k = downs(r, i, d);
    for (int j = 0; j < k; j++)
        if (d[j].a <= since && d[j].b >= t)
            return true;
    return false;
}

/* A node restarted but not ready yet: the run must not end now (its state is in flux, and a
 * SIGTERM between the grader's fork and exec would be lost). */
static bool starting(const struct run *r, char *why, size_t cap)
{
    for (int i = 0; i < r->n; i++)
        if (r->node[i].pid > 0 && !r->node[i].ready) {
            snprintf(why, cap, "node %d is starting", i);
            return true;
        }
    return false;
}

/* ---- the P2P registry: ev=status peer=<host:port> status=ALIVE|TIMEOUT ---- */

/* Observer o's last status event about p at or before t (NULL: none). */
static const struct event *status_at(const struct run *r, int o, int p, double t)
{
    const struct event *last = NULL;
    for_each_event(r, o, e) {
        if (e->t > t)
            break;
        if (!strcmp(e->ev, "status") && node_of_addr(r, event_get(e, "peer")) == p)
            last = e;
    }
    return last;
}

/* The first ALIVE of p at o in [a, b], or NULL. */
static const struct event *alive_between(const struct run *r, int o, int p, double a, double b)
{
    for_each_event(r, o, e) {
        if (e->t >= a && e->t <= b && event_is(e, "status", "status", "ALIVE") &&
            node_of_addr(r, event_get(e, "peer")) == p)
            return e;
    }
    return NULL;
}

/* Was node i up during all of [a, b), its start-up aside (before its first ev=ready)? */
static bool up_after_start(const struct run *r, int i, double a, double b)
{
    struct down d[MAXDOWN];
    int k = downs(r, i, d);
    for (int j = 1; j < k; j++)
        if (d[j].a < b && d[j].b >= a)
            return false;
    return true;
}

/* When p last went down at or before t (INF: never). */
static double went_down(const struct run *r, int p, double t)
{
    struct down d[MAXDOWN];
    double last = INF;
    int k = downs(r, p, d);
    for (int j = 1; j < k; j++)
        if (d[j].a <= t)
            last = d[j].a;
    return last;
}

/* Accuracy: no TIMEOUT of a peer that was up for the whole window before it, nor of one that
 * went down less than the floor L before it (see the top of the file). */
/* Was p itself not running during the silence that observer's TIMEOUT e reports? A peer
 * measures its own stalls (ev=stalled ms=S, README STEP 4): under Valgrind on two cores one was
 * descheduled 832 ms, and its peers rightly heard nothing for more than --timeout. Excused only
 * when the observer waited the full timeout (silent_ms >= --timeout) and p's stall overlaps that
 * silence: a detector that fires early, or on a peer that was running, still fails. */
static bool peer_starved(const struct run *r, int p, const struct event *e)
{
    long long silent = 0;
    if (!event_int(e, "silent_ms", &silent) || silent < arg_ms(r->test->args, "--timeout ", 3000))
        return false;
    for_each_event(r, p, s) {
        long long ms = 0;
        if (!strcmp(s->ev, "stalled") && event_int(s, "ms", &ms) && s->t >= e->t - silent &&
            s->t - ms <= e->t)
            return true;
    }
    return false;
}

static int check_accuracy(struct run *r, double w, struct verdict *v)
{
    char a[512];
    int false_suspicions = 0;
    double floor = peer_floor(r);
    for (int o = 0; o < r->n; o++)
        for_each_event(r, o, e) {
            if (!event_is(e, "status", "status", "TIMEOUT"))
                continue;
            int p = node_of_addr(r, event_get(e, "peer"));
            const char *was = event_get(e, "was");
            if (p < 0)
                continue;
            /* Down, but too recently: p had answered (was is not UNKNOWN, so its start-up is
             * over), stayed up until less than L before, and a correct detector waits T after
             * its last answer. */
            double down = went_down(r, p, e->t);
            if (floor > 0 && was && strcmp(was, "UNKNOWN") != 0 && down < INF &&
                down > e->t - floor && up_after_start(r, p, e->t - w, down)) {
                if (false_suspicions++ == 0)
                    verdict_fail(v, V_SAFETY,
                                 "accuracy violated: node %d marked node %d TIMEOUT only %.0f ms "
                                 "after it went down, but a detector with --timeout %.0f and "
                                 "--interval %.0f cannot know before %.0f ms (timeout - "
                                 "interval - slack): its last answer was at most one interval "
                                 "old, so this fired before the timeout ran out (on a missed "
                                 "beat?)\n      %s",
                                 o, p, e->t - down, arg_ms(r->test->args, "--timeout ", 3000),
                                 arg_ms(r->test->args, "--interval ", 1000), floor,
                                 event_str(e, a, sizeof a));
                continue;
            }
            if (!up_during(r, p, e->t - w, e->t))
                continue; /* p went down in time for this TIMEOUT */
            if (peer_starved(r, p, e))
                continue; /* the OS stopped p, not the grader: the silence was real */
            /* A peer never heard from, given up on while the run was still starting (64
             * processes under Valgrind can take seconds to answer their first request): that
             * is the start-up's fault, not the detector's. From W after the last ev=ready on,
             * it counts like any other. */
            if (was && !strcmp(was, "UNKNOWN") && e->t < r->t_ready + w)
                continue;
            if (false_suspicions++ == 0)
                verdict_fail(v, V_SAFETY,
                             "accuracy violated: node %d marked node %d TIMEOUT %.0f ms into the "
                             "run, but node %d had been up (ready, never crashed or paused) for "
                             "the whole %.0f ms before (timeout + interval + slack)\n      %s",
                             o, p, e->t - r->t_ready, p, w, event_str(e, a, sizeof a));
        }
    return false_suspicions;
}

/* Completeness and recovery, for every crash or pause of every node. */
static void check_detection(struct run *r, double w, struct lat *det, struct lat *rec,
                            struct verdict *v)
{
    char a[512];
    for (int p = 0; p < r->n; p++) {
        struct down d[MAXDOWN];
        int k = downs(r, p, d);
        for (int j = 1; j < k; j++)
            for (int o = 0; o < r->n; o++) {
                if (o == p)
                    continue;
                /* completeness: the observer was up from the fault to its deadline */
                double dl = d[j].a + w, end = d[j].b < dl ? d[j].b : dl;
                if (up_during(r, o, d[j].a, end)) {
                    const struct event *e = status_at(r, o, p, end);
                    const char *st = e ? event_get(e, "status") : NULL;
                    if (st && !strcmp(st, "TIMEOUT"))
                        lat_add(det, e->t - d[j].a);
                    else if (d[j].b > dl) /* a shorter outage need not be noticed */
                        verdict_fail(v, V_LIVENESS,
                                     "completeness violated: node %d was %s %.0f ms into the "
                                     "run, and %.0f ms later (timeout + interval + slack) node "
                                     "%d still had it %s\n      last status: %s",
                                     p, d[j].crashed ? "crashed" : "paused", d[j].a - r->t_ready, w,
                                     o, st ? st : "never reported",
                                     e ? event_str(e, a, sizeof a) : "none");
                }
                /* recovery: back at b, so ALIVE again by b + w */
                if (d[j].b < INF && up_during(r, o, d[j].b, d[j].b + w)) {
                    const struct event *e = alive_between(r, o, p, d[j].b, d[j].b + w);
                    if (e)
                        lat_add(rec, e->t - d[j].b);
                    else if (d[j].b + w < mono_ms()) /* else the run ended before the deadline */
                        verdict_fail(v, V_LIVENESS,
                                     "recovery missing: node %d was up again %.0f ms into the "
                                     "run (%s), but node %d did not mark it ALIVE within %.0f "
                                     "ms",
                                     p, d[j].b - r->t_ready, d[j].crashed ? "restarted" : "resumed",
                                     o, w);
                }
            }
    }
}

/* A restarted peer comes back with a new SERVER_ID (a new incarnation). */
static void check_new_id(struct run *r, struct verdict *v)
{
    char a[512], b[512];
    for (int o = 0; o < r->n; o++) {
        const struct event *prev[G_MAXNODES] = {0};
        for_each_event(r, o, e) {
            int p = event_is(e, "status", "status", "ALIVE") ? node_of_addr(r, event_get(e, "peer"))
                                                             : -1;
            if (p < 0)
                continue;
            const char *id = event_get(e, "id"), *pid = prev[p] ? event_get(prev[p], "id") : NULL;
            bool restarted = false;
            for (int f = 0; f < r->napplied && prev[p]; f++)
                restarted |= r->applied[f].node == p && r->applied[f].kind == F_RESTART &&
                             r->applied[f].t > prev[p]->t && r->applied[f].t < e->t;
            if (restarted && id && pid && !strcmp(id, pid))
                verdict_fail(v, V_SAFETY,
                             "node %d restarted but node %d sees the same SERVER_ID "
                             "as before: a new incarnation needs a new id\n      %s\n"
                             "      %s",
                             p, o, event_str(prev[p], a, sizeof a), event_str(e, b, sizeof b));
            prev[p] = e;
        }
    }
}

/* At the end, every node that was up sees every other node that was up as ALIVE (a registry
 * that never converged, or a peer that was never seen again after a TIMEOUT). */
static void check_final(struct run *r, double w, struct verdict *v)
{
    double end = mono_ms();
    for (int p = 0; p < r->n; p++) {
        struct down d[MAXDOWN];
        int k = downs(r, p, d);
        if (d[k - 1].b == INF || d[k - 1].b + w > end)
            continue; /* down at the end, or back too recently to judge */
        for (int o = 0; o < r->n; o++) {
            struct down od[MAXDOWN];
            if (o == p || od[downs(r, o, od) - 1].b == INF)
                continue;
            const struct event *e = status_at(r, o, p, INF);
            const char *st = e ? event_get(e, "status") : NULL;
            if (!st || strcmp(st, "ALIVE") != 0)
                verdict_fail(v, V_LIVENESS,
                             "node %d was up at the end (since %.0f ms into the "
                             "run) but node %d's registry still has it %s",
                             p, d[k - 1].b - r->t_ready, o, st ? st : "never heard");
        }
    }
}

static void check_peers(struct run *r, struct verdict *v)
{
    double w = peer_window(r);
    static struct lat det, rec;
    det.n = rec.n = 0;
    int fs = check_accuracy(r, w, v);
    check_detection(r, w, &det, &rec, v);
    check_final(r, w, v);
    check_new_id(r, v);
    lat_info(r, "detection", &det);
    lat_info(r, "recovery", &rec);
    run_info(r, "%sfalse suspicions %d; bound W %.0f ms", r->info[0] ? "; " : "", fs, w);
}

/* The run may end when every running observer agrees with the truth: a running peer ALIVE, a
 * stopped one TIMEOUT. A pair that still disagrees 2 W after the change is given up on, so a
 * broken detector fails fast with the checker's precise message instead of a timeout. */
static bool until_peers(struct run *r, char *why, size_t cap)
{
    if (starting(r, why, cap))
        return false;
    double w = peer_window(r), now = mono_ms();
    for (int p = 0; p < r->n; p++) {
        struct down d[MAXDOWN];
        int k = downs(r, p, d);
        bool up = d[k - 1].b < INF; /* not r->node[p].pid: a crashed node is reaped later */
        double since = up ? d[k - 1].b : d[k - 1].a;
        for (int o = 0; o < r->n; o++) {
            struct down od[MAXDOWN];
            if (o == p || od[downs(r, o, od) - 1].b == INF || now > since + 2 * w)
                continue;
            const struct event *e = status_at(r, o, p, INF);
            const char *st = e ? event_get(e, "status") : NULL;
            if (st && !strcmp(st, up ? "ALIVE" : "TIMEOUT"))
                continue;
            snprintf(why, cap, "node %d does not yet see node %d as %s", o, p,
                     up ? "ALIVE" : "TIMEOUT");
            return false;
        }
    }
    return true;
}

/* ---- bad input: TCP connections that misbehave ---- */

#define MAX_HELD 16

struct held {
    int fd[MAX_HELD];
    int n;
};

static int setup_held(struct run *r, struct verdict *v)
{
    struct held *h = calloc(1, sizeof *h);
    if (!h)
        return verdict_fail(v, V_HARNESS, "out of memory"), -1;
    r->lab_state = h;
    return 0;
}

static void teardown_held(struct run *r, struct verdict *v)
{
    (void)v;
    struct held *h = r->lab_state;
    for (int i = 0; h && i < h->n; i++)
        close(h->fd[i]);
    free(h);
    r->lab_state = NULL;
}

static int dial(struct run *r, int node, struct verdict *v)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)r->node[node].port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {.tv_sec = (time_t)(3 * (r->opt && r->opt->slow > 1 ? r->opt->slow : 1))};
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
        connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
        verdict_fail(v, V_HARNESS, "cannot connect to node %d: %s", node, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static void hold(struct run *r, int fd)
{
    struct held *h = r->lab_state;
    if (h && h->n < MAX_HELD)
        h->fd[h->n++] = fd;
    else
        close(fd);
}

static bool send_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        s += n, len -= (size_t)n;
    }
    return true;
}

/* Send one line (as a person typing into nc would) and read one answer line. 004's answer,
 * checked independently of the lab's code: TASK HEARTBEAT, RESPONSE ALIVE, a SERVER_ID. */
static void ask(int fd, int node, const char *line, struct verdict *v)
{
    char buf[2048];
    size_t len = 0;
    if (!send_all(fd, line, strlen(line))) {
        verdict_fail(v, V_SAFETY, "node %d closed the connection on a valid request %s", node,
                     line);
        return;
    }
    while (len < sizeof buf - 1 && !memchr(buf, '\n', len)) {
        ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = '\0';
    if (!nl || !strstr(buf, "\"RESPONSE\"") || !strstr(buf, "\"ALIVE\"") ||
        !strstr(buf, "\"SERVER_ID\"") || !strstr(buf, "\"HEARTBEAT\""))
        verdict_fail(v, V_SAFETY,
                     "node %d did not answer the request %.*s with one line holding TASK "
                     "HEARTBEAT, RESPONSE ALIVE and a SERVER_ID; got: '%.200s'",
                     node, (int)strcspn(line, "\r\n"), line, buf);
}

/* Garbage between valid requests on one connection, an over-long line, a connection that says
 * nothing (half-open), one that sends a byte and stops (a byte a minute), one that hangs up
 * in the middle of a line. */
static void inject_tcp(struct run *r, int node, struct verdict *v)
{
    static const char *garbage = "hello\n"
                                 "{\"TASK\": \"HEARTBEAT\"\n"   /* truncated object */
                                 "{\"TASK\": \"NOT-A-TASK\"}\n" /* unknown task */
                                 "{\"TASK\": \"HEARTBEAT\", \"TASK\": \"X\"}\n" /* duplicate key */
                                 "{\"TASK\": \"HEARTBEAT\", \"A\": \"\\q\"}\n"  /* bad escape */
                                 "\x01\x02\xff\xfe garbage\n";
    int fd = dial(r, node, v);
    if (fd < 0)
        return;
    ask(fd, node, "{\"TASK\": \"HEARTBEAT\"}\n", v);
    ask(fd, node,
        " { \"X\" : \"caf\\u00e9 \\\"q\\\"\" , \"N\": -1.5e3,\"TASK\":\"HEARTBEAT\" }\r\n", v);
    send_all(fd, garbage, strlen(garbage));
    ask(fd, node, "{\"TASK\": \"HEARTBEAT\"}\n", v); /* the connection survived the garbage */
    char big[5000];
    memset(big, 'A', sizeof big);
    send_all(fd, big, sizeof big); /* over-long line: the node may close the connection */
    close(fd);
    for (int k = 0; k < 3; k++) { /* half-open: connected, silent, never closed by us */
        int h = dial(r, node, v);
        if (h >= 0)
            hold(r, h);
    }
    int slow = dial(r, node, v);
    if (slow >= 0 && send_all(slow, "{", 1))
        hold(r, slow); /* one byte, then nothing: the line never ends */
    int cut = dial(r, node, v);
    if (cut >= 0) {
        send_all(cut, "{\"TASK\": \"HEA", 13);
        close(cut);
    }
}

static const char *const bad_whys[] = {"line-too-long", "slow-line", "not-heartbeat",
                                       "json-syntax"};
#define NWHY (sizeof bad_whys / sizeof *bad_whys)

static bool injected(const struct run *r, int node)
{
    for (int f = 0; f < r->test->nfaults; f++)
        if (r->test->faults[f].kind == F_CALL && r->test->faults[f].node == node)
            return true;
    return false;
}

static bool until_bad(struct run *r, char *why, size_t cap)
{
    for (int i = 0; i < r->n; i++)
        for (size_t k = 0; injected(r, i) && k < NWHY; k++)
            if (run_count_bad(r, i, bad_whys[k]) == 0) {
                snprintf(why, cap, "node %d has not logged ev=bad why=%s", i, bad_whys[k]);
                return false;
            }
    return until_peers(r, why, cap);
}

/* The one-byte connection is closed for its unfinished line within --line-timeout (+ slack) of
 * its byte: a node that only drops idle connections closes it much later (5 s or 4 T). The
 * byte was sent before the injection's recorded time (taken after inject_tcp returned), so
 * measuring from that time never blames the node for the grader's own delay. */
static void check_slow_line(struct run *r, int i, struct verdict *v)
{
    double sent = 0, limit = arg_ms(r->test->args, "--line-timeout ", 10000);
    for (int k = 0; k < r->napplied && !sent; k++)
        if (r->applied[k].kind == F_CALL && r->applied[k].node == i)
            sent = r->applied[k].t;
    const struct event *e = NULL;
    for (int j = 0; j < r->node[i].n && sent > 0 && !e; j++)
        if (r->node[i].ev[j].t >= sent && event_is(&r->node[i].ev[j], "bad", "why", "slow-line"))
            e = &r->node[i].ev[j];
    if (e && e->t - sent > limit + slack(r))
        verdict_fail(v, V_LIVENESS,
                     "node %d closed the connection whose line never ended (one byte sent) "
                     "%.0f ms after that byte, later than --line-timeout %.0f ms (+ %.0f slack): "
                     "an unfinished line must be timed out on its own, not only as an idle "
                     "connection",
                     i, e->t - sent, limit, slack(r));
}

static void check_bad(struct run *r, struct verdict *v)
{
    check_peers(r, v);
    for (int i = 0; i < r->n; i++)
        if (injected(r, i))
            check_slow_line(r, i, v);
    for (int i = 0; i < r->n; i++)
        for (size_t k = 0; injected(r, i) && k < NWHY; k++)
            if (run_count_bad(r, i, bad_whys[k]) == 0)
                verdict_fail(v, V_SAFETY,
                             "node %d logged no ev=bad why=%s: that bad input was "
                             "ignored silently or not detected",
                             i, bad_whys[k]);
}

/* ---- sprint 2: load in the answers, peers above the threshold flagged ---- */

#define LOADED 2 /* the node whose load the test raises, then lowers */

static const struct event *load_flag(const struct run *r, int o, const char *over, double after)
{
    for_each_event(r, o, e) {
        if (e->t > after && event_is(e, "load", "overloaded", over) &&
            node_of_addr(r, event_get(e, "peer")) == LOADED)
            return e;
    }
    return NULL;
}

static bool until_load(struct run *r, char *why, size_t cap)
{
    for (int o = 0; o < r->n; o++) {
        const struct event *up = o == LOADED ? NULL : load_flag(r, o, "1", -INF);
        if (o != LOADED && (!up || !load_flag(r, o, "0", up->t))) {
            snprintf(why, cap, "node %d has not flagged node %d overloaded, then normal", o,
                     LOADED);
            return false;
        }
    }
    return until_peers(r, why, cap);
}

/* When node LOADED changed its own load (its ev=own_load line: the grader's write to its stdin
 * is timed less precisely than the node's own clock). */
static double own_load_at(const struct run *r, bool high, double after)
{
    for_each_event(r, LOADED, e) {
        const char *l = event_get(e, "load");
        if (e->t > after && !strcmp(e->ev, "own_load") && l && (atof(l) > 0.8) == high)
            return e->t;
    }
    return INF;
}

static void check_load(struct run *r, struct verdict *v)
{
    check_peers(r, v);
    double up_at = own_load_at(r, true, -INF), down_at = own_load_at(r, false, up_at);
    if (up_at == INF || down_at == INF) {
        verdict_fail(v, V_LIVENESS,
                     "node %d did not log ev=own_load for both `load` commands "
                     "on its stdin",
                     LOADED);
        return;
    }
    /* Under Valgrind node 2 may read both commands late and together (CI: 77 ms apart instead
     * of 1500): the peers ask every --interval, so a window shorter than three of them need not
     * be seen. Natively it is 1500 ms, and a peer that never flags still fails. */
    double interval = arg_ms(r->test->args, "--interval ", 1000), window = down_at - up_at;
    /* nor while node 2 itself was not run (its own ev=stalled): it answered nobody then */
    for_each_event(r, LOADED, e) {
        long long ms = 0;
        if (!strcmp(e->ev, "stalled") && event_int(e, "ms", &ms)) {
            double a = e->t - (double)ms > up_at ? e->t - (double)ms : up_at,
                   b = e->t < down_at ? e->t : down_at;
            window -= b > a ? b - a : 0;
        }
    }
    bool seen_window = window >= 3 * interval;
    if (!seen_window)
        run_info(r,
                 "; node %d answered with load 0.95 for only %.0f ms (it read both commands "
                 "late, or was not run): no flag required",
                 LOADED, window);
    for (int o = 0; o < r->n; o++) {
        if (o == LOADED)
            continue;
        const struct event *up = load_flag(r, o, "1", -INF),
                           *down = up ? load_flag(r, o, "0", up->t) : NULL;
        if (up && up->t < up_at)
            verdict_fail(v, V_SAFETY,
                         "node %d flagged node %d overloaded before its load went "
                         "above the threshold",
                         o, LOADED);
        if (!seen_window && (!up || up->t > down_at))
            ;
        else if (!up || up->t > down_at)
            verdict_fail(v, V_LIVENESS,
                         "node %d never flagged node %d overloaded while it "
                         "reported load 0.95 > threshold 0.8",
                         o, LOADED);
        else if (!down || down->t < down_at)
            verdict_fail(v, V_LIVENESS,
                         "node %d kept node %d flagged after its load went back "
                         "to 0.2",
                         o, LOADED);
        if (run_count(r, o, "registry") == 0)
            verdict_fail(v, V_LIVENESS,
                         "node %d never printed its registry (ev=registry) "
                         "when asked on stdin",
                         o);
    }
}

/* ---- Q4: the monitor (node 0) and its workers (nodes 1..n-1, worker id = node id) ---- */

static const struct event *mon_event_after(const struct run *r, const char *ev, int w, double a,
                                           double b)
{
    char id[16];
    snprintf(id, sizeof id, "%d", w);
    for_each_event(r, 0, e) {
        if (e->t >= a && e->t <= b && event_is(e, ev, w >= 0 ? "worker" : NULL, id))
            return e;
    }
    return NULL;
}

/* Was worker k itself silent for more than the monitor's timeout just before t? True when its
 * last ev=send before t is older than t - T: then a correct monitor may report it failed (it
 * heard nothing for T), even though the grader never stopped it. A sanitizer build on a busy
 * machine can stall a worker that long (seen under TSan: a worker's beats 400 ms apart with
 * T = 300). A monitor whose own rule is wrong still fails: the worker's beats were recent.
 * No send at all before t is no evidence of silence: false. */
static bool worker_silent(const struct run *r, int k, double t)
{
    double timeout = arg_ms(r->test->args0, "--timeout ", 3000), last = -INF;
    for_each_event(r, k, e) {
        if (e->t < t && !strcmp(e->ev, "send") && e->t > last)
            last = e->t;
    }
    return last > -INF && last < t - timeout;
}

/* Surely alive at t, for the monitor: up during [t - w, t] and beating (not silent). */
static bool worker_sure_up(const struct run *r, int k, double t, double w)
{
    return up_during(r, k, t - w, t) && !worker_silent(r, k, t);
}

/* Is target `to` right at t? It must not be a worker surely known dead, and every lower id
 * must not be surely alive; "none" only if no worker is surely alive. */
static bool target_ok(const struct run *r, long to, double t, double w)
{
    for (int k = 1; k < r->n; k++) {
        bool sure_up = worker_sure_up(r, k, t, w);
        if ((to < 0 || k < to) && sure_up)
            return false;
        if (k == to)
            return !down_since(r, k, t - w, t);
    }
    return to < 0;
}

static void check_orders(struct run *r, double w, int *orders, struct verdict *v)
{
    char a[512];
    for_each_event(r, 0, e) {
        if (strcmp(e->ev, "order") != 0 && strcmp(e->ev, "critical") != 0)
            continue;
        long long to = -1;
        bool crit = !strcmp(e->ev, "critical");
        const char *s = event_get(e, "to");
        if (!crit && !event_int(e, "to", &to) && !(s && !strcmp(s, "none"))) {
            verdict_fail(v, V_SAFETY, "an order without to=<worker id> or to=none: %s",
                         event_str(e, a, sizeof a));
            continue;
        }
        (*orders)++;
        if (target_ok(r, (long)to, e->t, w))
            continue;
        verdict_fail(v, V_SAFETY,
                     crit ? "critical reported %.0f ms into the run while a worker was surely "
                            "alive\n      %s"
                          : "failover violated: %.0f ms into the run the order went to a worker "
                            "that is not the lowest alive id (a lower one was surely alive, or "
                            "the target was long dead)\n      %s",
                     e->t - r->t_ready, event_str(e, a, sizeof a));
    }
}

/* The monitor reports a worker failed no sooner than --timeout after the last beat it itself
 * accepted from it (its own ev=recv lines, so loss does not matter). Allowed: 2 ms of clock
 * grain and a tenth of the timeout for a monitor descheduled between its clock read and its
 * line. A wrong rule (half the timeout, a missed beat) is off by far more. */
static void check_failure_wait(struct run *r, struct verdict *v)
{
    char a[512];
    double timeout = arg_ms(r->test->args0, "--timeout ", 3000), last[G_MAXNODES];
    for (int k = 0; k < G_MAXNODES; k++)
        last[k] = -INF;
    for_each_event(r, 0, e) {
        long long id;
        if (!strcmp(e->ev, "recv") && event_int(e, "from", &id) && id > 0 && id < G_MAXNODES)
            last[id] = e->t;
        else if (!strcmp(e->ev, "failed") && event_int(e, "worker", &id) && id > 0 &&
                 id < G_MAXNODES && e->t - last[id] < timeout - 2 - timeout / 10) {
            verdict_fail(v, V_SAFETY,
                         "the monitor reported worker %lld failed %.0f ms after the last beat "
                         "it accepted from it, before its --timeout of %.0f ms ran out (a "
                         "worker whose beat is a little late is declared dead)\n      %s",
                         id, e->t - last[id], timeout, event_str(e, a, sizeof a));
            return;
        }
    }
}

static void check_monitor(struct run *r, struct verdict *v)
{
    double w = monitor_window(r);
    static struct lat det, rec;
    char a[512];
    int false_failures = 0, orders = 0, stalls = 0;
    det.n = rec.n = 0;
    check_failure_wait(r, v);
    for (int j = 0; j < r->node[0].n; j++) { /* accuracy */
        const struct event *e = &r->node[0].ev[j];
        long long id;
        if (strcmp(e->ev, "failed") != 0 || !event_int(e, "worker", &id) || id <= 0 ||
            id >= r->n || !up_during(r, (int)id, e->t - w, e->t))
            continue;
        if (worker_silent(r, (int)id, e->t))
            stalls++; /* the worker really was silent for more than T: a right report */
        else if (false_failures++ == 0)
            verdict_fail(v, V_SAFETY,
                         "accuracy violated: the monitor reported worker %lld "
                         "failed, but it had been up for the whole %.0f ms before, and its "
                         "last beat was sent less than the timeout before"
                         "\n      %s",
                         id, w, event_str(e, a, sizeof a));
    }
    double all_down = -INF; /* when the last worker went down for good, if all did */
    for (int k = 1; k < r->n; k++) {
        struct down d[MAXDOWN];
        int nd = downs(r, k, d);
        for (int j = 1; j < nd; j++) {
            const struct event *e;
            {
                double end = d[j].b < d[j].a + w ? d[j].b : d[j].a + w;
                if ((e = mon_event_after(r, "failed", k, d[j].a, end)))
                    lat_add(&det, e->t - d[j].a);
                else if (d[j].b > d[j].a + w) /* a shorter outage need not be noticed */
                    verdict_fail(v, V_LIVENESS,
                                 "completeness violated: worker %d went down %.0f "
                                 "ms into the run; no ev=failed worker=%d within "
                                 "%.0f ms",
                                 k, d[j].a - r->t_ready, k, w);
            }
            if (d[j].b < INF) {
                if ((e = mon_event_after(r, "recovered", k, d[j].b, d[j].b + w)))
                    lat_add(&rec, e->t - d[j].b);
                else if (d[j].b + w < mono_ms())
                    verdict_fail(v, V_LIVENESS,
                                 "worker %d was back %.0f ms into the run; no "
                                 "ev=recovered worker=%d within %.0f ms",
                                 k, d[j].b - r->t_ready, k, w);
            }
        }
        /* every worker down for good: the last of them went down at all_down */
        if (d[nd - 1].b < INF || nd == 1)
            all_down = INF;
        else if (all_down < d[nd - 1].a)
            all_down = d[nd - 1].a;
    }
    if (r->n > 1 && all_down < INF && !mon_event_after(r, "critical", -1, all_down, all_down + w))
        verdict_fail(v, V_LIVENESS,
                     "every worker was down %.0f ms into the run, but the monitor "
                     "did not report ev=critical within %.0f ms",
                     all_down - r->t_ready, w);
    check_orders(r, w, &orders, v);
    lat_info(r, "failure detection", &det);
    lat_info(r, "recovery", &rec);
    run_info(r,
             "%s%d orders checked; false failures %d; failures of a worker that was itself "
             "silent > timeout %d; bound W %.0f ms",
             r->info[0] ? "; " : "", orders, false_failures, stalls, w);
}

/* The monitor has reacted to every fault (or 2 W passed: the checker will say what is missing),
 * and has run 2 s since the last one (6 s in a run without faults, which only tests accuracy). */
static bool until_monitor(struct run *r, char *why, size_t cap)
{
    double last = r->napplied ? r->applied[r->napplied - 1].t : r->t_ready;
    double w = monitor_window(r);
    bool any_up = false;
    if (starting(r, why, cap))
        return false;
    for (int k = 1; k < r->n; k++) {
        struct down d[MAXDOWN];
        int nd = downs(r, k, d);
        any_up |= d[nd - 1].b < INF;
        const char *need = d[nd - 1].b < INF ? (nd > 1 ? "recovered" : NULL) : "failed";
        double since = d[nd - 1].b < INF ? d[nd - 1].b : d[nd - 1].a;
        if (need && !mon_event_after(r, need, k, since, INF) && mono_ms() < since + 2 * w) {
            snprintf(why, cap, "the monitor has not reported worker %d %s", k, need);
            return false;
        }
    }
    if (!any_up && !mon_event_after(r, "critical", -1, last, INF) && mono_ms() < last + 2 * w) {
        snprintf(why, cap, "every worker is down but the monitor has not reported ev=critical");
        return false;
    }
    snprintf(why, cap, "the run goes on for a while after the last fault");
    return mono_ms() > last + (r->test->nfaults ? 2000 : 6000);
}

/* ---- attacks on the Q4 monitor (issue 12): a flood of forged worker ids, forged beats ---- */

#define FLOOD_IDS 70   /* forged ids, each from its own socket: more than a 64-slot table */
#define LATE_WORKER 50 /* a genuine worker started after the flood (not one of the nodes) */
#define FORGED_FOR 2   /* the worker whose beats a stranger forges after it was killed */

/* One forged beat, as any worker would send it: a made-up incarnation and SEQ. */
static void forge_beat(int fd, const struct run *r, long id, unsigned long long inc,
                       unsigned long seq)
{
    char beat[160];
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)r->node[0].port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int n = snprintf(beat, sizeof beat,
                     "{\"TASK\": \"HEARTBEAT\", \"NODE\": %ld, \"INC\": %llu, \"SEQ\": %lu}\n", id,
                     inc, seq);
    if (fd >= 0 && n > 0 && (size_t)n < sizeof beat)
        (void)sendto(fd, beat, (size_t)n, 0, (struct sockaddr *)&to, sizeof to);
}

struct attack {
    int calls;        /* F_CALLs so far */
    int slot;         /* the late worker's harness_spawn slot, -1 if none */
    double spawned;   /* when it was started */
    double stopped;   /* when it was stopped, INF until then */
    int stranger;     /* the forger's socket */
    unsigned long seq;
};

/* The attack's state outlives the run's teardown (which stops the late worker and closes the
 * stranger's socket) because the checker, which runs after it, needs its times. */
static struct attack attack_state;

static int setup_attack(struct run *r, struct verdict *v)
{
    struct attack *a = &attack_state;
    memset(a, 0, sizeof *a);
    a->slot = -1, a->stopped = INF, a->seq = 1000;
    if ((a->stranger = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
        return verdict_fail(v, V_HARNESS, "socket: %s", strerror(errno)), -1;
    r->lab_state = a;
    return 0;
}

static void teardown_attack(struct run *r, struct verdict *v)
{
    (void)v;
    struct attack *a = &attack_state;
    if (a->slot >= 0 && a->stopped == INF)
        harness_stop_aux(r, a->slot, 2000);
    if (a->stranger >= 0)
        close(a->stranger);
    a->slot = a->stranger = -1;
}

/* The late worker: the lab's own program, started by the grader as a helper process. */
static int spawn_late_worker(struct run *r)
{
    const char *base = r->opt->labdir ? r->opt->labdir : r->lab->dir;
    char bin[1024], id[16], mon[32];
    if (base[0] == '/')
        snprintf(bin, sizeof bin, "%s/%s/%s", base, r->opt->build, r->lab->bin);
    else
        snprintf(bin, sizeof bin, "%s/%s/%s/%s", r->opt->root, base, r->opt->build, r->lab->bin);
    snprintf(id, sizeof id, "%d", LATE_WORKER);
    snprintf(mon, sizeof mon, "127.0.0.1:%d", r->node[0].port);
    char *argv[] = {bin,        "worker",     "--id", id, "--monitor", mon,
                    "--interval", "50",        NULL};
    return harness_spawn(r, argv, "late-worker.log");
}

/* 1st call: FLOOD_IDS forged ids, each beating once from its own port, fill the monitor's
 * table; then a genuine worker starts. 2nd call: that worker is stopped. */
static void inject_flood(struct run *r, int node, struct verdict *v)
{
    struct attack *a = r->lab_state;
    (void)node;
    if (a->calls++ == 0) {
        for (int i = 0; i < FLOOD_IDS; i++) {
            int fd = socket(AF_INET, SOCK_DGRAM, 0);
            forge_beat(fd, r, 1000 + i, 1, 1);
            if (fd >= 0)
                close(fd);
        }
        a->spawned = mono_ms();
        if ((a->slot = spawn_late_worker(r)) < 0)
            verdict_fail(v, V_HARNESS, "cannot start the late worker");
    } else if (a->slot >= 0) {
        a->stopped = mono_ms();
        harness_stop_aux(r, a->slot, 2000);
    }
}

/* Every call: a stranger (its own socket) sends beats in the name of worker FORGED_FOR (killed
 * at the start of the attack), and in worker 1's name with a huge SEQ (which must not lock the
 * real worker 1 out either), each with a higher incarnation and SEQ than the real ones. */
static void inject_forge(struct run *r, int node, struct verdict *v)
{
    struct attack *a = r->lab_state;
    (void)node, (void)v;
    a->calls++;
    for (int k = 0; k < 5; k++) {
        forge_beat(a->stranger, r, FORGED_FOR, 9000000000000000ULL, a->seq++);
        forge_beat(a->stranger, r, 1, 9000000000000000ULL, 4000000000UL);
    }
}

/* When the late worker said ev=ready (its own log, the same CLOCK_MONOTONIC), or INF. */
static double late_ready(const struct run *r)
{
    char path[700], line[1024];
    snprintf(path, sizeof path, "%s/late-worker.log", r->dir);
    FILE *f = fopen(path, "r");
    double t = INF;
    while (f && t == INF && fgets(line, sizeof line, f)) {
        struct event e;
        line[strcspn(line, "\n")] = '\0';
        if (event_parse(line, &e) == 0) {
            if (!strcmp(e.ev, "ready"))
                t = e.t;
            event_free(&e);
        }
    }
    if (f)
        fclose(f);
    return t;
}

static bool until_flood(struct run *r, char *why, size_t cap)
{
    const struct attack *a = r->lab_state;
    double w = monitor_window(r);
    if (a->stopped < INF && !mon_event_after(r, "failed", LATE_WORKER, a->stopped, INF) &&
        mono_ms() < a->stopped + 2 * w) {
        snprintf(why, cap, "the monitor has not reported the late worker %d failed", LATE_WORKER);
        return false;
    }
    return until_monitor(r, why, cap);
}

/* The flood must not lock a genuine worker out: the late worker is registered once the forged
 * ids have had time to fail (T after the flood, then one beat), and its failure is detected. */
static void check_flood(struct run *r, struct verdict *v)
{
    const struct attack *a = &attack_state;
    double w = monitor_window(r), timeout = arg_ms(r->test->args0, "--timeout ", 3000);
    double ready = late_ready(r);
    check_monitor(r, v);
    if (ready == INF) {
        verdict_fail(v, V_HARNESS, "the late worker (started %.0f ms into the run) never "
                     "printed ev=ready; see late-worker.log", a->spawned - r->t_ready);
        return;
    }
    const struct event *j = mon_event_after(r, "joined", LATE_WORKER, ready, ready + timeout + w);
    if (!j) {
        verdict_fail(v, V_LIVENESS,
                     "table flooding locked a genuine worker out: %d forged worker ids (each "
                     "beating once) were sent to the monitor, then worker %d started %.0f ms "
                     "into the run; no ev=joined worker=%d within %.0f ms (timeout + W: by then "
                     "every forged id had failed, so its slot can be reused)",
                     FLOOD_IDS, LATE_WORKER, ready - r->t_ready, LATE_WORKER, timeout + w);
        return;
    }
    if (a->stopped < INF && !mon_event_after(r, "failed", LATE_WORKER, a->stopped, a->stopped + w))
        verdict_fail(v, V_LIVENESS,
                     "worker %d was registered after the flood but not monitored: stopped %.0f "
                     "ms into the run, no ev=failed worker=%d within %.0f ms",
                     LATE_WORKER, a->stopped - r->t_ready, LATE_WORKER, w);
    run_info(r, "; late worker joined %.0f ms after its ready", j->t - ready);
}

/* Forged beats must not bring a killed worker back: after the crash of FORGED_FOR, nothing
 * but its own restart may make the monitor say it is back. */
static void check_forged(struct run *r, struct verdict *v)
{
    char b[512];
    check_monitor(r, v);
    const struct applied_fault *crash = run_fault(r, F_CRASH, FORGED_FOR);
    if (!crash)
        return verdict_fail(v, V_HARNESS, "worker %d was never crashed", FORGED_FOR);
    const struct event *e = mon_event_after(r, "recovered", FORGED_FOR, crash->t, INF);
    if (!e)
        e = mon_event_after(r, "joined", FORGED_FOR, crash->t, INF);
    if (e)
        verdict_fail(v, V_SAFETY,
                     "forged beats revived a dead worker: worker %d was killed %.0f ms into the "
                     "run and never restarted, but the monitor took a stranger's beats in its "
                     "name (another address, a made-up INC and SEQ) for its own\n      %s",
                     FORGED_FOR, crash->t - r->t_ready, event_str(e, b, sizeof b));
}

/* ---- pipelining: many requests in one write (issue 12) ---- */

#define PIPELINED 200

/* One write of PIPELINED requests, then read: every one must be answered, in order. */
static void inject_pipeline(struct run *r, int node, struct verdict *v)
{
    static char reqs[PIPELINED * 32];
    size_t len = 0;
    for (int i = 0; i < PIPELINED; i++)
        len += (size_t)snprintf(reqs + len, sizeof reqs - len, "{\"TASK\": \"HEARTBEAT\"}\n");
    int fd = dial(r, node, v), answers = 0, bad = 0;
    if (fd < 0)
        return;
    char buf[4096], line[1024];
    size_t llen = 0;
    bool sent = send_all(fd, reqs, len);
    while (sent && answers + bad < PIPELINED) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        for (ssize_t k = 0; k < n; k++) {
            if (buf[k] != '\n') {
                if (llen < sizeof line - 1)
                    line[llen++] = buf[k];
                continue;
            }
            line[llen] = '\0', llen = 0;
            bool ok = strstr(line, "\"RESPONSE\"") && strstr(line, "\"ALIVE\"") &&
                      strstr(line, "\"SERVER_ID\"") && strstr(line, "\"HEARTBEAT\"");
            answers += ok, bad += !ok;
        }
    }
    close(fd);
    if (answers < PIPELINED)
        verdict_fail(v, V_SAFETY,
                     "node %d answered %d of %d requests sent in one write (%d other lines) "
                     "before it %s: a client that pipelines and reads its answers must get all "
                     "of them (stop reading while the answers do not fit, do not drop them)",
                     node, answers, PIPELINED, bad,
                     sent ? "closed the connection or went silent" : "refused the write");
}

/* ---- the table ---- */

#define PEER "peer --id {id} --port {port} --peer {nodes} "
#define PARGS PEER "--interval 100 --timeout 500"
#define MON "monitor --id 0 --port {port} --timeout 300 --order-every 100"
#define WORKER "worker --id {id} --monitor {nodes} --port {port} --interval 50"
#define REG "registry\n" /* the last fault of a test: every node prints its registry */

/* Progress: verdicts and orders, not the beats themselves (send/recv); a detector may rightly be
 * silent for a whole W = timeout + interval + slack, so the stall window is 2 W + 4 s. */
static void progress(const struct run *r, struct progress_rule *p)
{
    double w = peer_window(r) > monitor_window(r) ? peer_window(r) : monitor_window(r);
    p->background = "send recv";
    p->stall_ms = (int)(2 * w) + 4000;
}

static const struct gtest tests[] = {
    {.name = "completeness",
     .points = 15,
     .nodes = 5,
     .args = PARGS,
     .net = "",
     .faults = {{2500, F_CRASH, 1, NULL}, {2500, F_CRASH, 3, NULL}},
     .nfaults = 2,
     .until = until_peers,
     .check = check_peers,
     .timeout_ms = 60000,
     .what = "nodes 1 and 3 crash: every other node marks each TIMEOUT within timeout + "
             "interval + 400 ms"},
    {.name = "accuracy",
     .points = 10,
     .nodes = 5,
     .args = PARGS,
     .net = "",
     .faults = {{4000, F_INPUT, 0, REG}},
     .nfaults = 1,
     .until = until_peers,
     .check = check_peers,
     .timeout_ms = 60000,
     .what = "4 s without faults: every node sees every peer ALIVE and none is ever TIMEOUT"},
    {.name = "restart",
     .points = 10,
     .nodes = 4,
     .args = PARGS,
     .net = "",
     .faults = {{2000, F_CRASH, 2, NULL}, {7000, F_RESTART, 2, NULL}},
     .nfaults = 2,
     .until = until_peers,
     .check = check_peers,
     .timeout_ms = 60000,
     .what = "node 2 crashes, then restarts: TIMEOUT, then ALIVE again with a new SERVER_ID"},
    {.name = "paused-node",
     .points = 15,
     .nodes = 4,
     .args = PARGS,
     .net = "",
     .faults = {{2000, F_PAUSE, 1, NULL}, {7000, F_RESUME, 1, NULL}},
     .nfaults = 2,
     .until = until_peers,
     .check = check_peers,
     .timeout_ms = 60000,
     .what = "node 1 stopped 5 s: suspected, then ALIVE again; it suspects nobody itself"},
    {.name = "detection-floor",
     .points = 10,
     .nodes = 4,
     .args = PEER "--interval 100 --timeout 2000",
     .net = "",
     .faults = {{1500, F_CRASH, 1, NULL}, {1500, F_PAUSE, 2, NULL}, {5500, F_RESUME, 2, NULL}},
     .nfaults = 3,
     .until = until_peers,
     .check = check_peers,
     .timeout_ms = 60000,
     .what = "timeout 20 x interval: node 1 crashes, node 2 stops 4 s; each TIMEOUT comes no "
             "sooner than timeout - interval - 400 ms after the fault, and no later than W"},
    {.name = "monitor-failover",
     .points = 15,
     .nodes = 4,
     .args = WORKER,
     .bin0 = NULL,
     .args0 = MON,
     .net = "",
     .faults = {{800, F_CRASH, 1, NULL},
                {1800, F_CRASH, 2, NULL},
                {2800, F_RESTART, 1, NULL},
                {5800, F_CRASH, 1, NULL},
                {5800, F_CRASH, 3, NULL}},
     .nfaults = 5,
     .until = until_monitor,
     .check = check_monitor,
     .timeout_ms = 60000,
     .what = "Q4: workers 1, 2 crash, 1 returns, 1 and 3 crash: orders go to the lowest alive "
             "id, then critical"},
    {.name = "monitor-loss-10",
     .points = 10,
     .nodes = 4,
     .args = WORKER,
     .args0 = MON,
     .net = "drop 0.10",
     .until = until_monitor,
     .check = check_monitor,
     .timeout_ms = 60000,
     .what = "Q4 under 10% UDP loss, timeout 6 x interval: no worker falsely failed, orders to "
             "worker 1"},
    {.name = "bad-input",
     .points = 10,
     .nodes = 3,
     .args = PARGS " --line-timeout 1000",
     .net = "",
     .faults = {{1000, F_CALL, 0, NULL}, {1000, F_CALL, 1, NULL}, {2500, F_CRASH, 2, NULL}},
     .nfaults = 3,
     .until = until_bad,
     .check = check_bad,
     .inject = inject_tcp,
     .setup = setup_held,
     .teardown = teardown_held,
     .timeout_ms = 60000,
     .what = "garbage, an over-long line, half-open and one-byte connections: answers go on, "
             "node 2's crash is still detected in time"},
    {.name = "pipelined",
     .points = 5,
     .nodes = 3,
     .args = PARGS,
     .net = "",
     .faults = {{1000, F_CALL, 0, NULL}, {1000, F_CALL, 1, NULL}, {2500, F_CRASH, 2, NULL}},
     .nfaults = 3,
     .until = until_peers,
     .check = check_peers,
     .inject = inject_pipeline,
     .timeout_ms = 60000,
     .what = "a client sends 200 requests in one write, then reads: all 200 answered; node 2's "
             "crash still detected in time"},
    {.name = "monitor-flood",
     .points = 5,
     .nodes = 3,
     .args = WORKER,
     .args0 = MON,
     .net = "",
     .faults = {{1000, F_CALL, 0, NULL}, {3000, F_CALL, 0, NULL}},
     .nfaults = 2,
     .until = until_flood,
     .check = check_flood,
     .inject = inject_flood,
     .setup = setup_attack,
     .teardown = teardown_attack,
     .timeout_ms = 60000,
     .what = "70 forged worker ids fill the monitor's table; a genuine worker started after "
             "them is registered, and its failure detected"},
    {.name = "monitor-forged-beats",
     .points = 5,
     .nodes = 3,
     .args = WORKER,
     .args0 = MON,
     .net = "",
     .faults = {{1000, F_CRASH, FORGED_FOR, NULL},
                {1000, F_CALL, 0, NULL},
                {1100, F_CALL, 0, NULL},
                {1200, F_CALL, 0, NULL},
                {1300, F_CALL, 0, NULL},
                {1400, F_CALL, 0, NULL},
                {1500, F_CALL, 0, NULL},
                {1600, F_CALL, 0, NULL},
                {1700, F_CALL, 0, NULL},
                {1800, F_CALL, 0, NULL},
                {1900, F_CALL, 0, NULL},
                {2000, F_CALL, 0, NULL},
                {2200, F_CALL, 0, NULL},
                {2400, F_CALL, 0, NULL},
                {2600, F_CALL, 0, NULL},
                {2800, F_CALL, 0, NULL},
                {3000, F_CALL, 0, NULL}},
     .nfaults = 17,
     .until = until_monitor,
     .check = check_forged,
     .inject = inject_forge,
     .setup = setup_attack,
     .teardown = teardown_attack,
     .timeout_ms = 60000,
     .what = "worker 2 is killed and a stranger keeps beating in its name (and in worker 1's, "
             "with a huge SEQ): 2 is still reported failed, 1 is not"},
    {.name = "load-threshold",
     .points = 5,
     .nodes = 3,
     .args = PARGS " --load 0.1 --load-threshold 0.8",
     .net = "",
     .faults = {{1000, F_INPUT, LOADED, "load 0.95\n"},
                {2500, F_INPUT, LOADED, "load 0.2\n"},
                {4000, F_INPUT, 0, REG},
                {4000, F_INPUT, 1, REG}},
     .nfaults = 4,
     .until = until_load,
     .check = check_load,
     .timeout_ms = 60000,
     .what = "sprint 2: LOAD in the answers; a peer above --load-threshold is flagged, then "
             "unflagged"},
    {.name = "sixty-four",
     .points = 10,
     .nodes = 64,
     .args = PEER "--interval 2000 --timeout 10000 --quiet",
     .net = "",
     .faults = {{4000, F_CRASH, 7, NULL}, {4000, F_CRASH, 40, NULL}},
     .nfaults = 2,
     .until = until_peers,
     .check = check_peers,
     .timeout_ms = 120000,
     .what = "64 nodes, 2 crash: each of the 62 others marks both TIMEOUT in time, no false "
             "suspicion"},
};

const struct lab lab4_heartbeat = {"lab4-heartbeat", "heartbeat", tests,
                                   sizeof tests / sizeof *tests, progress};
