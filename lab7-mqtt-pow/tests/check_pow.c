/* check_pow.c - the difficulty check at bit boundaries, the fast mining path, threads, cancel. */
#include "pow.h"
#include "sha256.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Zero bits counted the way a person reads `sha256sum` output: 4 per leading '0' digit,
 * then the leading zeros of the first other digit. Independent of pow_zero_bits. */
static unsigned zero_bits_by_hand(const uint8_t h[32])
{
    char hex[65];
    unsigned bits = 0;
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    for (int i = 0; i < 64; i++) {
        unsigned v = (unsigned)strtoul((char[]){hex[i], 0}, NULL, 16);
        if (v != 0)
            return bits + (v < 2 ? 3 : v < 4 ? 2 : v < 8 ? 1 : 0);
        bits += 4;
    }
    return bits;
}

START_TEST(test_zero_bits_hand_made)
{
    static const struct {
        int byte;      /* index of the first nonzero byte (32: none) */
        uint8_t value; /* its value */
        unsigned bits;
    } cases[] = {
        {0, 0xff, 0}, {0, 0x80, 0}, {0, 0x7f, 1}, {0, 0x40, 1},    {0, 0x01, 7},    {1, 0x80, 8},
        {1, 0xff, 8}, {1, 0x40, 9}, {1, 0x7f, 9}, {31, 0x01, 255}, {31, 0x80, 248}, {32, 0, 256},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint8_t h[32];
        memset(h, 0, sizeof h);
        if (cases[i].byte < 32) {
            h[cases[i].byte] = cases[i].value;
            if (cases[i].byte < 31)
                h[31] = 0xff; /* later bytes must not matter */
        }
        ck_assert_uint_eq(pow_zero_bits(h), cases[i].bits);
        ck_assert_uint_eq(zero_bits_by_hand(h), cases[i].bits);
    }
}
END_TEST

/* The digest is exactly what `printf '%s%016x' hello 42 | sha256sum` prints. */
START_TEST(test_known_digest)
{
    uint8_t h[32];
    char hex[65], nh[POW_NONCE_HEX + 1];
    pow_nonce_hex(42, nh);
    ck_assert_str_eq(nh, "000000000000002a");
    pow_nonce_hex(UINT64_MAX, nh);
    ck_assert_str_eq(nh, "ffffffffffffffff");
    pow_hash("hello", 5, 42, h);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    ck_assert_str_eq(hex, "0be709e5f8437444354d6c903499871ec7df4a239e199e32ee7d3a325711df5a");
    ck_assert(pow_check("hello", 5, 42, 4));  /* one leading '0' digit ... */
    ck_assert(!pow_check("hello", 5, 42, 5)); /* ... then 'b' = 1011 */
}
END_TEST

/* For each difficulty k in {1, 7, 8, 9}: find a nonce whose digest has exactly k zero bits;
 * pow_check must accept it at 0..k and refuse it at k+1, 255, 256 and beyond. */
START_TEST(test_check_bit_boundaries)
{
    static const unsigned ks[] = {1, 7, 8, 9};
    const char *data = "boundary";
    for (size_t i = 0; i < sizeof ks / sizeof *ks; i++) {
        uint64_t n = 0;
        uint8_t h[32];
        for (;; n++) {
            pow_hash(data, strlen(data), n, h);
            if (pow_zero_bits(h) == ks[i])
                break;
        }
        ck_assert_uint_eq(zero_bits_by_hand(h), ks[i]);
        for (unsigned d = 0; d <= ks[i]; d++)
            ck_assert_msg(pow_check(data, strlen(data), n, d), "k=%u d=%u", ks[i], d);
        ck_assert(!pow_check(data, strlen(data), n, ks[i] + 1));
        ck_assert(!pow_check(data, strlen(data), n, 255));
        ck_assert(!pow_check(data, strlen(data), n, 256));
        ck_assert(!pow_check(data, strlen(data), n, 257));
        ck_assert(!pow_check(data, strlen(data), n, 100000));
    }
}
END_TEST

START_TEST(test_check_limits)
{
    char big[POW_MAX_DATA + 1];
    memset(big, 'x', sizeof big);
    ck_assert(pow_check(big, POW_MAX_DATA, 0, 0));
    ck_assert(!pow_check(big, POW_MAX_DATA + 1, 0, 0)); /* longer than the protocol allows */
    ck_assert(pow_check(NULL, 0, 7, 0));                /* empty data is fine */
    struct pow_job job = {"x", 1, 257, 1, 0};
    uint64_t hashes = 99;
    ck_assert_int_eq(pow_mine(&job, NULL, NULL, &hashes), -1);
    ck_assert_uint_eq(hashes, 0);
    job = (struct pow_job){big, POW_MAX_DATA + 1, 1, 1, 0};
    ck_assert_int_eq(pow_mine(&job, NULL, NULL, NULL), -1);
}
END_TEST

