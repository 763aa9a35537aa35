/* mqtt_codec.c - MQTT 3.1.1 (OASIS, 29 Oct 2014) packet encode/decode, pure: no I/O, no globals.
 * Section numbers below are the standard's. */
#include <string.h>

#include "mqtt_codec.h"

const char *mqtt_strerror(int err)
{
    switch (err) {
    case MQTT_E_RL: return "remaining length longer than 4 bytes";
    case MQTT_E_TYPE: return "packet type a client does not accept";
    case MQTT_E_FLAGS: return "bad fixed-header flags";
    case MQTT_E_LEN: return "remaining length disagrees with the fields";
    case MQTT_E_TOPIC: return "bad topic name";
    case MQTT_E_ID: return "packet identifier 0";
    default: return "unknown error";
    }
}

/* ---- 2.2.3 Remaining Length ---- */

int mqtt_rl_encode(uint32_t len, uint8_t out[4])
{
    if (len > MQTT_RL_MAX)
        return 0;
    int n = 0;
    do {
        uint8_t b = len % 128;
        len /= 128;
        out[n++] = len > 0 ? (uint8_t)(b | 0x80) : b;
    } while (len > 0);
    return n;
}

int mqtt_rl_decode(const uint8_t *buf, size_t len, uint32_t *out)
{
    uint32_t value = 0, mult = 1;
    for (size_t i = 0; i < 4; i++) {
        if (i == len)
            return 0;
        value += (uint32_t)(buf[i] & 0x7f) * mult;
        if (!(buf[i] & 0x80)) {
            *out = value;
            return (int)i + 1;
        }
        mult *= 128;
    }
    return MQTT_E_RL; /* a fifth byte would be needed: "Malformed Remaining Length" */
}

/* ---- writing helpers: w tracks the position, and becomes 0 on overflow ---- */

struct writer {
    uint8_t *buf;
    size_t cap, pos;
    bool ok;
};

static void put(struct writer *w, const void *p, size_t n)
{
    if (!w->ok || n > w->cap - w->pos) {
        w->ok = false;
        return;
    }
    if (n)
        memcpy(w->buf + w->pos, p, n);
    w->pos += n;
}

static void put_u8(struct writer *w, uint8_t v)
{
    put(w, &v, 1);
}

/* 1.5.2 Integer data values: big-endian 16 bits. */
static void put_u16(struct writer *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(w, b, 2);
}

/* 1.5.3 UTF-8 encoded strings (and 3.1.3.3 Will Message): 16-bit length prefix. */
static void put_bytes16(struct writer *w, const void *p, size_t n)
{
    if (n > 65535) {
        w->ok = false;
        return;
    }
    put_u16(w, (uint16_t)n);
    put(w, p, n);
}

/* 2.2 Fixed header: type and flags, then the Remaining Length. */
static void put_header(struct writer *w, uint8_t first, size_t body)
{
    uint8_t rl[4];
    int n = body <= MQTT_RL_MAX ? mqtt_rl_encode((uint32_t)body, rl) : 0;
    if (n == 0) {
        w->ok = false;
        return;
    }
    put_u8(w, first);
    put(w, rl, (size_t)n);
}

static size_t done(const struct writer *w)
{
    return w->ok ? w->pos : 0;
}

/* ---- encoders ---- */

