/* lab3.c - lab3-bully's grading tests: stable agreement on the highest alive id, the Bully rules
 * read from the event lines, message counts and election times, and a bad-input injector. */
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

/* The run may end once every alive node has followed the highest alive id, with no change of
 * view anywhere, for this long after the last fault: longer than the leader timeout below, so a
 * node about to suspect its leader would have done so inside the window. */
#define STABLE_MS 2000

/* The value of "--flag N" in the test's argument template, or def. */
static double arg_ms(const struct run *r, const char *flag, double def)
{
    const char *s = r->test && r->test->args ? strstr(r->test->args, flag) : NULL;
    return s ? strtod(s + strlen(flag), NULL) : def;
}

/* A node reads its clock (whole ms) when an event arrives, sets its deadline from that reading,
 * and prints the line a little later: on a busy machine it can be descheduled in between. So
 * a deadline of D ms is judged on the printed lines as at least D less 2 ms of clock grain and
 * a tenth of D for that delay. A wrong timer (another unit, another flag) is off by far more. */
static double least_wait(const struct run *r, double d)
{
    /* The slack grows with --slow: under valgrind a node may read its clock for the deadline
     * and print ev=election tens of ms apart (seen: a win 177 ms after the line, 200 ms timer). */
    double slow = r->opt && r->opt->slow > 1 ? r->opt->slow : 1;
    return d - (2.0 + d / 10) * slow;
}

static bool is_election_msg(const char *type)
{
    return type &&
           (!strcmp(type, "ELECTION") || !strcmp(type, "ANSWER") || !strcmp(type, "COORDINATOR"));
}

static bool is_type(const struct event *e, const char *type)
{
    const char *t = event_get(e, "type");
    return t && !strcmp(t, type);
}

/* Node i's latest ev=leader line in life `life`, or NULL. */
static const struct event *last_view(const struct run *r, int i, int life)
{
    const struct nodelog *nl = &r->node[i];
    for (int j = nl->n - 1; j >= 0 && nl->ev[j].life >= life; j--)
        if (nl->ev[j].life == life && !strcmp(nl->ev[j].ev, "leader"))
            return &nl->ev[j];
    return NULL;
}

static long long view_of(const struct event *e)
{
    long long l = -1;
    return e && event_int(e, "leader", &l) ? l : -2; /* -2: no view at all */
}

/* ---- when to stop: stable agreement after the last fault ---- */

/* Nodes [0, members) all follow the highest alive among them, unchanged for STABLE_MS after the
 * last fault. members < r->n leaves the nodes above out (strangers to the group). */
static bool stable_among(struct run *r, int members, char *why, size_t cap)
{
    int high = -1;
    double now = mono_ms(), last_change = 0;
    for (int i = 0; i < members; i++)
        if (r->node[i].pid > 0)
            high = i;
    if (high < 0) {
        snprintf(why, cap, "no node is running");
        return false;
    }
    for (int i = 0; i < members; i++) {
        const struct nodelog *nl = &r->node[i];
        if (nl->pid <= 0)
            continue;
        const struct event *e = last_view(r, i, nl->life);
        if (!nl->ready || view_of(e) != high) {
            snprintf(why, cap,
                     "node %d follows %lld, not the highest alive id %d (-1: none, "
                     "-2: no ev=leader yet)",
                     i, nl->ready ? view_of(e) : -2, high);
            return false;
        }
        if (e->t > last_change)
            last_change = e->t;
    }
    double last_fault = r->napplied ? r->applied[r->napplied - 1].t : r->t_ready;
    if (last_fault > last_change)
        last_change = last_fault;
    if (now - last_change < STABLE_MS) {
        snprintf(why, cap, "every node follows %d, but only for %.0f of the %d ms asked", high,
                 now - last_change, STABLE_MS);
        return false;
    }
    return true;
}

static bool until_stable(struct run *r, char *why, size_t cap)
{
    return stable_among(r, r->n, why, cap);
}

/* ---- the checks ---- */

/* Whether node i is running at the end: its last crash or restart, if any, was a restart. */
static bool alive_at_end(const struct run *r, int i)
{
    bool alive = true;
    for (int k = 0; k < r->napplied; k++)
        if (r->applied[k].node == i && r->applied[k].kind == F_CRASH)
            alive = false;
        else if (r->applied[k].node == i && r->applied[k].kind == F_RESTART)
            alive = true;
    return alive;
}

/* The Bully rules that hold in every interleaving, checked line by line on each node:
 * - a node follows only a higher id than its own (or itself, or -1 while it suspects);
 * - ELECTION goes up, ANSWER goes down (README "The protocol");
 * - every life begins with an election (a recovering node asks before it leads);
 * - a node that got an ANSWER to its ELECTION of round R does not declare itself leader until
 *   it starts a new election: the one who answered outranks it and will announce;
 * - a node below the top id declares itself leader only after --answer-timeout has passed
 *   since its election began, on its own clock: sooner, a higher node that is alive has had
 *   no time to answer (an answer timeout shorter than a round trip elects every node). */
