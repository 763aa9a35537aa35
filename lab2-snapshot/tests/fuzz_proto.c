/* fuzz_proto.c - libFuzzer harness for proto_decode on a TCP byte stream: the input is decoded
 * frame after frame, as node.c does with a connection's buffer. Every frame must re-encode to the
 * bytes it came from; "need more" must only happen at the end; every prefix of the input must
 * agree with the whole. `make fuzz` runs it. */
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

static void check_frame(const uint8_t *frame, int len, const struct proto_msg *m)
{
    uint8_t buf[PROTO_MAX_FRAME];
    struct proto_msg again;
    FUZZ_ASSERT(len >= PROTO_HDR_LEN && len <= PROTO_MAX_FRAME);
    FUZZ_ASSERT(m->from < PROTO_MAX_NODES && m->init < PROTO_MAX_NODES && m->ok <= 1);
    size_t n = proto_encode(m, buf, sizeof buf);
    FUZZ_ASSERT(n == (size_t)len && memcmp(buf, frame, n) == 0);
    FUZZ_ASSERT(proto_encode(m, buf, n - 1) == 0);
    FUZZ_ASSERT(proto_decode(buf, n, &again) == len);
    FUZZ_ASSERT(memcmp(&again, m, sizeof again) == 0); /* decode memsets: padding is zero too */
    /* Any strict prefix of a frame is "need more", never an error the whole frame lacks. */
    FUZZ_ASSERT(proto_decode(frame, (size_t)len - 1, &again) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;
    while (off < size) {
        struct proto_msg m;
        int rc = proto_decode(data + off, size - off, &m);
        if (rc == 0)
            break; /* a partial frame at the end of the stream */
        if (rc < 0) {
            const char *why = proto_strerror(rc);
            FUZZ_ASSERT(why && *why && !strchr(why, ' '));
            break; /* the stream is corrupt: node.c closes the connection */
        }
        FUZZ_ASSERT((size_t)rc <= size - off);
        check_frame(data + off, rc, &m);
        off += (size_t)rc;
    }
    return 0;
}
