/* lab6.c - lab6-wallet's grading tests: conservation from the acks, crash and replay, key
 * rotation, secrets, and an injector that sends every bad input of the issue over TCP. */
#define _GNU_SOURCE /* prlimit */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "grader.h"

#define START_CENTS 10000 /* README: every wallet starts with 100.00 */
#define SERVER 0
#define MAXW 256   /* wallets the checker tracks */
#define MAXACKS 64 /* transfers the injectors themselves make */

/* ---- what the injectors did, for the checkers (one test runs at a time) ---- */

struct injected {
    int calls;
    struct {
        char from[32], to[32];
        long long tx, cents;
    } ack[MAXACKS];
    int nacks;
    char secret[40], self_key[40], old_key[40]; /* the injector's own wallet */
    int flood_accepted, flood_refused;
    int slow_open, slow_cut, slow_refused; /* the slowloris: dials, closed, 503 */
    bool genuine_served;                   /* a new client got through */
    int genuine_tries;
    long long genuine_ms; /* from the attack's start to the genuine client's ack */
    long long attack_ms;  /* how long the attack went on */
    char probe_diff[512]; /* name-probe: two replies that tell names apart */
    int probes;
    long long armed_size; /* crash-at-write: the ledger's size when the limit was set */
    bool died_at_write;   /* crash-at-write: the server was gone before the backstop kill */
    char retry_line[256]; /* crash-at-write: the grader's transfer, sent again after restart */
    bool retried;
    bool trickle_ran, trickle_cut; /* slowloris: one slow line with free slots */
};
static struct injected inj;

static int reset_injected(struct run *r, struct verdict *v)
{
    (void)r, (void)v;
    memset(&inj, 0, sizeof inj);
    return 0;
}

/* ---- recomputing every balance from the acknowledged transfers ---- */

struct tx {
    long long id, cents;
    const char *from, *to, *req;
    const struct event *e; /* NULL for the injector's own */
};

struct wallets {
    int n;
    char name[MAXW][32];
    long long dumped, computed[MAXW], server[MAXW];
    bool seen[MAXW];
};

static int wallet_index(struct wallets *w, const char *name)
{
    for (int i = 0; i < w->n; i++)
        if (!strcmp(w->name[i], name))
            return i;
    return -1;
}

/* Transfer id order (the ledger's); a retried request, acknowledged twice, ends adjacent. */
static int by_id(const void *a, const void *b)
{
    const struct tx *x = a, *y = b;
    int c = strcmp(x->from, y->from);
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return c ? c : strcmp(x->req, y->req);
}

static bool same_request(const struct tx *t, int k)
{
    return k > 0 && t[k].id == t[k - 1].id && !strcmp(t[k].from, t[k - 1].from) &&
           !strcmp(t[k].req, t[k - 1].req);
}

/* The balances node 0 printed when it stopped (its last life). False if it printed none. */
static bool read_dump(struct run *r, struct wallets *w, struct verdict *v)
{
    const struct nodelog *nl = &r->node[SERVER];
    bool stats = false;
    w->n = 0;
    for (int j = 0; j < nl->n; j++) {
        const struct event *e = &nl->ev[j];
        long long cents;
        const char *name = event_get(e, "name");
        if (e->life != nl->life)
            continue;
        stats |= !strcmp(e->ev, "stats");
        if (strcmp(e->ev, "wallet") || !name || !event_int(e, "cents", &cents))
            continue;
        if (w->n == MAXW) {
            verdict_fail(v, V_HARNESS, "more than %d wallets: the checker cannot follow", MAXW);
            return false;
        }
        snprintf(w->name[w->n], sizeof w->name[0], "%s", name);
        w->server[w->n] = cents;
        w->computed[w->n++] = START_CENTS;
    }
    if (!stats || w->n == 0)
        verdict_fail(v, V_LIVENESS,
                     "the server printed no balances (ev=wallet) and no ev=stats "
                     "when it was stopped: nothing to check the money against");
    return stats && w->n > 0;
}

/* Every ev=ack of every client (all lives), plus the injector's own transfers. */
static struct tx *collect_acks(struct run *r, int *n)
{
    int cap = inj.nacks + 1;
    for (int i = 1; i < r->n; i++)
        cap += run_count(r, i, "ack");
    struct tx *t = calloc((size_t)cap, sizeof *t);
    *n = 0;
    for (int i = 1; t && i < r->n; i++)
        for_each_event(r, i, e) {
            struct tx x = {.e = e,
                           .from = event_get(e, "from"),
                           .to = event_get(e, "to"),
                           .req = event_get(e, "req")};
            if (strcmp(e->ev, "ack") || !x.from || !x.to || !x.req || !event_int(e, "tx", &x.id) ||
                !event_int(e, "cents", &x.cents))
                continue;
            t[(*n)++] = x;
        }
    for (int k = 0; t && k < inj.nacks; k++)
        t[(*n)++] = (struct tx){inj.ack[k].tx, inj.ack[k].cents, inj.ack[k].from,
                                inj.ack[k].to, "injector",       NULL};
    if (t)
        qsort(t, (size_t)*n, sizeof *t, by_id);
    return t;
}

static const char *show(const struct tx *x, char *buf, size_t cap)
{
    if (x->e)
        return event_str(x->e, buf, cap);
    snprintf(buf, cap, "the grader's own transfer tx=%lld %s -> %s %lld cents", x->id, x->from,
             x->to, x->cents);
    return buf;
}

/* The same transfer id acknowledged for two requests means one was lost or numbered twice;
 * one request acknowledged as two transfers means it was applied twice. */
static bool check_ids(struct tx *t, int n, struct verdict *v)
{
    char a[512], b[512];
    for (int k = 1; k < n; k++) {
        if (t[k].id != t[k - 1].id || same_request(t, k))
            continue; /* a retry answered "dup" is the same transfer, acknowledged again */
        verdict_fail(v, V_SAFETY,
                     "two different transfers were acknowledged with the same id "
                     "tx=%lld: the server lost one (not in its ledger after a restart?) or "
                     "numbered two transfers alike without its lock\n      %s\n      %s",
                     t[k].id, show(&t[k - 1], a, sizeof a), show(&t[k], b, sizeof b));
        return false;
    }
    for (int k = 0; k < n; k++)
        for (int m = k + 1; m < n && t[k].e; m++)
            if (t[m].e && t[m].id != t[k].id && !strcmp(t[k].req, t[m].req) &&
                !strcmp(t[k].from, t[m].from)) {
                verdict_fail(v, V_SAFETY,
                             "request %s was applied twice (tx=%lld and tx=%lld): "
                             "a retry must get the first answer\n      %s\n      %s",
                             t[k].req, t[k].id, t[m].id, show(&t[k], a, sizeof a),
                             show(&t[m], b, sizeof b));
                return false;
            }
    return true;
}

/* Every balance from the acknowledged transfers, compared with what the server printed at
 * stop; the first wallet that differs is named (a lost update). Then the transfer ids, then
 * the acks replayed in id order (the ledger's): nobody may go below zero. */
