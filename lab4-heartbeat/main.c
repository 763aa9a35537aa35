/* main.c - wiring: pick the role (peer, monitor, worker), read its flags, set up signals, run. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evlog.h"
#include "peer.h"
#include "q4.h"

#define MAX_MS 3600000 /* an hour: anything longer is surely a typo */

static const char usage[] =
    "usage: heartbeat peer    --port P [--peer H:P[,H:P...]]... [--interval T] [--timeout T]\n"
    "                         [--load-threshold X] [--load X] [--line-timeout T] [--host A]\n"
    "                         [--id N] [--quiet] [--stall T]\n"
    "       heartbeat monitor --port P [--timeout T] [--order-every T] [--forget T] [--id N]\n"
    "       heartbeat worker  --id N --monitor H:P [--interval T] [--port P]\n"
    "       heartbeat --help\n"
    "peer: 004's P2P node. Every --interval it sends {\"TASK\": \"HEARTBEAT\"} over TCP to every\n"
    "  --peer and answers such requests with ALIVE, its SERVER_ID and its LOAD; a peer silent\n"
    "  for more than --timeout is TIMEOUT, and ALIVE again when it answers.\n"
    "  --peer H:P        a peer's IPv4 address; repeatable, or a comma-separated list; our own\n"
    "                    address in the list is skipped (so every node can get the same list)\n"
    "  --interval T      time between requests (default 1000 ms)\n"
    "  --timeout T       silence after which a peer is TIMEOUT (default 3000 ms)\n"
    "  --load-threshold X  flag peers whose LOAD is above X (sprint 2; default 0: off)\n"
    "  --load X          report this LOAD instead of the load average per CPU\n"
    "  --line-timeout T  a request line must be complete within T (default 2000 ms)\n"
    "  --host A          the address to listen on (default 127.0.0.1; 0.0.0.0 for all)\n"
    "  --quiet           print the human registry only when asked (stdin or SIGUSR1)\n"
    "  --stall T         once, 1 s after start, sleep T in the middle of a turn of the loop,\n"
    "                    as a SIGSTOP there would: the node must not suspect its peers for it\n"
    "  stdin commands: `registry` (or an empty line) prints the registry; `load X` sets LOAD.\n"
    "monitor: Q4's monitor. Receives the workers' UDP beats on --port; a worker silent for\n"
    "  more than --timeout has failed; every --order-every (default 0: never) a purchase order\n"
    "  goes to the lowest alive worker id. A worker id belongs to the address of its first\n"
    "  beat; a failed worker silent for --forget (default max(30 s, 10 x timeout)) is removed.\n"
    "worker: Q4's worker. Sends a UDP beat to --monitor (a list: its first entry) every\n"
    "  --interval (default 1000 ms).\n"
    "Times T are milliseconds: 250, 250ms, 2s or 0.5s. --id N (default 0) is node= in the event\n"
    "lines on stdout; the human registry goes to stderr. SIGINT/SIGTERM print ev=stats and\n"
    "exit 0; SIGUSR1 prints the registry.\n";

