/* q4.c - Q4's monitor and worker: UDP heartbeats, one poll() loop each, no threads. */
#include "q4.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "evlog.h"
#include "monitor.h"
#include "proto.h"

#define RECV_BATCH 64 /* datagrams read per wake-up, so a flood cannot starve the timers */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void addr_str(const struct sockaddr_in *a, char *buf, size_t cap)
{
    char host[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    snprintf(buf, cap, "%s:%u", host, (unsigned)ntohs(a->sin_port));
}

/* "to=3" or "to=none" */
static const char *target_str(long t, char *buf, size_t cap)
{
    if (t == MON_NONE)
        snprintf(buf, cap, "none");
    else
        snprintf(buf, cap, "%ld", t);
    return buf;
}

/* true on SIGINT/SIGTERM */
static bool woken(int wake_fd)
{
    char b[16];
    ssize_t n = read(wake_fd, b, sizeof b);
    for (ssize_t k = 0; k < n; k++)
        if (b[k] != 'u')
            return true;
    return false; /* SIGUSR1 only means something to the P2P node */
}

static int open_udp(const struct q4_config *cfg)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    if (cfg->have_bind && bind(fd, (const struct sockaddr *)&cfg->bind, sizeof cfg->bind) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* ---- the monitor ----------------------------------------------------------- */

struct mon_io {
    const struct q4_config *cfg;
    int fd;
    struct monitor m;
    int64_t next_order;
    unsigned long orders, beats, bad, failures, recoveries;
};

/* A beat the monitor refused: say why, and what the beat claimed. */
static void log_refused(struct mon_io *io, enum mon_beat_result r, const struct proto_msg *msg,
                        const char *from)
{
    const struct mon_worker *w = monitor_find(&io->m, msg->node);
    char owner[32] = "-";
    if (w && r == MON_WRONG_SOURCE) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = w->port};
        a.sin_addr.s_addr = w->ip;
        addr_str(&a, owner, sizeof owner);
    }
    io->bad++;
    evlog("ev=bad why=%s from=%s worker=%ld inc=%" PRIu64 " seq=%lu owner=%s",
          r == MON_FULL           ? "too-many-workers"
          : r == MON_WRONG_SOURCE ? "wrong-source"
          : r == MON_ADDR_IN_USE  ? "address-in-use"
                                  : "stale-beat",
          from, msg->node, msg->inc, msg->seq, owner);
}

static void on_datagram(struct mon_io *io, const char *buf, size_t len,
                        const struct sockaddr_in *src, const char *from)
{
    struct proto_msg msg;
    const char *why;
    char t[16];
    long evicted;
    if (len > 0 && buf[len - 1] == '\n')
        len--; /* one object per datagram; its "\n" is optional */
    if (proto_decode(buf, len, &msg, &why) != 0 ||
        (msg.kind != PROTO_BEAT && (why = "not-a-beat"))) {
        io->bad++;
        evlog("ev=bad why=%s from=%s len=%zu", why, from, len);
        return;
    }
    struct mon_beat b = {msg.node, src->sin_addr.s_addr, src->sin_port, msg.inc, msg.seq};
    enum mon_beat_result r = monitor_on_beat(&io->m, &b, now_ms(), &evicted);
    if (r != MON_BEAT && r != MON_JOINED && r != MON_RECOVERED) {
        log_refused(io, r, &msg, from);
        return;
    }
    io->beats++;
    evlog("ev=recv from=%ld msg=%ld:%lu", msg.node, msg.node, msg.seq);
    if (evicted != MON_NONE)
        evlog("ev=forgotten worker=%ld why=table-full", evicted);
    monitor_update_critical(&io->m);
    long target = monitor_target(&io->m);
    if (r == MON_JOINED)
        evlog("ev=joined worker=%ld to=%s from=%s", msg.node, target_str(target, t, sizeof t),
              from);
    else if (r == MON_RECOVERED) {
        io->recoveries++;
        evlog("ev=recovered worker=%ld to=%s", msg.node, target_str(target, t, sizeof t));
    }
}

static void drain(struct mon_io *io)
{
    char buf[PROTO_MAX_LINE + 1];
    for (int i = 0; i < RECV_BATCH; i++) {
        struct sockaddr_in src;
        socklen_t slen = sizeof src;
        memset(&src, 0, sizeof src);
        ssize_t n = recvfrom(io->fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&src, &slen);
        if (n < 0)
            return; /* EAGAIN: drained; EINTR: the loop comes back */
        char from[32];
        addr_str(&src, from, sizeof from);
        if ((size_t)n > PROTO_MAX_LINE) { /* truncated by recvfrom: too long to be ours */
            io->bad++;
            evlog("ev=bad why=too-long from=%s", from);
            continue;
        }
        on_datagram(io, buf, (size_t)n, &src, from);
    }
}