static bool compare_balances(struct wallets *w, const struct tx *t, int n, struct verdict *v)
{
    char a[512];
    for (int k = 0; k < n; k++) {
        if (same_request(t, k))
            continue;
        int f = wallet_index(w, t[k].from), to = wallet_index(w, t[k].to);
        if (f < 0 || to < 0) {
            verdict_fail(v, V_SAFETY,
                         "an acknowledged transfer names a wallet the server does "
                         "not list at stop: %s",
                         show(&t[k], a, sizeof a));
            return false;
        }
        w->computed[f] -= t[k].cents, w->computed[to] += t[k].cents;
    }
    for (int i = 0; i < w->n; i++)
        if (w->server[i] != w->computed[i]) {
            verdict_fail(v, V_SAFETY,
                         "lost update: wallet %s holds %lld cents at stop "
                         "(ev=wallet) but the %d acknowledged transfers give %lld (%+lld): an "
                         "update was lost, or a transfer was applied without an "
                         "acknowledgement. Does every transfer hold the lock from the balance "
                         "check to the write?",
                         w->name[i], w->server[i], n, w->computed[i],
                         w->server[i] - w->computed[i]);
            return false;
        }
    return true;
}

static void check_negative(struct wallets *w, const struct tx *t, int n, struct verdict *v)
{
    char a[512];
    for (int i = 0; i < w->n; i++)
        w->computed[i] = START_CENTS;
    for (int k = 0; k < n; k++) {
        int f = wallet_index(w, t[k].from), to = wallet_index(w, t[k].to);
        if (same_request(t, k) || f < 0 || to < 0)
            continue;
        w->computed[f] -= t[k].cents, w->computed[to] += t[k].cents;
        if (w->computed[f] < 0) {
            verdict_fail(v, V_SAFETY,
                         "no negative balance: wallet %s goes to %lld cents at "
                         "tx=%lld, replaying the acknowledged transfers in id order: the funds "
                         "check and the debit were not atomic\n      %s",
                         t[k].from, w->computed[f], t[k].id, show(&t[k], a, sizeof a));
            return;
        }
    }
}

static void check_balances(struct run *r, struct verdict *v)
{
    static struct wallets w;
    int n = 0;
    if (!read_dump(r, &w, v))
        return;
    struct tx *t = collect_acks(r, &n);
    if (!t) {
        verdict_fail(v, V_HARNESS, "out of memory");
        return;
    }
    long long total = 0;
    for (int i = 0; i < w.n; i++)
        total += w.server[i];
    if (compare_balances(&w, t, n, v) && check_ids(t, n, v))
        check_negative(&w, t, n, v);
    if (total != (long long)w.n * START_CENTS)
        verdict_fail(v, V_SAFETY,
                     "money not conserved: %d wallets hold %lld cents at stop, not "
                     "%d x %d = %lld",
                     w.n, total, w.n, START_CENTS, (long long)w.n * START_CENTS);
    snprintf(r->info, sizeof r->info,
             "%d wallets, %lld cents in total, %d acknowledged "
             "transfers (%lld transfer ids)",
             w.n, total, n, n ? t[n - 1].id : 0LL);
    free(t);
}

static int count_after(struct run *r, const char *ev, double t0)
{
    int c = 0;
    for (int i = 1; i < r->n; i++)
        for_each_event(r, i, e)
            c += !strcmp(e->ev, ev) && e->t > t0;
    return c;
}

/* The run ends when every client has printed ev=done (the server never does). */
static bool clients_done(struct run *r, char *why, size_t cap)
{
    for (int i = 1; i < r->n; i++) {
        const struct nodelog *nl = &r->node[i];
        bool done = false;
        for (int j = nl->n - 1; j >= 0 && nl->ev[j].life == nl->life && !done; j--)
            done = !strcmp(nl->ev[j].ev, "done");
        if (!done) {
            snprintf(why, cap, "client %d has not printed ev=done (%d events so far)", i, nl->n);
            return false;
        }
    }
    return true;
}

/* ---- test 1: fifty clients ---- */

static void check_conserved(struct run *r, struct verdict *v)
{
    check_balances(r, v);
    int acks = 0, refused = 0;
    for (int i = 1; i < r->n; i++)
        acks += run_count(r, i, "ack"), refused += run_count(r, i, "refused");
    run_info(r, "; %d refused (insufficient funds etc.)", refused);
    if (acks == 0)
        verdict_fail(v, V_LIVENESS, "no transfer was acknowledged: nothing to check");
}

/* ---- test 2: kill -9 the server under load ---- */

#define TORN_RECORD "T 999999 c1 c2 5 torn-by-grader #0000" /* no newline: cut by a crash */

/* Between the crash and the restart: a power cut in the middle of a write (README "The
 * ledger"): half a record at the end of node 0's ledger. */
static void inject_torn(struct run *r, int node, struct verdict *v)
{
    char path[700];
    snprintf(path, sizeof path, "%s/node%d/ledger.log", r->dir, node);
    FILE *f = fopen(path, "a");
    if (!f || fputs(TORN_RECORD, f) < 0 || fclose(f) != 0)
        verdict_fail(v, V_HARNESS, "cannot append a torn record to %s: %s", path, strerror(errno));
}

/* Every transfer acknowledged before the server died (at the latest at crash->t) is replayed
 * by the restarted server, the torn record is reported, the money adds up, and the clients
 * made progress on both sides of the crash. */
/* The highest transfer id any client acknowledged before time t, and that ack. */
static long long max_acked_before(struct run *r, double t, const struct event **last)
{
    long long maxtx = 0;
    for (int i = 1; i < r->n; i++)
        for_each_event(r, i, e) {
            long long tx;
            if (!strcmp(e->ev, "ack") && e->t < t && event_int(e, "tx", &tx) && tx > maxtx)
                maxtx = tx, *last = e;
        }
    return maxtx;
}

/* Each restarted life of the server replays every transfer acknowledged before it replayed:
 * its ev=replayed is printed before it serves anyone, so an ack with an earlier t was answered
 * by an earlier life (the same CLOCK_MONOTONIC; no grader clock read is involved). Returns the
 * first life's numbers for the summary. */
static void check_replayed(struct run *r, long long *replayed1, long long *maxtx1,
                           struct verdict *v)
{
    char a[512];
    *replayed1 = -1, *maxtx1 = 0;
    for (int j = 0; j < r->node[SERVER].n; j++) {
        const struct event *e = &r->node[SERVER].ev[j], *last = NULL;
        long long replayed;
        if (e->life == 0 || strcmp(e->ev, "replayed") || !event_int(e, "transfers", &replayed))
            continue;
        long long maxtx = max_acked_before(r, e->t, &last);
        if (e->life == 1)
            *replayed1 = replayed, *maxtx1 = maxtx;
        if (replayed < maxtx) {
            verdict_fail(v, V_SAFETY,
                         "durability: transfer tx=%lld was acknowledged before the server was "
                         "killed but the restarted server (life %d) replayed only %lld "
                         "transfers: the reply went out before its record was in the ledger "
                         "(or it never was)\n      %s",
                         maxtx, e->life, replayed, event_str(last, a, sizeof a));
            return;
        }
    }
    if (*replayed1 < 0)
        verdict_fail(v, V_SAFETY, "the restarted server printed no ev=replayed transfers=");
}

/* Every transfer acknowledged before the server died is replayed by every later life, the
 * torn record is reported, the money adds up, and the clients made progress on both sides of
 * the crash. */
