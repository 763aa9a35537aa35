/* harness.c - run one test: start the nodes, wait for readiness, apply faults, collect, stop. */
#define _GNU_SOURCE /* pipe2, personality */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "grader.h"

/*
 * One thread, one poll() loop. Signals (SIGCHLD, SIGINT, SIGTERM) only write a byte to a
 * self-pipe; the loop does the work. Every node runs in its own process group with
 * PR_SET_PDEATHSIG, so nothing we start outlives the grader, even if the grader is killed.
 */

static int sig_pipe[2] = {-1, -1};
static volatile sig_atomic_t interrupted;
static struct run *current; /* for harness_kill_all; set while a run is in progress */

double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void on_signal(int sig)
{
    int saved = errno;
    if (sig != SIGCHLD)
        interrupted = 1;
    char c = (char)sig;
    if (write(sig_pipe[1], &c, 1) < 0) { /* pipe full: a wake-up is already pending */
    }
    errno = saved;
}

static int harness_init(void)
{
    if (sig_pipe[0] >= 0)
        return 0;
    if (pipe2(sig_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
        return -1;
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

void harness_kill_all(void)
{
    if (!current)
        return;
    for (int i = 0; i < current->n; i++)
        if (current->node[i].pid > 0)
            kill(-current->node[i].pid, SIGKILL);
    for (int k = 0; k < G_MAXAUX; k++)
        if (current->aux_pid[k] > 0)
            kill(-current->aux_pid[k], SIGKILL);
}

/* ---- ports ---- */

/* The kernel's ephemeral range (where outgoing connections get their local port). */
static void ephemeral_range(int *lo, int *hi)
{
    *lo = 32768, *hi = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        if (fscanf(f, "%d %d", lo, hi) != 2)
            *lo = 32768, *hi = 60999;
        fclose(f);
    }
}

/* Is port free for both TCP and UDP on 127.0.0.1 right now? (0 asks the kernel for one.) */
static int try_port(int port)
{
    int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int got = -1;
    if (t >= 0 && u >= 0 && bind(t, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(t, (struct sockaddr *)&a, &len) == 0 &&
        bind(u, (struct sockaddr *)&a, sizeof a) == 0)
        got = ntohs(a.sin_port);
    if (t >= 0)
        close(t);
    if (u >= 0)
        close(u);
    return got;
}

int harness_write_keys(struct run *r, int odd_one, struct verdict *v)
{
    for (int i = 0; i < r->n; i++) {
        uint8_t key[HARNESS_KEY_LEN];
        uint64_t x = r->seed * 0x9e3779b97f4a7c15ull + (i == odd_one ? 7 : 1);
        for (int k = 0; k < HARNESS_KEY_LEN;
             k++, x = x * 6364136223846793005ULL + 1442695040888963407ULL)
            key[k] = (uint8_t)(x >> 56);
        char path[600];
        snprintf(path, sizeof path, "%s/node%d/group.key", r->dir, i);
        FILE *f = fopen(path, "wb");
        if (!f)
            return verdict_fail(v, V_HARNESS, "cannot write %s: %s", path, strerror(errno)), -1;
        int ok = fwrite(key, 1, sizeof key, f) == sizeof key;
        if (fclose(f) != 0 || !ok)
            return verdict_fail(v, V_HARNESS, "cannot write %s: %s", path, strerror(errno)), -1;
    }
    return 0;
}

uint64_t harness_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int port_slot, port_slots = 1, port_share, port_shares = 1;

void harness_port_slot(int slot, int nslots)
{
    port_slot = nslots > 1 && slot >= 0 && slot < nslots ? slot : 0;
    port_slots = nslots > 1 ? nslots : 1;
}

void harness_port_share(int share, int nshares)
{
    port_share = nshares > 1 && share >= 0 && share < nshares ? share : 0;
    port_shares = nshares > 1 ? nshares : 1;
}

/* A port free for both TCP and UDP on 127.0.0.1 right now, and not handed out before.
 * Taken below the ephemeral range: a port the kernel hands out itself can be grabbed by any
 * process's next outgoing connection before the node binds it (seen on a busy machine). The
 * start is spread by pid and time so that two graders running at once rarely probe the same
 * ports; the kernel's choice is the fallback. */
int harness_free_port(struct run *r)
{
    static unsigned next;
    int lo, hi;
    ephemeral_range(&lo, &hi);
    /* Parallel runs of one grader each probe only their slot's share of the range: a port one
     * run probed free but whose node has not bound it yet can never be handed to another.
     * Graders started together with --ports I/N split the range the same way first. */
    int span = (lo - 10000) / (port_slots * port_shares),
        base = 10000 + (port_share * port_slots + port_slot) * span;
    if (!next) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        next = (unsigned)getpid() * 7919u + (unsigned)ts.tv_nsec;
    }
    for (int attempt = 0; attempt < 200; attempt++) {
        int want = span > 1000 ? base + (int)(next++ % (unsigned)span) : 0;
        /* The kernel's choice could be a port another slot just probed: only when alone. */
        int port = try_port(attempt < 150 || port_slots * port_shares > 1 ? want : 0);
        for (int i = 0; i < r->n && port > 0; i++)
            if (r->node[i].port == port)
                port = -1;
        if (port == r->aux_port)
            port = -1;
        if (port > 0)
            return port;
    }
    return -1;
}

/* ---- faultnet control file ---- */

int net_write_conf(struct run *r)
{
    char tmp[640];
    snprintf(tmp, sizeof tmp, "%s.tmp", r->netconf);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "# written by the grader; see common/faultnet/README.md\nseed %llu\n",
            (unsigned long long)r->seed);
    for (int i = 0; i < r->n; i++)
        fprintf(f, "port %d %d\n", r->node[i].port, i);
    fprintf(f, "%s\n", r->net);
    if (r->partition[0])
        fprintf(f, "partition %s\n", r->partition);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, r->netconf); /* atomic: a node never reads half a file */
}

