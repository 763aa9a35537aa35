/* check_mqtt_codec.c - MQTT 3.1.1 encode/decode: boundaries, exact bytes, partial and malformed. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt_codec.h"

/* ---- 2.2.3 Remaining Length ---- */

static const struct {
    uint32_t len;
    int bytes;
} rl_table[] = {{0, 1},     {127, 1},     {128, 2},     {16383, 2},
                {16384, 3}, {2097151, 3}, {2097152, 4}, {268435455, 4}};

START_TEST(rl_boundaries)
{
    uint8_t b[4];
    uint32_t len = rl_table[_i].len, back = 12345;
    int n = mqtt_rl_encode(len, b);
    ck_assert_int_eq(n, rl_table[_i].bytes);
    ck_assert_int_eq(mqtt_rl_decode(b, (size_t)n, &back), n);
    ck_assert_uint_eq(back, len);
    for (int k = 0; k < n - 1; k++) /* every byte but the last says "more follows" */
        ck_assert(b[k] & 0x80);
    ck_assert(!(b[n - 1] & 0x80));
    for (int cut = 0; cut < n; cut++) /* any prefix: need more */
        ck_assert_int_eq(mqtt_rl_decode(b, (size_t)cut, &back), 0);
}
END_TEST

START_TEST(rl_spec_examples)
{
    /* 2.2.3 Table 2.4: 128 is 0x80 0x01, 16384 is 0x80 0x80 0x01, max is FF FF FF 7F. */
    uint8_t b[4];
    ck_assert_int_eq(mqtt_rl_encode(128, b), 2);
    ck_assert(b[0] == 0x80 && b[1] == 0x01);
    ck_assert_int_eq(mqtt_rl_encode(16384, b), 3);
    ck_assert(b[0] == 0x80 && b[1] == 0x80 && b[2] == 0x01);
    ck_assert_int_eq(mqtt_rl_encode(MQTT_RL_MAX, b), 4);
    ck_assert(b[0] == 0xff && b[1] == 0xff && b[2] == 0xff && b[3] == 0x7f);
    ck_assert_int_eq(mqtt_rl_encode(MQTT_RL_MAX + 1, b), 0);
}
END_TEST

START_TEST(rl_five_bytes_malformed)
{
    const uint8_t five[] = {0xff, 0xff, 0xff, 0xff, 0x7f};
    uint32_t v;
    ck_assert_int_eq(mqtt_rl_decode(five, sizeof five, &v), MQTT_E_RL);
    ck_assert_int_eq(mqtt_rl_decode(five, 4, &v), MQTT_E_RL); /* the 4th byte still says more */
    /* As part of a PUBLISH, too. */
    const uint8_t pub[] = {0x30, 0x80, 0x80, 0x80, 0x80, 0x01};
    struct mqtt_packet p;
    ck_assert_int_eq(mqtt_decode(pub, sizeof pub, &p), MQTT_E_RL);
}
END_TEST

/* ---- encoders: exact bytes ---- */

START_TEST(connect_bytes_with_will)
{
    uint8_t b[128];
    struct mqtt_connect c = {"n1", 5, true, "w", "x", 1, 1, false, NULL, NULL};
    size_t n = mqtt_encode_connect(b, sizeof b, &c);
    const uint8_t want[] = {0x10, 20,                        /* CONNECT, remaining 20 */
                            0,    4,  'M', 'Q', 'T', 'T', 4, /* 3.1.2.1-2 name, level */
                            0x0e,                            /* clean | will | will QoS 1 */
                            0,    5,                         /* keep alive */
                            0,    2,  'n', '1', 0,   1,   'w', 0, 1, 'x'};
    ck_assert_uint_eq(n, sizeof want);
    ck_assert(memcmp(b, want, n) == 0);
    for (size_t cap = 0; cap < n; cap++) /* too small: nothing, never a partial packet */
        ck_assert_uint_eq(mqtt_encode_connect(b, cap, &c), 0);
}
END_TEST

