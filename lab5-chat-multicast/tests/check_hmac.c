/* check_hmac.c - SHA-256 against FIPS 180-2's examples, HMAC-SHA256 against all of RFC 4231.
 *
 * The canonical copy lives in the kit's common/tests/; a lab that carries sha256.c and hmac.c
 * carries this file verbatim as tests/check_hmac.c and runs it in its `make test`. The expected
 * values were checked against `sha256sum` and `openssl mac -digest SHA256 -macopt hexkey:K HMAC`.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmac.h"
#include "sha256.h"

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
static void to_hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void fill(uint8_t *b, int byte, size_t n)
{
    memset(b, byte, n);
}

/* ---- SHA-256: FIPS 180-2 appendix B (one block, two blocks, a million 'a'), the empty input,
 * and the two-block example of FIPS 180-4's SHA-512 family written for SHA-256. ---- */

static const struct {
    const char *msg, *hex;
} sha_vec[] = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmno"
     "pqrsmnopqrstnopqrstu",
     "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
};

START_TEST(sha256_fips_vectors)
{
    uint8_t d[32];
    char hex[65];
    sha256(sha_vec[_i].msg, strlen(sha_vec[_i].msg), d);
    to_hex(d, sizeof d, hex);
    ck_assert_str_eq(hex, sha_vec[_i].hex);
}
END_TEST

/* A million 'a', fed in uneven pieces so every partial-block path is taken. */
START_TEST(sha256_million_a)
{
    static uint8_t a[1024]; /* the largest piece below is 1009 bytes */
    uint8_t d[32];
    char hex[65];
    struct sha256 s;
    fill(a, 'a', sizeof a);
    sha256_init(&s);
    size_t left = 1000000, step = 1;
    while (left > 0) {
        size_t n = step < left ? step : left;
        sha256_update(&s, a, n);
        left -= n;
        step = step % 997 + 13;
    }
    sha256_final(&s, d);
    to_hex(d, sizeof d, hex);
    ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

/* ---- HMAC-SHA256: RFC 4231 §4.2-4.8, test cases 1 to 7 ---- */

struct mac_vec {
    uint8_t key[131];
    size_t keylen;
    uint8_t data[160];
    size_t datalen;
    const char *hex; /* the whole tag, or its first 128 bits for case 5 */
};

/* The cases as the RFC gives them: repeated bytes, ASCII text, or a counting key. */
static void rfc4231_case(int n, struct mac_vec *v)
{
    static const char *text[] = {
        [1] = "Hi There",
        [2] = "what do ya want for nothing?",
        [5] = "Test With Truncation",
        [6] = "Test Using Larger Than Block-Size Key - Hash Key First",
        [7] = "This is a test using a larger than block-size key and a larger than block-size "
              "data. The key needs to be hashed before being used by the HMAC algorithm.",
    };
    static const char *tag[] = {
        [1] = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        [2] = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        [3] = "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
        [4] = "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
        [5] = "a3b6167473100ee06e0c796c2955552b", /* truncated to 128 bits (RFC 4231 §4.6) */
        [6] = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        [7] = "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    };
    memset(v, 0, sizeof *v);
    v->hex = tag[n];
    switch (n) {
    case 1: fill(v->key, 0x0b, v->keylen = 20); break;
    case 2: memcpy(v->key, "Jefe", v->keylen = 4); break;
    case 3: fill(v->key, 0xaa, v->keylen = 20), fill(v->data, 0xdd, v->datalen = 50); break;
    case 4:
        for (v->keylen = 25; v->keylen > 0; v->keylen--)
            v->key[v->keylen - 1] = (uint8_t)v->keylen; /* 0x01, 0x02, ..., 0x19 */
        v->keylen = 25;
        fill(v->data, 0xcd, v->datalen = 50);
        break;
    case 5: fill(v->key, 0x0c, v->keylen = 20); break;
    default: fill(v->key, 0xaa, v->keylen = 131); break; /* 6 and 7: longer than a block */
    }
    if (text[n])
        memcpy(v->data, text[n], v->datalen = strlen(text[n]));
}

START_TEST(hmac_rfc4231)
{
    struct mac_vec v;
    uint8_t tag[HMAC_SHA256_LEN];
    char hex[65];
    rfc4231_case(_i, &v);
    hmac_sha256(v.key, v.keylen, v.data, v.datalen, tag);
    size_t want = strlen(v.hex) / 2; /* case 5 compares only the first 16 bytes */
    to_hex(tag, want, hex);
    ck_assert_msg(strcmp(hex, v.hex) == 0, "RFC 4231 case %d: got %s, want %s", _i, hex, v.hex);
}
END_TEST

/* The same tags from a keyed context set up once and copied per message, fed in pieces. */
START_TEST(hmac_copied_context_in_pieces)
{
    struct mac_vec v;
    struct hmac_sha256 keyed, h;
    uint8_t whole[HMAC_SHA256_LEN], pieces[HMAC_SHA256_LEN];
    rfc4231_case(_i, &v);
    hmac_sha256(v.key, v.keylen, v.data, v.datalen, whole);
    hmac_sha256_init(&keyed, v.key, v.keylen);
    for (int round = 0; round < 2; round++) { /* twice: the first use must not spoil keyed */
        h = keyed;
        for (size_t at = 0; at < v.datalen; at += 7)
            hmac_sha256_update(&h, v.data + at, v.datalen - at < 7 ? v.datalen - at : 7);
        hmac_sha256_final(&h, pieces);
        ck_assert_mem_eq(pieces, whole, sizeof whole);
    }
}
END_TEST

/* A key of exactly one block is used as it is; one byte more and it is hashed: the two tags
 * differ, and the 65-byte key equals its own 32-byte hash used as a key (RFC 2104 §2). */
START_TEST(hmac_block_sized_keys)
{
    uint8_t key[65], hashed[32], a[32], b[32], c[32];
    fill(key, 0x42, sizeof key);
    hmac_sha256(key, 64, "m", 1, a);
    hmac_sha256(key, 65, "m", 1, b);
    ck_assert(memcmp(a, b, sizeof a) != 0);
    sha256(key, 65, hashed);
    hmac_sha256(hashed, sizeof hashed, "m", 1, c);
    ck_assert_mem_eq(b, c, sizeof b);
    hmac_sha256(NULL, 0, NULL, 0, a); /* empty key and message are allowed */
    hmac_sha256("", 0, "", 0, b);
    ck_assert_mem_eq(a, b, sizeof a);
}
END_TEST

/* hmac_equal: equal, and unequal whichever single bit differs; length 0 is equal. */
START_TEST(hmac_equal_every_bit)
{
    uint8_t a[HMAC_SHA256_LEN], b[HMAC_SHA256_LEN];
    hmac_sha256("k", 1, "m", 1, a);
    memcpy(b, a, sizeof b);
    ck_assert(hmac_equal(a, b, sizeof a));
    ck_assert(hmac_equal(a, "", 0));
    for (size_t bit = 0; bit < 8 * sizeof a; bit++) {
        b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ck_assert_msg(!hmac_equal(a, b, sizeof a), "a flip of bit %zu went unnoticed", bit);
        b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hmac");
    TCase *tc = tcase_create("vectors");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, sha256_fips_vectors, 0, (int)(sizeof sha_vec / sizeof *sha_vec));
    tcase_add_test(tc, sha256_million_a);
    tcase_add_loop_test(tc, hmac_rfc4231, 1, 8);
    tcase_add_loop_test(tc, hmac_copied_context_in_pieces, 1, 8);
    tcase_add_test(tc, hmac_block_sized_keys);
    tcase_add_test(tc, hmac_equal_every_bit);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
