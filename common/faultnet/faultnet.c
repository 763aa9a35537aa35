/* faultnet.c - LD_PRELOAD library that injects UDP loss, duplication, delay, reordering and partitions on 127.0.0.1. */

/*
 * How it fits together (README.md has the user's view):
 *
 *   node thread --sendto/send/sendmsg--> udp_out() --decide_locked()--> drop | send now | queue
 *   node thread --connect--------------> refuse if partitioned, else remember (fd -> peer node)
 *   node thread --close----------------> purge the fd's queued datagrams, forget the fd
 *   worker thread: ppoll(inotify fd, wake fd, time to the next due datagram)
 *                  -> sends due datagrams, reloads the control file, cuts partitioned TCP connections
 *
 * All mutable state lives in `fn` behind one mutex, fn.lock (same pattern as the labs'
 * thread-per-connection layer). The real libc functions are found with dlsym(RTLD_NEXT), so
 * under ASan/TSan/valgrind the "real" function is the sanitizer's interceptor, which is what
 * we want: the node's own build still sees every byte we pass on.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dlsym(RTLD_NEXT), ppoll */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h> /* isfinite: a macro, no -lm */
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum {
    FN_MAX_NODES = 1024,      /* node ids are 0..1023 (the contract) */
    FN_MAX_PORTS = 1024,      /* port lines kept; more are reported and ignored */
    FN_MAX_CONF = 64 * 1024,  /* bytes of the control file read; a kit's file is a few lines */
    FN_MAX_TOKENS = FN_MAX_NODES + 8,
    FN_MAX_QUEUE = 100000,    /* delayed datagrams held at once; beyond that they go out undelayed */
    FN_MAX_WARNED = 256,      /* distinct bad lines remembered, so each is reported once */
    FN_NO_INOTIFY_MS = 100,   /* fallback re-check period when inotify is unavailable */
};

/* Where an outgoing datagram's destination falls (dest_node_locked). Node ids are >= 0. */
enum { FN_OUT = -1, FN_MCAST = -2 };

/* What happens to one outgoing datagram (decide_locked). */
enum { FN_PASS, FN_GONE, FN_NOW, FN_LATER };

/* fn_mode: INERT until the constructor has set everything up; STOPPED once the destructor runs. */
enum { FN_INERT, FN_ACTIVE, FN_STOPPED };

/* glibc declares connect/sendto with a transparent union when _GNU_SOURCE is on; our definitions
 * must match its prototypes, so we take the union and read the plain pointer out of it. */
#define FN_SA(arg) ((arg).__sockaddr__)

/* ---------------------------------------------------------------- real functions */

typedef ssize_t (*sendto_fn)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
typedef ssize_t (*send_fn)(int, const void *, size_t, int);
typedef ssize_t (*sendmsg_fn)(int, const struct msghdr *, int);
typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);
typedef int (*close_fn)(int);

/* Written once under pthread_once, read-only afterwards. */
static struct {
    sendto_fn sendto;
    send_fn send;
    sendmsg_fn sendmsg;
    connect_fn connect;
    close_fn close;
} real;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

/* Fallbacks if dlsym ever fails: a raw system call still beats crashing the host process. */
static ssize_t sys_sendto(int fd, const void *b, size_t n, int fl, const struct sockaddr *a, socklen_t al)
{
    return syscall(SYS_sendto, fd, b, n, fl, a, al);
}
static ssize_t sys_send(int fd, const void *b, size_t n, int fl) { return sys_sendto(fd, b, n, fl, NULL, 0); }
static ssize_t sys_sendmsg(int fd, const struct msghdr *m, int fl) { return syscall(SYS_sendmsg, fd, m, fl); }
static int sys_connect(int fd, const struct sockaddr *a, socklen_t al) { return (int)syscall(SYS_connect, fd, a, al); }
static int sys_close(int fd) { return (int)syscall(SYS_close, fd); }

static void *next_sym(const char *name, void *fallback)
{
    void *p = dlsym(RTLD_NEXT, name);
    return p ? p : fallback;
}

static void resolve_real(void)
{
    real.sendto = (sendto_fn)next_sym("sendto", (void *)sys_sendto);
    real.send = (send_fn)next_sym("send", (void *)sys_send);
    real.sendmsg = (sendmsg_fn)next_sym("sendmsg", (void *)sys_sendmsg);
    real.connect = (connect_fn)next_sym("connect", (void *)sys_connect);
    real.close = (close_fn)next_sym("close", (void *)sys_close);
}

static void need_real(void) { (void)pthread_once(&real_once, resolve_real); }

/* ---------------------------------------------------------------- state */

/* The parsed control file. Absent directive = zero = no fault. */
struct fn_conf {
    uint64_t seed;
    double drop, dup;
    double delay_lo_ms, delay_hi_ms;
    double reorder_p, reorder_ms;
    int nports;
    struct { uint16_t port; int16_t node; } ports[FN_MAX_PORTS];
    int16_t group[FN_MAX_NODES]; /* partition group of each node, -1 = in no group */
};

/* Identity of the control file as last seen, to notice a rewrite with one stat(). */
struct fn_id {
    int exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtim, ctim;
};