/* ---- starting a node ---- */

/* Expand {id} {nodes} {port} {seed} {dir} {aux} in the test's argument template. */
void harness_expand(struct run *r, int id, const char *tpl, char *out, size_t cap)
{
    char nodes[G_MAXNODES * 24] = "";
    size_t nl = 0;
    for (int i = 0; i < r->n; i++)
        nl += (size_t)snprintf(nodes + nl, sizeof nodes - nl, "%s127.0.0.1:%d", i ? "," : "",
                               r->node[i].port);
    size_t o = 0;
    for (const char *p = tpl; *p && o + 1 < cap;) {
        char val[sizeof nodes];
        const char *end = strchr(p, '}');
        if (*p != '{' || !end) {
            out[o++] = *p++;
            continue;
        }
        size_t klen = (size_t)(end - p - 1);
        if (klen == 2 && !strncmp(p + 1, "id", 2))
            snprintf(val, sizeof val, "%d", id);
        else if (klen == 5 && !strncmp(p + 1, "nodes", 5))
            snprintf(val, sizeof val, "%s", nodes);
        else if (klen == 4 && !strncmp(p + 1, "port", 4))
            snprintf(val, sizeof val, "%d", r->node[id].port);
        else if (klen == 4 && !strncmp(p + 1, "seed", 4))
            snprintf(val, sizeof val, "%llu", (unsigned long long)(r->seed * 1000 + (uint64_t)id));
        else if (klen == 3 && !strncmp(p + 1, "dir", 3))
            snprintf(val, sizeof val, "%s/node%d", r->dir, id);
        else if (klen == 3 && !strncmp(p + 1, "aux", 3))
            snprintf(val, sizeof val, "%d", r->aux_port);
        else
            snprintf(val, sizeof val, "%.*s", (int)(end - p + 1), p);
        o += (size_t)snprintf(out + o, cap - o, "%s", val);
        p = end + 1;
    }
    out[o < cap ? o : cap - 1] = '\0';
}

static void child_env(struct run *r, int id)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%d", id);
    setenv("FAULTNET_NODE", buf, 1);
    setenv("FAULTNET_CONF", r->netconf, 1);
    snprintf(buf, sizeof buf, "%s/faultnet.stats", r->dir);
    setenv("FAULTNET_STATS", buf, 1);
    snprintf(buf, sizeof buf, "%s/common/faultnet/build/libfaultnet.so", r->opt->root);
    setenv("LD_PRELOAD", buf, 1);
    /* The preload comes before libasan, which ASan would otherwise refuse. */
    setenv("ASAN_OPTIONS", "verify_asan_link_order=0:detect_leaks=1:abort_on_error=0", 1);
    setenv("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1", 1);
    setenv("TSAN_OPTIONS", "halt_on_error=0", 1);
}

/* Runs in the child: never returns. Only async-signal-safe work would be strictly correct
 * after fork in a threaded program; the grader has one thread, so plain calls are fine. */
/* fork() with our signals blocked: a SIGTERM sent to a child between fork and exec would
 * otherwise run the grader's handler in the child (a byte to our pipe) and be lost, leaving a
 * node that never stops. The child restores the default actions, then unblocks. */
static pid_t fork_child(void)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &old);
    pid_t grader = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* Die with the grader. If it died already (killed while this child had not yet run, as
         * on a loaded machine), the signal will never come: then there is nothing to start. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != grader)
            _exit(1);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGCHLD, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return pid;
}