static void check_rules(struct run *r, struct verdict *v)
{
    char a[512], b[512];
    double answer_ms = arg_ms(r, "--answer-timeout ", 0);
    for (int i = 0; i < r->n; i++) {
        const struct nodelog *nl = &r->node[i];
        long long round = -1, l;
        const struct event *answer = NULL, *elected = NULL;
        bool started = false;
        for (int j = 0; j < nl->n; j++) {
            const struct event *e = &nl->ev[j];
            if (!strcmp(e->ev, "ready")) {
                round = -1, answer = elected = NULL, started = false;
            } else if (!strcmp(e->ev, "election")) {
                started = true, answer = NULL, elected = e;
                event_int(e, "round", &round);
            } else if (!strcmp(e->ev, "send") && event_int(e, "to", &l) &&
                       ((is_type(e, "ELECTION") && l < i) || (is_type(e, "ANSWER") && l > i))) {
                verdict_fail(v, V_SAFETY,
                             "node %d sent an %s to node %lld: an ELECTION only goes to higher ids "
                             "(only they can answer it), an ANSWER only to lower ones: %s",
                             i, event_get(e, "type"), l, event_str(e, a, sizeof a));
            } else if (!strcmp(e->ev, "recv") && is_type(e, "ANSWER") &&
                       event_int(e, "round", &l) && l == round) {
                answer = e;
            } else if (!strcmp(e->ev, "leader") && event_int(e, "leader", &l)) {
                if (!started)
                    verdict_fail(v, V_SAFETY,
                                 "node %d took a leader before holding any "
                                 "election in this life (a node that starts or recovers must "
                                 "first hold one): %s",
                                 i, event_str(e, a, sizeof a));
                if (l >= 0 && l < i)
                    verdict_fail(v, V_SAFETY,
                                 "node %d followed the lower id %lld: a node only "
                                 "ever accepts a leader that outranks it: %s",
                                 i, l, event_str(e, a, sizeof a));
                if (l == i && answer)
                    verdict_fail(v, V_SAFETY,
                                 "node %d declared itself leader although a higher "
                                 "node had answered its ELECTION in that round (it must wait for "
                                 "the COORDINATOR, or start a new election):\n      answer: %s\n"
                                 "      leader: %s",
                                 i, event_str(answer, a, sizeof a), event_str(e, b, sizeof b));
                if (l == i && elected && i < r->n - 1 &&
                    e->t - elected->t < least_wait(r, answer_ms))
                    verdict_fail(v, V_SAFETY,
                                 "node %d declared itself leader %.0f ms after it started its "
                                 "election, before the %.0f ms of --answer-timeout had passed: "
                                 "a higher node that is alive had no time to answer (use the "
                                 "flag's value for the ANSWER deadline):\n      election: %s\n"
                                 "      leader: %s",
                                 i, e->t - elected->t, answer_ms, event_str(elected, a, sizeof a),
                                 event_str(e, b, sizeof b));
                if (l == i)
                    elected = NULL; /* one check per election: a leader re-announcing is fine */
            }
        }
    }
}

/* A follower suspects its leader only after --leader-timeout without hearing from it (its
 * view of it, a HEARTBEAT or COORDINATOR from it): sooner, a live leader is falsely suspected
 * whenever a heartbeat is a little late, and every suspicion costs an election. */
static void check_suspicion(struct run *r, struct verdict *v)
{
    char a[512];
    double leader_ms = arg_ms(r, "--leader-timeout ", 0);
    for (int i = 0; i < r->n; i++) {
        const struct nodelog *nl = &r->node[i];
        long long cur = -1, l, from;
        double heard = 0;
        for (int j = 0; j < nl->n; j++) {
            const struct event *e = &nl->ev[j];
            if (!strcmp(e->ev, "ready"))
                cur = -1;
            else if (!strcmp(e->ev, "leader") && event_int(e, "leader", &l) && l != i && l >= 0)
                cur = l, heard = e->t;
            else if (!strcmp(e->ev, "recv") &&
                     (is_type(e, "HEARTBEAT") || is_type(e, "COORDINATOR")) &&
                     event_int(e, "from", &from) && from == cur)
                heard = e->t;
            else if (!strcmp(e->ev, "leader") && event_int(e, "leader", &l) && l != i) {
                if (cur >= 0 && e->t - heard < least_wait(r, leader_ms)) {
                    verdict_fail(v, V_SAFETY,
                                 "node %d gave up on its leader %lld only %.0f ms after it last "
                                 "heard from it, before the %.0f ms of --leader-timeout: a live "
                                 "leader whose heartbeat is a little late is suspected (use the "
                                 "flag's value, and push the deadline back on every heartbeat): %s",
                                 i, cur, e->t - heard, leader_ms, event_str(e, a, sizeof a));
                    break;
                }
                cur = -1;
            } else if (!strcmp(e->ev, "leader"))
                cur = -1; /* it leads itself */
        }
    }
}

