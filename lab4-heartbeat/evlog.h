/* evlog.h - event lines: one `key=value` line per event, written with a single write(2). */
#ifndef EVLOG_H
#define EVLOG_H

/*
 * The line is `node=<id> <your fields> t=<monotonic ms>\n`. Because it is
 * built in one buffer and written with one write(2) of at most EVLOG_MAX
 * bytes (<= PIPE_BUF), lines from different threads never interleave when
 * stdout is a pipe, which is how the grader reads them. See common/EVENTS.md.
 */
#define EVLOG_MAX 4096

void evlog_init(int node_id);
void evlog_set_fd(int fd); /* default 1 (stdout); tests point it at a pipe */

/* printf-style body, e.g. evlog("lc=%llu ev=send to=%d", lc, to). */
void evlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* CLOCK_MONOTONIC in milliseconds; the same clock as the t= key. */
double evlog_now_ms(void);

#endif
