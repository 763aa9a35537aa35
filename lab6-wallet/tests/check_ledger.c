/* check_ledger.c - records, append and replay, a torn last record, group commit. */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger.h"

#define SA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SB "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
/* SHA-256 of SA and SB (printf SA | sha256sum): what a registration record holds */
#define HA "3ba3f5f43b92602683c19aee62a20342b084dd5971ddd33808d81a328879a547"
#define HB "bdb339768bc5e4fecbe55a442056919b2b325907d49bcbf3bf8de13781996a83"
static const uint64_t master[2] = {1, 2};
static char path[64];
static char err[256];

static void setup(void)
{
    snprintf(path, sizeof path, "/tmp/check_ledger.%ld", (long)getpid());
    unlink(path);
}

static void teardown(void)
{
    unlink(path);
}

static struct ledger *open_it(struct bank *b, struct ledger_info *info)
{
    return ledger_open(path, LEDGER_SYNC_GROUP, b, 10, 100, master, info, err, sizeof err);
}

static void append(struct ledger *lg, const char *payload)
{
    long long seq;
    ck_assert_int_eq(ledger_append(lg, payload, &seq), 0);
    ck_assert_int_eq(ledger_wait(lg, seq), 0);
}

static void raw_append(const char *bytes)
{
    int fd = open(path, O_WRONLY | O_APPEND);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, bytes, strlen(bytes)), (ssize_t)strlen(bytes));
    close(fd);
}

static off_t file_size(void)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_size;
}

/* A ledger with two wallets and one transfer alice -> bob of 300. */
static void make_ledger(void)
{
    struct bank b;
    struct ledger_info info;
    struct ledger *lg = open_it(&b, &info);
    ck_assert_ptr_nonnull(lg);
    ck_assert_int_eq(info.records, 1); /* the master record */
    append(lg, "R alice " HA);
    append(lg, "R bob " HB);
    append(lg, "T 1 alice bob 300 r1");
    ledger_close(lg);
    bank_free(&b);
}

START_TEST(record_roundtrip)
{
    char rec[LEDGER_MAX_RECORD + 1], payload[LEDGER_MAX_RECORD];
    size_t n = ledger_encode(rec, sizeof rec, "T 1 a b 5 r1");
    ck_assert_uint_gt(n, 0);
    ck_assert_int_eq(rec[n - 1], '\n');
    ck_assert_int_eq(ledger_decode(rec, n - 1, payload, sizeof payload), 0);
    ck_assert_str_eq(payload, "T 1 a b 5 r1");
    rec[2] = '2'; /* one changed byte: the checksum no longer matches */
    ck_assert_int_eq(ledger_decode(rec, n - 1, payload, sizeof payload), -1);
    ck_assert_int_eq(ledger_decode("T 1", 3, payload, sizeof payload), -1);
    ck_assert_uint_eq(ledger_crc32("123456789", 9), 0xcbf43926u); /* the standard check value */
}
END_TEST

START_TEST(replay_restores_state)
{
    make_ledger();
    struct bank b;
    struct ledger_info info;
    struct ledger *lg = open_it(&b, &info);
    ck_assert_ptr_nonnull(lg);
    ck_assert_int_eq(info.records, 4);
    ck_assert_int_eq(info.wallets, 2);
    ck_assert_int_eq(info.transfers, 1);
    ck_assert_int_eq(info.torn_bytes, 0);
    ck_assert_int_eq(b.w[bank_find(&b, "alice")].cents, BANK_START_CENTS - 300);
    ck_assert_int_eq(b.w[bank_find(&b, "bob")].cents, BANK_START_CENTS + 300);
    ck_assert_int_eq(bank_auth(&b, "alice", SA), 0); /* the hash in the record checks it */
    ck_assert_int_eq(bank_auth(&b, "alice", SB), BK_SECRET);
    ck_assert_int_eq(info.plain_secrets, 0);
    ck_assert_int_eq(b.master[0], 1); /* keys survive a restart */
    ck_assert_int_eq(b.next_tx, 2);
    struct bank_tx tx; /* and so does idempotency */
    char k[BANK_KEY_LEN + 1];
    bank_key(&b, 1, 0, k);
    ck_assert_int_eq(bank_prepare(&b, "alice", SA, "r1", k, 300, 5, &tx), 0);
    ck_assert(tx.dup);
    ledger_close(lg);
    bank_free(&b);
}
END_TEST