size_t mqtt_encode_connect(uint8_t *buf, size_t cap, const struct mqtt_connect *c)
{
    struct writer w = {buf, cap, 0, true};
    size_t idlen = strlen(c->client_id);
    bool will = c->will_topic != NULL;
    /* 3.1.2 variable header: Protocol Name "MQTT" (6 bytes), Level 4, Flags, Keep Alive. */
    size_t body = 6 + 1 + 1 + 2 + 2 + idlen;
    if (will)
        body += 2 + strlen(c->will_topic) + 2 + c->will_len;
    if (c->username)
        body += 2 + strlen(c->username);
    if (c->password)
        body += 2 + strlen(c->password);
    if (c->will_qos > 2 || (c->password && !c->username)) /* 3.1.2.9: no password alone */
        return 0;
    put_header(&w, MQTT_CONNECT << 4, body);
    put_bytes16(&w, "MQTT", 4);
    put_u8(&w, 4); /* 3.1.2.2 Protocol Level: 4 is 3.1.1 */
    uint8_t flags = 0;
    if (c->clean_session)
        flags |= 0x02; /* 3.1.2.4 Clean Session */
    if (will) {
        flags |= 0x04;                        /* 3.1.2.5 Will Flag */
        flags |= (uint8_t)(c->will_qos << 3); /* 3.1.2.6 Will QoS */
        if (c->will_retain)
            flags |= 0x20; /* 3.1.2.7 Will Retain */
    }
    if (c->username)
        flags |= 0x80; /* 3.1.2.8 User Name Flag */
    if (c->password)
        flags |= 0x40; /* 3.1.2.9 Password Flag */
    put_u8(&w, flags); /* bit 0 reserved, 0 (3.1.2.3) */
    put_u16(&w, c->keepalive);
    put_bytes16(&w, c->client_id, idlen); /* 3.1.3.1 Client Identifier */
    if (will) {
        put_bytes16(&w, c->will_topic, strlen(c->will_topic)); /* 3.1.3.2 Will Topic */
        put_bytes16(&w, c->will_msg, c->will_len);             /* 3.1.3.3 Will Message */
    }
    if (c->username)
        put_bytes16(&w, c->username, strlen(c->username)); /* 3.1.3.4 User Name */
    if (c->password)
        put_bytes16(&w, c->password, strlen(c->password)); /* 3.1.3.5 Password */
    return done(&w);
}

size_t mqtt_encode_publish(uint8_t *buf, size_t cap, const struct mqtt_publish *p)
{
    struct writer w = {buf, cap, 0, true};
    if (p->qos > 2 || p->topic_len == 0 || (p->qos > 0 && p->id == 0))
        return 0;
    /* 3.3.1: DUP (bit 3), QoS (bits 2-1), RETAIN (bit 0). */
    uint8_t first =
        (uint8_t)(MQTT_PUBLISH << 4 | (p->dup ? 0x08 : 0) | p->qos << 1 | (p->retain ? 0x01 : 0));
    size_t body = 2 + p->topic_len + (p->qos ? 2 : 0) + p->payload_len;
    put_header(&w, first, body);
    put_bytes16(&w, p->topic, p->topic_len); /* 3.3.2.1 Topic Name */
    if (p->qos)
        put_u16(&w, p->id);              /* 3.3.2.2 Packet Identifier */
    put(&w, p->payload, p->payload_len); /* 3.3.3 Payload */
    return done(&w);
}

size_t mqtt_encode_subscribe(uint8_t *buf, size_t cap, uint16_t id, const char *const *topics,
                             const uint8_t *qos, int n)
{
    struct writer w = {buf, cap, 0, true};
    if (id == 0 || n <= 0) /* 3.8.3-3: at least one topic filter */
        return 0;
    size_t body = 2;
    for (int i = 0; i < n; i++)
        body += 2 + strlen(topics[i]) + 1;
    put_header(&w, MQTT_SUBSCRIBE << 4 | 0x02, body); /* 3.8.1: flags 0010 */
    put_u16(&w, id);
    for (int i = 0; i < n; i++) {
        if (qos[i] > 2)
            return 0;
        put_bytes16(&w, topics[i], strlen(topics[i]));
        put_u8(&w, qos[i]); /* 3.8.3.1 Requested QoS */
    }
    return done(&w);
}

size_t mqtt_encode_puback(uint8_t *buf, size_t cap, uint16_t id)
{
    struct writer w = {buf, cap, 0, true};
    put_header(&w, MQTT_PUBACK << 4, 2); /* 3.4 */
    put_u16(&w, id);
    return done(&w);
}

size_t mqtt_encode_empty(uint8_t *buf, size_t cap, enum mqtt_type type)
{
    struct writer w = {buf, cap, 0, true};
    if (type != MQTT_PINGREQ && type != MQTT_DISCONNECT) /* 3.12, 3.14 */
        return 0;
    put_header(&w, (uint8_t)(type << 4), 0);
    return done(&w);
}

