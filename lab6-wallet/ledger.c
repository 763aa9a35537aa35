/* ledger.c - the append-only ledger: checksummed text records, replay, torn-tail repair,
 * and group commit (several transfers made durable by one fdatasync). */
#define _GNU_SOURCE /* fdatasync is POSIX, but glibc hides it under plain _POSIX_C_SOURCE */
#include "ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Everything below `mu` is guarded by it; `fd` and `mode` are set once in ledger_open. */
struct ledger {
    int fd;
    enum ledger_sync mode;
    pthread_mutex_t mu;
    pthread_cond_t synced_cv;
    off_t size;        /* bytes of whole records in the file */
    long long written; /* records written (the last one's seq) */
    long long synced;  /* records known to be on disk */
    bool syncing;      /* a caller is inside fdatasync for the others */
    int sync_errno;    /* a failed fdatasync: every later wait fails (fsyncgate) */
    long long syncs;   /* fdatasync calls made for appends (group commit makes them fewer) */
};

uint32_t ledger_crc32(const void *buf, size_t len)
{
    const unsigned char *p = buf;
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

size_t ledger_encode(char *buf, size_t cap, const char *payload)
{
    int n =
        snprintf(buf, cap, "%s #%08" PRIx32 "\n", payload, ledger_crc32(payload, strlen(payload)));
    return n > 0 && (size_t)n < cap && (size_t)n <= LEDGER_MAX_RECORD ? (size_t)n : 0;
}

int ledger_decode(const char *line, size_t len, char *payload, size_t cap)
{
    if (len < 11 || line[len - 10] != ' ' || line[len - 9] != '#' || len - 10 >= cap)
        return -1;
    uint32_t want = 0;
    for (size_t i = len - 8; i < len; i++) {
        char c = line[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return -1;
        want = want << 4 | (uint32_t)d;
    }
    if (ledger_crc32(line, len - 10) != want)
        return -1;
    memcpy(payload, line, len - 10);
    payload[len - 10] = '\0';
    return 0;
}

#define REC_FIELDS 7

/* Split a payload copy on single spaces, like a request (proto.c). Fields, or -1 if there are
 * too many or one is empty. */
static int split(char *s, char *f[REC_FIELDS])
{
    int n = 0;
    for (char *p = s;; p++) {
        if (n == REC_FIELDS)
            return -1;
        f[n++] = p;
        if (!(p = strchr(p, ' ')))
            break;
        *p = '\0';
    }
    for (int i = 0; i < n; i++)
        if (!*f[i])
            return -1;
    return n;
}

/* Exactly `digits` lowercase hex digits. */
static bool hex_ok(const char *s, size_t digits)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return i == digits;
}

/* A transfer id: digits only, 1 .. LLONG_MAX, no overflow on the way. */
static bool txid_ok(const char *s, long long *out)
{
    long long v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (LLONG_MAX - (*s - '0')) / 10)
            return false;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return v > 0;
}

static int replay_master(struct bank *b, char **f, int n, int rotate_every, int max_wallets,
                         char *why, size_t cap)
{
    if (n != 3 || !hex_ok(f[1], 16) || !hex_ok(f[2], 16))
        return snprintf(why, cap, "the first record must be M <16 hex digits> <16 hex digits>"), -1;
    uint64_t m[2] = {strtoull(f[1], NULL, 16), strtoull(f[2], NULL, 16)};
    return bank_init(b, rotate_every, max_wallets, m);
}

static void unhex(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c[3] = {s[2 * i], s[2 * i + 1], 0};
        out[i] = (uint8_t)strtoul(c, NULL, 16);
    }
}