/* The implementations this CPU has: the SHA-NI runs are only added where it exists (valgrind
 * hides it), where pow_impl_pick(POW_IMPL_NI) would run the portable code a second time. */
static const enum pow_impl impls[2] = {POW_IMPL_PORTABLE, POW_IMPL_NI};
static int nimpls;

/* Under memcheck (`make test VALGRIND=1` sets KIT_VALGRIND=1) the mining tests step through
 * fewer data lengths and nonces: memcheck looks for memory errors, which these code paths show
 * at any count (every block boundary and the batch boundary are still crossed), and hashing
 * runs ~100x slower there: the full counts took 5 minutes of a CI run. Natively and under the
 * sanitizers every count is as written. */
static int sparse;

static void fill_data(char *d, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        d[i] = (char)(' ' + (i * 31 + seed) % 95); /* printable, like a JSON string */
}

/* The fast path (midstate, batch precomputation, SHA-NI) equals plain sha256 on data||hex for
 * every data length 0..200, across a batch boundary, with steps 1 and 7, both ways. */
START_TEST(test_fast_path_matches_plain)
{
    enum { NMAX = 600 }; /* per start: 1200 nonces per length and implementation */
    static uint32_t out[NMAX][8];
    const size_t N = sparse ? 60 : NMAX;
    const enum pow_impl impl = impls[_i];
    /* the first start crosses into the next batch after 5/6 of its nonces */
    const uint64_t starts[2] = {0x123456789abcffffULL - N * 5 / 6, 0xfedcba98765fff00ULL};
    const uint64_t steps[2] = {1, 7};
    char data[201];
    /* sparse: every length around the 55/56-byte and 64-byte block boundaries, every 7th else */
    for (size_t len = 0; len <= 200; len++) {
        if (sparse && len % 64 < 52 && len % 64 > 1 && len % 7)
            continue;
        fill_data(data, len, (unsigned)len);
        for (int k = 0; k < 2; k++) {
            pow_fast_hashes(data, len, impl, starts[k], steps[k], N, out);
            for (size_t i = 0; i < N; i++) {
                uint8_t h[32], w[32];
                pow_hash(data, len, starts[k] + i * steps[k], h);
                for (int j = 0; j < 8; j++)
                    for (int b = 0; b < 4; b++)
                        w[4 * j + b] = (uint8_t)(out[i][j] >> (24 - 8 * b));
                ck_assert_msg(memcmp(h, w, 32) == 0, "%s len %zu nonce #%zu", pow_impl_name(impl),
                              len, i);
            }
        }
    }
}
END_TEST

/* Mining finds a nonce pow_check accepts for data lengths 0..POW_MAX_DATA (every one with one
 * thread, every fifth with two); with one thread it is the first such nonce from start, so
 * every nonce before it must be refused (checked once, on the portable runs). */
START_TEST(test_mine_lengths)
{
    const enum pow_impl impl = impls[_i / 2];
    const int threads = _i % 2 == 0 ? 1 : 2;
    char data[POW_MAX_DATA];
    const size_t step = (threads == 1 ? 1 : 5) * (sparse ? 9 : 1);
    for (size_t len = 0; len <= POW_MAX_DATA; len += step) {
        uint64_t nonce = 0, hashes = 0, start = len * 1000003u;
        struct pow_job job = {data, len, 8, threads, start};
        fill_data(data, len, 7);
        ck_assert_int_eq(pow_mine_impl(&job, impl, NULL, &nonce, &hashes), 1);
        ck_assert_msg(pow_check(data, len, nonce, 8), "len %zu nonce %llu", len,
                      (unsigned long long)nonce);
        ck_assert(hashes >= 1);
        if (threads == 1 && impl == POW_IMPL_PORTABLE)
            for (uint64_t n = start; n < nonce; n++)
                ck_assert_msg(!pow_check(data, len, n, 8), "len %zu skipped %llu", len,
                              (unsigned long long)n);
    }
}
END_TEST

/* Both implementations find the same first nonce, at a higher difficulty (without SHA-NI
 * both calls run the portable code, and still must agree). */
