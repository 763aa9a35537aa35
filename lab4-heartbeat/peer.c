/* peer.c - the P2P heartbeat node (004): one poll() loop, non-blocking sockets, a buffer and a
 * deadline per connection, so no peer can stall the heartbeats of the others. */
#define _DEFAULT_SOURCE /* getloadavg() */
#include "peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "evlog.h"

#define IN_WBUF 4096     /* answers waiting for a client that reads slowly */
#define ACCEPT_BATCH 64  /* connections accepted per wake-up, so accepting cannot starve beats */
#define MIN_IDLE_MS 5000 /* an incoming connection silent this long (and 4 x timeout) is closed */

enum out_state { OUT_CLOSED, OUT_CONNECTING, OUT_READY, OUT_WAITING };

/* Our connection to one peer: we send requests on it and read its answers. */
struct out_conn {
    int fd;
    enum out_state st;
    int64_t since; /* when the connect started (CONNECTING) or the request left (WAITING) */
    size_t rlen;
    char rbuf[PROTO_MAX_LINE];
};

/* A connection someone opened to us: requests in, answers out. A client may pipeline: send
 * many requests at once and read the answers as they come. We answer while there is room in
 * wbuf; when there is none, the request waits in rbuf and we stop reading the socket until the
 * client reads (backpressure), so memory stays bounded and no answer is dropped. */
struct in_conn {
    int fd;
    char addr[REG_ADDR_MAX];
    int64_t line_start; /* when the unfinished line in rbuf began; 0: none */
    int64_t last_byte;
    bool blocked;        /* a request waits for room in wbuf: not reading the socket */
    bool eof;            /* the client sent its last byte: answer what is left, then close */
    int64_t stuck_since; /* blocked or eof: when its answers last made progress */
    size_t rlen, wlen;
    char rbuf[PROTO_MAX_LINE];
    char wbuf[IN_WBUF];
};

/*
 * Everything a running node knows. One thread owns all of it: only peer_main()'s poll() loop
 * reads or writes these fields, so nothing needs a lock. Signal handlers only write a byte to
 * the self-pipe (wake_fd).
 */
