/* fuzz_proto.c - libFuzzer harness for proto_decode: any datagram either decodes to a message that
 * re-encodes to the very same bytes, or is refused with a why= token. `make fuzz` runs it. */
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
    static struct proto_msg m, again;
    static uint8_t buf[PROTO_MAXDGRAM];
    const char *why = NULL;
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
