/* report.h - print results the way xv6's `make grade` does, and write Gradescope's results.json. */
#ifndef REPORT_H
#define REPORT_H

#include <stdio.h>

#include "grader.h"

struct result {
    struct verdict v;
    double secs;
    uint64_t seed;
    char info[512];  /* the checker's numbers */
    char net[256];   /* what faultnet injected */
    char rerun[256]; /* one command that reruns exactly this */
    char logs[512];
};

struct report {
    int score, max;
    int ntests;
    int notrun, notrun_pts; /* tests given V_NOTRUN (--fail-fast): 0 points, counted apart */
    bool interrupted;
    char *json;  /* the tests[] array being built (open_memstream) */
    size_t jlen;
    FILE *jf;
    char *fails; /* one recap line per failed test, printed again just before the score */
    size_t flen;
    FILE *ff;
};

void report_init(struct report *rep);
/* Sum the FAULTNET_STATS lines of a run into "dropped=.. duplicated=..". */
void report_faultnet(const char *dir, char *out, size_t cap);
/* One `== lab: test == OK (1.2s)` line, and on failure the reason, seed, rerun and logs. */
void report_line(const struct options *o, const struct lab *lab, const struct gtest *t,
                 const struct result *res, int run_no);
/* Score a test: full points only if every run passed. shown is the result to put in JSON. */
void report_add(struct report *rep, const struct lab *lab, const struct gtest *t, int passes,
                int runs, const struct result *shown);
/* Recap the failed tests (the tail of a long log names them), print `Score: N/M`; write
 * results.json if json is not NULL. */
void report_finish(struct report *rep, const char *json);

#endif
