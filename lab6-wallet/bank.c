/* bank.c - the wallets: the transfer rules, key rotation and idempotency, with no I/O. */
#include "bank.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"

int bank_init(struct bank *b, int rotate_every, int max_wallets, const uint64_t master[2])
{
    memset(b, 0, sizeof *b);
    b->rotate_every = rotate_every > 0 ? rotate_every : 1;
    b->max_wallets = max_wallets;
    b->master[0] = master[0], b->master[1] = master[1];
    b->next_tx = 1;
    return 0;
}

void bank_free(struct bank *b)
{
    for (int i = 0; i < BANK_IDEM_BUCKETS; i++)
        for (struct bank_idem *e = b->idem[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    free(b->w);
    memset(b, 0, sizeof *b);
}

long long bank_epoch(const struct bank *b, long long now)
{
    return now / b->rotate_every;
}

int bank_expires_in(const struct bank *b, long long now)
{
    return (int)(b->rotate_every - now % b->rotate_every);
}

/* splitmix64's finaliser: a good bit mixer. Keys only have to be unguessable enough for a
 * teaching lab; a real system would use HMAC-SHA256(master, name|epoch). */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void bank_key(const struct bank *b, int idx, long long epoch, char out[BANK_KEY_LEN + 1])
{
    uint64_t h = b->master[0];
    for (const char *p = b->w[idx].name; *p; p++)
        h = mix(h ^ (unsigned char)*p);
    h = mix(h ^ (uint64_t)epoch);
    h = mix(h ^ b->master[1]);
    snprintf(out, BANK_KEY_LEN + 1, "%016llx", (unsigned long long)h);
}

int bank_find(const struct bank *b, const char *name)
{
    for (int i = 0; i < b->n; i++) /* linear: fine for the hundreds of wallets of a lab */
        if (!strcmp(b->w[i].name, name))
            return i;
    return BK_NO_WALLET;
}

void bank_hash_secret(const char *secret, uint8_t out[BANK_HASH_LEN])
{
    sha256(secret, strlen(secret), out);
}

int bank_register(struct bank *b, const char *name, const char *secret)
{
    uint8_t h[BANK_HASH_LEN];
    bank_hash_secret(secret, h);
    return bank_register_hashed(b, name, h);
}

int bank_register_hashed(struct bank *b, const char *name, const uint8_t hash[BANK_HASH_LEN])
{
    if (bank_find(b, name) >= 0)
        return BK_NAME_TAKEN;
    if (b->n >= b->max_wallets)
        return BK_FULL;
    if (b->n == b->cap) {
        int cap = b->cap ? 2 * b->cap : 16;
        struct wallet *w = realloc(b->w, (size_t)cap * sizeof *w);
        if (!w)
            return BK_FULL;
        b->w = w, b->cap = cap;
    }
    struct wallet *w = &b->w[b->n];
    snprintf(w->name, sizeof w->name, "%s", name);
    memcpy(w->secret_hash, hash, BANK_HASH_LEN);
    w->cents = BANK_START_CENTS;
    return b->n++;
}

int bank_lookup_key(const struct bank *b, const char *key, long long now)
{
    char k[BANK_KEY_LEN + 1];
    long long epoch = bank_epoch(b, now);
    for (int i = 0; i < b->n; i++) {
        bank_key(b, i, epoch, k);
        if (!strcmp(k, key))
            return i;
    }
    for (long long e = epoch - 1; e >= 0 && e >= epoch - BANK_KEY_HISTORY; e--)
        for (int i = 0; i < b->n; i++) {
            bank_key(b, i, e, k);
            if (!strcmp(k, key))
                return BK_EXPIRED_KEY;
        }
    return BK_UNKNOWN_KEY;
}

/* Compare hashes in time independent of where they differ. */
static bool same_hash(const uint8_t *a, const uint8_t *b)
{
    unsigned diff = 0;
    for (size_t i = 0; i < BANK_HASH_LEN; i++)
        diff |= (unsigned)(a[i] ^ b[i]);
    return diff == 0;
}

int bank_auth(const struct bank *b, const char *name, const char *secret)
{
    uint8_t h[BANK_HASH_LEN];
    bank_hash_secret(secret, h); /* first, so an unknown name costs the same work */
    int i = bank_find(b, name);
    if (i < 0)
        return i;
    return same_hash(b->w[i].secret_hash, h) ? i : BK_SECRET;
}

static unsigned idem_hash(int from, const char *reqid)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)from;
    for (const char *p = reqid; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return (unsigned)(h % BANK_IDEM_BUCKETS);
}

static const struct bank_idem *idem_get(const struct bank *b, int from, const char *reqid)
{
    for (const struct bank_idem *e = b->idem[idem_hash(from, reqid)]; e; e = e->next)
        if (e->from == from && !strcmp(e->reqid, reqid))
            return e;
    return NULL;
}

/* The rules after the parties are known: idempotency first (a retry of an applied transfer
 * must get its first answer even if the key has rotated or the money is spent since), then
 * self-transfer, then funds. */
static int decide(struct bank *b, int from, int to, long long cents, const char *reqid,
                  struct bank_tx *tx)
{
    memset(tx, 0, sizeof *tx);
    snprintf(tx->reqid, sizeof tx->reqid, "%s", reqid);
    const struct bank_idem *e = idem_get(b, from, reqid);
    if (e) {
        if (e->cents != cents || (to >= 0 && e->to != to))
            return BK_REQID;
        *tx = (struct bank_tx){.tx = e->tx,
                               .from = from,
                               .to = e->to,
                               .cents = e->cents,
                               .from_after = e->from_after,
                               .dup = true};
        snprintf(tx->reqid, sizeof tx->reqid, "%s", reqid);
        return 0;
    }
    if (to < 0)
        return to;
    if (from == to)
        return BK_SELF;
    if (b->w[from].cents < cents)
        return BK_FUNDS;
    if (b->w[to].cents > LLONG_MAX - cents)
        return BK_OVERFLOW; /* cannot happen with 10^4 cents per wallet, but cheap to be sure */
    tx->tx = b->next_tx, tx->from = from, tx->to = to, tx->cents = cents;
    tx->from_after = b->w[from].cents - cents;
    tx->to_after = b->w[to].cents + cents;
    return 0;
}

int bank_prepare(struct bank *b, const char *from, const char *secret, const char *reqid,
                 const char *to_key, long long cents, long long now, struct bank_tx *tx)
{
    int f = bank_auth(b, from, secret);
    if (f == BK_NO_WALLET)
        return BK_SECRET; /* do not tell a stranger which names exist */
    if (f < 0)
        return f;
    int t = bank_lookup_key(b, to_key, now);
    return decide(b, f, t, cents, reqid, tx);
}

int bank_apply(struct bank *b, const struct bank_tx *tx)
{
    if (tx->dup)
        return 0;
    struct bank_idem *e = calloc(1, sizeof *e);
    if (!e)
        return -1;
    /* STEP 2 (README "Locking"): install the balances computed by bank_prepare. */
    b->w[tx->from].cents = tx->from_after;
    b->w[tx->to].cents = tx->to_after;
    b->next_tx = tx->tx + 1;
    e->from = tx->from, e->to = tx->to, e->tx = tx->tx;
    e->cents = tx->cents, e->from_after = tx->from_after;
    snprintf(e->reqid, sizeof e->reqid, "%s", tx->reqid);
    unsigned h = idem_hash(tx->from, tx->reqid);
    e->next = b->idem[h];
    b->idem[h] = e;
    return 0;
}

int bank_replay(struct bank *b, long long txid, const char *from, const char *to, long long cents,
                const char *reqid)
{
    int f = bank_find(b, from), t = bank_find(b, to);
    struct bank_tx tx;
    if (cents < 1 || cents > PROTO_MAX_CENTS)
        return BK_AMOUNT;
    if (txid != b->next_tx) /* also keeps next_tx = txid + 1 from overflowing */
        return BK_TX_ORDER;
    if (f < 0 || t < 0)
        return BK_NO_WALLET;
    int rc = decide(b, f, t, cents, reqid, &tx);
    if (rc == 0 && tx.dup)
        return BK_REQID; /* the ledger never holds a request twice */
    if (rc < 0)
        return rc;
    tx.tx = txid;
    return bank_apply(b, &tx) < 0 ? BK_FULL : 0;
}

long long bank_total(const struct bank *b)
{
    long long sum = 0;
    for (int i = 0; i < b->n; i++)
        sum += b->w[i].cents;
    return sum;
}

const char *bank_err_token(int err, int *code)
{
    switch (err) {
    case BK_NO_WALLET: *code = 404; return "no-such-wallet";
    case BK_SECRET: *code = 403; return "wrong-secret";
    case BK_UNKNOWN_KEY: *code = 404; return "unknown-key";
    case BK_EXPIRED_KEY: *code = 410; return "expired-key";
    case BK_SELF: *code = 409; return "self-transfer";
    case BK_FUNDS: *code = 402; return "insufficient-funds";
    case BK_REQID: *code = 409; return "reqid-reused";
    case BK_NAME_TAKEN: *code = 409; return "name-taken";
    case BK_FULL: *code = 507; return "bank-full";
    case BK_TX_ORDER: *code = 500; return "tx-order";
    case BK_AMOUNT: *code = 422; return "bad-amount";
    case BK_OVERFLOW: *code = 500; return "overflow";
    default: *code = 500; return "internal";
    }
}
