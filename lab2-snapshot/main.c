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

#include "cli.h"
#include "evlog.h"
#include "node.h"

#define DEFAULT_NODES "127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103"
#define MAX_MS 3600000 /* an hour; anything longer is surely a typo */

static const char usage[] =
    "usage: player --id I [--nodes H:P,H:P,...] [--gold N] [--interval MS]\n"
    "              [--initiators LIST] [--snapshot-every MS] [--snapshots K]\n"
    "              [--delay-ms D] [--hello-ms MS] [--seed S] [--key FILE] [--help]\n"
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
    "  --hello-ms MS       close an inbound connection that has not sent its HELLO\n"
    "                      after MS ms (default 2000)\n"
    "  --seed S            seed of the player's random choices (default: from the\n"
    "                      time and pid; printed in the ev=ready line)\n"
    "  --key FILE          sign every frame with this group key and drop any\n"
    "                      connection whose frame has no good tag (ev=bad why=bad-mac)\n"
    "                      or was seen before (why=replay); every player needs the same\n"
    "                      file, at least 16 bytes: head -c 32 /dev/urandom > group.key\n"
    "                      (default: off)\n"
    "  --help              print this help and exit\n"
    "Commands on stdin: snap | give <player> <gold> | state. SIGUSR1 starts a snapshot.\n"
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

static bool set_u32(const char *flag, const char *s, uint64_t min, uint64_t max, uint32_t *out)
{
    uint64_t v;
    if (!cli_u64(flag, s, min, max, &v))
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

static bool set_hello(const char *flag, const char *s, struct node_config *cfg)
{
    return set_u32(flag, s, 1, MAX_MS, &cfg->hello_ms);
}

static bool set_seed(const char *flag, const char *s, struct node_config *cfg)
{
    return cli_u64(flag, s, 0, UINT64_MAX, &cfg->seed);
}

/* The key is read here, at start-up: a missing or short file stops us before we listen. */
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
        if (!cli_to_u64(item, 0, PROTO_MAX_NODES - 1, &v))
            goto bad;
        cfg->initiators |= 1u << v;
        if (p[len] == '\0')
            return true;
        p += len + 1;
    }
bad:
    cli_complain("%s: expected ids 0..%d separated by commas, got '%s'", flag, PROTO_MAX_NODES - 1,
                 s);
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
    {"--hello-ms", set_hello},
    {"--seed", set_seed},
    {"--key", set_key},
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
    cfg->gold = 100;
    cfg->interval_ms = 1000;
    cfg->hello_ms = 2000; /* a real peer sends its HELLO as soon as it is connected */
    cfg->initiators = 1;  /* player 0 */
    cfg->seed = cli_default_seed();
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
    if (cfg->n < 2 || cfg->id >= cfg->n) {
        cli_complain("--id %d with %d players: need 2 to %d players and an id among them", cfg->id,
                     cfg->n, PROTO_MAX_NODES);
        return PARSE_ERROR;
    }
    return PARSE_OK;
}

/* ---- main --------------------------------------------------------------- */

int main(int argc, char **argv)
{
    cli_prog = "player";
    struct node_config cfg;
    static struct node nd; /* large (a send queue per peer): not on the stack */

    switch (parse_args(argc, argv, &cfg)) {
    case PARSE_HELP: return fputs(usage, stdout) == EOF || fflush(stdout) == EOF ? 1 : 0;
    case PARSE_ERROR: fputs(usage, stderr); return 2;
    case PARSE_OK: break;
    }
    evlog_init(cfg.id);
    int wake_fd = cli_signals(SIGUSR1);
    if (node_open(&nd, &cfg, wake_fd, STDIN_FILENO) != 0) {
        char addr[NODE_ADDR_STRLEN];
        int err = errno;
        if (node_addr_str(&cfg.addrs[cfg.id], addr, sizeof addr) < 0)
            memcpy(addr, "?", 2);
        cli_die("cannot listen on %s: %s", addr, strerror(err));
    }
    if (node_run(&nd) != 0)
        cli_die("poll: %s", strerror(errno));
    node_log_stats(&nd);
    node_close(&nd);
    /* The self-pipe stays open until exit: a late second signal must still
     * find a valid descriptor to write to. */
    return 0;
}
