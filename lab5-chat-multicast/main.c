/* main.c - wiring: read the command line, set up signals, run one chat member. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "evlog.h"
#include "node.h"

static const char usage[] =
    "usage: chat USER [options]\n"
    "  USER                1..15 of [A-Za-z0-9_-]; the same USER restores its checkpoint\n"
    "  --group ADDR        multicast group (default 224.1.1.1)\n"
    "  --port P            group port (default 5007)\n"
    "  --iface ADDR        interface to join and send on (default 127.0.0.1: this machine\n"
    "                      only; give a LAN address to chat between machines)\n"
    "  --uport P           our unicast port for replies (default 0: any free port)\n"
    "  --id N              node= in event lines (default 0)\n"
    "  --dir DIR           where replicas and the checkpoint live (default .)\n"
    "  --replicas R        local replica logs, 1..16 (default 3)\n"
    "  --delay MS          hold each received message a random 0..MS ms before delivery, to\n"
    "                      show out-of-order arrival (default 0)\n"
    "  --cs-ms MS          how long a member holds the critical section (default 20)\n"
    "  --checkpoint-ms MS  checkpoint period (default 10000; also at start and exit)\n"
    "  --check-ms MS       replica agreement check period (default 5000)\n"
    "  --antientropy-ms MS summary exchange period (default 2000)\n"
    "  --heartbeat-ms MS   HELLO period (default 500)\n"
    "  --dead-ms MS        a peer silent this long is not waited for (default 3000)\n"
    "  --retx-ms MS        retransmit a request to silent peers after (default 500)\n"
    "  --join-ms MS        listen this long before the first send (default 1000)\n"
    "  --ghost-ms MS       a peer that never took part in mutual exclusion (no REQ or REP\n"
    "                      from it yet) is waited for this long per request (default 1500)\n"
    "  --history-max N     messages of others kept, in total (default 8192)\n"
    "  --author-max N      messages kept per author (default 2048; own ones always kept)\n"
    "  --expect N          and until N members (us included) have been heard (default 0)\n"
    "  --sync-rounds N     summary rounds of one `sync` (default 4)\n"
    "  --sync-round-ms MS  time between them (default 250)\n"
    "  --ckpt-slow-ms MS   TEST ONLY: pause between writing a checkpoint and renaming it\n"
    "  --seed S            seed of the artificial delays\n"
    "  --key FILE          sign every datagram with this group key and drop any without a\n"
    "                      good tag (ev=bad why=bad-mac); every member needs the same file,\n"
    "                      16..4096 bytes: head -c 32 /dev/urandom > group.key (default: off)\n"
    "  --verbose           show requests, deferrals and grants (the `verbose` command too)\n"
    "  --help              this help\n"
    "Commands (stdin): a line of text sends it; peers, sync, verbose, quit (or sair).\n"
    "Event lines go to stdout, the chat itself to stderr. SIGINT/SIGTERM checkpoint, print\n"
    "ev=stats and exit 0. When stdin is a pipe, its end does not end the member.\n";

static void bad_usage(const char *fmt, const char *arg)
{
    fputs("chat: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n", stderr);
    fputs(usage, stderr);
    exit(2);
}

static int to_int(const char *opt, const char *s, long min, long max)
{
    char *end;
    errno = 0;
    long v = isdigit((unsigned char)s[0]) ? strtol(s, &end, 10) : -1;
    if (!isdigit((unsigned char)s[0]) || *end || errno || v < min || v > max) {
        fprintf(stderr, "chat: %s wants a number in %ld..%ld, not '%s'\n", opt, min, max, s);
        fputs(usage, stderr);
        exit(2);
    }
    return (int)v;
}

static struct in_addr to_addr(const char *opt, const char *s)
{
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1)
        bad_usage("%s wants an IPv4 address", opt);
    return a;
}

/* The key is read here, at start-up: a missing or short file stops us before we bind. */
static void set_key(const char *path, struct node_cfg *c)
{
    char err[512];
    if (auth_load_key(path, &c->key, err, sizeof err) != 0)
        bad_usage("%s", err);
    c->keyed = true;
}

struct intopt {
    const char *name;
    size_t off;
    long min, max;
};

