/* check_node.c - integration tests: real bully processes on loopback, read through pipes. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
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

#ifndef BULLY_BIN
#define BULLY_BIN "build/bully" /* the Makefile passes $(B)/bully */
#endif

/* Every wait gives up after this long, so a hung node fails its test instead of hanging the
 * run. Generous for sanitizer and Valgrind builds; a passing test waits well under a second. */
#define WAIT_MS 30000
#define MAXP 4
#define TIMING                                                                                     \
    "--heartbeat", "50", "--leader-timeout", "400", "--answer-timeout", "150", "--coord-timeout",  \
        "500"

struct proc {
    pid_t pid;
    int out;           /* its stdout */
    char buf[1 << 16]; /* what it printed so far (the tail if it is long) */
    size_t len;
};

static struct proc procs[MAXP];
static int ports[MAXP];
static char nodes[256];

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* n distinct free UDP ports: the sockets stay open until we have them all. */
static void pick_ports(int n)
{
    int fds[MAXP];
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t alen = sizeof a;
        fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
        ck_assert_int_ge(fds[i], 0);
        ck_assert_int_eq(bind(fds[i], (struct sockaddr *)&a, sizeof a), 0);
        ck_assert_int_eq(getsockname(fds[i], (struct sockaddr *)&a, &alen), 0);
        ports[i] = ntohs(a.sin_port);
        len += (size_t)snprintf(nodes + len, sizeof nodes - len, "%s127.0.0.1:%d", i ? "," : "",
                                ports[i]);
    }
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

static void spawn(int id)
{
    int p[2];
    char ids[16];
    snprintf(ids, sizeof ids, "%d", id);
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed test must not leave nodes behind */
#endif
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execl(BULLY_BIN, "bully", "--id", ids, "--nodes", nodes, TIMING, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    procs[id] = (struct proc){.pid = pid, .out = p[0]};
}

/* Read whatever is there; keep the last half of the buffer if it fills. */
static void slurp(struct proc *pr)
{
    for (;;) {
        if (pr->len == sizeof pr->buf - 1) {
            memmove(pr->buf, pr->buf + sizeof pr->buf / 2, sizeof pr->buf / 2 - 1);
            pr->len = sizeof pr->buf / 2 - 1;
        }
        ssize_t n = read(pr->out, pr->buf + pr->len, sizeof pr->buf - 1 - pr->len);
        if (n <= 0)
            break;
        pr->len += (size_t)n;
    }
    pr->buf[pr->len] = '\0';
}

/* The last line of pr's output that contains `ev=leader `, or "" */
static const char *last_leader(struct proc *pr, char *out, size_t cap)
{
    const char *p = pr->buf, *last = NULL;
    while ((p = strstr(p, "ev=leader ")) != NULL)
        last = p++;
    out[0] = '\0';
    if (last)
        snprintf(out, cap, "%.*s", (int)strcspn(last, "\n"), last);
    return out;
}

/* Does every node in [0, n) except `skip` have `ev=leader leader=L ` as its latest view? */
static bool all_follow(int n, int skip, int leader)
{
    char want[64], got[256];
    snprintf(want, sizeof want, "ev=leader leader=%d ", leader);
    bool all = true;
    for (int i = 0; i < n; i++) {
        if (i == skip)
            continue;
        slurp(&procs[i]);
        all &= strncmp(last_leader(&procs[i], got, sizeof got), want, strlen(want)) == 0;
    }
    return all;
}

/* Wait until all_follow(n, skip, leader). */
static bool wait_leader(int n, int skip, int leader)
{
    for (int64_t end = now_ms() + WAIT_MS; now_ms() < end;) {
        if (all_follow(n, skip, leader))
            return true;
        poll(NULL, 0, 20); /* test code only: the nodes themselves never poll like this */
    }
    return false;
}

static bool wait_text(int id, const char *text)
{
    for (int64_t end = now_ms() + WAIT_MS; now_ms() < end; poll(NULL, 0, 10)) {
        slurp(&procs[id]);
        if (strstr(procs[id].buf, text))
            return true;
    }
    return false;
}

/* SIGTERM: the node prints ev=stats and exits 0. */
static void stop(int id)
{
    int st;
    ck_assert_int_eq(kill(procs[id].pid, SIGTERM), 0);
    ck_assert_int_eq(waitpid(procs[id].pid, &st, 0), procs[id].pid);
    slurp(&procs[id]);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "node %d did not exit 0", id);
    ck_assert_ptr_nonnull(strstr(procs[id].buf, "ev=stats "));
    close(procs[id].out);
}

static void start_all(int n)
{
    pick_ports(n);
    for (int i = 0; i < n; i++)
        spawn(i);
    for (int i = 0; i < n; i++)
        ck_assert_msg(wait_text(i, "ev=ready "), "node %d never printed ev=ready", i);
}

/* Wait until nodes [0, n) have held no election for quiet_ms and all follow `leader`, before
 * and after. An election already running when the quiet time starts ends within an answer and
 * a coordinator timeout: with a new leader (seen at the end), or a new election (seen in the
 * quiet time), or as a follower of `leader`. So with quiet_ms longer than those two, every node
 * is then a follower (or the leader) with no election timer running. */