static void child_exec(struct run *r, int id, int in[2], int out[2], int err[2], char **argv)
{
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* TSan needs a fixed layout on kernels with large mmap randomisation. */
    if (r->opt->build && strstr(r->opt->build, "tsan"))
        personality(ADDR_NO_RANDOMIZE);
    signal(SIGPIPE, SIG_DFL);
    dup2(out[1], 1);
    dup2(err[1], 2);
    dup2(in[0], 0);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/node%d", r->dir, id);
    if (chdir(dir) != 0)
        _exit(126);
    child_env(r, id);
    execv(argv[0], argv);
    fprintf(stderr, "grader: exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Under --valgrind, whether node id runs under memcheck. Every node of a lab runs the same
 * program, and memcheck's cost is mostly per process (~0.8 s of CPU to start one, measured on
 * a 2-core CI machine: 560 lives made 700 s of CPU of one grade): so the nodes where a test's
 * scenario happens are memchecked and the rest of a large group runs natively. Those are node
 * 0 (the server, monitor or first initiator; bin0's node), nodes 1 and 2, the highest id (the
 * Bully's leader, the last to join) and every node the schedule crashes, restarts, pauses,
 * resumes, feeds or injects into. A test of up to five nodes (most of them) is memchecked
 * whole; a 64-node one on about five. --valgrind-all memchecks every node. */
bool harness_memchecked(const struct run *r, int id)
{
    if (!r->opt->valgrind)
        return false;
    if (r->opt->valgrind_all || id <= 2 || id == r->n - 1)
        return true;
    for (int k = 0; k < r->test->nfaults; k++)
        if (r->test->faults[k].node == id && r->test->faults[k].kind != F_NET &&
            r->test->faults[k].kind != F_PARTITION)
            return true;
    return false;
}

static int build_argv(struct run *r, int id, char *line, size_t cap, char **argv, int max)
{
    char tpl[4096];
    int argc = 0;
    const char *base = r->opt->labdir ? r->opt->labdir : r->lab->dir;
    const char *prog = id == 0 && r->test->bin0 ? r->test->bin0 : r->lab->bin;
    const char *args = id == 0 && r->test->args0 ? r->test->args0 : r->test->args;
    char bin[1024];
    if (base[0] == '/')
        snprintf(bin, sizeof bin, "%s/%s/%s", base, r->opt->build, prog);
    else
        snprintf(bin, sizeof bin, "%s/%s/%s/%s", r->opt->root, base, r->opt->build, prog);
    if (harness_memchecked(r, id))
        snprintf(tpl, sizeof tpl,
                 "/usr/bin/valgrind -q --error-exitcode=99 --leak-check=full "
                 "--errors-for-leak-kinds=definite --show-leak-kinds=definite %s %s",
                 bin, args);
    else
        snprintf(tpl, sizeof tpl, "%s %s", bin, args);
    harness_expand(r, id, tpl, line, cap);
    for (char *p = strtok(line, " "); p && argc < max - 1; p = strtok(NULL, " "))
        argv[argc++] = p;
    argv[argc] = NULL;
    return access(argv[0], X_OK) == 0 ? 0 : -1;
}

static int open_log(struct run *r, int id, const char *ext)
{
    char path[700];
    snprintf(path, sizeof path, "%s/node%d.%s", r->dir, id, ext);
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

static int start_node(struct run *r, int id, struct verdict *v)
{
    struct nodelog *nl = &r->node[id];
    static char line[8192];
    char *argv[256];
    if (build_argv(r, id, line, sizeof line, argv, 256) < 0) {
        verdict_fail(v, V_HARNESS, "cannot run %s: %s (did `make` build it?)", argv[0],
                     strerror(errno));
        return -1;
    }
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) < 0)
        return verdict_fail(v, V_HARNESS, "pipe: %s", strerror(errno)), -1;
    if (pipe2(out, O_CLOEXEC) < 0) {
        close(in[0]);
        close(in[1]);
        return verdict_fail(v, V_HARNESS, "pipe: %s", strerror(errno)), -1;
    }
    if (pipe2(err, O_CLOEXEC) < 0) {
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        return verdict_fail(v, V_HARNESS, "pipe: %s", strerror(errno)), -1;
    }
    pid_t pid = fork_child();
    if (pid == 0)
        child_exec(r, id, in, out, err, argv);
    close(in[0]);
    close(out[1]);
    close(err[1]);
    if (pid < 0) {
        close(in[1]);
        close(out[0]);
        close(err[0]);
        return verdict_fail(v, V_HARNESS, "fork: %s", strerror(errno)), -1;
    }
    if (nl->in_fd >= 0)
        close(nl->in_fd);
    nl->in_fd = in[1];
    fcntl(nl->in_fd, F_SETFL, O_NONBLOCK); /* a node that never reads cannot block us */
    setpgid(pid, pid); /* also here, so kill(-pid) works before the child ran */
    nl->pid = pid;
    nl->out_fd = out[0];
    nl->err_fd = err[0];
    nl->plen = nl->eplen = 0;
    nl->ready = nl->paused = nl->killed_by_us = false;
    if (nl->log_fd < 0)
        nl->log_fd = open_log(r, id, "out");
    if (nl->elog_fd < 0)
        nl->elog_fd = open_log(r, id, "err");
    if (r->test->input) {
        char text[4096];
        harness_expand(r, id, r->test->input, text, sizeof text);
        if (harness_input(r, id, text) < 0 && errno == EAGAIN)
            return verdict_fail(v, V_HARNESS, "node %d's input is over 64 KiB", id), -1;
    }
    return 0;
}

int harness_input(struct run *r, int id, const char *text)
{
    struct nodelog *nl = &r->node[id];
    size_t len = strlen(text);
    while (len > 0 && nl->in_fd >= 0) {
        ssize_t n = write(nl->in_fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        text += n;
        len -= (size_t)n;
    }
    return nl->in_fd >= 0 ? 0 : -1;
}

/* ---- helper processes (a broker) ---- */

int harness_spawn(struct run *r, char *const argv[], const char *logname)
{
    int slot = 0;
    while (slot < G_MAXAUX && r->aux_pid[slot] > 0)
        slot++;
    if (slot == G_MAXAUX)
        return -1;
    char path[700];
    snprintf(path, sizeof path, "%s/%s", r->dir, logname);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    pid_t pid = fork_child();
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        signal(SIGPIPE, SIG_DFL);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execvp(argv[0], argv);
        fprintf(stderr, "grader: exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fd);
    if (pid < 0)
        return -1;
    setpgid(pid, pid);
    r->aux_pid[slot] = pid;
    r->aux_status[slot] = -1;
    return slot;
}

void harness_stop_aux(struct run *r, int slot, int wait_ms)
{
    if (slot < 0 || slot >= G_MAXAUX || r->aux_pid[slot] <= 0)
        return;
    pid_t pid = r->aux_pid[slot];
    kill(-pid, SIGCONT);
    kill(-pid, SIGTERM);
    int status;
    for (int waited = 0; waited < wait_ms; waited += 10) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid || (got < 0 && errno == ECHILD))
            break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(-pid, SIGKILL);
    if (waitpid(pid, &status, 0) == pid)
        r->aux_status[slot] = status;
    r->aux_pid[slot] = 0;
}

/* ---- reading the nodes' output ---- */

static void log_write(int fd, const char *s, size_t len)
{
    while (fd >= 0 && len > 0) {
        ssize_t n = write(fd, s, len);
        if (n <= 0)
            return;
        s += n;
        len -= (size_t)n;
    }
}

static void add_event(struct run *r, int id, const char *line)
{
    struct nodelog *nl = &r->node[id];
    struct event e;
    if (event_parse(line, &e) < 0)
        return;
    if (e.node != id) { /* a node speaking for another: keep it, the checker may care */
        if (r->opt->verbose)
            fprintf(stderr, "grader: node %d printed a line for node=%d\n", id, e.node);
    }
    if (nl->n == nl->cap) {
        int cap = nl->cap ? nl->cap * 2 : 256;
        struct event *ev = realloc(nl->ev, (size_t)cap * sizeof *ev);
        if (!ev) {
            event_free(&e);
            return;
        }
        nl->ev = ev;
        nl->cap = cap;
    }
    e.node = id; /* the process it came from is the truth */
    e.life = nl->life;
    e.seq = nl->n;
    if (strcmp(e.ev, "ready") == 0)
        nl->ready = true;
    nl->ev[nl->n++] = e;
}

static const char *const san_patterns[] = {
    "ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "WARNING: ThreadSanitizer",
    "runtime error:",          "ERROR SUMMARY: ",     "definitely lost",
    "Invalid read",            "Invalid write",       "uninitialised",
};

static void scan_stderr(struct nodelog *nl, const char *line)
{
    for (size_t i = 0; i < sizeof san_patterns / sizeof *san_patterns; i++) {
        if (!strstr(line, san_patterns[i]))
            continue;
        if (i == 4 && strstr(line, "ERROR SUMMARY: 0 errors"))
            continue;
        if (!nl->sanitizer_reports++)
            snprintf(nl->first_report, sizeof nl->first_report, "%s", line);
    }
}

/* Read what is available; split into lines; returns false at EOF or error. */
static bool pump(struct run *r, int id, bool is_err)
{
    struct nodelog *nl = &r->node[id];
    int fd = is_err ? nl->err_fd : nl->out_fd;
    char *part = is_err ? nl->epartial : nl->partial;
    size_t *plen = is_err ? &nl->eplen : &nl->plen;
    size_t cap = is_err ? sizeof nl->epartial : sizeof nl->partial;
    ssize_t n = read(fd, part + *plen, cap - 1 - *plen);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (n <= 0)
        return false;
    log_write(is_err ? nl->elog_fd : nl->log_fd, part + *plen, (size_t)n);
    *plen += (size_t)n;
    part[*plen] = '\0';
    char *start = part, *nlc;
    while ((nlc = strchr(start, '\n'))) {
        *nlc = '\0';
        if (is_err)
            scan_stderr(nl, start);
        else
            add_event(r, id, start);
        start = nlc + 1;
    }
    *plen -= (size_t)(start - part);
    memmove(part, start, *plen);
    if (*plen == cap - 1) /* an over-long line: take it as it is */
        *plen = 0;
    return true;
}

/* ---- process bookkeeping ---- */

static void on_exit_status(struct run *r, int id, int status, bool stopping, struct verdict *v)
{
    struct nodelog *nl = &r->node[id];
    nl->pid = 0;
    if (nl->killed_by_us)
        return;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && stopping)
        return;
    /* Stopped while still starting (restarted just before the stop phase): SIGTERM's default
     * action ended it before it could install a handler. Not the node's fault. */
    if (stopping && !nl->ready && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)
        return;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 99)
        verdict_fail(v, V_CRASH, "node %d: valgrind reported errors (see %s/node%d.err)", id,
                     r->dir, id);
    else if (WIFSIGNALED(status))
        verdict_fail(v, V_CRASH, "node %d died of signal %d (%s)%s", id, WTERMSIG(status),
                     strsignal(WTERMSIG(status)), stopping ? " after SIGTERM" : "");
    else
        verdict_fail(v, V_CRASH, "node %d exited with status %d %s", id, WEXITSTATUS(status),
                     stopping ? "after SIGTERM (a clean stop exits 0)" : "while the test ran");
}

