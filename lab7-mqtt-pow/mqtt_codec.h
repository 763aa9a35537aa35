/* mqtt_codec.h - MQTT 3.1.1 packets as pure functions over (buf, len): no sockets here. */
#ifndef MQTT_CODEC_H
#define MQTT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 2.2.1 MQTT Control Packet type (the high nibble of the first byte). */
enum mqtt_type {
    MQTT_CONNECT = 1,
    MQTT_CONNACK = 2,
    MQTT_PUBLISH = 3,
    MQTT_PUBACK = 4,
    MQTT_SUBSCRIBE = 8,
    MQTT_SUBACK = 9,
    MQTT_PINGREQ = 12,
    MQTT_PINGRESP = 13,
    MQTT_DISCONNECT = 14,
};

/* 2.2.3: the largest Remaining Length four bytes can hold. */
#define MQTT_RL_MAX 268435455u

/* Why mqtt_decode refused a packet (all negative: "malformed"). */
enum mqtt_err {
    MQTT_E_RL = -1,    /* Remaining Length longer than 4 bytes (2.2.3) */
    MQTT_E_TYPE = -2,  /* a type a client never receives, or a reserved one (2.2.1) */
    MQTT_E_FLAGS = -3, /* reserved flag bits wrong, or PUBLISH QoS 3 (2.2.2, 3.3.1.2) */
    MQTT_E_LEN = -4,   /* Remaining Length disagrees with the packet's fields */
    MQTT_E_TOPIC = -5, /* PUBLISH topic empty or longer than the packet (3.3.2.1) */
    MQTT_E_ID = -6,    /* Packet Identifier 0 where one is required (2.3.1) */
};
const char *mqtt_strerror(int err);

/* 2.2.3 Remaining Length: 7 bits a byte, high bit = "more bytes follow", at most 4 bytes.
 * encode: bytes written (1..4), 0 if len > MQTT_RL_MAX.
 * decode: bytes consumed (>0), 0 if more bytes are needed, MQTT_E_RL if malformed. */
int mqtt_rl_encode(uint32_t len, uint8_t out[4]);
int mqtt_rl_decode(const uint8_t *buf, size_t len, uint32_t *out);

/* 3.1 CONNECT. Strings are NUL-terminated; will_topic NULL means no Last Will. */
struct mqtt_connect {
    const char *client_id;
    uint16_t keepalive; /* seconds, 3.1.2.10 */
    bool clean_session; /* 3.1.2.4 */
    const char *will_topic;
    const void *will_msg;
    size_t will_len;
    uint8_t will_qos;
    bool will_retain;
    const char *username; /* 3.1.2.8, NULL: none */
    const char *password; /* 3.1.2.9, NULL: none; only with a user name */
};

/* 3.3 PUBLISH, both directions. topic/payload point into the decoded buffer (not NUL-terminated).
 */
struct mqtt_publish {
    const char *topic;
    size_t topic_len;
    const uint8_t *payload;
    size_t payload_len;
    uint8_t qos;
    bool retain, dup;
    uint16_t id; /* only with qos > 0 */
};

/* A packet a client receives. */
struct mqtt_packet {
    enum mqtt_type type;
    uint8_t flags;
    union {
        struct {
            bool session_present;
            uint8_t rc; /* 3.2.2.3: 0 accepted, 1..5 refused */
        } connack;
        struct mqtt_publish publish;
        uint16_t id; /* PUBACK */
        struct {
            uint16_t id;
            int n;         /* return codes in the packet (up to 8 kept) */
            uint8_t rc[8]; /* 3.9.3: 0..2 granted QoS, 0x80 failure */
        } suback;
    } u;
};

/* Encoders: bytes written, 0 if cap is too small or the input cannot be encoded. */
size_t mqtt_encode_connect(uint8_t *buf, size_t cap, const struct mqtt_connect *c);
size_t mqtt_encode_publish(uint8_t *buf, size_t cap, const struct mqtt_publish *p);
size_t mqtt_encode_subscribe(uint8_t *buf, size_t cap, uint16_t id, const char *const *topics,
                             const uint8_t *qos, int n);
size_t mqtt_encode_puback(uint8_t *buf, size_t cap, uint16_t id);
/* PINGREQ or DISCONNECT: two bytes, no body. */
size_t mqtt_encode_empty(uint8_t *buf, size_t cap, enum mqtt_type type);

/* Decode one packet a client may receive (CONNACK, PUBLISH, PUBACK, SUBACK, PINGRESP).
 * Returns bytes consumed (>0), 0 if the buffer holds only part of a packet, or an mqtt_err. */
int mqtt_decode(const uint8_t *buf, size_t len, struct mqtt_packet *p);

#endif
