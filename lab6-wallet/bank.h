/* bank.h - the wallets: registration, rotating public keys, secrets, atomic transfers.
 *
 * Pure state, no locks and no I/O: the server holds its one mutex around every call (see
 * server.c), the ledger replays records through the same functions, and the unit tests drive
 * it with a fake clock (`now`, in seconds, is always a parameter). */
#ifndef BANK_H
#define BANK_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

#define BANK_START_CENTS 10000 /* every wallet starts with 100.00 */
#define BANK_KEY_LEN 16        /* public keys: 16 lowercase hex digits */
#define BANK_KEY_HISTORY 16    /* how many past epochs are told apart as "expired" */
#define BANK_IDEM_BUCKETS 4096

enum bank_err {
    BK_NO_WALLET = -10,   /* 404 no-such-wallet */
    BK_SECRET = -11,      /* 403 wrong-secret */
    BK_UNKNOWN_KEY = -12, /* 404 unknown-key */
    BK_EXPIRED_KEY = -13, /* 410 expired-key */
    BK_SELF = -14,        /* 409 self-transfer */
    BK_FUNDS = -15,       /* 402 insufficient-funds */
    BK_REQID = -16,       /* 409 reqid-reused: same request id, different transfer */
    BK_NAME_TAKEN = -17,  /* 409 name-taken */
    BK_FULL = -18,        /* 507 bank-full */
    /* Only a ledger record can break these: a request is refused by proto_parse first. */
    BK_TX_ORDER = -19, /* a transfer id that is not the next one (1, 2, 3, ...) */
    BK_AMOUNT = -20,   /* an amount outside 1..PROTO_MAX_CENTS */
    BK_OVERFLOW = -21, /* a balance that would not fit in a long long */
};

#define BANK_HASH_LEN 32 /* SHA-256 */

/* The server keeps (and the ledger stores) only SHA-256(secret): whoever reads the ledger or
 * the server's memory cannot spend. No salt and no slow hash: a secret is 128 random bits,
 * not a password, so there is no dictionary to try (README "Trust model"). */
struct wallet {
    char name[PROTO_MAX_NAME + 1];
    uint8_t secret_hash[BANK_HASH_LEN];
    long long cents;
};

/* One applied transfer, remembered by (from, reqid) so a retry gets the same answer. */
struct bank_idem {
    int from;
    char reqid[PROTO_MAX_TOKEN + 1];
    long long tx, cents, from_after;
    int to;
    struct bank_idem *next;
};

struct bank {
    struct wallet *w;
    int n, cap, max_wallets;
    int rotate_every;   /* seconds between key rotations */
    uint64_t master[2]; /* the server's key-derivation secret (first ledger record) */
    long long next_tx;  /* transfer ids are 1, 2, 3, ... in ledger order */
    struct bank_idem *idem[BANK_IDEM_BUCKETS];
};

/* A transfer decided by bank_prepare and installed by bank_apply. Between the two the server
 * writes it to the ledger: the new balances are computed before the write and installed after
 * it, so a server that does not hold its lock across both loses updates (README, "Locking"). */
struct bank_tx {
    long long tx;
    int from, to;
    long long cents, from_after, to_after;
    char reqid[PROTO_MAX_TOKEN + 1];
    bool dup; /* a retry of an applied transfer: nothing to write or install */
};

int bank_init(struct bank *b, int rotate_every, int max_wallets, const uint64_t master[2]);
void bank_free(struct bank *b);

long long bank_epoch(const struct bank *b, long long now);
/* Seconds until the current key of every wallet stops working. */
int bank_expires_in(const struct bank *b, long long now);
/* The public key of wallet idx in epoch: BANK_KEY_LEN hex digits and a NUL. */
void bank_key(const struct bank *b, int idx, long long epoch, char out[BANK_KEY_LEN + 1]);

int bank_find(const struct bank *b, const char *name); /* index or BK_NO_WALLET */
/* SHA-256 of a secret's text. */
void bank_hash_secret(const char *secret, uint8_t out[BANK_HASH_LEN]);
/* New wallet with BANK_START_CENTS and the given secret (only its hash is kept). Index or
 * BK_NAME_TAKEN / BK_FULL. */
int bank_register(struct bank *b, const char *name, const char *secret);
/* The same from the hash (the ledger replay). */
int bank_register_hashed(struct bank *b, const char *name, const uint8_t hash[BANK_HASH_LEN]);
/* The wallet whose key this is now: index, or BK_EXPIRED_KEY / BK_UNKNOWN_KEY. */
int bank_lookup_key(const struct bank *b, const char *key, long long now);
/* The wallet name owns, if secret is its secret: index, or BK_NO_WALLET / BK_SECRET. */
int bank_auth(const struct bank *b, const char *name, const char *secret);

/* Decide a transfer (every rule: owner, key, amount, funds, idempotency). 0 or a bank_err. */
int bank_prepare(struct bank *b, const char *from, const char *secret, const char *reqid,
                 const char *to_key, long long cents, long long now, struct bank_tx *tx);
/* Install a prepared transfer. -1 if out of memory (the idempotency entry). */
int bank_apply(struct bank *b, const struct bank_tx *tx);
/* Replay a ledger record: the same rules as a live transfer without secret or key (amount
 * range, tx == next_tx, both wallets exist, not to itself, funds, request id not used, no
 * overflow), because a ledger file is input like any other. 0 or a bank_err. */
int bank_replay(struct bank *b, long long tx, const char *from, const char *to, long long cents,
                const char *reqid);

long long bank_total(const struct bank *b);
const char *bank_err_token(int err, int *code);

#endif
