/* main.c - wiring: read the command line, set up signals, run one node, print its stats. */
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

#include "cli.h"
#include "evlog.h"
#include "node.h"

#define DEFAULT_NODES "127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003"
#define MAX_INTERVAL_MS 3600000 /* an hour; anything longer is surely a typo */

static const char usage[] =
    "usage: lamport --id I [--nodes H:P,H:P,...] [--vector] [--interval MS]\n"
    "               [--send-prob P] [--count N] [--seed S] [--help]\n"
    "  --id I         this node's index in --nodes, 0..N-1 (required)\n"
    "  --nodes LIST   every node's IPv4:port, in id order, at most 64\n"
    "                 (default " DEFAULT_NODES ")\n"
    "  --vector       keep vector clocks too, and send them in every message\n"
    "  --interval MS  mean time between own events in ms, each gap uniform in\n"
    "                 [MS/2, 3MS/2] (default 1000, range 1..3600000)\n"
    "  --send-prob P  probability that an own event is a send (default 0.5)\n"
    "  --count N      after N own events print ev=done and only receive\n"
    "                 (default 0: no limit)\n"
    "  --seed S       seed of the node's random choices (default: from the time\n"
    "                 and pid; printed in the ev=ready line to replay a run)\n"
    "  --help         print this help and exit\n"
    "Event lines go to stdout; SIGINT or SIGTERM prints ev=stats and exits 0.\n";

/* ---- messages on stderr ------------------------------------------------- */

/* ---- the command line --------------------------------------------------- */

static bool set_nodes(const char *flag, const char *list, struct node_config *cfg)
{
    int n = cli_nodes(flag, list, cfg->addrs, PROTO_MAX_NODES);
    if (n < 0)
        return false;
    cfg->n = n;
    return true;
}

static bool set_id(const char *flag, const char *s, struct node_config *cfg)
{
    uint64_t v;
    if (!cli_u64(flag, s, 0, PROTO_MAX_NODES - 1, &v))
        return false;
    cfg->id = (int)v;
    return true;
}

static bool set_interval(const char *flag, const char *s, struct node_config *cfg)
{
    uint64_t v;
    if (!cli_u64(flag, s, 1, MAX_INTERVAL_MS, &v))
        return false;
    cfg->interval_ms = (uint32_t)v;
    return true;
}

static bool set_send_prob(const char *flag, const char *s, struct node_config *cfg)
{
    char *end;
    double p = strtod(s, &end);
    /* Written so that NaN fails too: every comparison with NaN is false. */
    if (end == s || *end != '\0' || !(p >= 0.0 && p <= 1.0)) {
        cli_complain("%s: expected a probability from 0 to 1, got '%s'", flag, s);
        return false;
    }
    cfg->send_prob = p;
    return true;
}

static bool set_count(const char *flag, const char *s, struct node_config *cfg)
{
    return cli_u64(flag, s, 0, UINT64_MAX, &cfg->count);
}

static bool set_seed(const char *flag, const char *s, struct node_config *cfg)
{
    return cli_u64(flag, s, 0, UINT64_MAX, &cfg->seed);
}

/* The flags that take a value, and what reads it. */
static const struct value_flag {
    const char *name;
    bool (*set)(const char *flag, const char *value, struct node_config *cfg);
} value_flags[] = {
    {"--id", set_id},
    {"--nodes", set_nodes},
    {"--interval", set_interval},
    {"--send-prob", set_send_prob},
    {"--count", set_count},
    {"--seed", set_seed},
};

static const struct value_flag *find_value_flag(const char *name)
{
    for (size_t i = 0; i < sizeof value_flags / sizeof value_flags[0]; i++)
        if (strcmp(value_flags[i].name, name) == 0)
            return &value_flags[i];
    return NULL;
}

static void set_defaults(struct node_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->id = -1; /* --id is required */
    if (!set_nodes("--nodes", DEFAULT_NODES, cfg))
        abort(); /* the default above is malformed: a bug in this file */
    cfg->interval_ms = 1000;
    cfg->send_prob = 0.5;
    cfg->count = 0;
    cfg->seed = cli_default_seed();
}

enum parse_result { PARSE_OK, PARSE_HELP, PARSE_ERROR };

static enum parse_result parse_args(int argc, char **argv, struct node_config *cfg)
{
    set_defaults(cfg);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0)
            return PARSE_HELP;
        if (strcmp(argv[i], "--vector") == 0) {
            cfg->vector = true;
            continue;
        }
        const struct value_flag *f = find_value_flag(argv[i]);
        if (f == NULL) {
            cli_complain("unknown argument '%s'", argv[i]);
            return PARSE_ERROR;
        }
        if (i + 1 == argc) {
            cli_complain("%s needs a value", argv[i]);
            return PARSE_ERROR;
        }
        if (!f->set(argv[i], argv[i + 1], cfg))
            return PARSE_ERROR;
        i++;
    }
    if (cfg->id < 0) {
        cli_complain("--id is required");
        return PARSE_ERROR;
    }
    if (cfg->id >= cfg->n) {
        cli_complain("--id %d is out of range: --nodes lists %d nodes", cfg->id, cfg->n);
        return PARSE_ERROR;
    }
    return PARSE_OK;
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
    cli_die("cannot bind %s: %s", addr, strerror(err));
}

int main(int argc, char **argv)
{
    cli_prog = "lamport";
    struct node_config cfg;
    struct node nd;

    switch (parse_args(argc, argv, &cfg)) {
    case PARSE_HELP:
        return fputs(usage, stdout) == EOF || fflush(stdout) == EOF ? 1 : 0;
    case PARSE_ERROR:
        fputs(usage, stderr);
        return 2;
    case PARSE_OK:
        break;
    }
    evlog_init(cfg.id);
    int wake_fd = cli_signals(0);
    open_or_die(&nd, &cfg, wake_fd);
    if (node_run(&nd) != 0)
        cli_die("poll: %s", strerror(errno));
    node_log_stats(&nd);
    if (node_close(&nd) != 0)
        cli_complain("close: %s", strerror(errno)); /* the run is over and logged: still exit 0 */
    /* The self-pipe stays open until exit: a late second signal must still
     * find a valid descriptor to write to. */
    return 0;
}
