/* node.c - the I/O layer: one UDP socket, one poll() loop, random own events, event lines. */
#include "node.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "evlog.h"

#define NEVER INT64_MAX /* next_event_us once --count is reached */

/* Datagrams read per wake-up before our own events get their turn, so a
 * flood of messages slows a node down but cannot stop its clock ticking. */
#define RECV_BATCH 64

/* The largest UDP payload is 65507 bytes. Reading into a buffer that big
 * means the kernel never cuts a datagram short without telling us, so the
 * decoder sees an oversize frame's true length and rejects it. */
#define RECV_BUF 65536

/* ---- time and randomness ---------------------------------------------- */

/* CLOCK_MONOTONIC never jumps when someone sets the date, so deadlines
 * computed from it stay right. POSIX lets clock_gettime() fail only for a
 * clock id the system lacks, and every Linux has this one. */
static int64_t now_us(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        abort(); /* cannot happen, see above; carrying on with garbage time would be worse */
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* splitmix64 (Steele, Lea and Flood, OOPSLA 2014): a few lines, good
 * statistics, any seed works, and the same seed gives the same choices on
 * every machine, which rand() does not promise. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1): the top 53 bits, as many as a double holds exactly. */
static double rng_unit(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n). The modulo bias is below n / 2^64: nothing for n <= 64. */
static uint64_t rng_below(uint64_t *s, uint64_t n)
{
    return rng_next(s) % n;
}

/* Gap to our next own event: uniform in [interval/2, 3*interval/2]. */
static int64_t next_gap_us(struct node *nd)
{
    uint64_t mean = (uint64_t)nd->cfg->interval_ms * 1000;
    return (int64_t)(mean / 2 + rng_below(&nd->rng, mean + 1));
}

/* ---- event lines -------------------------------------------------------- */

int node_addr_str(const struct sockaddr_in *a, char *buf, size_t cap)
{
    char ip[INET_ADDRSTRLEN];
    if (inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip) == NULL)
        return -1;
    int w = snprintf(buf, cap, "%s:%u", ip, (unsigned)ntohs(a->sin_port));
    return w < 0 || (size_t)w >= cap ? -1 : 0;
}

/* " vc=[1,0,2]" in vector mode, "" in Lamport mode: the end of a clock line. */
#define VC_SUFFIX_MAX (CLOCK_VC_STRMAX + 4)

static void vc_suffix(const struct node *nd, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (!nd->clock.vector || cap < 5)
        return;
    memcpy(buf, " vc=", 4);
    if (clock_format_vc(&nd->clock, buf + 4, cap - 4) < 0)
        buf[0] = '\0'; /* cannot happen with VC_SUFFIX_MAX; a line without vc beats a cut one */
}

static void log_bad(struct node *nd, const char *why, const struct sockaddr_in *src, size_t len)
{
    char addr[NODE_ADDR_STRLEN];
    if (node_addr_str(src, addr, sizeof addr) < 0)
        memcpy(addr, "?", 2); /* cannot happen: any IPv4 address and port fit */
    nd->n_bad++;
    evlog("ev=bad why=%s src=%s len=%zu", why, addr, len);
}

void node_log_stats(const struct node *nd)
{
    evlog("lc=%" PRIu64 " ev=stats local=%" PRIu64 " sent=%" PRIu64 " recv=%" PRIu64
          " bad=%" PRIu64,
          nd->clock.lc, nd->n_local, nd->n_sent, nd->n_recv, nd->n_bad);
}

/* ---- own events: local and send ----------------------------------------- */

static void local_event(struct node *nd)
{
    char vc[VC_SUFFIX_MAX];
    clock_local(&nd->clock);
    nd->n_local++;
    vc_suffix(nd, vc, sizeof vc);
    evlog("lc=%" PRIu64 " ev=local%s", nd->clock.lc, vc);
}

/* Encode m and send it to node `to`. sendto() on UDP sends the whole
 * datagram or nothing. A failure (say the kernel is out of buffers) is
 * reported and the message counts as lost, which is just what the network
 * may do to it anyway. */
