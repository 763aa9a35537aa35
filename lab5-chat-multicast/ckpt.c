/* ckpt.c - checkpoint format (README "Checkpoints"):
 *   "RACK" | version u16 | reserved u16 (0) | payload length u32 | crc32(payload) u32 | payload
 * payload: user | boot u32 | next_seq u32 | lc u64 | npeers u16 x (name, ip u32, port u16)
 *          | nmsgs u32 x (author, seq u32, lts u64, tlen u16, text)
 * Names are a length byte and that many bytes; integers big-endian. Every field is bounds-checked
 * on the way in: a checkpoint is data, never code (the seed used pickle). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ckpt.h"

#define HDR 16

uint32_t ckpt_crc32(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= b[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

struct buf {
    uint8_t *p;
    size_t len, cap, pos;
    int bad;
};

static void put(struct buf *b, uint64_t v, int bytes)
{
    if (b->bad)
        return;
    if (b->len + (size_t)bytes > b->cap) {
        size_t cap = b->cap * 2 + 256;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->bad = 1;
            return;
        }
        b->p = p, b->cap = cap;
    }
    for (int i = bytes - 1; i >= 0; i--)
        b->p[b->len++] = (uint8_t)(v >> (8 * i));
}

static void put_str(struct buf *b, const char *s, int lenbytes)
{
    size_t n = strlen(s);
    put(b, n, lenbytes);
    for (size_t i = 0; i < n; i++)
        put(b, (uint8_t)s[i], 1);
}

uint8_t *ckpt_encode(const struct ckpt_state *st, size_t *len)
{
    struct buf b = {0};
    for (int i = 0; i < 4; i++)
        put(&b, (uint8_t)CKPT_MAGIC[i], 1);
    put(&b, CKPT_VERSION, 2), put(&b, 0, 2), put(&b, 0, 4), put(&b, 0, 4); /* patched below */
    put_str(&b, st->user, 1);
    put(&b, st->boot, 4), put(&b, st->next_seq, 4), put(&b, st->lc, 8);
    put(&b, (uint64_t)st->npeers, 2);
    for (int i = 0; i < st->npeers; i++)
        put_str(&b, st->peer[i].name, 1), put(&b, st->peer[i].ip, 4), put(&b, st->peer[i].port, 2);
    put(&b, st->history.n, 4);
    for (size_t i = 0; i < st->history.n; i++) {
        const struct chatmsg *m = st->history.m[i];
        put_str(&b, m->author, 1), put(&b, m->seq, 4), put(&b, m->lts, 8);
        put_str(&b, m->text, 2);
    }
    if (b.bad) {
        free(b.p);
        return NULL;
    }
    size_t plen = b.len - HDR;
    uint32_t crc = ckpt_crc32(b.p + HDR, plen);
    for (int i = 0; i < 4; i++) {
        b.p[8 + i] = (uint8_t)(plen >> (24 - 8 * i));
        b.p[12 + i] = (uint8_t)(crc >> (24 - 8 * i));
    }
    *len = b.len;
    return b.p;
}

static uint64_t get(struct buf *b, int bytes)
{
    uint64_t v = 0;
    if (b->bad || b->pos + (size_t)bytes > b->len) {
        b->bad = 1;
        return 0;
    }
    for (int i = 0; i < bytes; i++)
        v = v << 8 | b->p[b->pos++];
    return v;
}

static void get_str(struct buf *b, char *out, size_t max, int lenbytes)
{
    size_t n = (size_t)get(b, lenbytes);
    out[0] = '\0';
    /* A NUL inside the length is refused too: "alice\0junk" must not load as "alice". */
    if (b->bad || n > max || b->pos + n > b->len || memchr(b->p + b->pos, '\0', n)) {
        b->bad = 1;
        return;
    }
    memcpy(out, b->p + b->pos, n);
    out[n] = '\0';
    b->pos += n;
}

static int decode_msgs(struct buf *b, struct store *h, const char **why)
{
    uint32_t n = (uint32_t)get(b, 4);
    for (uint32_t i = 0; i < n && !b->bad; i++) {
        struct chatmsg m;
        get_str(b, m.author, PROTO_NAMELEN, 1);
        m.seq = (uint32_t)get(b, 4), m.lts = get(b, 8);
        get_str(b, m.text, PROTO_MAXTEXT, 2);
        if (b->bad)
            break;
        if (!proto_name_ok(m.author) || m.seq == 0 || !proto_text_ok(m.text, strlen(m.text)))
            return *why = "bad message record", -1;
        int rc = store_add(h, &m);
        if (rc == -3)
            return *why = "too many authors", -1;
        if (rc < 0)
            return *why = rc == -2 ? "out of memory" : "duplicate or conflicting message record",
                   -1;
    }
    return b->bad ? (*why = "truncated payload", -1) : 0;
}

