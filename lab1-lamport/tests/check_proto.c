/* check_proto.c - table-driven tests of the wire format in proto.c: layout, round trips, bad input. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

/* Two frames written out by hand from the diagram in proto.h. If encode()
 * and these disagree, one of them has the byte order wrong. */
static const uint8_t golden_lamport[] = {
    'L', 'C', 1, 1,                         /* magic, version, kind */
    0x00, 0x02, 0x00, 0x00,                 /* sender 2, vlen 0 */
    0x01, 0x02, 0x03, 0x04,                 /* seq 0x01020304 */
    0x00, 0x00, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, /* lc 0xa1b2c3d4e5f6 */
};

static const uint8_t golden_vector[] = {
    'L', 'C', 1, 1,
    0x00, 0x01, 0x00, 0x02,                 /* sender 1, vlen 2 */
    0x00, 0x00, 0x00, 0x07,                 /* seq 7 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, /* lc 9 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, /* vc[0] 3 */
    0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, /* vc[1] 0x010203040506 */
};

static struct lc_msg golden_lamport_msg(void)
{
    struct lc_msg m;
    memset(&m, 0, sizeof m);
    m.kind = PROTO_KIND_CLOCK;
    m.sender = 2;
    m.seq = 0x01020304;
    m.lc = 0xa1b2c3d4e5f6;
    return m;
}

static struct lc_msg golden_vector_msg(void)
{
    struct lc_msg m;
    memset(&m, 0, sizeof m);
    m.kind = PROTO_KIND_CLOCK;
    m.sender = 1;
    m.vlen = 2;
    m.seq = 7;
    m.lc = 9;
    m.vc[0] = 3;
    m.vc[1] = 0x010203040506;
    return m;
}

/* The two golden frames, for loop tests: _i picks one. */
static const struct {
    const uint8_t *bytes;
    size_t len;
} goldens[] = {
    {golden_lamport, sizeof golden_lamport},
    {golden_vector, sizeof golden_vector},
};
#define NGOLDENS ((int)(sizeof goldens / sizeof goldens[0]))

static void assert_msg_eq(const struct lc_msg *a, const struct lc_msg *b)
{
    ck_assert_uint_eq(a->kind, b->kind);
    ck_assert_uint_eq(a->sender, b->sender);
    ck_assert_uint_eq(a->vlen, b->vlen);
    ck_assert_uint_eq(a->seq, b->seq);
    ck_assert_uint_eq(a->lc, b->lc);
    for (int i = 0; i < a->vlen; i++)
        ck_assert_uint_eq(a->vc[i], b->vc[i]);
}

/* ---- layout ---- */

START_TEST(encode_matches_diagram)
{
    uint8_t buf[PROTO_MAX_FRAME];
    struct lc_msg m = golden_lamport_msg();
    ck_assert_uint_eq(proto_encode(&m, buf, sizeof buf), sizeof golden_lamport);
    ck_assert_mem_eq(buf, golden_lamport, sizeof golden_lamport);
    m = golden_vector_msg();
    ck_assert_uint_eq(proto_encode(&m, buf, sizeof buf), sizeof golden_vector);
    ck_assert_mem_eq(buf, golden_vector, sizeof golden_vector);
}
END_TEST

START_TEST(decode_matches_diagram)
{
    struct lc_msg m, want = golden_lamport_msg();
    ck_assert_int_eq(proto_decode(golden_lamport, sizeof golden_lamport, &m),
                     (int)sizeof golden_lamport);
    assert_msg_eq(&m, &want);
    want = golden_vector_msg();
    ck_assert_int_eq(proto_decode(golden_vector, sizeof golden_vector, &m),
                     (int)sizeof golden_vector);
    assert_msg_eq(&m, &want);
}
END_TEST

/* ---- round trips, including the boundary values ---- */

static struct lc_msg round_trip_case(int i)
{
    struct lc_msg m;
    memset(&m, 0, sizeof m);
    m.kind = PROTO_KIND_CLOCK;
    switch (i) {
    case 0: /* Lamport mode, all zero */
        break;
    case 1: /* Lamport mode, largest values */
        m.sender = UINT16_MAX;
        m.seq = UINT32_MAX;
        m.lc = PROTO_CLOCK_MAX;
        break;
    case 2: /* vector mode, 3 nodes */
        m.sender = 1;
        m.vlen = 3;
        m.seq = 5;
        m.lc = 12;
        m.vc[0] = 4, m.vc[1] = 7, m.vc[2] = 1;
        break;
    default: /* vector mode, 64 nodes, largest values */
        m.vlen = PROTO_MAX_NODES;
        m.lc = PROTO_CLOCK_MAX;
        for (int k = 0; k < PROTO_MAX_NODES; k++)
            m.vc[k] = PROTO_CLOCK_MAX - (uint64_t)k;
        break;
    }
    return m;
}

