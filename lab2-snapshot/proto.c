/* proto.c - encode and decode lab2 frames, plain or signed (see proto.h for the layout). */
#include "proto.h"

#include <string.h>

static size_t payload_len(uint8_t type)
{
    switch (type) {
    case PROTO_HELLO:
    case PROTO_WELCOME: return 2;
    case PROTO_XFER: return 8;
    case PROTO_MARKER: return 6;
    case PROTO_REPORT: return 30;
    default: return 0;
    }
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

size_t proto_encode(const struct proto_msg *m, uint8_t *buf, size_t cap)
{
    size_t plen = payload_len(m->type);
    if (plen == 0 || cap < PROTO_HDR_LEN + plen)
        return 0;
    uint8_t *p = buf + PROTO_HDR_LEN;
    buf[0] = PROTO_MAGIC0, buf[1] = PROTO_MAGIC1, buf[2] = PROTO_VERSION, buf[3] = m->type;
    put16(buf + 4, (uint16_t)plen);
    switch (m->type) {
    case PROTO_HELLO:
    case PROTO_WELCOME: put16(p, m->from); break;
    case PROTO_XFER: put32(p, m->seq), put32(p + 4, m->gold); break;
    case PROTO_MARKER: put16(p, m->init), put32(p + 2, m->n); break;
    case PROTO_REPORT:
        put16(p, m->init), put32(p + 2, m->n), put16(p + 6, m->from), p[8] = m->ok;
        put32(p + 9, m->gold), put32(p + 13, m->life), put32(p + 17, m->score);
        p[21] = m->items, put32(p + 22, m->chan_gold), put32(p + 26, m->chan_msgs);
        break;
    }
    return PROTO_HDR_LEN + plen;
}

/* The fields of a payload whose length has been checked already. */
static int decode_payload(const uint8_t *p, struct proto_msg *m)
{
    switch (m->type) {
    case PROTO_HELLO:
    case PROTO_WELCOME: m->from = get16(p); break;
    case PROTO_XFER: m->seq = get32(p), m->gold = get32(p + 4); break;
    case PROTO_MARKER: m->init = get16(p), m->n = get32(p + 2); break;
    case PROTO_REPORT:
        m->init = get16(p), m->n = get32(p + 2), m->from = get16(p + 6), m->ok = p[8];
        m->gold = get32(p + 9), m->life = get32(p + 13), m->score = get32(p + 17);
        m->items = p[21], m->chan_gold = get32(p + 22), m->chan_msgs = get32(p + 26);
        if (m->ok > 1)
            return PROTO_EVALUE;
        break;
    }
    if (m->from >= PROTO_MAX_NODES || m->init >= PROTO_MAX_NODES)
        return PROTO_EVALUE;
    return 0;
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32)), put32(p + 4, (uint32_t)v);
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* The header of a frame of version `want`: the frame's whole length (>0), 0 if more bytes
 * are needed, or a proto_error. Each byte is checked as soon as it is there, so garbage is
 * caught without waiting for bytes that may never come. */
static int check_header(const uint8_t *buf, size_t len, int want, size_t extra)
{
    if (len >= 1 && buf[0] != PROTO_MAGIC0)
        return PROTO_EMAGIC;
    if (len >= 2 && buf[1] != PROTO_MAGIC1)
        return PROTO_EMAGIC;
    if (len >= 3 && buf[2] != want) {
        if (buf[2] == PROTO_VERSION_SIGNED)
            return PROTO_ENOKEY; /* a group with a key: say so rather than "bad version" */
        return buf[2] == PROTO_VERSION ? PROTO_EMAC : PROTO_EVERSION; /* no tag at all */
    }
    if (len >= 4 && payload_len(buf[3]) == 0)
        return PROTO_ETYPE;
    if (len < PROTO_HDR_LEN)
        return 0;
    size_t plen = get16(buf + 4);
    if (plen != payload_len(buf[3]))
        return PROTO_ELEN;
    return len < PROTO_HDR_LEN + plen + extra ? 0 : (int)(PROTO_HDR_LEN + plen + extra);
}

int proto_decode(const uint8_t *buf, size_t len, struct proto_msg *out)
{
    int flen = check_header(buf, len, PROTO_VERSION, 0);
    if (flen <= 0)
        return flen;
    memset(out, 0, sizeof *out);
    out->type = buf[3];
    int err = decode_payload(buf + PROTO_HDR_LEN, out);
    return err < 0 ? err : flen;
}

/* The tag of the n bytes before it. */
static void sign(const struct hmac_sha256 *key, const uint8_t *buf, size_t n,
                 uint8_t tag[PROTO_TAG_LEN])
{
    struct hmac_sha256 h = *key; /* a copy: the caller's keyed context stays reusable */
    hmac_sha256_update(&h, buf, n);
    hmac_sha256_final(&h, tag);
}

size_t proto_encode_signed(const struct proto_msg *m, const struct hmac_sha256 *key, uint8_t *buf,
                           size_t cap)
{
    size_t n = proto_encode(m, buf, cap);
    if (n == 0 || cap < n + PROTO_SIGNED_EXTRA)
        return 0;
    buf[2] = PROTO_VERSION_SIGNED;
    put16(buf + n, m->sender), put16(buf + n + 2, m->to), put64(buf + n + 4, m->stamp);
    sign(key, buf, n + 12, buf + n + 12);
    return n + PROTO_SIGNED_EXTRA;
}

int proto_decode_signed(const uint8_t *buf, size_t len, const struct hmac_sha256 *key,
                        struct proto_msg *out)
{
    uint8_t tag[PROTO_TAG_LEN];
    int flen = check_header(buf, len, PROTO_VERSION_SIGNED, PROTO_SIGNED_EXTRA);
    if (flen <= 0)
        return flen;
    size_t signed_len = (size_t)flen - PROTO_TAG_LEN;
    sign(key, buf, signed_len, tag);
    if (!hmac_equal(tag, buf + signed_len, PROTO_TAG_LEN))
        return PROTO_EMAC;
    /* Authentic from here on, but a member's bug can still send a bad value. */
    memset(out, 0, sizeof *out);
    out->type = buf[3];
    int err = decode_payload(buf + PROTO_HDR_LEN, out);
    const uint8_t *t = buf + signed_len - 12;
    out->sender = get16(t), out->to = get16(t + 2), out->stamp = get64(t + 4);
    if (err == 0 && (out->sender >= PROTO_MAX_NODES || out->to >= PROTO_MAX_NODES))
        err = PROTO_EVALUE;
    return err < 0 ? err : flen;
}

const char *proto_strerror(int err)
{
    switch (err) {
    case PROTO_EMAGIC: return "bad_magic";
    case PROTO_EVERSION: return "bad_version";
    case PROTO_ETYPE: return "bad_type";
    case PROTO_ELEN: return "bad_length";
    case PROTO_EVALUE: return "bad_value";
    case PROTO_ENOKEY: return "needs-key";
    case PROTO_EMAC: return "bad-mac";
    default: return "bad_frame";
    }
}
