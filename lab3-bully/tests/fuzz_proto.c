/* fuzz_proto.c - libFuzzer harness for proto_decode: any datagram either decodes to a message that
 * re-encodes to the very same bytes, or is refused with a named error. `make fuzz` runs it. */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
