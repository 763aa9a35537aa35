/* fuzz_replay.c - libFuzzer harness for ledger replay: the input becomes a ledger.log, which
 * ledger_open replays into a bank. The first input byte picks the mode: bit 0 clear, the rest is
 * the file as is; bit 0 set, each line of the rest is a payload the harness frames with its
 * correct checksum (ledger_encode), so the fuzzer reaches the record parser and the bank rules;
 * bit 1 also puts a valid master record first. Whatever replay accepts must be a bank a server
 * could have written: no negative balance, money conserved (total = wallets x start), and
 * transfer ids 1, 2, 3, ... in order.
 * The file lives in a private directory under $TMPDIR (else /dev/shm, else /tmp). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger.h"

#define FUZZ_ASSERT(c)                                                                           \
    do {                                                                                         \
        if (!(c)) {                                                                              \
            fprintf(stderr, "fuzz_replay: property failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

#define MAX_INPUT 16384
#define MAX_WALLETS 64

static char dir[64], path[96];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void remove_dir(void)
{
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    /* `make fuzz` gives each run a scratch TMPDIR that it removes even after a crash. */
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp || strlen(tmp) > sizeof dir - 24)
        tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/fuzz_replay.XXXXXX", tmp);
    FUZZ_ASSERT(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/ledger.log", dir);
    atexit(remove_dir);
    return 0;
}

/* Write one line: framed with its checksum in fix-up mode (when it fits), else as is. */
static void put_line(FILE *f, const char *line, size_t len, int fixup, int last)
{
    char payload[LEDGER_MAX_RECORD], rec[LEDGER_MAX_RECORD + 1];
    size_t n = 0;
    if (fixup && len < sizeof payload && !memchr(line, '\0', len)) {
        memcpy(payload, line, len);
        payload[len] = '\0';
        n = ledger_encode(rec, sizeof rec, payload);
    }
    if (n > 0)
        fwrite(rec, 1, n, f);
    else {
        fwrite(line, 1, len, f);
        if (!last)
            fputc('\n', f);
    }
}

static void write_ledger(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "w");
    FUZZ_ASSERT(f);
    int mode = data[0];
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    if (!(mode & 1)) {
        fwrite(p, 1, (size_t)(end - p), f);
    } else {
        if (mode & 2)
            put_line(f, "M 0123456789abcdef fedcba9876543210", 35, 1, 0);
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
            put_line(f, p, len, 1, !nl);
            p += len + (nl ? 1 : 0);
        }
    }
    FUZZ_ASSERT(fclose(f) == 0);
}

static void check_bank(const struct bank *b, const struct ledger_info *info)
{
    long long sum = 0;
    FUZZ_ASSERT(b->n >= 0 && b->n <= MAX_WALLETS && info->records >= 1);
    for (int i = 0; i < b->n; i++) {
        FUZZ_ASSERT(b->w[i].cents >= 0);
        sum += b->w[i].cents;
    }
    FUZZ_ASSERT(sum == (long long)b->n * BANK_START_CENTS);
    FUZZ_ASSERT(bank_total(b) == sum);
    /* Transfer ids are 1, 2, 3, ... in ledger order (bank.h): the next one follows the count. */
    FUZZ_ASSERT(b->next_tx == info->transfers + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint64_t master[2] = {1, 2};
    if (size < 1 || size > MAX_INPUT)
        return 0;
    write_ledger(data, size);
    struct bank b;
    struct ledger_info info;
    char err[256];
    struct ledger *lg =
        ledger_open(path, LEDGER_SYNC_EACH, &b, 60, MAX_WALLETS, master, &info, err, sizeof err);
    if (lg) {
        check_bank(&b, &info);
        ledger_close(lg);
    } else {
        FUZZ_ASSERT(err[0] != '\0'); /* a refused ledger says why */
    }
    bank_free(&b);
    unlink(path);
    return 0;
}
