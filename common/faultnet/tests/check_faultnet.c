/* check_faultnet.c - Check tests for libfaultnet: a preloaded probe process sends, this process receives. */

/*
 * The library only acts inside a process it is preloaded into, so every test runs
 * tests/probe (see its header comment) with LD_PRELOAD set, and receives on real loopback
 * sockets here. This process is "node 9" in the port table; the probe's control datagrams go
 * to a port that is never in the table, so they pass through untouched and tell us when the
 * probe is done. Waits are poll() with generous timeouts; a time check is only ever a lower
 * bound, because the machine is shared.
 */
#define _GNU_SOURCE
#include "wire.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef FAULTNET_LIB
#error "build with -DFAULTNET_LIB=<absolute path of build/libfaultnet.so> (the Makefile does)"
#endif
#ifndef PROBE_PATH
#error "build with -DPROBE_PATH=<absolute path of build/probe> (the Makefile does)"
#endif

enum {
    RX_NODE = 9,           /* this process's node id in the port table */
    MAX_SEQ = 4096,
    DEADLINE_MS = 30000,   /* a whole exchange; generous for valgrind on a shared machine */
    QUIET_MS = 300,        /* after END: anything still in flight on loopback has landed */
    TCASE_TIMEOUT_S = 240,
};

/* ---------------------------------------------------------------- per-test files */

static char dir[64], conf_path[128], stats_path[128], err_path[128];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/faultnet-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(conf_path, sizeof conf_path, "%s/fault.conf", dir);
    snprintf(stats_path, sizeof stats_path, "%s/stats", dir);
    snprintf(err_path, sizeof err_path, "%s/stderr", dir);
}

static void teardown(void)
{
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", conf_path);
    const char *files[] = { conf_path, stats_path, err_path, tmp };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        (void)unlink(files[i]); /* most tests create only some of them */
    (void)rmdir(dir);
}

/* Replace the control file the way the grader does: temp file in the same directory, rename. */
__attribute__((format(printf, 1, 2))) static void write_conf(const char *fmt, ...)
{
    char tmp[160], text[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    ck_assert(n >= 0 && (size_t)n < sizeof text);
    snprintf(tmp, sizeof tmp, "%s.tmp", conf_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, (size_t)n), n);
    ck_assert_int_eq(close(fd), 0);
    ck_assert_int_eq(rename(tmp, conf_path), 0);
}

static char *slurp(const char *path)
{
    static char buf[8192];
    int fd = open(path, O_RDONLY);
    ssize_t n = fd < 0 ? 0 : read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    if (fd >= 0)
        close(fd);
    return buf;
}

/* ---------------------------------------------------------------- sockets */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int bound_socket(int type, unsigned *port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, type, 0);
    ck_assert_int_ge(fd, 0);
    int big = 4 << 20; /* the kernel caps it at rmem_max; 2000 small datagrams need room */
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big), 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    if (type == SOCK_STREAM)
        ck_assert_int_eq(listen(fd, 8), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* ---------------------------------------------------------------- the probe process */

struct probe {
    pid_t pid;
    int in, out; /* its stdin (we write) and stdout (we read) */
};

/* Environment for the probe: ours minus any FAULTNET_ and LD_PRELOAD, plus what the test wants.
 * conf NULL = leave FAULTNET_CONF unset (the inert case). */
static char **probe_env(const char *conf, int node)
{
    extern char **environ;
    static char vars[4][300];
    size_t n = 0, k = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 5, sizeof *env);
    ck_assert_ptr_nonnull(env);
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "FAULTNET_", 9) != 0 && strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
            env[k++] = environ[i];
    snprintf(vars[0], sizeof vars[0], "LD_PRELOAD=%s", FAULTNET_LIB);
    snprintf(vars[1], sizeof vars[1], "FAULTNET_NODE=%d", node);
    snprintf(vars[2], sizeof vars[2], "FAULTNET_STATS=%s", stats_path);
    snprintf(vars[3], sizeof vars[3], "FAULTNET_CONF=%s", conf ? conf : "");
    for (int i = 0; i < (conf ? 4 : 3); i++)
        env[k++] = vars[i];
    return env;
}

/* Set FAULTNET_PROBE to run the suite against another build of the probe (ASan, TSan). */
static const char *probe_path(void)
{
    const char *p = getenv("FAULTNET_PROBE");
    return p && *p ? p : PROBE_PATH;
}

