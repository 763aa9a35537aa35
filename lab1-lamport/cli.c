/* cli.c - the command-line and start-up helpers of the labs' main.c files (see cli.h). */
#include "cli.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *cli_prog = "node";

/* If stderr itself fails there is nowhere left to report that, so these writes are unchecked. */
static void vcomplain(const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", cli_prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_complain(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vcomplain(fmt, ap);
    va_end(ap);
}

void cli_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vcomplain(fmt, ap);
    va_end(ap);
    exit(1);
}

/* strtoull() alone would also take " 12", "+12", "12abc" (stopping at 'a') and "-1" (2^64-1). */
bool cli_to_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!isdigit((unsigned char)s[0]))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || errno == ERANGE || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool cli_u64(const char *flag, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (cli_to_u64(s, min, max, out))
        return true;
    cli_complain("%s: expected a whole number from %" PRIu64 " to %" PRIu64 ", got '%s'", flag,
                 min, max, s);
    return false;
}

bool cli_hostport(const char *s, size_t len, struct sockaddr_in *out)
{
    char host[INET_ADDRSTRLEN], port[6];
    size_t colon = len;
    while (colon > 0 && s[colon - 1] != ':')
        colon--;
    if (colon == 0)
        return false; /* no ':' at all */
    size_t hlen = colon - 1, plen = len - colon;
    if (hlen == 0 || hlen >= sizeof host || plen == 0 || plen >= sizeof port)
        return false;
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    memcpy(port, s + colon, plen);
    port[plen] = '\0';
    uint64_t p;
    memset(out, 0, sizeof *out);
    out->sin_family = AF_INET;
    if (!cli_to_u64(port, 1, 65535, &p) || inet_pton(AF_INET, host, &out->sin_addr) != 1)
        return false;
    out->sin_port = htons((uint16_t)p);
    return true;
}

int cli_nodes(const char *flag, const char *list, struct sockaddr_in *addrs, int max)
{
    const char *item = list;
    int n = 0;
    for (;;) {
        size_t len = strcspn(item, ",");
        if (n == max) {
            cli_complain("%s: more than %d nodes", flag, max);
            return -1;
        }
        if (!cli_hostport(item, len, &addrs[n])) {
            cli_complain("%s: '%.*s' is not IPv4:port, e.g. 127.0.0.1:7001", flag, (int)len,
                         item);
            return -1;
        }
        n++;
        if (item[len] == '\0')
            break;
        item += len + 1;
    }
    for (int j = 1; j < n; j++)
        for (int i = 0; i < j; i++)
            if (addrs[i].sin_addr.s_addr == addrs[j].sin_addr.s_addr &&
                addrs[i].sin_port == addrs[j].sin_port) {
                cli_complain("%s: entry %d repeats an earlier address", flag, j);
                return -1;
            }
    return n;
}

/* The wall clock is fine here: the seed only has to differ between runs (it is never used for
 * timing). The pid separates nodes started together. */
uint64_t cli_default_seed(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        ts.tv_sec = ts.tv_nsec = 0; /* cannot happen; the pid still varies */
    uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    return ns ^ ((uint64_t)getpid() << 32);
}

/* Set once before the handlers are installed, read-only after. */
static int wake_pipe[2] = {-1, -1};
static int extra_signal;

/* Only async-signal-safe work: one write(), errno saved for the code we interrupted. The write
 * end is non-blocking: if the pipe is full a wake-up is already pending. */
static void on_signal(int sig)
{
    int saved = errno;
    if (write(wake_pipe[1], sig == extra_signal ? "u" : "x", 1) < 0) {
        /* EAGAIN: full pipe, see above. Nothing else can be done in a handler. */
    }
    errno = saved;
}

int cli_signals(int extra_sig)
{
    if (pipe(wake_pipe) != 0)
        cli_die("pipe: %s", strerror(errno));
    int flags = fcntl(wake_pipe[1], F_GETFL);
    if (flags < 0 || fcntl(wake_pipe[1], F_SETFL, flags | O_NONBLOCK) < 0)
        cli_die("fcntl: %s", strerror(errno));
    extra_signal = extra_sig;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_signal;
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0 ||
        (extra_sig && sigaction(extra_sig, &sa, NULL) != 0))
        cli_die("sigaction: %s", strerror(errno));
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) != 0)
        cli_die("sigaction: %s", strerror(errno));
    return wake_pipe[0];
}
