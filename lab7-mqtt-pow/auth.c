/* auth.c - the group key file (lab3's code), signed payloads and their freshness (auth.h). */
#include "auth.h"

#include <errno.h>
#include <inttypes.h>
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

static void to_hex(const uint8_t *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
}

static int hex_val(uint8_t c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The tag of topic '\0' body[0..len). */
static void tag_of(const struct hmac_sha256 *key, const char *topic, const void *body, size_t len,
                   uint8_t out[HMAC_SHA256_LEN])
{
    struct hmac_sha256 h = *key; /* a copy per message: the key is processed once */
    hmac_sha256_update(&h, topic, strlen(topic) + 1);
    hmac_sha256_update(&h, body, len);
    hmac_sha256_final(&h, out);
}

size_t auth_sign(const struct hmac_sha256 *key, const char *topic, char *buf, size_t len,
                 size_t cap, uint64_t stamp)
{
    int n = len < cap ? snprintf(buf + len, cap - len, "\n%" PRIu64, stamp) : -1;
    if (n < 0 || (size_t)n + 1 + 2 * HMAC_SHA256_LEN >= cap - len)
        return 0;
    len += (size_t)n;
    uint8_t tag[HMAC_SHA256_LEN];
    tag_of(key, topic, buf, len, tag);
    buf[len++] = ' ';
    to_hex(tag, sizeof tag, buf + len);
    len += 2 * HMAC_SHA256_LEN;
    buf[len] = '\0';
    return len;
}

/* Split p[0..len) into <json> '\n' <stamp> ' ' <hex tag>: the offset of the '\n', of the ' ',
 * the stamp and the tag; false if it is not shaped so. */
static bool split(const uint8_t *p, size_t len, size_t *nl, size_t *sp, uint64_t *stamp,
                  uint8_t tag[HMAC_SHA256_LEN])
{
    const size_t hex = 2 * HMAC_SHA256_LEN;
    if (len < hex + 3 || p[len - hex - 1] != ' ')
        return false;
    *sp = len - hex - 1;
    for (size_t i = 0; i < HMAC_SHA256_LEN; i++) {
        int hi = hex_val(p[*sp + 1 + 2 * i]), lo = hex_val(p[*sp + 2 + 2 * i]);
        if (hi < 0 || lo < 0)
            return false;
        tag[i] = (uint8_t)(hi << 4 | lo);
    }
    size_t i = *sp;
    uint64_t v = 0;
    while (i > 0 && p[i - 1] >= '0' && p[i - 1] <= '9' && *sp - i < 20)
        i--;
    if (i == *sp || i == 0 || p[i - 1] != '\n')
        return false;
    for (size_t k = i; k < *sp; k++) {
        unsigned d = (unsigned)(p[k] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false; /* 20 digits above UINT64_MAX */
        v = v * 10 + d;
    }
    *nl = i - 1;
    *stamp = v;
    return true;
}

bool auth_looks_signed(const uint8_t *p, size_t len)
{
    size_t nl, sp;
    uint64_t stamp;
    uint8_t tag[HMAC_SHA256_LEN];
    return split(p, len, &nl, &sp, &stamp, tag);
}

const char *auth_verify(const struct hmac_sha256 *key, const char *topic, const uint8_t *p,
                        size_t len, size_t *json_len, uint64_t *stamp)
{
    size_t nl, sp;
    uint8_t got[HMAC_SHA256_LEN], want[HMAC_SHA256_LEN];
    if (!split(p, len, &nl, &sp, stamp, got))
        return "bad-mac"; /* missing or malformed: no tag to check */
    tag_of(key, topic, p, sp, want);
    if (!hmac_equal(got, want, sizeof want))
        return "bad-mac";
    *json_len = nl;
    return NULL;
}

/* The guard's entry for sender: found, or a new one (evicting the least recently heard). */
static int guard_slot(struct auth_guard *g, uint32_t sender)
{
    int oldest = 0;
    for (int i = 0; i < g->n; i++) {
        if (g->e[i].sender == sender)
            return i;
        if (g->e[i].newest < g->e[oldest].newest)
            oldest = i;
    }
    int i = g->n < AUTH_SENDERS ? g->n++ : oldest;
    memset(&g->e[i], 0, sizeof g->e[i]);
    g->e[i].sender = sender;
    return i;
}

const char *auth_check_fresh(struct auth_guard *g, uint32_t sender, unsigned topic, uint64_t stamp,
                             uint64_t now_us, enum auth_kind kind)
{
    uint64_t gap = stamp > now_us ? stamp - now_us : now_us - stamp;
    if (topic >= AUTH_TOPICS || (kind == AUTH_LIVE && gap > (uint64_t)AUTH_WINDOW_US))
        return "stale";
    int i = guard_slot(g, sender);
    uint64_t last = g->e[i].last[topic];
    if (kind == AUTH_RETAINED ? stamp < last : stamp <= last)
        return "replay";
    g->e[i].last[topic] = stamp;
    if (stamp > g->e[i].newest)
        g->e[i].newest = stamp;
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