/* One delayed datagram: data then control bytes follow the struct. */
struct fn_pkt {
    uint64_t due_ns, seq; /* heap key: due time, then send order */
    int fd, flags, copies;
    socklen_t namelen;
    struct sockaddr_storage name;
    size_t len, ctllen;
    unsigned char bytes[];
};

/* A TCP connection this node opened to a node of the port table. */
struct fn_conn {
    int fd, peer, cut;
    struct sockaddr_in addr;
};

struct fn_stats {
    uint64_t udp_sent, dropped, duplicated, delayed, partitioned, tcp_refused, tcp_cut;
};

static atomic_int fn_mode = FN_INERT;

/* Set while this thread holds fn.lock: a signal handler that calls close()/sendto() on the same
 * thread then passes straight through instead of deadlocking on the non-recursive mutex. */
static _Thread_local int fn_in_lib;

static struct {
    pthread_mutex_t lock;
    /* Set in the constructor before the worker exists, read-only afterwards. */
    int node;
    char path[PATH_MAX], dir[PATH_MAX], base[NAME_MAX + 1], stats_path[PATH_MAX];
    int ifd, wakefd; /* inotify fd (-1 if unavailable), eventfd that wakes the worker */
    pthread_t worker;
    int worker_started;
    /* Everything below: guarded by lock. */
    int stopping;
    struct fn_conf conf, scratch;
    struct fn_id conf_id;
    int conf_readable; /* last read worked (or none tried yet): report a failure once */
    uint64_t rng;
    int seeded;
    struct fn_pkt **heap;
    size_t nheap, capheap;
    uint64_t next_seq;
    struct fn_conn *conns;
    size_t nconns, capconns;
    struct fn_stats st;
    uint32_t warned[FN_MAX_WARNED];
    int nwarned;
    char text[FN_MAX_CONF + 1];
    char *tok[FN_MAX_TOKENS];
} fn = { .lock = PTHREAD_MUTEX_INITIALIZER, .node = -1, .ifd = -1, .wakefd = -1, .conf_readable = 1 };

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A default mutex fails only on misuse (EINVAL, EPERM); we report it rather than kill the node. */
static void fn_lock(void)
{
    fn_in_lib = 1;
    int e = pthread_mutex_lock(&fn.lock);
    if (e != 0)
        say("pthread_mutex_lock: %s", strerror(e));
}

static void fn_unlock(void)
{
    int e = pthread_mutex_unlock(&fn.lock);
    if (e != 0)
        say("pthread_mutex_unlock: %s", strerror(e));
    fn_in_lib = 0;
}

/* ---------------------------------------------------------------- small helpers */

static uint64_t mono_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One stderr line per call, written with one write(2) so it never interleaves with the node's. */
static void say(const char *fmt, ...)
{
    char line[512];
    int n = snprintf(line, sizeof line, "faultnet: ");
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2; /* truncated: still end the line */
    line[len++] = '\n';
    ssize_t w = write(2, line, len);
    (void)w; /* stderr gone: nothing better to do with a diagnostic */
}

