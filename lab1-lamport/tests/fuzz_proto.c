/* fuzz_proto.c - libFuzzer harness for proto_decode: any datagram either decodes to a message that
 * re-encodes to the very same bytes, or is refused with a named error. `make fuzz` runs it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

/* abort() is what libFuzzer reports as a finding, with the input that caused it. */
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
    struct lc_msg m, again;
    uint8_t buf[PROTO_MAX_FRAME];
    memset(&m, 0, sizeof m);
    int rc = proto_decode(data, size, &m);
    FUZZ_ASSERT(rc != 0); /* a datagram is whole: never "need more" */
    if (rc < 0) {
        const char *why = proto_strerror(rc);
        FUZZ_ASSERT(why && *why && !strchr(why, ' ')); /* it goes into ev=bad why=<token> */
        return 0;
    }
    FUZZ_ASSERT((size_t)rc == size && size == proto_frame_len(m.vlen));
    FUZZ_ASSERT(m.vlen <= PROTO_MAX_NODES && m.lc <= PROTO_CLOCK_MAX);
    for (size_t i = 0; i < m.vlen; i++)
        FUZZ_ASSERT(m.vc[i] <= PROTO_CLOCK_MAX);
    /* Round trip: the frame re-encodes byte for byte and decodes to the same message. */
    size_t n = proto_encode(&m, buf, sizeof buf);
    FUZZ_ASSERT(n == size && memcmp(buf, data, size) == 0);
    FUZZ_ASSERT(proto_encode(&m, buf, size - 1) == 0); /* one byte short: no room, no overrun */
    memset(&again, 0, sizeof again);
    FUZZ_ASSERT(proto_decode(buf, n, &again) == (int)n);
    FUZZ_ASSERT(again.kind == m.kind && again.sender == m.sender && again.vlen == m.vlen &&
                again.seq == m.seq && again.lc == m.lc);
    FUZZ_ASSERT(memcmp(again.vc, m.vc, sizeof m.vc[0] * m.vlen) == 0);
    return 0;
}
