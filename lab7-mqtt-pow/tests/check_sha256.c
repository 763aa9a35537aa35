/* check_sha256.c - SHA-256 against the FIPS 180-4 example vectors, split updates, SHA-NI. */
#include "sha256.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void to_hex(const uint8_t d[32], char out[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* Every vector runs twice: _i == 0 with the SHA extensions (when the CPU has them), 1 without. */
static void hash_hex(int i, const void *data, size_t len, char out[65])
{
    uint8_t d[32];
    sha256_use_ni(i == 0);
    sha256(data, len, d);
    sha256_use_ni(true);
    to_hex(d, out);
}

/* NIST's SHA-256 examples (FIPS 180-4 / csrc.nist.gov "Examples with intermediate values"):
 * "abc", the empty string, the 448- and 896-bit messages, one million 'a'. */
static const struct {
    const char *msg;
    const char *digest;
} vectors[] = {
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnop"
     "qrsmnopqrstnopqrstu",
     "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
};

START_TEST(test_nist_vectors)
{
    char hex[65];
    for (size_t v = 0; v < sizeof vectors / sizeof *vectors; v++) {
        hash_hex(_i, vectors[v].msg, strlen(vectors[v].msg), hex);
        ck_assert_msg(strcmp(hex, vectors[v].digest) == 0, "vector %zu (ni=%d): got %s", v, _i == 0,
                      hex);
    }
}
END_TEST

START_TEST(test_million_a)
{
    /* fed in uneven pieces so that the buffered path is used as well as whole blocks */
    struct sha256 s;
    uint8_t d[32], chunk[1000];
    char hex[65];
    memset(chunk, 'a', sizeof chunk);
    sha256_use_ni(_i == 0);
    sha256_init(&s);
    for (size_t done = 0, step = 1; done < 1000000; done += step, step = step % 997 + 1) {
        if (step > 1000000 - done)
            step = 1000000 - done;
        sha256_update(&s, chunk, step);
    }
    sha256_final(&s, d);
    sha256_use_ni(true);
    to_hex(d, hex);
    ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

/* A message split in two (and three) at every offset hashes like the one-shot call. */
START_TEST(test_split_updates)
{
    uint8_t msg[300], one[32], two[32];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 7 + 3);
    sha256_use_ni(_i == 0);
    for (size_t total = 0; total <= 260; total += 13) {
        size_t len = total < 130 ? total : 130 + total % 131; /* 0..130 and a few longer */
        sha256(msg, len, one);
        for (size_t cut = 0; cut <= len && cut <= 130; cut++) {
            struct sha256 s;
            size_t cut2 = cut + (len - cut) / 2;
            sha256_init(&s);
            sha256_update(&s, msg, cut);
            sha256_update(&s, msg + cut, cut2 - cut);
            sha256_update(&s, msg + cut2, len - cut2);
            sha256_final(&s, two);
            ck_assert_msg(memcmp(one, two, 32) == 0, "len %zu cut %zu", len, cut);
        }
    }
    sha256_use_ni(true);
}
END_TEST

/* Every length 0..130 split at every offset (the padding boundaries 55/56/63/64 included). */
START_TEST(test_every_offset)
{
    uint8_t msg[131], one[32], two[32];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(255 - i);
    sha256_use_ni(_i == 0);
    for (size_t len = 0; len <= 130; len++) {
        sha256(msg, len, one);
        for (size_t cut = 0; cut <= len; cut++) {
            struct sha256 s;
            sha256_init(&s);
            sha256_update(&s, msg, cut);
            sha256_update(&s, msg + cut, len - cut);
            sha256_final(&s, two);
            ck_assert_msg(memcmp(one, two, 32) == 0, "len %zu cut %zu", len, cut);
        }
    }
    sha256_use_ni(true);
}
END_TEST

/* The SHA-extension compression equals the portable one on pseudo-random states and blocks.
 * Where the CPU lacks them (or under valgrind, which hides them) the run-time choice must say
 * so, since calling them would be an illegal instruction. */
START_TEST(test_ni_matches_portable)
{
    uint32_t x = 12345;
    if (!sha256_ni_available()) {
        printf("sha256: no SHA extensions here (or valgrind hides them): portable only\n");
        ck_assert(!sha256_ni_available());
        return;
    }
    for (int n = 0; n < 5000; n++) {
        uint8_t block[64];
        uint32_t a[8], b[8];
        for (int i = 0; i < 64; i++)
            block[i] = (uint8_t)((x = x * 1103515245 + 12345) >> 16);
        for (int i = 0; i < 8; i++)
            a[i] = b[i] = (x = x * 1103515245 + 12345);
        sha256_compress_portable(a, block);
        sha256_compress_ni(b, block);
        ck_assert_msg(memcmp(a, b, sizeof a) == 0, "block %d differs", n);
    }
    printf("sha256: SHA extensions available and checked against the portable code\n");
}
END_TEST

/* The state is cleared by final, so nothing of the message is left in memory. */
START_TEST(test_final_wipes)
{
    struct sha256 s, zero;
    uint8_t d[32];
    memset(&zero, 0, sizeof zero);
    sha256_init(&s);
    sha256_update(&s, "secret", 6);
    sha256_final(&s, d);
    ck_assert(memcmp(&s, &zero, sizeof s) == 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sha256");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300); /* valgrind on a loaded machine */
    tcase_add_loop_test(tc, test_nist_vectors, 0, 2);
    tcase_add_loop_test(tc, test_million_a, 0, 2);
    tcase_add_loop_test(tc, test_split_updates, 0, 2);
    tcase_add_loop_test(tc, test_every_offset, 0, 2);
    tcase_add_test(tc, test_ni_matches_portable);
    tcase_add_test(tc, test_final_wipes);
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