/* splitmix64 (Steele, Lea, Flood 2014): tiny, explicit, good enough for fault draws. */
static uint64_t rng_next_locked(void)
{
    uint64_t z = (fn.rng += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1): the top 53 bits, so p = 1.0 always fires and p = 0 never does. */
static double rng_unit_locked(void) { return (double)(rng_next_locked() >> 11) * 0x1.0p-53; }

static void rng_seed_locked(uint64_t seed)
{
    /* Mix the node id in so that nodes sharing one control file draw different streams. */
    fn.rng = seed ^ ((uint64_t)(fn.node + 1) * 0xD1B54A32D192ED03u);
    (void)rng_next_locked();
    fn.seeded = 1;
}

/* FNV-1a, to remember which bad lines were already reported. */
static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

/* Report a bad control-file line once per process, however often the file is reloaded. */
static void warn_line_locked(int lineno, const char *why, const char *line)
{
    uint32_t h = hash_str(line) ^ hash_str(why);
    for (int i = 0; i < fn.nwarned; i++)
        if (fn.warned[i] == h)
            return;
    if (fn.nwarned < FN_MAX_WARNED)
        fn.warned[fn.nwarned++] = h;
    say("%s:%d: %s, line ignored: %.200s", fn.path, lineno, why, line);
}

/* ---------------------------------------------------------------- control file: parsing */

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* strtod follows LC_NUMERIC; nodes of the kit never call setlocale, so '.' is the separator. */
static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int dir_seed(struct fn_conf *c, char **a, int n)
{
    char *end;
    if (n != 1 || a[0][0] == '-')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(a[0], &end, 10);
    if (errno != 0 || end == a[0] || *end != '\0')
        return -1;
    c->seed = v;
    return 0;
}

static int dir_port(struct fn_conf *c, char **a, int n)
{
    long port, node;
    if (n != 2 || parse_long(a[0], 1, 65535, &port) || parse_long(a[1], 0, FN_MAX_NODES - 1, &node))
        return -1;
    for (int i = 0; i < c->nports; i++)
        if (c->ports[i].port == port) { /* a port listed twice: the later line wins */
            c->ports[i].node = (int16_t)node;
            return 0;
        }
    if (c->nports == FN_MAX_PORTS)
        return -1;
    c->ports[c->nports].port = (uint16_t)port;
    c->ports[c->nports++].node = (int16_t)node;
    return 0;
}

static int dir_drop(struct fn_conf *c, char **a, int n)
{
    return n == 1 ? parse_double(a[0], 0, 1, &c->drop) : -1;
}

static int dir_dup(struct fn_conf *c, char **a, int n)
{
    return n == 1 ? parse_double(a[0], 0, 1, &c->dup) : -1;
}

static int dir_delay(struct fn_conf *c, char **a, int n)
{
    double lo, hi;
    if (n != 2 || parse_double(a[0], 0, 60000, &lo) || parse_double(a[1], lo, 60000, &hi))
        return -1;
    c->delay_lo_ms = lo;
    c->delay_hi_ms = hi;
    return 0;
}

static int dir_reorder(struct fn_conf *c, char **a, int n)
{
    double p, ms;
    if (n != 2 || parse_double(a[0], 0, 1, &p) || parse_double(a[1], 0, 60000, &ms))
        return -1;
    c->reorder_p = p;
    c->reorder_ms = ms;
    return 0;
}

/* One group token "0,1,5": every element a node id, no node in two groups. */
static int parse_group(int16_t *group, char *tok, int g)
{
    char *save = NULL;
    if (tok[0] == ',' || tok[strlen(tok) - 1] == ',' || strstr(tok, ",,"))
        return -1;
    for (char *s = strtok_r(tok, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        long node;
        if (parse_long(s, 0, FN_MAX_NODES - 1, &node) || group[node] != -1)
            return -1;
        group[node] = (int16_t)g;
    }
    return 0;
}

static int dir_partition(struct fn_conf *c, char **a, int n)
{
    int16_t group[FN_MAX_NODES];
    memset(group, 0xff, sizeof group); /* all -1: in no group */
    for (int g = 0; g < n; g++)
        if (parse_group(group, a[g], g) != 0)
            return -1; /* a bad partition line is ignored whole: no half-applied partition */
    memcpy(c->group, group, sizeof group);
    return 0;
}

static const struct {
    const char *name;
    int (*parse)(struct fn_conf *, char **, int);
} directives[] = {
    { "seed", dir_seed },   { "port", dir_port },       { "drop", dir_drop },
    { "dup", dir_dup },     { "delay", dir_delay },     { "reorder", dir_reorder },
    { "partition", dir_partition },
};

/* Split a line in place on blanks; returns the token count, or -1 if there are too many. */
static int tokenize_locked(char *line)
{
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
        if (n == FN_MAX_TOKENS)
            return -1;
        fn.tok[n++] = t;
    }
    return n;
}

static void parse_line_locked(struct fn_conf *c, char *line, int lineno)
{
    char copy[256];
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    /* Kept for the message, since tokenizing cuts the line up; a longer line is shown cut short. */
    (void)snprintf(copy, sizeof copy, "%.*s", (int)sizeof copy - 1, line);
    int n = tokenize_locked(line);
    if (n == 0)
        return;
    if (n < 0) {
        warn_line_locked(lineno, "too many words", copy);
        return;
    }
    for (size_t i = 0; i < sizeof directives / sizeof directives[0]; i++)
        if (strcmp(fn.tok[0], directives[i].name) == 0) {
            if (directives[i].parse(c, fn.tok + 1, n - 1) != 0)
                warn_line_locked(lineno, "malformed", copy);
            return;
        }
    warn_line_locked(lineno, "unknown directive", copy);
}

/* Parse fn.text (NUL-terminated) into c; bad lines are reported and skipped. */
static void parse_text_locked(struct fn_conf *c)
{
    memset(c, 0, sizeof *c);
    memset(c->group, 0xff, sizeof c->group);
    int lineno = 0;
    char *p = fn.text;
    /* strtok_r would merge blank lines and break line numbers, so split by hand. */
    while (p) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        parse_line_locked(c, p, lineno);
        p = nl ? nl + 1 : NULL;
    }
}

/* ---------------------------------------------------------------- control file: loading */

static void id_from_stat(struct fn_id *id, const struct stat *st)
{
    memset(id, 0, sizeof *id);
    id->exists = 1;
    id->dev = st->st_dev;
    id->ino = st->st_ino;
    id->size = st->st_size;
    id->mtim = st->st_mtim;
    id->ctim = st->st_ctim;
}

/* Called without the lock: one stat() tells whether the file changed since it was loaded. */
static void conf_stat(struct fn_id *id)
{
    struct stat st;
    if (stat(fn.path, &st) == 0)
        id_from_stat(id, &st);
    else
        memset(id, 0, sizeof *id);
}

static int id_equal(const struct fn_id *a, const struct fn_id *b)
{
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtim.tv_sec == b->mtim.tv_sec && a->mtim.tv_nsec == b->mtim.tv_nsec &&
           a->ctim.tv_sec == b->ctim.tv_sec && a->ctim.tv_nsec == b->ctim.tv_nsec;
}

/* Read up to cap bytes; a longer file is cut there (its last line may then be reported). */
static int read_upto(int fd, char *buf, size_t cap, size_t *out)
{
    size_t len = 0;
    while (len < cap) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        len += (size_t)n;
    }
    *out = len;
    return 0;
}

/* Read the whole file into fn.text; the file's identity comes from the open fd, so it is
 * exactly the version we read even if a rename lands meanwhile. */
