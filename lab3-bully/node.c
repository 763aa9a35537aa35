/* node.c - the I/O layer: one UDP socket, one poll() loop, timers from bully.c, event lines. */
#include "node.h"

#include <arpa/inet.h>
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

/* Datagrams read per wake-up before the timers get their turn, so a flood
 * of messages slows a node down but cannot stop its heartbeats. */
#define RECV_BATCH 64

/* Big enough for any UDP payload: an oversize frame is seen whole and
 * rejected as trailing-bytes instead of being cut to look valid. */
#define RECV_BUF 65536

/* CLOCK_MONOTONIC in ms: deadlines never jump when someone sets the date. */
static int64_t now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        abort(); /* cannot happen on Linux; carrying on with garbage time would be worse */
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int node_addr_str(const struct sockaddr_in *a, char *buf, size_t cap)
{
    char ip[INET_ADDRSTRLEN];
    if (inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip) == NULL)
        return -1;
    int w = snprintf(buf, cap, "%s:%u", ip, (unsigned)ntohs(a->sin_port));
    return w < 0 || (size_t)w >= cap ? -1 : 0;
}

static void addr_or_q(const struct sockaddr_in *a, char *buf)
{
    if (node_addr_str(a, buf, NODE_ADDR_STRLEN) < 0)
        memcpy(buf, "?", 2); /* cannot happen: any IPv4 address and port fit */
}

void node_log_stats(const struct node *nd)
{
    evlog("ev=stats sent=%" PRIu64 " recv=%" PRIu64 " bad=%" PRIu64 " elections=%" PRIu64
          " wins=%" PRIu64 " leader=%d role=%s",
          nd->n_sent, nd->n_recv, nd->n_bad, nd->bully.elections, nd->bully.wins, nd->bully.leader,
          bully_role_name(nd->bully.role));
}

/* ---- sending ------------------------------------------------------------ */

/* Log first, then send: the send line's t= is never later than the receiver's line. A failed
 * sendto() is reported and the message counts as lost, as the network may do anyway. */
static void send_one(struct node *nd, const struct bully_send *s)
{
    struct proto_msg m = {.type = s->type, .sender = (uint16_t)nd->cfg->id, .round = s->round};
    uint8_t frame[PROTO_SIGNED_LEN];
    size_t len;
    m.seq = ++nd->seq;
    if (nd->cfg->keyed) {
        m.to = (uint16_t)s->to;
        m.stamp = auth_next_stamp(&nd->stamp, auth_wall_us());
        len = proto_encode_signed(&m, &nd->cfg->key, frame, sizeof frame);
    } else {
        len = proto_encode(&m, frame, sizeof frame);
    }
    evlog("ev=send type=%s to=%d msg=%d:%" PRIu32 " round=%" PRIu32, proto_type_name(m.type), s->to,
          nd->cfg->id, m.seq, m.round);
    nd->n_sent++;
    const struct sockaddr_in *dst = &nd->cfg->addrs[s->to];
    ssize_t n;
    do
        n = sendto(nd->sock, frame, len, MSG_DONTWAIT, (const struct sockaddr *)dst, sizeof *dst);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        evlog("ev=error op=sendto to=%d msg=%d:%" PRIu32 " err=\"%s\"", s->to, nd->cfg->id, m.seq,
              strerror(errno));
}

/* What the state machine decided: the lines in cause-and-effect order, then the messages. */
static void apply(struct node *nd, const struct bully_out *out)
{
    const struct bully *b = &nd->bully;
    if (out->via_before != BULLY_NO_CHANGE)
        evlog("ev=leader leader=-1 via=%s", bully_via_name(out->via_before));
    if (out->cause != BULLY_NO_ELECTION)
        evlog("ev=election round=%" PRIu32 " why=%s", b->round, bully_cause_name(out->cause));
    if (out->via != BULLY_NO_CHANGE)
        evlog("ev=leader leader=%d via=%s round=%" PRIu32, b->leader, bully_via_name(out->via),
              b->round);
    for (int i = 0; i < out->nsend; i++)
        send_one(nd, &out->send[i]);
}

/* ---- receiving ---------------------------------------------------------- */

static void log_bad(struct node *nd, const char *why, const struct sockaddr_in *src, size_t len,
                    const struct proto_msg *m)
{
    char addr[NODE_ADDR_STRLEN];
    addr_or_q(src, addr);
    nd->n_bad++;
    if (m)
        evlog("ev=bad why=%s src=%s len=%zu type=%s from=%u msg=%u:%" PRIu32 " round=%" PRIu32, why,
              addr, len, proto_type_name(m->type), (unsigned)m->sender, (unsigned)m->sender, m->seq,
              m->round);
    else
        evlog("ev=bad why=%s src=%s len=%zu", why, addr, len);
}

/* STEP 6: the sender must be a known id other than ours, at the address --nodes gives for it.
 * This keeps out stray and forged datagrams from other programs; it is not authentication
 * (whoever can send raw packets can fake a source address). */
static const char *check_sender(const struct node *nd, const struct proto_msg *m,
                                const struct sockaddr_in *src)
{
    if (m->sender >= nd->cfg->n)
        return "unknown-id";
    if (m->sender == nd->cfg->id)
        return "own-id";
    const struct sockaddr_in *want = &nd->cfg->addrs[m->sender];
    if (src->sin_addr.s_addr != want->sin_addr.s_addr || src->sin_port != want->sin_port)
        return "wrong-source";
    if (nd->cfg->keyed && m->to != nd->cfg->id)
        return "not-for-us"; /* signed for another node: replayed here */
    return NULL;
}

