/* pow.c - proof-of-work check and multi-threaded mining with one compression per nonce.
 *
 * The hashed message is data || 16 hex digits of the nonce, padded (FIPS 180-4 §5.1.1).
 * Mining hashes billions of messages that differ only in the last few digits, so almost all
 * of the work can be done once instead of per nonce:
 *   1. the midstate: every whole 64-byte block of data is compressed once per job;
 *   2. a batch is the 65536 nonces that share their first 12 digits; per batch, the blocks
 *      before the last 4 digits are compressed, the rounds that come before the first word
 *      holding them are run, and the schedule words that do not depend on them are computed;
 *   3. per nonce only the rest runs: with 40 or fewer bytes of data in the last block this is
 *      less than one compression; when the digits and padding do not fit in one block
 *      (len % 64 >= 40) a second block is needed.
 * With the x86 SHA extensions step 2 only does the whole blocks, and each nonce costs the
 * (much faster) hardware compression of its last block(s). */
#include "pow.h"
#include "sha256.h"

#include <pthread.h>
#include <string.h>

#define BATCH_BITS 16    /* nonces sharing all but the last 4 hex digits */
#define CHECK_EVERY 1024 /* nonces between two looks at the cancel flag (< 1 ms portable) */
#define MAX_THREADS 256

unsigned pow_zero_bits(const uint8_t h[32])
{
    unsigned bits = 0;
    for (int i = 0; i < 32; i++) {
        if (h[i] != 0) {
            for (uint8_t b = h[i]; !(b & 0x80); b <<= 1)
                bits++;
            return bits;
        }
        bits += 8;
    }
    return bits;
}

/* The same on the digest's eight words (word 0 holds the first four bytes, big-endian). */
static unsigned zero_bits_words(const uint32_t h[8])
{
    unsigned bits = 0;
    for (int i = 0; i < 8; i++) {
        if (h[i] != 0)
            return bits + (unsigned)__builtin_clz(h[i]);
        bits += 32;
    }
    return bits;
}

static const char hexdigits[] = "0123456789abcdef";

static void put_hex(uint8_t *p, uint64_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--, v >>= 4)
        p[i] = (uint8_t)hexdigits[v & 15];
}

void pow_nonce_hex(uint64_t nonce, char out[POW_NONCE_HEX + 1])
{
    put_hex((uint8_t *)out, nonce, POW_NONCE_HEX);
    out[POW_NONCE_HEX] = '\0';
}

void pow_hash(const char *data, size_t len, uint64_t nonce, uint8_t out[32])
{
    char hex[POW_NONCE_HEX + 1];
    struct sha256 s;
    pow_nonce_hex(nonce, hex);
    sha256_init(&s);
    sha256_update(&s, data, len);
    sha256_update(&s, hex, POW_NONCE_HEX);
    sha256_final(&s, out);
}

bool pow_check(const char *data, size_t len, uint64_t nonce, unsigned difficulty)
{
    uint8_t h[32];
    if (difficulty > 256 || len > POW_MAX_DATA)
        return false;
    pow_hash(data, len, nonce, h);
    return pow_zero_bits(h) >= difficulty;
}

enum pow_impl pow_impl_pick(enum pow_impl want)
{
    if (want != POW_IMPL_PORTABLE && sha256_ni_available())
        return POW_IMPL_NI;
    return POW_IMPL_PORTABLE;
}

const char *pow_impl_name(enum pow_impl impl)
{
    switch (pow_impl_pick(impl)) {
    case POW_IMPL_NI: return "sha-ni";
    default: return "portable";
    }
}

/* ---- STEP 1: the job's fixed part (same for every thread and nonce) ---- */

struct pow_ctx {
    uint32_t mid[8];   /* chaining value after the whole 64-byte blocks of data */
    uint8_t tail[128]; /* the last one or two blocks: rest of data, digit slot, padding */
    int nblocks;       /* 1 or 2 blocks in tail */
    int off;           /* where the 16 digits start in tail (= len % 64) */
};

