/* mqtt_client.c - MQTT session logic over net.c: the socket side of mqtt_codec.c. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mqtt_client.h"
#include "mqtt_codec.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

void mqtt_client_init(struct mqtt_client *c)
{
    memset(c, 0, sizeof *c);
    c->keepalive = 5;
    c->next_id = 1;
}

void mqtt_client_free(struct mqtt_client *c)
{
    mqtt_client_drop(c);
    for (int i = 0; i < c->ninflight; i++) {
        free(c->inflight[i].topic);
        free(c->inflight[i].payload);
    }
    c->ninflight = 0;
}

bool mqtt_client_connected(const struct mqtt_client *c)
{
    return c->net != NULL;
}

int mqtt_client_fd(const struct mqtt_client *c)
{
    return c->net ? net_fd(c->net) : -1;
}

void mqtt_client_drop(struct mqtt_client *c)
{
    net_close(c->net);
    c->net = NULL;
    c->subscribed = false;
    c->inlen = 0;
    c->skip = 0;
    c->ping_sent_ms = 0;
}

static int send_raw(struct mqtt_client *c, const uint8_t *buf, size_t len)
{
    if (!c->net || len == 0)
        return -1;
    if (net_write(c->net, buf, len) < 0) {
        mqtt_client_drop(c);
        return -1;
    }
    c->last_send_ms = now_ms();
    return 0;
}

/* 2.3.1: non-zero, and not one still in flight. */
static uint16_t new_id(struct mqtt_client *c)
{
    for (;;) {
        uint16_t id = c->next_id++;
        if (c->next_id == 0)
            c->next_id = 1;
        bool used = false;
        for (int i = 0; i < c->ninflight; i++)
            used |= c->inflight[i].id == id;
        if (id && !used)
            return id;
    }
}

static int send_publish(struct mqtt_client *c, const char *topic, const void *payload, size_t len,
                        int qos, bool retain, bool dup, uint16_t id)
{
    size_t cap = len + strlen(topic) + 16;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return -1;
    struct mqtt_publish p = {topic, strlen(topic), payload, len, (uint8_t)qos, retain, dup, id};
    size_t n = mqtt_encode_publish(buf, cap, &p);
    int rc = n ? send_raw(c, buf, n) : -1;
    free(buf);
    if (rc == 0)
        c->sent++;
    return rc;
}

int mqtt_client_publish(struct mqtt_client *c, const char *topic, const void *payload, size_t len,
                        int qos, bool retain)
{
    if (qos == 0)
        return c->net ? send_publish(c, topic, payload, len, 0, retain, false, 0) : -1;
    if (c->ninflight == MQTT_INFLIGHT)
        return -1;
    struct mqtt_pending *p = &c->inflight[c->ninflight];
    p->topic = strdup(topic);
    p->payload = malloc(len ? len : 1);
    if (!p->topic || !p->payload) {
        free(p->topic);
        free(p->payload);
        return -1;
    }
    memcpy(p->payload, payload, len);
    p->len = len;
    p->retain = retain;
    p->id = new_id(c);
    c->ninflight++;
    /* Disconnected (or the send fails): it goes out (DUP) on the next connection. */
    if (c->net)
        send_publish(c, topic, payload, len, 1, retain, false, p->id);
    return 0;
}

static void acked(struct mqtt_client *c, uint16_t id)
{
    for (int i = 0; i < c->ninflight; i++)
        if (c->inflight[i].id == id) {
            free(c->inflight[i].topic);
            free(c->inflight[i].payload);
            c->inflight[i] = c->inflight[--c->ninflight];
            return;
        }
}

/* Read until one whole packet is in c->in, with a deadline: only used before the session is up. */
static int read_packet(struct mqtt_client *c, struct mqtt_packet *p, int timeout_ms)
{
    double end = now_ms() + timeout_ms;
    for (;;) {
        int n = mqtt_decode(c->in, c->inlen, p);
        if (n != 0)
            return n;
        if (c->inlen == sizeof c->in)
            return -1;
        if (!net_pending(c->net)) {
            struct pollfd pfd = {net_fd(c->net), POLLIN, 0};
            int left = (int)(end - now_ms());
            if (left <= 0 || poll(&pfd, 1, left) <= 0)
                return -1;
        }
        ssize_t r = net_read(c->net, c->in + c->inlen, sizeof c->in - c->inlen);
        if (r == 0 || r == -1)
            return -1;
        if (r > 0)
            c->inlen += (size_t)r;
    }
}

static void consume(struct mqtt_client *c, size_t n)
{
    memmove(c->in, c->in + n, c->inlen - n);
    c->inlen -= n;
}

