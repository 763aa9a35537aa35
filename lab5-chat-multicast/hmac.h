/* hmac.h - HMAC-SHA256 (RFC 2104, with SHA-256 from sha256.c) and a constant-time compare.
 *
 * The canonical copy lives in the kit's common/; a lab carries a verbatim copy (with sha256.c/.h),
 * and `make test` fails if a copy drifts. Do not edit a lab's copy.
 */
#ifndef HMAC_H
#define HMAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

#define HMAC_SHA256_LEN 32 /* bytes of a tag */

/* A keyed MAC in progress: the inner hash already holds (K ^ ipad), the outer (K ^ opad).
 * It is plain data: set one up per key with hmac_sha256_init, keep it, and copy it (a struct
 * assignment) for each message, so the key is processed once, not once per message. */
struct hmac_sha256 {
    struct sha256 inner, outer;
};

/* Any key length, 0 included: a key longer than SHA-256's 64-byte block is hashed first
 * (RFC 2104 §2), a shorter one is padded with zeros. */
void hmac_sha256_init(struct hmac_sha256 *h, const void *key, size_t keylen);
void hmac_sha256_update(struct hmac_sha256 *h, const void *data, size_t len);
/* The tag; h is wiped afterwards (init or copy it again for the next message). */
void hmac_sha256_final(struct hmac_sha256 *h, uint8_t out[HMAC_SHA256_LEN]);
/* One shot: out = HMAC-SHA256(key, data). Check by hand with
 * `printf ... | openssl mac -digest SHA256 -macopt hexkey:... HMAC`. */
void hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                 uint8_t out[HMAC_SHA256_LEN]);

/* a[0..len) == b[0..len), in a time that does not depend on where they differ: memcmp stops at
 * the first difference, which lets an attacker who can time the answer guess a tag byte by
 * byte. Compare a received tag (or a truncated one, RFC 2104 §5) only with this. */
bool hmac_equal(const void *a, const void *b, size_t len);

#endif