static void spawn_probe(struct probe *p, const char *conf, int node, const char *const *args)
{
    int in[2], out[2];
    char *argv[10] = { (char *)probe_path() };
    for (int i = 0; args[i]; i++)
        argv[i + 1] = (char *)args[i];
    char **env = probe_env(conf, node);
    ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
    p->pid = fork();
    ck_assert_int_ge(p->pid, 0);
    if (p->pid == 0) {
        int err = open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || err < 0 || dup2(err, 2) < 0)
            _exit(126);
        execve(argv[0], argv, env);
        _exit(127);
    }
    free(env);
    close(in[0]);
    close(out[1]);
    p->in = in[1];
    p->out = out[0];
}

/* Read one line of the probe's stdout (without the newline). */
static void probe_line(struct probe *p, char *buf, size_t size)
{
    size_t n = 0;
    struct pollfd pf = { .fd = p->out, .events = POLLIN };
    while (n + 1 < size) {
        ck_assert_msg(poll(&pf, 1, DEADLINE_MS) == 1, "probe printed nothing for %d ms", DEADLINE_MS);
        ck_assert_msg(read(p->out, buf + n, 1) == 1, "probe closed stdout early");
        if (buf[n] == '\n')
            break;
        n++;
    }
    buf[n] = '\0';
}

static void probe_say(struct probe *p, const char *line)
{
    ck_assert_int_eq(write(p->in, line, strlen(line)), (ssize_t)strlen(line));
}

static int probe_threads(struct probe *p)
{
    char line[64];
    int n = -1;
    probe_line(p, line, sizeof line);
    ck_assert_int_eq(sscanf(line, "threads=%d", &n), 1);
    return n;
}

/* Close its stdin, reap it, and insist it exited 0 (valgrind makes that 99 on an error). */
static void probe_finish(struct probe *p)
{
    int status;
    close(p->in);
    ck_assert_int_eq(waitpid(p->pid, &status, 0), p->pid);
    close(p->out);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "probe status %#x; see its stderr: %s",
                  status, slurp(err_path));
}

/* ---------------------------------------------------------------- receiving a UDP run */

struct rx {
    int data, ctl;
    unsigned dport, cport;
    unsigned char seen[MAX_SEQ];  /* copies received of each seq */
    uint32_t order[2 * MAX_SEQ];  /* arrival order */
    int total;                    /* datagrams received, copies included */
    uint64_t min_latency_ns;
    int syncs;
    void (*on_sync)(struct rx *, int k); /* called before the k-th SYNC is answered */
};

static void rx_open(struct rx *r)
{
    memset(r, 0, sizeof *r);
    r->min_latency_ns = UINT64_MAX;
    r->data = bound_socket(SOCK_DGRAM, &r->dport);
    r->ctl = bound_socket(SOCK_DGRAM, &r->cport);
}

static void rx_close(struct rx *r)
{
    close(r->data);
    close(r->ctl);
}

static int rx_distinct(const struct rx *r)
{
    int n = 0;
    for (int i = 0; i < MAX_SEQ; i++)
        n += r->seen[i] > 0;
    return n;
}

static void rx_data(struct rx *r)
{
    unsigned char b[64];
    ssize_t n = recv(r->data, b, sizeof b, MSG_DONTWAIT);
    uint32_t seq;
    uint64_t sent;
    if (n < 0)
        return;
    uint64_t now = now_ns();
    ck_assert_msg(wire_get(b, (size_t)n, &seq, &sent) == 0 && seq < MAX_SEQ, "garbage datagram");
    ck_assert_int_lt(r->total, 2 * MAX_SEQ);
    r->seen[seq]++;
    r->order[r->total++] = seq;
    if (now - sent < r->min_latency_ns)
        r->min_latency_ns = now - sent;
}

/* A control datagram: answer SYNC at once; END is answered by rx_run when it is satisfied. */
static int rx_ctl(struct rx *r, struct sockaddr_in *from)
{
    char b[16];
    socklen_t len = sizeof *from;
    ssize_t n = recvfrom(r->ctl, b, sizeof b, MSG_DONTWAIT, (struct sockaddr *)from, &len);
    if (n == 3 && memcmp(b, "END", 3) == 0)
        return 1;
    if (n == 4 && memcmp(b, "SYNC", 4) == 0) {
        /* Flow control: the probe sends its next batch on our ACK, so first take in what has
         * already landed. Without this the backlog could grow by a batch per SYNC (we read one
         * datagram per turn of rx_run's loop), up to more than a default rmem_max holds. */
        struct pollfd q = { .fd = r->data, .events = POLLIN };
        while (poll(&q, 1, 0) == 1)
            rx_data(r);
        if (r->on_sync)
            r->on_sync(r, ++r->syncs);
        ck_assert_int_eq(sendto(r->ctl, "ACK", 3, 0, (struct sockaddr *)from, len), 3);
    }
    return 0;
}

