/* main.c - wiring: read the command line, set up signals, run one player, print its stats. */
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

#include "evlog.h"
#include "node.h"

#define DEFAULT_NODES "127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103"
#define MAX_MS 3600000 /* an hour; anything longer is surely a typo */

static const char usage[] =
    "usage: player --id I [--nodes H:P,H:P,...] [--gold N] [--interval MS]\n"
    "              [--initiators LIST] [--snapshot-every MS] [--snapshots K]\n"
    "              [--delay-ms D] [--seed S] [--help]\n"
    "  --id I              this player's index in --nodes, 0..N-1 (required)\n"
    "  --nodes LIST        every player's IPv4:port, in id order, 2 to 16\n"
    "                      (default " DEFAULT_NODES ")\n"
    "  --gold N            coins every player starts with (default 100)\n"
    "  --interval MS       mean time between game turns (each may send gold), each\n"
    "                      gap uniform in [MS/2, 3MS/2]; 0 = only the give command\n"
    "                      (default 1000)\n"
    "  --initiators LIST   ids that start a snapshot every --snapshot-every ms,\n"
    "                      e.g. 0,2 (default 0)\n"
    "  --snapshot-every MS period of timed snapshots; 0 = none (default 0)\n"
    "  --snapshots K       start K timed snapshots, then print ev=done when they are\n"
    "                      over (default 0: no limit)\n"
    "  --delay-ms D        hold every outgoing frame 0..D ms, keeping each channel's\n"
    "                      order: slow channels (default 0)\n"
    "  --seed S            seed of the player's random choices (default: from the\n"
    "                      time and pid; printed in the ev=ready line)\n"
    "  --help              print this help and exit\n"
    "Commands on stdin: snap | give <player> <gold> | state. SIGUSR1 starts a snapshot.\n"
    "Event lines go to stdout; SIGINT or SIGTERM prints ev=stats and exits 0.\n";

/* ---- messages on stderr ------------------------------------------------- */

/* "lamport: <message>" on stderr. If stderr itself fails there is nowhere
 * left to report that, so the results of these writes are not checked. */
static void vcomplain(const char *fmt, va_list ap)
{
    fputs("player: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

static void complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void complain(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vcomplain(fmt, ap);
    va_end(ap);
}

/* Start-up failed (socket, bind, pipe, sigaction): say why and exit 1. */
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vcomplain(fmt, ap);
    va_end(ap);
    exit(1);
}

/* ---- the command line --------------------------------------------------- */

/* A whole decimal number in [min, max]. strtoull() alone would also take
 * " 12", "+12", "12abc" (stopping at 'a') and "-1" (as 2^64-1). */
static bool to_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
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

static bool parse_u64(const char *flag, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (to_u64(s, min, max, out))
        return true;
    complain("%s: expected a whole number from %" PRIu64 " to %" PRIu64 ", got '%s'", flag, min,
             max, s);
    return false;
}

/* "127.0.0.1:7001" (len bytes of s) into *out. Only numeric IPv4: nodes are
 * recognised by their address, and a name could resolve differently. */
static bool parse_hostport(const char *s, size_t len, struct sockaddr_in *out)
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
    if (!to_u64(port, 1, 65535, &p) || inet_pton(AF_INET, host, &out->sin_addr) != 1)
        return false;
    out->sin_port = htons((uint16_t)p);
    return true;
}

/* The index of the first entry that repeats an earlier one, or -1. */
static int find_duplicate(const struct sockaddr_in *a, int n)
{
    for (int j = 1; j < n; j++)
        for (int i = 0; i < j; i++)
            if (a[i].sin_addr.s_addr == a[j].sin_addr.s_addr && a[i].sin_port == a[j].sin_port)
                return j;
    return -1;
}

