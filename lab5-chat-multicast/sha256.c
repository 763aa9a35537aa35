/* sha256.c - portable SHA-256 (FIPS 180-4 §4.1.2, §5.1.1, §6.2), plainly written. */
#include "sha256.h"

#include <stdatomic.h>
#include <string.h>

const uint32_t sha256_h0[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* The six functions of §4.1.2. */
#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define CH(x, y, z) (((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z) (((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))
#define BSIG0(x) (ROTR(x, 2) ^ ROTR(x, 13) ^ ROTR(x, 22))
#define BSIG1(x) (ROTR(x, 6) ^ ROTR(x, 11) ^ ROTR(x, 25))
#define SSIG0(x) (ROTR(x, 7) ^ ROTR(x, 18) ^ ((x) >> 3))
#define SSIG1(x) (ROTR(x, 17) ^ ROTR(x, 19) ^ ((x) >> 10))

static uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* §6.2.2: message schedule W[0..63], then 64 rounds, then add into the chaining value. */
void sha256_compress_portable(uint32_t h[8], const uint8_t block[64])
{
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
        w[t] = load_be32(block + 4 * t);
    for (int t = 16; t < 64; t++)
        w[t] = SSIG1(w[t - 2]) + w[t - 7] + SSIG0(w[t - 15]) + w[t - 16];

    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int t = 0; t < 64; t++) {
        uint32_t t1 = hh + BSIG1(e) + CH(e, f, g) + sha256_k[t] + w[t];
        uint32_t t2 = BSIG0(a) + MAJ(a, b, c);
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
}

/* Stand-ins for a program without sha256_ni.c: no SHA extensions, the portable code. They are
 * weak symbols (a GCC and clang extension), so sha256_ni.c's definitions replace them at link
 * time where lab7 links it; this file stays the same in every lab that carries it. */
__attribute__((weak)) bool sha256_ni_available(void)
{
    return false;
}

__attribute__((weak)) void sha256_compress_ni(uint32_t h[8], const uint8_t block[64])
{
    sha256_compress_portable(h, block);
}

/* Which compression sha256_update uses: the SHA extensions unless a test switched them off.
 * Atomic only so that a test flipping it is never a data race; it is read once per block. */
static atomic_bool use_ni = true;

void sha256_use_ni(bool on)
{
    atomic_store_explicit(&use_ni, on, memory_order_relaxed);
}

static void compress(uint32_t h[8], const uint8_t block[64])
{
    if (atomic_load_explicit(&use_ni, memory_order_relaxed) && sha256_ni_available())
        sha256_compress_ni(h, block);
    else
        sha256_compress_portable(h, block);
}

void sha256_init(struct sha256 *s)
{
    memcpy(s->h, sha256_h0, sizeof s->h);
    s->len = 0;
    s->n = 0;
}

void sha256_update(struct sha256 *s, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (len == 0) /* data may then be NULL, which memcpy does not allow even for 0 bytes */
        return;
    s->len += len;
    if (s->n > 0) { /* top up the partial block first */
        size_t take = 64 - s->n < len ? 64 - s->n : len;
        memcpy(s->buf + s->n, p, take);
        s->n += take;
        p += take;
        len -= take;
        if (s->n < 64)
            return;
        compress(s->h, s->buf);
        s->n = 0;
    }
    for (; len >= 64; p += 64, len -= 64) /* whole blocks straight from the caller's memory */
        compress(s->h, p);
    memcpy(s->buf, p, len);
    s->n = len;
}

/* §5.1.1 padding: a 1 bit, zeros up to 56 mod 64, then the length in bits, big-endian. */
void sha256_final(struct sha256 *s, uint8_t out[32])
{
    uint64_t bits = s->len * 8;
    s->buf[s->n++] = 0x80;
    if (s->n > 56) { /* no room for the length: pad this block out, length goes in the next */
        memset(s->buf + s->n, 0, 64 - s->n);
        compress(s->h, s->buf);
        s->n = 0;
    }
    memset(s->buf + s->n, 0, 56 - s->n);
    store_be32(s->buf + 56, (uint32_t)(bits >> 32));
    store_be32(s->buf + 60, (uint32_t)bits);
    compress(s->h, s->buf);
    for (int i = 0; i < 8; i++)
        store_be32(out + 4 * i, s->h[i]);
    memset(s, 0, sizeof *s); /* no stale message bytes left behind */
}

void sha256(const void *data, size_t len, uint8_t out[32])
{
    struct sha256 s;
    sha256_init(&s);
    sha256_update(&s, data, len);
    sha256_final(&s, out);
}