static void torn(const char *tail)
{
    make_ledger();
    off_t good = file_size();
    raw_append(tail);
    struct bank b;
    struct ledger_info info;
    struct ledger *lg = open_it(&b, &info);
    ck_assert_msg(lg != NULL, "%s", err);
    ck_assert_int_eq(info.records, 4);
    ck_assert_int_eq(info.torn_offset, good);
    ck_assert_int_eq(info.torn_bytes, (long long)strlen(tail));
    ck_assert_int_eq(file_size(), good); /* cut off */
    ck_assert_int_eq(bank_total(&b), 2 * BANK_START_CENTS);
    append(lg, "T 2 bob alice 1 r9"); /* appends go after the good prefix */
    ledger_close(lg);
    bank_free(&b);
    lg = open_it(&b, &info);
    ck_assert_ptr_nonnull(lg);
    ck_assert_int_eq(info.records, 5);
    ck_assert_int_eq(info.torn_bytes, 0);
    ledger_close(lg);
    bank_free(&b);
}

START_TEST(torn_without_newline)
{
    torn("T 2 alice bob 5 r2 #1234");
}
END_TEST

START_TEST(torn_bad_checksum)
{
    torn("T 2 alice bob 5 r2 #00000000\n");
}
END_TEST

START_TEST(damage_in_the_middle_is_an_error)
{
    make_ledger();
    raw_append("T 2 alice bob 5 r2 #00000000\n");
    raw_append("T 3 alice bob 5 r3 #00000000\n");
    struct bank b;
    struct ledger_info info;
    ck_assert_ptr_null(open_it(&b, &info));
    ck_assert_ptr_nonnull(strstr(err, "damaged"));
    bank_free(&b);
}
END_TEST

START_TEST(inconsistent_record_is_an_error)
{
    make_ledger();
    char rec[LEDGER_MAX_RECORD + 1];
    ledger_encode(rec, sizeof rec, "T 2 alice bob 99999 r2"); /* more than alice has */
    raw_append(rec);
    struct bank b;
    struct ledger_info info;
    ck_assert_ptr_null(open_it(&b, &info));
    ck_assert_msg(strstr(err, "alice has 9700 cents, fewer than 99999"), "%s", err);
    bank_free(&b);
}
END_TEST

/* Records with a good checksum that break a rule of the live path. Each one is the LAST
 * record, so it cannot pass for a torn write: the ledger must refuse to open (and say which
 * line and which rule), never drop it. */
static const struct {
    const char *payload, *why;
} bad_records[] = {
    {"T 9223372036854775807 alice bob 5 r2", "transfer id 9223372036854775807 is out of order"},
    {"T 99999999999999999999 alice bob 5 r2", "is not a number"},
    {"T -2 alice bob 5 r2", "is not a number"},
    {"T 0 alice bob 5 r2", "is not a number"},
    {"T 3 alice bob 5 r2", "transfer id 3 is out of order: the next one is 2"},
    {"T 1 alice bob 5 r2", "transfer id 1 is out of order"},
    {"T 2 alice bob -5 r2", "amount -5 is not"},
    {"T 2 alice bob 0 r2", "amount 0 is not"},
    {"T 2 alice bob 1000000000001 r2", "amount 1000000000001 is not"},
    {"T 2 alice bob 5abc r2", "amount 5abc is not"},
    {"T 2 alice zed 5 r2", "wallet zed was never registered"},
    {"T 2 zed bob 5 r2", "wallet zed was never registered"},
    {"T 2 al!ce bob 5 r2", "malformed name or request id"},
    {"T 2 alice bob 5 r/2", "malformed name or request id"},
    {"T 2 alice alice 5 r2", "pays itself"},
    {"T 2 alice bob 99999 r2", "alice has 9700 cents, fewer than 99999"},
    {"T 2 alice bob 300 r1", "request id r1 of alice was used before"},
    {"T 2 alice bob 5", "a transfer must be T"},
    {"T 2 alice bob 5 r2 extra", "a transfer must be T"},
    {"R alice " HB, "wallet alice is registered twice"},
    {"R b@d " HA, "a registration must be R"},
    {"R carol " HA "0", "a registration must be R"},
    {"R carol abc", "a registration must be R"},
    {"M 0000000000000001 0000000000000002", "a second M record"},
    {"X 1", "unknown record type"},
};

START_TEST(bad_record_is_refused_with_its_rule)
{
    make_ledger();
    off_t good = file_size();
    char rec[LEDGER_MAX_RECORD + 1];
    ck_assert_uint_gt(ledger_encode(rec, sizeof rec, bad_records[_i].payload), 0);
    raw_append(rec);
    struct bank b;
    struct ledger_info info;
    struct ledger *lg = open_it(&b, &info);
    ck_assert_msg(lg == NULL, "%s was replayed", bad_records[_i].payload);
    ck_assert_msg(strstr(err, bad_records[_i].why), "%s: got \"%s\", want \"%s\"",
                  bad_records[_i].payload, err, bad_records[_i].why);
    char where[64];
    snprintf(where, sizeof where, "line 5 (byte %lld)", (long long)good);
    ck_assert_msg(strstr(err, where), "%s: \"%s\" does not name %s", bad_records[_i].payload, err,
                  where);
    ck_assert_int_eq(file_size(), good + (off_t)strlen(rec)); /* the file is left as it was */
    bank_free(&b);
}
END_TEST

