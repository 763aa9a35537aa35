/* check_proto.c - the frame codec: round trips, partial reads, glued frames, malformed frames. */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

static struct proto_msg sample(int type)
{
    struct proto_msg m = {.type = (uint8_t)type};
    switch (type) {
    case PROTO_HELLO: m.from = 15; break;
    case PROTO_WELCOME: m.from = 4; break;
    case PROTO_XFER: m.seq = 0xfffffffeu, m.gold = 7; break;
    case PROTO_MARKER: m.init = 3, m.n = 42; break;
    case PROTO_REPORT:
        m = (struct proto_msg){.type = PROTO_REPORT,
                               .init = 1,
                               .n = 9,
                               .from = 2,
                               .ok = 1,
                               .gold = 123456,
                               .life = 77,
                               .score = 0xdeadbeef,
                               .items = 0x15,
                               .chan_gold = 31,
                               .chan_msgs = 4};
        break;
    }
    return m;
}

/* Field by field: a struct's padding bytes are not part of its value. */
static bool same(const struct proto_msg *a, const struct proto_msg *b)
{
    return a->type == b->type && a->from == b->from && a->seq == b->seq && a->gold == b->gold &&
           a->init == b->init && a->n == b->n && a->ok == b->ok && a->life == b->life &&
           a->score == b->score && a->items == b->items && a->chan_gold == b->chan_gold &&
           a->chan_msgs == b->chan_msgs;
}

START_TEST(round_trip)
{
    static const int types[] = {PROTO_HELLO, PROTO_XFER, PROTO_MARKER, PROTO_REPORT, PROTO_WELCOME};
    static const size_t sizes[] = {8, 14, 12, 36, 8};
    for (int k = 0; k < 5; k++) {
        struct proto_msg in = sample(types[k]), out;
        uint8_t b[PROTO_MAX_FRAME];
        size_t len = proto_encode(&in, b, sizeof b);
        ck_assert_uint_eq(len, sizes[k]);
        ck_assert_int_eq(proto_decode(b, len, &out), (int)len);
        ck_assert(same(&in, &out));
    }
}
END_TEST

START_TEST(header_layout)
{
    struct proto_msg m = {.type = PROTO_MARKER, .init = 0x0102, .n = 0x03040506};
    uint8_t b[PROTO_MAX_FRAME];
    static const uint8_t want[] = {'S', 'N', 1, 3, 0, 6, 1, 2, 3, 4, 5, 6};
    ck_assert_uint_eq(proto_encode(&m, b, sizeof b), sizeof want);
    ck_assert_int_eq(memcmp(b, want, sizeof want), 0);
}
END_TEST

START_TEST(encode_no_room)
{
    struct proto_msg m = sample(PROTO_REPORT), bad = {.type = 9};
    uint8_t b[PROTO_MAX_FRAME];
    ck_assert_uint_eq(proto_encode(&m, b, 35), 0);
    ck_assert_uint_eq(proto_encode(&bad, b, sizeof b), 0);
}
END_TEST

/* Every strict prefix of a frame asks for more; TCP may cut anywhere. */
START_TEST(partial_reads)
{
    struct proto_msg m = sample(PROTO_REPORT), out;
    uint8_t b[PROTO_MAX_FRAME];
    size_t len = proto_encode(&m, b, sizeof b);
    for (size_t cut = 0; cut < len; cut++)
        ck_assert_msg(proto_decode(b, cut, &out) == 0, "prefix of %zu bytes", cut);
}
END_TEST

/* Several frames in one read, and one frame split over reads, as a receive loop sees them. */
START_TEST(glued_frames)
{
    uint8_t stream[4 * PROTO_MAX_FRAME];
    size_t len = 0;
    int types[] = {PROTO_HELLO, PROTO_XFER, PROTO_MARKER, PROTO_REPORT};
    for (int k = 0; k < 4; k++) {
        struct proto_msg m = sample(types[k]);
        len += proto_encode(&m, stream + len, sizeof stream - len);
    }
    for (size_t chunk = 1; chunk <= len; chunk++) {
        uint8_t buf[sizeof stream];
        size_t have = 0, fed = 0;
        int got = 0;
        while (fed < len || have > 0) {
            size_t take = len - fed < chunk ? len - fed : chunk;
            memcpy(buf + have, stream + fed, take);
            have += take, fed += take;
            struct proto_msg out;
            int r;
            while ((r = proto_decode(buf, have, &out)) > 0) {
                ck_assert_int_eq(out.type, types[got++]);
                memmove(buf, buf + r, have - (size_t)r);
                have -= (size_t)r;
            }
            ck_assert_int_eq(r, 0);
            if (take == 0)
                break;
        }
        ck_assert_int_eq(got, 4);
        ck_assert_uint_eq(have, 0);
    }
}
END_TEST

