/* main.c - wiring: read the command line, set up signals, run one pownode, exit. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "evlog.h"
#include "msg.h"
#include "net.h"
#include "node.h"

static const char usage[] =
    "usage: pownode --id ID [--broker HOST] [--port N] [--participants K] [--threads T]\n"
    "               [--difficulty D] [--seed S] [--init-timeout MS] [--pause MS]\n"
    "               [--rounds N] [--keepalive S] [--cafile FILE] [--cheat invalid|stale]\n"
    "               [--vote V] [--user NAME --password-file FILE] [--key FILE] [--help]\n"
    "  --id ID            this node's id, 0..1000000 (required)\n"
    "  --broker HOST      MQTT broker host (default 127.0.0.1)\n"
    "  --port N           broker port (default 1883; 8883 is the usual TLS port)\n"
    "  --participants K   discovery ends when K nodes are known (default 3)\n"
    "  --threads T        mining threads, 1..64 (default 1)\n"
    "  --difficulty D     leading zero bits a proof needs, 1..64 (default 16; leader only)\n"
    "  --seed S           seed of the node's random choices (default: time and pid)\n"
    "  --init-timeout MS  discovery and each vote round give up after MS (default 5000)\n"
    "  --pause MS         leader: pause between a result and the next challenge (default 1000)\n"
    "  --rounds N         leader: stop after transaction N; every node prints ev=done when it\n"
    "                     has the result of tx N (default 0: go on until stopped)\n"
    "  --keepalive S      MQTT keep-alive in seconds, 1..600 (default 5)\n"
    "  --cafile FILE      connect with TLS, trusting the CA in FILE (needs make TLS=1)\n"
    "  --user NAME        log in to the broker as NAME (its password_file and ACL)\n"
    "  --password-file F  the password: the first line of F (not on the command line,\n"
    "                     where every local user could read it in ps)\n"
    "  --cheat KIND       misbehave on purpose, for the grader: 'invalid' sends random\n"
    "                     nonces, 'stale' re-sends old proofs; such a node must never win\n"
    "  --vote V           vote V (0..4294967295) instead of a random vote (for tests)\n"
    "  --key FILE         sign every message with this group key and drop any without\n"
    "                     a good tag (ev=bad why=bad-mac) or seen before (why=replay);\n"
    "                     every node needs the same file, at least 16 bytes:\n"
    "                     head -c 32 /dev/urandom > group.key (default: off)\n"
    "  --help             print this help and exit\n"
    "Event lines go to stdout; SIGINT or SIGTERM prints ev=stats and exits 0.\n";

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pownode: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fputs(usage, stderr);
    exit(2);
}

/* A whole decimal number in [lo, hi], or die with the flag's name. */
static unsigned long long number(const char *flag, const char *s, unsigned long long lo,
                                 unsigned long long hi)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v < lo || v > hi)
        die_usage("%s: '%s' is not a number in %llu..%llu", flag, s, lo, hi);
    return v;
}

/* The first line of path, without its newline: 1..cap-1 bytes, or die. */
static void read_password(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die_usage("--password-file: %s: %s", path, strerror(errno));
    bool ok = fgets(out, (int)cap, f) != NULL;
    fclose(f);
    out[ok ? strcspn(out, "\r\n") : 0] = '\0';
    if (!out[0] || strlen(out) >= cap - 1)
        die_usage("--password-file: %s: the first line must hold a password of 1..%zu bytes",
                  path, cap - 2);
}

/* The key is read at start-up: a missing or short file stops us before we connect. */
static void set_key(const char *path, struct node_cfg *c)
{
    char err[512];
    if (auth_load_key(path, &c->key, err, sizeof err) != 0)
        die_usage("%s", err);
    c->keyed = true;
}

static void parse(int argc, char **argv, struct node_cfg *c)
{
    bool have_id = false, have_seed = false;
    *c = (struct node_cfg){.broker = "127.0.0.1",
                           .port = 1883,
                           .participants = 3,
                           .threads = 1,
                           .difficulty = 16,
                           .init_timeout_ms = 5000,
                           .pause_ms = 1000,
                           .keepalive = 5};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help")) {
            fputs(usage, stdout);
            exit(0);
        }
        if (i + 1 >= argc)
            die_usage("%s: missing value (or unknown option)", a);
        const char *v = argv[++i];
        if (!strcmp(a, "--id"))
            c->id = (uint32_t)number(a, v, 0, MSG_MAX_NODE), have_id = true;
        else if (!strcmp(a, "--broker"))
            c->broker = v;
        else if (!strcmp(a, "--port"))
            c->port = (int)number(a, v, 1, 65535);
        else if (!strcmp(a, "--participants"))
            c->participants = (int)number(a, v, 1, 64);
        else if (!strcmp(a, "--threads"))
            c->threads = (int)number(a, v, 1, 64);
        else if (!strcmp(a, "--difficulty"))
            c->difficulty = (unsigned)number(a, v, 1, MSG_MAX_DIFFICULTY);
        else if (!strcmp(a, "--seed"))
            c->seed = number(a, v, 0, UINT64_MAX), have_seed = true;
        else if (!strcmp(a, "--init-timeout"))
            c->init_timeout_ms = (int)number(a, v, 1, 3600000);
        else if (!strcmp(a, "--pause"))
            c->pause_ms = (int)number(a, v, 0, 3600000);
        else if (!strcmp(a, "--rounds"))
            c->rounds = number(a, v, 0, UINT32_MAX);
        else if (!strcmp(a, "--keepalive"))
            c->keepalive = (int)number(a, v, 1, 600);
        else if (!strcmp(a, "--cafile"))
            c->cafile = v;
        else if (!strcmp(a, "--user"))
            c->user = v;
        else if (!strcmp(a, "--password-file"))
            read_password(v, c->password, sizeof c->password);
        else if (!strcmp(a, "--key"))
            set_key(v, c);
        else if (!strcmp(a, "--vote"))
            c->vote = number(a, v, 0, UINT32_MAX), c->fixed_vote = true;
        else if (!strcmp(a, "--cheat")) {
            if (!strcmp(v, "invalid"))
                c->cheat = CHEAT_INVALID;
            else if (!strcmp(v, "stale"))
                c->cheat = CHEAT_STALE;
            else
                die_usage("--cheat: '%s' is neither 'invalid' nor 'stale'", v);
        } else
            die_usage("unknown option %s", a);
    }
    if (!have_id)
        die_usage("--id is required");
    if (c->password[0] && !c->user)
        die_usage("--password-file needs --user (MQTT 3.1.2.9: no password without a name)");
    if (c->cafile && !net_tls_built())
        die_usage("--cafile: this pownode was built without TLS; build it with make TLS=1");
    if (!have_seed)
        c->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
}

/* ---- signals: a flag and a byte down a pipe, nothing else in the handler ---- */

static volatile int stop;
static int wake[2] = {-1, -1};

static void on_signal(int sig)
{
    (void)sig;
    int saved = errno;
    stop = 1;
    if (write(wake[1], "s", 1) < 0) { /* full pipe: the loop wakes anyway */
    }
    errno = saved;
}

static void signals(void)
{
    if (pipe(wake) < 0) {
        fprintf(stderr, "pownode: pipe: %s\n", strerror(errno));
        exit(1);
    }
    fcntl(wake[1], F_SETFL, O_NONBLOCK);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
    struct node_cfg cfg;
    parse(argc, argv, &cfg);
    evlog_init((int)cfg.id);
    signals();
    int rc = node_run(&cfg, &stop, wake[0]);
    close(wake[0]);
    close(wake[1]);
    return rc;
}