/* Receive until the probe said END and `want` distinct seqs arrived, then a quiet period
 * (nothing more for QUIET_MS), then release the probe with the END's ACK. */
static void rx_run(struct rx *r, int want)
{
    struct sockaddr_in end_from;
    int ended = 0;
    uint64_t deadline = now_ns() + DEADLINE_MS * 1000000ull;
    while (!ended || rx_distinct(r) < want) {
        struct pollfd p[2] = { { .fd = r->data, .events = POLLIN }, { .fd = r->ctl, .events = POLLIN } };
        ck_assert_msg(now_ns() < deadline, "timed out: end=%d got %d of %d", ended, rx_distinct(r), want);
        if (poll(p, 2, 1000) <= 0)
            continue;
        if (p[0].revents & POLLIN)
            rx_data(r);
        if ((p[1].revents & POLLIN) && rx_ctl(r, &end_from))
            ended = 1;
    }
    struct pollfd q = { .fd = r->data, .events = POLLIN };
    while (poll(&q, 1, QUIET_MS) == 1)
        rx_data(r);
    ck_assert_int_eq(sendto(r->ctl, "ACK", 3, 0, (struct sockaddr *)&end_from, sizeof end_from), 3);
}

/* One full UDP run: spawn the probe (node `node`), receive, reap. */
static void udp_run(struct rx *r, const char *conf, int node, int n, int batch, const char *mode, int want)
{
    char dp[16], cp[16], ns[16], bs[16];
    snprintf(dp, sizeof dp, "%u", r->dport);
    snprintf(cp, sizeof cp, "%u", r->cport);
    snprintf(ns, sizeof ns, "%d", n);
    snprintf(bs, sizeof bs, "%d", batch);
    const char *args[] = { "udp", dp, cp, ns, bs, mode, NULL };
    struct probe p;
    spawn_probe(&p, conf, node, args);
    rx_run(r, want);
    probe_finish(&p);
}

/* Parse the last stats line for `node`: returns the value of `key`, or -1 if absent. */
static long stats_value(const char *key)
{
    char *text = slurp(stats_path), pat[32];
    char *last = NULL;
    for (char *p = text; (p = strstr(p, "node=")); p++)
        last = p;
    ck_assert_msg(last != NULL, "no stats line in '%s'", text);
    snprintf(pat, sizeof pat, " %s=", key);
    char *at = strstr(last, pat);
    return at ? strtol(at + strlen(pat), NULL, 10) : -1;
}

/* ---------------------------------------------------------------- 1. inert */

START_TEST(test_inert_without_conf)
{
    struct rx r;
    rx_open(&r);
    write_conf("port %u %d\ndrop 1\n", r.dport, RX_NODE); /* would drop everything, if it were read */
    udp_run(&r, NULL, 0, 500, 100, "mixed", 500);
    ck_assert_int_eq(r.total, 500);
    for (int i = 0; i < 500; i++)
        ck_assert_int_eq(r.order[i], i);
    ck_assert_msg(access(stats_path, F_OK) != 0, "an inert library wrote stats");
    rx_close(&r);
}
END_TEST

/* Inert means no thread either; active means a worker thread. */
START_TEST(test_worker_thread_only_when_active)
{
    unsigned port;
    int fd = bound_socket(SOCK_STREAM, &port);
    char ps[16];
    snprintf(ps, sizeof ps, "%u", port);
    const char *args[] = { "tcp", ps, NULL };
    struct probe p;
    write_conf("# nothing\n");
    int threads[2];
    for (int active = 0; active < 2; active++) {
        spawn_probe(&p, active ? conf_path : NULL, 0, args);
        threads[active] = probe_threads(&p);
        int c = accept(fd, NULL, NULL); /* the probe connects, says hello, waits for EOF */
        ck_assert_int_ge(c, 0);
        close(c);
        probe_say(&p, "quit\n");
        probe_finish(&p);
    }
    /* Not "exactly one more": a TSan build starts its own helper thread with the first
     * pthread_create, which here is our worker's. */
    ck_assert_int_eq(threads[0], 1);
    ck_assert_int_gt(threads[1], 1);
    close(fd);
}
END_TEST