/* Node j's first ANSWER to i for round `round` after its line k, in the same life; NULL if none. */
static const struct event *answer_after(const struct nodelog *nl, int k, long long i,
                                        long long round)
{
    long long to, rd;
    for (int j = k + 1; j < nl->n && nl->ev[j].life == nl->ev[k].life; j++) {
        const struct event *e = &nl->ev[j];
        if (!strcmp(e->ev, "send") && is_type(e, "ANSWER") && event_int(e, "to", &to) && to == i &&
            event_int(e, "round", &rd) && rd == round)
            return e;
    }
    return NULL;
}

/* An ELECTION from a lower id is answered, whatever the receiver is doing (electing, waiting,
 * leading): an unanswered asker declares itself leader while a higher node is alive. A life
 * that ends within ANSWER_GRACE_MS of the ELECTION is not judged (killed before it could). */
#define ANSWER_GRACE_MS 50.0

static void check_answered(struct run *r, struct verdict *v)
{
    char a[512];
    for (int j = 0; j < r->n; j++) {
        const struct nodelog *nl = &r->node[j];
        for (int k = 0; k < nl->n; k++) {
            const struct event *e = &nl->ev[k];
            long long from, round;
            if (strcmp(e->ev, "recv") != 0 || !is_type(e, "ELECTION") ||
                !event_int(e, "from", &from) || from >= j || !event_int(e, "round", &round) ||
                answer_after(nl, k, from, round))
                continue;
            bool lived_on = false;
            for (int m = k + 1; m < nl->n && nl->ev[m].life == e->life; m++)
                lived_on |= nl->ev[m].t > e->t + ANSWER_GRACE_MS;
            if (lived_on) {
                verdict_fail(v, V_SAFETY,
                             "node %d received an ELECTION from the lower node %lld and never "
                             "sent it an ANSWER for that round (every ELECTION from below is "
                             "answered, even while electing or leading, or the asker wins "
                             "although node %d is alive): %s",
                             j, from, j, event_str(e, a, sizeof a));
                break;
            }
        }
    }
}

/* After the last fault: one leader, the highest alive id, and every alive node follows it. */
static int check_final(struct run *r, struct verdict *v)
{
    char a[512], who[256] = "";
    int high = -1, leaders = 0, viewless = 0;
    size_t len = 0;
    for (int i = 0; i < r->n; i++)
        if (alive_at_end(r, i))
            high = i;
    for (int i = 0; i < r->n; i++) {
        long long l = view_of(last_view(r, i, r->node[i].life));
        viewless += alive_at_end(r, i) && l == -2;
        if (alive_at_end(r, i) && l == i && len < sizeof who)
            len += (size_t)snprintf(who + len, sizeof who - len, "%s%d", leaders++ ? ", " : "", i);
    }
    /* Two leaders is the clearest message, so it comes first. */
    if (leaders > 1)
        verdict_fail(v, V_SAFETY,
                     "%d alive nodes ended believing they lead (%s); exactly one "
                     "must: node %d, the highest alive id",
                     leaders, who, high);
    for (int i = 0; i < r->n; i++) {
        if (!alive_at_end(r, i))
            continue;
        const struct event *e = last_view(r, i, r->node[i].life);
        long long l = view_of(e);
        /* Following a lower alive id than the highest is a wrong decision (safety); no view
         * (-2), a suspicion never resolved (-1), or a dead node still followed (> high) is a
         * decision never reached: an election that stalled (liveness). */
        if (l != high)
            verdict_fail(v, l >= 0 && l < high ? V_SAFETY : V_LIVENESS,
                         "agreement: node %d ended following %lld, but the highest alive id is "
                         "%d (%s; last view: %s)",
                         i, l, high,
                         l == -2    ? "it never took a leader"
                         : l == -1  ? "its election never ended with a leader"
                         : l > high ? "it never noticed that node's death"
                                    : "it chose a lower node",
                         e ? event_str(e, a, sizeof a) : "none");
    }
    if (leaders == 0 && !viewless)
        verdict_fail(v, V_LIVENESS,
                     "no alive node ended believing it leads (node %d should): the election "
                     "never finished",
                     high);
    return high;
}

/* The Bully's worst case for one crashed leader among n nodes (README, "Measured"): every
 * one of the n-1 others starts an election at once. */
static int worst_case(int n)
{
    return (n - 1) * (n - 1) + n - 2;
}