static int read_conf_locked(struct fn_id *id)
{
    int fd = open(fn.path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    size_t len = 0;
    int ok = fstat(fd, &st) == 0 && read_upto(fd, fn.text, FN_MAX_CONF, &len) == 0;
    int e = errno;
    (void)real.close(fd); /* the real one: our close() wrapper would take fn.lock again */
    if (!ok) {
        errno = e;
        return -1;
    }
    fn.text[len] = '\0';
    id_from_stat(id, &st);
    return 0;
}

static void cut_separated_locked(void);

static void apply_conf_locked(const struct fn_conf *c)
{
    /* Re-seed only when the seed changes, so an unrelated edit does not replay the same draws. */
    if (!fn.seeded || c->seed != fn.conf.seed)
        rng_seed_locked(c->seed);
    fn.conf = *c;
    cut_separated_locked();
}

/* (Re)load the control file. `seen` is what stat() said just before; on failure we remember it,
 * so an unreadable file is reported once and retried only when it changes again. */
static void reload_locked(const struct fn_id *seen)
{
    struct fn_id id;
    if (read_conf_locked(&id) != 0) {
        if (fn.conf_readable)
            say("cannot read %s (%s); keeping the previous configuration", fn.path, strerror(errno));
        fn.conf_readable = 0;
        fn.conf_id = *seen;
        return;
    }
    parse_text_locked(&fn.scratch);
    apply_conf_locked(&fn.scratch);
    fn.conf_id = id;
    fn.conf_readable = 1;
}

static void reload_if_changed_locked(const struct fn_id *seen)
{
    if (!id_equal(seen, &fn.conf_id))
        reload_locked(seen);
}

/* ---------------------------------------------------------------- partitions and ports */

static int separated_locked(int peer)
{
    if (fn.node < 0 || peer < 0)
        return 0;
    int a = fn.conf.group[fn.node], b = fn.conf.group[peer];
    return a >= 0 && b >= 0 && a != b;
}

/* Destination of a datagram or connection: a node of the port table (loopback only), a
 * multicast group (faults but no partition: there is no single receiving node), or out of scope. */
static int dest_node_locked(const struct sockaddr_in *sin)
{
    uint32_t a = ntohl(sin->sin_addr.s_addr);
    if (IN_MULTICAST(a))
        return FN_MCAST;
    if ((a >> 24) != 127 && a != INADDR_ANY)
        return FN_OUT;
    uint16_t port = ntohs(sin->sin_port);
    for (int i = 0; i < fn.conf.nports; i++)
        if (fn.conf.ports[i].port == port)
            return fn.conf.ports[i].node;
    return FN_OUT;
}

/* ---------------------------------------------------------------- TCP connections */

static void conn_remember_locked(int fd, int peer, const struct sockaddr_in *addr)
{
    size_t i = 0;
    while (i < fn.nconns && fn.conns[i].fd != fd)
        i++;
    if (i == fn.nconns) {
        if (fn.nconns == fn.capconns) {
            size_t cap = fn.capconns ? 2 * fn.capconns : 16;
            struct fn_conn *p = realloc(fn.conns, cap * sizeof *p);
            if (!p) {
                say("out of memory: connection on fd %d will not be cut by partitions", fd);
                return;
            }
            fn.conns = p;
            fn.capconns = cap;
        }
        fn.nconns++;
    }
    fn.conns[i] = (struct fn_conn){ .fd = fd, .peer = peer, .cut = 0, .addr = *addr };
}

static void conn_forget_locked(int fd)
{
    for (size_t i = 0; i < fn.nconns; i++)
        if (fn.conns[i].fd == fd) {
            fn.conns[i] = fn.conns[--fn.nconns];
            return;
        }
}

/* Is fd still the socket we recorded? A socket closed behind our back (dup2 over it, fclose
 * of an fdopen'd stream) may have left its number to another connection we must not cut. */
static int conn_still_ours(const struct fn_conn *c)
{
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    if (getpeername(c->fd, (struct sockaddr *)&peer, &len) != 0)
        return errno == ENOTCONN; /* still connecting, or already dead: shutdown is harmless */
    /* connect(0.0.0.0) reaches 127.0.0.1, and getpeername then says so */
    return peer.sin_family == AF_INET && peer.sin_port == c->addr.sin_port &&
           (peer.sin_addr.s_addr == c->addr.sin_addr.s_addr || c->addr.sin_addr.s_addr == htonl(INADDR_ANY));
}

/* The connecting end cuts: shutdown() sends FIN so the peer reads EOF, and our own node
 * reads EOF / gets EPIPE. The accepting end cannot tell which node an accepted connection
 * comes from, so it relies on the connecting end being preloaded too (README "Limits"). */
static void cut_separated_locked(void)
{
    for (size_t i = 0; i < fn.nconns; i++) {
        struct fn_conn *c = &fn.conns[i];
        if (c->cut || !separated_locked(c->peer))
            continue;
        c->cut = 1;
        if (conn_still_ours(c) && shutdown(c->fd, SHUT_RDWR) == 0)
            fn.st.tcp_cut++;
    }
}

/* ---------------------------------------------------------------- delay queue (binary min-heap) */

static int pkt_before(const struct fn_pkt *a, const struct fn_pkt *b)
{
    return a->due_ns != b->due_ns ? a->due_ns < b->due_ns : a->seq < b->seq;
}

static void heap_swap(size_t i, size_t j)
{
    struct fn_pkt *t = fn.heap[i];
    fn.heap[i] = fn.heap[j];
    fn.heap[j] = t;
}

static void heap_down_locked(size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < fn.nheap && pkt_before(fn.heap[l], fn.heap[m]))
            m = l;
        if (r < fn.nheap && pkt_before(fn.heap[r], fn.heap[m]))
            m = r;
        if (m == i)
            return;
        heap_swap(i, m);
        i = m;
    }
}