/* ---- decoder ---- */

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* 3.3: the PUBLISH variable header and payload in body[0..n). */
static int decode_publish(uint8_t flags, const uint8_t *body, uint32_t n, struct mqtt_publish *p)
{
    p->qos = (flags >> 1) & 3;
    p->dup = flags & 0x08;
    p->retain = flags & 0x01;
    if (p->qos == 3) /* 3.3.1.2: a QoS of 3 is malformed */
        return MQTT_E_FLAGS;
    if (n < 2)
        return MQTT_E_LEN;
    uint32_t tlen = get_u16(body);
    if (tlen == 0 || tlen > n - 2) /* 4.7.3: at least one character; must fit */
        return MQTT_E_TOPIC;
    p->topic = (const char *)body + 2;
    p->topic_len = tlen;
    if (memchr(p->topic, '\0', tlen)) /* 1.5.3: U+0000 not allowed */
        return MQTT_E_TOPIC;
    uint32_t pos = 2 + tlen;
    p->id = 0;
    if (p->qos > 0) {
        if (n - pos < 2)
            return MQTT_E_LEN;
        p->id = get_u16(body + pos);
        if (p->id == 0) /* 2.3.1-1: non-zero */
            return MQTT_E_ID;
        pos += 2;
    }
    p->payload = body + pos;
    p->payload_len = n - pos;
    return 0;
}

/* 2.2.2: flags every packet type but PUBLISH must carry (the ones a client receives). */
static int check_type(enum mqtt_type t, uint8_t flags)
{
    switch (t) {
    case MQTT_PUBLISH: return 0;
    case MQTT_CONNACK:
    case MQTT_PUBACK:
    case MQTT_SUBACK:
    case MQTT_PINGRESP: return flags == 0 ? 0 : MQTT_E_FLAGS;
    default: return MQTT_E_TYPE; /* CONNECT, SUBSCRIBE, ... go client->server only */
    }
}

static int decode_body(struct mqtt_packet *p, const uint8_t *body, uint32_t n)
{
    switch (p->type) {
    case MQTT_CONNACK: /* 3.2: two bytes; only bit 0 of the first may be set */
        if (n != 2)
            return MQTT_E_LEN;
        if (body[0] & 0xfe)
            return MQTT_E_FLAGS;
        p->u.connack.session_present = body[0] & 1;
        p->u.connack.rc = body[1];
        return 0;
    case MQTT_PUBLISH: return decode_publish(p->flags, body, n, &p->u.publish);
    case MQTT_PUBACK: /* 3.4: exactly the Packet Identifier */
        if (n != 2)
            return MQTT_E_LEN;
        p->u.id = get_u16(body);
        return p->u.id ? 0 : MQTT_E_ID;
    case MQTT_SUBACK: /* 3.9: identifier, then one return code per filter */
        if (n < 3)
            return MQTT_E_LEN;
        p->u.suback.id = get_u16(body);
        p->u.suback.n = (int)(n - 2);
        for (uint32_t i = 0; i < n - 2 && i < 8; i++)
            p->u.suback.rc[i] = body[2 + i];
        return p->u.suback.id ? 0 : MQTT_E_ID;
    case MQTT_PINGRESP: return n == 0 ? 0 : MQTT_E_LEN; /* 3.13 */
    default: return MQTT_E_TYPE;
    }
}

int mqtt_decode(const uint8_t *buf, size_t len, struct mqtt_packet *p)
{
    if (len < 1)
        return 0;
    memset(p, 0, sizeof *p);
    p->type = (enum mqtt_type)(buf[0] >> 4);
    p->flags = buf[0] & 0x0f;
    int err = check_type(p->type, p->flags);
    if (err) /* refuse early: no need to wait for the body of a packet we will not take */
        return err;
    uint32_t rl;
    int n = mqtt_rl_decode(buf + 1, len - 1, &rl);
    if (n <= 0)
        return n;
    size_t total = 1 + (size_t)n + rl;
    if (len < total)
        return 0;
    err = decode_body(p, buf + 1 + n, rl);
    return err ? err : (int)total;
}