/* A test whose only fault is one crash, on a loss-free network: the textbook bound applies. */
static bool one_crash(const struct run *r)
{
    return r->napplied == 1 && r->applied[0].kind == F_CRASH && r->test && r->test->net &&
           !r->test->net[0];
}

/* Messages used and time to elect, measured from the last fault (or the start). The summary
 * says "agreed by all" only when every alive node follows `high`; returns the message count. */
static int measure(struct run *r, int high, char *out, size_t cap)
{
    double t0 = r->napplied ? r->applied[r->napplied - 1].t : 1e300, agreed = 0;
    int count[3] = {0}, alive = 0, following = 0;
    if (!r->napplied)
        for (int i = 0; i < r->n; i++)
            for_each_event(r, i, e)
                if (!strcmp(e->ev, "ready") && e->t < t0)
                    t0 = e->t;
    for (int i = 0; i < r->n; i++) {
        alive += alive_at_end(r, i);
        for_each_event(r, i, e) {
            const char *type = event_get(e, "type");
            if (e->t < t0 || strcmp(e->ev, "send") != 0 || !is_election_msg(type))
                continue;
            count[!strcmp(type, "ELECTION") ? 0 : !strcmp(type, "ANSWER") ? 1 : 2]++;
        }
        const struct event *e = last_view(r, i, r->node[i].life);
        if (alive_at_end(r, i) && e && e->t > agreed)
            agreed = e->t;
        following += alive_at_end(r, i) && view_of(e) == high;
    }
    int total = count[0] + count[1] + count[2];
    size_t len;
    const char *since = r->napplied ? "last fault" : "start";
    if (following == alive && alive > 0 && agreed >= t0)
        len = (size_t)snprintf(out, cap,
                               "leader %d agreed by all %d alive nodes %.0f ms after the %s", high,
                               alive, agreed - t0, since);
    else if (following == alive && alive > 0) /* the last fault changed nobody's view */
        len = (size_t)snprintf(out, cap, "leader %d agreed by all %d alive nodes before the %s",
                               high, alive, since);
    else
        len = (size_t)snprintf(out, cap,
                               "no agreement: %d of %d alive nodes follow %d, the highest alive id",
                               following, alive, high);
    if (len < cap)
        len += (size_t)snprintf(out + len, cap - len,
                                "; %d election messages (%d ELECTION, %d ANSWER, %d COORDINATOR)",
                                total, count[0], count[1], count[2]);
    /* The textbook bounds are for one crashed leader among n nodes (README, "Measured"). */
    int n = alive + 1;
    if (r->napplied && r->applied[r->napplied - 1].kind == F_CRASH && len < cap)
        snprintf(out + len, cap - len,
                 "; Bully bounds for a leader failure among n=%d: best "
                 "n-1=%d, worst (n-1)^2+n-2=%d",
                 n, n - 1, worst_case(n));
    return total;
}

/* After one crash on a loss-free network, the election may cost at most twice the textbook
 * worst case: once for the election itself, and once more for a node that a busy machine
 * descheduled past a timeout and that starts over. Beyond that, elections are being repeated
 * or answered in storms (a too-short timer, an election restarted on every message). The
 * bound, like every timer, stretches with --slow: under Valgrind 32 nodes share two cores at a
 * twentieth of their speed, every timer expires late and honest elections repeat (CI measured
 * 3555 messages, 3.6 x the worst case, from the reference). */
#define BOUND_FACTOR 2

static int message_bound(const struct run *r, int n)
{
    double slow = r->opt && r->opt->slow > 1 ? r->opt->slow : 1;
    return (int)(BOUND_FACTOR * slow * worst_case(n));
}

static void check_bully(struct run *r, struct verdict *v)
{
    check_rules(r, v);
    check_answered(r, v);
    check_suspicion(r, v);
    int high = check_final(r, v);
    int total = measure(r, high, r->info, sizeof r->info), alive = 0;
    for (int i = 0; i < r->n; i++)
        alive += alive_at_end(r, i);
    if (one_crash(r) && total > message_bound(r, alive + 1))
        verdict_fail(v, V_SAFETY,
                     "message bound: %d ELECTION/ANSWER/COORDINATOR messages after the leader's "
                     "crash, more than %d (%d x the Bully's worst case (n-1)^2+n-2=%d for n=%d%s): "
                     "elections are repeated or answered more than the algorithm needs (look at "
                     "the timers, and at what starts an election)",
                     total, message_bound(r, alive + 1), BOUND_FACTOR, worst_case(alive + 1),
                     alive + 1, r->opt && r->opt->slow > 1 ? ", times --slow" : "");
}

/* Did some node follow `who` between faults k and k+1 (k = index into applied[])? Tests use it
 * to make sure the scenario really happened (the crash was noticed, the pause was suspected). */
