/* fuzz_proto.c - libFuzzer harness for the heartbeat's line protocol: the input is a TCP stream,
 * cut into lines with proto_line and each decoded with proto_decode, as peer.c does. A decoded
 * message re-encodes (proto_encode_*) to a line that decodes to the same message.
 * `make fuzz` runs it. */
#include <math.h>
#include <stdint.h>
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

static void check_round_trip(const struct proto_msg *m)
{
    char line[PROTO_MAX_LINE];
    struct proto_msg again;
    const char *why = NULL;
    size_t n = 0;
    switch (m->kind) {
    case PROTO_REQUEST: n = proto_encode_request(line, sizeof line); break;
    case PROTO_ALIVE:
        n = proto_encode_alive(line, sizeof line, m->server_id, m->has_load, m->load);
        break;
    case PROTO_BEAT: n = proto_encode_beat(line, sizeof line, m->node, m->inc, m->seq); break;
    }
    FUZZ_ASSERT(n > 0 && line[n - 1] == '\n' && proto_line(line, n) == (long)n);
    FUZZ_ASSERT(proto_decode(line, n - 1, &again, &why) == 0);
    FUZZ_ASSERT(again.kind == m->kind);
    if (m->kind == PROTO_ALIVE) {
        FUZZ_ASSERT(strcmp(again.server_id, m->server_id) == 0 && again.has_load == m->has_load);
        FUZZ_ASSERT(!m->has_load || fabs(again.load - m->load) <= 0.005 + 1e-9 * m->load);
    }
    if (m->kind == PROTO_BEAT)
        FUZZ_ASSERT(again.node == m->node && again.inc == m->inc && again.seq == m->seq);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    size_t off = 0;
    while (off < size) {
        long n = proto_line(buf + off, size - off);
        if (n <= 0)
            break; /* 0: a partial last line; -1: too long, the connection is closed */
        FUZZ_ASSERT((size_t)n <= size - off && n <= PROTO_MAX_LINE && buf[off + n - 1] == '\n');
        struct proto_msg m;
        const char *why = NULL;
        if (proto_decode(buf + off, (size_t)n - 1, &m, &why) == 0)
            check_round_trip(&m);
        else
            FUZZ_ASSERT(why && *why && !strchr(why, ' ')); /* it goes into ev=bad why=<token> */
        off += (size_t)n;
    }
    return 0;
}