static int heap_push_locked(struct fn_pkt *p)
{
    if (fn.nheap == fn.capheap) {
        size_t cap = fn.capheap ? 2 * fn.capheap : 64;
        struct fn_pkt **h = realloc(fn.heap, cap * sizeof *h);
        if (!h)
            return -1;
        fn.heap = h;
        fn.capheap = cap;
    }
    size_t i = fn.nheap++;
    fn.heap[i] = p;
    while (i > 0 && pkt_before(fn.heap[i], fn.heap[(i - 1) / 2])) {
        heap_swap(i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    return 0;
}

static struct fn_pkt *heap_pop_locked(void)
{
    struct fn_pkt *top = fn.heap[0];
    fn.heap[0] = fn.heap[--fn.nheap];
    heap_down_locked(0);
    return top;
}

/* close(fd): drop its queued datagrams so a socket that reuses the number never sends them. */
static void heap_purge_fd_locked(int fd)
{
    size_t keep = 0;
    for (size_t i = 0; i < fn.nheap; i++) {
        if (fn.heap[i]->fd == fd)
            free(fn.heap[i]);
        else
            fn.heap[keep++] = fn.heap[i];
    }
    if (keep == fn.nheap)
        return;
    fn.nheap = keep;
    for (size_t i = keep / 2; i-- > 0;)
        heap_down_locked(i);
}

/* ---------------------------------------------------------------- UDP: deciding and sending */

static size_t iov_total(const struct msghdr *m)
{
    size_t n = 0;
    for (size_t i = 0; i < (size_t)m->msg_iovlen; i++)
        n += m->msg_iov[i].iov_len;
    return n;
}

struct fn_fate {
    int copies;        /* 1, or 2 when duplicated */
    uint64_t delay_ns; /* 0 = send now */
};

/* Four draws per datagram, always, whatever the configuration: a datagram's fate then depends
 * only on (seed, node id, its index in send order), e.g. adding `dup` does not change the drops. */
static int decide_locked(int dnode, struct fn_fate *f)
{
    const struct fn_conf *c = &fn.conf;
    double u_drop = rng_unit_locked(), u_dup = rng_unit_locked();
    double u_delay = rng_unit_locked(), u_reorder = rng_unit_locked();
    fn.st.udp_sent++;
    if (separated_locked(dnode)) {
        fn.st.partitioned++;
        return FN_GONE;
    }
    if (u_drop < c->drop) {
        fn.st.dropped++;
        return FN_GONE;
    }
    f->copies = u_dup < c->dup ? 2 : 1;
    fn.st.duplicated += (uint64_t)(f->copies - 1);
    double ms = c->delay_lo_ms + u_delay * (c->delay_hi_ms - c->delay_lo_ms);
    if (u_reorder < c->reorder_p)
        ms += c->reorder_ms;
    double ns = ms * 1e6;
    f->delay_ns = (uint64_t)ns + ((double)(uint64_t)ns < ns); /* round up: never early */
    fn.st.delayed += f->delay_ns > 0;
    return f->delay_ns > 0 ? FN_LATER : FN_NOW;
}

static void wake_worker(void)
{
    uint64_t one = 1;
    ssize_t n = write(fn.wakefd, &one, sizeof one);
    (void)n; /* EAGAIN: the counter is already non-zero, so the worker wakes anyway */
}

/* Copy the datagram: gathered iovecs, then control data; the address into p->name. */
static struct fn_pkt *pkt_copy(const struct msghdr *m)
{
    size_t len = iov_total(m), ctl = m->msg_control ? m->msg_controllen : 0;
    struct fn_pkt *p = calloc(1, sizeof *p + len + ctl);
    if (!p)
        return NULL;
    p->len = len;
    p->ctllen = ctl;
    for (size_t i = 0, off = 0; i < (size_t)m->msg_iovlen; off += m->msg_iov[i++].iov_len)
        if (m->msg_iov[i].iov_len)
            memcpy(p->bytes + off, m->msg_iov[i].iov_base, m->msg_iov[i].iov_len);
    if (ctl)
        memcpy(p->bytes + len, m->msg_control, ctl);
    if (m->msg_name && m->msg_namelen <= sizeof p->name) {
        memcpy(&p->name, m->msg_name, m->msg_namelen);
        p->namelen = m->msg_namelen;
    }
    return p;
}

static int enqueue_locked(int fd, const struct msghdr *m, int flags, const struct fn_fate *f)
{
    struct fn_pkt *p = fn.nheap < FN_MAX_QUEUE ? pkt_copy(m) : NULL;
    if (!p)
        return -1;
    p->due_ns = mono_ns() + f->delay_ns;
    p->seq = fn.next_seq++;
    p->fd = fd;
    p->flags = flags | MSG_DONTWAIT;
    p->copies = f->copies;
    if (heap_push_locked(p) != 0) {
        free(p);
        return -1;
    }
    if (fn.heap[0] == p)
        wake_worker(); /* new earliest deadline: the worker may be sleeping past it */
    return 0;
}

/* Sent by the worker while holding fn.lock, so close() cannot slip between "due" and "sent"
 * and hand the fd number to a new socket. MSG_DONTWAIT keeps that short: a full socket
 * buffer drops the datagram, as the network would. */
static void send_pkt_locked(struct fn_pkt *p)
{
    struct iovec iov = { .iov_base = p->bytes, .iov_len = p->len };
    struct msghdr m = { .msg_name = p->namelen ? &p->name : NULL, .msg_namelen = p->namelen,
                        .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = p->ctllen ? p->bytes + p->len : NULL, .msg_controllen = p->ctllen };
    for (int i = 0; i < p->copies; i++)
        (void)real.sendmsg(p->fd, &m, p->flags);
}

/* Send every due datagram; return ns until the next one is due, or -1 if none is queued. */
static int64_t send_due_locked(void)
{
    uint64_t now = mono_ns();
    while (fn.nheap > 0 && fn.heap[0]->due_ns <= now) {
        struct fn_pkt *p = heap_pop_locked();
        send_pkt_locked(p);
        free(p);
    }
    return fn.nheap > 0 ? (int64_t)(fn.heap[0]->due_ns - now) : -1;
}

static int sock_type(int fd)
{
    int type = -1;
    socklen_t len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
        return -1;
    return type;
}

static int as_inet(const struct sockaddr *sa, socklen_t len, struct sockaddr_in *out)
{
    if (!sa || len < (socklen_t)sizeof *out || sa->sa_family != AF_INET)
        return -1;
    memcpy(out, sa, sizeof *out);
    return 0;
}

/* Destination of a datagram on fd: the explicit address, else the connected peer. Returns -1
 * when the datagram is out of our scope (not an AF_INET datagram socket). */
static int udp_dest(int fd, const struct sockaddr *to, socklen_t tolen, struct sockaddr_in *dst)
{
    if (sock_type(fd) != SOCK_DGRAM)
        return -1;
    if (to)
        return as_inet(to, tolen, dst);
    struct sockaddr_storage peer;
    socklen_t len = sizeof peer;
    if (getpeername(fd, (struct sockaddr *)&peer, &len) != 0)
        return -1;
    return as_inet((struct sockaddr *)&peer, len, dst);
}

static int active(void) { return atomic_load(&fn_mode) == FN_ACTIVE && !fn_in_lib; }

/* The common path of sendto/send/sendmsg for an AF_INET datagram. */
static ssize_t udp_out(int fd, const struct msghdr *m, int flags, const struct sockaddr_in *dst)
{
    struct fn_id seen;
    struct fn_fate f = { 1, 0 };
    int verdict = FN_PASS;
    conf_stat(&seen); /* a rewrite that finished before this call is always seen by it */
    fn_lock();
    if (!fn.stopping) {
        reload_if_changed_locked(&seen);
        int dnode = dest_node_locked(dst);
        if (dnode != FN_OUT)
            verdict = decide_locked(dnode, &f);
        if (verdict == FN_LATER && enqueue_locked(fd, m, flags, &f) != 0)
            verdict = FN_NOW; /* no memory or queue full: deliver rather than lose silently */
    }
    fn_unlock();
    if (verdict == FN_GONE || verdict == FN_LATER)
        return (ssize_t)iov_total(m); /* success, as a lossy network would report it */
    ssize_t r = real.sendmsg(fd, m, flags);
    int e = errno;
    if (verdict == FN_NOW && f.copies == 2)
        (void)real.sendmsg(fd, m, flags);
    errno = e;
    return r;
}

/* ---------------------------------------------------------------- interposed functions */

ssize_t sendto(int fd, const void *buf, size_t len, int flags, __CONST_SOCKADDR_ARG to, socklen_t tolen)
{
    need_real();
    struct sockaddr_in dst;
    const struct sockaddr *sa = FN_SA(to);
    if (!active() || udp_dest(fd, sa, tolen, &dst) != 0)
        return real.sendto(fd, buf, len, flags, sa, tolen);
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    struct msghdr m = { .msg_name = (void *)sa, .msg_namelen = sa ? tolen : 0, .msg_iov = &iov, .msg_iovlen = 1 };
    return udp_out(fd, &m, flags, &dst);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    need_real();
    struct sockaddr_in dst;
    if (!active() || udp_dest(fd, NULL, 0, &dst) != 0)
        return real.send(fd, buf, len, flags);
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    return udp_out(fd, &m, flags, &dst);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    need_real();
    struct sockaddr_in dst;
    if (!active() || !msg || udp_dest(fd, msg->msg_name, msg->msg_namelen, &dst) != 0)
        return real.sendmsg(fd, msg, flags);
    return udp_out(fd, msg, flags, &dst);
}

/* Should this connect be refused? Sets *peer to the destination node (or FN_OUT/FN_MCAST). */
static int connect_refused(const struct sockaddr_in *dst, int *peer)
{
    struct fn_id seen;
    int refuse = 0;
    *peer = FN_OUT;
    conf_stat(&seen);
    fn_lock();
    if (!fn.stopping) {
        reload_if_changed_locked(&seen);
        *peer = dest_node_locked(dst);
        refuse = separated_locked(*peer);
        fn.st.tcp_refused += (uint64_t)refuse;
    }
    fn_unlock();
    return refuse;
}

/* A refused connect fails at once with ECONNREFUSED, blocking or not: that is also what Linux
 * does for a closed port on loopback, so nodes already handle it. */
int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    need_real();
    const struct sockaddr *sa = FN_SA(addr);
    struct sockaddr_in dst;
    int peer;
    if (!active() || as_inet(sa, len, &dst) != 0 || sock_type(fd) != SOCK_STREAM)
        return real.connect(fd, sa, len);
    if (connect_refused(&dst, &peer)) {
        errno = ECONNREFUSED;
        return -1;
    }
    int r = real.connect(fd, sa, len);
    int e = errno;
    if (peer >= 0 && (r == 0 || e == EINPROGRESS || e == EINTR)) {
        fn_lock();
        conn_remember_locked(fd, peer, &dst);
        cut_separated_locked(); /* a partition may have landed while we were connecting */
        fn_unlock();
    }
    errno = e;
    return r;
}

int close(int fd)
{
    need_real();
    if (!active())
        return real.close(fd);
    fn_lock();
    heap_purge_fd_locked(fd);
    conn_forget_locked(fd);
    fn_unlock();
    /* The real close runs unlocked: a lingering socket may block in it. A node that sends on fd
     * from another thread while closing it races with itself, with or without us. */
    return real.close(fd);
}

/* ---------------------------------------------------------------- worker thread */

/* Does this batch of inotify events name our file? A queue overflow might have hidden it. */
static int events_name_conf(const char *buf, ssize_t n)
{
    int hit = 0;
    for (ssize_t off = 0; off < n;) {
        const struct inotify_event *ev = (const struct inotify_event *)(buf + off);
        if ((ev->mask & IN_Q_OVERFLOW) || (ev->len > 0 && strcmp(ev->name, fn.base) == 0))
            hit = 1;
        off += (ssize_t)(sizeof *ev + ev->len);
    }
    return hit;
}

static int drain_inotify(void)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    int hit = 0;
    ssize_t n;
    while ((n = read(fn.ifd, buf, sizeof buf)) > 0)
        hit |= events_name_conf(buf, n);
    return hit;
}