static int replay_register(struct bank *b, char **f, int n, struct ledger_info *info, char *why,
                           size_t cap)
{
    bool plain = n == 3 && hex_ok(f[2], PROTO_SECRET_LEN); /* the old format */
    if (n != 3 || !proto_name_ok(f[1]) || (!plain && !hex_ok(f[2], 2 * BANK_HASH_LEN)))
        return snprintf(why, cap, "a registration must be R <name> <64 hex digits>"), -1;
    uint8_t h[BANK_HASH_LEN];
    if (plain)
        bank_hash_secret(f[2], h), info->plain_secrets++;
    else
        unhex(f[2], h, sizeof h);
    int rc = bank_register_hashed(b, f[1], h);
    if (rc == BK_NAME_TAKEN)
        return snprintf(why, cap, "wallet %s is registered twice", f[1]), -1;
    if (rc < 0)
        return snprintf(why, cap, "more wallets than --max-wallets %d", b->max_wallets), -1;
    return 0;
}

/* Why bank_replay refused a transfer, in words for the operator. */
static void transfer_why(const struct bank *b, int rc, char **f, long long tx, char *why,
                         size_t cap)
{
    int i = bank_find(b, f[2]);
    switch (rc) {
    case BK_TX_ORDER:
        snprintf(why, cap, "transfer id %lld is out of order: the next one is %lld", tx,
                 b->next_tx);
        break;
    case BK_AMOUNT: snprintf(why, cap, "amount %s is not 1 to 10^12 cents", f[4]); break;
    case BK_NO_WALLET:
        snprintf(why, cap, "wallet %s was never registered before it", i < 0 ? f[2] : f[3]);
        break;
    case BK_SELF: snprintf(why, cap, "wallet %s pays itself", f[2]); break;
    case BK_FUNDS:
        snprintf(why, cap, "wallet %s has %lld cents, fewer than %s", f[2], b->w[i].cents, f[4]);
        break;
    case BK_REQID: snprintf(why, cap, "request id %s of %s was used before", f[5], f[2]); break;
    case BK_OVERFLOW: snprintf(why, cap, "the balance of %s would overflow", f[3]); break;
    default: snprintf(why, cap, "out of memory"); break;
    }
}

static int replay_transfer(struct bank *b, char **f, int n, char *why, size_t cap)
{
    long long tx, cents;
    if (n != 6)
        return snprintf(why, cap, "a transfer must be T <tx> <from> <to> <cents> <reqid>"), -1;
    if (!txid_ok(f[1], &tx))
        return snprintf(why, cap, "transfer id %.24s is not a number from 1 to 2^63-1", f[1]), -1;
    if (!proto_name_ok(f[2]) || !proto_name_ok(f[3]) || !proto_token_ok(f[5]))
        return snprintf(why, cap, "a malformed name or request id"), -1;
    if (proto_parse_cents(f[4], &cents) < 0)
        cents = 0; /* bank_replay refuses it with BK_AMOUNT, so the message says why */
    int rc = bank_replay(b, tx, f[2], f[3], cents, f[5]);
    if (rc < 0)
        transfer_why(b, rc, f, tx, why, cap);
    return rc < 0 ? -1 : 0;
}

/* Apply one payload to the bank with every rule a live request meets: the first record must
 * be M. A record the rules refuse is an error, never skipped: dropping it would lose data. */
static int replay_one(struct bank *b, const char *payload, bool first, int rotate_every,
                      int max_wallets, struct ledger_info *info, char *why, size_t cap)
{
    char s[LEDGER_MAX_RECORD], *f[REC_FIELDS];
    snprintf(s, sizeof s, "%s", payload);
    int n = split(s, f);
    if (first)
        return replay_master(b, f, n, rotate_every, max_wallets, why, cap);
    if (n > 0 && !strcmp(f[0], "M"))
        return snprintf(why, cap, "a second M record"), -1;
    if (n > 0 && !strcmp(f[0], "R")) {
        info->wallets++;
        return replay_register(b, f, n, info, why, cap);
    }
    if (n > 0 && !strcmp(f[0], "T")) {
        info->transfers++;
        return replay_transfer(b, f, n, why, cap);
    }
    return snprintf(why, cap, "unknown record type (want M, R or T)"), -1;
}

