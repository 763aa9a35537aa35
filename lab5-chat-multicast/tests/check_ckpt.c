/* check_ckpt.c - checkpoints: round trip, atomic replace, truncated and corrupted files. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt.h"

static char dir[64], path[128];

static void setup(void)
{
    strcpy(dir, "/tmp/check_ckpt.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/alice.ckpt", dir);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static struct ckpt_state *state(int nmsgs)
{
    struct ckpt_state *st = calloc(1, sizeof *st);
    ck_assert_ptr_nonnull(st);
    strcpy(st->user, "alice");
    st->boot = 3, st->next_seq = (uint32_t)nmsgs + 1, st->lc = 1234567890123ULL;
    st->npeers = 2;
    strcpy(st->peer[0].name, "bob"), st->peer[0].ip = 0x0100007f, st->peer[0].port = 0x1234;
    strcpy(st->peer[1].name, "carol");
    store_init(&st->history);
    for (int i = 1; i <= nmsgs; i++) {
        struct chatmsg m = {.seq = (uint32_t)i, .lts = (uint64_t)i * 3};
        strcpy(m.author, i % 2 ? "alice" : "bob");
        m.seq = (uint32_t)(i + 1) / 2;
        snprintf(m.text, sizeof m.text, "message number %d", i);
        ck_assert_int_eq(store_add(&st->history, &m), 1);
    }
    return st;
}

static void drop(struct ckpt_state *st)
{
    store_free(&st->history);
    free(st);
}

START_TEST(crc32_known_value)
{
    ck_assert_uint_eq(ckpt_crc32("123456789", 9), 0xCBF43926u); /* the standard check value */
    ck_assert_uint_eq(ckpt_crc32("", 0), 0);
}
END_TEST

START_TEST(roundtrip)
{
    struct ckpt_state *st = state(50), *back = calloc(1, sizeof *back);
    size_t bytes;
    const char *why = NULL;
    ck_assert_int_eq(ckpt_save(path, st, 0, &bytes), 0);
    store_init(&back->history);
    ck_assert_int_eq(ckpt_load(path, back, &why), 0);
    ck_assert_str_eq(back->user, "alice");
    ck_assert_uint_eq(back->boot, 3);
    ck_assert_uint_eq(back->next_seq, 51);
    ck_assert(back->lc == 1234567890123ULL);
    ck_assert_int_eq(back->npeers, 2);
    ck_assert_str_eq(back->peer[1].name, "carol");
    ck_assert_uint_eq(back->peer[0].port, 0x1234);
    ck_assert_uint_eq(back->history.n, 50);
    ck_assert(store_digest(&back->history) == store_digest(&st->history));
    drop(st), drop(back);
}
END_TEST