/* ---------------------------------------------------------------- 2. drop */

static void drop_run(unsigned char *seen, unsigned long seed)
{
    struct rx r;
    rx_open(&r);
    write_conf("seed %lu\nport %u %d\ndrop 0.30\n", seed, r.dport, RX_NODE);
    udp_run(&r, conf_path, 0, 2000, 100, "mixed", 0);
    memcpy(seen, r.seen, 2000);
    rx_close(&r);
}

START_TEST(test_drop_rate_and_determinism)
{
    static unsigned char a[2000], b[2000], c[2000];
    int got = 0;
    drop_run(a, 42);
    for (int i = 0; i < 2000; i++) {
        ck_assert_int_le(a[i], 1);
        got += a[i];
    }
    ck_assert_msg(got >= 1200 && got <= 1600, "received %d of 2000 with drop 0.30", got);
    drop_run(b, 42);
    ck_assert_msg(memcmp(a, b, sizeof a) == 0, "same seed, different drops");
    drop_run(c, 43);
    ck_assert_msg(memcmp(a, c, sizeof a) != 0, "different seed, same drops");
}
END_TEST

/* ---------------------------------------------------------------- 3. dup */

START_TEST(test_dup)
{
    struct rx r;
    rx_open(&r);
    write_conf("seed 7\nport %u %d\ndup 0.2\n", r.dport, RX_NODE);
    udp_run(&r, conf_path, 0, 1000, 100, "mixed", 1000);
    for (int i = 0; i < 1000; i++)
        ck_assert_int_ge(r.seen[i], 1);
    ck_assert_msg(r.total > 1100 && r.total < 1300, "%d datagrams for 1000 sent with dup 0.2", r.total);
    rx_close(&r);
}
END_TEST

/* ---------------------------------------------------------------- 4. delay */

START_TEST(test_delay_lower_bound)
{
    struct rx r;
    rx_open(&r);
    write_conf("port %u %d\ndelay 20 40\n", r.dport, RX_NODE);
    udp_run(&r, conf_path, 0, 200, 50, "mixed", 200);
    ck_assert_int_eq(r.total, 200);
    ck_assert_msg(r.min_latency_ns >= 20000000u, "a datagram arrived %.3f ms after it was sent",
                  r.min_latency_ns / 1e6);
    rx_close(&r);
}
END_TEST

/* ---------------------------------------------------------------- 5. reorder */

START_TEST(test_reorder)
{
    struct rx r;
    int inversions = 0;
    rx_open(&r);
    write_conf("seed 3\nport %u %d\nreorder 0.3 10\n", r.dport, RX_NODE);
    udp_run(&r, conf_path, 0, 500, 100, "mixed", 500);
    ck_assert_int_eq(r.total, 500);
    ck_assert_int_eq(rx_distinct(&r), 500);
    for (int i = 1; i < r.total; i++)
        inversions += r.order[i] < r.order[i - 1];
    ck_assert_msg(inversions > 0, "500 datagrams with reorder 0.3 arrived in send order");
    rx_close(&r);
}
END_TEST

/* ---------------------------------------------------------------- 6. partition */

START_TEST(test_partition_udp)
{
    struct rx r;
    rx_open(&r);
    write_conf("port %u %d\npartition 0 1,%d\n", r.dport, RX_NODE, RX_NODE);
    udp_run(&r, conf_path, 0, 200, 100, "mixed", 0); /* node 0: other side */
    ck_assert_int_eq(r.total, 0);
    udp_run(&r, conf_path, 1, 200, 100, "mixed", 200); /* node 1: our side */
    ck_assert_int_eq(r.total, 200);
    udp_run(&r, conf_path, 5, 200, 100, "mixed", 200); /* node 5: in no group, talks to all */
    ck_assert_int_eq(r.total, 400);
    rx_close(&r);
}
END_TEST

static int accept_within(int lfd)
{
    struct pollfd p = { .fd = lfd, .events = POLLIN };
    ck_assert_msg(poll(&p, 1, DEADLINE_MS) == 1, "no connection arrived");
    int c = accept(lfd, NULL, NULL);
    ck_assert_int_ge(c, 0);
    return c;
}