/* 3.1.2.8-9, 3.1.3.4-5: user name and password, after the Will, flags 0x80 and 0x40. */
START_TEST(connect_with_user_and_password)
{
    uint8_t b[128];
    struct mqtt_connect c = {"n1", 5, true, "w", "x", 1, 1, false, "u", "pw"};
    size_t n = mqtt_encode_connect(b, sizeof b, &c);
    const uint8_t want[] = {0x10, 27, 0,   4, 'M', 'Q', 'T', 'T', 4, 0xce, 0,   5,   0,   2,
                            'n',  '1', 0,  1, 'w', 0,   1,   'x', 0, 1,    'u', 0,   2,   'p',
                            'w'};
    ck_assert_uint_eq(n, sizeof want);
    ck_assert(memcmp(b, want, n) == 0);
    for (size_t cap = 0; cap < n; cap++)
        ck_assert_uint_eq(mqtt_encode_connect(b, cap, &c), 0);
    c.username = NULL; /* 3.1.2.9: a password without a user name cannot be sent */
    ck_assert_uint_eq(mqtt_encode_connect(b, sizeof b, &c), 0);
}
END_TEST

START_TEST(connect_without_will)
{
    uint8_t b[64];
    struct mqtt_connect c = {"abc", 0, false, NULL, NULL, 0, 0, false, NULL, NULL};
    size_t n = mqtt_encode_connect(b, sizeof b, &c);
    ck_assert_uint_eq(n, 2 + 10 + 5);
    ck_assert_uint_eq(b[9], 0x00); /* no flags: 3.1.2.5 Will Flag 0 */
    c.will_qos = 3;                /* 3.1.2.6: QoS 3 cannot be encoded */
    c.will_topic = "t";
    ck_assert_uint_eq(mqtt_encode_connect(b, sizeof b, &c), 0);
}
END_TEST

START_TEST(subscribe_puback_ping_disconnect_bytes)
{
    uint8_t b[64];
    const char *topics[] = {"a/b"};
    uint8_t qos[] = {1};
    size_t n = mqtt_encode_subscribe(b, sizeof b, 10, topics, qos, 1);
    const uint8_t sub[] = {0x82, 8, 0, 10, 0, 3, 'a', '/', 'b', 1};
    ck_assert_uint_eq(n, sizeof sub);
    ck_assert(memcmp(b, sub, n) == 0);
    ck_assert_uint_eq(mqtt_encode_subscribe(b, sizeof b, 0, topics, qos, 1), 0); /* id 0 */
    ck_assert_uint_eq(mqtt_encode_puback(b, sizeof b, 0x1234), 4);
    ck_assert(b[0] == 0x40 && b[1] == 2 && b[2] == 0x12 && b[3] == 0x34);
    ck_assert_uint_eq(mqtt_encode_empty(b, sizeof b, MQTT_PINGREQ), 2);
    ck_assert(b[0] == 0xc0 && b[1] == 0);
    ck_assert_uint_eq(mqtt_encode_empty(b, sizeof b, MQTT_DISCONNECT), 2);
    ck_assert(b[0] == 0xe0 && b[1] == 0);
    ck_assert_uint_eq(mqtt_encode_empty(b, sizeof b, MQTT_PUBLISH), 0);
}
END_TEST

/* ---- PUBLISH round trips ---- */

