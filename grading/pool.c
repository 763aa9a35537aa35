/* pool.c - run grading runs in parallel child processes and hand their results back in order. */
#define _GNU_SOURCE /* pipe2 */
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * Why processes and not threads: the harness keeps a run's state in statics (the self-pipe, the
 * interrupted flag, the run being killed), reaps with waitpid(-1) and owns SIGINT/SIGTERM/SIGCHLD.
 * A child per run gets all of that to itself. It sends its struct result back through a pipe
 * (written whole before it exits; the pipe holds 64 KiB, more than a result) and exits.
 *
 * The parent never runs a test. It starts jobs in table order, at most width at a time, and
 * reports job i when every job before it has been reported, so the output reads as a serial run.
 * A job may run ahead of the first unreported one by at most POOL_WINDOW jobs: their results wait
 * in a ring. One poll() loop; signals only write a byte to a self-pipe.
 */

#define POOL_WINDOW 256
#define POOL_STOP_MS 15000 /* after SIGINT, how long a child may take to stop its nodes */

struct msg {
    int rc;
    struct result res;
};

struct child {
    pid_t pid; /* 0: this slot is free */
    int fd;    /* the result pipe's read end */
    int job;
    size_t got;
    struct msg m;
};

struct waiting {
    bool done;
    int rc;
    struct result res;
};

static int sig_pipe[2] = {-1, -1};
static volatile sig_atomic_t signals; /* SIGINT/SIGTERM received */

static void on_signal(int sig)
{
    int saved = errno;
    char c = (char)sig;
    signals++;
    if (write(sig_pipe[1], &c, 1) < 0) { /* full: a wake-up is already pending */
    }
    errno = saved;
}

int pool_default_width(const struct options *o)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int w = cpus < 1 ? 1 : cpus > POOL_MAXJOBS ? POOL_MAXJOBS : (int)cpus;
    /* Measured here (2 cores): a whole native grade uses ~16 s of CPU in 50-260 s, an ASan one
     * 44 s in 55 s, a TSan one 65 s in 151 s at two runs at once: three runs per core.
     * Memcheck makes nodes CPU-bound (x20, and ~0.8 s of CPU to start each): one per core. */
    if (!o->valgrind)
        w *= 3;
    if (w < 2)
        w = 2;
    return w > POOL_MAXJOBS ? POOL_MAXJOBS : w;
}

static void write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t k = write(fd, p, len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return;
        p += k;
        len -= (size_t)k;
    }
}

/* In the child: never returns. */
static void child_main(const struct pool_job *job, int slot, int width, int fd, pool_run_fn run,
                       void *ctx, const struct child *kids)
{
    pid_t parent = getppid();
    /* If the grader dies, so does this run; its nodes die with it (their own PDEATHSIG). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    for (int k = 0; k < width; k++)
        if (kids[k].pid > 0)
            close(kids[k].fd);
    signal(SIGINT, SIG_DFL); /* until the harness installs its own handlers */
    signal(SIGTERM, SIG_DFL);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    harness_port_slot(slot, width);
    static struct msg m;
    memset(&m, 0, sizeof m);
    m.rc = run(ctx, job, &m.res);
    write_all(fd, &m, sizeof m);
    _exit(0); /* not exit(): stdio buffers copied from the parent are the parent's to flush */
}

static int start(const struct pool_job *jobs, int i, int slot, int width, struct child *kids,
                 pool_run_fn run, void *ctx)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    fflush(NULL); /* nothing buffered is copied into the child */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &old); /* a signal now is the child's, after its reset */
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        child_main(&jobs[i], slot, width, p[1], run, ctx, kids);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        return -1;
    }
    kids[slot] = (struct child){.pid = pid, .fd = p[0], .job = i};
    return 0;
}

/* The child's pipe is at EOF: reap it; its result, or why there is none, goes to w. */
static void finish(struct child *c, struct waiting *w, const struct pool_job *job)
{
    int status = 0;
    close(c->fd);
    while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR) {
    }
    c->pid = 0;
    w->done = true;
    if (c->got == sizeof c->m) {
        w->rc = c->m.rc;
        w->res = c->m.res;
        return;
    }
    memset(&w->res, 0, sizeof w->res);
    w->res.seed = job->seed;
    bool stopped = WIFSIGNALED(status) &&
                   (WTERMSIG(status) == SIGINT || WTERMSIG(status) == SIGTERM || signals);
    w->rc = stopped ? -1 : 0;
    if (stopped)
        verdict_fail(&w->res.v, V_HARNESS, "interrupted");
    else if (WIFSIGNALED(status))
        verdict_fail(&w->res.v, V_HARNESS, "the grader's process for this run died of signal %d (%s)",
                     WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        verdict_fail(&w->res.v, V_HARNESS,
                     "the grader's process for this run exited with status %d and no result",
                     WEXITSTATUS(status));
}

