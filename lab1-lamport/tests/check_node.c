/* check_node.c - integration tests: real lamport processes on loopback, read through pipes. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "proto.h"

#ifndef LAMPORT_BIN
#define LAMPORT_BIN "build/lamport" /* the Makefile passes $(B)/lamport */
#endif

/* Every wait gives up after this long: a hung node fails its test with a
 * message instead of hanging the run. Generous, for slow CI machines and
 * sanitizer builds; a passing test waits a fraction of a second. */
#define WAIT_MS 25000
#define MAXPROCS 3

/* ---- small helpers ---- */

/* Write a failure message into why and return false, so a step can end
 * with `return failure(...)`. */
static bool failure(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool failure(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap); /* a cut message is still a failure */
    va_end(ap);
    return false;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Keep our descriptors out of the nodes we start. */
static bool set_cloexec(int fd)
{
    int flags = fcntl(fd, F_GETFD);
    return flags >= 0 && fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == 0;
}

/* A UDP socket on 127.0.0.1 at a port the kernel picks (bind to port 0).
 * Returns the socket, or -1; *port gets the port. */
static int bind_any(int *port)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (!set_cloexec(fd) || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/* A port for a node to bind, from 5000-9999: below the grader's range (10000 up) and the kernel's
 * ephemeral one, whose ports any process's next outgoing connection may take between our pick
 * and the node's bind (make test runs suites at once; CI saw "Address already in use"). Free
 * for TCP and UDP right now; consecutive from a start spread by pid, so this process never
 * hands one out twice. */
static int quiet_port(void)
{
    static unsigned next;
    if (!next)
        next = (unsigned)getpid() * 7919u;
    for (int tries = 0; tries < 5000; tries++) {
        int port = 5000 + (int)(next++ % 5000u), ok = 1;
        for (int type = 0; type < 2 && ok; type++) {
            int fd = socket(AF_INET, type ? SOCK_DGRAM : SOCK_STREAM, 0);
            struct sockaddr_in a = {.sin_family = AF_INET,
                                    .sin_port = htons((uint16_t)port),
                                    .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
            ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
            if (fd >= 0)
                close(fd);
        }
        if (ok)
            return port;
    }
    return -1;
}

/* n distinct free ports for nodes (quiet_port). */
static bool free_ports(int n, int ports[])
{
    bool ok = true;
    for (int i = 0; i < n; i++)
        ok = (ports[i] = quiet_port()) > 0 && ok;
    return ok;
}

/* ---- what a node's event lines say ---- */

struct seen {
    int ready, done, stats, bad;
    int own;              /* ev=local and ev=send lines */
    int recv;             /* ev=recv lines */
    int clock_lines;      /* own + recv */
    int vector_lines;     /* clock lines that carry vc= */
    uint64_t last_lc;     /* lc of the latest clock line */
    uint64_t stats_bad;   /* bad= of the ev=stats line */
    char whys[512];       /* the why= of every ev=bad line, space-separated */
    char error[512];      /* the first broken rule, "" if none */
};

/* The value of key= in line (keys are whole words), copied into out. */
static bool field(const char *line, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    for (const char *p = strstr(line, key); p != NULL; p = strstr(p + 1, key)) {
        if ((p == line || p[-1] == ' ') && p[klen] == '=') {
            size_t n = strcspn(p + klen + 1, " ");
            if (n >= cap)
                return false;
            memcpy(out, p + klen + 1, n);
            out[n] = '\0';
            return true;
        }
    }
    return false;
}

static bool field_u64(const char *line, const char *key, uint64_t *out)
{
    char v[32], *end;
    if (!field(line, key, v, sizeof v) || v[0] < '0' || v[0] > '9')
        return false;
    *out = strtoull(v, &end, 10);
    return *end == '\0';
}

static void broken(struct seen *s, const char *rule, const char *line)
{
    if (s->error[0] != '\0')
        return; /* keep the first */
    int w = snprintf(s->error, sizeof s->error, "%s: %s", rule, line);
    if (w < 0 || (size_t)w >= sizeof s->error)
        memcpy(s->error + sizeof s->error - 4, "...", 4); /* cut short: say so */
}

/* In vector mode our own entry counts our events: after the k-th clock
 * event of this node, vc[node] must be k. */
static void check_own_entry(struct seen *s, const char *line)
{
    char vc[1400];
    uint64_t id;
    if (!field(line, "vc", vc, sizeof vc))
        return; /* Lamport mode */
    s->vector_lines++;
    if (!field_u64(line, "node", &id) || vc[0] != '[') {
        broken(s, "malformed vc", line);
        return;
    }
    const char *p = vc + 1;
    for (uint64_t i = 0; i < id && p != NULL; i++)
        if ((p = strchr(p, ',')) != NULL)
            p++;
    if (p == NULL || strtoull(p, NULL, 10) != (uint64_t)s->clock_lines)
        broken(s, "own vector entry is not the number of own events", line);
}

static void note_clock_event(struct seen *s, const char *line, const char *ev)
{
    uint64_t lc, ts;
    if (!field_u64(line, "lc", &lc)) {
        broken(s, "clock event without lc", line);
        return;
    }
    if (lc <= s->last_lc)
        broken(s, "lc did not increase", line);
    s->last_lc = lc;
    s->clock_lines++;
    if (strcmp(ev, "recv") == 0) {
        s->recv++;
        if (!field_u64(line, "ts", &ts) || lc <= ts)
            broken(s, "recv not above the message's ts", line);
    } else {
        s->own++;
    }
    check_own_entry(s, line);
}

static void note_line(struct seen *s, const char *line)
{
    char ev[32], why[64];
    if (strncmp(line, "node=", 5) != 0 || !field(line, "ev", ev, sizeof ev))
        return; /* not an event line */
    if (strcmp(ev, "ready") == 0) {
        s->ready++;
    } else if (strcmp(ev, "done") == 0) {
        s->done++;
    } else if (strcmp(ev, "stats") == 0) {
        s->stats++;
        if (!field_u64(line, "bad", &s->stats_bad))
            broken(s, "stats without bad=", line);
    } else if (strcmp(ev, "bad") == 0) {
        s->bad++;
        if (!field(line, "why", why, sizeof why))
            broken(s, "bad without why=", line);
        else if (strlen(s->whys) + strlen(why) + 2 < sizeof s->whys)
            strcat(strcat(s->whys, why), " ");
    } else if (strcmp(ev, "local") == 0 || strcmp(ev, "send") == 0 || strcmp(ev, "recv") == 0) {
        note_clock_event(s, line, ev);
    }
}

/* ---- child processes and their pipes ---- */

struct proc {
    pid_t pid;            /* 0 when not running (never started, or reaped) */
    int fd[2];            /* read ends of its stdout [0] and stderr [1]; -1 when closed */
    char buf[2][16384];   /* stdout and stderr text not yet consumed */
    size_t len[2];
    bool raw;             /* keep stdout as text (help, usage) instead of reading event lines */
    struct seen seen;
};

static void init_procs(struct proc *procs, int n)
{
    memset(procs, 0, (size_t)n * sizeof procs[0]);
    for (int i = 0; i < n; i++)
        procs[i].fd[0] = procs[i].fd[1] = -1;
}

/* Start lamport with argv; its stdout (and stderr if capture_stderr) come
 * back through pipes. Otherwise its stderr is ours, so a sanitizer report
 * from a node shows in the test output. */
static bool spawn(struct proc *p, char *const argv[], bool capture_stderr)
{
    int out[2], err[2] = {-1, -1};
    if (pipe(out) != 0)
        return false;
    if (capture_stderr && pipe(err) != 0) {
        close(out[0]);
        close(out[1]);
        return false;
    }
    pid_t pid = fork();
    if (pid == 0) {
#ifdef __linux__
        /* If this test process dies (a Check timeout kills it), take the node with it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
        if (dup2(out[1], 1) < 0 || (capture_stderr && dup2(err[1], 2) < 0))
            _exit(126);
        execv(LAMPORT_BIN, argv);
        _exit(127); /* exec failed: the test sees exit status 127 */
    }
    close(out[1]);
    if (capture_stderr)
        close(err[1]);
    if (pid < 0) {
        close(out[0]);
        if (capture_stderr)
            close(err[0]);
        return false;
    }
    p->pid = pid;
    p->fd[0] = out[0];
    p->fd[1] = err[0];
    return set_cloexec(out[0]) && (!capture_stderr || set_cloexec(err[0]));
}

/* Start node `id` of `nodes` with a short interval. count 0: no limit. */
static bool spawn_node(struct proc *p, int id, const char *nodes, bool vector, int count)
{
    char idstr[16], countstr[16], seedstr[16];
    snprintf(idstr, sizeof idstr, "%d", id);
    snprintf(countstr, sizeof countstr, "%d", count);
    snprintf(seedstr, sizeof seedstr, "%d", 100 + id); /* fixed seeds: a failure can be rerun */
    /* execv() wants char *const[]; it does not modify the strings. */
    char *argv[] = {"lamport", "--id", idstr, "--nodes", (char *)nodes, "--interval", "20",
                    "--send-prob", "0.6", "--count", countstr, "--seed", seedstr,
                    vector ? "--vector" : NULL, NULL};
    return spawn(p, argv, false);
}

/* Consume the complete lines of p's stdout. */
static void take_lines(struct proc *p)
{
    char *start = p->buf[0], *nl;
    size_t left = p->len[0];
    while ((nl = memchr(start, '\n', left)) != NULL) {
        *nl = '\0';
        note_line(&p->seen, start);
        left -= (size_t)(nl + 1 - start);
        start = nl + 1;
    }
    memmove(p->buf[0], start, left);
    p->len[0] = left;
}

/* One read() from pipe k of p. EOF or an error closes that pipe. */
static void read_pipe(struct proc *p, int k)
{
    char scratch[4096];
    size_t room = sizeof p->buf[k] - 1 - p->len[k];
    char *dst = room > 0 ? p->buf[k] + p->len[k] : scratch; /* full: keep draining, drop it */
    ssize_t n = read(p->fd[k], dst, room > 0 ? room : sizeof scratch);
    if (n < 0 && errno == EINTR)
        return;
    if (n <= 0) {
        close(p->fd[k]);
        p->fd[k] = -1;
        return;
    }
    if (room == 0)
        return;
    p->len[k] += (size_t)n;
    p->buf[k][p->len[k]] = '\0';
    if (k == 0 && !p->raw)
        take_lines(p);
}

typedef bool (*until_fn)(const struct proc *procs, int n);

/* Read all the pipes with poll() until until() holds, or every pipe is
 * closed, or WAIT_MS passes. Returns whether until() held. No sleeps: we
 * wake exactly when a node writes. */
static bool pump(struct proc *procs, int n, until_fn until)
{
    int64_t deadline = now_ms() + WAIT_MS;
    for (;;) {
        if (until(procs, n))
            return true;
        struct pollfd fds[2 * MAXPROCS];
        int owner[2 * MAXPROCS], nfds = 0;
        for (int i = 0; i < n; i++)
            for (int k = 0; k < 2; k++)
                if (procs[i].fd[k] >= 0) {
                    fds[nfds] = (struct pollfd){.fd = procs[i].fd[k], .events = POLLIN};
                    owner[nfds++] = 2 * i + k;
                }
        int64_t left = deadline - now_ms();
        if (nfds == 0 || left <= 0)
            return until(procs, n);
        if (poll(fds, (nfds_t)nfds, (int)left) < 0 && errno != EINTR)
            return false;
        for (int j = 0; j < nfds; j++)
            if (fds[j].revents != 0)
                read_pipe(&procs[owner[j] / 2], owner[j] % 2);
    }
}

static bool all_ready(const struct proc *procs, int n)
{
    for (int i = 0; i < n; i++)
        if (procs[i].seen.ready == 0)
            return false;
    return true;
}

static bool all_done(const struct proc *procs, int n)
{
    for (int i = 0; i < n; i++)
        if (procs[i].seen.done == 0)
            return false;
    return true;
}

static bool all_closed(const struct proc *procs, int n)
{
    for (int i = 0; i < n; i++)
        if (procs[i].fd[0] >= 0 || procs[i].fd[1] >= 0)
            return false;
    return true;
}

/* Wait for every process's output to end, then reap it. Its stdout closes
 * only when it exits, so waitpid() does not block for long. */
static bool reap_all(struct proc *procs, int n, int status[], char *why, size_t cap)
{
    if (!pump(procs, n, all_closed))
        return failure(why, cap, "output did not end within %d ms", WAIT_MS);
    for (int i = 0; i < n; i++) {
        int st;
        if (waitpid(procs[i].pid, &st, 0) != procs[i].pid)
            return failure(why, cap, "waitpid: %s", strerror(errno));
        procs[i].pid = 0;
        status[i] = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    return true;
}

/* SIGTERM every node; each must print ev=stats once and exit 0. */
static bool terminate_all(struct proc *procs, int n, char *why, size_t cap)
{
    int status[MAXPROCS];
    for (int i = 0; i < n; i++)
        if (kill(procs[i].pid, SIGTERM) != 0)
            return failure(why, cap, "kill node %d: %s", i, strerror(errno));
    if (!reap_all(procs, n, status, why, cap))
        return false;
    for (int i = 0; i < n; i++) {
        if (status[i] != 0)
            return failure(why, cap, "node %d exited with status %d after SIGTERM", i, status[i]);
        if (procs[i].seen.stats != 1)
            return failure(why, cap, "node %d printed %d ev=stats lines", i, procs[i].seen.stats);
    }
    return true;
}

/* Whatever happened, leave nothing running: kill and reap what is left. */
static void stop_all(struct proc *procs, int n)
{
    for (int i = 0; i < n; i++) {
        if (procs[i].pid > 0) {
            kill(procs[i].pid, SIGKILL);
            waitpid(procs[i].pid, NULL, 0);
            procs[i].pid = 0;
        }
        for (int k = 0; k < 2; k++)
            if (procs[i].fd[k] >= 0) {
                close(procs[i].fd[k]);
                procs[i].fd[k] = -1;
            }
    }
}

/* ---- three nodes exchange messages ---- */

static bool run_three_nodes(struct proc *procs, bool vector, char *why, size_t cap)
{
    int ports[3], recvs = 0;
    char nodes[96];
    if (!free_ports(3, ports))
        return failure(why, cap, "no free UDP ports: %s", strerror(errno));
    snprintf(nodes, sizeof nodes, "127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d", ports[0], ports[1],
             ports[2]);
    for (int i = 0; i < 3; i++)
        if (!spawn_node(&procs[i], i, nodes, vector, 15))
            return failure(why, cap, "cannot start node %d: %s", i, strerror(errno));
    if (!pump(procs, 3, all_ready))
        return failure(why, cap, "not every node printed ev=ready within %d ms", WAIT_MS);
    if (!pump(procs, 3, all_done))
        return failure(why, cap, "not every node printed ev=done within %d ms", WAIT_MS);
    if (!terminate_all(procs, 3, why, cap))
        return false;
    for (int i = 0; i < 3; i++) {
        const struct seen *s = &procs[i].seen;
        if (s->error[0] != '\0')
            return failure(why, cap, "node %d broke a rule: %s", i, s->error);
        if (s->own != 15)
            return failure(why, cap, "node %d did %d own events, not --count 15", i, s->own);
        if (s->vector_lines != (vector ? s->clock_lines : 0))
            return failure(why, cap, "node %d: %d of %d clock lines have vc=", i, s->vector_lines,
                        s->clock_lines);
        recvs += s->recv;
    }
    if (recvs == 0)
        return failure(why, cap, "no node received anything");
    return true;
}

/* _i = 0: Lamport mode, 1: vector mode. */
START_TEST(three_nodes)
{
    struct proc procs[3];
    char why[1024] = "";
    init_procs(procs, 3);
    bool ok = run_three_nodes(procs, _i == 1, why, sizeof why);
    stop_all(procs, 3);
    ck_assert_msg(ok, "%s", why);
}
END_TEST

/* ---- a node under bad input ---- */

/* A frame as node `sender` would send it. */
static size_t frame(uint8_t *buf, size_t cap, uint16_t sender, uint16_t vlen, uint64_t lc)
{
    struct lc_msg m;
    memset(&m, 0, sizeof m);
    m.kind = PROTO_KIND_CLOCK;
    m.sender = sender;
    m.seq = 1;
    m.vlen = vlen;
    m.lc = lc;
    return proto_encode(&m, buf, cap);
}

static bool send_to(int fd, int port, const void *buf, size_t len)
{
    struct sockaddr_in to;
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons((uint16_t)port);
    return sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)len;
}

/* How many times word occurs in the space-separated list. */
static int count_word(const char *list, const char *word)
{
    int n = 0;
    size_t len = strlen(word);
    for (const char *p = strstr(list, word); p != NULL; p = strstr(p + 1, word))
        if ((p == list || p[-1] == ' ') && p[len] == ' ')
            n++;
    return n;
}

/* The tokens the bad datagrams below must produce, at least this often. */
static const struct {
    const char *why;
    int times;
} expected_bad[] = {
    {"bad-magic", 1}, {"truncated", 2},     {"trailing-bytes", 1}, {"unknown-sender", 3},
    {"absurd-clock", 1}, {"vlen-mismatch", 1},
};
#define NBAD 10 /* datagrams sent by send_garbage() */

/* We play node 1 (socket me); the node under test is node 0 at port0. The
 * "forged" frames carry lc 1000000: if one got through, the clock would show it. */
static bool send_garbage(int me, int port0, char *why, size_t cap)
{
    uint8_t f[PROTO_MAX_FRAME + 1] = {0}, noise[17];
    uint32_t x = 2463534242u; /* xorshift32: fixed, so the "random" bytes are the same every run */
    for (size_t i = 0; i < sizeof noise; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        noise[i] = (uint8_t)x;
    }
    size_t n = frame(f, sizeof f, 1, 0, 5);
    bool ok = send_to(me, port0, noise, sizeof noise) &&             /* random bytes */
              send_to(me, port0, "hello, lamport: not a frame\n", 28) && /* bad-magic */
              send_to(me, port0, f, 0) &&                           /* truncated: empty */
              send_to(me, port0, f, 10) &&                          /* truncated */
              send_to(me, port0, f, n + 1) &&                       /* trailing-bytes */
              send_to(me, port0, f, frame(f, sizeof f, 9, 0, 1000000)) && /* sender out of range */
              send_to(me, port0, f, frame(f, sizeof f, 0, 0, 1000000)) && /* "from" itself */
              send_to(me, port0, f, frame(f, sizeof f, 2, 0, 1000000)) && /* node 2, from node 1's address */
              send_to(me, port0, f, frame(f, sizeof f, 1, 0, (uint64_t)1 << 60)) && /* absurd-clock */
              send_to(me, port0, f, frame(f, sizeof f, 1, 3, 1000000));  /* a vector to a Lamport node */
    return ok ? true : failure(why, cap, "sendto: %s", strerror(errno));
}

static bool got_all_bad(const struct proc *p, int n)
{
    (void)n;
    return p->seen.bad >= NBAD;
}

static int own_target; /* got_recv_and_more: own events to wait for */

static bool got_recv_and_more(const struct proc *p, int n)
{
    (void)n;
    return p->seen.recv >= 1 && p->seen.own >= own_target;
}

static bool check_whys(const struct seen *s, char *why, size_t cap)
{
    for (size_t i = 0; i < sizeof expected_bad / sizeof expected_bad[0]; i++)
        if (count_word(s->whys, expected_bad[i].why) < expected_bad[i].times)
            return failure(why, cap, "expected %d why=%s, got whys: %s", expected_bad[i].times,
                        expected_bad[i].why, s->whys);
    return true;
}

static bool run_bad_input(struct proc *p, int me, int port1, char *why, size_t cap)
{
    int ports[2];
    char nodes[96];
    uint8_t f[PROTO_MAX_FRAME];
    if (!free_ports(2, ports))
        return failure(why, cap, "no free UDP ports: %s", strerror(errno));
    snprintf(nodes, sizeof nodes, "127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d", ports[0], port1,
             ports[1]);
    if (!spawn_node(p, 0, nodes, false, 0))
        return failure(why, cap, "cannot start the node: %s", strerror(errno));
    if (!pump(p, 1, all_ready))
        return failure(why, cap, "no ev=ready within %d ms", WAIT_MS);
    if (!send_garbage(me, ports[0], why, cap))
        return false;
    if (!pump(p, 1, got_all_bad))
        return failure(why, cap, "%d of %d bad datagrams logged as ev=bad", p->seen.bad, NBAD);
    /* Still alive and well: it takes a good message from us and goes on with its own events. */
    own_target = p->seen.own + 2;
    if (!send_to(me, ports[0], f, frame(f, sizeof f, 1, 0, 5)))
        return failure(why, cap, "sendto: %s", strerror(errno));
    if (!pump(p, 1, got_recv_and_more))
        return failure(why, cap, "after the bad input: %d recv, %d own events", p->seen.recv,
                    p->seen.own);
    if (!terminate_all(p, 1, why, cap))
        return false;
    if (p->seen.error[0] != '\0')
        return failure(why, cap, "broke a rule: %s", p->seen.error);
    if (p->seen.bad != NBAD || p->seen.stats_bad != NBAD)
        return failure(why, cap, "%d ev=bad lines and stats bad=%d, want %d", p->seen.bad,
                    (int)p->seen.stats_bad, NBAD);
    if (p->seen.last_lc >= 1000)
        return failure(why, cap, "clock reached %d: a forged timestamp got through",
                    (int)p->seen.last_lc);
    return check_whys(&p->seen, why, cap);
}

START_TEST(bad_input)
{
    struct proc p;
    char why[1024] = "";
    int port1;
    int me = bind_any(&port1); /* we are node 1 */
    ck_assert_int_ge(me, 0);
    init_procs(&p, 1);
    bool ok = run_bad_input(&p, me, port1, why, sizeof why);
    stop_all(&p, 1);
    close(me);
    ck_assert_msg(ok, "%s", why);
}
END_TEST

/* ---- the command line ---- */

/* Run lamport with args, capturing both outputs; *status gets its exit status. */
static bool run_cli(struct proc *p, char *const args[], int *status, char *why, size_t cap)
{
    char *argv[16] = {"lamport"};
    for (int i = 0; args[i] != NULL && i < 14; i++)
        argv[i + 1] = args[i];
    p->raw = true;
    if (!spawn(p, argv, true))
        return failure(why, cap, "cannot start lamport: %s", strerror(errno));
    return reap_all(p, 1, status, why, cap);
}

START_TEST(help_lists_every_flag)
{
    const char *flags[] = {"--id", "--nodes", "--vector", "--interval", "--send-prob",
                           "--count", "--seed", "--help"};
    char *args[] = {"--help", NULL};
    struct proc p;
    char why[1024] = "";
    int status = -1;
    init_procs(&p, 1);
    bool ok = run_cli(&p, args, &status, why, sizeof why);
    stop_all(&p, 1);
    ck_assert_msg(ok, "%s", why);
    ck_assert_int_eq(status, 0);
    ck_assert_uint_eq(p.len[1], 0); /* nothing on stderr */
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        ck_assert_msg(strstr(p.buf[0], flags[i]) != NULL, "--help does not mention %s", flags[i]);
}
END_TEST

static char many_nodes[65 * 16]; /* filled by bad_arguments: 65 addresses */

static const struct {
    const char *what;
    char *args[8];
} bad_args[] = {
    {"unknown flag", {"--id", "0", "--bogus"}},
    {"value glued on", {"--id=0"}},
    {"stray argument", {"--id", "0", "extra"}},
    {"missing value", {"--id"}},
    {"missing --id", {"--vector"}},
    {"non-numeric id", {"--id", "zero"}},
    {"negative id", {"--id", "-1"}},
    {"id out of range", {"--id", "3"}},
    {"id out of range of --nodes", {"--nodes", "127.0.0.1:7001,127.0.0.1:7002", "--id", "2"}},
    {"interval 0", {"--id", "0", "--interval", "0"}},
    {"interval with unit", {"--id", "0", "--interval", "10ms"}},
    {"send-prob above 1", {"--id", "0", "--send-prob", "1.5"}},
    {"send-prob nan", {"--id", "0", "--send-prob", "nan"}},
    {"negative count", {"--id", "0", "--count", "-3"}},
    {"seed too big", {"--id", "0", "--seed", "18446744073709551616"}},
    {"no port", {"--id", "0", "--nodes", "127.0.0.1"}},
    {"port 0", {"--id", "0", "--nodes", "127.0.0.1:0"}},
    {"port too big", {"--id", "0", "--nodes", "127.0.0.1:65536"}},
    {"host name", {"--id", "0", "--nodes", "localhost:7001"}},
    {"empty entry", {"--id", "0", "--nodes", "127.0.0.1:7001,,127.0.0.1:7002"}},
    {"trailing comma", {"--id", "0", "--nodes", "127.0.0.1:7001,"}},
    {"duplicate address", {"--id", "0", "--nodes", "127.0.0.1:7001,127.0.0.1:7001"}},
    {"65 nodes", {"--id", "0", "--nodes", many_nodes}},
};

/* Every bad command line: exit 2, one line saying why, then the usage, all on stderr. */
START_TEST(bad_arguments)
{
    struct proc p;
    char why[1024] = "";
    int status = -1;
    size_t len = 0;
    for (int i = 0; i < 65; i++)
        len += (size_t)snprintf(many_nodes + len, sizeof many_nodes - len, "%s127.0.0.1:%d",
                                i ? "," : "", 7001 + i);
    init_procs(&p, 1);
    bool ok = run_cli(&p, bad_args[_i].args, &status, why, sizeof why);
    stop_all(&p, 1);
    ck_assert_msg(ok, "%s: %s", bad_args[_i].what, why);
    ck_assert_msg(status == 2, "%s: exit status %d, want 2", bad_args[_i].what, status);
    ck_assert_msg(p.len[0] == 0, "%s: wrote to stdout", bad_args[_i].what);
    ck_assert_msg(strncmp(p.buf[1], "lamport: ", 9) == 0, "%s: stderr: %s", bad_args[_i].what,
                  p.buf[1]);
    const char *second = strchr(p.buf[1], '\n');
    ck_assert_msg(second != NULL && strncmp(second + 1, "usage: lamport", 14) == 0,
                  "%s: no usage after one line: %s", bad_args[_i].what, p.buf[1]);
}
END_TEST

static Suite *node_suite(void)
{
    Suite *s = suite_create("node");
    TCase *run = tcase_create("processes");
    TCase *cli = tcase_create("command-line");

    /* Above WAIT_MS, so our own deadlines fire first and say what was missing. */
    tcase_set_timeout(run, 3 * WAIT_MS / 1000);
    tcase_add_loop_test(run, three_nodes, 0, 2);
    tcase_add_test(run, bad_input);
    suite_add_tcase(s, run);

    tcase_set_timeout(cli, 2 * WAIT_MS / 1000);
    tcase_add_test(cli, help_lists_every_flag);
    tcase_add_loop_test(cli, bad_arguments, 0, (int)(sizeof bad_args / sizeof bad_args[0]));
    suite_add_tcase(s, cli);
    return s;
}

/* Fork mode is Check's default (CK_FORK=no turns it off, as under valgrind). */
int main(void)
{
    SRunner *sr = srunner_create(node_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