static void reap(struct run *r, bool stopping, struct verdict *v)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < r->n; i++)
            if (r->node[i].pid == pid)
                on_exit_status(r, i, status, stopping, v);
        for (int k = 0; k < G_MAXAUX; k++)
            if (r->aux_pid[k] == pid)
                r->aux_pid[k] = 0, r->aux_status[k] = status;
    }
}

static void drain_sig_pipe(void)
{
    char buf[64];
    while (read(sig_pipe[0], buf, sizeof buf) > 0) {
    }
}

/* One poll round over every open pipe; returns after at most timeout ms. */
static void poll_once(struct run *r, double timeout, bool stopping, struct verdict *v)
{
    struct pollfd pfd[2 * G_MAXNODES + 1];
    int who[2 * G_MAXNODES + 1], np = 0;
    pfd[np] = (struct pollfd){.fd = sig_pipe[0], .events = POLLIN};
    who[np++] = -1;
    for (int i = 0; i < r->n; i++) {
        if (r->node[i].out_fd >= 0) {
            pfd[np] = (struct pollfd){.fd = r->node[i].out_fd, .events = POLLIN};
            who[np++] = 2 * i;
        }
        if (r->node[i].err_fd >= 0) {
            pfd[np] = (struct pollfd){.fd = r->node[i].err_fd, .events = POLLIN};
            who[np++] = 2 * i + 1;
        }
    }
    int ms = timeout < 0 ? 0 : timeout > INT_MAX ? INT_MAX : (int)timeout + 1;
    if (poll(pfd, (nfds_t)np, ms) <= 0)
        return;
    for (int k = 0; k < np; k++) {
        if (!pfd[k].revents)
            continue;
        if (who[k] < 0) {
            drain_sig_pipe();
            continue;
        }
        int id = who[k] / 2;
        bool is_err = who[k] % 2;
        if (!pump(r, id, is_err)) {
            close(is_err ? r->node[id].err_fd : r->node[id].out_fd);
            *(is_err ? &r->node[id].err_fd : &r->node[id].out_fd) = -1;
        }
    }
    reap(r, stopping, v);
}

/* ---- faults ---- */

/* How long a crash waits (x --slow) for the killed node to be reaped before it goes on. */
#define G_REAP_MS 5000

/* Is thread (or process) stat_path stopped? /proc/.../stat: "pid (comm) S ...", comm may hold
 * spaces and parentheses, so the state is after the last ')'. */