static mode_t file_mode(void)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_mode & 0777;
}

/* The ledger holds the master key and the secrets' hashes: 0600 even under umask 0, and an
 * old 0644 one is made 0600 (and reported). No secret is ever written in plain text. */
START_TEST(ledger_is_private_and_holds_no_secret)
{
    mode_t old = umask(0);
    make_ledger();
    umask(old);
    ck_assert_int_eq(file_mode(), 0600);
    chmod(path, 0644);
    struct bank b;
    struct ledger_info info;
    struct ledger *lg = open_it(&b, &info);
    ck_assert_ptr_nonnull(lg);
    ck_assert_int_eq(info.old_mode, 0644);
    ck_assert_int_eq(file_mode(), 0600);
    ledger_close(lg);
    bank_free(&b);
    lg = open_it(&b, &info);
    ck_assert_int_eq(info.old_mode, 0);
    ledger_close(lg);
    bank_free(&b);
}
END_TEST

/* A ledger written before secrets were hashed still opens (no wallet is lost): the plain
 * secrets are hashed on replay and counted, so the server can warn. */
START_TEST(old_format_plain_secret_still_replays)
{
    make_ledger();
    char rec[LEDGER_MAX_RECORD + 1];
    ledger_encode(rec, sizeof rec, "R carol " SA);
    raw_append(rec);
    struct bank b;
    struct ledger_info info;
    struct ledger *lg = open_it(&b, &info);
    ck_assert_msg(lg != NULL, "%s", err);
    ck_assert_int_eq(info.plain_secrets, 1);
    ck_assert_int_eq(bank_auth(&b, "carol", SA), 2);
    ck_assert_int_eq(bank_auth(&b, "carol", SB), BK_SECRET);
    ledger_close(lg);
    bank_free(&b);
}
END_TEST

START_TEST(first_record_must_be_master)
{
    char rec[LEDGER_MAX_RECORD + 1];
    ledger_encode(rec, sizeof rec, "R alice " SA);
    int fd = open(path, O_WRONLY | O_CREAT, 0600);
    ck_assert_int_eq(write(fd, rec, strlen(rec)), (ssize_t)strlen(rec));
    ledger_encode(rec, sizeof rec, "R bob " SB);
    ck_assert_int_eq(write(fd, rec, strlen(rec)), (ssize_t)strlen(rec));
    close(fd);
    struct bank b;
    struct ledger_info info;
    ck_assert_ptr_null(open_it(&b, &info));
    ck_assert_msg(strstr(err, "line 1 (byte 0): the first record must be M"), "%s", err);
    bank_free(&b);
}
END_TEST

#define THREADS 8
#define EACH 50

static void *appender(void *arg)
{
    struct ledger *lg = arg;
    for (int i = 0; i < EACH; i++) {
        long long seq;
        if (ledger_append(lg, "R x " SA, &seq) < 0 || ledger_wait(lg, seq) < 0)
            return (void *)1;
    }
    return NULL;
}

START_TEST(group_commit_from_threads)
{
    struct bank b;
    struct ledger_info info;
    struct ledger *lg = open_it(&b, &info);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, appender, lg), 0);
    for (int i = 0; i < THREADS; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        ck_assert_ptr_null(ret);
    }
    ck_assert_int_eq(ledger_written(lg), THREADS * EACH);
    ck_assert_int_le(ledger_syncs(lg), THREADS * EACH); /* never more syncs than records */
    ck_assert_int_gt(ledger_syncs(lg), 0);
    ledger_close(lg);
    bank_free(&b);
    /* every record is whole: the replay reads them all (the same name fails the replay
     * rules, so count lines instead) */
    FILE *f = fopen(path, "r");
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n++;
    fclose(f);
    ck_assert_int_eq(n, THREADS * EACH + 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ledger");
    TCase *t = tcase_create("ledger");
    tcase_set_timeout(t, 30);
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, record_roundtrip);
    tcase_add_test(t, replay_restores_state);
    tcase_add_test(t, torn_without_newline);
    tcase_add_test(t, torn_bad_checksum);
    tcase_add_test(t, damage_in_the_middle_is_an_error);
    tcase_add_test(t, inconsistent_record_is_an_error);
    tcase_add_loop_test(t, bad_record_is_refused_with_its_rule, 0,
                        (int)(sizeof bad_records / sizeof *bad_records));
    tcase_add_test(t, first_record_must_be_master);
    tcase_add_test(t, ledger_is_private_and_holds_no_secret);
    tcase_add_test(t, old_format_plain_secret_still_replays);
    tcase_add_test(t, group_commit_from_threads);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