static bool followed_between(const struct run *r, int who, int k)
{
    double from = r->applied[k].t, to = k + 1 < r->napplied ? r->applied[k + 1].t : 1e300;
    for (int i = 0; i < r->n; i++)
        for_each_event(r, i, e) {
            if (e->t > from && e->t < to && !strcmp(e->ev, "leader") && view_of(e) == who)
                return true;
        }
    return false;
}

/* Restart and pause: between the first two faults the others must have moved to node 3. */
static void check_interim(struct run *r, struct verdict *v)
{
    check_bully(r, v);
    if (r->napplied < 2)
        verdict_fail(v, V_HARNESS, "the faults were not applied");
    else if (!followed_between(r, 3, 0))
        verdict_fail(v, V_LIVENESS,
                     "while node 4 was %s, no node elected 3: the silent "
                     "leader was never suspected",
                     r->applied[0].kind == F_PAUSE ? "stopped" : "dead");
    else
        run_info(r, "; meanwhile %s elected %d", "the others", 3);
}

/* Mid-election: say whether node 3 died during its election (timing makes it likely, not
 * certain, so this is reported rather than required). */
static void check_mid(struct run *r, struct verdict *v)
{
    check_bully(r, v);
    const struct applied_fault *k3 = run_fault(r, F_CRASH, 3), *k4 = run_fault(r, F_CRASH, 4);
    if (!k3 || !k4) {
        verdict_fail(v, V_HARNESS, "the crashes were not applied");
        return;
    }
    bool started = false, won = false;
    for_each_event(r, 3, e) {
        if (e->t > k4->t && e->t < k3->t) {
            started |= !strcmp(e->ev, "election");
            won |= started && !strcmp(e->ev, "leader") && view_of(e) == 3;
        }
    }
    run_info(r, "; node 3 killed %s (%d)",
             started && !won ? "mid-election" : "outside its election", started && !won);
}

/* ---- bad input: garbage, unknown ids, and forgeries from the ports of crashed nodes ---- */

#define NGRAB 10  /* bad datagrams from the grader's own port */
#define NFORGED 3 /* refused ones from the dead nodes' ports */

/* lab3's frame, written independently of the lab's code (README "The protocol"):
 * "BY" | version 1 | type | sender u16 | 0 u16 | round u32 | seq u32. */
static size_t frame(uint8_t *b, int version, int type, int sender, uint32_t round)
{
    memset(b, 0, 16);
    b[0] = 'B', b[1] = 'Y', b[2] = (uint8_t)version, b[3] = (uint8_t)type;
    b[4] = (uint8_t)(sender >> 8), b[5] = (uint8_t)sender;
    for (int k = 0; k < 4; k++)
        b[8 + k] = (uint8_t)(round >> (24 - 8 * k)), b[12 + k] = (uint8_t)(999999u >> (24 - 8 * k));
    return 16;
}

static int udp_socket(struct run *r, int bind_to, struct verdict *v)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd >= 0 && bind_to >= 0) {
        a.sin_port = htons((uint16_t)r->node[bind_to].port);
        if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
            verdict_fail(v, V_HARNESS, "cannot bind crashed node %d's port %d: %s", bind_to,
                         r->node[bind_to].port, strerror(errno));
            close(fd);
            return -1;
        }
    }
    if (fd < 0)
        verdict_fail(v, V_HARNESS, "socket: %s", strerror(errno));
    return fd;
}

static void send_to(int fd, struct run *r, int node, const uint8_t *b, size_t len,
                    struct verdict *v)
{
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)r->node[node].port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (sendto(fd, b, len, 0, (struct sockaddr *)&to, sizeof to) < 0)
        verdict_fail(v, V_HARNESS, "sendto node %d: %s", node, strerror(errno));
}

/* Nodes 0 and 4 are dead (the test crashed them), so their ports are free: a datagram from
 * there passes the nodes' source check and reaches the algorithm itself. */