START_TEST(publish_round_trip)
{
    uint8_t b[128];
    int qos = _i % 2;
    struct mqtt_publish in = {
        "system/result", 13,          (const uint8_t *)"{\"a\":1}", 7, (uint8_t)qos, _i >= 2,
        qos && _i == 3,  qos ? 77 : 0};
    size_t n = mqtt_encode_publish(b, sizeof b, &in);
    ck_assert_uint_gt(n, 0);
    struct mqtt_packet p;
    ck_assert_int_eq(mqtt_decode(b, n, &p), (int)n);
    ck_assert_int_eq(p.type, MQTT_PUBLISH);
    const struct mqtt_publish *o = &p.u.publish;
    ck_assert_uint_eq(o->topic_len, 13);
    ck_assert(memcmp(o->topic, "system/result", 13) == 0);
    ck_assert_uint_eq(o->payload_len, 7);
    ck_assert(memcmp(o->payload, "{\"a\":1}", 7) == 0);
    ck_assert_uint_eq(o->qos, in.qos);
    ck_assert_int_eq(o->retain, in.retain);
    ck_assert_int_eq(o->dup, in.dup);
    ck_assert_uint_eq(o->id, in.id);
    for (size_t cut = 0; cut < n; cut++) /* truncated: need more */
        ck_assert_int_eq(mqtt_decode(b, cut, &p), 0);
}
END_TEST

/* Payload sizes that put the remaining length on both sides of each boundary. */
START_TEST(publish_large_round_trip)
{
    static const size_t body[] = {127, 128, 16383, 16384, 2097151, 2097152};
    size_t plen = body[_i] - 2 - 1; /* topic "t": 2 + 1 bytes of the remaining length */
    uint8_t *pay = malloc(plen), *b = malloc(plen + 16);
    ck_assert(pay && b);
    memset(pay, 'x', plen);
    struct mqtt_publish in = {"t", 1, pay, plen, 0, false, false, 0};
    size_t n = mqtt_encode_publish(b, plen + 16, &in);
    uint8_t rl[4];
    ck_assert_uint_eq(n, 1 + (size_t)mqtt_rl_encode((uint32_t)body[_i], rl) + body[_i]);
    struct mqtt_packet p;
    ck_assert_int_eq(mqtt_decode(b, n, &p), (int)n);
    ck_assert_uint_eq(p.u.publish.payload_len, plen);
    ck_assert_int_eq(mqtt_decode(b, n - 1, &p), 0);
    free(pay);
    free(b);
}
END_TEST

START_TEST(publish_encode_refuses)
{
    uint8_t b[64];
    struct mqtt_publish p = {"t", 1, (const uint8_t *)"x", 1, 1, false, false, 0};
    ck_assert_uint_eq(mqtt_encode_publish(b, sizeof b, &p), 0); /* QoS 1 needs an id */
    p.qos = 3, p.id = 1;
    ck_assert_uint_eq(mqtt_encode_publish(b, sizeof b, &p), 0);
    p.qos = 0, p.topic_len = 0;
    ck_assert_uint_eq(mqtt_encode_publish(b, sizeof b, &p), 0); /* 4.7.3: empty topic */
}
END_TEST

/* ---- malformed input ---- */