/* 3.1 CONNECT and 3.2 CONNACK. */
static int handshake(struct mqtt_client *c, char *err, size_t cap)
{
    uint8_t buf[512];
    struct mqtt_connect cn = {c->client_id, c->keepalive,        true,  c->will_topic,
                              c->will_msg,  strlen(c->will_msg), 1,     false,
                              c->username,  c->password};
    size_t n = mqtt_encode_connect(buf, sizeof buf, &cn);
    if (send_raw(c, buf, n) < 0)
        return snprintf(err, cap, "sending CONNECT failed"), -1;
    struct mqtt_packet p;
    int got = read_packet(c, &p, 5000);
    if (got <= 0 || p.type != MQTT_CONNACK)
        return snprintf(err, cap, "no CONNACK from the broker"), -1;
    consume(c, (size_t)got);
    static const char *const why[] = {"", "protocol version", "client id", "server unavailable",
                                      "bad user name or password", "not authorized"};
    if (p.u.connack.rc != 0) /* 3.2.2.3: 1..5 are refusals (bad protocol, id, auth, ...) */
        return snprintf(err, cap, "the broker refused the connection: CONNACK code %u (%s)",
                        p.u.connack.rc, p.u.connack.rc <= 5 ? why[p.u.connack.rc] : "?"),
               -2;
    return 0;
}

int mqtt_client_connect(struct mqtt_client *c, char *err, size_t cap)
{
    mqtt_client_drop(c);
    bool fatal;
    c->net = net_open(c->host, c->port, c->cafile, &fatal, err, cap);
    if (!c->net)
        return fatal ? -2 : -1;
    c->tls = net_is_tls(c->net);
    int rc = handshake(c, err, cap);
    if (rc < 0) {
        mqtt_client_drop(c);
        return rc;
    }
    uint8_t buf[512], qos[MQTT_MAX_TOPICS];
    memset(qos, 1, sizeof qos);
    c->sub_id = new_id(c);
    size_t n = mqtt_encode_subscribe(buf, sizeof buf, c->sub_id, c->topics, qos, c->ntopics);
    if (send_raw(c, buf, n) < 0)
        return snprintf(err, cap, "sending SUBSCRIBE failed"), -1;
    /* §4.4: unacknowledged QoS 1 PUBLISH packets go out again, with DUP set. */
    for (int i = 0; i < c->ninflight && c->net; i++) {
        struct mqtt_pending *p = &c->inflight[i];
        if (send_publish(c, p->topic, p->payload, p->len, 1, p->retain, true, p->id) == 0)
            c->resent++;
    }
    if (!c->net)
        return snprintf(err, cap, "connection lost while re-sending"), -1;
    c->connects++;
    return 0;
}

/* One decoded packet from the broker. */
static int handle(struct mqtt_client *c, const struct mqtt_packet *p)
{
    switch (p->type) {
    case MQTT_PUBLISH: {
        const struct mqtt_publish *m = &p->u.publish;
        char topic[256];
        if (m->topic_len >= sizeof topic)
            return 0; /* not one of ours */
        memcpy(topic, m->topic, m->topic_len);
        topic[m->topic_len] = '\0';
        if (m->qos == 1) { /* 4.3.2: acknowledge, then deliver */
            uint8_t ack[4];
            if (send_raw(c, ack, mqtt_encode_puback(ack, sizeof ack, m->id)) < 0)
                return -1;
        }
        c->received++;
        c->on_message(c->ctx, topic, m->payload, m->payload_len, m->retain);
        return 0;
    }
    case MQTT_PUBACK: acked(c, p->u.id); return 0;
    case MQTT_SUBACK:
        if (p->u.suback.id != c->sub_id || c->subscribed)
            return 0;
        c->subscribed = true;
        c->on_subscribed(c->ctx); /* before the retained messages that follow it */
        return 0;
    case MQTT_PINGRESP: c->ping_sent_ms = 0; return 0;
    default: return 0; /* a second CONNACK: nothing to do */
    }
}

/* The whole length of the packet at the start of c->in, 0 if its header is not complete. */
static size_t packet_len(const struct mqtt_client *c)
{
    uint32_t rl;
    int n = c->inlen > 1 ? mqtt_rl_decode(c->in + 1, c->inlen - 1, &rl) : 0;
    return n > 0 ? 1 + (size_t)n + rl : 0;
}

/* The packet at the start of c->in is a PUBLISH too long for c->in (checked by the caller):
 * acknowledge it if QoS 1 (3.3.4) so the broker does not hold it in flight, tell the owner,
 * and skip its bytes as they arrive. -1 if the PUBACK could not be sent. */
