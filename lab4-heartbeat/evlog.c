/* evlog.c - event lines: one `key=value` line per event, written with a single write(2). */
#define _POSIX_C_SOURCE 200809L
#include "evlog.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Set once at start-up, before any thread exists; read-only afterwards. */
static int ev_node = -1;
static int ev_fd = 1;

void evlog_init(int node_id) { ev_node = node_id; }

void evlog_set_fd(int fd) { ev_fd = fd; }

double evlog_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Write all of buf; a pipe write of <= PIPE_BUF bytes is atomic, so one call suffices
 * in practice, but a terminal may take less, and a signal may interrupt us. */
static void write_all(const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(ev_fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* stdout is gone: nothing sensible left to do with the line */
        buf += n;
        len -= (size_t)n;
    }
}

void evlog(const char *fmt, ...)
{
    char line[EVLOG_MAX];
    const size_t tail = 40; /* room kept for " trunc=1 t=<ms>\n" */
    int n = snprintf(line, sizeof line, "node=%d ", ev_node);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - tail, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n;
    if (m > 0)
        len += (size_t)m < sizeof line - (size_t)n - tail ? (size_t)m
                                                           : sizeof line - (size_t)n - tail - 1;
    if (m >= 0 && (size_t)m >= sizeof line - (size_t)n - tail)
        len += (size_t)snprintf(line + len, sizeof line - len, " trunc=1");
    len += (size_t)snprintf(line + len, sizeof line - len, " t=%.3f\n", evlog_now_ms());
    write_all(line, len);
}