static int decode_bytes(const uint8_t *b, size_t len)
{
    struct proto_msg out;
    return proto_decode(b, len, &out);
}

START_TEST(malformed)
{
    uint8_t ok[PROTO_MAX_FRAME], b[PROTO_MAX_FRAME];
    struct proto_msg m = sample(PROTO_HELLO);
    size_t len = proto_encode(&m, ok, sizeof ok);

    memcpy(b, ok, len), b[0] = 'X';
    ck_assert_int_eq(decode_bytes(b, 1), PROTO_EMAGIC); /* caught from the first byte */
    memcpy(b, ok, len), b[1] = 'n';
    ck_assert_int_eq(decode_bytes(b, len), PROTO_EMAGIC);
    memcpy(b, ok, len), b[2] = 2;
    ck_assert_int_eq(decode_bytes(b, 3), PROTO_EVERSION);
    memcpy(b, ok, len), b[3] = 0;
    ck_assert_int_eq(decode_bytes(b, 4), PROTO_ETYPE);
    memcpy(b, ok, len), b[3] = 6;
    ck_assert_int_eq(decode_bytes(b, len), PROTO_ETYPE);
    memcpy(b, ok, len), b[5] = 3; /* HELLO says 3 bytes of payload: not its size */
    ck_assert_int_eq(decode_bytes(b, len), PROTO_ELEN);
    memcpy(b, ok, len), b[4] = 0xff; /* a huge length is refused before waiting for it */
    ck_assert_int_eq(decode_bytes(b, 6), PROTO_ELEN);
    memcpy(b, ok, len), b[7] = 16; /* player 16: ids are 0..15 */
    ck_assert_int_eq(decode_bytes(b, len), PROTO_EVALUE);
    ck_assert_str_eq(proto_strerror(PROTO_ELEN), "bad_length");
    ck_assert_str_eq(proto_strerror(-99), "bad_frame");
}
END_TEST

START_TEST(boundary_values)
{
    struct proto_msg m = sample(PROTO_REPORT), out;
    uint8_t b[PROTO_MAX_FRAME];
    m.from = 15, m.init = 15;
    size_t len = proto_encode(&m, b, sizeof b);
    ck_assert_int_eq(proto_decode(b, len, &out), (int)len);
    m.ok = 2; /* ok is a boolean on the wire too */
    len = proto_encode(&m, b, sizeof b);
    ck_assert_int_eq(proto_decode(b, len, &out), PROTO_EVALUE);
    m.ok = 1, m.init = 16;
    len = proto_encode(&m, b, sizeof b);
    ck_assert_int_eq(proto_decode(b, len, &out), PROTO_EVALUE);
    struct proto_msg x = {.type = PROTO_XFER, .seq = 0xffffffffu, .gold = 0xffffffffu};
    len = proto_encode(&x, b, sizeof b);
    ck_assert_int_eq(proto_decode(b, len, &out), (int)len);
    ck_assert_uint_eq(out.seq, 0xffffffffu);
    ck_assert_uint_eq(out.gold, 0xffffffffu);
}
END_TEST

/* Random bytes never crash the decoder and never claim more than they have. */
START_TEST(random_bytes)
{
    uint64_t x = 12345;
    for (int round = 0; round < 20000; round++) {
        uint8_t b[PROTO_MAX_FRAME + 8];
        size_t len = (size_t)(round % (int)sizeof b);
        for (size_t k = 0; k < len; k++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            b[k] = (uint8_t)(x >> 56);
        }
        if (round % 2 && len >= 4) /* often a plausible header, to reach the payload checks */
            b[0] = 'S', b[1] = 'N', b[2] = 1, b[3] = (uint8_t)(1 + round % 4);
        int r = decode_bytes(b, len);
        ck_assert(r <= (int)len);
    }
}
END_TEST

static Suite *proto_suite(void)
{
    Suite *s = suite_create("proto");
    TCase *tc = tcase_create("codec");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, header_layout);
    tcase_add_test(tc, encode_no_room);
    tcase_add_test(tc, partial_reads);
    tcase_add_test(tc, glued_frames);
    tcase_add_test(tc, malformed);
    tcase_add_test(tc, boundary_values);
    tcase_add_test(tc, random_bytes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(proto_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