static void send_msg(struct node *nd, int to, const struct lc_msg *m)
{
    const struct sockaddr_in *dst = &nd->cfg->addrs[to];
    uint8_t frame[PROTO_MAX_FRAME];
    size_t len = proto_encode(m, frame, sizeof frame);
    assert(len > 0); /* frame holds the largest message, and clock_send() keeps vlen <= 64 */
    ssize_t n;
    do
        n = sendto(nd->sock, frame, len, MSG_DONTWAIT, (const struct sockaddr *)dst, sizeof *dst);
    while (n < 0 && errno == EINTR);
    /* strerror() text has no quotes or backslashes, so it needs no escaping. */
    if (n < 0)
        evlog("ev=error op=sendto to=%d msg=%u:%" PRIu32 " err=\"%s\"", to, (unsigned)m->sender,
              m->seq, strerror(errno));
    else if ((size_t)n != len)
        evlog("ev=error op=sendto to=%d msg=%u:%" PRIu32 " err=\"short write\"", to,
              (unsigned)m->sender, m->seq);
}

static void send_event(struct node *nd, int to)
{
    struct lc_msg m = {.kind = PROTO_KIND_CLOCK, .sender = (uint16_t)nd->cfg->id};
    char vc[VC_SUFFIX_MAX];

    m.seq = ++nd->seq;
    clock_send(&nd->clock, &m);
    nd->n_sent++;
    vc_suffix(nd, vc, sizeof vc);
    /* Logged before the datagram leaves, so this line's t= is never later
     * than the receiver's line for the same message. */
    evlog("lc=%" PRIu64 " ev=send to=%d msg=%d:%" PRIu32 "%s", nd->clock.lc, to, nd->cfg->id,
          m.seq, vc);
    send_msg(nd, to, &m);
}

/* A random peer other than ourselves: draw from the n-1 others and skip our id. */
static int random_peer(struct node *nd)
{
    int peer = (int)rng_below(&nd->rng, (uint64_t)nd->cfg->n - 1);
    return peer >= nd->cfg->id ? peer + 1 : peer;
}

static void own_event(struct node *nd)
{
    /* With a single node there is nobody to send to: every event is local. */
    if (nd->cfg->n > 1 && rng_unit(&nd->rng) < nd->cfg->send_prob)
        send_event(nd, random_peer(nd));
    else
        local_event(nd);
    nd->events++;
    if (nd->cfg->count != 0 && nd->events == nd->cfg->count) {
        evlog("ev=done events=%" PRIu64, nd->events);
        nd->next_event_us = NEVER; /* from now on we only receive */
        return;
    }
    /* From now, not from the missed deadline: a node that was paused does
     * one event when it wakes up, not a burst to catch up. */
    nd->next_event_us = now_us() + next_gap_us(nd);
}

/* ---- receiving ---------------------------------------------------------- */

/* STEP 5: accept a clock only from a peer we know, at the address --nodes
 * gives for it. Checking the source address keeps out stray and forged
 * datagrams from other programs; it is not authentication (anyone who can
 * send raw packets can fake a source address). */
static bool sender_is_known(const struct node *nd, const struct lc_msg *m,
                            const struct sockaddr_in *src)
{
    const struct node_config *cfg = nd->cfg;
    if (m->sender >= cfg->n || m->sender == cfg->id)
        return false;
    const struct sockaddr_in *want = &cfg->addrs[m->sender];
    return src->sin_family == AF_INET && src->sin_addr.s_addr == want->sin_addr.s_addr &&
           src->sin_port == want->sin_port;
}

/* One datagram: decode, check the sender, apply the receive rule. Anything
 * wrong is logged as ev=bad and dropped before the clock is touched. */
static void handle_datagram(struct node *nd, const uint8_t *buf, size_t len,
                            const struct sockaddr_in *src)
{
    struct lc_msg m;
    char vc[VC_SUFFIX_MAX];
    int rc = proto_decode(buf, len, &m);
    if (rc < 0) {
        log_bad(nd, proto_strerror(rc), src, len);
        return;
    }
    if (!sender_is_known(nd, &m, src)) {
        log_bad(nd, "unknown-sender", src, len);
        return;
    }
    rc = clock_recv(&nd->clock, &m);
    if (rc < 0) {
        log_bad(nd, clock_strerror(rc), src, len);
        return;
    }
    nd->n_recv++;
    vc_suffix(nd, vc, sizeof vc);
    evlog("lc=%" PRIu64 " ev=recv from=%u msg=%u:%" PRIu32 " ts=%" PRIu64 "%s", nd->clock.lc,
          (unsigned)m.sender, (unsigned)m.sender, m.seq, m.lc, vc);
}