static void inject_bad(struct run *r, int unused, struct verdict *v)
{
    (void)unused;
    int me = udp_socket(r, -1, v), low = udp_socket(r, 0, v), high = udp_socket(r, 4, v);
    uint8_t b[NGRAB][40], f[16];
    size_t len[NGRAB];
    for (int k = 1; k <= 3 && me >= 0 && low >= 0 && high >= 0; k++) {
        uint64_t x = r->seed * 2654435761u + (uint64_t)k;
        for (size_t i = 0; i < sizeof b[0]; i++, x = x * 6364136223846793005ULL + 1)
            b[0][i] = (uint8_t)(x >> 33);
        len[0] = 37;                          /* random bytes */
        len[1] = 0;                           /* empty */
        len[2] = frame(b[2], 1, 3, 3, 1) - 6; /* truncated */
        len[3] = frame(b[3], 1, 3, 3, 1) + 4; /* trailing bytes */
        memset(b[3] + 16, 0xAB, 4);
        len[4] = frame(b[4], 1, 3, 3, 1), b[4][1] = 'Z'; /* bad magic */
        len[5] = frame(b[5], 7, 3, 3, 1);                /* bad version */
        len[6] = frame(b[6], 1, 9, 3, 1);                /* bad type */
        len[7] = frame(b[7], 1, 3, 200, 1);              /* unknown id */
        len[8] = frame(b[8], 1, 3, k, 1);                /* claims to be the receiver */
        len[9] = frame(b[9], 1, 3, k == 3 ? 2 : 3, 1);   /* a real id, from the wrong port */
        for (int i = 0; i < NGRAB; i++)
            send_to(me, r, k, b[i], len[i], v);
        send_to(low, r, k, f, frame(f, 1, 3, 0, 1), v);  /* COORDINATOR from a lower id */
        send_to(low, r, k, f, frame(f, 1, 2, 0, 1), v);  /* ANSWER from a lower id */
        send_to(high, r, k, f, frame(f, 1, 1, 4, 1), v); /* ELECTION from a higher id */
        /* A COORDINATOR from the dead highest id: legal, so accepted; it never sends a
         * heartbeat or answers, and the nodes must find that out and elect 3 again. */
        send_to(high, r, k, f, frame(f, 1, 3, 4, 1), v);
    }
    if (me >= 0)
        close(me);
    if (low >= 0)
        close(low);
    if (high >= 0)
        close(high);
}

static void check_bad(struct run *r, struct verdict *v)
{
    check_bully(r, v);
    int total = 0;
    for (int i = 1; i <= 3; i++) {
        int bad = run_count(r, i, "bad");
        total += bad;
        if (bad < NGRAB + NFORGED)
            verdict_fail(v, V_SAFETY,
                         "node %d logged %d ev=bad lines for the %d bad datagrams "
                         "it was sent: some bad input was accepted or ignored silently",
                         i, bad, NGRAB + NFORGED);
    }
    if (!followed_between(r, 4, r->napplied - 1))
        verdict_fail(v, V_SAFETY,
                     "no node accepted the COORDINATOR from id 4, the highest id "
                     "(legal, even if 4 is dead): a rule rejects too much");
    run_info(r, "; %s: %d ev=bad lines", "nodes 1-3", total);
}

/* ---- --key: the group key keeps strangers out (README "Group key") ---- */

#define OUTSIDER 4 /* key-wrong-key: the highest id holds another key */

static int setup_group_key(struct run *r, struct verdict *v)
{
    return harness_write_keys(r, -1, v);
}

static int setup_outsider_key(struct run *r, struct verdict *v)
{
    return harness_write_keys(r, OUTSIDER, v);
}

/* lab3's signed frame (README "Group key"), written independently of the lab's code:
 * "BY" | 2 | type | sender u16 | to u16 | round u32 | seq u32 | stamp u64 | tag[32]. The
 * grader has no key, so the tag is bytes of its own: what a forger without the key can send. */
static size_t signed_frame(uint8_t *b, int type, int sender, int to, uint64_t stamp)
{
    frame(b, 2, type, sender, 1);
    b[6] = (uint8_t)(to >> 8), b[7] = (uint8_t)to;
    for (int k = 0; k < 8; k++)
        b[16 + k] = (uint8_t)(stamp >> (56 - 8 * k));
    for (int k = 0; k < 32; k++)
        b[24 + k] = (uint8_t)(stamp * 31 + (uint64_t)k * 131);
    return 56;
}

#define FORGED_PER_CALL 4 /* frames each alive node gets per injection below */

/* The leader (4) is dead; from its port, to every other node: a plain HEARTBEAT and
 * COORDINATOR in its name (no tag), and the same two signed with a tag not made with the group
 * key. Fresh stamps: only the tag can give them away. Called every 150 ms, faster than the
 * leader timeout, so a node that believed them would follow the dead node 4 throughout. */
static void inject_forged_leader(struct run *r, int unused, struct verdict *v)
{
    (void)unused;
    int fd = udp_socket(r, 4, v);
    uint8_t b[56];
    uint64_t stamp = harness_wall_us();
    for (int k = 0; k < 4 && fd >= 0; k++) {
        send_to(fd, r, k, b, frame(b, 1, 4, 4, 1), v);
        send_to(fd, r, k, b, frame(b, 1, 3, 4, 1), v);
        send_to(fd, r, k, b, signed_frame(b, 4, 4, k, stamp++), v);
        send_to(fd, r, k, b, signed_frame(b, 3, 4, k, stamp++), v);
    }
    if (fd >= 0)
        close(fd);
}

/* Node i's first line at or after time t that accepted node `who`: a recv from it, or a view
 * of it as leader. NULL if none. */