static void check_durable(struct run *r, const struct applied_fault *crash,
                          const struct applied_fault *restart, struct verdict *v)
{
    long long replayed, maxtx;
    bool torn = false;
    for_each_event(r, SERVER, e)
        torn |= e->life == 1 && !strcmp(e->ev, "torn");
    check_replayed(r, &replayed, &maxtx, v);
    if (!torn)
        verdict_fail(v, V_SAFETY,
                     "the grader left a torn last record in the ledger (\"%s\", "
                     "no newline) while the server was down; the restarted server did not "
                     "report it with ev=torn",
                     TORN_RECORD);
    check_balances(r, v); /* after: a lost acknowledged transfer is named as such first */
    int before = 0;
    for (int i = 1; i < r->n; i++)
        for_each_event(r, i, e)
            before += !strcmp(e->ev, "ack") && e->t < crash->t;
    int after = count_after(r, "ack", restart->t);
    if (before == 0 || after == 0)
        verdict_fail(v, V_LIVENESS,
                     "the crash did not happen under load: %d transfers "
                     "acknowledged before it, %d after the restart (the clients must "
                     "reconnect with backoff and go on)",
                     before, after);
    run_info(r,
             "; %d acks before the crash (up to tx=%lld), "
             "%lld replayed, %d acks after the restart",
             before, maxtx, replayed, after);
}

static void check_crash(struct run *r, struct verdict *v)
{
    const struct applied_fault *crash = run_fault(r, F_CRASH, SERVER);
    const struct applied_fault *restart = run_fault(r, F_RESTART, SERVER);
    if (!crash || !restart)
        verdict_fail(v, V_HARNESS, "the crash and restart of the server were not applied");
    else
        check_durable(r, crash, restart, v);
}

/* ---- a tiny TCP client for the injectors ---- */

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* One reply line into out (no newline); "" on EOF or after wait_ms. */
static const char *read_reply(int fd, char *out, size_t cap, int wait_ms)
{
    size_t got = 0;
    while (got < cap - 1) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, wait_ms) <= 0 || recv(fd, out + got, 1, 0) != 1 || out[got] == '\n')
            break;
        got++;
    }
    out[got] = '\0';
    return out;
}

static const char *ask(int fd, const void *bytes, size_t len, char *out, size_t cap, int wait)
{
    if (send(fd, bytes, len, MSG_NOSIGNAL) != (ssize_t)len) {
        out[0] = '\0';
        return out;
    }
    return read_reply(fd, out, cap, wait);
}

static int wait_ms(struct run *r)
{
    return (int)(20000 * r->opt->slow); /* generous: a Valgrind server on a loaded machine */
}

/* Send a line; the reply must start with want, else fail with what was sent and got. */
static bool expect(struct run *r, int fd, const char *what, const void *bytes, size_t len,
                   const char *want, struct verdict *v, char *got, size_t cap)
{
    ask(fd, bytes, len, got, cap, wait_ms(r));
    if (!strncmp(got, want, strlen(want)))
        return true;
    verdict_fail(v, V_SAFETY,
                 "bad input not answered as documented (%s):\n      sent: %.*s"
                 "\n      got:  \"%s\"\n      want: \"%s ...\" (README \"The protocol\")",
                 what, len > 120 ? 120 : (int)len - (((const char *)bytes)[len - 1] == '\n'),
                 (const char *)bytes, got, want);
    return false;
}

/* A connection the server serves (not refused as full): retried for a while, since the
 * server may still be closing the connections the flood left. */
