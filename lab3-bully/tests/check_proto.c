/* check_proto.c - table-driven tests of the wire format in proto.c: layout, round trips, bad input.
 */
#include <check.h>
#include <string.h>

#include "proto.h"

/* A frame written out by hand from the diagram in proto.h. If encode() and this disagree, one
 * of them has the byte order wrong. */
static const uint8_t golden[PROTO_LEN] = {
    'B',  'Y',  1,    3,    /* magic, version 1, COORDINATOR */
    0x00, 0x2a, 0x00, 0x00, /* sender 42, reserved */
    0x01, 0x02, 0x03, 0x04, /* round 0x01020304 */
    0xa0, 0xb0, 0xc0, 0xd0, /* seq 0xa0b0c0d0 */
};

static const struct proto_msg golden_msg = {PROTO_COORDINATOR, 42, 0x01020304u, 0xa0b0c0d0u, 0, 0};

START_TEST(encode_matches_diagram)
{
    uint8_t buf[64];
    ck_assert_uint_eq(proto_encode(&golden_msg, buf, sizeof buf), PROTO_LEN);
    ck_assert_mem_eq(buf, golden, PROTO_LEN);
}
END_TEST

START_TEST(encode_needs_room)
{
    uint8_t buf[PROTO_LEN];
    ck_assert_uint_eq(proto_encode(&golden_msg, buf, PROTO_LEN - 1), 0);
    ck_assert_uint_eq(proto_encode(&golden_msg, buf, PROTO_LEN), PROTO_LEN);
}
END_TEST

START_TEST(decode_golden)
{
    struct proto_msg m;
    ck_assert_int_eq(proto_decode(golden, sizeof golden, &m), PROTO_LEN);
    ck_assert_uint_eq(m.type, PROTO_COORDINATOR);
    ck_assert_uint_eq(m.sender, 42);
    ck_assert_uint_eq(m.round, 0x01020304u);
    ck_assert_uint_eq(m.seq, 0xa0b0c0d0u);
}
END_TEST

/* Every type and the boundary values of every field survive encode then decode. */
START_TEST(round_trip)
{
    static const uint32_t vals[] = {0, 1, 0x7fffffffu, 0xffffffffu};
    for (int type = PROTO_ELECTION; type <= PROTO_HEARTBEAT; type++)
        for (size_t k = 0; k < sizeof vals / sizeof *vals; k++) {
            struct proto_msg in = {(uint8_t)type,
                                   (uint16_t)(vals[k] & 0xffff),
                                   vals[k],
                                   ~vals[k],
                                   0,
                                   0},
                             out;
            uint8_t buf[PROTO_LEN];
            ck_assert_uint_eq(proto_encode(&in, buf, sizeof buf), PROTO_LEN);
            ck_assert_int_eq(proto_decode(buf, sizeof buf, &out), PROTO_LEN);
            ck_assert(out.type == in.type && out.sender == in.sender);
            ck_assert(out.round == in.round && out.seq == in.seq);
        }
}
END_TEST

/* Malformed input: each a copy of the golden frame with one thing wrong. */
static const struct bad_case {
    const char *what;
    int at;      /* byte to change, -1 for none */
    uint8_t val; /* its new value */
    size_t len;  /* datagram length */
    int want;
} bad[] = {
    {"empty", -1, 0, 0, PROTO_ETRUNC},
    {"one byte", -1, 0, 1, PROTO_ETRUNC},
    {"header only", -1, 0, 4, PROTO_ETRUNC},
    {"one byte short", -1, 0, PROTO_LEN - 1, PROTO_ETRUNC},
    {"one byte long", -1, 0, PROTO_LEN + 1, PROTO_ETRAILING},
    {"far too long", -1, 0, 200, PROTO_ETRAILING},
    {"bad magic 0", 0, 'X', PROTO_LEN, PROTO_EMAGIC},
    {"bad magic 1", 1, 'Z', PROTO_LEN, PROTO_EMAGIC},
    {"short and bad magic", 0, 'X', 3, PROTO_EMAGIC},
    {"version 0", 2, 0, PROTO_LEN, PROTO_EVERSION},
    {"version 2 (signed) without --key", 2, 2, PROTO_LEN, PROTO_ENOKEY},
    {"version 3", 2, 3, PROTO_LEN, PROTO_EVERSION},
    {"type 0", 3, 0, PROTO_LEN, PROTO_ETYPE},
    {"type 5", 3, 5, PROTO_LEN, PROTO_ETYPE},
    {"type 255", 3, 255, PROTO_LEN, PROTO_ETYPE},
    {"reserved high", 6, 1, PROTO_LEN, PROTO_ERESERVED},
    {"reserved low", 7, 0x80, PROTO_LEN, PROTO_ERESERVED},
};

