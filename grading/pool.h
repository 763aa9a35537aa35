/* pool.h - run grading runs in parallel child processes and hand their results back in order. */
#ifndef POOL_H
#define POOL_H

#include "grader.h"
#include "report.h"

/* One grading run: a test of a lab at a seed; run is 0.. within the test's --repeat. */
struct pool_job {
    const struct lab *lab;
    const struct gtest *test;
    uint64_t seed;
    int run;
};

/* Runs in a child process: one run of job, its result into res; returns -1 when interrupted. */
typedef int (*pool_run_fn)(void *ctx, const struct pool_job *job, struct result *res);
/* Runs in the grader, once per started job, in job order: rc is run's return value. */
typedef void (*pool_done_fn)(void *ctx, const struct pool_job *job, const struct result *res,
                             int rc);

/* Runs in the grader before a job would start: true means do not run it (it is reported to done
 * all the same, with a zeroed result of kind V_NOTRUN and rc 0). May be NULL. */
typedef bool (*pool_skip_fn)(void *ctx, const struct pool_job *job);

#define POOL_MAXJOBS 16

/* Run jobs[0..n) with at most width at a time (1..POOL_MAXJOBS), each in its own child process
 * (the harness keeps one run's state in statics and owns SIGCHLD), child k of the width taking
 * its ports from slot k (harness_port_slot). done() sees job i only once jobs 0..i finished.
 * SIGINT or SIGTERM starts no more jobs and interrupts the running ones (their nodes are
 * stopped); every started job is still reported. Returns -1 if interrupted, else 0. */
int pool_run(const struct pool_job *jobs, int n, int width, pool_run_fn run, pool_done_fn done,
             pool_skip_fn skip, void *ctx);

/* The default width: runs mostly wait on their nodes' timers, so three per core, at least 2;
 * under valgrind or TSan (CPU-bound) one per core. */
int pool_default_width(const struct options *o);

#endif
