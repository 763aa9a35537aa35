/* copy.h - grading a student's copy: where the kit is, which lab a directory holds, building it,
 * and where its logs go. */
#ifndef COPY_H
#define COPY_H

#include <stddef.h>

#include "grader.h"

/* The top of the kit, from the grader's own path (ROOT/grading/build/grade, or build-asan/...,
 * read from /proc/self/exe), so the grader works from any directory. Falls back to the current
 * directory when the binary is not inside a kit. Returns 0, or -1 with errno. */
int copy_find_root(char *out, size_t cap);

/* The lab a copy holds: its directory's name starts with the lab's "labN-" (or is "labN"), or
 * else its Makefile builds exactly one lab's program. NULL when neither tells; why then says what
 * was looked for. */
const struct lab *copy_infer_lab(const char *dir, char *why, size_t cap);

/* Default logs of a copy: ROOT/grading/logs/<basename of dir>-<8 hex digits of a hash of its
 * absolute path>, so two copies (or two students' copies both named lab1-lamport) never share. */
void copy_logs_dir(const char *root, const char *dir, char *out, size_t cap);

/* `make -C dir` (with SAN=asan / SAN=tsan for build-asan / build-tsan), output to log, stopped
 * after timeout_s. Returns 0 when it built, 1 when --build names no build the lab Makefiles know
 * (nothing is built), -1 when make failed or timed out: msg then says how and quotes the tail of
 * the compiler's output. */
#define COPY_BUILD_TIMEOUT_S 600 /* a lab builds in seconds; generous for a loaded machine */
int copy_build(const char *dir, const char *build, const char *log, int timeout_s, char *msg,
               size_t cap);

#endif