START_TEST(round_trip)
{
    uint8_t buf[PROTO_MAX_FRAME];
    struct lc_msg in = round_trip_case(_i), out;
    size_t len = proto_encode(&in, buf, sizeof buf);
    ck_assert_uint_eq(len, proto_frame_len(in.vlen));
    ck_assert_int_eq(proto_decode(buf, len, &out), (int)len);
    assert_msg_eq(&out, &in);
}
END_TEST

/* ---- malformed input ---- */

/* Every proper prefix of a valid frame, from 0 bytes up, is "truncated". */
START_TEST(every_truncation)
{
    struct lc_msg m;
    for (size_t len = 0; len < goldens[_i].len; len++)
        ck_assert_msg(proto_decode(goldens[_i].bytes, len, &m) == PROTO_ETRUNC,
                      "frame %d cut to %zu bytes", _i, len);
}
END_TEST

/* A valid frame followed by extra bytes, up to the largest UDP payload. */
START_TEST(trailing_bytes)
{
    static uint8_t buf[65507];
    const size_t extra[] = {1, 7, 8, PROTO_MAX_FRAME, sizeof buf - goldens[_i].len};
    struct lc_msg m;
    memset(buf, 0xab, sizeof buf);
    memcpy(buf, goldens[_i].bytes, goldens[_i].len);
    for (size_t k = 0; k < sizeof extra / sizeof extra[0]; k++)
        ck_assert_int_eq(proto_decode(buf, goldens[_i].len + extra[k], &m), PROTO_ETRAILING);
}
END_TEST

/* One byte of the golden Lamport frame changed, and what decode must say. */
static const struct {
    const char *what;
    size_t offset;
    uint8_t value;
    int want;
} patches[] = {
    {"magic L", 0, 'X', PROTO_EMAGIC},
    {"magic C", 1, 'c', PROTO_EMAGIC},
    {"version 0", 2, 0, PROTO_EVERSION},
    {"version 2", 2, 2, PROTO_EVERSION},
    {"kind 0", 3, 0, PROTO_EKIND},
    {"kind 255", 3, 255, PROTO_EKIND},
    {"vlen 256", 6, 1, PROTO_EVLEN},
    {"vlen 65", 7, 65, PROTO_EVLEN},
    {"vlen 1 but no entry", 7, 1, PROTO_ETRUNC},
    {"vlen 64 but no entries", 7, 64, PROTO_ETRUNC},
    {"lc 2^48 + more", 13, 0x01, PROTO_ECLOCK},
    {"lc top bit", 12, 0x80, PROTO_ECLOCK},
};

START_TEST(one_byte_patched)
{
    uint8_t buf[sizeof golden_lamport];
    struct lc_msg m;
    memcpy(buf, golden_lamport, sizeof buf);
    buf[patches[_i].offset] = patches[_i].value;
    int got = proto_decode(buf, sizeof buf, &m);
    ck_assert_msg(got == patches[_i].want, "%s: got %d (%s), want %d (%s)", patches[_i].what, got,
                  proto_strerror(got), patches[_i].want, proto_strerror(patches[_i].want));
}
END_TEST

/* vlen 65 with all 65 entries present: refused for the size, not the length. */
START_TEST(vlen_too_big_even_when_complete)
{
    uint8_t buf[PROTO_HDR_LEN + 8 * (PROTO_MAX_NODES + 1)];
    struct lc_msg m;
    memset(buf, 0, sizeof buf);
    memcpy(buf, golden_lamport, PROTO_HDR_LEN);
    buf[7] = PROTO_MAX_NODES + 1;
    ck_assert_int_eq(proto_decode(buf, sizeof buf, &m), PROTO_EVLEN);
}
END_TEST

