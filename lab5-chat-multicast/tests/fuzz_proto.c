/* fuzz_proto.c - libFuzzer harness for proto_decode: any datagram either decodes to a message that
 * re-encodes to the very same bytes, or is refused with a why= token. With --key's signed
 * datagram (proto_decode_signed): the input as is is refused unless it already carries the correct
 * tag (as the seed signed-msg does);
 * with version 2 and a correct tag put on it, the fields behind the tag decode and re-sign to
 * the same bytes, or are refused with a token other than bad-mac. `make fuzz` runs it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define FUZZ_ASSERT(c)                                                                          \
    do {                                                                                        \
        if (!(c)) {                                                                             \
            fprintf(stderr, "fuzz_proto: property failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
            abort();                                                                            \
        }                                                                                       \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct hmac_sha256 *fuzz_key(void)
{
    static struct hmac_sha256 k;
    static int ready;
    if (!ready)
        hmac_sha256_init(&k, "the fuzzer's group key, 32 bytes", 32), ready = 1;
    return &k;
}

/* The signed path: data as is, then data made authentic (version 2, a correct tag). */
static void fuzz_signed(const uint8_t *data, size_t size)
{
    static struct proto_msg m;
    static uint8_t sig[PROTO_MAXDGRAM], buf[PROTO_MAXDGRAM];
    const char *why = NULL;
    int as_is = proto_decode_signed(data, size, fuzz_key(), &m, &why);
    FUZZ_ASSERT(as_is >= 0 || (why && *why && !strchr(why, ' ')));
    if (size < 4 + PROTO_TRAILER || size > PROTO_MAXDGRAM) {
        FUZZ_ASSERT(as_is < 0);
        return;
    }
    memcpy(sig, data, size);
    sig[2] = PROTO_VERSION_SIGNED;
    struct hmac_sha256 h = *fuzz_key();
    hmac_sha256_update(&h, sig, size - PROTO_TAG_LEN);
    hmac_sha256_final(&h, sig + size - PROTO_TAG_LEN);
    /* accepted as is only if it was authentic already (a seed signed with the fuzzer's key) */
    FUZZ_ASSERT(as_is < 0 || memcmp(sig, data, size) == 0);
    why = NULL;
    int rc = proto_decode_signed(sig, size, fuzz_key(), &m, &why);
    if (rc < 0) {
        FUZZ_ASSERT(why && *why && !strchr(why, ' ') && strcmp(why, "bad-mac") != 0);
        return;
    }
    FUZZ_ASSERT((size_t)rc == size && proto_name_ok(m.from));
    size_t n = proto_encode_signed(&m, fuzz_key(), buf, sizeof buf);
    FUZZ_ASSERT(n == size && memcmp(buf, sig, size) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct proto_msg m, again;
    static uint8_t buf[PROTO_MAXDGRAM];
    const char *why = NULL;
    fuzz_signed(data, size);
    int rc = proto_decode(data, size, &m, &why);
    if (rc < 0) {
        FUZZ_ASSERT(why && *why && !strchr(why, ' ')); /* it goes into ev=bad why=<token> */
        return 0;
    }
    FUZZ_ASSERT(rc > 0 && (size_t)rc == size);
    FUZZ_ASSERT(proto_name_ok(m.from));
    /* Re-encoding gives the same bytes: a name with a NUL inside its length byte, or any other
     * byte the decoder lets through without keeping it, shows up here. */
    size_t n = proto_encode(&m, buf, sizeof buf);
    FUZZ_ASSERT(n == size && memcmp(buf, data, size) == 0);
    FUZZ_ASSERT(proto_encode(&m, buf, size - 1) == 0);
    FUZZ_ASSERT(proto_decode(buf, n, &again, &why) == (int)n);
    FUZZ_ASSERT(proto_encode(&again, buf, sizeof buf) == n && memcmp(buf, data, n) == 0);
    return 0;
}
