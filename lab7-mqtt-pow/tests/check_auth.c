/* check_auth.c - the key file, signed payloads and their replay guard (auth.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"

/* A file of n bytes of `byte` in the test's temporary directory; returns its path. */
static const char *key_file(size_t n, int byte)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/check_auth.%d.key", (int)getpid());
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    for (size_t i = 0; i < n; i++)
        fputc(byte, f);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

/* The loaded key is exactly the file's bytes: same tags as HMAC with those bytes. */
START_TEST(key_file_good)
{
    struct hmac_sha256 k;
    uint8_t raw[32], want[32], got[32];
    char err[256] = "";
    memset(raw, 'k', sizeof raw);
    const char *path = key_file(sizeof raw, 'k');
    ck_assert_int_eq(auth_load_key(path, &k, err, sizeof err), 0);
    hmac_sha256(raw, sizeof raw, "m", 1, want);
    hmac_sha256_update(&k, "m", 1);
    hmac_sha256_final(&k, got);
    ck_assert_mem_eq(got, want, sizeof want);
    ck_assert_int_eq(auth_load_key(key_file(AUTH_KEY_MIN, 1), &k, err, sizeof err), 0);
    ck_assert_int_eq(auth_load_key(key_file(AUTH_KEY_MAX, 1), &k, err, sizeof err), 0);
    unlink(path);
}
END_TEST

START_TEST(key_file_bad)
{
    struct hmac_sha256 k;
    char err[256];
    ck_assert_int_eq(auth_load_key("/nonexistent/group.key", &k, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "No such file"));
    const char *path = key_file(0, 'x');
    ck_assert_int_eq(auth_load_key(path, &k, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "too short"));
    ck_assert_int_eq(auth_load_key(key_file(AUTH_KEY_MIN - 1, 'x'), &k, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "too short"));
    ck_assert_int_eq(auth_load_key(key_file(AUTH_KEY_MAX + 1, 'x'), &k, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "not a key file"));
    ck_assert_int_eq(auth_load_key("/", &k, err, sizeof err), -1); /* a directory: read fails */
    unlink(path);
}
END_TEST

#define NOW 1700000000000000ull /* some wall-clock time, in microseconds */

static struct hmac_sha256 key_of(const char *raw)
{
    struct hmac_sha256 k;
    hmac_sha256_init(&k, raw, strlen(raw));
    return k;
}

static const char json[] =
    "{\"type\": \"leader\", \"node\": 2, \"epoch\": 1, \"value\": 7, \"tx\": 0}";

/* buf = json signed for topic at stamp; returns its length. */
static size_t signed_payload(const char *raw, const char *topic, uint64_t stamp, char *buf,
                             size_t cap)
{
    struct hmac_sha256 k = key_of(raw);
    memcpy(buf, json, sizeof json);
    return auth_sign(&k, topic, buf, strlen(json), cap, stamp);
}

/* The layout is <json>\n<stamp> <hex tag>, the tag over topic\0<json>\n<stamp> (by hand here). */
START_TEST(sign_layout)
{
    char buf[512], want_hex[65], body[512];
    size_t len = signed_payload("0123456789abcdef", "system/leader", 42, buf, sizeof buf);
    ck_assert_uint_eq(len, strlen(json) + 3 + 1 + 64);
    ck_assert_int_eq(buf[strlen(json)], '\n');
    ck_assert_int_eq(strncmp(buf + strlen(json) + 1, "42 ", 3), 0);
    size_t blen = (size_t)snprintf(body, sizeof body, "system/leader%c%s\n42", 0, json);
    uint8_t tag[32];
    hmac_sha256("0123456789abcdef", 16, body, blen, tag);
    for (int i = 0; i < 32; i++)
        snprintf(want_hex + 2 * i, 3, "%02x", tag[i]);
    ck_assert_str_eq(buf + len - 64, want_hex);
    ck_assert_uint_eq(strlen(buf), len);
    /* too small a buffer: 0, never a cut trailer */
    ck_assert_uint_eq(signed_payload("0123456789abcdef", "system/leader", 42, buf, len), 0);
    ck_assert_uint_eq(signed_payload("0123456789abcdef", "system/leader", 42, buf, len + 1), len);
}
END_TEST

/* Good; then every way to get it wrong is bad-mac: wrong key, one bit flipped anywhere, no
 * trailer, a truncated one, another topic, another stamp. */
START_TEST(verify_good_and_bad)
{
    struct hmac_sha256 k = key_of("0123456789abcdef"), other = key_of("fedcba9876543210");
    char buf[512];
    size_t len = signed_payload("0123456789abcdef", "system/leader", NOW, buf, sizeof buf), jl;
    uint64_t stamp = 0;
    const uint8_t *p = (const uint8_t *)buf;
    ck_assert_ptr_null(auth_verify(&k, "system/leader", p, len, &jl, &stamp));
    ck_assert_uint_eq(jl, strlen(json));
    ck_assert_uint_eq(stamp, NOW);
    ck_assert(auth_looks_signed(p, len));
    ck_assert_str_eq(auth_verify(&other, "system/leader", p, len, &jl, &stamp), "bad-mac");
    ck_assert_str_eq(auth_verify(&k, "system/result", p, len, &jl, &stamp), "bad-mac");
    ck_assert_str_eq(
        auth_verify(&k, "system/leader", (const uint8_t *)json, strlen(json), &jl, &stamp),
        "bad-mac"); /* missing */
    ck_assert(!auth_looks_signed((const uint8_t *)json, strlen(json)));
    for (size_t cut = 0; cut < len; cut++) /* truncated anywhere */
        ck_assert_str_eq(auth_verify(&k, "system/leader", p, cut, &jl, &stamp), "bad-mac");
    for (size_t i = 0; i < len; i++) { /* any byte changed */
        char copy[512];
        memcpy(copy, buf, len);
        copy[i] ^= 1;
        ck_assert_str_eq(auth_verify(&k, "system/leader", (const uint8_t *)copy, len, &jl, &stamp),
                         "bad-mac");
    }
    /* a stamp of 21 digits, or above UINT64_MAX, is malformed rather than wrapped */
    const char *huge = "{}\n18446744073709551616 "
                       "0000000000000000000000000000000000000000000000000000000000000000";
    ck_assert(!auth_looks_signed((const uint8_t *)huge, strlen(huge)));
}
END_TEST