#define O(f) offsetof(struct node_cfg, f)
static const struct intopt intopts[] = {
    {"--port", O(port), 1, 65535},
    {"--uport", O(uport), 0, 65535},
    {"--id", O(id), 0, 1023},
    {"--replicas", O(replicas), 1, 16},
    {"--delay", O(delay_ms), 0, 60000},
    {"--cs-ms", O(cs_ms), 0, 60000},
    {"--checkpoint-ms", O(checkpoint_ms), 10, 86400000},
    {"--check-ms", O(check_ms), 10, 86400000},
    {"--antientropy-ms", O(antientropy_ms), 10, 86400000},
    {"--heartbeat-ms", O(heartbeat_ms), 10, 600000},
    {"--dead-ms", O(dead_ms), 10, 3600000},
    {"--retx-ms", O(retx_ms), 10, 600000},
    {"--join-ms", O(join_ms), 0, 600000},
    {"--ghost-ms", O(ghost_ms), 10, 3600000},
    {"--history-max", O(history_max), 1, 1000000},
    {"--author-max", O(author_max), 1, 1000000},
    {"--expect", O(expect), 0, 64},
    {"--sync-rounds", O(sync_rounds), 1, 100},
    {"--sync-round-ms", O(sync_round_ms), 10, 60000},
    {"--ckpt-slow-ms", O(ckpt_slow_ms), 0, 60000},
};

static void parse(int argc, char **argv, struct node_cfg *c)
{
    *c = (struct node_cfg){.port = 5007,
                           .replicas = 3,
                           .cs_ms = 20,
                           .checkpoint_ms = 10000,
                           .check_ms = 5000,
                           .antientropy_ms = 2000,
                           .heartbeat_ms = 500,
                           .dead_ms = 3000,
                           .retx_ms = 500,
                           .join_ms = 1000,
                           .ghost_ms = 1500,
                           .history_max = STORE_DEF_TOTAL,
                           .author_max = STORE_DEF_AUTHOR,
                           .sync_rounds = 4,
                           .sync_round_ms = 250};
    inet_pton(AF_INET, "224.1.1.1", &c->group);
    inet_pton(AF_INET, "127.0.0.1", &c->iface);
    strcpy(c->dir, ".");
    c->seed = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid();
    const char *user = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help")) {
            fputs(usage, stdout);
            exit(0);
        } else if (!strcmp(a, "--verbose")) {
            c->verbose = true;
            continue;
        } else if (a[0] != '-') {
            if (user)
                bad_usage("one USER only, not also '%s'", a);
            user = a;
            continue;
        }
        if (!v)
            bad_usage("%s needs a value", a);
        i++;
        size_t k;
        for (k = 0; k < sizeof intopts / sizeof *intopts; k++)
            if (!strcmp(a, intopts[k].name)) {
                *(int *)((char *)c + intopts[k].off) = to_int(a, v, intopts[k].min, intopts[k].max);
                break;
            }
        if (k < sizeof intopts / sizeof *intopts)
            continue;
        if (!strcmp(a, "--group"))
            c->group = to_addr(a, v);
        else if (!strcmp(a, "--iface"))
            c->iface = to_addr(a, v);
        else if (!strcmp(a, "--key"))
            set_key(v, c);
        else if (!strcmp(a, "--seed"))
            c->seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--dir")) {
            if (strlen(v) >= sizeof c->dir)
                bad_usage("--dir is too long: %s", v);
            strcpy(c->dir, v);
        } else
            bad_usage("unknown option %s", a);
    }
    if (!user)
        bad_usage("%s", "USER is missing");
    if (!proto_name_ok(user))
        bad_usage("USER must be 1..15 of [A-Za-z0-9_-], not '%s'", user);
    if (!IN_MULTICAST(ntohl(c->group.s_addr)))
        bad_usage("--group %s is not a multicast address (224.0.0.0/4)", inet_ntoa(c->group));
    strcpy(c->user, user);
}

static volatile sig_atomic_t stop;
static int wake[2] = {-1, -1};

static void on_signal(int sig)
{
    (void)sig;
    int saved = errno;
    stop = 1;
    if (write(wake[1], "x", 1) < 0) {
        /* the pipe is full: the loop is awake anyway */
    }
    errno = saved;
}

int main(int argc, char **argv)
{
    struct node_cfg cfg;
    parse(argc, argv, &cfg);
    evlog_init(cfg.id);
    if (pipe(wake) < 0 || fcntl(wake[1], F_SETFL, O_NONBLOCK) < 0) {
        perror("chat: pipe");
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
        signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        perror("chat: sigaction");
        return 1;
    }
    int rc = node_run(&cfg, &stop, wake[0]);
    close(wake[0]);
    close(wake[1]);
    return rc;
}