static bool task_stopped(const char *stat_path)
{
    char buf[512];
    FILE *f = fopen(stat_path, "r");
    if (!f)
        return true; /* gone: it logs nothing more either */
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    return !p || p[1] != ' ' || p[2] == 'T' || p[2] == 't' || p[2] == 'Z' || p[2] == 'X';
}

/* SIGSTOP takes effect when the kernel next runs the node: on 2 cores it may log for a moment
 * after kill() returned. Wait (at most 2 s) until every thread of it is stopped, so a pause is
 * recorded from when it really began (NOTES: fault windows are recorded conservatively). */
static void wait_stopped(pid_t pid)
{
    char dir[64], path[600];
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
    for (int tries = 0; tries < 2000; tries++) {
        DIR *d = opendir(dir);
        if (!d)
            return;
        bool all = true;
        for (struct dirent *de; all && (de = readdir(d));)
            if (de->d_name[0] != '.') {
                snprintf(path, sizeof path, "%s/%s/stat", dir, de->d_name);
                all = task_stopped(path);
            }
        closedir(d);
        if (all)
            return;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
}

static void apply_fault(struct run *r, const struct fault *f, struct verdict *v)
{
    struct nodelog *nl = &r->node[f->node];
    /* A resume is recorded before SIGCONT is sent: the woken node may run (and log dozens of
     * events) before this process is scheduled again, so a clock read afterwards would put them
     * inside the pause. Every other fault is recorded once it has been applied (a pause once
     * the node has really stopped). */
    double before = mono_ms(), at = -1;
    switch (f->kind) {
    case F_CRASH:
        if (nl->pid > 0) {
            nl->killed_by_us = true;
            kill(-nl->pid, SIGKILL);
            at = mono_ms();
            /* The crash has been applied when the node is gone: under Valgrind a killed process
             * takes a while to die, and the next fault (say, damaging its files 100 ms later)
             * must find it dead. It is recorded at the kill: it logs nothing after that. */
            while (nl->pid > 0 && !interrupted && mono_ms() - at < G_REAP_MS * r->opt->slow)
                poll_once(r, 50, false, v);
        }
        break;
    case F_PAUSE:
        if (nl->pid > 0 && kill(-nl->pid, SIGSTOP) == 0) {
            nl->paused = true;
            wait_stopped(nl->pid);
        }
        break;
    case F_RESUME:
        if (nl->pid > 0 && kill(-nl->pid, SIGCONT) == 0)
            nl->paused = false;
        break;
    case F_RESTART:
        if (nl->pid > 0) { /* restart means: the old one is gone first */
            nl->killed_by_us = true;
            kill(-nl->pid, SIGKILL);
            while (nl->pid > 0 && !interrupted)
                poll_once(r, 100, false, v);
        }
        nl->life++;
        start_node(r, f->node, v);
        break;
    case F_NET:
        snprintf(r->net, sizeof r->net, "%s", f->arg ? f->arg : "");
        if (net_write_conf(r) < 0)
            verdict_fail(v, V_HARNESS, "cannot write %s: %s", r->netconf, strerror(errno));
        break;
    case F_PARTITION:
    case F_HEAL:
        snprintf(r->partition, sizeof r->partition, "%s", f->kind == F_HEAL ? "" : f->arg);
        if (net_write_conf(r) < 0)
            verdict_fail(v, V_HARNESS, "cannot write %s: %s", r->netconf, strerror(errno));
        break;
    case F_CALL:
        if (r->test->inject)
            r->test->inject(r, f->node, v);
        break;
    case F_INPUT: {
        char text[4096];
        harness_expand(r, f->node, f->arg ? f->arg : "", text, sizeof text);
        /* A node that died is reported by its exit status; a full pipe means it never reads. */
        if (harness_input(r, f->node, text) < 0 && errno == EAGAIN)
            verdict_fail(v, V_HARNESS, "node %d does not read its stdin (pipe full)", f->node);
        break;
    }
    }
    if (r->napplied < G_MAXFAULTS)
        r->applied[r->napplied++] = (struct applied_fault){f->kind == F_RESUME ? before
                                                           : at >= 0           ? at
                                                                               : mono_ms(),
                                                           f->kind, f->node};
}

/* ---- the phases of a run ---- */

static bool all_ready(struct run *r, char *why, size_t cap)
{
    for (int i = 0; i < r->n; i++) {
        if (r->node[i].ready)
            continue;
        snprintf(why, cap, "node %d never printed ev=ready", i);
        return false;
    }
    return true;
}

static bool any_died(struct run *r, const struct verdict *v)
{
    (void)r;
    return verdict_has(v, V_CRASH) || verdict_has(v, V_HARNESS);
}

/* ---- progress: a run that stopped moving ends early, naming who went quiet ---- */

#define G_OPEN_MAX 32 /* open operations tracked per node; more are not watched */

struct progress {
    struct progress_rule rule;
    double window;            /* ms, already x --slow */
    double moved;             /* when progress last moved, or a fault was applied */
    int seen[G_MAXNODES];     /* events of each node already looked at */
    int last[G_MAXNODES];     /* index of each node's last progress event, -1: none */
    double heard[G_MAXNODES]; /* when each node's last event of any kind was read */
    /* the rule's open operations: per node, the indexes of their ev=<open> events and when the
     * grader read them (later than t=, so never too early; and t= may be absent) */
    int open[G_MAXNODES][G_OPEN_MAX], nopen[G_MAXNODES], open_life[G_MAXNODES];
    double opened[G_MAXNODES][G_OPEN_MAX];
};

static void progress_init(struct run *r, struct progress *pg, double now)
{
    memset(pg, 0, sizeof *pg);
    if (r->lab->progress)
        r->lab->progress(r, &pg->rule);
    pg->window = (pg->rule.stall_ms > 0 ? pg->rule.stall_ms : G_STALL_MS) * r->opt->slow;
    pg->moved = now;
    for (int i = 0; i < r->n; i++)
        pg->last[i] = -1, pg->heard[i] = now;
}

static bool is_background(const struct progress_rule *rule, const char *ev)
{
    size_t len = strlen(ev);
    for (const char *s = rule->background; s && *s; s += strspn(s, " ")) {
        size_t k = strcspn(s, " ");
        if (k == len && len && strncmp(s, ev, len) == 0)
            return true;
        s += k;
    }
    return false;
}

/* The rule's open operations of node i, given its next event, ev[j]. */
static void progress_open(const struct run *r, struct progress *pg, int i, int j, double now)
{
    const struct event *e = &r->node[i].ev[j];
    const struct progress_rule *rule = &pg->rule;
    const char *key = event_get(e, rule->key);
    if (e->life != pg->open_life[i])
        pg->nopen[i] = 0, pg->open_life[i] = e->life;
    if (!key)
        return;
    if (!strcmp(e->ev, rule->open) && pg->nopen[i] < G_OPEN_MAX) {
        pg->opened[i][pg->nopen[i]] = now;
        pg->open[i][pg->nopen[i]++] = j;
    } else if (rule->close && !strcmp(e->ev, rule->close)) {
        for (int k = 0; k < pg->nopen[i]; k++) {
            const char *o = event_get(&r->node[i].ev[pg->open[i][k]], rule->key);
            if (o && !strcmp(o, key)) {
                pg->nopen[i]--;
                pg->open[i][k] = pg->open[i][pg->nopen[i]];
                pg->opened[i][k] = pg->opened[i][pg->nopen[i]];
                break;
            }
        }
    }
}

/* Look at the events read since the last call: each one that is not background is progress. */
static void progress_scan(struct run *r, struct progress *pg, double now)
{
    for (int i = 0; i < r->n; i++) {
        const struct nodelog *nl = &r->node[i];
        for (; pg->seen[i] < nl->n; pg->seen[i]++) {
            pg->heard[i] = now;
            if (pg->rule.open && pg->rule.key)
                progress_open(r, pg, i, pg->seen[i], now);
            if (is_background(&pg->rule, nl->ev[pg->seen[i]].ev))
                continue;
            pg->last[i] = pg->seen[i];
            pg->moved = now;
        }
    }
}

/* One clause about node i for the stall verdict: how long it has been quiet and since what. */
static size_t quiet_clause(struct run *r, const struct progress *pg, int i, double now, char *out,
                           size_t cap)
{
    const struct nodelog *nl = &r->node[i];
    char e[240] = "no event yet";
    double silent = now - pg->heard[i];
    if (nl->paused)
        return (size_t)snprintf(out, cap, "node %d is paused by the test", i);
    if (silent >= pg->window * 0.9) {
        if (nl->n)
            event_str(&nl->ev[nl->n - 1], e, sizeof e);
        return (size_t)snprintf(out, cap,
                                "node %d has logged nothing for %.1fs (its last event: %s)", i,
                                silent / 1e3, e);
    }
    if (pg->last[i] >= 0)
        event_str(&nl->ev[pg->last[i]], e, sizeof e);
    return (size_t)snprintf(out, cap, "node %d logged only background events (ev=%s) since %s", i,
                            nl->n ? nl->ev[nl->n - 1].ev : "", e);
}

/* The liveness verdict of a stalled run: the quietest running nodes first. */
static void progress_stall(struct run *r, const struct progress *pg, const char *phase,
                           const char *why, double now, struct verdict *v)
{
    int order[G_MAXNODES], k = 0;
    for (int i = 0; i < r->n; i++)
        if (r->node[i].pid > 0)
            order[k++] = i;
    for (int a = 1; a < k; a++) /* insertion sort: heard longest ago first */
        for (int b = a; b > 0 && pg->heard[order[b]] < pg->heard[order[b - 1]]; b--) {
            int x = order[b];
            order[b] = order[b - 1], order[b - 1] = x;
        }
    char nodes[1600] = "";
    size_t len = 0;
    int listed = 0, done = 0;
    for (int a = 0; a < k && len < sizeof nodes; a++) {
        const struct nodelog *nl = &r->node[order[a]];
        if (nl->n && strcmp(nl->ev[nl->n - 1].ev, "done") == 0) {
            done++; /* finished its part: not what is stuck */
            continue;
        }
        if (listed++ == 3)
            continue;
        len += (size_t)snprintf(nodes + len, sizeof nodes - len, "%s", listed > 1 ? "; " : "");
        if (len < sizeof nodes)
            len += quiet_clause(r, pg, order[a], now, nodes + len, sizeof nodes - len);
    }
    if (listed > 3 && len < sizeof nodes)
        len += (size_t)snprintf(nodes + len, sizeof nodes - len, "; %d more like that", listed - 3);
    if (done && len < sizeof nodes)
        snprintf(nodes + len, sizeof nodes - len, "%s%d node%s printed ev=done", len ? "; " : "",
                 done, done > 1 ? "s" : "");
    char bg[256] = "";
    size_t bl = 0;
    for (const char *s = pg->rule.background; s && *s && bl < sizeof bg; s += strspn(s, " ")) {
        size_t n = strcspn(s, " ");
        bl += (size_t)snprintf(bg + bl, sizeof bg - bl, "%s ev=%.*s", bl ? "," : " but", (int)n, s);
        s += n;
    }
    verdict_add(v, V_LIVENESS, R_STALL,
                "no progress for %.1fs%s%s (progress: every event%s); still waiting for: %s; %s",
                (now - pg->moved) / 1e3, *phase ? " " : "", phase, bg, why, nodes);
}

/* The lab's silent_ms rule: a running node that logged nothing at all since the last fault
 * (and its own last event) for that long is hung. */
static bool progress_hung(struct run *r, const struct progress *pg, double last_fault,
                          const char *why, double now, struct verdict *v)
{
    double limit = pg->rule.silent_ms * r->opt->slow;
    for (int i = 0; i < r->n && limit > 0; i++) {
        const struct nodelog *nl = &r->node[i];
        double since = pg->heard[i] > last_fault ? pg->heard[i] : last_fault;
        if (nl->pid <= 0 || nl->paused || now - since <= limit)
            continue;
        char e[240] = "no event yet";
        if (nl->n)
            event_str(&nl->ev[nl->n - 1], e, sizeof e);
        verdict_add(v, V_LIVENESS, R_STALL,
                    "node %d has logged nothing at all for %.1fs (a live node of this lab logs "
                    "every few hundred ms; its last event: %s): it looks hung; still waiting for: "
                    "%s",
                    i, (now - since) / 1e3, e, why);
        return true;
    }
    return false;
}

/* The lab's open rule: an operation of a running node still open open_ms after its start and
 * the last fault is stuck. */
static bool progress_overdue(struct run *r, const struct progress *pg, double last_fault,
                             const char *why, double now, struct verdict *v)
{
    double limit = pg->rule.open_ms * r->opt->slow;
    for (int i = 0; i < r->n && limit > 0 && pg->rule.open; i++) {
        const struct nodelog *nl = &r->node[i];
        if (nl->pid <= 0 || nl->paused)
            continue;
        for (int k = 0; k < pg->nopen[i]; k++) {
            const struct event *e = &nl->ev[pg->open[i][k]];
            double since = pg->opened[i][k] > last_fault ? pg->opened[i][k] : last_fault;
            if (now - since <= limit)
                continue;
            char a[240];
            verdict_add(v, V_LIVENESS, R_STALL,
                        "%s has not been followed by node %d's ev=%s %s=%s for %.1fs (it must "
                        "end within %.1fs of its start and of the last fault, whatever else "
                        "goes on); still waiting for: %s",
                        event_str(e, a, sizeof a), i, pg->rule.close ? pg->rule.close : "?",
                        pg->rule.key, event_get(e, pg->rule.key), (now - since) / 1e3,
                        limit / 1e3, why);
            return true;
        }
    }
    return false;
}

static void phase_start(struct run *r, double deadline, struct verdict *v)
{
    char why[256] = "";
    struct progress pg;
    progress_init(r, &pg, mono_ms());
    for (int i = 0; i < r->n && v->kind == V_PASS; i++)
        start_node(r, i, v);
    while (v->kind == V_PASS && !interrupted && !all_ready(r, why, sizeof why)) {
        double now = mono_ms();
        if (now > deadline) {
            verdict_add(v, V_LIVENESS, R_GENERIC, "timeout waiting for readiness: %s", why);
            return;
        }
        progress_scan(r, &pg, now);
        if (now - pg.moved > pg.window) {
            progress_stall(r, &pg, "while the nodes start", why, now, v);
            return;
        }
        poll_once(r, deadline - now < 250 ? deadline - now : 250, false, v);
    }
    r->t_ready = mono_ms();
}

/* Fault times are not scaled by the slow factor: nodes pace themselves by the clock (their
 * --interval), so under Valgrind they still do the same thing at the same moment; only the
 * time they may take to get there (the timeouts) grows. A fault still to come is progress to
 * come: the stall window starts again at each fault, and counts only after the last one. */
static void phase_run(struct run *r, double deadline, struct verdict *v)
{
    const struct gtest *t = r->test;
    until_fn until = t->until ? t->until : until_all_done;
    int next = 0;
    char why[512] = "";
    struct progress pg;
    progress_init(r, &pg, r->t_ready);
    double last_fault = r->t_ready;
    while (!interrupted && !any_died(r, v)) {
        double now = mono_ms();
        while (next < t->nfaults && now >= r->t_ready + t->faults[next].at_ms) {
            apply_fault(r, &t->faults[next++], v);
            pg.moved = last_fault = mono_ms();
        }
        if (next == t->nfaults && until(r, why, sizeof why))
            return;
        if (now > deadline) {
            verdict_add(v, V_LIVENESS, R_GENERIC, "timeout after %.1fs: %s",
                        t->timeout_ms * r->opt->slow / 1e3, why);
            return;
        }
        progress_scan(r, &pg, now);
        if (next == t->nfaults && now - pg.moved > pg.window) {
            progress_stall(r, &pg, t->nfaults ? "after the last fault" : "", why, now, v);
            return;
        }
        if (next == t->nfaults && progress_hung(r, &pg, last_fault, why, now, v))
            return;
        if (next == t->nfaults && progress_overdue(r, &pg, last_fault, why, now, v))
            return;
        /* Wake at least every 250 ms: until() may depend on time alone (a quiet period). */
        double wake = now + 250 < deadline ? now + 250 : deadline;
        if (next < t->nfaults && r->t_ready + t->faults[next].at_ms < wake)
            wake = r->t_ready + t->faults[next].at_ms;
        poll_once(r, wake - now, false, v);
    }
}

static bool any_running(struct run *r)
{
    for (int i = 0; i < r->n; i++)
        if (r->node[i].pid > 0 || r->node[i].out_fd >= 0 || r->node[i].err_fd >= 0)
            return true;
    return false;
}

#define FAILED_GRACE_MS 1000

/* SIGTERM everyone (a paused node is resumed first) and collect the rest of the output. */
static void phase_stop(struct run *r, struct verdict *v)
{
    for (int i = 0; i < r->n; i++) {
        if (r->node[i].in_fd >= 0) {
            close(r->node[i].in_fd);
            r->node[i].in_fd = -1;
        }
        if (r->node[i].pid <= 0)
            continue;
        if (r->node[i].paused)
            kill(-r->node[i].pid, SIGCONT);
        kill(r->node[i].pid, SIGTERM);
    }
    /* A run that already failed waits less: a hung node would otherwise add the whole grace to
     * every test of a lab, and the points are lost anyway. */
    int grace_ms = v->kind != V_PASS && r->opt->grace_ms > FAILED_GRACE_MS ? FAILED_GRACE_MS
                                                                           : r->opt->grace_ms;
    double grace = mono_ms() + grace_ms * r->opt->slow;
    while (any_running(r) && mono_ms() < grace && !interrupted)
        poll_once(r, grace - mono_ms(), true, v);
    for (int i = 0; i < r->n; i++) {
        if (r->node[i].pid <= 0)
            continue;
        verdict_add(v, V_CRASH, R_GENERIC, "node %d did not exit within %.1fs of SIGTERM%s", i,
                    grace_ms * r->opt->slow / 1e3,
                    grace_ms < r->opt->grace_ms ? " (less than a passing run gets: the run had "
                                                  "already failed)"
                                                : "");
        r->node[i].killed_by_us = true;
        kill(-r->node[i].pid, SIGKILL);
    }
    while (any_running(r)) /* SIGKILL always works: this ends */
        poll_once(r, 1000, true, v);
}

static void report_sanitizers(struct run *r, struct verdict *v)
{
    for (int i = 0; i < r->n; i++)
        if (r->node[i].sanitizer_reports)
            verdict_fail(v, V_CRASH, "node %d: %d sanitizer/valgrind report line(s), first: %s "
                                     "(see %s/node%d.err)",
                         i, r->node[i].sanitizer_reports, r->node[i].first_report, r->dir, i);
}

static int prepare(struct run *r, struct verdict *v)
{
    char lib[600];
    snprintf(lib, sizeof lib, "%s/common/faultnet/build/libfaultnet.so", r->opt->root);
    if (access(lib, R_OK) != 0) /* without it every network fault would silently be a no-op */
        return verdict_fail(v, V_HARNESS, "%s: %s (run make in common/faultnet)", lib,
                            strerror(errno)), -1;
    r->n = r->test->nodes;
    for (int i = 0; i < r->n; i++) {
        r->node[i].out_fd = r->node[i].err_fd = r->node[i].in_fd = -1;
        r->node[i].log_fd = r->node[i].elog_fd = -1;
        r->node[i].port = harness_free_port(r);
        if (r->node[i].port < 0)
            return verdict_fail(v, V_HARNESS, "no free port on 127.0.0.1"), -1;
        char d[600];
        snprintf(d, sizeof d, "%s/node%d", r->dir, i);
        if (mkdir(d, 0755) < 0 && errno != EEXIST)
            return verdict_fail(v, V_HARNESS, "mkdir %s: %s", d, strerror(errno)), -1;
    }
    r->aux_port = harness_free_port(r);
    if (r->aux_port < 0)
        return verdict_fail(v, V_HARNESS, "no free port on 127.0.0.1"), -1;
    snprintf(r->netconf, sizeof r->netconf, "%s/net.conf", r->dir);
    snprintf(r->net, sizeof r->net, "%s", r->test->net ? r->test->net : "");
    if (net_write_conf(r) < 0)
        return verdict_fail(v, V_HARNESS, "cannot write %s: %s", r->netconf, strerror(errno)),
               -1;
    return 0;
}

/* A test that asks for drops, duplicates or delays and got none says nothing about the lab:
 * the fault library was not loaded (a static binary ignores LD_PRELOAD) or did not act. */
static void check_injected(struct run *r, struct verdict *v)
{
    static const struct {
        const char *directive;
        int stat;
    } want[] = {{"drop", NS_DROPPED}, {"dup", NS_DUPLICATED}, {"delay", NS_DELAYED},
                {"reorder", NS_DELAYED}};
    long long sum[NS_N];
    int lines = net_stats(r->dir, sum);
    for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
        const char *d = strstr(r->test->net ? r->test->net : "", want[k].directive);
        if (!d || strtod(d + strlen(want[k].directive), NULL) <= 0 || sum[want[k].stat] > 0)
            continue;
        verdict_fail(v, V_HARNESS, "the test asks for '%s' but the fault library injected none "
                                   "(%d node stats; is %s a static binary, or LD_PRELOAD lost?)",
                     want[k].directive, lines < 0 ? 0 : lines, r->lab->bin);
    }
}