/* STEP 7 (--key): the tag was right, so a member wrote this frame; now make sure it is not an
 * old one sent again. The check_sender rules above ran first, so m->sender is a valid id. */
static const char *check_fresh(struct node *nd, const struct proto_msg *m)
{
    return nd->cfg->keyed ? auth_check_fresh(&nd->guard, m, auth_wall_us()) : NULL;
}

/* With --key only signed frames with a good tag are decoded; without, only plain ones. */
static int decode(const struct node *nd, const uint8_t *buf, size_t len, struct proto_msg *m)
{
    return nd->cfg->keyed ? proto_decode_signed(buf, len, &nd->cfg->key, m)
                          : proto_decode(buf, len, m);
}

static void handle_datagram(struct node *nd, const uint8_t *buf, size_t len,
                            const struct sockaddr_in *src)
{
    struct proto_msg m;
    struct bully_out out;
    int rc = decode(nd, buf, len, &m);
    if (rc < 0) {
        log_bad(nd, proto_strerror(rc), src, len, NULL);
        return;
    }
    const char *why = check_sender(nd, &m, src);
    if (!why)
        why = check_fresh(nd, &m);
    if (why) {
        log_bad(nd, why, src, len, &m);
        return;
    }
    bully_on_message(&nd->bully, now_ms(), &m, &out);
    if (out.bad) {
        log_bad(nd, out.bad, src, len, &m);
    } else {
        nd->n_recv++;
        evlog("ev=recv type=%s from=%u msg=%u:%" PRIu32 " round=%" PRIu32, proto_type_name(m.type),
              (unsigned)m.sender, (unsigned)m.sender, m.seq, m.round);
    }
    apply(nd, &out); /* a refused message may still make a leader re-announce itself */
}

static void drain_socket(struct node *nd)
{
    static uint8_t buf[RECV_BUF]; /* one thread only: static keeps 64 KiB off the stack */
    for (int i = 0; i < RECV_BATCH; i++) {
        struct sockaddr_in src;
        socklen_t srclen = sizeof src;
        memset(&src, 0, sizeof src);
        ssize_t n =
            recvfrom(nd->sock, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&src, &srclen);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
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
    struct bully_config bc = {.id = cfg->id,
                              .n = cfg->n,
                              .answer_ms = cfg->answer_ms,
                              .coord_ms = cfg->coord_ms,
                              .heartbeat_ms = cfg->heartbeat_ms,
                              .leader_ms = cfg->leader_ms};
    bully_init(&nd->bully, &bc);
    nd->sock = socket(AF_INET, SOCK_DGRAM, 0);
    if (nd->sock < 0)
        return -1;
    /* No SO_REUSEADDR: two nodes started with the same --id must not share a port. */
    const struct sockaddr_in *me = &cfg->addrs[cfg->id];
    if (bind(nd->sock, (const struct sockaddr *)me, sizeof *me) != 0) {
        int saved = errno;
        close(nd->sock);
        nd->sock = -1;
        errno = saved;
        return -1;
    }
    return 0;
}

/* ms to the next deadline, rounded up so we never wake early and spin; -1: none. */
static int poll_timeout(const struct node *nd)
{
    int64_t next = bully_next_deadline(&nd->bully);
    if (next == BULLY_NEVER)
        return -1;
    int64_t left = next - now_ms();
    if (left <= 0)
        return 0;
    return left > INT32_MAX ? INT32_MAX : (int)left;
}

static void fire_timers(struct node *nd)
{
    struct bully_out out;
    /* Each firing moves its deadline forward, so this ends; the cap is a belt and braces. */
    for (int i = 0; i < 8 && now_ms() >= bully_next_deadline(&nd->bully); i++) {
        bully_on_timer(&nd->bully, now_ms(), &out);
        apply(nd, &out);
    }
}

int node_run(struct node *nd)
{
    char addr[NODE_ADDR_STRLEN];
    struct bully_out out;
    addr_or_q(&nd->cfg->addrs[nd->cfg->id], addr);
    evlog("ev=ready addr=%s nodes=%d answer_ms=%" PRIu32 " coord_ms=%" PRIu32
          " heartbeat_ms=%" PRIu32 " leader_ms=%" PRIu32,
          addr, nd->cfg->n, nd->cfg->answer_ms, nd->cfg->coord_ms, nd->cfg->heartbeat_ms,
          nd->cfg->leader_ms);
    bully_start(&nd->bully, now_ms(), &out);
    apply(nd, &out);
    for (;;) {
        struct pollfd fds[2] = {{.fd = nd->sock, .events = POLLIN},
                                {.fd = nd->wake_fd, .events = POLLIN}};
        if (poll(fds, 2, poll_timeout(nd)) < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (fds[1].revents != 0)
            return 0; /* SIGINT or SIGTERM: main() prints the stats */
        if (fds[0].revents != 0)
            drain_socket(nd);
        fire_timers(nd);
    }
}

int node_close(struct node *nd)
{
    int rc = close(nd->sock);
    nd->sock = -1;
    return rc;
}
