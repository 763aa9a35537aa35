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

#include "cli.h"
#include "evlog.h"
#include "node.h"

#define DEFAULT_NODES "127.0.0.1:7301,127.0.0.1:7302,127.0.0.1:7303,127.0.0.1:7304,127.0.0.1:7305"
#define MAX_MS 3600000 /* an hour; anything longer is surely a typo */

static const char usage[] =
    "usage: bully --id I [--nodes H:P,H:P,...] [--heartbeat MS] [--leader-timeout MS]\n"
    "             [--answer-timeout MS] [--coord-timeout MS] [--key FILE] [--help]\n"
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
    "  --key FILE           sign every message with this group key and drop any\n"
    "                       without a good tag (ev=bad why=bad-mac) or seen before\n"
    "                       (why=replay); every node needs the same file, at least\n"
    "                       16 bytes: head -c 32 /dev/urandom > group.key (default: off)\n"
    "  --help               print this help and exit\n"
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

static bool set_ms(const char *flag, const char *s, uint32_t *out)
{
    uint64_t v;
    if (!cli_u64(flag, s, 1, MAX_MS, &v))
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

/* The key is read here, at start-up: a missing or short file stops us before we bind. */
static bool set_key(const char *f, const char *s, struct node_config *c)
{
    char err[512];
    (void)f;
    if (auth_load_key(s, &c->key, err, sizeof err) != 0) {
        cli_complain("%s", err);
        return false;
    }
    c->keyed = true;
    return true;
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
    {"--key", set_key},
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
        cli_complain("--id %d is out of range: --nodes lists %d nodes", cfg->id, cfg->n);
        return false;
    }
    if (cfg->leader_ms <= cfg->heartbeat_ms) {
        /* Every follower would suspect a healthy leader between two heartbeats. */
        cli_complain("--leader-timeout (%" PRIu32 ") must be more than --heartbeat (%" PRIu32 ")",
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
    return consistent(cfg) ? PARSE_OK : PARSE_ERROR;
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
    cli_prog = "bully";
    struct node_config cfg;
    struct node nd;

    switch (parse_args(argc, argv, &cfg)) {
    case PARSE_HELP: return fputs(usage, stdout) == EOF || fflush(stdout) == EOF ? 1 : 0;
    case PARSE_ERROR: fputs(usage, stderr); return 2;
    case PARSE_OK: break;
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
