/* mqtt_client.h - an MQTT 3.1.1 client session over net.c, driven by the caller's poll() loop. */
#ifndef MQTT_CLIENT_H
#define MQTT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"

#define MQTT_IN_MAX 65536 /* the longest packet we accept from the broker */
#define MQTT_INFLIGHT 256 /* QoS 1 publishes waiting for their PUBACK */
#define MQTT_MAX_TOPICS 8

struct mqtt_pending {
    uint16_t id;
    bool retain;
    char *topic;
    uint8_t *payload;
    size_t len;
};

typedef void (*mqtt_msg_fn)(void *ctx, const char *topic, const uint8_t *payload, size_t len,
                            bool retained);

/* One session. Only the thread that runs the poll loop touches it. */
struct mqtt_client {
    /* settings, filled in before the first mqtt_client_connect */
    const char *host;
    int port;
    const char *cafile; /* NULL: plain TCP */
    char client_id[32];
    uint16_t keepalive; /* seconds */
    const char *username, *password; /* NULL: an anonymous session */
    const char *will_topic;
    char will_msg[256];
    const char *topics[MQTT_MAX_TOPICS];
    int ntopics;
    mqtt_msg_fn on_message;
    void (*on_subscribed)(void *ctx); /* the SUBACK arrived: the session is complete */
    /* A PUBLISH longer than MQTT_IN_MAX arrived and is being skipped (acknowledged if QoS 1,
     * the session stays up); topic is "" if its header was not readable. May be NULL. */
    void (*on_oversized)(void *ctx, const char *topic, size_t len);
    void *ctx;
    /* state */
    struct net *net;
    bool subscribed; /* SUBACK seen on this connection */
    uint16_t sub_id;
    uint8_t in[MQTT_IN_MAX];
    size_t inlen;
    size_t skip; /* bytes of an oversized PUBLISH still to read and throw away */
    uint16_t next_id;
    struct mqtt_pending inflight[MQTT_INFLIGHT];
    int ninflight;
    double last_send_ms;
    double ping_sent_ms; /* 0: no PINGREQ outstanding */
    bool tls;
    /* counters for ev=stats */
    unsigned long long sent, received, resent, connects;
};

void mqtt_client_init(struct mqtt_client *c);
void mqtt_client_free(struct mqtt_client *c);

/* Connect: TCP (+TLS), CONNECT, wait for CONNACK, SUBSCRIBE, re-send unacknowledged QoS 1
 * publishes with DUP set (MQTT 3.1.1 §4.4). 0 on success; -1 to retry later; -2 when retrying
 * cannot help (certificate refused, CONNACK refused). err says why. */
int mqtt_client_connect(struct mqtt_client *c, char *err, size_t cap);
bool mqtt_client_connected(const struct mqtt_client *c);
int mqtt_client_fd(const struct mqtt_client *c); /* -1 when disconnected */

/* Publish. QoS 1 messages are kept until PUBACKed and survive a reconnection; while
 * disconnected they are only queued. QoS 0 while disconnected is dropped. 0, or -1 if the
 * message could not be queued (QoS 1) or sent (QoS 0). A failed send closes the connection. */
int mqtt_client_publish(struct mqtt_client *c, const char *topic, const void *payload, size_t len,
                        int qos, bool retain);

/* After poll() said readable: read, decode, acknowledge, deliver to on_message (and the SUBACK
 * to on_subscribed, in order with the messages). A PUBLISH longer than MQTT_IN_MAX (anyone may
 * publish one, retained even) is read and thrown away, reported to on_oversized: it is not a
 * reason to drop the session, which would only fetch it again. 0, or -1 if the connection is
 * gone or the broker sent a malformed packet (err says which; the connection is closed). */
int mqtt_client_readable(struct mqtt_client *c, char *err, size_t cap);

/* Keep-alive (§3.1.2.10): PINGREQ when idle, give up when no PINGRESP came in time. When the
 * next call is due (ms, CLOCK_MONOTONIC), and the call itself: 0, or -1 (connection closed). */
double mqtt_client_deadline(const struct mqtt_client *c);
int mqtt_client_tick(struct mqtt_client *c, double now_ms, char *err, size_t cap);

/* Drop the connection without DISCONNECT (the broker then publishes our Will). */
void mqtt_client_drop(struct mqtt_client *c);
/* Clean end: DISCONNECT (the broker discards the Will, §3.14.4), then close. */
void mqtt_client_disconnect(struct mqtt_client *c);

#endif