int run_test(struct run *r, struct verdict *v)
{
    if (harness_init() < 0)
        return verdict_fail(v, V_HARNESS, "pipe: %s", strerror(errno)), -1;
    current = r;
    double deadline = mono_ms() + r->test->timeout_ms * r->opt->slow;
    bool set_up = false;
    if (prepare(r, v) == 0 && (!r->test->setup || (set_up = true, r->test->setup(r, v) == 0))) {
        phase_start(r, deadline, v);
        if (v->kind == V_PASS)
            phase_run(r, deadline, v);
    }
    phase_stop(r, v);
    if (set_up && r->test->teardown)
        r->test->teardown(r, v);
    for (int k = 0; k < G_MAXAUX; k++)
        harness_stop_aux(r, k, 2000);
    report_sanitizers(r, v);
    if (v->kind == V_PASS)
        check_injected(r, v);
    if (interrupted)
        verdict_fail(v, V_HARNESS, "interrupted");
    else if (!verdict_has(v, V_HARNESS) && r->test->check) /* also after a timeout or a stall */
        r->test->check(r, v);
    for (int i = 0; i < r->n; i++) {
        if (r->node[i].log_fd >= 0)
            close(r->node[i].log_fd);
        if (r->node[i].elog_fd >= 0)
            close(r->node[i].elog_fd);
    }
    current = NULL;
    return interrupted ? -1 : 0;
}