static void ctx_init(struct pow_ctx *c, const char *data, size_t len)
{
    const uint8_t *p = (const uint8_t *)data;
    size_t whole = len / 64 * 64;
    uint64_t bits = (uint64_t)(len + POW_NONCE_HEX) * 8;

    memcpy(c->mid, sha256_h0, sizeof c->mid);
    for (size_t i = 0; i < whole; i += 64)
        sha256_compress_portable(c->mid, p + i);
    c->off = (int)(len - whole);
    /* digits, the 0x80 byte and the 8-byte length must fit: 40 data bytes or fewer */
    c->nblocks = c->off + POW_NONCE_HEX + 1 + 8 <= 64 ? 1 : 2;
    memset(c->tail, 0, sizeof c->tail);
    if (c->off > 0)
        memcpy(c->tail, p + whole, (size_t)c->off);
    c->tail[c->off + POW_NONCE_HEX] = 0x80;
    for (int i = 0; i < 8; i++)
        c->tail[64 * c->nblocks - 1 - i] = (uint8_t)(bits >> (8 * i));
}

/* ---- STEP 2: one thread's batch, the part shared by 65536 nonces ---- */

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
/* Ch and Maj of §4.1.2 with one operation fewer each (same truth tables). */
#define CH(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define MAJ(x, y, z) (((x) & (y)) | ((z) & ((x) | (y))))
#define BSIG0(x) (ROTR(x, 2) ^ ROTR(x, 13) ^ ROTR(x, 22))
#define BSIG1(x) (ROTR(x, 6) ^ ROTR(x, 11) ^ ROTR(x, 25))
#define SSIG0(x) (ROTR(x, 7) ^ ROTR(x, 18) ^ ((x) >> 3))
#define SSIG1(x) (ROTR(x, 17) ^ ROTR(x, 19) ^ ((x) >> 10))

/* One block's plan: which message words change with the last 4 digits, and the rest. */
struct plan {
    uint32_t w[64]; /* the schedule; words below dep (and outside [vlo,vhi)) are per batch */
    int vlo, vhi;   /* words [vlo, vhi) hold some of the last 4 digits (vlo == vhi: none) */
    int dep;        /* first word >= 16 that depends on them (64 when none does) */
};

struct lane {
    const struct pow_ctx *c;
    enum pow_impl impl;
    uint8_t blk[128]; /* ctx tail with this batch's first 12 digits written in */
    uint64_t batch;   /* nonce >> BATCH_BITS of the batch set up, valid when ready */
    bool ready;
    int vb;          /* first block holding one of the last 4 digits */
    uint32_t st[8];  /* chaining value going into block vb (constant in the batch) */
    int from;        /* block vb's rounds before this (vlo rounded down to 8) are done */
    uint32_t pre[8]; /* working variables after those rounds */
    struct plan plan[2];
};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One round of FIPS 180-4 §6.2.2 step 3. Instead of moving all eight working variables down
 * one place per round, the caller renames them (each round is written with the names rotated
 * by one), so nothing moves and the compiler keeps all eight in registers. */
#define ROUND(a, b, c, d, e, f, g, h, t)                                                           \
    do {                                                                                           \
        uint32_t t1 = h + BSIG1(e) + CH(e, f, g) + sha256_k[t] + w[t];                             \
        d += t1;                                                                                   \
        h = t1 + BSIG0(a) + MAJ(a, b, c);                                                          \
    } while (0)

/* Rounds [from, to) on the working variables s; from and to are multiples of 8, so that the
 * names are back in place at the end of each pass of the loop. */
static void rounds(uint32_t s[8], const uint32_t w[64], int from, int to)
{
    uint32_t a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
    for (int t = from; t < to; t += 8) {
        ROUND(a, b, c, d, e, f, g, h, t);
        ROUND(h, a, b, c, d, e, f, g, t + 1);
        ROUND(g, h, a, b, c, d, e, f, t + 2);
        ROUND(f, g, h, a, b, c, d, e, t + 3);
        ROUND(e, f, g, h, a, b, c, d, t + 4);
        ROUND(d, e, f, g, h, a, b, c, t + 5);
        ROUND(c, d, e, f, g, h, a, b, t + 6);
        ROUND(b, c, d, e, f, g, h, a, t + 7);
    }
    s[0] = a, s[1] = b, s[2] = c, s[3] = d, s[4] = e, s[5] = f, s[6] = g, s[7] = h;
}