/* STEP 3: the failure reaction of Q4: say who failed and where the orders go now. */
static void mon_tick(struct mon_io *io, int64_t now)
{
    long failed[MON_MAX_WORKERS];
    char t[16];
    int k = monitor_tick(&io->m, now, failed, MON_MAX_WORKERS);
    long target = monitor_target(&io->m);
    for (int j = 0; j < k; j++) {
        io->failures++;
        evlog("ev=failed worker=%ld to=%s", failed[j], target_str(target, t, sizeof t));
    }
    if (monitor_update_critical(&io->m))
        evlog("ev=critical why=no-alive-worker workers=%d", io->m.n);
    long gone[MON_MAX_WORKERS];
    k = monitor_forget(&io->m, now, gone, MON_MAX_WORKERS);
    for (int j = 0; j < k; j++) /* its id and address are free again */
        evlog("ev=forgotten worker=%ld why=silent", gone[j]);
    if (io->cfg->order_ms > 0 && now_ms() >= io->next_order) {
        io->orders++;
        evlog("ev=order id=%lu to=%s", io->orders, target_str(target, t, sizeof t));
        io->next_order += io->cfg->order_ms;
        if (io->next_order < now_ms())
            io->next_order = now_ms() + io->cfg->order_ms; /* after a SIGSTOP: no burst */
    }
}

static int mon_poll_timeout(const struct mon_io *io)
{
    int64_t next = monitor_next_deadline(&io->m);
    if (io->cfg->order_ms > 0 && io->next_order < next)
        next = io->next_order;
    if (next == INT64_MAX)
        return -1;
    int64_t left = next - now_ms();
    return left <= 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

int q4_monitor_main(const struct q4_config *cfg, int wake_fd)
{
    struct mon_io io = {.cfg = cfg};
    char a[32];
    addr_str(&cfg->bind, a, sizeof a);
    monitor_init(&io.m, cfg->timeout_ms, cfg->forget_ms);
    if ((io.fd = open_udp(cfg)) < 0) {
        fprintf(stderr, "heartbeat: monitor cannot bind %s: %s\n", a, strerror(errno));
        return -1;
    }
    evlog("ev=ready role=monitor addr=%s timeout=%d order_every=%d forget=%d", a, cfg->timeout_ms,
          cfg->order_ms, cfg->forget_ms);
    io.next_order = now_ms() + cfg->order_ms;
    int64_t last = now_ms(); /* when the previous turn of the loop measured its lateness */
    for (;;) {
        struct pollfd fds[2] = {{.fd = wake_fd, .events = POLLIN}, {.fd = io.fd, .events = POLLIN}};
        int wait = mon_poll_timeout(&io);
        if (poll(fds, 2, wait) < 0 && errno != EINTR) {
            evlog("ev=error op=poll err=\"%s\"", strerror(errno));
            break;
        }
        /* Woke up much later than asked: the monitor was stopped, not the workers. Measured from
         * one turn's measurement to the next (the work of a turn takes well under a ms), and the
         * workers are judged at this measurement (mon_tick below): a stop anywhere in a turn is
         * forgiven before it counts. */
        int64_t now = now_ms(), late = now - last - (wait < 0 ? 0 : wait);
        last = now;
        if (wait >= 0 && late > cfg->timeout_ms / 2) {
            monitor_forgive(&io.m, late);
            evlog("ev=stalled ms=%" PRId64, late);
        }
        if (fds[0].revents && woken(wake_fd))
            break;
        if (fds[1].revents)
            drain(&io);
        mon_tick(&io, now);
    }
    evlog("ev=stats beats=%lu workers=%d failures=%lu recoveries=%lu orders=%lu bad=%lu", io.beats,
          io.m.n, io.failures, io.recoveries, io.orders, io.bad);
    close(io.fd);
    return 0;
}

/* ---- the worker ------------------------------------------------------------ */

int q4_worker_main(const struct q4_config *cfg, int wake_fd)
{
    int fd = open_udp(cfg);
    char a[32], line[128];
    unsigned long seq = 0, failed = 0;
    /* The incarnation: our start time. A restart has a higher one, so the monitor can tell our
     * new beats (SEQ from 1 again) from old ones delivered late. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t inc = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    addr_str(&cfg->monitor, a, sizeof a);
    if (fd < 0) {
        fprintf(stderr, "heartbeat: worker cannot open its socket: %s\n", strerror(errno));
        return -1;
    }
    evlog("ev=ready role=worker monitor=%s interval=%d inc=%" PRIu64, a, cfg->interval_ms, inc);
    int64_t next = now_ms();
    for (;;) {
        int64_t left = next - now_ms();
        struct pollfd fd0 = {.fd = wake_fd, .events = POLLIN};
        if (poll(&fd0, 1, left <= 0 ? 0 : (int)left) < 0 && errno != EINTR)
            break;
        if (fd0.revents && woken(wake_fd))
            break;
        if (now_ms() < next)
            continue;
        size_t len = proto_encode_beat(line, sizeof line, cfg->id, inc, ++seq);
        /* UDP: a lost beat is what the monitor's timeout is for; we only count failures. */
        if (sendto(fd, line, len, 0, (const struct sockaddr *)&cfg->monitor, sizeof cfg->monitor) <
            0)
            failed++;
        else
            evlog("ev=send to=0 msg=%d:%lu", cfg->id, seq);
        next += cfg->interval_ms;
        if (next < now_ms())
            next = now_ms() + cfg->interval_ms;
    }
    evlog("ev=stats beats=%lu send_errors=%lu", seq - failed, failed);
    close(fd);
    return 0;
}
