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
    memcpy(b, ok, len), b[2] = 7;
    ck_assert_int_eq(decode_bytes(b, 3), PROTO_EVERSION);
    memcpy(b, ok, len), b[2] = PROTO_VERSION_SIGNED; /* a player with --key: say so */
    ck_assert_int_eq(decode_bytes(b, 3), PROTO_ENOKEY);
    ck_assert_str_eq(proto_strerror(PROTO_ENOKEY), "needs-key");
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

/* ---- signed frames (--key) ---- */

#define KEY "0123456789abcdef-group-key"
static struct hmac_sha256 key, other_key;

static void keys(void)
{
    hmac_sha256_init(&key, KEY, strlen(KEY));
    hmac_sha256_init(&other_key, "0123456789abcdef-other-key", 26);
}

static struct proto_msg signed_sample(int type)
{
    struct proto_msg m = sample(type);
    m.sender = 2, m.to = 15, m.stamp = 0x0001020304050607ull;
    return m;
}

/* The layout of proto.h: plain header and payload with version 2, then sender, to, stamp, and
 * the tag = HMAC-SHA256 over every byte before it (computed here with the one-shot function). */
START_TEST(signed_layout)
{
    static const uint8_t trailer[12] = {0, 2, 0, 15, 0, 1, 2, 3, 4, 5, 6, 7};
    struct proto_msg m = signed_sample(PROTO_XFER);
    uint8_t plain[PROTO_MAX_FRAME], b[PROTO_MAX_FRAME], tag[32];
    keys();
    size_t n = proto_encode(&m, plain, sizeof plain);
    ck_assert_uint_eq(proto_encode_signed(&m, &key, b, n + PROTO_SIGNED_EXTRA - 1), 0);
    ck_assert_uint_eq(proto_encode_signed(&m, &key, b, sizeof b), n + PROTO_SIGNED_EXTRA);
    ck_assert_uint_eq(b[2], PROTO_VERSION_SIGNED);
    plain[2] = PROTO_VERSION_SIGNED;
    ck_assert_mem_eq(b, plain, n);
    ck_assert_mem_eq(b + n, trailer, sizeof trailer);
    hmac_sha256(KEY, strlen(KEY), b, n + 12, tag);
    ck_assert_mem_eq(b + n + 12, tag, sizeof tag);
}
END_TEST

/* Every type, every field back, twice (the keyed context is not used up), and frame after frame
 * on one stream. */
START_TEST(signed_round_trip)
{
    static const int types[] = {PROTO_HELLO, PROTO_XFER, PROTO_MARKER, PROTO_REPORT, PROTO_WELCOME};
    uint8_t stream[5 * PROTO_MAX_FRAME];
    size_t len = 0;
    keys();
    for (int k = 0; k < 10; k++) {
        struct proto_msg in = signed_sample(types[k % 5]), out;
        size_t n = proto_encode_signed(&in, &key, stream + len, sizeof stream - len);
        ck_assert_uint_ne(n, 0);
        ck_assert_int_eq(proto_decode_signed(stream + len, n, &key, &out), (int)n);
        ck_assert(same(&in, &out));
        ck_assert(out.sender == 2 && out.to == 15 && out.stamp == in.stamp);
        if (k < 5)
            len += n;
    }
    for (size_t off = 0, k = 0; k < 5; k++) {
        struct proto_msg out;
        int r = proto_decode_signed(stream + off, len - off, &key, &out);
        ck_assert_int_gt(r, 0);
        ck_assert_int_eq(out.type, types[k]);
        off += (size_t)r;
    }
}
END_TEST

/* A flip of any bit after the header (payload, sender, to, stamp, tag) is bad-mac; in the
 * header it is some error or "need more", never a frame. */
START_TEST(signed_any_bit_flipped)
{
    struct proto_msg m = signed_sample(PROTO_REPORT), out;
    uint8_t good[PROTO_MAX_FRAME], b[PROTO_MAX_FRAME];
    keys();
    size_t n = proto_encode_signed(&m, &key, good, sizeof good);
    for (size_t bit = 0; bit < 8 * n; bit++) {
        memcpy(b, good, n);
        b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        int r = proto_decode_signed(b, n, &key, &out);
        if (bit / 8 >= PROTO_HDR_LEN)
            ck_assert_msg(r == PROTO_EMAC, "bit %zu: %d", bit, r);
        else
            ck_assert_msg(r <= 0, "bit %zu: %d", bit, r);
    }
}
END_TEST

/* What a player with --key refuses: no tag (a plain frame, known from its third byte), the
 * wrong key, a signed id out of range; a frame cut short is only "need more". */
START_TEST(signed_rejects)
{
    struct proto_msg m = signed_sample(PROTO_HELLO), out;
    uint8_t b[PROTO_MAX_FRAME];
    keys();
    size_t n = proto_encode(&m, b, sizeof b);
    ck_assert_int_eq(proto_decode_signed(b, n, &key, &out), PROTO_EMAC);
    ck_assert_int_eq(proto_decode_signed(b, 3, &key, &out), PROTO_EMAC);
    n = proto_encode_signed(&m, &other_key, b, sizeof b);
    ck_assert_int_eq(proto_decode_signed(b, n, &key, &out), PROTO_EMAC);
    n = proto_encode_signed(&m, &key, b, sizeof b);
    for (size_t len = 0; len < n; len++) /* truncated: wait for the rest, believe nothing */
        ck_assert_int_eq(proto_decode_signed(b, len, &key, &out), 0);
    ck_assert_int_eq(proto_decode_signed(b, n + 1, &key, &out), (int)n); /* the next frame's */
    ck_assert_int_eq(proto_decode(b, n, &out), PROTO_ENOKEY); /* a player without --key */
    b[2] = 9;
    ck_assert_int_eq(proto_decode_signed(b, n, &key, &out), PROTO_EVERSION);
    m.sender = 16; /* a member's bug: signed, but no such player */
    n = proto_encode_signed(&m, &key, b, sizeof b);
    ck_assert_int_eq(proto_decode_signed(b, n, &key, &out), PROTO_EVALUE);
    m.sender = 1, m.to = 16;
    n = proto_encode_signed(&m, &key, b, sizeof b);
    ck_assert_int_eq(proto_decode_signed(b, n, &key, &out), PROTO_EVALUE);
    ck_assert_str_eq(proto_strerror(PROTO_EMAC), "bad-mac");
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
    tcase_add_test(tc, signed_layout);
    tcase_add_test(tc, signed_round_trip);
    tcase_add_test(tc, signed_any_bit_flipped);
    tcase_add_test(tc, signed_rejects);
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