static int dial_served(struct run *r, struct verdict *v)
{
    char got[256];
    for (int tries = 0; tries < 200; tries++) {
        int fd = dial(r->node[SERVER].port);
        if (fd >= 0 && !strcmp(ask(fd, "PING\n", 5, got, sizeof got, wait_ms(r)), "OK pong"))
            return fd;
        if (fd >= 0)
            close(fd);
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    verdict_fail(v, V_SAFETY, "the server stopped answering PING on new connections");
    return -1;
}

/* REGISTER name: secret and key into inj (or fail). */
static bool register_as(struct run *r, int fd, const char *name, struct verdict *v)
{
    char line[64], got[256];
    snprintf(line, sizeof line, "REGISTER %s\n", name);
    if (!expect(r, fd, "register", line, strlen(line), "OK ", v, got, sizeof got))
        return false;
    if (sscanf(got, "OK %39s %39s", inj.secret, inj.self_key) == 2)
        return true;
    verdict_fail(v, V_SAFETY, "REGISTER reply is not \"OK <secret> <key> <expires_in>\": %s", got);
    return false;
}

static bool key_of(struct run *r, int fd, const char *name, char *key, int *expires,
                   struct verdict *v)
{
    char line[64], got[256];
    snprintf(line, sizeof line, "KEY %s\n", name);
    if (expect(r, fd, "key", line, strlen(line), "OK ", v, got, sizeof got) &&
        sscanf(got, "OK %39s %d", key, expires) == 2)
        return true;
    verdict_fail(v, V_SAFETY, "KEY %s: not \"OK <key> <expires_in>\": %s", name, got);
    return false;
}

/* key_of(), with at least a second of the key's life left. Keys expire at each multiple of
 * --rotate-every (whole seconds; expires_in says 1 when less than a second is left), so a key
 * fetched just before that is refused as expired-key a moment later: a memcheck server took
 * long enough over the lines before the self-transfer that its key, from the registration,
 * had rotated (410 where 409 was wanted). */
static bool fresh_key(struct run *r, int fd, const char *name, char *key, struct verdict *v)
{
    int expires = 0;
    for (int tries = 0; tries < 3; tries++) {
        if (!key_of(r, fd, name, key, &expires, v))
            return false;
        if (expires >= 2)
            return true;
        struct timespec ts = {expires, 300 * 1000000L}; /* into the next period */
        nanosleep(&ts, NULL);
    }
    return true;
}

/* ---- test 3: the server dies exactly at its next ledger write ---- */

/* A kill at a fixed time almost never lands between a reply and the write of its record (the
 * window is microseconds), so this test makes the kernel kill the server at the write itself:
 * its file-size limit (RLIMIT_FSIZE, set from outside with prlimit) becomes the ledger's size,
 * and the first write that would grow the file gets SIGXFSZ, whose default action ends the
 * process before a single byte is written. A server that replies only after the write has sent
 * nothing for that transfer; one that replied first has acknowledged a transfer the ledger
 * will never hold. No flag or library in the server is needed: any implementation that
 * appends to a file meets it. */
static void arm_write_kill(struct run *r, int node, struct verdict *v)
{
    struct nodelog *nl = &r->node[node];
    char path[700];
    struct stat st;
    snprintf(path, sizeof path, "%s/node%d/ledger.log", r->dir, node);
    if (nl->pid <= 0 || stat(path, &st) < 0) {
        verdict_fail(v, V_HARNESS, "cannot arm the kill at the write: server %s, %s: %s",
                     nl->pid > 0 ? "running" : "not running", path, strerror(errno));
        return;
    }
    struct rlimit size = {(rlim_t)st.st_size, (rlim_t)st.st_size}, core = {0, 0};
    nl->killed_by_us = true; /* SIGXFSZ is the grader's kill, not a crash of the server */
    if (prlimit(nl->pid, RLIMIT_CORE, &core, NULL) < 0 ||
        prlimit(nl->pid, RLIMIT_FSIZE, &size, NULL) < 0)
        verdict_fail(v, V_HARNESS, "prlimit(server pid %d): %s", (int)nl->pid, strerror(errno));
    inj.armed_size = (long long)st.st_size;
}

/* The grader's own transfer, before the kill (first) and again after the restart (retry):
 * the retry must get the first answer with " dup" (the request id table comes back from the
 * ledger), and must not be applied again. */
static void retry_transfer(struct run *r, bool retry, struct verdict *v)
{
    char got[256], key1[40];
    int expires;
    long long tx = 0;
    int fd = dial_served(r, v);
    if (fd < 0)
        return;
    if (!retry && (!register_as(r, fd, "grader", v) || !key_of(r, fd, "c1", key1, &expires, v))) {
        close(fd);
        return;
    }
    if (!retry)
        snprintf(inj.retry_line, sizeof inj.retry_line, "SEND grader %s k1 %s 100\n", inj.secret,
                 key1);
    if (!expect(r, fd,
                retry ? "a retry after the restart of a transfer acknowledged before it"
                      : "the grader's transfer",
                inj.retry_line, strlen(inj.retry_line), "OK ", v, got, sizeof got) ||
        sscanf(got, "OK %lld", &tx) != 1) {
        close(fd);
        return;
    }
    if (!retry) {
        inj.ack[0].tx = tx, inj.ack[0].cents = 100, inj.nacks = 1;
        snprintf(inj.ack[0].from, sizeof inj.ack[0].from, "grader");
        snprintf(inj.ack[0].to, sizeof inj.ack[0].to, "c1");
    } else {
        size_t n = strlen(got);
        inj.retried = true;
        if (tx != inj.ack[0].tx || n < 4 || strcmp(got + n - 4, " dup") != 0)
            verdict_fail(v, V_SAFETY,
                         "exactly once across a restart: the grader's transfer was acknowledged "
                         "as tx=%lld before the kill; the same request (same request id) sent "
                         "after the restart got \"%s\", not \"OK %lld ... dup\". Does replay "
                         "rebuild the table of applied request ids?",
                         inj.ack[0].tx, got, inj.ack[0].tx);
    }
    close(fd);
}

/* F_CALL 1: the grader's transfer, then arm; F_CALL 2 (the backstop F_CRASH follows): note
 * whether the server died at its write; F_CALL 3 (the server is down): tear the last record,
 * as test 2 does; F_CALL 4 (restarted): retry the grader's transfer. */
static void inject_at_write(struct run *r, int node, struct verdict *v)
{
    int call = inj.calls++;
    if (call == 0) {
        retry_transfer(r, false, v);
        arm_write_kill(r, node, v);
    } else if (call == 1) {
        inj.died_at_write = r->node[node].pid <= 0;
    } else if (call == 2) {
        inject_torn(r, node, v);
    } else {
        retry_transfer(r, true, v);
    }
}

static void check_at_write(struct run *r, struct verdict *v)
{
    const struct applied_fault *crash = run_fault(r, F_CRASH, SERVER);
    const struct applied_fault *restart = run_fault(r, F_RESTART, SERVER);
    if (!crash || !restart) {
        verdict_fail(v, V_HARNESS, "the crash and restart of the server were not applied");
        return;
    }
    check_durable(r, crash, restart, v);
    run_info(r,
             "; the server %s (ledger %lld bytes when armed); the grader's retry after the "
             "restart %s",
             inj.died_at_write ? "died at its next ledger write"
                               : "made no ledger write within 1 s: killed then",
             inj.armed_size, inj.retried ? "was answered" : "did not run");
}

/* ---- test 5: only the owner can spend ---- */

/* Send line (a transfer of cents from mallory to payee); on OK record it as the injector's ack. */
static bool owner_pays(struct run *r, int fd, const char *what, const char *line, long long cents,
                       const char *payee, struct verdict *v)
{
    char got[256];
    if (inj.nacks == MAXACKS ||
        !expect(r, fd, what, line, strlen(line), "OK ", v, got, sizeof got) ||
        sscanf(got, "OK %lld", &inj.ack[inj.nacks].tx) != 1)
        return false;
    snprintf(inj.ack[inj.nacks].from, sizeof inj.ack[0].from, "mallory");
    snprintf(inj.ack[inj.nacks].to, sizeof inj.ack[0].to, "%s", payee);
    inj.ack[inj.nacks++].cents = cents;
    return true;
}

/* The rules of a transfer the owner may make, after its first one (sent as first): a retry of
 * it is answered "dup" with the same tx, a request id reused for another amount is refused, the
 * whole balance can be sent (down to exactly 0) and then not one cent more, and a retry of that
 * one is still answered. Nobody pays mallory (the clients pay c1..c3), so its balance stays
 * what BALANCE says. */
static void owner_rules(struct run *r, int fd, const char *first, const char *key1,
                        struct verdict *v)
{
    char line[256], got[256];
    long long tx = inj.ack[inj.nacks - 1].tx, again = 0, left = -1;
    size_t n;
    if (expect(r, fd, "the same transfer again (a retry)", first, strlen(first), "OK ", v, got,
               sizeof got) &&
        (sscanf(got, "OK %lld", &again) != 1 || again != tx || (n = strlen(got)) < 4 ||
         strcmp(got + n - 4, " dup") != 0))
        verdict_fail(v, V_SAFETY,
                     "exactly once: a retry of an acknowledged transfer (same request id m4) "
                     "got \"%s\", not the first answer \"OK %lld ... dup\"",
                     got, tx);
    snprintf(line, sizeof line, "SEND mallory %s m4 %s 101\n", inj.secret, key1);
    expect(r, fd, "a request id reused for another amount", line, strlen(line),
           "ERR 409 reqid-reused", v, got, sizeof got);
    snprintf(line, sizeof line, "BALANCE mallory %s\n", inj.secret);
    if (!expect(r, fd, "the owner's balance", line, strlen(line), "OK ", v, got, sizeof got) ||
        sscanf(got, "OK %lld", &left) != 1 || left <= 0)
        return;
    char key[40];
    int expires;
    if (!key_of(r, fd, "c1", key, &expires, v)) /* fresh: key1 may have rotated since */
        return;
    snprintf(line, sizeof line, "SEND mallory %s m5 %s %lld\n", inj.secret, key, left);
    if (!owner_pays(r, fd, "sending the whole balance", line, left, "c1", v))
        return;
    snprintf(line, sizeof line, "SEND mallory %s m6 %s 1\n", inj.secret, key);
    expect(r, fd, "one cent more than the balance (now 0)", line, strlen(line),
           "ERR 402 insufficient-funds", v, got, sizeof got);
    /* a retry is answered even when the money is gone: idempotency comes before funds */
    snprintf(line, sizeof line, "SEND mallory %s m5 %s %lld\n", inj.secret, key, left);
    expect(r, fd, "a retry of the transfer that emptied the wallet", line, strlen(line), "OK ", v,
           got, sizeof got);
}

static void inject_thief(struct run *r, int node, struct verdict *v)
{
    char line[256], got[256], key1[40];
    int expires;
    (void)node;
    int fd = dial_served(r, v);
    if (fd < 0)
        return;
    if (!register_as(r, fd, "mallory", v) || !key_of(r, fd, "c1", key1, &expires, v)) {
        close(fd);
        return;
    }
    const char *stranger = "0123456789abcdef0123456789abcdef";
    snprintf(line, sizeof line, "SEND c1 %s m1 %s 5000\n", inj.secret, inj.self_key);
    expect(r, fd, "another wallet's secret", line, strlen(line), "ERR 403 wrong-secret", v, got,
           sizeof got);
    snprintf(line, sizeof line, "SEND c1 %s m2 %s 5000\n", stranger, inj.self_key);
    expect(r, fd, "a guessed secret", line, strlen(line), "ERR 403 wrong-secret", v, got,
           sizeof got);
    snprintf(line, sizeof line, "BALANCE c1 %s\n", inj.secret);
    expect(r, fd, "reading another wallet", line, strlen(line), "ERR 403 wrong-secret", v, got,
           sizeof got);
    snprintf(line, sizeof line, "SEND nobody %s m3 %s 5\n", stranger, key1);
    expect(r, fd, "a wallet that does not exist", line, strlen(line), "ERR 403 wrong-secret", v,
           got, sizeof got);
    /* and the owner, with the right secret, can: the control case */
    snprintf(line, sizeof line, "SEND mallory %s m4 %s 100\n", inj.secret, key1);
    if (owner_pays(r, fd, "the owner's own transfer", line, 100, "c1", v))
        owner_rules(r, fd, line, key1, v);
    close(fd);
}

static void check_secret(struct run *r, struct verdict *v)
{
    check_balances(r, v);
    if (inj.nacks == 0)
        verdict_fail(v, V_SAFETY,
                     "the owner's own transfer (mallory -> c1, right secret) was "
                     "not acknowledged");
    int bad = run_count_bad(r, SERVER, "wrong-secret");
    if (bad < 4)
        verdict_fail(v, V_SAFETY,
                     "the server logged %d ev=bad why=wrong-secret for the 4 "
                     "spending attempts without the owner's secret",
                     bad);
}

/* ---- test 4: key rotation ---- */

static void check_rotation(struct run *r, struct verdict *v)
{
    check_balances(r, v);
    const struct nodelog *nl = &r->node[2];
    char a[512];
    const char *first = NULL;
    const struct event *refused = NULL, *acked = NULL;
    for (int j = 0; j < nl->n; j++) {
        const struct event *e = &nl->ev[j];
        const char *name = event_get(e, "name"), *key = event_get(e, "key");
        const char *why = event_get(e, "why");
        if (!first && !strcmp(e->ev, "key") && name && !strcmp(name, "c1"))
            first = key;
        if (first && key && !strcmp(key, first) && !strcmp(e->ev, "ack")) {
            verdict_fail(v, V_SAFETY,
                         "the old key of c1 was accepted after it rotated "
                         "(--rotate-every 3, wait-rotation waited it out):\n      %s",
                         event_str(e, a, sizeof a));
            return;
        }
        if (first && key && !strcmp(key, first) && !strcmp(e->ev, "refused"))
            refused = e;
        if (refused && !strcmp(e->ev, "ack") && key && strcmp(key, first) != 0)
            acked = e;
        (void)why;
    }
    const char *why = refused ? event_get(refused, "why") : NULL;
    if (!first)
        verdict_fail(v, V_LIVENESS, "client 2 never got c1's key (ev=key name=c1)");
    else if (!refused || !why || strcmp(why, "expired-key") != 0)
        verdict_fail(v, V_SAFETY,
                     "the old key %s of c1, used after the rotation, was not "
                     "refused with expired-key%s%s",
                     first, refused ? ": " : "", refused ? event_str(refused, a, sizeof a) : "");
    else if (!acked)
        verdict_fail(v, V_SAFETY,
                     "after the rotation, the new key of c1 was not accepted: no "
                     "ev=ack with a key other than %s",
                     first);
}

/* ---- test 6: every bad input, and 1000 idle connections ---- */

#define FLOOD 1000
#define FLOOD_CAP 300 /* --max-conns of the bad-input test: under Valgrind's 500 threads */
#define BAD_CLIENTS 10
#define FLOOD_WAIT_MS 40000 /* at most, for the refusals: the server's idle timeout is 60 s */
#define FLOOD_QUIET_MS 2000 /* (x slow) with no new refusal: the server has accepted them all */

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max; /* the grader's own pipes and 1000 sockets */
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Open FLOOD connections and leave them idle. Each must be either served (it answers a
 * PING afterwards) or refused with ERR 503 server-full; the clients go on meanwhile. */
static void flood(struct run *r, struct verdict *v)
{
    static int fd[FLOOD];
    static bool refused[FLOOD];
    char got[256];
    raise_fd_limit();
    int opened = 0, nref = 0, want_ref = FLOOD - (FLOOD_CAP - BAD_CLIENTS);
    for (; opened < FLOOD; opened++) {
        refused[opened] = false;
        if ((fd[opened] = dial(r->node[SERVER].port)) < 0)
            break;
    }
    if (opened < FLOOD)
        verdict_fail(v, V_SAFETY,
                     "only %d of %d connections could be opened: the server "
                     "stopped accepting (%s)",
                     opened, FLOOD, strerror(errno));
    /* Refusals arrive as the server accepts: wait for as many as the cap implies, or until
     * none has come for a while (a client between connections leaves its slot to the flood:
     * CI saw 295 served, 705 refused), and never near the server's idle timeout (60 s), which
     * rightly closes an idle connection without a reply: waiting 60 s under TSan for a 710th
     * refusal that never came made six served connections look like bad refusals. */
    int limit = wait_ms(r) < FLOOD_WAIT_MS ? wait_ms(r) : FLOOD_WAIT_MS, last = 0;
    for (int waited = 0; nref < want_ref && waited < limit &&
                         waited - last < (int)(FLOOD_QUIET_MS * r->opt->slow);
         waited += 100) {
        for (int k = 0; k < opened; k++) {
            struct pollfd p = {fd[k], POLLIN, 0};
            if (refused[k] || poll(&p, 1, 0) <= 0)
                continue;
            read_reply(fd[k], got, sizeof got, 100);
            refused[k] = true, nref++, last = waited;
            if (strncmp(got, "ERR 503 server-full", 19) != 0) {
                verdict_fail(v, V_SAFETY,
                             "an idle connection over the cap got \"%s\", not "
                             "\"ERR 503 server-full ...\"",
                             got);
                waited = wait_ms(r);
                break;
            }
        }
        struct timespec ts = {0, 100 * 1000000L};
        if (nref < want_ref)
            nanosleep(&ts, NULL);
    }
    /* Then each one not refused yet: a refusal that came after the wait counts as one, else
     * it must answer a PING. */
    int served = 0;
    for (int k = 0; k < opened; k++) {
        struct pollfd p = {fd[k], POLLIN, 0};
        if (!refused[k] && poll(&p, 1, 0) > 0) {
            read_reply(fd[k], got, sizeof got, 100);
            if (strncmp(got, "ERR 503 server-full", 19) != 0) {
                verdict_fail(v, V_SAFETY,
                             "an idle connection over the cap got \"%s\", not "
                             "\"ERR 503 server-full ...\"",
                             got);
                break;
            }
            refused[k] = true, nref++;
        } else if (!refused[k] &&
                   !strcmp(ask(fd[k], "PING\n", 5, got, sizeof got, wait_ms(r)), "OK pong"))
            served++;
    }
    for (int k = 0; k < opened; k++)
        close(fd[k]);
    inj.flood_accepted = served, inj.flood_refused = nref;
    if (served + nref != opened || served == 0)
        verdict_fail(v, V_SAFETY,
                     "of %d idle connections %d were served and %d refused with "
                     "ERR 503: every connection must get one or the other",
                     opened, served, nref);
}

static void bad_lines(struct run *r, int fd, struct verdict *v)
{
    char line[512], got[256], key1[40];
    int expires;
    if (!register_as(r, fd, "grader", v) || !key_of(r, fd, "c1", key1, &expires, v))
        return;
    snprintf(inj.old_key, sizeof inj.old_key, "%s", key1);
    static const struct {
        const char *what, *amount, *want;
    } amounts[] = {{"non-numeric amount", "abc", "ERR 422 bad-amount"},
                   {"negative amount", "-5", "ERR 422 bad-amount"},
                   {"zero amount", "0", "ERR 422 bad-amount"},
                   {"overflowing amount", "99999999999999999999", "ERR 422 bad-amount"}};
    for (size_t k = 0; k < sizeof amounts / sizeof *amounts; k++) {
        snprintf(line, sizeof line, "SEND grader %s a%zu %s %s\n", inj.secret, k, key1,
                 amounts[k].amount);
        expect(r, fd, amounts[k].what, line, strlen(line), amounts[k].want, v, got, sizeof got);
    }
    snprintf(line, sizeof line, "SEND grader %s u1 0000000000000000 5\n", inj.secret);
    expect(r, fd, "unknown key", line, strlen(line), "ERR 404 unknown-key", v, got, sizeof got);
    char self_key[40];
    if (!fresh_key(r, fd, "grader", self_key, v))
        return;
    snprintf(line, sizeof line, "SEND grader %s s1 %s 5\n", inj.secret, self_key);
    expect(r, fd, "transfer to oneself", line, strlen(line), "ERR 409 self-transfer", v, got,
           sizeof got);
    if (!fresh_key(r, fd, "c1", key1, v))
        return;
    snprintf(line, sizeof line, "SEND grader ffffffffffffffffffffffffffffffff w1 %s 5\n", key1);
    expect(r, fd, "wrong secret", line, strlen(line), "ERR 403 wrong-secret", v, got, sizeof got);
    expect(r, fd, "unknown command", "HELLO\n", 6, "ERR 400 bad-command", v, got, sizeof got);
    memset(line, 'A', 300);
    line[300] = '\n';
    expect(r, fd, "a line over the 256-byte limit", line, 301, "ERR 413 line-too-long", v, got,
           sizeof got);
    unsigned char bin[64];
    for (size_t k = 0; k < sizeof bin - 1; k++)
        bin[k] = (unsigned char)(k * 37 + 128) == '\n' ? 0 : (unsigned char)(k * 37 + 128);
    bin[0] = 0, bin[sizeof bin - 1] = '\n';
    expect(r, fd, "binary garbage", bin, sizeof bin, "ERR 400 binary", v, got, sizeof got);
    expect(r, fd, "a good line after all that", "PING\n", 5, "OK pong", v, got, sizeof got);
}

static void inject_bad(struct run *r, int node, struct verdict *v)
{
    (void)node;
    if (inj.calls++ == 0) { /* first call: the flood, then every bad line */
        flood(r, v);
        int fd = dial_served(r, v);
        if (fd < 0)
            return;
        bad_lines(r, fd, v);
        close(fd);
        int half = dial(r->node[SERVER].port); /* a client that leaves in mid-line */
        if (half >= 0) {
            if (send(half, "SEND grader", 11, MSG_NOSIGNAL) != 11)
                verdict_fail(v, V_HARNESS, "send: %s", strerror(errno));
            close(half);
        }
        return;
    }
    /* second call, seconds later: the key saved in the first has rotated (--rotate-every 2) */
    char line[256], got[256], key1[40];
    int expires = 0;
    int fd = dial_served(r, v);
    if (fd < 0 || !inj.old_key[0])
        return;
    for (int tries = 0;
         tries < 3 && key_of(r, fd, "c1", key1, &expires, v) && !strcmp(key1, inj.old_key);
         tries++) {
        struct timespec ts = {expires, 300 * 1000000L}; /* not rotated yet: wait for the clock */
        nanosleep(&ts, NULL);
    }
    snprintf(line, sizeof line, "SEND grader %s e1 %s 5\n", inj.secret, inj.old_key);
    expect(r, fd, "expired key", line, strlen(line), "ERR 410 expired-key", v, got, sizeof got);
    expect(r, fd, "still serving", "PING\n", 5, "OK pong", v, got, sizeof got);
    close(fd);
}

static void check_bad(struct run *r, struct verdict *v)
{
    static const struct {
        const char *why;
        int min;
    } want[] = {{"bad-amount", 4},  {"unknown-key", 1},   {"self-transfer", 1}, {"wrong-secret", 1},
                {"bad-command", 1}, {"line-too-long", 1}, {"binary", 1},        {"partial-line", 1},
                {"expired-key", 1}, {"server-full", 1}};
    check_balances(r, v);
    for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
        int n = run_count_bad(r, SERVER, want[k].why);
        if (n < want[k].min)
            verdict_fail(v, V_SAFETY,
                         "the server logged %d ev=bad why=%s (want at least %d): "
                         "every bad input gets an ev=bad line",
                         n, want[k].why, want[k].min);
    }
    const struct applied_fault *f = run_fault(r, F_CALL, SERVER);
    if (f && count_after(r, "ack", f->t) == 0)
        verdict_fail(v, V_LIVENESS,
                     "no client transfer was acknowledged after the flood of "
                     "idle connections: the server stopped serving everyone else");
    run_info(r, "; flood: %d idle served, %d refused (cap %d)", inj.flood_accepted,
             inj.flood_refused, FLOOD_CAP);
}

