/* fuzz_cli.c - libFuzzer harness for cli.c's parsers (cli_to_u64, cli_hostport, cli_nodes), on
 * this lab's verbatim copy of common/cli.c. The first input byte picks the parser, the rest is
 * the argument. cli.c has no separate duration parser: the labs read durations in ms
 * (--heartbeat 200) with cli_u64 and a range, which mode 4 does.
 * `make fuzz` runs it. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define FUZZ_ASSERT(c)                                                                        \
    do {                                                                                      \
        if (!(c)) {                                                                           \
            fprintf(real_stderr, "fuzz_cli: property failed: %s (%s:%d)\n", #c, __FILE__,    \
                    __LINE__);                                                                \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

#define MAX_ARG 256
#define MAX_NODES 8

static FILE *real_stderr, *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    real_stderr = stderr;
    devnull = fopen("/dev/null", "w"); /* cli_nodes complains on stderr: keep the log short */
    return 0;
}

/* An independent reading of a decimal: digits only, no overflow. */
static bool plain_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

static void check_u64(const char *s, uint64_t min, uint64_t max)
{
    uint64_t got = 0, want = 0;
    bool ok = cli_to_u64(s, min, max, &got);
    bool expect = plain_u64(s, &want) && want >= min && want <= max;
    FUZZ_ASSERT(ok == expect);
    FUZZ_ASSERT(!ok || got == want);
}

/* A parsed address prints back as "a.b.c.d:port" and that parses to the same address. */
static void check_hostport(const char *s, size_t len)
{
    struct sockaddr_in a, b;
    if (!cli_hostport(s, len, &a))
        return;
    char host[INET_ADDRSTRLEN], text[64];
    FUZZ_ASSERT(a.sin_family == AF_INET && a.sin_port != 0);
    FUZZ_ASSERT(inet_ntop(AF_INET, &a.sin_addr, host, sizeof host));
    int n = snprintf(text, sizeof text, "%s:%u", host, ntohs(a.sin_port));
    FUZZ_ASSERT(n > 0 && (size_t)n < sizeof text);
    FUZZ_ASSERT(cli_hostport(text, (size_t)n, &b));
    FUZZ_ASSERT(a.sin_addr.s_addr == b.sin_addr.s_addr && a.sin_port == b.sin_port);
    FUZZ_ASSERT(memchr(s, ':', len) != NULL);
}

/* A duration flag as lab3 reads it: cli_u64 agrees with cli_to_u64 and complains otherwise. */
static void check_duration(const char *s)
{
    uint64_t a = 0, b = 0;
    stderr = devnull;
    bool ok = cli_u64("--heartbeat", s, 1, 3600000, &a);
    stderr = real_stderr;
    FUZZ_ASSERT(ok == cli_to_u64(s, 1, 3600000, &b) && (!ok || (a == b && a >= 1 && a <= 3600000)));
}

static void check_nodes(const char *s)
{
    struct sockaddr_in addrs[MAX_NODES + 1];
    memset(addrs, 0xa5, sizeof addrs);
    stderr = devnull;
    int n = cli_nodes("--nodes", s, addrs, MAX_NODES);
    stderr = real_stderr;
    FUZZ_ASSERT(n == -1 || (n >= 1 && n <= MAX_NODES));
    FUZZ_ASSERT(addrs[MAX_NODES].sin_port == 0xa5a5); /* nothing written past max */
    for (int j = 0; j < n; j++)
        for (int i = 0; i < j; i++)
            FUZZ_ASSERT(addrs[i].sin_addr.s_addr != addrs[j].sin_addr.s_addr ||
                        addrs[i].sin_port != addrs[j].sin_port);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > MAX_ARG)
        return 0;
    char s[MAX_ARG + 1];
    size_t len = size - 1;
    memcpy(s, data + 1, len);
    s[len] = '\0';
    switch (data[0] % 5) {
    case 0: check_u64(s, 0, UINT64_MAX); break;
    case 1: check_u64(s, 1, 65535); break;
    case 2: check_hostport(s, strlen(s)); break;
    case 3: check_nodes(s); break;
    default: check_duration(s); break;
    }
    return 0;
}
