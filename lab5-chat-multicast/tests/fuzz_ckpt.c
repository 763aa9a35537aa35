/* fuzz_ckpt.c - libFuzzer harness for ckpt_decode. The first input byte picks the mode: odd, the
 * rest is a checkpoint file as is; even, the rest is a payload and the harness writes the header
 * with the right length and crc32 first, so the fuzzer gets past the checksum to the parser.
 * A decoded state must be valid (names, seqs, texts; no NUL inside any name's or text's length),
 * and encode/decode must be stable: decoding ckpt_encode's output gives a state that encodes to
 * the same bytes. `make fuzz` runs it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"

#define FUZZ_ASSERT(c)                                                                         \
    do {                                                                                       \
        if (!(c)) {                                                                            \
            fprintf(stderr, "fuzz_ckpt: property failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

#define HDR 16
#define MAX_INPUT (1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The checkpoint the fuzzer means: as is, or a payload given a correct header. */
static uint8_t *file_of(const uint8_t *data, size_t size, size_t *len)
{
    uint8_t *f = malloc(size + HDR);
    FUZZ_ASSERT(f);
    if (data[0] & 1) {
        memcpy(f, data + 1, size - 1);
        *len = size - 1;
        return f;
    }
    memcpy(f, CKPT_MAGIC, 4);
    f[4] = 0, f[5] = CKPT_VERSION, f[6] = 0, f[7] = 0;
    put32(f + 8, (uint32_t)(size - 1));
    put32(f + 12, ckpt_crc32(data + 1, size - 1));
    memcpy(f + HDR, data + 1, size - 1);
    *len = size - 1 + HDR;
    return f;
}

static void check_valid(const struct ckpt_state *st)
{
    FUZZ_ASSERT(proto_name_ok(st->user) && st->next_seq != 0);
    FUZZ_ASSERT(st->npeers >= 0 && st->npeers <= CKPT_MAXPEERS);
    for (int i = 0; i < st->npeers; i++)
        FUZZ_ASSERT(proto_name_ok(st->peer[i].name));
    for (size_t i = 0; i < st->history.n; i++) {
        const struct chatmsg *m = st->history.m[i];
        FUZZ_ASSERT(proto_name_ok(m->author) && m->seq != 0);
        FUZZ_ASSERT(proto_text_ok(m->text, strlen(m->text)));
    }
}

/* Skip a string of lenbytes-byte length at *pos; it must hold no NUL: a name or text with a NUL
 * inside its length would be kept shorter than the bytes it took, and checked only up to it. */
static void skip_str(const uint8_t *f, size_t len, size_t *pos, int lenbytes)
{
    FUZZ_ASSERT(*pos + (size_t)lenbytes <= len);
    size_t n = lenbytes == 1 ? f[*pos] : (size_t)(f[*pos] << 8 | f[*pos + 1]);
    *pos += (size_t)lenbytes;
    FUZZ_ASSERT(*pos + n <= len && !memchr(f + *pos, '\0', n));
    *pos += n;
}

static size_t get_be(const uint8_t *f, size_t len, size_t *pos, int bytes)
{
    size_t v = 0;
    FUZZ_ASSERT(*pos + (size_t)bytes <= len);
    for (int i = 0; i < bytes; i++)
        v = v << 8 | f[(*pos)++];
    return v;
}

/* Walk an accepted file (layout in ckpt.c) and look at every string's bytes. */
static void check_no_nul(const uint8_t *f, size_t len)
{
    size_t pos = HDR;
    skip_str(f, len, &pos, 1); /* user */
    pos += 4 + 4 + 8;          /* boot, next_seq, lc */
    size_t npeers = get_be(f, len, &pos, 2);
    for (size_t i = 0; i < npeers; i++) {
        skip_str(f, len, &pos, 1);
        pos += 4 + 2; /* ip, port */
    }
    size_t nmsgs = get_be(f, len, &pos, 4);
    for (size_t i = 0; i < nmsgs; i++) {
        skip_str(f, len, &pos, 1); /* author */
        pos += 4 + 8;              /* seq, lts */
        skip_str(f, len, &pos, 2); /* text */
    }
    FUZZ_ASSERT(pos == len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ckpt_state st, again;
    if (size < 1 || size > MAX_INPUT)
        return 0;
    size_t len;
    uint8_t *f = file_of(data, size, &len);
    const char *why = NULL;
    store_init(&st.history);
    if (ckpt_decode(f, len, &st, &why) != 0) {
        FUZZ_ASSERT(why && *why && st.history.n == 0); /* refused: history left empty */
        store_free(&st.history);
        free(f);
        return 0;
    }
    check_valid(&st);
    check_no_nul(f, len);
    size_t n1, n2;
    uint8_t *e1 = ckpt_encode(&st, &n1);
    FUZZ_ASSERT(e1 && n1 <= len); /* never longer than what it came from (duplicates collapse) */
    store_init(&again.history);
    FUZZ_ASSERT(ckpt_decode(e1, n1, &again, &why) == 0);
    FUZZ_ASSERT(strcmp(again.user, st.user) == 0 && again.boot == st.boot &&
                again.next_seq == st.next_seq && again.lc == st.lc && again.npeers == st.npeers);
    FUZZ_ASSERT(store_digest(&again.history) == store_digest(&st.history));
    uint8_t *e2 = ckpt_encode(&again, &n2);
    FUZZ_ASSERT(e2 && n2 == n1 && memcmp(e1, e2, n1) == 0);
    free(e1), free(e2), free(f);
    store_free(&st.history), store_free(&again.history);
    return 0;
}