static int decode_payload(struct buf *b, struct ckpt_state *st, const char **why)
{
    get_str(b, st->user, PROTO_NAMELEN, 1);
    st->boot = (uint32_t)get(b, 4), st->next_seq = (uint32_t)get(b, 4), st->lc = get(b, 8);
    st->npeers = (int)get(b, 2);
    /* next_seq near 2^32 would wrap on the next sends (STORE_SEQ_WINDOW of room is kept) */
    if (b->bad || !proto_name_ok(st->user) || st->next_seq == 0 ||
        st->next_seq > UINT32_MAX - STORE_SEQ_WINDOW)
        return *why = "bad header fields", -1;
    if (st->npeers > CKPT_MAXPEERS)
        return *why = "too many peers", -1;
    for (int i = 0; i < st->npeers; i++) {
        get_str(b, st->peer[i].name, PROTO_NAMELEN, 1);
        st->peer[i].ip = (uint32_t)get(b, 4), st->peer[i].port = (uint16_t)get(b, 2);
        if (!b->bad && !proto_name_ok(st->peer[i].name))
            return *why = "bad peer name", -1;
    }
    if (decode_msgs(b, &st->history, why) < 0)
        return -1;
    if (b->pos != b->len)
        return *why = "trailing bytes", -1;
    return 0;
}

int ckpt_decode(const uint8_t *p, size_t len, struct ckpt_state *st, const char **why)
{
    struct buf b = {.p = (uint8_t *)p, .len = len};
    if (len < HDR)
        return *why = "truncated header", -1;
    if (memcmp(p, CKPT_MAGIC, 4) != 0)
        return *why = "bad magic (not a checkpoint)", -1;
    b.pos = 4;
    if (get(&b, 2) != CKPT_VERSION)
        return *why = "unknown version", -1;
    if (get(&b, 2) != 0)
        return *why = "reserved field not zero", -1;
    uint64_t plen = get(&b, 4);
    uint32_t crc = (uint32_t)get(&b, 4);
    if (plen != len - HDR)
        return *why = "length mismatch (truncated file)", -1;
    if (ckpt_crc32(p + HDR, (size_t)plen) != crc)
        return *why = "checksum mismatch (corrupted file)", -1;
    int rc = decode_payload(&b, st, why);
    if (rc < 0) {
        store_free(&st->history);
        store_init(&st->history);
    }
    return rc;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

static void fsync_dir(const char *path)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd); /* makes the rename durable; failure here only weakens durability */
        close(fd);
    }
}

int ckpt_save(const char *path, const struct ckpt_state *st, int slow_ms, size_t *bytes)
{
    size_t len;
    uint8_t *data = ckpt_encode(st, &len);
    if (!data)
        return errno = ENOMEM, -1;
    char tmp[640], prev[640];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    snprintf(prev, sizeof prev, "%s.prev", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = fd < 0 ? -1 : write_all(fd, data, len);
    if (rc == 0)
        rc = fsync(fd);
    if (fd >= 0 && close(fd) != 0)
        rc = -1;
    free(data);
    if (rc != 0)
        return -1;
    if (slow_ms > 0) { /* test-only (--ckpt-slow-ms): widen the window a kill -9 can hit */
        struct timespec ts = {slow_ms / 1000, (long)(slow_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    /* The previous good checkpoint stays as .prev: a later bit flip in the new one still leaves
     * something to start from. A crash between the two renames leaves only .prev: loadable. */
    if (rename(path, prev) != 0 && errno != ENOENT)
        return -1;
    if (rename(tmp, path) != 0)
        return -1;
    fsync_dir(path);
    *bytes = len;
    return 0;
}

int ckpt_load(const char *path, struct ckpt_state *st, const char **why)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return *why = errno == ENOENT ? "missing" : "unreadable", -1;
    size_t cap = 4096, len = 0;
    uint8_t *p = malloc(cap);
    size_t got;
    while (p && (got = fread(p + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            uint8_t *q = cap < (64u << 20) ? realloc(p, cap * 2) : NULL;
            if (!q) {
                free(p);
                p = NULL;
                break;
            }
            p = q, cap *= 2;
        }
    }
    fclose(f);
    if (!p)
        return *why = "too large or out of memory", -1;
    int rc = ckpt_decode(p, len, st, why);
    free(p);
    return rc;
}