/* Live messages: increasing stamps pass; the same again, or an older one, is a replay; each
 * sender and each topic has its own counter; outside the window either way is stale. */
START_TEST(fresh_then_replay)
{
    struct auth_guard g = {0};
    ck_assert_ptr_null(auth_check_fresh(&g, 3, 2, NOW, NOW, AUTH_LIVE));
    ck_assert_str_eq(auth_check_fresh(&g, 3, 2, NOW, NOW + 5, AUTH_LIVE), "replay");
    ck_assert_ptr_null(auth_check_fresh(&g, 3, 2, NOW + 1, NOW + 5, AUTH_LIVE));
    ck_assert_str_eq(auth_check_fresh(&g, 3, 2, NOW, NOW + 5, AUTH_LIVE), "replay");
    ck_assert_ptr_null(auth_check_fresh(&g, 2, 2, NOW, NOW, AUTH_LIVE));     /* other sender */
    ck_assert_ptr_null(auth_check_fresh(&g, 3, 5, NOW - 9, NOW, AUTH_LIVE)); /* other topic */
    ck_assert_str_eq(auth_check_fresh(&g, 1, 0, NOW - AUTH_WINDOW_US - 1, NOW, AUTH_LIVE), "stale");
    ck_assert_str_eq(auth_check_fresh(&g, 1, 0, NOW + AUTH_WINDOW_US + 1, NOW, AUTH_LIVE), "stale");
    ck_assert_ptr_null(auth_check_fresh(&g, 1, 0, NOW - AUTH_WINDOW_US, NOW, AUTH_LIVE));
    ck_assert_str_eq(auth_check_fresh(&g, 1, AUTH_TOPICS, NOW, NOW, AUTH_LIVE), "stale");
}
END_TEST

/* Retained: any age (a late joiner, an hour later), the same one again (after a reconnection)
 * passes, an older one than accepted does not. A Will: any age, but never twice. */
START_TEST(retained_and_will)
{
    struct auth_guard g = {0};
    uint64_t hour = 3600ull * 1000000;
    ck_assert_ptr_null(auth_check_fresh(&g, 7, 3, NOW - hour, NOW, AUTH_RETAINED));
    ck_assert_ptr_null(auth_check_fresh(&g, 7, 3, NOW - hour, NOW, AUTH_RETAINED));
    ck_assert_str_eq(auth_check_fresh(&g, 7, 3, NOW - hour - 1, NOW, AUTH_RETAINED), "replay");
    ck_assert_str_eq(auth_check_fresh(&g, 7, 3, NOW - hour, NOW, AUTH_LIVE), "stale");
    ck_assert_ptr_null(auth_check_fresh(&g, 7, 3, NOW, NOW, AUTH_LIVE));
    ck_assert_str_eq(auth_check_fresh(&g, 7, 3, NOW - hour, NOW, AUTH_RETAINED), "replay");
    ck_assert_ptr_null(auth_check_fresh(&g, 7, 6, NOW - hour, NOW, AUTH_WILL));
    ck_assert_str_eq(auth_check_fresh(&g, 7, 6, NOW - hour, NOW, AUTH_WILL), "replay");
}
END_TEST

/* More senders than places: the one heard from longest ago is forgotten, the others kept. */
START_TEST(guard_evicts_oldest)
{
    static struct auth_guard g;
    memset(&g, 0, sizeof g);
    for (uint32_t s = 0; s < AUTH_SENDERS; s++)
        ck_assert_ptr_null(auth_check_fresh(&g, s, 0, NOW + s, NOW, AUTH_LIVE));
    ck_assert_ptr_null(auth_check_fresh(&g, 1000, 0, NOW, NOW, AUTH_LIVE)); /* evicts 0 */
    ck_assert_int_eq(g.n, AUTH_SENDERS);
    ck_assert_str_eq(auth_check_fresh(&g, 5, 0, NOW + 5, NOW, AUTH_LIVE), "replay");
    ck_assert_ptr_null(auth_check_fresh(&g, 0, 0, NOW, NOW, AUTH_LIVE)); /* forgotten */
}
END_TEST

/* Our own stamps increase even when the clock stands still or is set back. */
START_TEST(next_stamp_increases)
{
    uint64_t last = 0;
    ck_assert_uint_eq(auth_next_stamp(&last, NOW), NOW);
    ck_assert_uint_eq(auth_next_stamp(&last, NOW), NOW + 1);
    ck_assert_uint_eq(auth_next_stamp(&last, NOW - 5000000), NOW + 2);
    ck_assert_uint_eq(auth_next_stamp(&last, NOW + 10), NOW + 10);
    ck_assert_uint_gt(auth_wall_us(), NOW); /* after November 2023 */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("auth");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, key_file_good);
    tcase_add_test(tc, key_file_bad);
    tcase_add_test(tc, sign_layout);
    tcase_add_test(tc, verify_good_and_bad);
    tcase_add_test(tc, fresh_then_replay);
    tcase_add_test(tc, retained_and_will);
    tcase_add_test(tc, guard_evicts_oldest);
    tcase_add_test(tc, next_stamp_increases);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