START_TEST(replace_keeps_previous)
{
    struct ckpt_state *a = state(2), *b = state(7), *back = calloc(1, sizeof *back);
    size_t bytes;
    const char *why;
    char prev[160], tmp[160];
    snprintf(prev, sizeof prev, "%s.prev", path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ck_assert_int_eq(ckpt_save(path, a, 0, &bytes), 0);
    ck_assert_int_eq(ckpt_save(path, b, 0, &bytes), 0);
    ck_assert_int_ne(access(tmp, F_OK), 0); /* no temporary file left behind */
    store_init(&back->history);
    ck_assert_int_eq(ckpt_load(path, back, &why), 0);
    ck_assert_uint_eq(back->history.n, 7);
    store_free(&back->history), store_init(&back->history);
    ck_assert_int_eq(ckpt_load(prev, back, &why), 0);
    ck_assert_uint_eq(back->history.n, 2);
    drop(a), drop(b), drop(back);
}
END_TEST

/* Every truncation of a valid file, and a flipped bit at every byte: rejected, never a crash. */
START_TEST(truncated_and_corrupted)
{
    struct ckpt_state *st = state(6), *back = calloc(1, sizeof *back);
    size_t len;
    uint8_t *buf = ckpt_encode(st, &len);
    const char *why;
    ck_assert_ptr_nonnull(buf);
    store_init(&back->history);
    for (size_t k = 0; k < len; k++) {
        ck_assert_msg(ckpt_decode(buf, k, back, &why) < 0, "accepted %zu of %zu bytes", k, len);
        ck_assert_uint_eq(back->history.n, 0);
    }
    for (size_t k = 0; k < len; k++) {
        buf[k] ^= 0x10;
        ck_assert_msg(ckpt_decode(buf, len, back, &why) < 0, "accepted a flip at byte %zu", k);
        buf[k] ^= 0x10;
    }
    ck_assert_int_eq(ckpt_decode(buf, len, back, &why), 0);
    free(buf);
    drop(st), drop(back);
}
END_TEST

START_TEST(reasons_are_clear)
{
    struct ckpt_state *st = state(3), *back = calloc(1, sizeof *back);
    size_t len;
    uint8_t *buf = ckpt_encode(st, &len);
    const char *why;
    store_init(&back->history);
    ck_assert_int_lt(ckpt_decode(buf, len - 1, back, &why), 0);
    ck_assert_ptr_nonnull(strstr(why, "truncated"));
    buf[len - 1] ^= 1;
    ck_assert_int_lt(ckpt_decode(buf, len, back, &why), 0);
    ck_assert_ptr_nonnull(strstr(why, "checksum"));
    buf[5] = 9;
    ck_assert_int_lt(ckpt_decode(buf, len, back, &why), 0);
    ck_assert_ptr_nonnull(strstr(why, "version"));
    memcpy(buf, "PK\3\4", 4);
    ck_assert_int_lt(ckpt_decode(buf, len, back, &why), 0);
    ck_assert_ptr_nonnull(strstr(why, "magic"));
    ck_assert_int_lt(ckpt_load("/nonexistent/x.ckpt", back, &why), 0);
    ck_assert_str_eq(why, "missing");
    free(buf);
    drop(st), drop(back);
}
END_TEST

/* A payload whose checksum is right but whose fields lie (a hostile, not a damaged, file). */
START_TEST(valid_checksum_lying_fields)
{
    struct ckpt_state *st = state(1), *back = calloc(1, sizeof *back);
    size_t len;
    uint8_t *buf = ckpt_encode(st, &len);
    const char *why;
    store_init(&back->history);
    /* payload starts at 16: user length byte, "alice", boot, next_seq, lc, npeers */
    size_t np = 16 + 1 + 5 + 4 + 4 + 8;
    buf[np] = 0xFF, buf[np + 1] = 0xFF; /* 65535 peers */
    uint32_t crc = ckpt_crc32(buf + 16, len - 16);
    for (int i = 0; i < 4; i++)
        buf[12 + i] = (uint8_t)(crc >> (24 - 8 * i));
    ck_assert_int_lt(ckpt_decode(buf, len, back, &why), 0);
    ck_assert_str_eq(why, "too many peers");
    free(buf);
    drop(st), drop(back);
}
END_TEST

static void fix_crc(uint8_t *buf, size_t len)
{
    uint32_t crc = ckpt_crc32(buf + 16, len - 16);
    for (int i = 0; i < 4; i++)
        buf[12 + i] = (uint8_t)(crc >> (24 - 8 * i));
}

/* Issue 12: "al\0ce" (length 5) used to load as user "al"; a message author likewise. */
START_TEST(names_with_nul_inside_are_refused)
{
    struct ckpt_state *st = state(1), *back = calloc(1, sizeof *back);
    size_t len;
    uint8_t *buf = ckpt_encode(st, &len);
    const char *why;
    store_init(&back->history);
    ck_assert_int_eq(buf[16], 5); /* the user's name: length byte, then "alice" */
    buf[18] = '\0';
    fix_crc(buf, len);
    ck_assert_int_lt(ckpt_decode(buf, len, back, &why), 0);
    ck_assert_uint_eq(back->history.n, 0);
    buf[18] = 'i';
    fix_crc(buf, len);
    ck_assert_int_eq(ckpt_decode(buf, len, back, &why), 0);
    store_free(&back->history);
    store_init(&back->history);
    /* the last record is the one message: author "alice" sits 1+5+4+8+2+text bytes from the end */
    size_t text = strlen(st->history.m[0]->text), at = len - (text + 2 + 8 + 4 + 5);
    ck_assert_int_eq(buf[at - 1], 5);
    buf[at + 2] = '\0';
    fix_crc(buf, len);
    ck_assert_int_lt(ckpt_decode(buf, len, back, &why), 0);
    ck_assert_uint_eq(back->history.n, 0);
    free(buf);
    drop(st), drop(back);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ckpt");
    TCase *tc = tcase_create("checkpoint");
    tcase_set_timeout(tc, 20);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, crc32_known_value);
    tcase_add_test(tc, roundtrip);
    tcase_add_test(tc, replace_keeps_previous);
    tcase_add_test(tc, truncated_and_corrupted);
    tcase_add_test(tc, reasons_are_clear);
    tcase_add_test(tc, valid_checksum_lying_fields);
    tcase_add_test(tc, names_with_nul_inside_are_refused);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