/* ---- test 7: slowloris (README "Limits") ---- */

#define SLOW_CAP 40  /* --max-conns of the test */
#define SLOW_OPEN 50 /* attackers: more than the cap, so every free slot is taken */

#define SLOW_LINE_MS 1000 /* --line-timeout of the test */

/* An attacker's connection: dial and send the first byte of a line that never ends. */
static int slow_dial(struct run *r)
{
    int fd = dial(r->node[SERVER].port);
    if (fd >= 0 && send(fd, "S", 1, MSG_NOSIGNAL) != 1) {
        close(fd);
        fd = -1;
    }
    inj.slow_open += fd >= 0;
    return fd;
}

/* One round of the attack: one more byte (never a newline) on every connection; one the
 * server closed is counted as cut (or as refused, if it said 503 first) and dialled again at
 * once, as a real slowloris does, so the slots stay under pressure. */
static void slow_round(struct run *r, int *fd, int n)
{
    char got[256];
    for (int k = 0; k < n; k++) {
        struct pollfd p = {fd[k], POLLIN, 0};
        bool gone = fd[k] < 0;
        if (!gone && poll(&p, 1, 0) > 0) {
            ssize_t m = recv(fd[k], got, sizeof got - 1, 0);
            if (m > 0 && strncmp(got, "ERR 503", 7) != 0)
                continue; /* a reply to half a line? read on; the next round sees EOF */
            gone = true;
            inj.slow_refused += m > 0;
            inj.slow_cut += m <= 0;
        } else if (!gone && send(fd[k], "x", 1, MSG_NOSIGNAL) != 1) {
            gone = true;
            inj.slow_cut++;
        }
        if (gone) {
            if (fd[k] >= 0)
                close(fd[k]);
            fd[k] = slow_dial(r);
        }
    }
}