/* The clock bound, on both sides of it, in lc and in the last vector entry. */
static const struct {
    uint64_t lc, last_vc;
    int ok;
} bounds[] = {
    {PROTO_CLOCK_MAX, PROTO_CLOCK_MAX, 1},
    {PROTO_CLOCK_MAX + 1, 0, 0},
    {UINT64_MAX, 0, 0},
    {0, PROTO_CLOCK_MAX + 1, 0},
    {0, UINT64_MAX, 0},
};

START_TEST(clock_bound)
{
    uint8_t buf[PROTO_MAX_FRAME];
    struct lc_msg in = golden_vector_msg(), out;
    in.lc = bounds[_i].lc;
    in.vc[in.vlen - 1] = bounds[_i].last_vc;
    size_t len = proto_encode(&in, buf, sizeof buf); /* encode writes absurd values as given */
    ck_assert_uint_eq(len, sizeof golden_vector);
    ck_assert_int_eq(proto_decode(buf, len, &out), bounds[_i].ok ? (int)len : PROTO_ECLOCK);
}
END_TEST

/* ---- encoding into too little room ---- */

START_TEST(encode_needs_room)
{
    uint8_t buf[PROTO_MAX_FRAME + 1];
    struct lc_msg m = round_trip_case(3); /* the largest frame */
    size_t need = proto_frame_len(m.vlen);
    for (size_t cap = 0; cap < need; cap++) {
        memset(buf, 0xee, sizeof buf);
        ck_assert_uint_eq(proto_encode(&m, buf, cap), 0);
        size_t k = 0; /* nothing written (one assertion per cap: 280k of them took 37 s under
                       * memcheck) */
        while (k < sizeof buf && buf[k] == 0xee)
            k++;
        ck_assert_msg(k == sizeof buf, "cap %zu: byte %zu written", cap, k);
    }
    ck_assert_uint_eq(proto_encode(&m, buf, need), need);
}
END_TEST

START_TEST(encode_refuses_vlen_too_big)
{
    uint8_t buf[PROTO_MAX_FRAME + 64];
    struct lc_msg m = golden_lamport_msg();
    m.vlen = PROTO_MAX_NODES + 1;
    ck_assert_uint_eq(proto_encode(&m, buf, sizeof buf), 0);
}
END_TEST

/* ---- error names ---- */

START_TEST(strerror_tokens)
{
    const int codes[] = {PROTO_ETRUNC, PROTO_ETRAILING, PROTO_EMAGIC, PROTO_EVERSION,
                         PROTO_EKIND, PROTO_EVLEN, PROTO_ECLOCK};
    const int n = (int)(sizeof codes / sizeof codes[0]);
    for (int i = 0; i < n; i++) {
        const char *tok = proto_strerror(codes[i]);
        ck_assert_uint_gt(strlen(tok), 0);
        ck_assert_ptr_null(strchr(tok, ' ')); /* it goes in why=<token> */
        ck_assert_str_ne(tok, proto_strerror(12345));
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(tok, proto_strerror(codes[j]));
    }
}
END_TEST

static Suite *proto_suite(void)
{
    Suite *s = suite_create("proto");
    TCase *good = tcase_create("valid");
    TCase *bad = tcase_create("malformed");
    TCase *enc = tcase_create("encode");

    tcase_set_timeout(good, 10);
    tcase_add_test(good, encode_matches_diagram);
    tcase_add_test(good, decode_matches_diagram);
    tcase_add_loop_test(good, round_trip, 0, 4);
    suite_add_tcase(s, good);

    tcase_set_timeout(bad, 10);
    tcase_add_loop_test(bad, every_truncation, 0, NGOLDENS);
    tcase_add_loop_test(bad, trailing_bytes, 0, NGOLDENS);
    tcase_add_loop_test(bad, one_byte_patched, 0, (int)(sizeof patches / sizeof patches[0]));
    tcase_add_test(bad, vlen_too_big_even_when_complete);
    tcase_add_loop_test(bad, clock_bound, 0, (int)(sizeof bounds / sizeof bounds[0]));
    tcase_add_test(bad, strerror_tokens);
    suite_add_tcase(s, bad);

    tcase_set_timeout(enc, 10);
    tcase_add_test(enc, encode_needs_room);
    tcase_add_test(enc, encode_refuses_vlen_too_big);
    suite_add_tcase(s, enc);
    return s;
}

/* Fork mode is Check's default (CK_FORK=no turns it off, as under valgrind). */
int main(void)
{
    SRunner *sr = srunner_create(proto_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