static void expand(uint32_t w[64], int from)
{
    for (int t = from; t < 64; t++)
        w[t] = SSIG1(w[t - 2]) + w[t - 7] + SSIG0(w[t - 15]) + w[t - 16];
}

/* A block's words, which of them hold the last 4 digits (bytes lo..hi of the block; none when
 * lo > hi), and the schedule words that can be computed now. */
static void plan_block(struct plan *p, const uint8_t *block, int lo, int hi)
{
    bool dep[64] = {false};
    for (int t = 0; t < 16; t++)
        p->w[t] = be32(block + 4 * t);
    p->vlo = lo > hi ? 0 : lo / 4;
    p->vhi = lo > hi ? 0 : hi / 4 + 1;
    for (int t = 0; t < 64; t++) {
        if (t < 16)
            dep[t] = t >= p->vlo && t < p->vhi;
        else
            dep[t] = dep[t - 2] || dep[t - 7] || dep[t - 15] || dep[t - 16];
    }
    p->dep = 16;
    while (p->dep < 64 && !dep[p->dep])
        p->dep++;
    /* words 16..dep-1 are final now; the rest are recomputed per nonce */
    for (int t = 16; t < p->dep; t++)
        p->w[t] = SSIG1(p->w[t - 2]) + p->w[t - 7] + SSIG0(p->w[t - 15]) + p->w[t - 16];
}

static void compress_block(enum pow_impl impl, uint32_t h[8], const uint8_t *block)
{
    if (impl == POW_IMPL_NI)
        sha256_compress_ni(h, block);
    else
        sha256_compress_portable(h, block);
}

static void lane_batch(struct lane *l, uint64_t nonce)
{
    const struct pow_ctx *c = l->c;
    int vfirst = c->off + POW_NONCE_HEX - 4, vlast = c->off + POW_NONCE_HEX - 1; /* in tail */

    memcpy(l->blk, c->tail, sizeof l->blk);
    put_hex(l->blk + c->off, nonce, POW_NONCE_HEX);
    l->batch = nonce >> BATCH_BITS;
    l->ready = true;
    l->vb = vfirst / 64;
    memcpy(l->st, c->mid, sizeof l->st);
    if (l->vb == 1) /* the first of two blocks does not change within the batch */
        compress_block(l->impl, l->st, l->blk);
    if (l->impl == POW_IMPL_NI)
        return;
    for (int b = l->vb; b < c->nblocks; b++) { /* the last 4 digits may straddle the blocks */
        int lo = vfirst - 64 * b, hi = vlast - 64 * b;
        plan_block(&l->plan[b], l->blk + 64 * b, lo < 0 ? 0 : lo, hi > 63 ? 63 : hi);
    }
    /* Block vb's rounds before its first changing word only see words fixed in the batch. */
    l->from = l->plan[l->vb].vlo / 8 * 8;
    memcpy(l->pre, l->st, sizeof l->pre);
    rounds(l->pre, l->plan[l->vb].w, 0, l->from);
}

/* ---- STEP 3: one nonce ---- */

static void lane_hash(struct lane *l, uint64_t nonce, uint32_t out[8])
{
    const struct pow_ctx *c = l->c;
    if (!l->ready || nonce >> BATCH_BITS != l->batch)
        lane_batch(l, nonce);
    put_hex(l->blk + c->off + POW_NONCE_HEX - 4, nonce, 4);

    memcpy(out, l->st, 8 * sizeof *out);
    if (l->impl == POW_IMPL_NI) {
        for (int b = l->vb; b < c->nblocks; b++)
            sha256_compress_ni(out, l->blk + 64 * b);
        return;
    }
    for (int b = l->vb; b < c->nblocks; b++) {
        struct plan *p = &l->plan[b];
        uint32_t s[8];
        for (int t = p->vlo; t < p->vhi; t++)
            p->w[t] = be32(l->blk + 64 * b + 4 * t);
        expand(p->w, p->dep);
        if (b == l->vb) { /* input fixed in the batch: start after the rounds done already */
            memcpy(s, l->pre, sizeof s);
            rounds(s, p->w, l->from, 64);
        } else {
            memcpy(s, out, sizeof s);
            rounds(s, p->w, 0, 64);
        }
        for (int i = 0; i < 8; i++)
            out[i] += s[i];
    }
}

