/* pow.h - proof of work: find a nonce so that SHA-256(data || nonce) starts with zero bits.
 *
 * The proof: SHA-256(data || nonce as 16 lowercase hex digits) has at least `difficulty`
 * leading zero bits. Anyone can check one by hand, e.g. for data "hello" and nonce 42:
 *     printf '%s%016x' "hello" 42 | sha256sum
 * and count the leading zero bits of the hex digest (each leading '0' digit is 4 bits). */
#ifndef POW_H
#define POW_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest challenge data the lab accepts (the protocol limit, checked by pow_check and
 * pow_mine alike so that a verifier accepts exactly what a miner can mine). */
#define POW_MAX_DATA 256
#define POW_NONCE_HEX 16

/* Leading zero bits of a 32-byte digest, 0..256. */
unsigned pow_zero_bits(const uint8_t h[32]);

/* Does nonce prove `difficulty` for data? False for difficulty > 256 or len > POW_MAX_DATA. */
bool pow_check(const char *data, size_t len, uint64_t nonce, unsigned difficulty);

/* The 16 lowercase hex digits of nonce and a NUL: the exact bytes that get hashed. */
void pow_nonce_hex(uint64_t nonce, char out[POW_NONCE_HEX + 1]);

/* out = SHA-256(data || hex nonce), the digest pow_check looks at (for logs and tests). */
void pow_hash(const char *data, size_t len, uint64_t nonce, uint8_t out[32]);

struct pow_job {
    const char *data;
    size_t len;
    unsigned difficulty;
    int threads; /* < 1 counts as 1 */
    uint64_t start;
};

/* Search with job->threads pthreads (thread i tries start+i, start+i+threads, ...); returns 1
 * and *nonce when found, 0 when *cancel became nonzero first (checked every few thousand
 * nonces; also when another thread found one), -1 for a job that can never succeed
 * (difficulty > 256, len > POW_MAX_DATA) or when no thread could be started. *hashes (may be
 * NULL) gets the number of nonces tried by all threads. */
int pow_mine(const struct pow_job *job, atomic_int *cancel, uint64_t *nonce, uint64_t *hashes);

/* --- Below: for the tests and the bench, which compare the two ways of hashing. --- */

enum pow_impl {
    POW_IMPL_AUTO,     /* SHA extensions when the CPU has them, else portable */
    POW_IMPL_PORTABLE, /* portable C with the precomputed midstate and schedule words */
    POW_IMPL_NI,       /* x86 SHA extensions (falls back to portable when absent) */
};

/* Which of the two `want` really runs on this CPU: POW_IMPL_PORTABLE or POW_IMPL_NI. */
enum pow_impl pow_impl_pick(enum pow_impl want);
const char *pow_impl_name(enum pow_impl impl);

/* pow_mine with a chosen implementation. */
int pow_mine_impl(const struct pow_job *job, enum pow_impl impl, atomic_int *cancel,
                  uint64_t *nonce, uint64_t *hashes);

/* Digests (as the eight big-endian words) of nonces first, first+step, ... (count of them),
 * computed exactly the way a mining thread computes them: the tests check them against
 * plain sha256(). len <= POW_MAX_DATA. */
void pow_fast_hashes(const char *data, size_t len, enum pow_impl impl, uint64_t first,
                     uint64_t step, size_t count, uint32_t (*out)[8]);

#endif