/* Replay buf[0..len) into b. Returns the length of the good prefix, or -1 (err filled with
 * the line, the byte offset and the rule the record breaks). */
static long long replay(const char *path, const char *buf, size_t len, struct bank *b,
                        int rotate_every, int max_wallets, struct ledger_info *info, char *err,
                        size_t errcap)
{
    size_t off = 0;
    char payload[LEDGER_MAX_RECORD], why[160];
    while (off < len) {
        const char *nl = memchr(buf + off, '\n', len - off);
        size_t end = nl ? (size_t)(nl - buf) : len;
        bool ok = nl && ledger_decode(buf + off, end - off, payload, sizeof payload) == 0;
        if (!ok && (!nl || end + 1 == len)) { /* the last record, cut short by a crash */
            info->torn_offset = (long long)off, info->torn_bytes = (long long)(len - off);
            return (long long)off;
        }
        if (!ok)
            snprintf(why, sizeof why, "damaged (bad checksum, and not the last record)");
        if (!ok || replay_one(b, payload, info->records == 0, rotate_every, max_wallets, info, why,
                              sizeof why) < 0) {
            snprintf(err, errcap, "%s line %lld (byte %zu): %s%s%.60s%s", path, info->records + 1,
                     off, why, ok ? ": \"" : "", ok ? payload : "", ok ? "\"" : "");
            return -1;
        }
        info->records++;
        off = end + 1;
    }
    return (long long)off;
}

static char *read_all(int fd, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return NULL;
    char *buf = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (buf && got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    *len = got;
    return buf;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n, len -= (size_t)n;
    }
    return 0;
}

/* Make the ledger's existence durable too: fsync the directory that holds it. */
static void sync_dir(const char *path)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

static int start_new(struct ledger *lg, const char *path, struct bank *b, int rotate_every,
                     int max_wallets, const uint64_t master[2])
{
    char payload[64], rec[LEDGER_MAX_RECORD];
    bank_init(b, rotate_every, max_wallets, master);
    snprintf(payload, sizeof payload, "M %016llx %016llx", (unsigned long long)master[0],
             (unsigned long long)master[1]);
    size_t n = ledger_encode(rec, sizeof rec, payload);
    if (write_all(lg->fd, rec, n) < 0 || fdatasync(lg->fd) < 0)
        return -1;
    sync_dir(path);
    lg->size = (off_t)n;
    return 0;
}

/* The ledger holds the master key and the secrets' hashes: only its owner may read it. A
 * file open to others (an old 0644 ledger, a umask of 0) is made 0600; a file owned by
 * someone else is refused, since they could read or change it whatever its mode. */
static int check_mode(int fd, const char *path, struct ledger_info *info, char *err, size_t cap)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return snprintf(err, cap, "stat %s: %s", path, strerror(errno)), -1;
    if (st.st_uid != geteuid())
        return snprintf(err, cap, "%s belongs to uid %u, not to this user (uid %u): refused", path,
                        (unsigned)st.st_uid, (unsigned)geteuid()),
               -1;
    if (!(st.st_mode & 077))
        return 0;
    if (fchmod(fd, 0600) < 0)
        return snprintf(err, cap, "chmod 0600 %s: %s", path, strerror(errno)), -1;
    info->old_mode = (int)(st.st_mode & 0777);
    return 0;
}

