/* check_auth.c - --key: the key file, the signed datagram (proto.c) and the replay window
 * (auth.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "proto.h"

#define NOW 1700000000000000ULL /* a wall clock, microseconds */

static struct hmac_sha256 key_of(const char *s)
{
    struct hmac_sha256 k;
    hmac_sha256_init(&k, s, strlen(s));
    return k;
}

static void hello(struct proto_msg *m, const char *from, uint64_t stamp)
{
    memset(m, 0, sizeof *m);
    m->kind = P_HELLO, m->boot = 7, m->lc = 3, m->stamp = stamp;
    m->group = 0xEFFF4D02u, m->gport = 5007;
    strcpy(m->from, from);
}

/* A file of n bytes of `byte`; returns its path. */
static const char *key_file(size_t n, int byte)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/check_auth5.%d.key", (int)getpid());
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    for (size_t i = 0; i < n; i++)
        fputc(byte, f);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

START_TEST(key_file_sizes)
{
    struct hmac_sha256 k;
    char err[256];
    ck_assert_int_eq(auth_load_key(key_file(32, 'k'), &k, err, sizeof err), 0);
    ck_assert_int_eq(auth_load_key(key_file(AUTH_KEY_MIN - 1, 'k'), &k, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "too short"));
    ck_assert_int_eq(auth_load_key(key_file(AUTH_KEY_MAX + 1, 'k'), &k, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "longer than"));
    unlink(key_file(0, 0));
    ck_assert_int_eq(auth_load_key("/nonexistent/group.key", &k, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "No such file"));
}
END_TEST

/* Every kind, signed with the key, decodes to the same fields, stamp and group included. */
START_TEST(good_tag_round_trips)
{
    struct hmac_sha256 k = key_of("a group key of 32 bytes, or so.");
    struct proto_msg m, out;
    uint8_t buf[PROTO_MAXDGRAM];
    const char *why = NULL;
    hello(&m, "ana", NOW);
    m.kind = P_MSG, m.seq = 5, m.lts = 9, m.tlen = 2;
    strcpy(m.author, "bia"), strcpy(m.text, "hi");
    size_t n = proto_encode_signed(&m, &k, buf, sizeof buf);
    ck_assert_uint_gt(n, PROTO_TRAILER);
    ck_assert_int_eq(buf[2], PROTO_VERSION_SIGNED);
    ck_assert_int_eq(proto_decode_signed(buf, n, &k, &out, &why), (int)n);
    ck_assert_str_eq(out.from, "ana");
    ck_assert_str_eq(out.author, "bia");
    ck_assert_str_eq(out.text, "hi");
    ck_assert_uint_eq(out.seq, 5);
    ck_assert_uint_eq(out.stamp, NOW);
    ck_assert_uint_eq(out.group, 0xEFFF4D02u);
    ck_assert_uint_eq(out.gport, 5007);
    /* a member without the key is told why it cannot read it */
    ck_assert_int_lt(proto_decode(buf, n, &out, &why), 0);
    ck_assert_str_eq(why, "needs-key");
}
END_TEST

/* Any changed byte, tag included, and any other key: bad-mac, nothing believed. */
START_TEST(bad_tag_and_wrong_key)
{
    struct hmac_sha256 k = key_of("a group key of 32 bytes, or so.");
    struct hmac_sha256 other = key_of("another key, also long enough..");
    struct proto_msg m, out;
    uint8_t buf[PROTO_MAXDGRAM];
    const char *why;
    hello(&m, "bob", NOW);
    m.boot = 0xFFFFFFFFu; /* the boot lock-out */
    size_t n = proto_encode_signed(&m, &other, buf, sizeof buf);
    ck_assert_int_lt(proto_decode_signed(buf, n, &k, &out, &why), 0);
    ck_assert_str_eq(why, "bad-mac");
    n = proto_encode_signed(&m, &k, buf, sizeof buf);
    for (size_t i = 0; i < n; i++) {
        buf[i] ^= 0x01;
        why = NULL;
        ck_assert_msg(proto_decode_signed(buf, n, &k, &out, &why) < 0, "byte %zu", i);
        ck_assert_str_eq(why, "bad-mac");
        buf[i] ^= 0x01;
    }
    ck_assert_int_eq(proto_decode_signed(buf, n, &k, &out, &why), (int)n);
}
END_TEST

/* A plain datagram (what a stranger without the key sends) has no tag: bad-mac. */
START_TEST(missing_tag)
{
    struct hmac_sha256 k = key_of("a group key of 32 bytes, or so.");
    struct proto_msg m, out;
    uint8_t buf[PROTO_MAXDGRAM];
    const char *why;
    hello(&m, "bob", NOW);
    size_t n = proto_encode(&m, buf, sizeof buf);
    ck_assert_uint_gt(n, 0);
    ck_assert_int_lt(proto_decode_signed(buf, n, &k, &out, &why), 0);
    ck_assert_str_eq(why, "bad-mac");
    /* nor does a plain datagram padded to look long enough */
    memset(buf + n, 0, PROTO_TRAILER);
    ck_assert_int_lt(proto_decode_signed(buf, n + PROTO_TRAILER, &k, &out, &why), 0);
    ck_assert_str_eq(why, "bad-mac");
}
END_TEST