static void complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void complain(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("heartbeat: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- values ----------------------------------------------------------------- */

static bool to_long(const char *s, long min, long max, long *out)
{
    char *end;
    if (!isdigit((unsigned char)s[0]))
        return false;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || errno || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* "250", "250ms", "2s", "0.5s" -> milliseconds in [1, MAX_MS]. */
static bool to_ms(const char *s, int *out)
{
    char *end;
    if (!isdigit((unsigned char)s[0]))
        return false;
    double v = strtod(s, &end);
    if (strcmp(end, "s") == 0)
        v *= 1000;
    else if (*end && strcmp(end, "ms") != 0)
        return false;
    if (!(v >= 1 && v <= MAX_MS))
        return false;
    *out = (int)v;
    return true;
}

static bool to_double(const char *s, double min, double max, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= min && v <= max))
        return false;
    *out = v;
    return true;
}

/* "127.0.0.1:7001" (len bytes): numeric IPv4 only, so a peer is known by one address. */
static bool to_hostport(const char *s, size_t len, struct sockaddr_in *out)
{
    char buf[40];
    if (len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *colon = strrchr(buf, ':');
    long port;
    if (!colon)
        return false;
    *colon = '\0';
    memset(out, 0, sizeof *out);
    out->sin_family = AF_INET;
    if (!to_long(colon + 1, 1, 65535, &port) || inet_pton(AF_INET, buf, &out->sin_addr) != 1)
        return false;
    out->sin_port = htons((uint16_t)port);
    return true;
}

/* ---- the command line ------------------------------------------------------- */

struct args {
    const char *role;
    struct peer_config peer;
    struct q4_config q4;
    const char *peer_lists[PEER_MAX_PEERS]; /* --peer values, resolved after --port is known */
    int nlists;
    bool have_port, have_monitor, have_id;
};

static bool bad_value(const char *flag, const char *v, const char *what)
{
    complain("%s: expected %s, got '%s'", flag, what, v);
    return false;
}

/* One flag with its value v; false after a complaint. */
static bool set_flag(struct args *a, const char *f, const char *v)
{
    long l;
    int ms;
    if (!strcmp(f, "--id")) {
        if (!to_long(v, 0, 1000000, &l))
            return bad_value(f, v, "a whole number 0..1000000");
        a->peer.id = a->q4.id = (int)l, a->have_id = true;
    } else if (!strcmp(f, "--port")) {
        if (!to_long(v, 1, 65535, &l))
            return bad_value(f, v, "a port 1..65535");
        a->peer.listen.sin_port = a->q4.bind.sin_port = htons((uint16_t)l);
        a->have_port = a->q4.have_bind = true;
    } else if (!strcmp(f, "--host")) {
        if (inet_pton(AF_INET, v, &a->peer.listen.sin_addr) != 1)
            return bad_value(f, v, "a numeric IPv4 address");
        a->q4.bind.sin_addr = a->peer.listen.sin_addr;
    } else if (!strcmp(f, "--peer") || !strcmp(f, "--peers")) {
        if (a->nlists == PEER_MAX_PEERS)
            return bad_value(f, v, "fewer --peer flags");
        a->peer_lists[a->nlists++] = v;
    } else if (!strcmp(f, "--monitor")) {
        if (!to_hostport(v, strcspn(v, ","), &a->q4.monitor))
            return bad_value(f, v, "IPv4:port, e.g. 127.0.0.1:5000");
        a->have_monitor = true;
    } else if (!strcmp(f, "--interval") || !strcmp(f, "--timeout") ||
               !strcmp(f, "--line-timeout") || !strcmp(f, "--order-every") ||
               !strcmp(f, "--stall") || !strcmp(f, "--forget")) {
        if (!to_ms(v, &ms))
            return bad_value(f, v, "a time such as 250, 250ms or 2s (1 ms .. 1 h)");
        if (!strcmp(f, "--interval"))
            a->peer.interval_ms = a->q4.interval_ms = ms;
        else if (!strcmp(f, "--timeout"))
            a->peer.timeout_ms = a->q4.timeout_ms = ms;
        else if (!strcmp(f, "--line-timeout"))
            a->peer.line_timeout_ms = ms;
        else if (!strcmp(f, "--stall"))
            a->peer.stall_ms = ms;
        else if (!strcmp(f, "--forget"))
            a->q4.forget_ms = ms;
        else
            a->q4.order_ms = ms;
    } else if (!strcmp(f, "--load-threshold") || !strcmp(f, "--load")) {
        double d;
        if (!to_double(v, 0, 1e6, &d))
            return bad_value(f, v, "a number >= 0");
        *(!strcmp(f, "--load") ? &a->peer.load : &a->peer.load_threshold) = d;
    } else {
        complain("unknown argument '%s'", f);
        return false;
    }
    return true;
}

/* Add every address of one --peer value, skipping our own. */
static bool add_peers(struct peer_config *c, const char *list)
{
    for (const char *s = list;; s++) {
        size_t len = strcspn(s, ",");
        struct sockaddr_in a;
        if (!to_hostport(s, len, &a))
            return bad_value("--peer", list, "IPv4:port[,IPv4:port...]");
        bool self =
            a.sin_port == c->listen.sin_port && (a.sin_addr.s_addr == c->listen.sin_addr.s_addr ||
                                                 c->listen.sin_addr.s_addr == htonl(INADDR_ANY));
        bool dup = false;
        for (int i = 0; i < c->npeers; i++)
            dup |= c->paddr[i].sin_port == a.sin_port &&
                   c->paddr[i].sin_addr.s_addr == a.sin_addr.s_addr;
        if (!self && !dup) {
            if (c->npeers == PEER_MAX_PEERS)
                return bad_value("--peer", list, "at most 128 peers");
            c->paddr[c->npeers] = a;
            snprintf(c->pname[c->npeers], sizeof c->pname[0], "%.*s", (int)len, s);
            c->npeers++;
        }
        s += len;
        if (*s == '\0')
            return true;
    }
}

static void defaults(struct args *a)
{
    memset(a, 0, sizeof *a);
    a->peer.listen.sin_family = a->q4.bind.sin_family = AF_INET;
    a->peer.listen.sin_addr.s_addr = a->q4.bind.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->peer.interval_ms = a->q4.interval_ms = 1000;
    a->peer.timeout_ms = a->q4.timeout_ms = 3000;
    a->peer.line_timeout_ms = 2000;
    a->peer.load = -1;
}

/* Checks that need every flag; false after a complaint. */
static bool finish(struct args *a)
{
    bool peer = !strcmp(a->role, "peer"), mon = !strcmp(a->role, "monitor");
    if (!peer && !mon && strcmp(a->role, "worker") != 0) {
        complain("unknown role '%s': peer, monitor or worker", a->role);
        return false;
    }
    if ((peer || mon) && !a->have_port) {
        complain("%s needs --port", a->role);
        return false;
    }
    if (!peer && !mon && (!a->have_monitor || !a->have_id)) {
        complain("worker needs --id and --monitor");
        return false;
    }
    if (mon && a->q4.forget_ms == 0) /* long enough that a restart is recognised, not rejoined */
        a->q4.forget_ms = a->q4.timeout_ms > 3000 ? 10 * a->q4.timeout_ms : 30000;
    if (mon && a->q4.forget_ms <= a->q4.timeout_ms) {
        complain("--forget %d must be longer than --timeout %d", a->q4.forget_ms, a->q4.timeout_ms);
        return false;
    }
    for (int i = 0; peer && i < a->nlists; i++)
        if (!add_peers(&a->peer, a->peer_lists[i]))
            return false;
    if (peer && a->peer.timeout_ms < a->peer.interval_ms)
        complain("warning: --timeout %d < --interval %d: every peer will flap", a->peer.timeout_ms,
                 a->peer.interval_ms);
    return true;
}

enum parsed { P_OK, P_HELP, P_ERROR };

static enum parsed parse(int argc, char **argv, struct args *a)
{
    defaults(a);
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return P_HELP;
    if (argc < 2) {
        complain("which role: peer, monitor or worker?");
        return P_ERROR;
    }
    a->role = argv[1];
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--quiet"))
            continue; /* read by main() */
        if (i + 1 == argc) {
            complain("%s needs a value", argv[i]);
            return P_ERROR;
        }
        if (!set_flag(a, argv[i], argv[i + 1]))
            return P_ERROR;
        i++;
    }
    return finish(a) ? P_OK : P_ERROR;
}

/* ---- signals: the self-pipe -------------------------------------------------- */

static int wake_pipe[2] = {-1, -1};

/* Async-signal-safe: one write() of 'u' (SIGUSR1) or 't' (stop), errno kept. */
static void on_signal(int sig)
{
    int saved = errno;
    char c = sig == SIGUSR1 ? 'u' : 't';
    if (write(wake_pipe[1], &c, 1) < 0) {
        /* a full pipe already holds a wake-up */
    }
    errno = saved;
}

static int setup_signals(void)
{
    struct sigaction sa;
    if (pipe(wake_pipe) != 0 || fcntl(wake_pipe[1], F_SETFL, O_NONBLOCK) != 0) {
        complain("pipe: %s", strerror(errno));
        exit(1);
    }
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_signal;
    if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ||
        sigaction(SIGUSR1, &sa, NULL)) {
        complain("sigaction: %s", strerror(errno));
        exit(1);
    }
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL); /* a closed socket or stdout: an error, not a death */
    return wake_pipe[0];
}

int main(int argc, char **argv)
{
    static struct args a; /* large: the peer table */
    switch (parse(argc, argv, &a)) {
    case P_HELP: return fputs(usage, stdout) == EOF || fflush(stdout) == EOF ? 1 : 0;
    case P_ERROR: fputs(usage, stderr); return 2;
    case P_OK: break;
    }
    for (int i = 2; i < argc; i++)
        a.peer.quiet |= !strcmp(argv[i], "--quiet");
    evlog_init(a.role[0] == 'p' ? a.peer.id : a.q4.id);
    int wake = setup_signals();
    int rc = !strcmp(a.role, "peer")      ? peer_main(&a.peer, wake)
             : !strcmp(a.role, "monitor") ? q4_monitor_main(&a.q4, wake)
                                          : q4_worker_main(&a.q4, wake);
    return rc == 0 ? 0 : 1;
}