/* The accepted end must see EOF (the probe's end is shut down), not data, not a timeout. */
static void expect_eof(int c)
{
    char b[16];
    struct pollfd p = { .fd = c, .events = POLLIN };
    ck_assert_msg(poll(&p, 1, DEADLINE_MS) == 1, "connection not cut within %d ms", DEADLINE_MS);
    ck_assert_int_eq(recv(c, b, sizeof b, 0), 0);
}

static void expect_line(struct probe *p, const char *want)
{
    char line[64];
    probe_line(p, line, sizeof line);
    ck_assert_str_eq(line, want);
}

START_TEST(test_partition_tcp_refuse_cut_heal)
{
    unsigned port;
    char ps[16], hello[8] = { 0 };
    int lfd = bound_socket(SOCK_STREAM, &port);
    snprintf(ps, sizeof ps, "%u", port);
    const char *args[] = { "tcp", ps, NULL };
    struct probe p;
    write_conf("port %u %d\n", port, RX_NODE);
    spawn_probe(&p, conf_path, 0, args);
    (void)probe_threads(&p);
    int c = accept_within(lfd);
    ck_assert_int_eq(recv(c, hello, 6, MSG_WAITALL), 6);
    ck_assert_str_eq(hello, "hello\n");
    write_conf("port %u %d\npartition 0 %d\n", port, RX_NODE, RX_NODE); /* mid-run */
    expect_eof(c);
    expect_line(&p, "eof"); /* the probe's own end died too */
    probe_say(&p, "connect\n");
    expect_line(&p, "connect=refused");
    probe_say(&p, "connect_nb\n");
    expect_line(&p, "connect=refused");
    write_conf("port %u %d\n", port, RX_NODE); /* healed */
    probe_say(&p, "connect\n");
    expect_line(&p, "connect=ok");
    close(accept_within(lfd));
    probe_say(&p, "quit\n");
    probe_finish(&p);
    ck_assert_int_eq(stats_value("tcp_refused"), 2);
    ck_assert_int_eq(stats_value("tcp_cut"), 1);
    close(c);
    close(lfd);
}
END_TEST

/* ---------------------------------------------------------------- 7. malformed control file */

/* Processes that load the library per probe run: the probe, and under valgrind
 * --trace-children also valgrind's launcher, which is preloaded too (it reads the control file
 * and reports the same lines before it execs the tool). */
static int preloaded_per_probe(void)
{
    const char *pre = getenv("LD_PRELOAD");
    return pre && strstr(pre, "vgpreload") ? 2 : 1;
}

/* `n` distinct messages, each once per process that loaded the library. */
static void expect_each_reported_once(char *err, int n)
{
    char *line[64];
    int k = 0;
    for (char *save = NULL, *l = strtok_r(err, "\n", &save); l && k < 64; l = strtok_r(NULL, "\n", &save))
        line[k++] = l;
    ck_assert_msg(k == n * preloaded_per_probe(), "%d messages for %d bad lines", k, n);
    for (int i = 0; i < k; i++) {
        ck_assert_msg(strncmp(line[i], "faultnet: ", 10) == 0, "unexpected stderr line: %s", line[i]);
        ck_assert_str_eq(line[i], line[i % n]);
        for (int j = 0; j < i && i < n; j++)
            ck_assert_str_ne(line[i], line[j]);
    }
}

static void write_bad_conf(struct rx *r, int k)
{
    (void)k;
    write_conf("port %u %d\n"
               "frobnicate 3\n"    /* unknown directive */
               "drop 1.5\n"        /* out of range */
               "delay 40 20\n"     /* hi < lo */
               "partition 0,0 1\n" /* node in two groups */
               "   # just a comment\n\n"
               "drop 1.0   # everything\n",
               r->dport, RX_NODE);
}

START_TEST(test_malformed_lines_are_skipped)
{
    struct rx r;
    rx_open(&r);
    write_bad_conf(&r, 0);
    r.on_sync = write_bad_conf; /* rewritten between batches: reloads must not repeat the messages */
    udp_run(&r, conf_path, 0, 300, 100, "mixed", 0);
    ck_assert_int_eq(r.total, 0); /* the valid lines around the bad ones applied */
    expect_each_reported_once(slurp(err_path), 4);
    ck_assert_ptr_nonnull(strstr(slurp(err_path), "unknown directive"));
    rx_close(&r);
}
END_TEST

/* ---------------------------------------------------------------- 8. stats */

