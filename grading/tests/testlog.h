/* testlog.h - a run built from hand-made event lines, for the checker tests (tests/check_*.c):
 * each checker must pass a good log and fail a bad one without starting any process. */
#ifndef TESTLOG_H
#define TESTLOG_H

#include "grader.h"

/* Free what r holds, zero it, and give it n nodes. */
void tl_reset(struct run *r, int n);
/* Parse line (the test fails if it is not an event line) and append it to its node's log, with
 * the next seq and the given life (0 for a node's first run). */
void tl_add(struct run *r, const char *line, int life);
/* The grading test `name` of lab `dir`; the test fails if there is none. */
const struct gtest *tl_test(const char *dir, const char *name);

/* ---- the shorthand every check_*.c uses: one run R, checked against the tests of tl_lab ---- */

extern struct run R;
/* The lab whose tests find_test() and check() name: each test program sets it in main(). */
extern const char *tl_lab;
/* check() calls the test's setup first (lab6: it resets what the injectors recorded). */
extern bool tl_setup;

void run_reset(int n); /* tl_reset(&R, n) */
/* A line of the node's first life. */
void add(const char *line);
void addf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A line of a later life; the node's current incarnation becomes that life, as a running node's. */
void add_life(const char *line, int life);
const struct gtest *find_test(const char *name);
/* The verdict of test name's checker on R (R.info cleared first: one check, one line of numbers).
 */
struct verdict check(const char *name);
/* The test fails unless check(test) gives kind with words in its message / passes. */
void expect_fail(const char *test, enum verdict_kind kind, const char *words);
void expect_pass(const char *test);

#endif
