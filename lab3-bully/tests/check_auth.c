/* check_auth.c - the key file and the replay guard of signed frames (auth.c). The canonical copy
 * is common/tests/check_auth.c; labs 2 and 3 carry it verbatim. */
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

static struct proto_msg from(int sender, uint64_t stamp)
{
    /* only the fields the guard reads: the rest of a lab's proto_msg stays zero */
    struct proto_msg m = {.sender = (uint16_t)sender, .stamp = stamp};
    return m;
}

/* Increasing stamps pass; the same frame again, or an older one, is a replay. */
START_TEST(fresh_then_replay)
{
    struct auth_guard g = {{0}};
    struct proto_msg a = from(3, NOW), b = from(3, NOW + 1);
    ck_assert_ptr_null(auth_check_fresh(&g, &a, NOW));
    ck_assert_str_eq(auth_check_fresh(&g, &a, NOW + 5), "replay");
    ck_assert_ptr_null(auth_check_fresh(&g, &b, NOW + 5));
    ck_assert_str_eq(auth_check_fresh(&g, &a, NOW + 5), "replay"); /* overtaken: also refused */
    struct proto_msg other = from(2, NOW); /* each sender has its own counter */
    ck_assert_ptr_null(auth_check_fresh(&g, &other, NOW));
}
END_TEST

/* Outside the window either way: stale, and not remembered (a later good frame still passes). */
START_TEST(stale_both_ways)
{
    struct auth_guard g = {{0}};
    struct proto_msg old = from(1, NOW - AUTH_WINDOW_US - 1), edge = from(1, NOW - AUTH_WINDOW_US);
    struct proto_msg future = from(1, NOW + AUTH_WINDOW_US + 1), now = from(1, NOW);
    ck_assert_str_eq(auth_check_fresh(&g, &old, NOW), "stale");
    ck_assert_str_eq(auth_check_fresh(&g, &future, NOW), "stale");
    ck_assert_ptr_null(auth_check_fresh(&g, &edge, NOW));
    ck_assert_ptr_null(auth_check_fresh(&g, &now, NOW));
}
END_TEST

/* A sender that restarts starts its stamps from the clock again: still above its old ones, so
 * the receivers that remember it accept the new life at once. A receiver that restarts accepts
 * whatever is inside the window: the limit the README names. */
START_TEST(sender_restart)
{
    struct auth_guard g = {{0}}, fresh_receiver = {{0}};
    uint64_t life1 = 0, life2 = 0;
    struct proto_msg m = from(4, auth_next_stamp(&life1, NOW));
    ck_assert_ptr_null(auth_check_fresh(&g, &m, NOW));
    for (int i = 0; i < 50; i++) { /* a burst inside one microsecond */
        m.stamp = auth_next_stamp(&life1, NOW);
        ck_assert_ptr_null(auth_check_fresh(&g, &m, NOW));
    }
    struct proto_msg replayed = m;
    m.stamp = auth_next_stamp(&life2, NOW + 1000000); /* restarted a second later */
    ck_assert_ptr_null(auth_check_fresh(&g, &m, NOW + 1000000));
    ck_assert_str_eq(auth_check_fresh(&g, &replayed, NOW + 1000000), "replay");
    ck_assert_ptr_null(auth_check_fresh(&fresh_receiver, &replayed, NOW + 1000000));
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
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, key_file_good);
    tcase_add_test(tc, key_file_bad);
    tcase_add_test(tc, fresh_then_replay);
    tcase_add_test(tc, stale_both_ways);
    tcase_add_test(tc, sender_restart);
    tcase_add_test(tc, next_stamp_increases);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
