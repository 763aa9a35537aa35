/* fuzz_proto.c - libFuzzer harness for proto_decode on a TCP byte stream: the input is decoded
 * frame after frame, as node.c does with a connection's buffer. Every frame must re-encode to the
 * bytes it came from; "need more" must only happen at the end; every prefix of the input must
 * agree with the whole. The same stream is then decoded as a player with --key does, and each
 * signed-looking frame is decoded once more with its tag fixed up (recomputed with the key), so
 * the fuzzer reaches the fields behind the tag: a frame must come back to its exact bytes.
 * `make fuzz` runs it. */
#include <stdbool.h>
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

#define FUZZ_KEY "fuzz_proto-group-key-0123456789"
static struct hmac_sha256 key;

/* The length a signed frame of this header would have (proto.h), or 0. */
static size_t signed_len(const uint8_t *b, size_t len)
{
    static const size_t plen[6] = {0, 2, 8, 6, 30, 2};
    if (len < PROTO_HDR_LEN || b[2] != PROTO_VERSION_SIGNED || b[3] < 1 || b[3] > 5)
        return 0;
    return PROTO_HDR_LEN + plen[b[3]] + PROTO_SIGNED_EXTRA;
}

static void check_signed(const uint8_t *frame, int len, const struct proto_msg *m)
{
    uint8_t buf[PROTO_MAX_FRAME];
    FUZZ_ASSERT(len > PROTO_SIGNED_EXTRA && len <= PROTO_MAX_FRAME);
    FUZZ_ASSERT(m->sender < PROTO_MAX_NODES && m->to < PROTO_MAX_NODES);
    size_t n = proto_encode_signed(m, &key, buf, sizeof buf);
    FUZZ_ASSERT(n == (size_t)len && memcmp(buf, frame, n) == 0);
    struct proto_msg again;
    FUZZ_ASSERT(proto_decode_signed(frame, (size_t)len - 1, &key, &again) == 0);
    FUZZ_ASSERT(proto_decode(frame, (size_t)len, &again) == PROTO_ENOKEY);
}

/* The stream as a keyed player reads it; then the first frame with its tag made right. */
static void fuzz_signed(const uint8_t *data, size_t size)
{
    size_t off = 0;
    while (off < size) {
        struct proto_msg m;
        int rc = proto_decode_signed(data + off, size - off, &key, &m);
        if (rc <= 0)
            break;
        check_signed(data + off, rc, &m);
        off += (size_t)rc;
    }
    size_t n = signed_len(data, size);
    if (n == 0 || n > size)
        return;
    uint8_t fixed[PROTO_MAX_FRAME];
    struct proto_msg m;
    memcpy(fixed, data, n);
    hmac_sha256(FUZZ_KEY, strlen(FUZZ_KEY), fixed, n - PROTO_TAG_LEN, fixed + n - PROTO_TAG_LEN);
    int rc = proto_decode_signed(fixed, n, &key, &m);
    FUZZ_ASSERT(rc == (int)n || (rc < 0 && rc != PROTO_EMAC)); /* the tag is right now */
    if (rc > 0)
        check_signed(fixed, rc, &m);
}

/* The stream as a player without --key reads it. */
static void fuzz_plain(const uint8_t *data, size_t size)
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
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool keyed;
    if (!keyed)
        hmac_sha256_init(&key, FUZZ_KEY, strlen(FUZZ_KEY)), keyed = true;
    fuzz_plain(data, size);
    fuzz_signed(data, size);
    return 0;
}
