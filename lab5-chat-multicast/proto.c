/* proto.c - encode and decode the chat's datagrams (layout in README "The protocol"). */
#include <string.h>

#include "proto.h"

int proto_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > PROTO_NAMELEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int proto_text_ok(const char *s, size_t len)
{
    if (len > PROTO_MAXTEXT)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

/* ---- a cursor that never runs past its end ---- */

struct cur {
    uint8_t *w;       /* encode */
    const uint8_t *r; /* decode */
    size_t len, pos;
    int bad;
    const char *why; /* set by get_name: a more precise reason than "truncated" */
};

static void put(struct cur *c, uint64_t v, int bytes)
{
    if (c->bad || c->pos + (size_t)bytes > c->len) {
        c->bad = 1;
        return;
    }
    for (int i = bytes - 1; i >= 0; i--)
        c->w[c->pos++] = (uint8_t)(v >> (8 * i));
}

static void put_name(struct cur *c, const char *s)
{
    size_t n = strlen(s);
    if (!proto_name_ok(s))
        c->bad = 1;
    put(c, n, 1);
    for (size_t i = 0; i < n; i++)
        put(c, (uint8_t)s[i], 1);
}

static uint64_t get(struct cur *c, int bytes)
{
    uint64_t v = 0;
    if (c->bad || c->pos + (size_t)bytes > c->len) {
        c->bad = 1;
        return 0;
    }
    for (int i = 0; i < bytes; i++)
        v = v << 8 | c->r[c->pos++];
    return v;
}

static void get_name(struct cur *c, char *out)
{
    size_t n = (size_t)get(c, 1);
    out[0] = '\0';
    if (c->bad || n < 1 || n > PROTO_NAMELEN || c->pos + n > c->len) {
        c->bad = 1;
        return;
    }
    /* A NUL inside the length would make "al\0x" read as "al": check every byte sent, not
     * just those up to the first NUL. */
    if (memchr(c->r + c->pos, '\0', n)) {
        c->bad = 1, c->why = "bad-name";
        return;
    }
    memcpy(out, c->r + c->pos, n);
    out[n] = '\0';
    c->pos += n;
    if (!proto_name_ok(out))
        c->bad = 1, c->why = "bad-name";
}

/* Header: 'R' 'A' version kind | boot u32 | from name | lc u64. */
size_t proto_encode(const struct proto_msg *m, uint8_t *buf, size_t cap)
{
    struct cur c = {.w = buf, .len = cap < PROTO_MAXDGRAM ? cap : PROTO_MAXDGRAM};
    put(&c, 'R', 1), put(&c, 'A', 1), put(&c, PROTO_VERSION, 1), put(&c, (uint8_t)m->kind, 1);
    put(&c, m->boot, 4), put_name(&c, m->from), put(&c, m->lc, 8);
    switch (m->kind) {
    case P_HELLO: break;
    case P_REQ:
        put(&c, m->req, 4);
        if (m->nmiss < 0 || m->nmiss > PROTO_MAXLIST)
            return 0;
        put(&c, (uint64_t)m->nmiss, 1);
        for (int i = 0; i < m->nmiss; i++)
            put_name(&c, m->miss[i]);
        break;
    case P_REP: put(&c, m->req, 4), put(&c, m->req_boot, 4), put_name(&c, m->to); break;
    case P_MSG:
        put_name(&c, m->author), put(&c, m->seq, 4), put(&c, m->lts, 8), put(&c, m->tlen, 2);
        if (m->seq == 0 || !proto_text_ok(m->text, m->tlen))
            return 0;
        for (size_t i = 0; i < m->tlen; i++)
            put(&c, (uint8_t)m->text[i], 1);
        break;
    case P_SUM:
        if (m->nsum < 0 || m->nsum > PROTO_MAXLIST)
            return 0;
        put(&c, (uint64_t)m->nsum, 1);
        for (int i = 0; i < m->nsum; i++)
            put_name(&c, m->sum[i].name), put(&c, m->sum[i].prefix, 4), put(&c, m->sum[i].max, 4);
        break;
    default: return 0;
    }
    return c.bad ? 0 : c.pos;
}

static int body(struct cur *c, struct proto_msg *m, const char **why)
{
    switch (m->kind) {
    case P_HELLO: return 0;
    case P_REQ:
        m->req = (uint32_t)get(c, 4);
        m->nmiss = (int)get(c, 1);
        if (m->nmiss > PROTO_MAXLIST)
            return *why = "list-too-long", -1;
        for (int i = 0; i < m->nmiss; i++)
            get_name(c, m->miss[i]);
        return 0;
    case P_REP:
        m->req = (uint32_t)get(c, 4), m->req_boot = (uint32_t)get(c, 4), get_name(c, m->to);
        return 0;
    case P_MSG:
        get_name(c, m->author), m->seq = (uint32_t)get(c, 4), m->lts = get(c, 8);
        m->tlen = (uint16_t)get(c, 2);
        if (c->bad || m->tlen > PROTO_MAXTEXT || c->pos + m->tlen > c->len)
            return *why = "bad-text", -1;
        memcpy(m->text, c->r + c->pos, m->tlen);
        m->text[m->tlen] = '\0';
        c->pos += m->tlen;
        if (m->seq == 0 || !proto_text_ok(m->text, m->tlen))
            return *why = "bad-text", -1;
        return 0;
    case P_SUM:
        m->nsum = (int)get(c, 1);
        if (m->nsum > PROTO_MAXLIST)
            return *why = "list-too-long", -1;
        for (int i = 0; i < m->nsum; i++) {
            get_name(c, m->sum[i].name);
            m->sum[i].prefix = (uint32_t)get(c, 4), m->sum[i].max = (uint32_t)get(c, 4);
        }
        return 0;
    default: return *why = "bad-kind", -1;
    }
}

int proto_decode(const uint8_t *buf, size_t len, struct proto_msg *m, const char **why)
{
    struct cur c = {.r = buf, .len = len};
    memset(m, 0, sizeof *m);
    *why = "truncated";
    if (len > PROTO_MAXDGRAM)
        return *why = "oversize", -1;
    if (len < 4)
        return -1;
    if (buf[0] != 'R' || buf[1] != 'A')
        return *why = "bad-magic", -1;
    if (buf[2] == PROTO_VERSION_SIGNED)
        return *why = "needs-key", -1; /* a group with a key: we were started without it */
    if (buf[2] != PROTO_VERSION)
        return *why = "bad-version", -1;
    c.pos = 3;
    m->kind = (int)get(&c, 1);
    m->boot = (uint32_t)get(&c, 4);
    get_name(&c, m->from);
    m->lc = get(&c, 8);
    if (c.bad)
        return *why = c.why ? c.why : "bad-header", -1;
    if (body(&c, m, why) < 0)
        return c.why ? (*why = c.why, -1) : -1;
    if (c.bad)
        return *why = c.why ? c.why : "truncated", -1;
    if (c.pos != len)
        return *why = "trailing-bytes", -1;
    return (int)len;
}

/* ---- signed datagrams (--key) ---- */

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        *p++ = (uint8_t)(v >> (8 * i));
}