static const struct {
    const char *what;
    uint8_t bytes[16];
    size_t len;
    int want;
} bad[] = {
    {"CONNECT is client->server only", {0x10, 0x00}, 2, MQTT_E_TYPE},
    {"SUBSCRIBE is client->server only", {0x82, 0x00}, 2, MQTT_E_TYPE},
    {"reserved type 0", {0x00, 0x00}, 2, MQTT_E_TYPE},
    {"reserved type 15", {0xf0, 0x00}, 2, MQTT_E_TYPE},
    {"PUBACK with flags", {0x41, 0x02, 0x00, 0x01}, 4, MQTT_E_FLAGS},
    {"PINGRESP with flags", {0xd2, 0x00}, 2, MQTT_E_FLAGS},
    {"PUBLISH QoS 3", {0x36, 0x03, 0x00, 0x01, 't'}, 5, MQTT_E_FLAGS},
    {"topic longer than the packet", {0x30, 0x04, 0x00, 0x09, 't', 'x'}, 6, MQTT_E_TOPIC},
    {"empty topic", {0x30, 0x03, 0x00, 0x00, 'x'}, 5, MQTT_E_TOPIC},
    {"topic with NUL", {0x30, 0x04, 0x00, 0x02, 't', 0}, 6, MQTT_E_TOPIC},
    {"PUBLISH too short for the topic length", {0x30, 0x01, 0x00}, 3, MQTT_E_LEN},
    {"QoS 1 without room for the id", {0x32, 0x04, 0x00, 0x01, 't', 0x00}, 6, MQTT_E_LEN},
    {"QoS 1 with id 0", {0x32, 0x05, 0x00, 0x01, 't', 0x00, 0x00}, 7, MQTT_E_ID},
    {"CONNACK of 3 bytes", {0x20, 0x03, 0x00, 0x00, 0x00}, 5, MQTT_E_LEN},
    {"CONNACK reserved ack flags", {0x20, 0x02, 0x02, 0x00}, 4, MQTT_E_FLAGS},
    {"PUBACK of 1 byte", {0x40, 0x01, 0x00}, 3, MQTT_E_LEN},
    {"PUBACK id 0", {0x40, 0x02, 0x00, 0x00}, 4, MQTT_E_ID},
    {"SUBACK without codes", {0x90, 0x02, 0x00, 0x01}, 4, MQTT_E_LEN},
    {"PINGRESP with a body", {0xd0, 0x01, 0x00}, 3, MQTT_E_LEN},
};

START_TEST(malformed)
{
    struct mqtt_packet p;
    int got = mqtt_decode(bad[_i].bytes, bad[_i].len, &p);
    ck_assert_msg(got == bad[_i].want, "%s: got %d, want %d", bad[_i].what, got, bad[_i].want);
    ck_assert_str_ne(mqtt_strerror(got), "unknown error");
}
END_TEST

START_TEST(server_packets)
{
    struct mqtt_packet p;
    const uint8_t connack[] = {0x20, 0x02, 0x01, 0x05};
    ck_assert_int_eq(mqtt_decode(connack, 4, &p), 4);
    ck_assert(p.type == MQTT_CONNACK && p.u.connack.session_present && p.u.connack.rc == 5);
    const uint8_t suback[] = {0x90, 0x04, 0x00, 0x07, 0x01, 0x80};
    ck_assert_int_eq(mqtt_decode(suback, 6, &p), 6);
    ck_assert(p.type == MQTT_SUBACK && p.u.suback.id == 7 && p.u.suback.n == 2);
    ck_assert(p.u.suback.rc[0] == 1 && p.u.suback.rc[1] == 0x80);
    /* Two packets in one buffer: the first is consumed alone. */
    const uint8_t two[] = {0xd0, 0x00, 0x40, 0x02, 0x00, 0x09};
    ck_assert_int_eq(mqtt_decode(two, 6, &p), 2);
    ck_assert_int_eq(p.type, MQTT_PINGRESP);
    ck_assert_int_eq(mqtt_decode(two + 2, 4, &p), 4);
    ck_assert(p.type == MQTT_PUBACK && p.u.id == 9);
    ck_assert_int_eq(mqtt_decode(two, 0, &p), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mqtt_codec");
    TCase *tc = tcase_create("codec");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, rl_boundaries, 0, sizeof rl_table / sizeof *rl_table);
    tcase_add_test(tc, rl_spec_examples);
    tcase_add_test(tc, rl_five_bytes_malformed);
    tcase_add_test(tc, connect_bytes_with_will);
    tcase_add_test(tc, connect_without_will);
    tcase_add_test(tc, connect_with_user_and_password);
    tcase_add_test(tc, subscribe_puback_ping_disconnect_bytes);
    tcase_add_loop_test(tc, publish_round_trip, 0, 4);
    tcase_add_loop_test(tc, publish_large_round_trip, 0, 6);
    tcase_add_test(tc, publish_encode_refuses);
    tcase_add_loop_test(tc, malformed, 0, sizeof bad / sizeof *bad);
    tcase_add_test(tc, server_packets);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