static bool wait_quiet(int n, int leader, int quiet_ms)
{
    for (int64_t end = now_ms() + WAIT_MS; now_ms() < end;) {
        if (!wait_leader(n, -1, leader))
            return false;
        size_t at[MAXP];
        for (int i = 0; i < n; i++)
            at[i] = procs[i].len;
        poll(NULL, 0, quiet_ms);
        bool quiet = true;
        for (int i = 0; i < n; i++) {
            slurp(&procs[i]);
            quiet &= procs[i].len >= at[i] && !strstr(procs[i].buf + at[i], "ev=election ");
        }
        if (quiet && all_follow(n, -1, leader))
            return true;
    }
    return false;
}

START_TEST(elect_kill_restart)
{
    start_all(3);
    ck_assert_msg(wait_leader(3, -1, 2), "3 nodes did not agree on leader 2");
    /* Start-up can leave an election in flight after every view says 2 (a late ELECTION from
     * node 0 makes node 1 ask 2 once more). Killing 2 then would let node 1 win an election it
     * started before the kill, and nobody would have to notice 2's silence. So: wait until no
     * election has run for well over an answer and a coordinator timeout (150 + 500 ms). */
    ck_assert_msg(wait_quiet(3, 2, 1500), "the 3 nodes never settled on leader 2");
    size_t at[2] = {procs[0].len, procs[1].len};
    kill(procs[2].pid, SIGKILL);
    waitpid(procs[2].pid, NULL, 0);
    close(procs[2].out);
    ck_assert_msg(wait_leader(3, 2, 1), "after killing 2, nodes 0 and 1 did not elect 1");
    /* Settled followers run only their leader timers, so the first election after the kill is
     * one for a silent leader. By whom is a race: both followers time out within about one
     * heartbeat of each other, and if node 1 wins first node 0 simply follows its COORDINATOR. */
    bool noticed = false;
    for (int i = 0; i < 2; i++)
        noticed |= procs[i].len >= at[i] && strstr(procs[i].buf + at[i], "why=leader-silent");
    ck_assert_msg(noticed,
                  "neither node 0 nor node 1 held an election for the silent leader 2:\n"
                  "node 0:\n%s\nnode 1:\n%s",
                  procs[0].buf, procs[1].buf);
    spawn(2); /* the old leader comes back and bullies its way back in */
    ck_assert_msg(wait_leader(3, -1, 2), "the restarted node 2 did not take over");
    for (int i = 0; i < 3; i++)
        stop(i);
}
END_TEST

/* Garbage and forgeries from a socket that is not a node: ev=bad each time, node carries on. */
START_TEST(bad_datagrams)
{
    start_all(2);
    ck_assert(wait_leader(2, -1, 1));
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)ports[0]),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    static const uint8_t forged[16] = {'B', 'Y', 1, 3, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9};
    static const uint8_t unknown[16] = {'B', 'Y', 1, 3, 0, 77, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9};
    sendto(fd, "hello", 5, 0, (struct sockaddr *)&to, sizeof to);
    sendto(fd, forged, 10, 0, (struct sockaddr *)&to, sizeof to);
    sendto(fd, forged, 16, 0, (struct sockaddr *)&to, sizeof to); /* right frame, wrong port */
    sendto(fd, unknown, 16, 0, (struct sockaddr *)&to, sizeof to);
    close(fd);
    ck_assert(wait_text(0, "why=bad-magic"));
    ck_assert(wait_text(0, "why=truncated"));
    ck_assert(wait_text(0, "why=wrong-source"));
    ck_assert(wait_text(0, "why=unknown-id"));
    ck_assert(wait_leader(2, -1, 1));
    for (int i = 0; i < 2; i++)
        stop(i);
}
END_TEST

static int run_status(const char *const argv[], char *out, size_t cap)
{
    int p[2], st;
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        execv(BULLY_BIN, (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    size_t len = 0;
    ssize_t n;
    while ((n = read(p[0], out + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    out[len] = '\0';
    close(p[0]);
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(command_line)
{
    char out[4096];
    const char *help[] = {"bully", "--help", NULL};
    const char *noid[] = {"bully", NULL};
    const char *range[] = {"bully", "--id", "5", NULL};
    const char *slow[] = {"bully", "--id", "0", "--heartbeat", "500", "--leader-timeout",
                          "500",   NULL};
    const char *junk[] = {"bully", "--id", "0x1", NULL};
    const char *nodes_bad[] = {"bully", "--id", "0", "--nodes", "localhost:1", NULL};
    ck_assert_int_eq(run_status(help, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "usage: bully"));
    ck_assert_int_eq(run_status(noid, out, sizeof out), 2);
    ck_assert_int_eq(run_status(range, out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "out of range"));
    ck_assert_int_eq(run_status(slow, out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "must be more than --heartbeat"));
    ck_assert_int_eq(run_status(junk, out, sizeof out), 2);
    ck_assert_int_eq(run_status(nodes_bad, out, sizeof out), 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("node");
    TCase *tc = tcase_create("processes");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, elect_kill_restart);
    tcase_add_test(tc, bad_datagrams);
    tcase_add_test(tc, command_line);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
