/* fuzz_proto.c - libFuzzer harness for proto_decode: any datagram either decodes to a message that
 * re-encodes to the very same bytes, or is refused with a named error. The same input is also
 * read as a signed frame (--key): as it is (the fuzzer cannot make a tag, so it must be refused),
 * and with the correct tag written over its last HMAC_SHA256_LEN bytes, so the fuzzer reaches the
 * signed frame's field checks behind the tag; what that accepts re-signs to the same bytes.
 * `make fuzz` runs it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmac.h"
#include "proto.h"

#define FUZZ_ASSERT(c)                                                                          \
    do {                                                                                        \
        if (!(c)) {                                                                             \
            fprintf(stderr, "fuzz_proto: property failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
            abort();                                                                            \
        }                                                                                       \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_signed(const uint8_t *data, size_t size)
{
    static const char secret[] = "fuzz-group-key-0123456789";
    struct hmac_sha256 key;
    struct proto_msg m;
    uint8_t frame[PROTO_SIGNED_LEN], again[PROTO_SIGNED_LEN];
    hmac_sha256_init(&key, secret, sizeof secret - 1);
    FUZZ_ASSERT(proto_decode_signed(data, size, &key, &m) < 0); /* no tag made with the key */
    if (size != PROTO_SIGNED_LEN)
        return;
    memcpy(frame, data, size);
    struct hmac_sha256 h = key;
    hmac_sha256_update(&h, frame, size - HMAC_SHA256_LEN);
    hmac_sha256_final(&h, frame + size - HMAC_SHA256_LEN);
    int rc = proto_decode_signed(frame, size, &key, &m);
    if (rc < 0) {
        /* the tag is right: a signed frame (version 2) is refused only for a field, by name */
        FUZZ_ASSERT(rc != PROTO_EMAC || memcmp(frame, "BY\2", 3) != 0);
        return;
    }
    FUZZ_ASSERT((size_t)rc == size && strcmp(proto_type_name(m.type), "?") != 0);
    FUZZ_ASSERT(proto_encode_signed(&m, &key, again, sizeof again) == size);
    FUZZ_ASSERT(memcmp(again, frame, size) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_signed(data, size);
    struct proto_msg m, again;
    uint8_t buf[PROTO_LEN];
    memset(&m, 0, sizeof m);
    int rc = proto_decode(data, size, &m);
    FUZZ_ASSERT(rc != 0); /* a datagram is whole: never "need more" */
    if (rc < 0) {
        const char *why = proto_strerror(rc);
        FUZZ_ASSERT(why && *why && !strchr(why, ' ')); /* it goes into ev=bad why=<token> */
        return 0;
    }
    FUZZ_ASSERT((size_t)rc == size);
    FUZZ_ASSERT(strcmp(proto_type_name(m.type), "?") != 0); /* only known types get through */
    size_t n = proto_encode(&m, buf, sizeof buf);
    FUZZ_ASSERT(n == size && memcmp(buf, data, size) == 0);
    FUZZ_ASSERT(proto_encode(&m, buf, size - 1) == 0);
    memset(&again, 0, sizeof again);
    FUZZ_ASSERT(proto_decode(buf, n, &again) == (int)n);
    FUZZ_ASSERT(again.type == m.type && again.sender == m.sender && again.round == m.round &&
                again.seq == m.seq);
    return 0;
}
