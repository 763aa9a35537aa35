/* auth.c - read the group key file; decide whether a signed datagram is fresh (auth.h). */
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Read at most cap bytes of fd into buf; one byte more than cap is read to tell "too long".
 * Returns how many, or -1 with errno. */
static ssize_t read_all(int fd, uint8_t *buf, size_t cap)
{
    size_t len = 0;
    while (len <= cap) {
        ssize_t n = read(fd, buf + len, cap + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        len += (size_t)n;
    }
    return (ssize_t)len;
}

int auth_load_key(const char *path, struct hmac_sha256 *key, char *err, size_t cap)
{
    static uint8_t buf[AUTH_KEY_MAX + 1]; /* start-up only, one thread */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, cap, "--key %s: %s", path, strerror(errno));
        return -1;
    }
    ssize_t n = read_all(fd, buf, AUTH_KEY_MAX);
    int saved = errno;
    close(fd);
    int rc = -1;
    if (n < 0)
        snprintf(err, cap, "--key %s: %s", path, strerror(saved));
    else if (n < AUTH_KEY_MIN)
        snprintf(err, cap,
                 "--key %s: %zd bytes is too short for a key (at least %d; make one "
                 "with: head -c 32 /dev/urandom > %s)",
                 path, n, AUTH_KEY_MIN, path);
    else if (n > AUTH_KEY_MAX)
        snprintf(err, cap, "--key %s: longer than %d bytes, not a key file", path, AUTH_KEY_MAX);
    else {
        hmac_sha256_init(key, buf, (size_t)n);
        rc = 0;
    }
    memset(buf, 0, sizeof buf); /* the key lives on only inside *key */
    return rc;
}

static struct auth_window *window_of(struct auth_guard *g, const char *name)
{
    struct auth_window *free_w = NULL;
    for (int i = 0; i < AUTH_MAX_SENDERS; i++) {
        if (!strcmp(g->w[i].name, name))
            return &g->w[i];
        if (!free_w && g->w[i].name[0] == '\0')
            free_w = &g->w[i];
    }
    if (free_w)
        strcpy(free_w->name, name);
    return free_w;
}

/* Like RFC 4303's anti-replay window (section 3.4.3), but over stamps that are not consecutive:
 * instead of a bitmap below the highest, the set of the last accepted stamps. Every stamp ever
 * accepted that is at least the set's lowest is in the set (only the lowest is ever evicted), so
 * "not in the set and not below its lowest" means "never accepted". */
const char *auth_check_fresh(struct auth_guard *g, const struct proto_msg *m, uint64_t now_us)
{
    uint64_t gap = m->stamp > now_us ? m->stamp - now_us : now_us - m->stamp;
    if (gap > (uint64_t)AUTH_WINDOW_US)
        return "stale";
    struct auth_window *w = window_of(g, m->from);
    if (!w)
        return "too-many-peers";
    int low = 0;
    for (int i = 0; i < w->n; i++) {
        if (w->seen[i] == m->stamp)
            return "replay";
        if (w->seen[i] < w->seen[low])
            low = i;
    }
    if (w->n < AUTH_REPLAY_WINDOW)
        w->seen[w->n++] = m->stamp;
    else if (m->stamp < w->seen[low])
        return "stale"; /* below the window: it may have been accepted and evicted */
    else
        w->seen[low] = m->stamp;
    return NULL;
}

uint64_t auth_next_stamp(uint64_t *last, uint64_t now_us)
{
    *last = now_us > *last ? now_us : *last + 1;
    return *last;
}

uint64_t auth_wall_us(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        abort(); /* cannot happen on Linux */
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
