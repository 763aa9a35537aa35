/* proto.c - encode and decode the 16-byte Bully frame and its 56-byte signed form (proto.h). */
#include "proto.h"

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

size_t proto_encode(const struct proto_msg *m, uint8_t *buf, size_t cap)
{
    if (cap < PROTO_LEN)
        return 0;
    buf[0] = PROTO_MAGIC0;
    buf[1] = PROTO_MAGIC1;
    buf[2] = PROTO_VERSION;
    buf[3] = m->type;
    put16(buf + 4, m->sender);
    put16(buf + 6, 0);
    put32(buf + 8, m->round);
    put32(buf + 12, m->seq);
    return PROTO_LEN;
}

int proto_decode(const uint8_t *buf, size_t len, struct proto_msg *out)
{
    /* The magic first: a stray datagram from another program is "bad magic"
     * even when it happens to be short, which is the more useful diagnosis. */
    if (len >= 2 && (buf[0] != PROTO_MAGIC0 || buf[1] != PROTO_MAGIC1))
        return PROTO_EMAGIC;
    if (len >= 3 && buf[2] == PROTO_VERSION_SIGNED)
        return PROTO_ENOKEY; /* a group with a key: say so rather than "bad version" */
    if (len < PROTO_LEN)
        return PROTO_ETRUNC;
    if (len > PROTO_LEN)
        return PROTO_ETRAILING;
    if (buf[2] != PROTO_VERSION)
        return PROTO_EVERSION;
    if (buf[3] < PROTO_ELECTION || buf[3] > PROTO_HEARTBEAT)
        return PROTO_ETYPE;
    if (get16(buf + 6) != 0)
        return PROTO_ERESERVED;
    out->type = buf[3];
    out->sender = get16(buf + 4);
    out->round = get32(buf + 8);
    out->seq = get32(buf + 12);
    out->to = 0;
    out->stamp = 0;
    return (int)len;
}

/* The tag of the first 24 bytes of a signed frame. */
static void sign(const struct hmac_sha256 *key, const uint8_t *buf, uint8_t tag[PROTO_TAG_LEN])
{
    struct hmac_sha256 h = *key; /* a copy: the caller's keyed context stays reusable */
    hmac_sha256_update(&h, buf, PROTO_SIGNED_LEN - PROTO_TAG_LEN);
    hmac_sha256_final(&h, tag);
}

size_t proto_encode_signed(const struct proto_msg *m, const struct hmac_sha256 *key, uint8_t *buf,
                           size_t cap)
{
    if (cap < PROTO_SIGNED_LEN || proto_encode(m, buf, cap) == 0)
        return 0;
    buf[2] = PROTO_VERSION_SIGNED;
    put16(buf + 6, m->to);
    put64(buf + 16, m->stamp);
    sign(key, buf, buf + PROTO_SIGNED_LEN - PROTO_TAG_LEN);
    return PROTO_SIGNED_LEN;
}

int proto_decode_signed(const uint8_t *buf, size_t len, const struct hmac_sha256 *key,
                        struct proto_msg *out)
{
    uint8_t tag[PROTO_TAG_LEN];
    if (len >= 2 && (buf[0] != PROTO_MAGIC0 || buf[1] != PROTO_MAGIC1))
        return PROTO_EMAGIC;
    if (len >= 3 && buf[2] == PROTO_VERSION)
        return PROTO_EMAC; /* an unsigned frame: its tag is missing */
    if (len < PROTO_SIGNED_LEN)
        return PROTO_ETRUNC;
    if (len > PROTO_SIGNED_LEN)
        return PROTO_ETRAILING;
    if (buf[2] != PROTO_VERSION_SIGNED)
        return PROTO_EVERSION;
    sign(key, buf, tag);
    if (!hmac_equal(tag, buf + PROTO_SIGNED_LEN - PROTO_TAG_LEN, PROTO_TAG_LEN))
        return PROTO_EMAC;
    /* Authentic from here on, but a member's bug can still send a bad type. */
    if (buf[3] < PROTO_ELECTION || buf[3] > PROTO_HEARTBEAT)
        return PROTO_ETYPE;
    out->type = buf[3];
    out->sender = get16(buf + 4);
    out->to = get16(buf + 6);
    out->round = get32(buf + 8);
    out->seq = get32(buf + 12);
    out->stamp = get64(buf + 16);
    return (int)len;
}

const char *proto_strerror(int code)
{
    switch (code) {
    case PROTO_ETRUNC: return "truncated";
    case PROTO_ETRAILING: return "trailing-bytes";
    case PROTO_EMAGIC: return "bad-magic";
    case PROTO_EVERSION: return "bad-version";
    case PROTO_ETYPE: return "bad-type";
    case PROTO_ERESERVED: return "bad-reserved";
    case PROTO_ENOKEY: return "needs-key";
    case PROTO_EMAC: return "bad-mac";
    default: return "unknown-error";
    }
}

const char *proto_type_name(int type)
{
    switch (type) {
    case PROTO_ELECTION: return "ELECTION";
    case PROTO_ANSWER: return "ANSWER";
    case PROTO_COORDINATOR: return "COORDINATOR";
    case PROTO_HEARTBEAT: return "HEARTBEAT";
    default: return "?";
    }
}