static const struct event *accepted_from(const struct run *r, int i, int who, double t)
{
    for_each_event(r, i, e) {
        long long from = -1;
        if (e->t < t)
            continue;
        if (!strcmp(e->ev, "recv") && event_int(e, "from", &from) && from == who)
            return e;
        if (!strcmp(e->ev, "leader") && view_of(e) == who)
            return e;
    }
    return NULL;
}

/* Nothing in the dead leader's name was believed once the forgeries began, each forgery got
 * its ev=bad why=bad-mac, and the result is still 3, the highest alive. */
static void check_forged_leader(struct run *r, struct verdict *v)
{
    char a[512];
    int calls = 0;
    double first = 0;
    check_bully(r, v);
    for (int k = 0; k < r->napplied; k++)
        if (r->applied[k].kind == F_CALL && !calls++)
            first = r->applied[k].t;
    if (!calls) {
        verdict_fail(v, V_HARNESS, "the forgeries were not sent");
        return;
    }
    for (int i = 0; i < 4; i++) {
        const struct event *e = accepted_from(r, i, 4, first);
        if (e)
            verdict_fail(v, V_SAFETY,
                         "node %d believed a frame in the dead leader 4's name without the "
                         "group key (a missing or wrong tag must be dropped, why=bad-mac): %s",
                         i, event_str(e, a, sizeof a));
        int bad = run_count_bad(r, i, "bad-mac");
        if (bad < FORGED_PER_CALL * calls)
            verdict_fail(v, V_SAFETY,
                         "node %d logged %d ev=bad why=bad-mac for the %d frames without a good "
                         "tag it was sent",
                         i, bad, FORGED_PER_CALL * calls);
    }
    run_info(r, "; %s: forged frames sent %d times", "in dead leader 4's name", calls);
}

/* Node 4 runs with another key: the group 0-3 must elect 3 and never hear 4, whose every frame
 * is a bad-mac; 4, hearing nobody, leads itself (that is its business, not the group's). */
static void check_outsider(struct run *r, struct verdict *v)
{
    char a[512];
    check_rules(r, v);
    check_answered(r, v);
    check_suspicion(r, v);
    for (int i = 0; i < OUTSIDER; i++) {
        const struct event *e = accepted_from(r, i, OUTSIDER, 0);
        long long l = view_of(last_view(r, i, r->node[i].life));
        if (e)
            verdict_fail(v, V_SAFETY,
                         "node %d believed node %d, which holds another key (its frames must be "
                         "dropped, why=bad-mac): %s",
                         i, OUTSIDER, event_str(e, a, sizeof a));
        if (l != OUTSIDER - 1)
            verdict_fail(v, l < 0 ? V_LIVENESS : V_SAFETY, /* no leader yet: stalled */
                         "agreement: node %d ended following %lld, but the highest id holding "
                         "the group key is %d",
                         i, l, OUTSIDER - 1);
        if (run_count_bad(r, i, "bad-mac") == 0)
            verdict_fail(v, V_SAFETY, "node %d logged no ev=bad why=bad-mac for node %d's frames",
                         i, OUTSIDER);
    }
    int bad = 0;
    for (int i = 0; i < OUTSIDER; i++)
        bad += run_count_bad(r, i, "bad-mac");
    snprintf(r->info, sizeof r->info,
             "nodes 0-3 (group key) logged %d ev=bad why=bad-mac; node %d holds another key", bad,
             OUTSIDER);
}

static bool until_group_stable(struct run *r, char *why, size_t cap)
{
    return stable_among(r, OUTSIDER, why, cap);
}

/* ---- the table ---- */

/* Short timeouts: heartbeat 100 ms, suspicion after 600 ms, 200 ms for an ANSWER, 800 ms for
 * the COORDINATOR. The README's classroom defaults are ten times longer. */
#define ARGS                                                                                       \
    "--id {id} --nodes {nodes} --heartbeat 100 --leader-timeout 600 --answer-timeout 200 "         \
    "--coord-timeout 800"
/* 32 nodes on two shared cores (and under Valgrind) get descheduled for hundreds of ms: slower
 * timings keep false suspicions, each of which costs an O(n^2) election, rare. */
#define ARGS32                                                                                     \
    "--id {id} --nodes {nodes} --heartbeat 200 --leader-timeout 1500 --answer-timeout 400 "        \
    "--coord-timeout 1500"
#define KEYARGS ARGS " --key {dir}/group.key"
/* Forgeries every 150 ms from 1200 to 3600 ms: four leader timeouts' worth after the crash. */
/* clang-format off */
#define FORGE(t) {t, F_CALL, 4, NULL}
/* clang-format on */
#define FORGERIES                                                                                  \
    FORGE(1200), FORGE(1350), FORGE(1500), FORGE(1650), FORGE(1800), FORGE(1950), FORGE(2100),     \
        FORGE(2250), FORGE(2400), FORGE(2550), FORGE(2700), FORGE(2850), FORGE(3000), FORGE(3150), \
        FORGE(3300), FORGE(3450), FORGE(3600)