static void lane_init(struct lane *l, const struct pow_ctx *c, enum pow_impl impl)
{
    memset(l, 0, sizeof *l);
    l->c = c;
    l->impl = pow_impl_pick(impl);
}

void pow_fast_hashes(const char *data, size_t len, enum pow_impl impl, uint64_t first,
                     uint64_t step, size_t count, uint32_t (*out)[8])
{
    struct pow_ctx c;
    struct lane l;
    ctx_init(&c, data, len);
    lane_init(&l, &c, impl);
    for (size_t i = 0; i < count; i++, first += step)
        lane_hash(&l, first, out[i]);
}

/* ---- STEP 4: the threads ---- */

/* Shared by the threads of one pow_mine call. */
struct miner {
    struct pow_ctx ctx; /* read-only once the threads start */
    enum pow_impl impl;
    unsigned difficulty;
    uint64_t start, step;
    atomic_int *cancel; /* the caller's: the transaction closed */
    atomic_int found;   /* set once, by the thread whose CAS wins */
    uint64_t nonce;     /* written by that thread before it returns; read after join */
    atomic_uint_least64_t hashes;
};

struct worker {
    struct miner *m;
    uint64_t first;
    pthread_t tid;
};

static bool should_stop(struct miner *m)
{
    return (m->cancel && atomic_load_explicit(m->cancel, memory_order_relaxed)) ||
           atomic_load_explicit(&m->found, memory_order_relaxed);
}

static void *mine_thread(void *arg)
{
    struct worker *wk = arg;
    struct miner *m = wk->m;
    struct lane l;
    uint64_t n = wk->first, tried = 0;
    uint32_t h[8];

    lane_init(&l, &m->ctx, m->impl);
    while (!should_stop(m)) {
        for (int i = 0; i < CHECK_EVERY; i++, n += m->step) {
            lane_hash(&l, n, h);
            tried++;
            if (zero_bits_words(h) >= m->difficulty) {
                int no = 0;
                if (atomic_compare_exchange_strong(&m->found, &no, 1))
                    m->nonce = n;
                goto out;
            }
        }
    }
out:
    atomic_fetch_add(&m->hashes, tried);
    return NULL;
}

int pow_mine_impl(const struct pow_job *job, enum pow_impl impl, atomic_int *cancel,
                  uint64_t *nonce, uint64_t *hashes)
{
    struct miner m;
    struct worker wk[MAX_THREADS];
    int threads = job->threads < 1 ? 1 : job->threads > MAX_THREADS ? MAX_THREADS : job->threads;
    int started = 0, rc;

    if (hashes)
        *hashes = 0;
    if (job->difficulty > 256 || job->len > POW_MAX_DATA)
        return -1;
    memset(&m, 0, sizeof m);
    ctx_init(&m.ctx, job->data, job->len);
    m.impl = impl;
    m.difficulty = job->difficulty;
    m.step = (uint64_t)threads;
    m.cancel = cancel;
    atomic_init(&m.found, 0);
    atomic_init(&m.hashes, 0);
    for (; started < threads; started++) {
        wk[started].m = &m;
        wk[started].first = job->start + (uint64_t)started;
        if (pthread_create(&wk[started].tid, NULL, mine_thread, &wk[started]) != 0)
            break;
    }
    if (started < threads) /* stop the ones that did start: pretend one found it */
        atomic_store(&m.found, 2);
    for (int i = 0; i < started; i++)
        pthread_join(wk[i].tid, NULL);
    if (hashes)
        *hashes = atomic_load(&m.hashes);
    if (started < threads)
        return -1;
    rc = atomic_load(&m.found) == 1;
    if (rc && nonce)
        *nonce = m.nonce;
    return rc;
}

int pow_mine(const struct pow_job *job, atomic_int *cancel, uint64_t *nonce, uint64_t *hashes)
{
    return pow_mine_impl(job, POW_IMPL_AUTO, cancel, nonce, hashes);
}