/* Read what a child sent; true once its pipe is at EOF. */
static bool drain(struct child *c)
{
    char *buf = (char *)&c->m;
    for (;;) {
        char scratch[256];
        bool room = c->got < sizeof c->m;
        ssize_t k = room ? read(c->fd, buf + c->got, sizeof c->m - c->got)
                         : read(c->fd, scratch, sizeof scratch);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return errno != EAGAIN;
        if (k == 0)
            return true;
        if (room)
            c->got += (size_t)k;
        else
            c->got = sizeof c->m + 1; /* more than a result: not one */
    }
}

/* Forward an interruption to every child (SIGINT from a terminal reached them already; a kill
 * of the grader alone did not); at the second signal or after POOL_STOP_MS, SIGKILL them. */
static void stop_children(struct child *kids, int width, bool hard)
{
    for (int k = 0; k < width; k++)
        if (kids[k].pid > 0)
            kill(kids[k].pid, hard ? SIGKILL : SIGINT);
}

static void wait_round(struct child *kids, int width, struct waiting *ring,
                       const struct pool_job *jobs, double *stop_at, int *seen)
{
    struct pollfd pfd[POOL_MAXJOBS + 1];
    int who[POOL_MAXJOBS + 1], np = 0;
    pfd[np] = (struct pollfd){.fd = sig_pipe[0], .events = POLLIN};
    who[np++] = -1;
    for (int k = 0; k < width; k++)
        if (kids[k].pid > 0) {
            pfd[np] = (struct pollfd){.fd = kids[k].fd, .events = POLLIN};
            who[np++] = k;
        }
    int ms = -1;
    if (*stop_at > 0)
        ms = *stop_at > mono_ms() ? (int)(*stop_at - mono_ms()) + 1 : 0;
    if (poll(pfd, (nfds_t)np, ms) < 0 && errno != EINTR)
        return;
    for (int i = 0; i < np; i++) {
        if (!pfd[i].revents || who[i] < 0)
            continue;
        struct child *c = &kids[who[i]];
        if (drain(c))
            finish(c, &ring[c->job % POOL_WINDOW], &jobs[c->job]);
    }
    char b[64];
    while (read(sig_pipe[0], b, sizeof b) > 0) {
    }
    if (signals > *seen) {
        if (*seen == 0)
            *stop_at = mono_ms() + POOL_STOP_MS;
        stop_children(kids, width, *seen > 0);
        *seen = signals;
    }
    if (*stop_at > 0 && mono_ms() >= *stop_at)
        stop_children(kids, width, true);
}

static int setup_signals(struct sigaction old[2])
{
    if (pipe2(sig_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
        return -1;
    signals = 0;
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old[0]);
    sigaction(SIGTERM, &sa, &old[1]);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

int pool_run(const struct pool_job *jobs, int n, int width, pool_run_fn run, pool_done_fn done,
             pool_skip_fn skip, void *ctx)
{
    static struct waiting ring[POOL_WINDOW];
    struct child kids[POOL_MAXJOBS] = {{0}};
    struct sigaction old[2];
    width = width < 1 ? 1 : width > POOL_MAXJOBS ? POOL_MAXJOBS : width;
    if (setup_signals(old) < 0)
        return -1;
    int next = 0, shown = 0, running = 0, seen = 0;
    double stop_at = 0;
    for (;;) {
        for (int k = 0; k < width && !signals && next < n && next < shown + POOL_WINDOW; k++) {
            if (kids[k].pid > 0)
                continue;
            struct waiting *w = &ring[next % POOL_WINDOW];
            w->done = false;
            if (skip && skip(ctx, &jobs[next])) {
                memset(w, 0, sizeof *w);
                w->done = true;
                w->res.seed = jobs[next].seed;
                w->res.v.kind = V_NOTRUN;
                k--; /* this slot is still free */
            } else if (start(jobs, next, k, width, kids, run, ctx) < 0) {
                memset(w, 0, sizeof *w);
                w->done = true;
                w->res.seed = jobs[next].seed;
                verdict_fail(&w->res.v, V_HARNESS, "fork: %s", strerror(errno));
            }
            next++;
        }
        while (shown < next && ring[shown % POOL_WINDOW].done) {
            struct waiting *w = &ring[shown % POOL_WINDOW];
            done(ctx, &jobs[shown], &w->res, w->rc);
            w->done = false;
            shown++;
        }
        running = 0;
        for (int k = 0; k < width; k++)
            running += kids[k].pid > 0;
        if (running == 0 && (signals || next == n))
            break;
        if (running > 0)
            wait_round(kids, width, ring, jobs, &stop_at, &seen);
    }
    sigaction(SIGINT, &old[0], NULL);
    sigaction(SIGTERM, &old[1], NULL);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    sig_pipe[0] = sig_pipe[1] = -1;
    return signals ? -1 : 0;
}