struct ledger *ledger_open(const char *path, enum ledger_sync mode, struct bank *b,
                           int rotate_every, int max_wallets, const uint64_t master[2],
                           struct ledger_info *info, char *err, size_t errcap)
{
    struct ledger *lg = calloc(1, sizeof *lg);
    size_t len = 0;
    char *buf = NULL;
    memset(info, 0, sizeof *info);
    memset(b, 0, sizeof *b); /* bank_free is safe on it whatever happens below */
    if (!lg || (lg->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
        snprintf(err, errcap, "open %s: %s", path, strerror(errno));
        free(lg);
        return NULL;
    }
    lg->mode = mode;
    pthread_mutex_init(&lg->mu, NULL);
    pthread_cond_init(&lg->synced_cv, NULL);
    if (check_mode(lg->fd, path, info, err, errcap) < 0)
        goto fail;
    if (!(buf = read_all(lg->fd, &len))) {
        snprintf(err, errcap, "read %s: %s", path, strerror(errno));
        goto fail;
    }
    long long good = replay(path, buf, len, b, rotate_every, max_wallets, info, err, errcap);
    if (good < 0)
        goto fail;
    if (info->records == 0) { /* empty, or only a torn first record */
        if (ftruncate(lg->fd, 0) < 0 ||
            start_new(lg, path, b, rotate_every, max_wallets, master) < 0) {
            snprintf(err, errcap, "write %s: %s", path, strerror(errno));
            goto fail;
        }
        info->records = 1;
    } else {
        lg->size = (off_t)good;
        /* Cut the torn tail off, so new records do not follow garbage. */
        if (info->torn_bytes && (ftruncate(lg->fd, lg->size) < 0 || fdatasync(lg->fd) < 0)) {
            snprintf(err, errcap, "truncate %s: %s", path, strerror(errno));
            goto fail;
        }
    }
    free(buf);
    lseek(lg->fd, lg->size, SEEK_SET);
    return lg;
fail:
    free(buf);
    ledger_close(lg);
    return NULL;
}

int ledger_append(struct ledger *lg, const char *payload, long long *seq)
{
    char rec[LEDGER_MAX_RECORD + 1];
    size_t n = ledger_encode(rec, sizeof rec, payload);
    if (n == 0)
        return errno = EINVAL, -1;
    pthread_mutex_lock(&lg->mu);
    int rc = write_all(lg->fd, rec, n);
    if (rc < 0) {
        int e = errno;
        if (ftruncate(lg->fd, lg->size) == 0)
            lseek(lg->fd, lg->size, SEEK_SET);
        errno = e;
    } else {
        lg->size += (off_t)n;
        *seq = ++lg->written;
    }
    pthread_mutex_unlock(&lg->mu);
    if (rc == 0 && lg->mode == LEDGER_SYNC_EACH)
        rc = ledger_wait(lg, *seq);
    return rc;
}

int ledger_wait(struct ledger *lg, long long seq)
{
    pthread_mutex_lock(&lg->mu);
    while (lg->synced < seq && !lg->sync_errno) {
        if (lg->syncing) { /* someone else's fdatasync will cover us, or the next one */
            pthread_cond_wait(&lg->synced_cv, &lg->mu);
            continue;
        }
        lg->syncing = true;
        long long target = lg->written;
        pthread_mutex_unlock(&lg->mu);
        int rc = fdatasync(lg->fd);
        int e = errno;
        pthread_mutex_lock(&lg->mu);
        lg->syncing = false;
        lg->syncs++;
        if (rc < 0)
            lg->sync_errno = e;
        else
            lg->synced = target;
        pthread_cond_broadcast(&lg->synced_cv);
    }
    int rc = lg->synced >= seq ? 0 : (errno = lg->sync_errno, -1);
    pthread_mutex_unlock(&lg->mu);
    return rc;
}

long long ledger_written(struct ledger *lg)
{
    pthread_mutex_lock(&lg->mu);
    long long w = lg->written;
    pthread_mutex_unlock(&lg->mu);
    return w;
}

long long ledger_syncs(struct ledger *lg)
{
    pthread_mutex_lock(&lg->mu);
    long long n = lg->syncs;
    pthread_mutex_unlock(&lg->mu);
    return n;
}

void ledger_close(struct ledger *lg)
{
    if (!lg)
        return;
    if (lg->fd >= 0)
        close(lg->fd);
    pthread_mutex_destroy(&lg->mu);
    pthread_cond_destroy(&lg->synced_cv);
    free(lg);
}
