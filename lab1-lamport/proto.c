/* proto.c - encode and decode lab1 datagrams, field by field, in network byte order. */
#include "proto.h"

/* Field offsets: the diagram in proto.h, as numbers. */
enum {
    OFF_MAGIC = 0,
    OFF_VERSION = 2,
    OFF_KIND = 3,
    OFF_SENDER = 4,
    OFF_VLEN = 6,
    OFF_SEQ = 8,
    OFF_LC = 12,
    OFF_VC = 20,
};

/* Big-endian by shifts: the same bytes on any CPU, and no need for htonl()
 * or a 64-bit variant of it, which POSIX does not have. */
static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

/* The casts matter: p[0] alone is promoted to int, and shifting a byte
 * >= 0x80 into an int's sign bit is undefined behaviour. */
static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

size_t proto_frame_len(uint16_t vlen)
{
    return PROTO_HDR_LEN + 8 * (size_t)vlen;
}

size_t proto_encode(const struct lc_msg *m, uint8_t *buf, size_t cap)
{
    if (m->vlen > PROTO_MAX_NODES)
        return 0;
    size_t len = proto_frame_len(m->vlen);
    if (cap < len)
        return 0;
    buf[OFF_MAGIC] = PROTO_MAGIC0;
    buf[OFF_MAGIC + 1] = PROTO_MAGIC1;
    buf[OFF_VERSION] = PROTO_VERSION;
    buf[OFF_KIND] = m->kind;
    put16(buf + OFF_SENDER, m->sender);
    put16(buf + OFF_VLEN, m->vlen);
    put32(buf + OFF_SEQ, m->seq);
    put64(buf + OFF_LC, m->lc);
    for (size_t i = 0; i < m->vlen; i++)
        put64(buf + OFF_VC + 8 * i, m->vc[i]);
    return len;
}

/* Check the parts that tell us how to read the rest: magic, version, kind,
 * vlen, and that the length is exactly what vlen implies. A UDP datagram
 * arrives whole, so a short one is malformed, not "wait for more". */
static int check_header(const uint8_t *buf, size_t len)
{
    if (len < PROTO_HDR_LEN)
        return PROTO_ETRUNC;
    if (buf[OFF_MAGIC] != PROTO_MAGIC0 || buf[OFF_MAGIC + 1] != PROTO_MAGIC1)
        return PROTO_EMAGIC;
    if (buf[OFF_VERSION] != PROTO_VERSION)
        return PROTO_EVERSION;
    if (buf[OFF_KIND] != PROTO_KIND_CLOCK)
        return PROTO_EKIND;
    uint16_t vlen = get16(buf + OFF_VLEN);
    if (vlen > PROTO_MAX_NODES)
        return PROTO_EVLEN;
    if (len < proto_frame_len(vlen))
        return PROTO_ETRUNC;
    if (len > proto_frame_len(vlen))
        return PROTO_ETRAILING;
    return 0;
}

int proto_decode(const uint8_t *buf, size_t len, struct lc_msg *out)
{
    int rc = check_header(buf, len);
    if (rc < 0)
        return rc;
    out->kind = buf[OFF_KIND];
    out->sender = get16(buf + OFF_SENDER);
    out->vlen = get16(buf + OFF_VLEN);
    out->seq = get32(buf + OFF_SEQ);
    out->lc = get64(buf + OFF_LC);
    /* STEP 4: refuse absurd clocks before any clock sees them (PROTO_CLOCK_MAX says why). */
    if (out->lc > PROTO_CLOCK_MAX)
        return PROTO_ECLOCK;
    for (size_t i = 0; i < out->vlen; i++) {
        out->vc[i] = get64(buf + OFF_VC + 8 * i);
        if (out->vc[i] > PROTO_CLOCK_MAX)
            return PROTO_ECLOCK;
    }
    return (int)len; /* len <= PROTO_MAX_FRAME here, so it fits */
}

const char *proto_strerror(int code)
{
    switch (code) {
    case PROTO_ETRUNC: return "truncated";
    case PROTO_ETRAILING: return "trailing-bytes";
    case PROTO_EMAGIC: return "bad-magic";
    case PROTO_EVERSION: return "bad-version";
    case PROTO_EKIND: return "bad-kind";
    case PROTO_EVLEN: return "bad-vlen";
    case PROTO_ECLOCK: return "absurd-clock";
    default: return "unknown-error";
    }
}