START_TEST(decode_rejects)
{
    const struct bad_case *c = &bad[_i];
    uint8_t buf[256];
    memset(buf, 0xee, sizeof buf);
    memcpy(buf, golden, sizeof golden);
    if (c->at >= 0)
        buf[c->at] = c->val;
    struct proto_msg m;
    ck_assert_msg(proto_decode(buf, c->len, &m) == c->want, "%s: got %d, want %d", c->what,
                  proto_decode(buf, c->len, &m), c->want);
    ck_assert_str_ne(proto_strerror(c->want), "unknown-error");
}
END_TEST

/* ---- signed frames (--key) ---- */

static struct hmac_sha256 key, other_key;

static void keys(void)
{
    hmac_sha256_init(&key, "0123456789abcdef-group-key", 26);
    hmac_sha256_init(&other_key, "0123456789abcdef-other-key", 26);
}

static const struct proto_msg signed_msg = {PROTO_HEARTBEAT, 4, 7, 99, 2, 0x0001020304050607ull};

/* The layout of proto.h, and the tag is HMAC-SHA256 over bytes 0..23 (computed here with the
 * one-shot function, not the codec's keyed copy). */
START_TEST(signed_layout)
{
    static const uint8_t head[24] = {'B', 'Y', 2, 4,  0, 4, 0, 2, 0, 0, 0, 7,
                                     0,   0,   0, 99, 0, 1, 2, 3, 4, 5, 6, 7};
    uint8_t buf[PROTO_SIGNED_LEN], tag[32];
    keys();
    ck_assert_uint_eq(proto_encode_signed(&signed_msg, &key, buf, PROTO_SIGNED_LEN - 1), 0);
    ck_assert_uint_eq(proto_encode_signed(&signed_msg, &key, buf, sizeof buf), PROTO_SIGNED_LEN);
    ck_assert_mem_eq(buf, head, sizeof head);
    hmac_sha256("0123456789abcdef-group-key", 26, head, sizeof head, tag);
    ck_assert_mem_eq(buf + 24, tag, sizeof tag);
}
END_TEST

START_TEST(signed_round_trip)
{
    uint8_t buf[PROTO_SIGNED_LEN];
    struct proto_msg out;
    keys();
    for (int i = 0; i < 2; i++) { /* twice: the keyed context is not used up */
        proto_encode_signed(&signed_msg, &key, buf, sizeof buf);
        ck_assert_int_eq(proto_decode_signed(buf, sizeof buf, &key, &out), PROTO_SIGNED_LEN);
        ck_assert(out.type == signed_msg.type && out.sender == signed_msg.sender);
        ck_assert(out.to == signed_msg.to && out.round == signed_msg.round);
        ck_assert(out.seq == signed_msg.seq && out.stamp == signed_msg.stamp);
    }
}
END_TEST

/* A flip of any bit anywhere (fields or tag) is bad-mac, except the three bytes decode reads
 * before the tag: magic and version. */
START_TEST(signed_any_bit_flipped)
{
    uint8_t good[PROTO_SIGNED_LEN], buf[PROTO_SIGNED_LEN];
    struct proto_msg out;
    keys();
    proto_encode_signed(&signed_msg, &key, good, sizeof good);
    for (size_t bit = 3 * 8; bit < 8 * sizeof buf; bit++) {
        memcpy(buf, good, sizeof buf);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ck_assert_msg(proto_decode_signed(buf, sizeof buf, &key, &out) == PROTO_EMAC,
                      "bit %zu flipped and still accepted", bit);
    }
}
END_TEST