#define AGREE "exactly one leader, the highest alive id, followed by every alive node"

/* The table reads best one test per block, so clang-format leaves it alone. */
/* clang-format off */
/* Progress: elections and views. Pings (send/recv) go on while a node is stuck, and so do a
 * stranger's rejected frames (bad); a run waits STABLE_MS in silence by design. */
static void progress(const struct run *r, struct progress_rule *p)
{
    (void)r;
    p->background = "send recv bad";
    p->stall_ms = 4 * STABLE_MS;
}

static const struct gtest tests[] = {
    {.name = "startup", .points = 10, .nodes = 5, .args = ARGS, .net = "", .until = until_stable,
     .check = check_bully, .timeout_ms = 60000,
     .what = "5 nodes start together: " AGREE ", stable for 2 s"},
    {.name = "leader-killed", .points = 15, .nodes = 5, .args = ARGS, .net = "",
     .faults = {{1000, F_CRASH, 4, NULL}}, .nfaults = 1, .until = until_stable,
     .check = check_bully, .timeout_ms = 60000,
     .what = "the leader (4) is killed: 3 is elected; " AGREE},
    {.name = "killed-mid-election", .points = 15, .nodes = 5, .args = ARGS, .net = "",
     .faults = {{1000, F_CRASH, 4, NULL}, {1650, F_CRASH, 3, NULL}}, .nfaults = 2,
     .until = until_stable, .check = check_mid, .timeout_ms = 60000,
     .what = "leader 4 killed, then 3 while it runs the election: 2 is elected; " AGREE},
    {.name = "leader-restarted", .points = 15, .nodes = 5, .args = ARGS, .net = "",
     .faults = {{1000, F_CRASH, 4, NULL}, {4000, F_RESTART, 4, NULL}}, .nfaults = 2,
     .until = until_stable, .check = check_interim, .timeout_ms = 60000,
     .what = "leader 4 killed, 3 elected, 4 restarted: it holds an election and takes over"},
    {.name = "leader-paused", .points = 15, .nodes = 5, .args = ARGS, .net = "",
     .faults = {{1000, F_PAUSE, 4, NULL}, {4000, F_RESUME, 4, NULL}}, .nfaults = 2,
     .until = until_stable, .check = check_interim, .timeout_ms = 60000,
     .what = "leader 4 stopped 3 s (falsely suspected, 3 elected), then resumed: one leader, 4"},
    {.name = "loss-20", .points = 10, .nodes = 5, .args = ARGS, .net = "drop 0.2",
     .faults = {{1500, F_CRASH, 4, NULL}}, .nfaults = 1, .until = until_stable,
     .check = check_bully, .timeout_ms = 90000,
     .what = "20% of datagrams lost, leader killed: still converges to 3; " AGREE},
    {.name = "nodes-32", .points = 10, .nodes = 32, .args = ARGS32, .net = "",
     .faults = {{3000, F_CRASH, 31, NULL}}, .nfaults = 1, .until = until_stable,
     .check = check_bully, .timeout_ms = 120000,
     .what = "32 nodes, leader 31 killed: 30 is elected; " AGREE},
    {.name = "bad-input", .points = 10, .nodes = 5, .args = ARGS, .net = "",
     .faults = {{500, F_CRASH, 0, NULL}, {500, F_CRASH, 4, NULL}, {3000, F_CALL, 1, NULL}},
     .nfaults = 3, .until = until_stable, .check = check_bad, .inject = inject_bad,
     .timeout_ms = 60000,
     .what = "garbage, unknown ids, a COORDINATOR/ANSWER from a lower id, an ELECTION from a "
             "higher one, a dead node's COORDINATOR: ev=bad or handled, and 3 still leads"},
    {.name = "key-forged-leader", .points = 10, .nodes = 5, .args = KEYARGS, .net = "",
     .faults = {{1000, F_CRASH, 4, NULL}, FORGERIES}, .nfaults = 18, .until = until_stable,
     .check = check_forged_leader, .inject = inject_forged_leader, .setup = setup_group_key,
     .timeout_ms = 60000,
     .what = "--key: leader 4 killed, then its HEARTBEATs and COORDINATORs forged from its port "
             "(no tag, a tag without the key): all dropped (bad-mac), 3 elected"},
    {.name = "key-wrong-key", .points = 10, .nodes = 5, .args = KEYARGS, .net = "",
     .until = until_group_stable, .check = check_outsider, .setup = setup_outsider_key,
     .timeout_ms = 60000,
     .what = "--key: node 4 holds another key: nodes 0-3 never believe it (bad-mac) and elect 3"},
};
/* clang-format on */

const struct lab lab3_bully = {"lab3-bully", "bully", tests, sizeof tests / sizeof *tests,
                               progress};
