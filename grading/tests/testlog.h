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

#endif