static int skip_oversized(struct mqtt_client *c, size_t total)
{
    const uint8_t *b = c->in;
    uint32_t rl;
    size_t at = 1 + (size_t)mqtt_rl_decode(b + 1, c->inlen - 1, &rl);
    size_t tl = (size_t)b[at] << 8 | b[at + 1]; /* c->in is full: the header is in it */
    char topic[256] = "";
    if (tl < sizeof topic)
        memcpy(topic, b + at + 2, tl), topic[tl] = '\0';
    if (((b[0] >> 1) & 3) == 1 && at + 2 + tl + 2 <= c->inlen) {
        uint16_t id = (uint16_t)(b[at + 2 + tl] << 8 | b[at + 3 + tl]);
        uint8_t ack[4];
        if (send_raw(c, ack, mqtt_encode_puback(ack, sizeof ack, id)) < 0)
            return -1;
    }
    c->received++;
    if (c->on_oversized)
        c->on_oversized(c->ctx, topic, total);
    c->skip = total;
    return 0;
}

/* Throw away what we have of a skipped packet; true while more of it is to come. */
static bool skipping(struct mqtt_client *c)
{
    size_t k = c->skip < c->inlen ? c->skip : c->inlen;
    consume(c, k);
    c->skip -= k;
    return c->skip > 0;
}

int mqtt_client_readable(struct mqtt_client *c, char *err, size_t cap)
{
    if (!c->net) /* dropped since poll() looked (a failed send in between) */
        return snprintf(err, cap, "connection lost"), -1;
    do {
        ssize_t r = net_read(c->net, c->in + c->inlen, sizeof c->in - c->inlen);
        if (r == 0 || r == -1) {
            snprintf(err, cap, r == 0 ? "the broker closed the connection" : "read error");
            mqtt_client_drop(c);
            return -1;
        }
        if (r > 0)
            c->inlen += (size_t)r;
        for (;;) {
            if (c->skip && skipping(c))
                break;
            struct mqtt_packet p;
            int n = mqtt_decode(c->in, c->inlen, &p);
            size_t total = n == 0 ? packet_len(c) : 0;
            if (total > sizeof c->in && p.type == MQTT_PUBLISH && c->inlen == sizeof c->in) {
                if (skip_oversized(c, total) < 0)
                    return snprintf(err, cap, "connection lost"), -1;
                continue;
            }
            if (total > sizeof c->in && p.type != MQTT_PUBLISH)
                n = MQTT_E_LEN; /* only a PUBLISH may be long: this one is malformed */
            if (n < 0) {
                snprintf(err, cap, "malformed packet from the broker: %s", mqtt_strerror(n));
                mqtt_client_drop(c);
                return -1;
            }
            if (n == 0)
                break;
            if (handle(c, &p) < 0 || !c->net)
                return snprintf(err, cap, "connection lost"), mqtt_client_drop(c), -1;
            consume(c, (size_t)n);
        }
    } while (c->net && net_pending(c->net));
    return 0;
}

double mqtt_client_deadline(const struct mqtt_client *c)
{
    if (!c->net || c->keepalive == 0)
        return -1;
    if (c->ping_sent_ms > 0) /* no answer within the keep-alive: the connection is dead */
        return c->ping_sent_ms + c->keepalive * 1000.0;
    return c->last_send_ms + c->keepalive * 500.0; /* ping at half the keep-alive */
}

int mqtt_client_tick(struct mqtt_client *c, double now, char *err, size_t cap)
{
    if (!c->net || c->keepalive == 0 || now < mqtt_client_deadline(c))
        return 0;
    if (c->ping_sent_ms > 0) {
        snprintf(err, cap, "no PINGRESP within %u s", c->keepalive);
        mqtt_client_drop(c);
        return -1;
    }
    uint8_t buf[2];
    if (send_raw(c, buf, mqtt_encode_empty(buf, sizeof buf, MQTT_PINGREQ)) < 0)
        return snprintf(err, cap, "sending PINGREQ failed"), -1;
    c->ping_sent_ms = now;
    return 0;
}

void mqtt_client_disconnect(struct mqtt_client *c)
{
    uint8_t buf[2];
    if (c->net && send_raw(c, buf, mqtt_encode_empty(buf, sizeof buf, MQTT_DISCONNECT)) == 0) {
        net_close_gracefully(c->net, 1000); /* 3.14.4: the broker closes once it has read it */
        c->net = NULL;
    }
    mqtt_client_drop(c);
}