/* Sleep until the next due datagram, a wake-up, or a control-file event. Returns 1 if the
 * control file must be re-read. Without inotify we re-check every FN_NO_INOTIFY_MS. */
static int wait_events(int64_t wait_ns)
{
    struct pollfd p[2] = { { .fd = fn.wakefd, .events = POLLIN }, { .fd = fn.ifd, .events = POLLIN } };
    if (fn.ifd < 0 && (wait_ns < 0 || wait_ns > FN_NO_INOTIFY_MS * 1000000ll))
        wait_ns = FN_NO_INOTIFY_MS * 1000000ll;
    struct timespec ts = { .tv_sec = wait_ns / 1000000000, .tv_nsec = wait_ns % 1000000000 };
    int r = ppoll(p, fn.ifd >= 0 ? 2 : 1, wait_ns >= 0 ? &ts : NULL, NULL);
    if (r < 0)
        return 0; /* EINTR: go round again */
    if (p[0].revents & POLLIN) {
        uint64_t v;
        ssize_t n = read(fn.wakefd, &v, sizeof v);
        (void)n; /* only the wake-up matters, not the count */
    }
    if (fn.ifd < 0)
        return r == 0;
    return (p[1].revents & POLLIN) && drain_inotify();
}

static void *worker_main(void *unused)
{
    (void)unused;
    fn_lock();
    while (!fn.stopping) {
        int64_t wait_ns = send_due_locked();
        fn_unlock();
        int changed = wait_events(wait_ns);
        struct fn_id seen;
        if (changed)
            conf_stat(&seen);
        fn_lock();
        if (!changed || fn.stopping)
            continue;
        if (fn.ifd >= 0)
            reload_locked(&seen); /* even if stat() looks unchanged: an in-place edit within one timestamp tick */
        else
            reload_if_changed_locked(&seen);
    }
    fn_unlock();
    return NULL;
}