/* Read the datagrams waiting on the socket, up to RECV_BATCH of them. */
static void drain_socket(struct node *nd)
{
    uint8_t buf[RECV_BUF];
    for (int i = 0; i < RECV_BATCH; i++) {
        struct sockaddr_in src;
        socklen_t srclen = sizeof src;
        memset(&src, 0, sizeof src);
        ssize_t n = recvfrom(nd->sock, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&src,
                             &srclen);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return; /* nothing more waiting */
        if (n < 0) {
            evlog("ev=error op=recvfrom err=\"%s\"", strerror(errno));
            return;
        }
        handle_datagram(nd, buf, (size_t)n, &src);
    }
}

/* ---- the loop ----------------------------------------------------------- */

int node_open(struct node *nd, const struct node_config *cfg, int wake_fd)
{
    memset(nd, 0, sizeof *nd);
    nd->cfg = cfg;
    nd->wake_fd = wake_fd;
    nd->rng = cfg->seed;
    nd->next_event_us = NEVER;
    if (clock_init(&nd->clock, cfg->id, cfg->n, cfg->vector) != 0) {
        errno = EINVAL;
        return -1;
    }
    nd->sock = socket(AF_INET, SOCK_DGRAM, 0);
    if (nd->sock < 0)
        return -1;
    /* No SO_REUSEADDR: with it, two nodes started with the same --id could
     * share the port and each get half the messages. Better to fail here. */
    const struct sockaddr_in *me = &cfg->addrs[cfg->id];
    if (bind(nd->sock, (const struct sockaddr *)me, sizeof *me) != 0) {
        int saved = errno;
        close(nd->sock); /* already failing: errno from bind() is the one worth reporting */
        nd->sock = -1;
        errno = saved;
        return -1;
    }
    return 0;
}

/* poll()'s timeout: milliseconds to the next own event, rounded up so we
 * never wake a little early and spin; -1 (wait for messages only) if none. */
static int poll_timeout_ms(const struct node *nd)
{
    if (nd->next_event_us == NEVER)
        return -1;
    int64_t left = nd->next_event_us - now_us();
    if (left <= 0)
        return 0;
    int64_t ms = (left + 999) / 1000;
    return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

static void log_ready(const struct node *nd)
{
    char addr[NODE_ADDR_STRLEN];
    if (node_addr_str(&nd->cfg->addrs[nd->cfg->id], addr, sizeof addr) < 0)
        memcpy(addr, "?", 2); /* cannot happen: any IPv4 address and port fit */
    evlog("ev=ready addr=%s nodes=%d mode=%s seed=%" PRIu64, addr, nd->cfg->n,
          nd->cfg->vector ? "vector" : "lamport", nd->cfg->seed);
}

int node_run(struct node *nd)
{
    log_ready(nd);
    nd->next_event_us = now_us() + next_gap_us(nd);
    for (;;) {
        struct pollfd fds[2] = {
            {.fd = nd->sock, .events = POLLIN},
            {.fd = nd->wake_fd, .events = POLLIN},
        };
        if (poll(fds, 2, poll_timeout_ms(nd)) < 0) {
            if (errno == EINTR)
                continue; /* a signal: if it was SIGINT/SIGTERM, the pipe says so next time */
            return -1;
        }
        if (fds[1].revents != 0)
            return 0; /* SIGINT or SIGTERM: main() prints the stats */
        if (fds[0].revents != 0)
            drain_socket(nd);
        if (now_us() >= nd->next_event_us)
            own_event(nd);
    }
}

int node_close(struct node *nd)
{
    int rc = close(nd->sock);
    nd->sock = -1;
    return rc;
}
