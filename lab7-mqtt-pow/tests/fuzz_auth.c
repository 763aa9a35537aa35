/* fuzz_auth.c - libFuzzer harness for auth_verify, the first thing a --key node does with every
 * payload: any bytes are checked without a crash and, without the key, never pass; the input
 * signed with the key passes, gives back exactly its bytes and stamp, and fails again once any
 * one byte of it changes or it is cut short. `make fuzz` runs it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "msg.h"

#define FUZZ_ASSERT(c)                                                                             \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_auth: property failed: %s (%s:%d)\n", #c, __FILE__, __LINE__);   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hmac_sha256 key;
    static int ready;
    if (!ready)
        hmac_sha256_init(&key, "fuzz-group-key-0123456789", 25), ready = 1;
    size_t jl = 0;
    uint64_t stamp = 0;
    /* As received: almost surely bad-mac; if it passes, the JSON part lies inside it. */
    const char *why = auth_verify(&key, TOPIC_RESULT, data, size, &jl, &stamp);
    FUZZ_ASSERT(why == NULL ? jl < size : strcmp(why, "bad-mac") == 0);
    (void)auth_looks_signed(data, size);
    /* Signed by us: passes, and any change or cut is caught. */
    char buf[MSG_MAX_PAYLOAD];
    if (size + AUTH_TRAILER_MAX >= sizeof buf || size < 1)
        return 0;
    memcpy(buf, data, size);
    uint64_t st = (uint64_t)data[0] << 40 | size;
    size_t n = auth_sign(&key, TOPIC_RESULT, buf, size, sizeof buf, st);
    FUZZ_ASSERT(n > size && n <= size + AUTH_TRAILER_MAX);
    FUZZ_ASSERT(auth_verify(&key, TOPIC_RESULT, (const uint8_t *)buf, n, &jl, &stamp) == NULL);
    FUZZ_ASSERT(jl == size && stamp == st && memcmp(buf, data, size) == 0);
    FUZZ_ASSERT(auth_verify(&key, TOPIC_CHALLENGE, (const uint8_t *)buf, n, &jl, &stamp) != NULL);
    size_t at = (size_t)data[size - 1] * 7 % n;
    buf[at] ^= 0x20;
    FUZZ_ASSERT(auth_verify(&key, TOPIC_RESULT, (const uint8_t *)buf, n, &jl, &stamp) != NULL);
    buf[at] ^= 0x20;
    FUZZ_ASSERT(
        auth_verify(&key, TOPIC_RESULT, (const uint8_t *)buf, n - 1 - at % 8, &jl, &stamp) != NULL);
    return 0;
}
