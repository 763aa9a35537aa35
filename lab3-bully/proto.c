/* proto.c - encode and decode the 16-byte Bully frame described in proto.h. */
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