/* Start the worker with every signal blocked: it must never be the thread that receives the
 * node's SIGINT/SIGTERM (a node using sigwait() blocks them in its own threads only). */
static int start_worker(void)
{
    sigset_t all, old;
    sigfillset(&all);
    if (pthread_sigmask(SIG_SETMASK, &all, &old) != 0)
        return -1;
    int e = pthread_create(&fn.worker, NULL, worker_main, NULL);
    if (pthread_sigmask(SIG_SETMASK, &old, NULL) != 0)
        say("cannot restore the signal mask");
    if (e != 0) {
        say("cannot start the worker thread (%s); faultnet is off", strerror(e));
        return -1;
    }
    fn.worker_started = 1;
    return 0;
}

/* ---------------------------------------------------------------- start-up and shutdown */

/* Relative paths are made absolute now: the node may chdir() later. */
static int set_paths(const char *conf)
{
    char cwd[PATH_MAX];
    int n;
    if (conf[0] == '/')
        n = snprintf(fn.path, sizeof fn.path, "%s", conf);
    else if (getcwd(cwd, sizeof cwd))
        n = snprintf(fn.path, sizeof fn.path, "%s/%s", cwd, conf);
    else
        return -1;
    if (n < 0 || (size_t)n >= sizeof fn.path)
        return -1;
    const char *slash = strrchr(fn.path, '/');
    snprintf(fn.dir, sizeof fn.dir, "%.*s", slash == fn.path ? 1 : (int)(slash - fn.path), fn.path);
    n = snprintf(fn.base, sizeof fn.base, "%s", slash + 1);
    return n > 0 && (size_t)n < sizeof fn.base ? 0 : -1;
}

