/* main.c - wiring: read the command line, set up signals, run one Bully node, print its stats. */
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
#include <unistd.h>

#include "evlog.h"
#include "node.h"

#define DEFAULT_NODES "127.0.0.1:7301,127.0.0.1:7302,127.0.0.1:7303,127.0.0.1:7304,127.0.0.1:7305"
#define MAX_MS 3600000 /* an hour; anything longer is surely a typo */

static const char usage[] =
    "usage: bully --id I [--nodes H:P,H:P,...] [--heartbeat MS] [--leader-timeout MS]\n"
    "             [--answer-timeout MS] [--coord-timeout MS] [--help]\n"
    "  --id I               this node's index in --nodes, 0..N-1 (required);\n"
    "                       a higher id has priority: the highest alive id leads\n"
    "  --nodes LIST         every node's IPv4:port, in id order, at most 64\n"
    "                       (default " DEFAULT_NODES ")\n"
    "  --heartbeat MS       the leader sends HEARTBEAT to everyone this often (default 1000)\n"
    "  --leader-timeout MS  a follower that hears nothing from its leader this long\n"
    "                       suspects it and starts an election (default 4000;\n"
    "                       must be more than --heartbeat)\n"
    "  --answer-timeout MS  after sending ELECTION, wait this long for an ANSWER;\n"
    "                       none: we are the highest alive and win (default 1500)\n"
    "  --coord-timeout MS   after an ANSWER, wait this long for the COORDINATOR;\n"
    "                       none: start a new election (default 4000)\n"
    "  --help               print this help and exit\n"
    "Event lines go to stdout; SIGINT or SIGTERM prints ev=stats and exits 0.\n";

/* ---- messages on stderr ------------------------------------------------- */

/* "bully: <message>" on stderr. If stderr itself fails there is nowhere
 * left to report that, so the results of these writes are not checked. */
static void vcomplain(const char *fmt, va_list ap)
{
    fputs("bully: ", stderr);
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

static bool set_ms(const char *flag, const char *s, uint32_t *out)
{
    uint64_t v;
    if (!parse_u64(flag, s, 1, MAX_MS, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool set_heartbeat(const char *f, const char *s, struct node_config *c)
{
    return set_ms(f, s, &c->heartbeat_ms);
}

static bool set_leader(const char *f, const char *s, struct node_config *c)
{
    return set_ms(f, s, &c->leader_ms);
}

static bool set_answer(const char *f, const char *s, struct node_config *c)
{
    return set_ms(f, s, &c->answer_ms);
}

static bool set_coord(const char *f, const char *s, struct node_config *c)
{
    return set_ms(f, s, &c->coord_ms);
}

/* The flags that take a value, and what reads it. */
static const struct value_flag {
    const char *name;
    bool (*set)(const char *flag, const char *value, struct node_config *cfg);
} value_flags[] = {
    {"--id", set_id},
    {"--nodes", set_nodes},
    {"--heartbeat", set_heartbeat},
    {"--leader-timeout", set_leader},
    {"--answer-timeout", set_answer},
    {"--coord-timeout", set_coord},
};

static const struct value_flag *find_value_flag(const char *name)
{
    for (size_t i = 0; i < sizeof value_flags / sizeof value_flags[0]; i++)
        if (strcmp(value_flags[i].name, name) == 0)
            return &value_flags[i];
    return NULL;
}

/* Classroom defaults: slow enough that a person can follow every message. */
static void set_defaults(struct node_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->id = -1; /* --id is required */
    if (!set_nodes("--nodes", DEFAULT_NODES, cfg))
        abort(); /* the default above is malformed: a bug in this file */
    cfg->heartbeat_ms = 1000;
    cfg->leader_ms = 4000;
    cfg->answer_ms = 1500;
    cfg->coord_ms = 4000;
}

/* Settings that parse but cannot work together. */
static bool consistent(const struct node_config *cfg)
{
    if (cfg->id >= cfg->n) {
        complain("--id %d is out of range: --nodes lists %d nodes", cfg->id, cfg->n);
        return false;
    }
    if (cfg->leader_ms <= cfg->heartbeat_ms) {
        /* Every follower would suspect a healthy leader between two heartbeats. */
        complain("--leader-timeout (%" PRIu32 ") must be more than --heartbeat (%" PRIu32 ")",
                 cfg->leader_ms, cfg->heartbeat_ms);
        return false;
    }
    return true;
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
    return consistent(cfg) ? PARSE_OK : PARSE_ERROR;
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
    (void)sig;
    int saved = errno;
    if (write(wake_pipe[1], "x", 1) < 0) {
        /* EAGAIN: full pipe, see above. Nothing else can be done in a handler. */
    }
    errno = saved;
}

/* SIGINT and SIGTERM wake the loop through the self-pipe; SIGPIPE is
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
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        die("sigaction: %s", strerror(errno));
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) != 0)
        die("sigaction: %s", strerror(errno));
    return wake_pipe[0];
}

/* ---- main --------------------------------------------------------------- */

/* Bind the node's socket, or say which address failed and exit 1. */
static void open_or_die(struct node *nd, const struct node_config *cfg, int wake_fd)
{
    char addr[NODE_ADDR_STRLEN];
    if (node_open(nd, cfg, wake_fd) == 0)
        return;
    int err = errno;
    if (node_addr_str(&cfg->addrs[cfg->id], addr, sizeof addr) < 0)
        memcpy(addr, "?", 2); /* cannot happen: any IPv4 address and port fit */
    die("cannot bind %s: %s", addr, strerror(err));
}

int main(int argc, char **argv)
{
    struct node_config cfg;
    struct node nd;

    switch (parse_args(argc, argv, &cfg)) {
    case PARSE_HELP: return fputs(usage, stdout) == EOF || fflush(stdout) == EOF ? 1 : 0;
    case PARSE_ERROR: fputs(usage, stderr); return 2;
    case PARSE_OK: break;
    }
    evlog_init(cfg.id);
    int wake_fd = setup_signals();
    open_or_die(&nd, &cfg, wake_fd);
    if (node_run(&nd) != 0)
        die("poll: %s", strerror(errno));
    node_log_stats(&nd);
    if (node_close(&nd) != 0)
        complain("close: %s", strerror(errno)); /* the run is over and logged: still exit 0 */
    /* The self-pipe stays open until exit: a late second signal must still
     * find a valid descriptor to write to. */
    return 0;
}