struct peer {
    const struct peer_config *cfg;
    int lfd, wake_fd;
    bool stdin_open, stop, dirty; /* dirty: the registry changed, print it */
    size_t ilen;
    char ibuf[256]; /* a stdin command being read */
    char server_id[40];
    bool load_set; /* --load or the stdin command `load X` */
    double load;
    struct registry reg;
    struct out_conn out[PEER_MAX_PEERS];
    struct in_conn *in[PEER_MAX_IN];
    int nin;
    int64_t next_beat;
    uint64_t n_req_sent, n_answers, n_served, n_bad, n_timeouts, n_recoveries;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void addr_str(const struct sockaddr_in *a, char *buf, size_t cap)
{
    char host[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    snprintf(buf, cap, "%s:%u", host, (unsigned)ntohs(a->sin_port));
}

/* ---- identity and load ---------------------------------------------------- */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* A version-4 UUID, like 004's uuid4(): random, and new at every start, so peers can tell a
 * restarted node from the old one. /dev/urandom; if it cannot be read, the clock and the pid. */
static void make_uuid(struct peer *p)
{
    uint8_t b[16];
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd < 0 || read(fd, b, sizeof b) != (ssize_t)sizeof b) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t s = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 30 ^ (uint64_t)getpid() << 40;
        for (int i = 0; i < 16; i += 8) {
            uint64_t x = splitmix(&s);
            memcpy(b + i, &x, 8);
        }
    }
    if (fd >= 0)
        close(fd);
    b[6] = (uint8_t)((b[6] & 0x0F) | 0x40), b[8] = (uint8_t)((b[8] & 0x3F) | 0x80);
    snprintf(p->server_id, sizeof p->server_id,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

/* Sprint 2's load: the 1-minute load average per CPU, unless set by hand. */
static double current_load(const struct peer *p)
{
    double avg;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (p->load_set)
        return p->load;
    if (getloadavg(&avg, 1) != 1 || ncpu < 1)
        return 0;
    return avg / (double)ncpu;
}

/* ---- the registry's events -------------------------------------------------- */

static void log_status(struct peer *p, int i, const char *was)
{
    const struct reg_peer *e = &p->reg.peer[i];
    char load[40] = "";
    if (e->has_load)
        snprintf(load, sizeof load, " load=%.2f", e->load);
    evlog("ev=status peer=%s status=%s id=%s was=%s silent_ms=%" PRId64 "%s", e->addr,
          registry_status_name(e->status), e->id[0] ? e->id : "-", was, now_ms() - e->last_seen,
          load);
    p->dirty = true;
}

static void print_registry(struct peer *p)
{
    static char buf[PEER_MAX_PEERS * 128 + 128];
    registry_format(&p->reg, now_ms(), buf, sizeof buf);
    fputs(buf, stderr);
    int alive = 0, dead = 0;
    for (int i = 0; i < p->reg.n; i++)
        alive += p->reg.peer[i].status == REG_ALIVE, dead += p->reg.peer[i].status == REG_TIMEOUT;
    evlog("ev=registry alive=%d timeout=%d unknown=%d", alive, dead, p->reg.n - alive - dead);
}

static void on_answer(struct peer *p, int i, const struct proto_msg *m)
{
    enum reg_status was = p->reg.peer[i].status;
    int ch = registry_on_alive(&p->reg, i, m->server_id, m->has_load, m->load, now_ms());
    p->n_answers++;
    if (ch & (REG_CH_STATUS | REG_CH_ID)) {
        p->n_recoveries += was == REG_TIMEOUT;
        log_status(p, i, registry_status_name(was));
    }
    if (ch & REG_CH_FLAG) {
        const struct reg_peer *e = &p->reg.peer[i];
        evlog("ev=load peer=%s load=%.2f threshold=%.2f overloaded=%d", e->addr, e->load,
              p->reg.threshold, e->overloaded);
        p->dirty = true;
    }
}

/* now is the instant the loop last measured its own stall (run()): judging silences at that
 * instant, never later, means a stop anywhere in the loop is always forgiven before it counts. */
static void tick_registry(struct peer *p, int64_t now)
{
    int changed[PEER_MAX_PEERS];
    enum reg_status before[PEER_MAX_PEERS];
    for (int i = 0; i < p->reg.n; i++)
        before[i] = p->reg.peer[i].status;
    int k = registry_tick(&p->reg, now, changed, PEER_MAX_PEERS);
    for (int j = 0; j < k; j++) {
        p->n_timeouts++;
        log_status(p, changed[j], registry_status_name(before[changed[j]]));
    }
}

static void bad(struct peer *p, const char *why, const char *from)
{
    p->n_bad++;
    evlog("ev=bad why=%s from=%s", why, from);
}

/* ---- outgoing connections: our requests, their answers ----------------------- */

static void out_close(struct out_conn *o)
{
    if (o->fd >= 0)
        close(o->fd);
    o->fd = -1, o->st = OUT_CLOSED, o->rlen = 0;
}

static void send_request(struct peer *p, int i)
{
    struct out_conn *o = &p->out[i];
    char req[64];
    size_t len = proto_encode_request(req, sizeof req);
    /* A connected socket's empty send buffer always has room for these few bytes: anything
     * short of the whole line means the connection is broken. */
    if (send(o->fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
        out_close(o);
        return;
    }
    o->st = OUT_WAITING, o->since = now_ms();
    p->n_req_sent++;
}

static void start_connect(struct peer *p, int i)
{
    struct out_conn *o = &p->out[i];
    o->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (o->fd < 0 || set_nonblock(o->fd) < 0) {
        out_close(o);
        return;
    }
    o->since = now_ms();
    const struct sockaddr_in *a = &p->cfg->paddr[i];
    if (connect(o->fd, (const struct sockaddr *)a, sizeof *a) == 0) {
        o->st = OUT_READY;
        send_request(p, i);
    } else if (errno == EINPROGRESS)
        o->st = OUT_CONNECTING;
    else
        out_close(o); /* refused: the peer is down; its registry timer keeps running */
}

/* STEP 1: every interval, one request to every peer, at most one outstanding per peer. A
 * request unanswered for timeout ms (a paused peer, a half-open connection) costs the
 * connection: we open a new one, which also finds a peer that restarted. */
static void beat(struct peer *p)
{
    int64_t now = now_ms();
    for (int i = 0; i < p->cfg->npeers; i++) {
        struct out_conn *o = &p->out[i];
        registry_on_ask(&p->reg, i, now);
        if ((o->st == OUT_WAITING || o->st == OUT_CONNECTING) &&
            now - o->since > p->cfg->timeout_ms)
            out_close(o);
        if (o->st == OUT_CLOSED)
            start_connect(p, i);
        else if (o->st == OUT_READY)
            send_request(p, i);
    }
}

static void out_connected(struct peer *p, int i)
{
    struct out_conn *o = &p->out[i];
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(o->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        out_close(o);
        return;
    }
    o->st = OUT_READY;
    send_request(p, i);
}

/* One line from peer i: an answer to our request. */
static void out_line(struct peer *p, int i, const char *line, size_t len)
{
    struct proto_msg m;
    const char *why;
    if (proto_decode(line, len, &m, &why) != 0)
        bad(p, why, p->reg.peer[i].addr);
    else if (m.kind != PROTO_ALIVE)
        bad(p, "not-an-answer", p->reg.peer[i].addr);
    else {
        if (p->out[i].st == OUT_WAITING)
            p->out[i].st = OUT_READY;
        on_answer(p, i, &m);
    }
}

static void out_readable(struct peer *p, int i)
{
    struct out_conn *o = &p->out[i];
    ssize_t n = recv(o->fd, o->rbuf + o->rlen, sizeof o->rbuf - o->rlen, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        out_close(o); /* the peer closed or reset: reconnect at the next beat */
        return;
    }
    o->rlen += (size_t)n;
    long k = 0;
    while (o->fd >= 0 && (k = proto_line(o->rbuf, o->rlen)) > 0) {
        out_line(p, i, o->rbuf, (size_t)k - 1);
        memmove(o->rbuf, o->rbuf + k, o->rlen - (size_t)k);
        o->rlen -= (size_t)k;
    }
    if (k < 0) {
        bad(p, "line-too-long", p->reg.peer[i].addr);
        out_close(o);
    }
}

/* ---- incoming connections: requests in, answers out ------------------------- */

static void in_close(struct peer *p, int j)
{
    close(p->in[j]->fd);
    free(p->in[j]);
    p->in[j] = p->in[--p->nin];
}

static void accept_all(struct peer *p)
{
    for (int k = 0; k < ACCEPT_BATCH; k++) {
        struct sockaddr_in a;
        socklen_t alen = sizeof a;
        int fd = accept(p->lfd, (struct sockaddr *)&a, &alen);
        if (fd < 0)
            return; /* EAGAIN: no more; other errors (EMFILE): retried at the next wake-up */
        char name[REG_ADDR_MAX];
        addr_str(&a, name, sizeof name);
        struct in_conn *c = p->nin < PEER_MAX_IN ? calloc(1, sizeof *c) : NULL;
        if (!c || set_nonblock(fd) < 0) {
            bad(p, "too-many-connections", name);
            free(c);
            close(fd);
            continue;
        }
        c->fd = fd, c->last_byte = now_ms();
        memcpy(c->addr, name, sizeof name);
        p->in[p->nin++] = c;
    }
}

/* Send what is buffered; false if the connection broke. */
static bool in_flush(struct in_conn *c)
{
    while (c->wlen > 0) {
        ssize_t n = send(c->fd, c->wbuf, c->wlen, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true; /* POLLOUT tells us when to go on */
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        memmove(c->wbuf, c->wbuf + n, c->wlen - (size_t)n);
        c->wlen -= (size_t)n;
        c->stuck_since = now_ms(); /* the client reads: it is slow, not gone */
    }
    return true;
}

/* One request line: queue the answer. False if wbuf has no room for it (the line stays). */
static bool in_line(struct peer *p, struct in_conn *c, const char *line, size_t len)
{
    struct proto_msg m;
    const char *why;
    if (len == 0 || (len == 1 && line[0] == '\r'))
        return true; /* an empty line, e.g. Enter pressed twice in nc */
    if (proto_decode(line, len, &m, &why) != 0) {
        bad(p, why, c->addr);
        return true; /* the next line may be fine: the framing still holds */
    }
    if (m.kind != PROTO_REQUEST) {
        bad(p, "not-a-request", c->addr);
        return true;
    }
    size_t n = proto_encode_alive(c->wbuf + c->wlen, sizeof c->wbuf - c->wlen, p->server_id, true,
                                  current_load(p));
    if (n == 0)
        return false;
    c->wlen += n;
    p->n_served++;
    return true;
}

/* Leave the blocked state: the time we did not read is not the client's silence, so its line
 * and idle timers start again now. */
static void in_unblock(struct in_conn *c, int64_t now)
{
    c->blocked = false;
    if (c->line_start)
        c->line_start = now;
    c->last_byte = now;
}

/* Answer the complete lines in rbuf while their answers fit (flushing when wbuf fills). With no
 * room left the line stays in rbuf and the connection is blocked. False to close. */
static bool in_answer(struct peer *p, struct in_conn *c, int64_t now)
{
    long k;
    while ((k = proto_line(c->rbuf, c->rlen)) > 0) {
        bool done = in_line(p, c, c->rbuf, (size_t)k - 1);
        if (!done) {
            if (!in_flush(c))
                return false;
            done = in_line(p, c, c->rbuf, (size_t)k - 1);
        }
        if (!done) { /* backpressure: POLLOUT brings us back */
            if (!c->blocked)
                c->blocked = true, c->stuck_since = now;
            return true;
        }
        memmove(c->rbuf, c->rbuf + k, c->rlen - (size_t)k);
        c->rlen -= (size_t)k;
        c->line_start = c->rlen ? now : 0;
    }
    if (k < 0) {
        bad(p, "line-too-long", c->addr);
        return false;
    }
    if (c->blocked)
        in_unblock(c, now);
    return true;
}

/* Read more requests and answer them; false to close. */
static bool in_read(struct peer *p, struct in_conn *c, int64_t now)
{
    ssize_t n = recv(c->fd, c->rbuf + c->rlen, sizeof c->rbuf - c->rlen, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return true;
    if (n < 0)
        return false; /* reset */
    if (n == 0) {
        c->eof = true, c->stuck_since = now; /* done sending; its answers still go out */
        return true;
    }
    c->last_byte = now;
    if (c->rlen == 0)
        c->line_start = now;
    c->rlen += (size_t)n;
    return in_answer(p, c, now);
}

/* The connection is ready (revents): send, answer what waits, read more unless blocked, send.
 * False to close: broken, or finished (the client hung up and has every answer). */
static bool in_service(struct peer *p, struct in_conn *c, short revents)
{
    int64_t now = now_ms();
    if (!in_flush(c) || (c->blocked && !in_answer(p, c, now)))
        return false;
    if ((revents & (POLLIN | POLLERR | POLLHUP)) && !c->blocked && !c->eof && !in_read(p, c, now))
        return false;
    if (!in_flush(c))
        return false;
    return !(c->eof && !c->blocked && c->wlen == 0);
}

/* Deadlines of incoming connections: a line must be finished within --line-timeout (the
 * one-byte-a-minute client), and a connection silent for long is dropped (half-open). */
static int64_t idle_ms(const struct peer *p)
{
    int64_t t = 4 * (int64_t)p->cfg->timeout_ms;
    return t > MIN_IDLE_MS ? t : MIN_IDLE_MS;
}

static int64_t in_deadline(const struct peer *p, const struct in_conn *c)
{
    if (c->blocked || c->eof) /* we are not reading it: only its reading of answers counts */
        return c->stuck_since + idle_ms(p);
    int64_t idle = c->last_byte + idle_ms(p);
    int64_t line = c->line_start ? c->line_start + p->cfg->line_timeout_ms : INT64_MAX;
    return line < idle ? line : idle;
}

/* now: as in tick_registry, the loop's own measurement, so a stop in this turn of the loop does
 * not make our peers' connections look idle. */
static void expire_in(struct peer *p, int64_t now)
{
    for (int j = 0; j < p->nin;) {
        struct in_conn *c = p->in[j];
        if (now < in_deadline(p, c)) {
            j++;
            continue;
        }
        bad(p, c->blocked || c->eof ? "not-reading-answers" : c->line_start ? "slow-line" : "idle",
            c->addr);
        in_close(p, j);
    }
}

/* ---- stdin commands ----------------------------------------------------------- */

static void command(struct peer *p, char *line)
{
    double v;
    char extra;
    if (line[0] == '\0' || strcmp(line, "registry") == 0 || strcmp(line, "r") == 0)
        print_registry(p);
    else if (sscanf(line, "load %lf %c", &v, &extra) == 1 && v >= 0 && v < 1e6) {
        p->load_set = true, p->load = v;
        evlog("ev=own_load load=%.2f", v);
    } else
        fprintf(stderr, "heartbeat: commands: registry (or r, or an empty line), load X\n");
}

static void read_stdin(struct peer *p)
{
    ssize_t n = read(0, p->ibuf + p->ilen, sizeof p->ibuf - 1 - p->ilen);
    if (n <= 0) {
        p->stdin_open = n < 0 && errno == EINTR; /* EOF or error: stop listening to stdin */
        return;
    }
    p->ilen += (size_t)n;
    char *nl;
    while ((nl = memchr(p->ibuf, '\n', p->ilen)) != NULL) {
        *nl = '\0';
        if (nl > p->ibuf && nl[-1] == '\r')
            nl[-1] = '\0';
        command(p, p->ibuf);
        p->ilen -= (size_t)(nl + 1 - p->ibuf);
        memmove(p->ibuf, nl + 1, p->ilen);
    }
    if (p->ilen == sizeof p->ibuf - 1)
        p->ilen = 0; /* a line too long to be a command */
}

/* ---- the loop ----------------------------------------------------------------- */

static int open_listener(struct peer *p)
{
    int one = 1;
    p->lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (p->lfd < 0)
        return -1;
    /* SO_REUSEADDR only lets a restarted node bind while old connections sit in TIME_WAIT;
     * two live nodes still cannot share the port. */
    if (setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(p->lfd, (const struct sockaddr *)&p->cfg->listen, sizeof p->cfg->listen) != 0 ||
        listen(p->lfd, 128) != 0 || set_nonblock(p->lfd) != 0)
        return -1;
    return 0;
}

static int poll_timeout(const struct peer *p)
{
    int64_t next = p->next_beat, r = registry_next_deadline(&p->reg);
    if (r < next)
        next = r;
    for (int j = 0; j < p->nin; j++)
        if (in_deadline(p, p->in[j]) < next)
            next = in_deadline(p, p->in[j]);
    int64_t left = next - now_ms();
    return left <= 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

/* Slot layout of the pollfd array: wake, listener, stdin, then out[], then in[]. */
enum { SLOT_WAKE, SLOT_LISTEN, SLOT_STDIN, SLOT_OUT };

static int fill_fds(struct peer *p, struct pollfd *fds)
{
    fds[SLOT_WAKE] = (struct pollfd){.fd = p->wake_fd, .events = POLLIN};
    fds[SLOT_LISTEN] = (struct pollfd){.fd = p->lfd, .events = POLLIN};
    fds[SLOT_STDIN] = (struct pollfd){.fd = p->stdin_open ? 0 : -1, .events = POLLIN};
    for (int i = 0; i < p->cfg->npeers; i++) {
        const struct out_conn *o = &p->out[i];
        fds[SLOT_OUT + i] =
            (struct pollfd){.fd = o->fd, .events = o->st == OUT_CONNECTING ? POLLOUT : POLLIN};
    }
    int base = SLOT_OUT + p->cfg->npeers;
    for (int j = 0; j < p->nin; j++) {
        const struct in_conn *c = p->in[j];
        bool reading = !c->blocked && !c->eof; /* backpressure: a blocked client is not read */
        fds[base + j] = (struct pollfd){
            .fd = c->fd, .events = (short)((reading ? POLLIN : 0) | (c->wlen ? POLLOUT : 0))};
    }
    return base + p->nin;
}

static void on_wake(struct peer *p)
{
    char b[16];
    ssize_t n = read(p->wake_fd, b, sizeof b);
    for (ssize_t k = 0; k < n; k++) {
        if (b[k] == 'u')
            print_registry(p); /* SIGUSR1 */
        else
            p->stop = true; /* SIGINT, SIGTERM */
    }
}

static void handle(struct peer *p, struct pollfd *fds, int nfds)
{
    if (fds[SLOT_WAKE].revents)
        on_wake(p);
    if (fds[SLOT_STDIN].revents)
        read_stdin(p);
    for (int i = 0; i < p->cfg->npeers; i++) {
        short re = fds[SLOT_OUT + i].revents;
        if (!re || p->out[i].fd != fds[SLOT_OUT + i].fd)
            continue;
        if (p->out[i].st == OUT_CONNECTING)
            out_connected(p, i);
        else
            out_readable(p, i);
    }
    /* Backwards, because in_close() moves the last connection into the freed slot. */
    for (int k = nfds - 1; k >= SLOT_OUT + p->cfg->npeers; k--) {
        int j = k - SLOT_OUT - p->cfg->npeers;
        if (!fds[k].revents || j >= p->nin || p->in[j]->fd != fds[k].fd)
            continue;
        if (!in_service(p, p->in[j], fds[k].revents))
            in_close(p, j);
    }
    if (fds[SLOT_LISTEN].revents)
        accept_all(p);
}

static void log_stats(const struct peer *p)
{
    evlog("ev=stats requests_sent=%" PRIu64 " answers=%" PRIu64 " requests_served=%" PRIu64
          " timeouts=%" PRIu64 " recoveries=%" PRIu64 " bad=%" PRIu64,
          p->n_req_sent, p->n_answers, p->n_served, p->n_timeouts, p->n_recoveries, p->n_bad);
}

static void run(struct peer *p, struct pollfd *fds)
{
    int64_t last = now_ms(); /* when the previous turn of the loop measured its gap */
    int64_t stall_at = p->cfg->stall_ms ? last + 1000 : INT64_MAX;
    while (!p->stop) {
        int n = fill_fds(p, fds), wait = poll_timeout(p);
        if (poll(fds, (nfds_t)n, wait) < 0 && errno != EINTR) {
            evlog("ev=error op=poll err=\"%s\"", strerror(errno));
            return;
        }
        /* STEP 4: the beat timer wakes us at least every interval. A longer gap between two turns
         * means that we were stopped (SIGSTOP, an overloaded machine), not the peers: do not
         * count it. The gap runs from measurement to measurement, and the registry is judged at
         * this measurement (tick_registry below): a stop that falls after it, anywhere in this
         * turn, is in the next gap, so it is forgiven before any silence is judged. */
        int64_t now = now_ms(), gap = now - last;
        last = now;
        if (gap > 2 * (int64_t)p->cfg->interval_ms) {
            registry_forgive(&p->reg, gap - p->cfg->interval_ms);
            evlog("ev=stalled ms=%" PRId64, gap);
        }
        handle(p, fds, n);
        if (now >= stall_at) { /* --stall: the worst place for a stop, after the measurement */
            stall_at = INT64_MAX;
            evlog("ev=self-stall ms=%d", p->cfg->stall_ms);
            nanosleep(&(struct timespec){p->cfg->stall_ms / 1000,
                                         (long)(p->cfg->stall_ms % 1000) * 1000000L},
                      NULL);
        }
        if (now_ms() >= p->next_beat) {
            beat(p);
            p->next_beat += p->cfg->interval_ms;
            if (p->next_beat < now_ms()) /* we were stopped (SIGSTOP): do not beat in a burst */
                p->next_beat = now_ms() + p->cfg->interval_ms;
        }
        expire_in(p, now);
        tick_registry(p, now);
        if (p->dirty && !p->stop && !p->cfg->quiet)
            print_registry(p);
        p->dirty = false;
    }
}

static void cleanup(struct peer *p)
{
    for (int i = 0; i < p->cfg->npeers; i++)
        out_close(&p->out[i]);
    while (p->nin > 0)
        in_close(p, p->nin - 1);
    if (p->lfd >= 0)
        close(p->lfd);
    registry_free(&p->reg);
}

int peer_main(const struct peer_config *cfg, int wake_fd)
{
    static struct peer p; /* large (connection buffers): not on the stack */
    const char *names[PEER_MAX_PEERS];
    memset(&p, 0, sizeof p);
    p.cfg = cfg, p.wake_fd = wake_fd, p.stdin_open = true;
    p.load_set = cfg->load >= 0, p.load = cfg->load;
    for (int i = 0; i < cfg->npeers; i++)
        p.out[i].fd = -1, names[i] = cfg->pname[i];
    make_uuid(&p);
    if (registry_init(&p.reg, names, cfg->npeers, cfg->timeout_ms, cfg->load_threshold, now_ms()) !=
            0 ||
        open_listener(&p) != 0) {
        char a[REG_ADDR_MAX];
        addr_str(&cfg->listen, a, sizeof a);
        fprintf(stderr, "heartbeat: cannot listen on %s: %s\n", a, strerror(errno));
        cleanup(&p);
        return -1;
    }
    struct pollfd *fds = calloc(SLOT_OUT + PEER_MAX_PEERS + PEER_MAX_IN, sizeof *fds);
    if (!fds) {
        cleanup(&p);
        return -1;
    }
    char a[REG_ADDR_MAX];
    addr_str(&cfg->listen, a, sizeof a);
    evlog("ev=ready addr=%s id=%s peers=%d interval=%d timeout=%d", a, p.server_id, cfg->npeers,
          cfg->interval_ms, cfg->timeout_ms);
    p.next_beat = now_ms();
    run(&p, fds);
    log_stats(&p);
    free(fds);
    cleanup(&p);
    return 0;
}