/* A new client (not one of the clients that connected before the attack): PING, register,
 * pay c1. True once its transfer is acknowledged (recorded as the injector's ack). */
static bool genuine_transfer(struct run *r, struct verdict *v)
{
    char got[256], line[256], key1[40];
    int expires;
    inj.genuine_tries++;
    int fd = dial(r->node[SERVER].port);
    if (fd < 0)
        return false;
    bool ok = !strcmp(ask(fd, "PING\n", 5, got, sizeof got, wait_ms(r)), "OK pong") &&
              register_as(r, fd, "genuine", v) && key_of(r, fd, "c1", key1, &expires, v);
    snprintf(line, sizeof line, "SEND genuine %s g1 %s 100\n", inj.secret, key1);
    if (ok &&
        expect(r, fd, "a genuine transfer during the attack", line, strlen(line), "OK ", v, got,
               sizeof got) &&
        sscanf(got, "OK %lld", &inj.ack[inj.nacks].tx) == 1) {
        snprintf(inj.ack[inj.nacks].from, sizeof inj.ack[0].from, "genuine");
        snprintf(inj.ack[inj.nacks].to, sizeof inj.ack[0].to, "c1");
        inj.ack[inj.nacks++].cents = 100;
        inj.genuine_served = true;
    }
    close(fd);
    return inj.genuine_served;
}