static uint64_t get_be(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | p[i];
    return v;
}

static void tag(const struct hmac_sha256 *key, const uint8_t *buf, size_t len, uint8_t *out)
{
    struct hmac_sha256 h = *key; /* a copy: key stays ready for the next datagram */
    hmac_sha256_update(&h, buf, len);
    hmac_sha256_final(&h, out);
}

size_t proto_encode_signed(const struct proto_msg *m, const struct hmac_sha256 *key, uint8_t *buf,
                           size_t cap)
{
    size_t lim = cap < PROTO_MAXDGRAM ? cap : PROTO_MAXDGRAM;
    if (lim < PROTO_TRAILER)
        return 0;
    size_t n = proto_encode(m, buf, lim - PROTO_TRAILER);
    if (n == 0)
        return 0;
    buf[2] = PROTO_VERSION_SIGNED;
    put_be(buf + n, m->group, 4), put_be(buf + n + 4, m->gport, 2);
    put_be(buf + n + 6, m->stamp, 8);
    tag(key, buf, n + 14, buf + n + 14);
    return n + PROTO_TRAILER;
}

int proto_decode_signed(const uint8_t *buf, size_t len, const struct hmac_sha256 *key,
                        struct proto_msg *m, const char **why)
{
    static uint8_t plain[PROTO_MAXDGRAM]; /* single-threaded callers (the node's loop) */
    uint8_t want[PROTO_TAG_LEN];
    memset(m, 0, sizeof *m);
    if (len > PROTO_MAXDGRAM)
        return *why = "oversize", -1;
    /* A plain datagram, or one too short to hold a tag, has none: refused unread. */
    if (len < 4 + PROTO_TRAILER || buf[2] != PROTO_VERSION_SIGNED)
        return *why = "bad-mac", -1;
    size_t n = len - PROTO_TRAILER;
    tag(key, buf, n + 14, want);
    if (!hmac_equal(want, buf + n + 14, PROTO_TAG_LEN))
        return *why = "bad-mac", -1;
    memcpy(plain, buf, n); /* authentic: now decode the fields as a plain datagram */
    plain[2] = PROTO_VERSION;
    if (proto_decode(plain, n, m, why) < 0)
        return -1;
    m->group = (uint32_t)get_be(buf + n, 4), m->gport = (uint16_t)get_be(buf + n + 4, 2);
    m->stamp = get_be(buf + n + 6, 8);
    return (int)len;
}