/* Every prefix of a signed datagram is refused, and an oversize one too. */
START_TEST(truncated)
{
    struct hmac_sha256 k = key_of("a group key of 32 bytes, or so.");
    struct proto_msg m, out;
    uint8_t buf[PROTO_MAXDGRAM + 8];
    const char *why;
    hello(&m, "ana", NOW);
    size_t n = proto_encode_signed(&m, &k, buf, sizeof buf);
    for (size_t len = 0; len < n; len++)
        ck_assert_msg(proto_decode_signed(buf, len, &k, &out, &why) < 0, "len %zu", len);
    ck_assert_int_lt(proto_decode_signed(buf, PROTO_MAXDGRAM + 1, &k, &out, &why), 0);
    ck_assert_str_eq(why, "oversize");
}
END_TEST

START_TEST(replay_is_refused)
{
    static struct auth_guard g;
    struct proto_msg m;
    memset(&g, 0, sizeof g);
    hello(&m, "ana", NOW);
    ck_assert_ptr_null(auth_check_fresh(&g, &m, NOW));
    ck_assert_str_eq(auth_check_fresh(&g, &m, NOW), "replay");
    /* another sender's window is its own */
    hello(&m, "bia", NOW);
    ck_assert_ptr_null(auth_check_fresh(&g, &m, NOW));
}
END_TEST

/* lab5 reorders: a lower stamp than the highest seen is fine if it is new and inside the
 * window; below a full window it is stale; a copy is a replay wherever it falls. */
START_TEST(reordered_within_window_is_accepted)
{
    static struct auth_guard g;
    struct proto_msg m;
    memset(&g, 0, sizeof g);
    hello(&m, "ana", NOW + 10);
    ck_assert_ptr_null(auth_check_fresh(&g, &m, NOW));
    m.stamp = NOW + 5; /* overtaken by NOW + 10 */
    ck_assert_ptr_null(auth_check_fresh(&g, &m, NOW));
    ck_assert_str_eq(auth_check_fresh(&g, &m, NOW), "replay");
    for (uint64_t s = 100; s < 100 + AUTH_REPLAY_WINDOW; s++) { /* 64 newer ones */
        m.stamp = NOW + s;
        ck_assert_ptr_null(auth_check_fresh(&g, &m, NOW));
    }
    m.stamp = NOW + 7; /* never seen, but older than every stamp remembered */
    ck_assert_str_eq(auth_check_fresh(&g, &m, NOW), "stale");
    m.stamp = NOW + 100 + AUTH_REPLAY_WINDOW - 2; /* inside the window, a copy */
    ck_assert_str_eq(auth_check_fresh(&g, &m, NOW), "replay");
    m.stamp = NOW + 99 + AUTH_REPLAY_WINDOW * 2; /* ahead: fine, the lowest is evicted */
    ck_assert_ptr_null(auth_check_fresh(&g, &m, NOW));
    m.stamp = NOW + 100; /* evicted just now */
    ck_assert_str_eq(auth_check_fresh(&g, &m, NOW), "stale");
}
END_TEST

START_TEST(far_from_our_clock_is_stale)
{
    static struct auth_guard g;
    struct proto_msg m;
    memset(&g, 0, sizeof g);
    hello(&m, "ana", NOW - AUTH_WINDOW_US - 1);
    ck_assert_str_eq(auth_check_fresh(&g, &m, NOW), "stale");
    m.stamp = NOW + AUTH_WINDOW_US + 1;
    ck_assert_str_eq(auth_check_fresh(&g, &m, NOW), "stale");
    m.stamp = NOW + AUTH_WINDOW_US;
    ck_assert_ptr_null(auth_check_fresh(&g, &m, NOW));
}
END_TEST

START_TEST(sender_table_is_bounded)
{
    static struct auth_guard g;
    struct proto_msg m;
    char name[16];
    memset(&g, 0, sizeof g);
    for (int i = 0; i < AUTH_MAX_SENDERS; i++) {
        snprintf(name, sizeof name, "m%d", i);
        hello(&m, name, NOW);
        ck_assert_ptr_null(auth_check_fresh(&g, &m, NOW));
    }
    hello(&m, "one-too-many", NOW);
    ck_assert_str_eq(auth_check_fresh(&g, &m, NOW), "too-many-peers");
}
END_TEST

START_TEST(own_stamps_increase)
{
    uint64_t last = 0;
    ck_assert_uint_eq(auth_next_stamp(&last, NOW), NOW);
    ck_assert_uint_eq(auth_next_stamp(&last, NOW), NOW + 1);
    ck_assert_uint_eq(auth_next_stamp(&last, NOW - 50), NOW + 2); /* the clock went back */
    ck_assert_uint_eq(auth_next_stamp(&last, NOW + 9), NOW + 9);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, key_file_sizes);
    tcase_add_test(tc, good_tag_round_trips);
    tcase_add_test(tc, bad_tag_and_wrong_key);
    tcase_add_test(tc, missing_tag);
    tcase_add_test(tc, truncated);
    tcase_add_test(tc, replay_is_refused);
    tcase_add_test(tc, reordered_within_window_is_accepted);
    tcase_add_test(tc, far_from_our_clock_is_stale);
    tcase_add_test(tc, sender_table_is_bounded);
    tcase_add_test(tc, own_stamps_increase);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