/* After the attack, with slots free (so nothing is evicted): one line that trickles a byte
 * every 100 ms must still be cut by --line-timeout, which counts from the line's first byte.
 * Waits up to 10 line timeouts (scaled like every wait); a 503 (slots not yet freed) redials. */
static void trickle(struct run *r)
{
    char got[256];
    long long end = (long long)mono_ms() + (long long)(10 * SLOW_LINE_MS * r->opt->slow);
    int fd = -1;
    inj.trickle_ran = true;
    while (!inj.trickle_cut && (long long)mono_ms() < end) {
        struct pollfd p = {fd, POLLIN, 0};
        if (fd < 0) {
            fd = dial(r->node[SERVER].port);
        } else if (poll(&p, 1, 0) > 0) {
            ssize_t m = recv(fd, got, sizeof got - 1, 0);
            inj.trickle_cut = m <= 0; /* closed without a reply, as documented */
            if (m > 0 && strncmp(got, "ERR 503", 7) == 0) {
                close(fd);
                fd = -1;
            }
        } else if (send(fd, "x", 1, MSG_NOSIGNAL) != 1) {
            inj.trickle_cut = true;
        }
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (fd >= 0)
        close(fd);
}

/* SLOW_OPEN connections, each sending one byte of a line every 100 ms and never its end, and
 * redialled as soon as they are closed, take every free slot; meanwhile a new client tries
 * every 100 ms. The attack goes on until the genuine client is served and the server has cut
 * as many attackers as there are slots, or wait_ms passes. */
static void inject_slowloris(struct run *r, int node, struct verdict *v)
{
    static int fd[SLOW_OPEN];
    (void)node;
    raise_fd_limit();
    for (int k = 0; k < SLOW_OPEN; k++)
        fd[k] = slow_dial(r);
    long long start = (long long)mono_ms(), end = start + wait_ms(r);
    while ((!inj.genuine_served || inj.slow_cut < SLOW_CAP) && (long long)mono_ms() < end) {
        slow_round(r, fd, SLOW_OPEN);
        if (!inj.genuine_served && genuine_transfer(r, v))
            inj.genuine_ms = (long long)mono_ms() - start;
        struct timespec ts = {0, 100 * 1000000L}; /* the attackers' pace */
        nanosleep(&ts, NULL);
    }
    inj.attack_ms = (long long)mono_ms() - start;
    for (int k = 0; k < SLOW_OPEN; k++)
        if (fd[k] >= 0)
            close(fd[k]);
    trickle(r);
}

static void check_slowloris(struct run *r, struct verdict *v)
{
    check_balances(r, v);
    if (!inj.genuine_served)
        verdict_fail(v, V_SAFETY,
                     "nobody locked out: a new client tried %d times in %d ms and was never "
                     "served (ERR 503 server-full) while %d slow connections (one byte every "
                     "100 ms, never a whole line, redialled when closed) held the slots. Does "
                     "serve() close a line that is not finished within --line-timeout, and "
                     "does a full server make room for a new client?",
                     inj.genuine_tries, (int)inj.attack_ms, SLOW_OPEN);
    if (inj.trickle_ran && !inj.trickle_cut)
        verdict_fail(v, V_SAFETY,
                     "a line that trickled one byte every 100 ms, never a newline, while the "
                     "server had free slots, was still open after %d ms (--line-timeout %d): "
                     "the line timeout counts from the line's first byte, not from the last",
                     (int)(10 * SLOW_LINE_MS * r->opt->slow), SLOW_LINE_MS);
    int logged = run_count_bad(r, SERVER, "slow-line") + run_count_bad(r, SERVER, "evicted");
    if (inj.slow_cut < SLOW_CAP)
        verdict_fail(v, V_SAFETY,
                     "in %d ms the server closed only %d slow connections (of %d dialled, %d "
                     "refused): slow lines hold slots",
                     (int)inj.attack_ms, inj.slow_cut, inj.slow_open, inj.slow_refused);
    if (logged < inj.slow_cut)
        verdict_fail(v, V_SAFETY,
                     "the server closed %d slow connections but logged %d ev=bad "
                     "why=slow-line or why=evicted: every one gets an event line",
                     inj.slow_cut, logged);
    const struct applied_fault *f = run_fault(r, F_CALL, SERVER);
    if (f && count_after(r, "ack", f->t) == 0)
        verdict_fail(v, V_LIVENESS, "no client transfer was acknowledged after the attack began");
    run_info(r,
             "; slowloris: %d dials by %d attackers, %d cut (%d slow-line, %d evicted), %d "
             "refused; a new client was %s after %lld ms (%d tries)",
             inj.slow_open, SLOW_OPEN, inj.slow_cut, run_count_bad(r, SERVER, "slow-line"),
             run_count_bad(r, SERVER, "evicted"), inj.slow_refused,
             inj.genuine_served ? "served" : "still not served",
             inj.genuine_served ? inj.genuine_ms : inj.attack_ms, inj.genuine_tries);
    run_info(r, "; a trickling line with free slots %s",
             !inj.trickle_ran  ? "was not tried"
             : inj.trickle_cut ? "was cut"
                               : "was not cut");
}

/* ---- test 8: names cannot be probed through the secret-guarded commands ---- */

/* Send a and b; their replies must be the same bytes (one tells nothing the other does not). */
static void same_reply(struct run *r, int fd, const char *a, const char *b, struct verdict *v)
{
    char ga[256], gb[256];
    ask(fd, a, strlen(a), ga, sizeof ga, wait_ms(r));
    ask(fd, b, strlen(b), gb, sizeof gb, wait_ms(r));
    inj.probes++;
    if (strncmp(ga, "ERR 403 ", 8) != 0 || strcmp(ga, gb) != 0)
        if (!inj.probe_diff[0])
            snprintf(inj.probe_diff, sizeof inj.probe_diff,
                     "\n      sent: %.*s\n      got:  \"%s\"\n      sent: %.*s\n      got:  \"%s\"",
                     (int)strlen(a) - 1, a, ga, (int)strlen(b) - 1, b, gb);
    (void)v;
}

static void inject_probe(struct run *r, int node, struct verdict *v)
{
    char a[256], b[256], key1[40];
    int expires;
    (void)node;
    int fd = dial_served(r, v);
    if (fd < 0 || !key_of(r, fd, "c1", key1, &expires, v)) {
        if (fd >= 0)
            close(fd);
        return;
    }
    const char *guess = "0123456789abcdef0123456789abcdef";
    snprintf(a, sizeof a, "BALANCE nobody %s\n", guess);
    snprintf(b, sizeof b, "BALANCE c1 %s\n", guess);
    same_reply(r, fd, a, b, v);
    snprintf(a, sizeof a, "SEND nobody %s p1 %s 5\n", guess, key1);
    snprintf(b, sizeof b, "SEND c1 %s p2 %s 5\n", guess, key1);
    same_reply(r, fd, a, b, v);
    close(fd);
}

static void check_probe(struct run *r, struct verdict *v)
{
    check_balances(r, v);
    if (inj.probes < 2)
        verdict_fail(v, V_HARNESS, "the name probe did not run (%d of 2 pairs sent)", inj.probes);
    else if (inj.probe_diff[0])
        verdict_fail(v, V_SAFETY,
                     "a stranger can tell which names exist: a name that does not exist and a "
                     "wrong secret for c1 must get the same ERR 403 wrong-secret reply "
                     "(README \"Trust model\"):%s",
                     inj.probe_diff);
}

/* ---- the table ---- */

#define SRV "--port {port} --dir {dir}"
#define CLI "--server {nodes} --id {id} --quiet --seed {seed}"
#define ROT_SCRIPT "key c1\nwait-rotation\nsend-saved c1 100\nsend c1 100\ndone\n"

/* Progress: registrations, transfers, acks; the server rotates keys on its timer
 * (--rotate-every) all along, and a rejected stranger (bad) may keep trying. */
static void progress(const struct run *r, struct progress_rule *p)
{
    (void)r;
    p->background = "rotate bad";
}

static const struct gtest tests[] = {
    {.name = "conserved-50",
     .points = 25,
     .nodes = 51,
     .bin0 = "wallet-server",
     .args0 = SRV,
     .args = CLI " --random-transfers 60 --peers 50 --hot 3 --max-cents 400",
     .net = "",
     .setup = reset_injected,
     .until = clients_done,
     .check = check_conserved,
     .timeout_ms = 120000,
     .what = "50 clients, most paying 3 hot wallets: every balance at stop equals the acked "
             "transfers replayed in id order, none negative, total 100 x wallets"},
    {.name = "crash-restart",
     .points = 12,
     .nodes = 21,
     .bin0 = "wallet-server",
     .args0 = SRV,
     .args = CLI " --random-transfers 300 --peers 20 --hot 3 --max-cents 100 --interval-ms 5",
     .net = "",
     .faults = {{500, F_CRASH, SERVER, NULL},
                {600, F_CALL, SERVER, NULL},
                {1000, F_RESTART, SERVER, NULL}},
     .nfaults = 3,
     .inject = inject_torn,
     .setup = reset_injected,
     .until = clients_done,
     .check = check_crash,
     .timeout_ms = 120000,
     .what = "kill -9 the server under load (and tear its last record): every acknowledged "
             "transfer is replayed, the torn record is reported, money conserved"},
    {.name = "crash-at-write",
     .points = 10,
     .nodes = 21,
     .bin0 = "wallet-server",
     .args0 = SRV,
     .args = CLI " --random-transfers 300 --peers 20 --hot 3 --max-cents 100 --interval-ms 5",
     .net = "",
     .faults = {{500, F_CALL, SERVER, NULL},
                {1500, F_CALL, SERVER, NULL},
                {1500, F_CRASH, SERVER, NULL},
                {1600, F_CALL, SERVER, NULL},
                {2000, F_RESTART, SERVER, NULL},
                {2100, F_CALL, SERVER, NULL},
                {3000, F_RESTART, SERVER, NULL}},
     .nfaults = 7,
     .inject = inject_at_write,
     .setup = reset_injected,
     .until = clients_done,
     .check = check_at_write,
     .timeout_ms = 120000,
     .what = "the server is killed at its next ledger write under load (SIGXFSZ from a file "
             "size limit): no transfer was acknowledged before its record was written; a "
             "retry after the restart gets the first answer (dup)"},
    {.name = "key-rotation",
     .points = 13,
     .nodes = 3,
     .bin0 = "wallet-server",
     .args0 = SRV " --rotate-every 3",
     .args = CLI " --register",
     .net = "",
     .faults = {{0, F_INPUT, 2, ROT_SCRIPT}, {0, F_INPUT, 1, "done\n"}},
     .nfaults = 2,
     .setup = reset_injected,
     .until = clients_done,
     .check = check_rotation,
     .timeout_ms = 60000,
     .what = "a key used after it rotated is refused (expired-key); the new key is accepted"},
    {.name = "wrong-secret",
     .points = 10,
     .nodes = 4,
     .bin0 = "wallet-server",
     .args0 = SRV,
     .args = CLI " --random-transfers 30 --peers 3 --interval-ms 20",
     .net = "",
     .faults = {{100, F_CALL, SERVER, NULL}},
     .nfaults = 1,
     .inject = inject_thief,
     .setup = reset_injected,
     .until = clients_done,
     .check = check_secret,
     .timeout_ms = 60000,
     .what = "spending or reading a wallet without its secret is refused (403); the owner can"},
    {.name = "bad-input",
     .points = 15,
     .nodes = 1 + BAD_CLIENTS,
     .bin0 = "wallet-server",
     .args0 = SRV " --rotate-every 2 --max-conns 300",
     .args = CLI " --random-transfers 200 --peers 10 --interval-ms 20",
     .net = "",
     .faults = {{300, F_CALL, SERVER, NULL}, {2600, F_CALL, SERVER, NULL}},
     .nfaults = 2,
     .inject = inject_bad,
     .setup = reset_injected,
     .until = clients_done,
     .check = check_bad,
     .timeout_ms = 120000,
     .what = "every bad input of the issue gets its documented error; 1000 idle connections "
             "are served or refused with 503; clients go on"},
    {.name = "slowloris",
     .points = 10,
     .nodes = 5,
     .bin0 = "wallet-server",
     .args0 = SRV " --max-conns 40 --line-timeout 1000", /* SLOW_CAP, SLOW_LINE_MS */
     .args = CLI " --random-transfers 150 --peers 4 --interval-ms 20",
     .net = "",
     .faults = {{300, F_CALL, SERVER, NULL}},
     .nfaults = 1,
     .inject = inject_slowloris,
     .setup = reset_injected,
     .until = clients_done,
     .check = check_slowloris,
     .timeout_ms = 120000,
     .what = "50 connections sending a byte every 100 ms, never a whole line, fill the "
             "slots: each is cut (ev=bad why=slow-line), a new client is served, money "
             "conserved"},
    {.name = "name-probe",
     .points = 5,
     .nodes = 3,
     .bin0 = "wallet-server",
     .args0 = SRV,
     .args = CLI " --random-transfers 30 --peers 2 --interval-ms 20",
     .net = "",
     .faults = {{100, F_CALL, SERVER, NULL}},
     .nfaults = 1,
     .inject = inject_probe,
     .setup = reset_injected,
     .until = clients_done,
     .check = check_probe,
     .timeout_ms = 60000,
     .what = "BALANCE and SEND answer a name that does not exist exactly as a wrong "
             "secret: a stranger cannot tell which names exist from them"},
};

/* The Makefile reads the next line to build the registry: it stays on one line. */
/* clang-format off */
const struct lab lab6_wallet = {"lab6-wallet", "wallet-client", tests,
                                sizeof tests / sizeof *tests, progress};