static void read_env(void)
{
    const char *node = getenv("FAULTNET_NODE");
    const char *stats = getenv("FAULTNET_STATS");
    long v;
    if (node && parse_long(node, 0, FN_MAX_NODES - 1, &v) == 0)
        fn.node = (int)v;
    else
        say("FAULTNET_NODE=%s is not a node id 0..%d; partitions will not apply to this process",
            node ? node : "(unset)", FN_MAX_NODES - 1);
    if (stats && snprintf(fn.stats_path, sizeof fn.stats_path, "%s", stats) >= (int)sizeof fn.stats_path)
        fn.stats_path[0] = '\0';
}

/* The inotify watch is on the directory: the grader replaces the file by rename(), which a
 * watch on the file itself would not follow. */
static void open_watch(void)
{
    fn.ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fn.ifd >= 0 && inotify_add_watch(fn.ifd, fn.dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR) < 0) {
        (void)real.close(fn.ifd);
        fn.ifd = -1;
    }
    if (fn.ifd < 0)
        say("cannot watch %s (%s); re-checking it every %d ms", fn.dir, strerror(errno), FN_NO_INOTIFY_MS);
}

static void atfork_prepare(void) { fn_lock(); }
static void atfork_parent(void) { fn_unlock(); }

/* A forked child has no worker thread, so queued delays would never be sent: it goes inert.
 * A child that exec()s starts afresh from the environment, which is the usual case. */
static void atfork_child(void)
{
    atomic_store(&fn_mode, FN_STOPPED);
    fn.worker_started = 0;
    fn_unlock();
}

__attribute__((constructor)) static void faultnet_init(void)
{
    need_real();
    const char *conf = getenv("FAULTNET_CONF");
    if (!conf || !*conf)
        return; /* inert: every call passes straight through, no thread */
    read_env();
    if (set_paths(conf) != 0) {
        say("FAULTNET_CONF path too long; faultnet is off");
        return;
    }
    fn.wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fn.wakefd < 0) {
        say("eventfd: %s; faultnet is off", strerror(errno));
        return;
    }
    open_watch();
    struct fn_id seen;
    conf_stat(&seen);
    fn_lock();
    memset(fn.conf.group, 0xff, sizeof fn.conf.group); /* in case the file cannot be read yet */
    reload_locked(&seen);
    fn_unlock();
    if (pthread_atfork(atfork_prepare, atfork_parent, atfork_child) != 0 || start_worker() != 0)
        return;
    atomic_store(&fn_mode, FN_ACTIVE);
}

static void write_stats(void)
{
    char line[512];
    const struct fn_stats *s = &fn.st;
    int n = snprintf(line, sizeof line,
                     "node=%d udp_sent=%llu dropped=%llu duplicated=%llu delayed=%llu partitioned=%llu "
                     "tcp_refused=%llu tcp_cut=%llu\n",
                     fn.node, (unsigned long long)s->udp_sent, (unsigned long long)s->dropped,
                     (unsigned long long)s->duplicated, (unsigned long long)s->delayed,
                     (unsigned long long)s->partitioned, (unsigned long long)s->tcp_refused,
                     (unsigned long long)s->tcp_cut);
    int fd = open(fn.stats_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        say("cannot open %s: %s", fn.stats_path, strerror(errno));
        return;
    }
    /* O_APPEND + one write: lines from several nodes sharing the file never interleave. */
    if (n < 0 || write(fd, line, (size_t)n) != n)
        say("cannot write %s", fn.stats_path);
    (void)real.close(fd);
}

static void free_state_locked(void)
{
    while (fn.nheap > 0)
        free(fn.heap[--fn.nheap]);
    free(fn.heap);
    free(fn.conns);
    fn.heap = NULL;
    fn.conns = NULL;
    fn.capheap = fn.capconns = fn.nconns = 0;
}

/* Clean exit: stop and join the worker, drop what is still delayed (the process is gone, so
 * are its datagrams), free everything for valgrind, then append the stats line. */
__attribute__((destructor)) static void faultnet_fini(void)
{
    if (atomic_load(&fn_mode) != FN_ACTIVE || fn_in_lib)
        return;
    fn_lock();
    atomic_store(&fn_mode, FN_STOPPED); /* other threads still running now pass straight through */
    fn.stopping = 1;
    wake_worker();
    fn_unlock();
    if (fn.worker_started && pthread_join(fn.worker, NULL) != 0)
        say("cannot join the worker thread");
    fn_lock();
    free_state_locked();
    fn_unlock();
    if (fn.ifd >= 0)
        (void)real.close(fn.ifd);
    (void)real.close(fn.wakefd);
    if (fn.stats_path[0])
        write_stats();
}
