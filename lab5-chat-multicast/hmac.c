/* hmac.c - HMAC-SHA256: H((K ^ opad) || H((K ^ ipad) || message)), RFC 2104 §2. */
#include "hmac.h"

#include <string.h>

#define BLOCK 64 /* SHA-256's block size in bytes: RFC 2104's B */

void hmac_sha256_init(struct hmac_sha256 *h, const void *key, size_t keylen)
{
    uint8_t k[BLOCK] = {0}, pad[BLOCK];
    if (keylen > BLOCK)
        sha256(key, keylen, k); /* a long key becomes its 32-byte hash, then zero-padded */
    else if (keylen > 0)
        memcpy(k, key, keylen);
    for (int i = 0; i < BLOCK; i++)
        pad[i] = k[i] ^ 0x36;
    sha256_init(&h->inner);
    sha256_update(&h->inner, pad, BLOCK);
    for (int i = 0; i < BLOCK; i++)
        pad[i] = k[i] ^ 0x5c;
    sha256_init(&h->outer);
    sha256_update(&h->outer, pad, BLOCK);
    memset(k, 0, sizeof k); /* no copy of the key left on the stack (best effort) */
    memset(pad, 0, sizeof pad);
}

void hmac_sha256_update(struct hmac_sha256 *h, const void *data, size_t len)
{
    sha256_update(&h->inner, data, len);
}

void hmac_sha256_final(struct hmac_sha256 *h, uint8_t out[HMAC_SHA256_LEN])
{
    uint8_t inner[HMAC_SHA256_LEN];
    sha256_final(&h->inner, inner);
    sha256_update(&h->outer, inner, sizeof inner);
    sha256_final(&h->outer, out); /* sha256_final wipes both states */
}

void hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                 uint8_t out[HMAC_SHA256_LEN])
{
    struct hmac_sha256 h;
    hmac_sha256_init(&h, key, keylen);
    hmac_sha256_update(&h, data, len);
    hmac_sha256_final(&h, out);
}

bool hmac_equal(const void *a, const void *b, size_t len)
{
    /* volatile: the compiler may not turn the loop into an early-exit compare. */
    const volatile uint8_t *x = a, *y = b;
    uint8_t diff = 0;
    for (size_t i = 0; i < len; i++)
        diff |= x[i] ^ y[i];
    return diff == 0;
}