START_TEST(test_stats_counts)
{
    struct rx r;
    rx_open(&r);
    write_conf("seed 11\nport %u %d\ndrop 0.25\n", r.dport, RX_NODE);
    udp_run(&r, conf_path, 3, 1000, 100, "mixed", 0);
    ck_assert_ptr_nonnull(strstr(slurp(stats_path), "node=3 udp_sent=1000 dropped="));
    ck_assert_int_eq(stats_value("dropped"), 1000 - r.total);
    ck_assert_int_eq(stats_value("duplicated"), 0);
    ck_assert_int_eq(stats_value("delayed"), 0);
    ck_assert_int_eq(stats_value("partitioned"), 0);
    ck_assert_int_eq(stats_value("tcp_refused"), 0);
    ck_assert_int_eq(stats_value("tcp_cut"), 0);
    write_conf("port %u %d\npartition 3 %d\n", r.dport, RX_NODE, RX_NODE);
    udp_run(&r, conf_path, 3, 100, 100, "mixed", 0);
    ck_assert_int_eq(stats_value("partitioned"), 100);
    ck_assert_int_eq(stats_value("dropped"), 0);
    rx_close(&r);
}
END_TEST

/* ---------------------------------------------------------------- 9. close purges the queue */

START_TEST(test_close_purges_queued)
{
    struct rx r;
    char dp[16], cp[16];
    rx_open(&r);
    write_conf("port %u %d\ndelay 300 300\n", r.dport, RX_NODE);
    snprintf(dp, sizeof dp, "%u", r.dport);
    snprintf(cp, sizeof cp, "%u", r.cport);
    const char *args[] = { "reuse", dp, cp, "20", "5", NULL };
    struct probe p;
    spawn_probe(&p, conf_path, 0, args);
    rx_run(&r, 5); /* B's five, which are due after A's twenty would have been */
    probe_finish(&p);
    for (int i = 0; i < 20; i++)
        ck_assert_msg(r.seen[i] == 0, "stale datagram %d from the closed socket arrived", i);
    for (int i = 1000; i < 1005; i++)
        ck_assert_int_eq(r.seen[i], 1);
    rx_close(&r);
}
END_TEST

/* ---------------------------------------------------------------- live reload and threads */

static void heal_at_first_sync(struct rx *r, int k)
{
    if (k == 1)
        write_conf("port %u %d\n", r->dport, RX_NODE);
}

/* A rewrite that has finished before a send starts applies to that send: no settling time. */
START_TEST(test_rewrite_applies_to_next_send)
{
    struct rx r;
    rx_open(&r);
    write_conf("port %u %d\ndrop 1\n", r.dport, RX_NODE);
    r.on_sync = heal_at_first_sync;
    udp_run(&r, conf_path, 0, 200, 100, "mixed", 100);
    for (int i = 0; i < 200; i++)
        ck_assert_int_eq(r.seen[i], i >= 100);
    rx_close(&r);
}
END_TEST

START_TEST(test_concurrent_senders)
{
    struct rx r;
    rx_open(&r);
    write_conf("seed 5\nport %u %d\ndelay 1 5\nreorder 0.2 3\n", r.dport, RX_NODE);
    udp_run(&r, conf_path, 0, 400, 1, "threads", 400);
    ck_assert_int_eq(rx_distinct(&r), 400);
    ck_assert_int_eq(r.total, 400);
    rx_close(&r);
}
END_TEST

/* ---------------------------------------------------------------- suite */

static void add(Suite *s, const char *name, const TTest *t)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, TCASE_TIMEOUT_S);
    tcase_add_test(tc, t);
    suite_add_tcase(s, tc);
}

static Suite *faultnet_suite(void)
{
    Suite *s = suite_create("faultnet");
    add(s, "inert", test_inert_without_conf);
    add(s, "worker_thread", test_worker_thread_only_when_active);
    add(s, "drop", test_drop_rate_and_determinism);
    add(s, "dup", test_dup);
    add(s, "delay", test_delay_lower_bound);
    add(s, "reorder", test_reorder);
    add(s, "partition_udp", test_partition_udp);
    add(s, "partition_tcp", test_partition_tcp_refuse_cut_heal);
    add(s, "malformed", test_malformed_lines_are_skipped);
    add(s, "stats", test_stats_counts);
    add(s, "close_purges", test_close_purges_queued);
    add(s, "live_reload", test_rewrite_applies_to_next_send);
    add(s, "threads", test_concurrent_senders);
    return s;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    SRunner *sr = srunner_create(faultnet_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