START_TEST(test_mine_impls_agree)
{
    uint64_t a = 0, b = 1;
    struct pow_job job = {"agree", 5, 14, 1, 0};
    ck_assert_int_eq(pow_mine_impl(&job, POW_IMPL_PORTABLE, NULL, &a, NULL), 1);
    ck_assert_int_eq(pow_mine_impl(&job, POW_IMPL_NI, NULL, &b, NULL), 1);
    ck_assert_uint_eq(a, b);
    ck_assert(pow_check("agree", 5, a, 14));
    ck_assert(!pow_check("agree", 5, a - 1, 14) || a == 0);
}
END_TEST

START_TEST(test_difficulty_zero)
{
    uint64_t nonce = 0, hashes = 0;
    struct pow_job job = {"anything", 8, 0, 2, 77};
    ck_assert_int_eq(pow_mine(&job, NULL, &nonce, &hashes), 1);
    ck_assert(nonce == 77 || nonce == 78);
    ck_assert(hashes >= 1);
}
END_TEST

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU time used so far by the other threads of this process (the miner's), in seconds. */
static double others_cpu(void)
{
    struct timespec all, mine;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &all);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mine);
    return (double)(all.tv_sec - mine.tv_sec) + (all.tv_nsec - mine.tv_nsec) / 1e9;
}

struct bg {
    struct pow_job job;
    atomic_int cancel;
    int rc;
    uint64_t hashes;
};

static void *bg_mine(void *arg)
{
    struct bg *bg = arg;
    uint64_t nonce;
    bg->rc = pow_mine(&bg->job, &bg->cancel, &nonce, &bg->hashes);
    return NULL;
}

/* A difficulty-40 job (about 10^12 hashes: never found here) stops promptly when cancelled,
 * with one thread and with two. */
START_TEST(test_cancel)
{
    struct bg bg = {.job = {"cancel me", 9, 40, 1 + _i, 0}, .rc = -5};
    pthread_t t;
    atomic_init(&bg.cancel, 0);
    double cpu0 = others_cpu();
    ck_assert_int_eq(pthread_create(&t, NULL, bg_mine, &bg), 0);
    /* Cancel once it is really mining: bg.hashes > 0 below needs a worker to have passed its
     * first look at the flag, which a fixed sleep does not promise on a loaded machine (a thread
     * may not have run at all yet). CPU time used by threads other than this one is the
     * miner's: 0.1 s of it means its workers are in their loops, past the first look. */
    for (double end = now() + 120; others_cpu() - cpu0 < 0.1;) {
        ck_assert_msg(now() < end, "the miner did not get 0.1 s of CPU in 120 s");
        nanosleep(&(struct timespec){0, 1000 * 1000}, NULL);
    }
    double t0 = now();
    atomic_store(&bg.cancel, 1);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    double took = now() - t0;
    ck_assert_int_eq(bg.rc, 0);
    ck_assert(bg.hashes > 0);
    /* ~1 ms natively (make bench prints it); seconds only under valgrind on a loaded machine,
     * while finding a nonce would take hours: this tells "stops" from "runs on" */
    ck_assert_msg(took < 5.0, "took %.3f s to stop after cancel", took);
}
END_TEST

/* Already cancelled: returns 0 after at most one round of checks per thread. */
START_TEST(test_cancel_before_start)
{
    atomic_int cancel;
    uint64_t hashes = 0;
    struct pow_job job = {"x", 1, 40, 2, 0};
    atomic_init(&cancel, 1);
    ck_assert_int_eq(pow_mine(&job, &cancel, NULL, &hashes), 0);
    ck_assert_uint_eq(hashes, 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("pow");
    nimpls = pow_impl_pick(POW_IMPL_NI) == POW_IMPL_NI ? 2 : 1;
    sparse = getenv("KIT_VALGRIND") != NULL;
    TCase *tc = tcase_create("check");
    tcase_add_test(tc, test_zero_bits_hand_made);
    tcase_add_test(tc, test_known_digest);
    tcase_add_test(tc, test_check_bit_boundaries);
    tcase_add_test(tc, test_check_limits);
    suite_add_tcase(s, tc);

    tc = tcase_create("mine");
    tcase_set_timeout(tc, 600); /* valgrind on a loaded two-core machine */
    tcase_add_loop_test(tc, test_fast_path_matches_plain, 0, nimpls);
    tcase_add_loop_test(tc, test_mine_lengths, 0, 2 * nimpls);
    tcase_add_test(tc, test_mine_impls_agree);
    tcase_add_test(tc, test_difficulty_zero);
    tcase_add_loop_test(tc, test_cancel, 0, 2);
    tcase_add_test(tc, test_cancel_before_start);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
