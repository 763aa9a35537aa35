/* ledger.h - the append-only ledger: records with checksums, replay at start, group commit. */
#ifndef LEDGER_H
#define LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "bank.h"

#define LEDGER_MAX_RECORD 200 /* bytes, newline included */

/* Record lines (README "The ledger"): "<payload> #<crc32 of payload, 8 hex>\n", payload one of
 *   M <master0 16 hex> <master1 16 hex>       first record: the key-derivation secret
 *   R <name> <sha256 of the secret, 64 hex>   a registration (README "Trust model"); a
 *                                             32-hex plain secret, the old format, is
 *                                             still read (hashed on replay, counted in
 *                                             info->plain_secrets)
 *   T <tx> <from> <to> <cents> <reqid>        an applied transfer */

/* Frame a payload as a record line. Returns its length, 0 if it does not fit. */
size_t ledger_encode(char *buf, size_t cap, const char *payload);
/* Check one line (without its newline) and copy its payload out. 0, or -1 if the line is
 * malformed or its checksum does not match. */
int ledger_decode(const char *line, size_t len, char *payload, size_t cap);
uint32_t ledger_crc32(const void *buf, size_t len);

enum ledger_sync {
    LEDGER_SYNC_EACH,  /* one fdatasync per record, inside the caller's lock */
    LEDGER_SYNC_GROUP, /* records written in the lock; one fdatasync covers every waiter */
};

struct ledger_info {
    long long records, wallets, transfers;
    long long torn_offset, torn_bytes; /* a dropped torn last record; bytes 0 if none */
    long long plain_secrets;           /* R records in the old format (a plain secret) */
    int old_mode;                      /* the file's mode if it was open to others, else 0 */
};

struct ledger;

/* Open (or create, mode 0600) the ledger at path and replay it into b, which this
 * initialises. A ledger that group or others may read or write is made 0600 (old_mode says
 * so); one owned by another user is refused. A new ledger gets master as its first record. A torn
 * last record is dropped (the file truncated before it) and reported in info; any other damage is
 * an error (NULL, err filled). */
struct ledger *ledger_open(const char *path, enum ledger_sync mode, struct bank *b,
                           int rotate_every, int max_wallets, const uint64_t master[2],
                           struct ledger_info *info, char *err, size_t errcap);
/* Append one record (payload without checksum). With LEDGER_SYNC_EACH it is on disk when this
 * returns. *seq numbers the record for ledger_wait. 0, or -1 with errno (the file is cut back
 * to its previous length, so a failed append leaves no torn record behind). */
int ledger_append(struct ledger *lg, const char *payload, long long *seq);
/* Block until record seq is on disk (group commit: one caller syncs for everyone). 0 or -1. */
int ledger_wait(struct ledger *lg, long long seq);
/* The seq of the last record written (to wait for everything written so far). */
long long ledger_written(struct ledger *lg);
/* How many fdatasync calls appends have needed so far. */
long long ledger_syncs(struct ledger *lg);
void ledger_close(struct ledger *lg);

#endif
