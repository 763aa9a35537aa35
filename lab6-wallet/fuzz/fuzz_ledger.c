/* fuzz_ledger.c - libFuzzer harness for the ledger replay (`make fuzz`, clang only).
 *
 * Each line of the input becomes one record with a CORRECT checksum (ledger_encode), after a
 * fixed M record, so the fuzzer reaches the record parser and the replay rules instead of
 * stopping at the CRC. Beyond "no crash" (ASan/UBSan): after a replay that succeeds, no
 * balance is negative, the total is 10000 x wallets, and the next transfer id follows the
 * transfers replayed. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger.h"

static char path[64];

static void write_ledger(const unsigned char *d, size_t n)
{
    char rec[LEDGER_MAX_RECORD + 1], payload[LEDGER_MAX_RECORD];
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    ledger_encode(rec, sizeof rec, "M 0000000000000001 0000000000000002");
    fputs(rec, f);
    for (size_t off = 0; off < n;) {
        const unsigned char *nl = memchr(d + off, '\n', n - off);
        size_t end = nl ? (size_t)(nl - d) : n, len = end - off;
        len = len < sizeof payload - 20 ? len : sizeof payload - 20;
        memcpy(payload, d + off, len);
        payload[len] = '\0';
        size_t k = strlen(payload) == len ? ledger_encode(rec, sizeof rec, payload) : 0;
        if (k)
            fwrite(rec, 1, k, f);
        off = end + 1;
    }
    fclose(f);
    chmod(path, 0600);
}

int LLVMFuzzerTestOneInput(const unsigned char *d, size_t n)
{
    struct bank b;
    struct ledger_info info;
    char err[512];
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/fuzz_ledger.%ld", (long)getpid());
    write_ledger(d, n);
    struct ledger *lg = ledger_open(path, LEDGER_SYNC_GROUP, &b, 10, 100, (const uint64_t[2]){1, 2},
                                    &info, err, sizeof err);
    if (lg) {
        for (int i = 0; i < b.n; i++)
            if (b.w[i].cents < 0)
                abort();
        if (bank_total(&b) != (long long)b.n * BANK_START_CENTS || b.next_tx != info.transfers + 1)
            abort();
        ledger_close(lg);
    }
    bank_free(&b);
    return 0;
}
