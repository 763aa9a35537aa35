/* sha256.h - SHA-256 (FIPS 180-4), written here so students can read every step.
 *
 * The canonical copy lives in the kit's common/; a lab carries a verbatim copy (lab7 for its
 * proof-of-work, the labs with --key under hmac.c), and `make test` fails if a copy drifts.
 * Do not edit a lab's copy.
 */
#ifndef SHA256_H
#define SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Streaming state: h is the chaining value, buf holds n (< 64) bytes not yet compressed,
 * len counts every byte given to sha256_update (the padding needs it, FIPS 180-4 §5.1.1). */
struct sha256 {
    uint32_t h[8];
    uint8_t buf[64];
    uint64_t len;
    size_t n;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[32]);
/* One shot: out = SHA-256(data[0..len)). Check by hand with `printf ... | sha256sum`. */
void sha256(const void *data, size_t len, uint8_t out[32]);

/* --- Below: the building blocks pow.c reuses for one-compression-per-nonce mining. --- */

/* The initial hash value H(0) (FIPS 180-4 §5.3.3) and the round constants K (§4.2.2). */
extern const uint32_t sha256_h0[8];
extern const uint32_t sha256_k[64];

/* One compression (FIPS 180-4 §6.2.2) of a 64-byte block into h, portable C. */
void sha256_compress_portable(uint32_t h[8], const uint8_t block[64]);

/* The same with the x86 SHA extensions (sha256_ni.c). Call it only when sha256_ni_available()
 * says so; on other CPUs and compilers it is never used. A lab that does not link sha256_ni.c
 * (every lab but lab7) gets weak stand-ins from sha256.c: "not available", portable code. */
bool sha256_ni_available(void);
void sha256_compress_ni(uint32_t h[8], const uint8_t block[64]);

/* Force sha256_update/final to the portable code (false) or back to the fastest (true), so the
 * tests and the bench can compare both. Not thread-safe: call it before starting threads. */
void sha256_use_ni(bool on);

#endif