static bool set_nodes(const char *flag, const char *list, struct node_config *cfg)
{
    const char *item = list;
    int n = 0;
    for (;;) {
        size_t len = strcspn(item, ",");
        if (n == PROTO_MAX_NODES) {
            complain("%s: more than %d nodes", flag, PROTO_MAX_NODES);
            return false;
        }
        if (!parse_hostport(item, len, &cfg->addrs[n])) {
            complain("%s: '%.*s' is not IPv4:port, e.g. 127.0.0.1:7001", flag, (int)len, item);
            return false;
        }
        n++;
        if (item[len] == '\0')
            break;
        item += len + 1;
    }
    int dup = find_duplicate(cfg->addrs, n);
    if (dup >= 0) {
        complain("%s: entry %d repeats an earlier address", flag, dup);
        return false;
    }
    cfg->n = n;
    return true;
}

static bool set_id(const char *flag, const char *s, struct node_config *cfg)
{
    uint64_t v;
    if (!parse_u64(flag, s, 0, PROTO_MAX_NODES - 1, &v))
        return false;
    cfg->id = (int)v;
    return true;
}

static bool set_u32(const char *flag, const char *s, uint64_t min, uint64_t max, uint32_t *out)
{
    uint64_t v;
    if (!parse_u64(flag, s, min, max, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool set_gold(const char *flag, const char *s, struct node_config *cfg)
{
    return set_u32(flag, s, 1, 100000000, &cfg->gold); /* x16 players still fits in u32 */
}

static bool set_interval(const char *flag, const char *s, struct node_config *cfg)
{
    return set_u32(flag, s, 0, MAX_MS, &cfg->interval_ms);
}

static bool set_every(const char *flag, const char *s, struct node_config *cfg)
{
    return set_u32(flag, s, 0, MAX_MS, &cfg->snap_every_ms);
}

static bool set_snapshots(const char *flag, const char *s, struct node_config *cfg)
{
    return set_u32(flag, s, 0, 1000000, &cfg->snapshots);
}

static bool set_delay(const char *flag, const char *s, struct node_config *cfg)
{
    return set_u32(flag, s, 0, 10000, &cfg->delay_ms);
}

static bool set_seed(const char *flag, const char *s, struct node_config *cfg)
{
    return parse_u64(flag, s, 0, UINT64_MAX, &cfg->seed);
}

/* "0,2,5": a set of player ids */
static bool set_initiators(const char *flag, const char *s, struct node_config *cfg)
{
    char item[8];
    cfg->initiators = 0;
    for (const char *p = s;;) {
        size_t len = strcspn(p, ",");
        uint64_t v;
        if (len == 0 || len >= sizeof item)
            goto bad;
        memcpy(item, p, len);
        item[len] = '\0';
        if (!to_u64(item, 0, PROTO_MAX_NODES - 1, &v))
            goto bad;
        cfg->initiators |= 1u << v;
        if (p[len] == '\0')
            return true;
        p += len + 1;
    }
bad:
    complain("%s: expected ids 0..%d separated by commas, got '%s'", flag, PROTO_MAX_NODES - 1, s);
    return false;
}

/* The flags that take a value, and what reads it. */
static const struct value_flag {
    const char *name;
    bool (*set)(const char *flag, const char *value, struct node_config *cfg);
} value_flags[] = {
    {"--id", set_id},
    {"--nodes", set_nodes},
    {"--gold", set_gold},
    {"--interval", set_interval},
    {"--initiators", set_initiators},
    {"--snapshot-every", set_every},
    {"--snapshots", set_snapshots},
    {"--delay-ms", set_delay},
    {"--seed", set_seed},
};

static const struct value_flag *find_value_flag(const char *name)
{
    for (size_t i = 0; i < sizeof value_flags / sizeof value_flags[0]; i++)
        if (strcmp(value_flags[i].name, name) == 0)
            return &value_flags[i];
    return NULL;
}

/* The seed only has to differ between runs, so the wall clock is fine here
 * (it is never used for timing). The pid separates nodes started together. */
static uint64_t default_seed(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        ts.tv_sec = ts.tv_nsec = 0; /* cannot happen; the pid still varies */
    uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    return ns ^ ((uint64_t)getpid() << 32);
}

static void set_defaults(struct node_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->id = -1; /* --id is required */
    if (!set_nodes("--nodes", DEFAULT_NODES, cfg))
        abort(); /* the default above is malformed: a bug in this file */
    cfg->gold = 100;
    cfg->interval_ms = 1000;
    cfg->initiators = 1; /* player 0 */
    cfg->seed = default_seed();
}

enum parse_result { PARSE_OK, PARSE_HELP, PARSE_ERROR };

static enum parse_result parse_args(int argc, char **argv, struct node_config *cfg)
{
    set_defaults(cfg);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0)
            return PARSE_HELP;
        const struct value_flag *f = find_value_flag(argv[i]);
        if (f == NULL) {
            complain("unknown argument '%s'", argv[i]);
            return PARSE_ERROR;
        }
        if (i + 1 == argc) {
            complain("%s needs a value", argv[i]);
            return PARSE_ERROR;
        }
        if (!f->set(argv[i], argv[i + 1], cfg))
            return PARSE_ERROR;
        i++;
    }
    if (cfg->id < 0) {
        complain("--id is required");
        return PARSE_ERROR;
    }
    if (cfg->n < 2 || cfg->id >= cfg->n) {
        complain("--id %d with %d players: need 2 to %d players and an id among them", cfg->id,
                 cfg->n, PROTO_MAX_NODES);
        return PARSE_ERROR;
    }
    return PARSE_OK;
}

/* ---- signals ------------------------------------------------------------ */

/* The self-pipe: the handler writes a byte to [1], the poll() loop wakes
 * up on [0]. Set once before the handler is installed, read-only after. */
static int wake_pipe[2] = {-1, -1};

/* Only async-signal-safe work here: one write(), errno saved for the code
 * we interrupted. The write end is non-blocking, so if the pipe is full a
 * wake-up is already pending and losing this byte costs nothing. */
static void on_signal(int sig)
{
    int saved = errno;
    if (write(wake_pipe[1], sig == SIGUSR1 ? "u" : "x", 1) < 0) {
        /* EAGAIN: full pipe, see above. Nothing else can be done in a handler. */
    }
    errno = saved;
}

/* SIGINT and SIGTERM ('x': stop) and SIGUSR1 ('u': start a snapshot) wake
 * the loop through the self-pipe; SIGPIPE is
 * ignored, so a closed stdout makes write() fail instead of killing us
 * before the stats. Returns the pipe's read end. */
static int setup_signals(void)
{
    if (pipe(wake_pipe) != 0)
        die("pipe: %s", strerror(errno));
    int flags = fcntl(wake_pipe[1], F_GETFL);
    if (flags < 0 || fcntl(wake_pipe[1], F_SETFL, flags | O_NONBLOCK) < 0)
        die("fcntl: %s", strerror(errno));

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_signal;
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0 ||
        sigaction(SIGUSR1, &sa, NULL) != 0)
        die("sigaction: %s", strerror(errno));
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) != 0)
        die("sigaction: %s", strerror(errno));
    return wake_pipe[0];
}

/* ---- main --------------------------------------------------------------- */

int main(int argc, char **argv)
{
    struct node_config cfg;
    static struct node nd; /* large (a send queue per peer): not on the stack */

    switch (parse_args(argc, argv, &cfg)) {
    case PARSE_HELP: return fputs(usage, stdout) == EOF || fflush(stdout) == EOF ? 1 : 0;
    case PARSE_ERROR: fputs(usage, stderr); return 2;
    case PARSE_OK: break;
    }
    evlog_init(cfg.id);
    int wake_fd = setup_signals();
    if (node_open(&nd, &cfg, wake_fd, STDIN_FILENO) != 0) {
        char addr[NODE_ADDR_STRLEN];
        int err = errno;
        if (node_addr_str(&cfg.addrs[cfg.id], addr, sizeof addr) < 0)
            memcpy(addr, "?", 2);
        die("cannot listen on %s: %s", addr, strerror(err));
    }
    if (node_run(&nd) != 0)
        die("poll: %s", strerror(errno));
    node_log_stats(&nd);
    node_close(&nd);
    /* The self-pipe stays open until exit: a late second signal must still
     * find a valid descriptor to write to. */
    return 0;
}
