/* fuzz_ledger.c - libFuzzer harness for one ledger record (ledger_decode / ledger_encode). The
 * first input byte picks the mode: odd, the rest is a record line (without its newline) and, if
 * it decodes, encoding its payload gives that very line back; even, the rest is a payload and
 * encode then decode gives it back. `make fuzz` runs it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"

#define FUZZ_ASSERT(c)                                                                           \
    do {                                                                                         \
        if (!(c)) {                                                                              \
            fprintf(stderr, "fuzz_ledger: property failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(const char *line, size_t len)
{
    char payload[LEDGER_MAX_RECORD], rec[LEDGER_MAX_RECORD + 1];
    if (ledger_decode(line, len, payload, sizeof payload) != 0)
        return;
    FUZZ_ASSERT(strlen(payload) <= len - 10);
    if (len + 1 > LEDGER_MAX_RECORD || memchr(line, '\0', len))
        return; /* too long for a record the server writes; or cut at the NUL by the encoder */
    size_t n = ledger_encode(rec, sizeof rec, payload);
    FUZZ_ASSERT(n == len + 1 && memcmp(rec, line, len) == 0 && rec[len] == '\n');
}

static void check_payload(const char *p)
{
    char rec[LEDGER_MAX_RECORD + 1], back[LEDGER_MAX_RECORD];
    if (!*p)
        return; /* "" encodes to " #00000000", which ledger_decode refuses: no record is empty */
    size_t n = ledger_encode(rec, sizeof rec, p);
    if (n == 0) {
        FUZZ_ASSERT(strlen(p) + 11 > LEDGER_MAX_RECORD); /* refused only when too long */
        return;
    }
    FUZZ_ASSERT(n <= LEDGER_MAX_RECORD && rec[n - 1] == '\n');
    FUZZ_ASSERT(ledger_decode(rec, n - 1, back, sizeof back) == 0 && strcmp(back, p) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[4 * LEDGER_MAX_RECORD + 1];
    if (size < 1 || size > sizeof s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    if (data[0] & 1)
        check_line(s, size - 1);
    else
        check_payload(s);
    return 0;
}