/* What a node with --key refuses: no tag, the wrong key, cut short, too long, other version. */
START_TEST(signed_rejects)
{
    uint8_t buf[PROTO_SIGNED_LEN + 8], plain[PROTO_LEN];
    struct proto_msg out;
    keys();
    ck_assert_uint_eq(proto_encode(&golden_msg, plain, sizeof plain), PROTO_LEN);
    ck_assert_int_eq(proto_decode_signed(plain, sizeof plain, &key, &out), PROTO_EMAC);
    proto_encode_signed(&signed_msg, &other_key, buf, sizeof buf);
    ck_assert_int_eq(proto_decode_signed(buf, PROTO_SIGNED_LEN, &key, &out), PROTO_EMAC);
    proto_encode_signed(&signed_msg, &key, buf, sizeof buf);
    for (size_t len = 0; len < PROTO_SIGNED_LEN; len++)
        ck_assert_int_eq(proto_decode_signed(buf, len, &key, &out), PROTO_ETRUNC);
    ck_assert_int_eq(proto_decode_signed(buf, PROTO_SIGNED_LEN + 1, &key, &out), PROTO_ETRAILING);
    /* Without --key a signed frame is refused with its own reason. */
    ck_assert_int_eq(proto_decode(buf, PROTO_SIGNED_LEN, &out), PROTO_ENOKEY);
    buf[2] = 3;
    ck_assert_int_eq(proto_decode_signed(buf, PROTO_SIGNED_LEN, &key, &out), PROTO_EVERSION);
    buf[2] = PROTO_VERSION_SIGNED, buf[0] = 'X';
    ck_assert_int_eq(proto_decode_signed(buf, PROTO_SIGNED_LEN, &key, &out), PROTO_EMAGIC);
}
END_TEST

/* A member's bug, not a forgery: a good tag on a bad type is still refused. */
START_TEST(signed_bad_type)
{
    struct proto_msg m = signed_msg, out;
    uint8_t buf[PROTO_SIGNED_LEN];
    keys();
    m.type = 9;
    proto_encode_signed(&m, &key, buf, sizeof buf);
    ck_assert_int_eq(proto_decode_signed(buf, sizeof buf, &key, &out), PROTO_ETYPE);
}
END_TEST

START_TEST(names)
{
    ck_assert_str_eq(proto_type_name(PROTO_ELECTION), "ELECTION");
    ck_assert_str_eq(proto_type_name(PROTO_ANSWER), "ANSWER");
    ck_assert_str_eq(proto_type_name(PROTO_COORDINATOR), "COORDINATOR");
    ck_assert_str_eq(proto_type_name(PROTO_HEARTBEAT), "HEARTBEAT");
    ck_assert_str_eq(proto_type_name(9), "?");
    ck_assert_str_eq(proto_strerror(PROTO_EMAGIC), "bad-magic");
    ck_assert_str_eq(proto_strerror(-99), "unknown-error");
    ck_assert_str_eq(proto_strerror(PROTO_EMAC), "bad-mac");
    for (int c = PROTO_EMAC; c <= PROTO_ETRUNC; c++)
        ck_assert_msg(strchr(proto_strerror(c), ' ') == NULL, "a why= token has a space");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("proto");
    TCase *tc = tcase_create("frame");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, encode_matches_diagram);
    tcase_add_test(tc, encode_needs_room);
    tcase_add_test(tc, decode_golden);
    tcase_add_test(tc, round_trip);
    tcase_add_loop_test(tc, decode_rejects, 0, (int)(sizeof bad / sizeof *bad));
    tcase_add_test(tc, signed_layout);
    tcase_add_test(tc, signed_round_trip);
    tcase_add_test(tc, signed_any_bit_flipped);
    tcase_add_test(tc, signed_rejects);
    tcase_add_test(tc, signed_bad_type);
    tcase_add_test(tc, names);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
