/* node.c - one player: TCP to every peer, gold transfers, and the snapshot algorithm's I/O. */
#include "node.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "evlog.h"

#define MAX_GIFT 10 /* coins in one automatic transfer, at most */
#define MAX_BACKOFF_MS 1000

static const char *const item_names[] = {"espada", "escudo", "pocao", "arco", "flecha"};
#define NITEMS 5

/* ---- small helpers ---- */

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* splitmix64: small, seedable, and the same on every platform */
static uint64_t rnd(struct node *nd)
{
    uint64_t z = (nd->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* "espada+arco", or "none" */
static const char *items_str(uint8_t items, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int k = 0; k < NITEMS; k++)
        if (items & (1u << k))
            len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? "+" : "", item_names[k]);
    return len ? buf : "none";
}

int node_addr_str(const struct sockaddr_in *a, char *buf, size_t cap)
{
    char ip[INET_ADDRSTRLEN];
    if (!inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip))
        return -1;
    int n = snprintf(buf, cap, "%s:%u", ip, ntohs(a->sin_port));
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* ---- the wire: plain frames, or with --key signed ones (README "Group key") ---- */

/* Encode m for player `to`: a plain frame, or with --key a signed one with our next stamp. */
static size_t encode(struct node *nd, const struct proto_msg *m, int to, uint8_t *b, size_t cap)
{
    if (!nd->cfg->keyed)
        return proto_encode(m, b, cap);
    struct proto_msg s = *m;
    s.sender = (uint16_t)nd->cfg->id, s.to = (uint16_t)to;
    s.stamp = auth_next_stamp(&nd->stamp, auth_wall_us());
    return proto_encode_signed(&s, &nd->cfg->key, b, cap);
}

/* With --key only signed frames with a good tag are decoded; without, only plain ones. */
static int decode(const struct node *nd, const uint8_t *buf, size_t len, struct proto_msg *m)
{
    return nd->cfg->keyed ? proto_decode_signed(buf, len, &nd->cfg->key, m)
                          : proto_decode(buf, len, m);
}

/* STEP 6 (--key): the tag was good, so a member wrote m. Was it written by the player this
 * stream is from (sender), for us, and is it newer than the last one of its kind (g)? NULL if
 * so; the why= token if not. Without a key there is nothing to check. */
static const char *check_auth(struct node *nd, const struct proto_msg *m, int sender,
                              struct auth_guard *g)
{
    if (!nd->cfg->keyed)
        return NULL;
    if (m->sender != sender)
        return "wrong-sender"; /* signed by one member, in another's stream */
    if (m->to != nd->cfg->id)
        return "not-for-us"; /* signed for another player: replayed here */
    return auth_check_fresh(g, m, auth_wall_us());
}

/* ---- the sending side: a queue per peer, kept in order ---- */

static bool out_has_room(const struct peer_out *o, size_t len)
{
    return o->len + len + PROTO_MAX_FRAME <= NODE_OUTBUF; /* room kept for the HELLO */
}

/* Queue m for peer j, behind everything queued before it: this is what keeps
 * each channel FIFO, delays or not. False if the peer is dead or the queue full. */
static bool queue_frame(struct node *nd, int j, const struct proto_msg *m)
{
    struct peer_out *o = &nd->out[j];
    uint8_t b[PROTO_MAX_FRAME];
    if (o->st == OUT_DEAD)
        return false;
    /* Stamped now, in queue order: the channel is one connection, so they arrive in order. */
    size_t len = encode(nd, m, j, b, sizeof b);
    if (len == 0)
        return false;
    if (nd->cfg->delay_ms == 0) {
        if (!out_has_room(o, len))
            return false;
        memcpy(o->buf + o->len, b, len);
        o->len += len;
        return true;
    }
    if (o->qlen == NODE_DELAYQ)
        return false;
    int64_t at = now_us() + (int64_t)(rnd(nd) % ((uint64_t)nd->cfg->delay_ms * 1000 + 1));
    if (at < o->last_at_us)
        at = o->last_at_us; /* never overtake the frame before: jitter, but FIFO */
    struct held *h = &o->q[(o->qhead + o->qlen++) % NODE_DELAYQ];
    h->at_us = o->last_at_us = at, h->len = (uint8_t)len;
    memcpy(h->bytes, b, len);
    return true;
}

/* Move frames whose time has come from the delay ring to the byte buffer. */
static void release_due(struct peer_out *o, int64_t now)
{
    while (o->qlen > 0) {
        struct held *h = &o->q[o->qhead];
        if (h->at_us > now || !out_has_room(o, h->len))
            return;
        memcpy(o->buf + o->len, h->bytes, h->len);
        o->len += h->len;
        o->qhead = (o->qhead + 1) % NODE_DELAYQ, o->qlen--;
    }
}

static void peer_dead(struct node *nd, int j, const char *why);

static void flush_out(struct node *nd, int j)
{
    struct peer_out *o = &nd->out[j];
    while (o->st == OUT_UP && o->len > 0) {
        ssize_t w = send(o->fd, o->buf, o->len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (w <= 0) {
            peer_dead(nd, j, "send_failed");
            return;
        }
        memmove(o->buf, o->buf + w, o->len - (size_t)w);
        o->len -= (size_t)w;
    }
}

/* ---- connecting out, with backoff while the peer is not up yet ---- */

static void connect_failed(struct node *nd, int j)
{
    struct peer_out *o = &nd->out[j];
    close(o->fd);
    o->fd = -1, o->st = OUT_IDLE;
    o->retry_us = now_us() + (int64_t)o->backoff_ms * 1000;
    o->backoff_ms = o->backoff_ms * 2 > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : o->backoff_ms * 2;
}

/* Send one small frame right away on a fresh socket (its send buffer is empty, so a frame of a
 * few bytes always fits). Returns false if it could not be sent whole. */
static bool send_now(struct node *nd, int fd, int to, const struct proto_msg *m)
{
    uint8_t b[PROTO_MAX_FRAME];
    size_t len = encode(nd, m, to, b, sizeof b);
    ssize_t w;
    do
        w = send(fd, b, len, MSG_NOSIGNAL);
    while (w < 0 && errno == EINTR);
    return w == (ssize_t)len;
}

/* Connected: say who we are, then wait for the peer's WELCOME before sending anything else.
 * Until then the connection could be to a process that is not our peer (a port reused by
 * someone else before the peer started): nothing but the HELLO may be lost there. */
static void connected(struct node *nd, int j)
{
    struct peer_out *o = &nd->out[j];
    struct proto_msg hello = {.type = PROTO_HELLO, .from = (uint16_t)nd->cfg->id};
    if (!send_now(nd, o->fd, j, &hello)) {
        connect_failed(nd, j);
        return;
    }
    o->st = OUT_HELLO, o->wlen = 0;
}

/* OUT_HELLO and something to read: the WELCOME (the connection is up), or the end of it (retry). */
static void welcome_readable(struct node *nd, int j)
{
    struct peer_out *o = &nd->out[j];
    struct proto_msg m;
    ssize_t r = recv(o->fd, o->welcome + o->wlen, sizeof o->welcome - o->wlen, 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) {
        connect_failed(nd, j); /* refused our HELLO or went away: not our peer, or not yet */
        return;
    }
    o->wlen += (size_t)r;
    int d = decode(nd, o->welcome, o->wlen, &m);
    if (d == 0)
        return;
    const char *why = NULL;
    if (d == PROTO_EMAC || d == PROTO_ENOKEY)
        why = proto_strerror(d); /* it does not hold our key */
    else if (d != (int)o->wlen || m.type != PROTO_WELCOME || m.from != j)
        why = "bad_welcome"; /* whoever answered is not player j */
    else
        why = check_auth(nd, &m, j, &nd->g_welcome);
    if (why) {
        nd->n_bad++;
        evlog("ev=bad why=%s to=%d", why, j);
        connect_failed(nd, j);
        return;
    }
    o->st = OUT_UP, o->ever_up = true, o->backoff_ms = 10;
    evlog("ev=connect to=%d", j);
}

static void connect_done(struct node *nd, int j);

static void start_connect(struct node *nd, int j)
{
    struct peer_out *o = &nd->out[j];
    o->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (o->fd < 0) {
        o->retry_us = now_us() + MAX_BACKOFF_MS * 1000;
        return;
    }
    if (set_nonblock(o->fd) < 0) {
        connect_failed(nd, j);
        return;
    }
    o->st = OUT_CONNECTING;
    const struct sockaddr_in *a = &nd->cfg->addrs[j];
    if (connect(o->fd, (const struct sockaddr *)a, sizeof *a) == 0)
        connect_done(nd, j);
    else if (errno != EINPROGRESS)
        connect_failed(nd, j);
}

/* TCP "self-connect": connecting to a local port nobody listens on yet can, rarely, pick that
 * very port as our own source port, and the kernel then connects the socket to itself (simultaneous
 * open). It looks like a working connection to the peer, so check and treat it as a failure. */
static bool self_connected(int fd)
{
    struct sockaddr_in a, b;
    socklen_t alen = sizeof a, blen = sizeof b;
    if (getsockname(fd, (struct sockaddr *)&a, &alen) < 0 ||
        getpeername(fd, (struct sockaddr *)&b, &blen) < 0)
        return true; /* not connected after all */
    return a.sin_port == b.sin_port && a.sin_addr.s_addr == b.sin_addr.s_addr;
}

/* The non-blocking connect finished: did it work? */
static void connect_done(struct node *nd, int j)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(nd->out[j].fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
        connect_failed(nd, j);
    } else if (self_connected(nd->out[j].fd)) {
        evlog("ev=self_connect to=%d", j); /* rare: worth seeing in a log */
        connect_failed(nd, j);
    } else {
        connected(nd, j);
    }
}

/* ---- inbound connections ---- */

static void conn_close(struct conn *c)
{
    close(c->fd);
    c->fd = -1, c->peer = -1, c->len = 0, c->spoke = false;
}

/* A peer is gone (its stream ended or broke): both our streams with it close
 * and every snapshot that still needs it is reported incomplete. */
static void peer_dead(struct node *nd, int j, const char *why)
{
    struct peer_out *o = &nd->out[j];
    if (o->st == OUT_DEAD)
        return;
    evlog("ev=peer_down peer=%d why=%s", j, why);
    if (o->fd >= 0)
        close(o->fd);
    o->fd = -1, o->st = OUT_DEAD, o->len = 0, o->qlen = 0;
    for (int k = 0; k < NODE_MAX_CONNS; k++)
        if (nd->conns[k].fd >= 0 && nd->conns[k].peer == j)
            conn_close(&nd->conns[k]);
    snap_peer_down(&nd->snap, j);
}

static void bad(struct node *nd, struct conn *c, const char *why)
{
    nd->n_bad++;
    if (c->peer >= 0)
        evlog("ev=bad why=%s from=%d", why, c->peer);
    else
        evlog("ev=bad why=%s from=?", why);
}

/* Close c. If it was a peer's channel, that channel is gone, which is the same as the peer
 * dying; a claim that never spoke was not the channel (conntab.h), so nobody died. */
static void end_conn(struct node *nd, struct conn *c, const char *why)
{
    int peer = c->spoke ? c->peer : -1;
    conn_close(c);
    if (peer >= 0)
        peer_dead(nd, peer, why);
}

/* A malformed stream cannot be resynchronised: log it and close it. */
static void drop_conn(struct node *nd, struct conn *c, const char *why)
{
    bad(nd, c, why);
    end_conn(nd, c, why);
}

static void accept_one(struct node *nd)
{
    int fd = accept(nd->lfd, NULL, NULL);
    if (fd < 0)
        return; /* the peer gave up already, or EMFILE: nothing to do now */
    int k = ctab_free(nd->conns, NODE_MAX_CONNS);
    if (k < 0 && (k = ctab_oldest_stranger(nd->conns, NODE_MAX_CONNS)) >= 0) {
        /* Full: the oldest connection still silent makes room, so silent ones cannot fill the
         * table for good (a real peer sends its HELLO at once). */
        bad(nd, &nd->conns[k], "evicted");
        conn_close(&nd->conns[k]);
    }
    if (k < 0 || set_nonblock(fd) < 0) {
        nd->n_bad++;
        evlog("ev=bad why=too_many_connections from=?");
        close(fd);
        return;
    }
    nd->conns[k] = (struct conn){.fd = fd, .peer = -1, .since_us = now_us()};
}

/* Strangers that did not say HELLO in time are closed. Returns when the next one is due. */
static int64_t expire_strangers(struct node *nd, int64_t now)
{
    int64_t limit = (int64_t)nd->cfg->hello_ms * 1000;
    int k;
    while ((k = ctab_expired(nd->conns, NODE_MAX_CONNS, now, limit)) >= 0) {
        bad(nd, &nd->conns[k], "hello_timeout");
        conn_close(&nd->conns[k]);
    }
    return ctab_next_expiry(nd->conns, NODE_MAX_CONNS, limit);
}

/* ---- what the algorithm asks of us (struct snap_ops) ---- */

static void op_record(void *ctx, const struct snap *s)
{
    (void)ctx;
    char it[64];
    evlog("ev=record snap=%d:%u gold=%u life=%u score=%u items=%s", s->init, s->n, s->rec.gold,
          s->rec.life, s->rec.score, items_str(s->rec.items, it, sizeof it));
}

static void op_markers(void *ctx, const struct snap *s)
{
    struct node *nd = ctx;
    struct proto_msg m = {.type = PROTO_MARKER, .init = (uint16_t)s->init, .n = s->n};
    for (int j = 0; j < nd->cfg->n; j++)
        if (j != nd->cfg->id && nd->out[j].st != OUT_DEAD && !queue_frame(nd, j, &m))
            nd->out[j].doomed = true; /* a marker must never be lost: give up on j */
}

static void op_marker(void *ctx, const struct snap *s, int from)
{
    struct node *nd = ctx;
    nd->n_markers++;
    evlog("ev=marker snap=%d:%u from=%d", s->init, s->n, from);
}

static void op_chan(void *ctx, const struct snap *s, int from, uint32_t seq, uint32_t gold)
{
    (void)ctx;
    evlog("ev=chan snap=%d:%u from=%d msg=%d:%u gold=%u", s->init, s->n, from, from, seq, gold);
}

static void op_report(void *ctx, const struct snap_report *r)
{
    struct node *nd = ctx;
    struct proto_msg m = {.type = PROTO_REPORT,
                          .init = (uint16_t)r->init,
                          .n = r->n,
                          .from = (uint16_t)r->from,
                          .ok = r->ok,
                          .gold = r->st.gold,
                          .life = r->st.life,
                          .score = r->st.score,
                          .items = r->st.items,
                          .chan_gold = r->chan_gold,
                          .chan_msgs = r->chan_msgs};
    evlog("ev=report snap=%d:%u to=%d ok=%d gold=%u chan_gold=%u chan_msgs=%u", r->init, r->n,
          r->init, r->ok, r->st.gold, r->chan_gold, r->chan_msgs);
    if (!queue_frame(nd, r->init, &m) && nd->out[r->init].st != OUT_DEAD)
        nd->out[r->init].doomed = true;
}

static void maybe_done(struct node *nd)
{
    const struct snap_node *sn = &nd->snap;
    if (!nd->done_logged && nd->cfg->snapshots > 0 && nd->timed_left == 0 &&
        sn->complete + sn->incomplete == sn->started) {
        nd->done_logged = true;
        evlog("ev=done snapshots=%llu complete=%llu incomplete=%llu",
              (unsigned long long)sn->started, (unsigned long long)sn->complete,
              (unsigned long long)sn->incomplete);
    }
}

/* We initiated s and it is over: print the global state, or why there is none. */
static void op_finish(void *ctx, const struct snap *s)
{
    struct node *nd = ctx;
    if (s->failed) {
        evlog("ev=snapshot snap=%d:%u complete=0 why=peer_lost peer=%d", s->init, s->n, s->lost);
        maybe_done(nd);
        return;
    }
    char states[16 * PROTO_MAX_NODES], it[64];
    size_t len = 0;
    uint64_t total = 0, chan_gold = 0, chan_msgs = 0;
    for (int j = 0; j < nd->cfg->n; j++) {
        const struct snap_report *r = &s->rep[j];
        evlog("ev=state snap=%d:%u player=%d gold=%u life=%u score=%u items=%s chan_gold=%u "
              "chan_msgs=%u",
              s->init, s->n, j, r->st.gold, r->st.life, r->st.score,
              items_str(r->st.items, it, sizeof it), r->chan_gold, r->chan_msgs);
        len +=
            (size_t)snprintf(states + len, sizeof states - len, "%s%u", j ? "," : "", r->st.gold);
        total += r->st.gold + r->chan_gold;
        chan_gold += r->chan_gold, chan_msgs += r->chan_msgs;
    }
    evlog("ev=snapshot snap=%d:%u complete=1 total=%llu states=%s chan_gold=%llu chan_msgs=%llu",
          s->init, s->n, (unsigned long long)total, states, (unsigned long long)chan_gold,
          (unsigned long long)chan_msgs);
    maybe_done(nd);
}

/* ---- messages from peers ---- */

/* Coins arrive: refused unless an honest sender could have sent them (acct.h). Returns true
 * if they were accepted. */
static bool on_xfer(struct node *nd, struct conn *c, const struct proto_msg *m)
{
    const char *why = acct_check(&nd->acct, c->peer, m->seq, m->gold, nd->st.gold);
    if (why) {
        nd->n_bad++;
        evlog("ev=bad why=%s from=%d msg=%d:%u gold=%u have=%u", why, c->peer, c->peer, m->seq,
              m->gold, nd->st.gold);
        return false;
    }
    acct_accept(&nd->acct, c->peer, m->seq);
    snap_on_xfer(&nd->snap, c->peer, m->seq, m->gold); /* before the gold changes our state */
    nd->st.gold += m->gold;
    nd->n_recv++, nd->gold_recv += m->gold;
    evlog("ev=recv msg=%d:%u from=%d gold=%u have=%u", c->peer, m->seq, c->peer, m->gold,
          nd->st.gold);
    return true;
}

/* Returns true if the report was taken (late ones included). */
static bool on_report(struct node *nd, struct conn *c, const struct proto_msg *m)
{
    if (m->from != c->peer) {
        bad(nd, c, "forged_report"); /* only a player itself may report its state */
        return false;
    }
    struct snap_report r = {.init = m->init,
                            .n = m->n,
                            .from = m->from,
                            .ok = m->ok,
                            .st = {m->gold, m->life, m->score, m->items},
                            .chan_gold = m->chan_gold,
                            .chan_msgs = m->chan_msgs};
    int res = snap_on_report(&nd->snap, &r);
    if (res == SNAP_BAD)
        bad(nd, c, "bad_report");
    else if (res == SNAP_STALE)
        evlog("ev=late_report snap=%d:%u from=%d", m->init, m->n, m->from);
    return res != SNAP_BAD;
}

/* The first frame on a stream must say who sends on it. */
static bool on_hello(struct node *nd, struct conn *c, const struct proto_msg *m)
{
    const char *why = NULL;
    if (m->type != PROTO_HELLO)
        why = "no_hello";
    else if (m->from >= nd->cfg->n || m->from == nd->cfg->id)
        why = "bad_hello";
    else if (nd->out[m->from].st == OUT_DEAD)
        why = "dead_peer";
    int victim = -1;
    enum ctab_hello h = CTAB_ACCEPT;
    if (!why)
        h = ctab_on_hello(nd->conns, NODE_MAX_CONNS, (int)(c - nd->conns), m->from, &victim);
    if (h == CTAB_TAKEN)
        why = "dup_peer"; /* that player's channel is up and talking: this one is not it */
    if (why) {
        drop_conn(nd, c, why);
        return false;
    }
    if (h == CTAB_EVICT) { /* too many silent claims to be that player: the oldest goes */
        bad(nd, &nd->conns[victim], "stale_claim");
        conn_close(&nd->conns[victim]);
    }
    struct proto_msg welcome = {.type = PROTO_WELCOME, .from = (uint16_t)nd->cfg->id};
    if (!send_now(nd, c->fd, m->from, &welcome)) {
        conn_close(c); /* it went away already; it will connect again */
        return false;
    }
    c->peer = m->from, c->since_us = now_us();
    evlog("ev=accept from=%d", c->peer);
    return true;
}

/* c's frame was accepted: c is now its player's channel, and other claims to be it are not. */
static void spoke(struct node *nd, struct conn *c)
{
    if (c->spoke)
        return;
    c->spoke = true;
    int k;
    while ((k = ctab_rival(nd->conns, NODE_MAX_CONNS, (int)(c - nd->conns))) >= 0) {
        bad(nd, &nd->conns[k], "rival_claim");
        conn_close(&nd->conns[k]);
    }
}

/* With --key, a frame that is not its sender's own, for us and fresh closes its connection: a
 * member never sends one, and dropping it alone could lose coins or a marker. Returns false
 * then. A HELLO is checked against the id it claims, the rest against the channel's player. */
static bool authentic(struct node *nd, struct conn *c, const struct proto_msg *m)
{
    const char *why = NULL;
    if (c->peer >= 0)
        why = check_auth(nd, m, c->peer, &nd->g_chan);
    else if (m->type == PROTO_HELLO)
        why = check_auth(nd, m, m->from, &nd->g_hello);
    if (why)
        drop_conn(nd, c, why);
    return why == NULL;
}

/* Returns false if c was closed. */
static bool on_msg(struct node *nd, struct conn *c, const struct proto_msg *m)
{
    bool ok = false;
    if (!authentic(nd, c, m))
        return false;
    if (c->peer < 0)
        return on_hello(nd, c, m);
    switch (m->type) {
    case PROTO_HELLO: drop_conn(nd, c, "dup_hello"); return false;
    case PROTO_WELCOME: drop_conn(nd, c, "unexpected_welcome"); return false;
    case PROTO_XFER: ok = on_xfer(nd, c, m); break;
    case PROTO_MARKER:
        ok = snap_on_marker(&nd->snap, c->peer, m->init, m->n, &nd->st) != SNAP_BAD;
        if (!ok)
            bad(nd, c, "bad_marker");
        break;
    case PROTO_REPORT: ok = on_report(nd, c, m); break;
    }
    if (ok && c->fd >= 0)
        spoke(nd, c);
    return c->fd >= 0;
}

/* Decode every whole frame in c's buffer; keep a partial one for the next read. */
static bool decode_all(struct node *nd, struct conn *c)
{
    size_t off = 0;
    for (;;) {
        struct proto_msg m;
        int r = decode(nd, c->buf + off, c->len - off, &m);
        if (r < 0) {
            drop_conn(nd, c, proto_strerror(r));
            return false;
        }
        if (r == 0)
            break;
        off += (size_t)r;
        if (!on_msg(nd, c, &m))
            return false;
    }
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
    return true;
}

static void conn_readable(struct node *nd, struct conn *c)
{
    ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (r > 0) {
        c->len += (size_t)r;
        decode_all(nd, c);
        return;
    }
    /* End of stream (or reset): a stream may only end between frames. */
    if (c->len > 0)
        bad(nd, c, "truncated");
    end_conn(nd, c, r == 0 ? "eof" : "reset");
}

/* ---- our own actions: transfers, snapshots, commands ---- */

static void start_snapshot(struct node *nd, const char *by)
{
    if (snap_active(&nd->snap) == SNAP_MAX_ACTIVE) {
        evlog("ev=snapshot snap=%d:0 complete=0 why=busy", nd->cfg->id);
        return;
    }
    evlog("ev=initiate snap=%d:%u by=%s", nd->cfg->id, nd->snap.next_n + 1, by);
    snap_start(&nd->snap, &nd->st);
}

static bool can_send_to(const struct node *nd, int j)
{
    const struct peer_out *o = &nd->out[j];
    return j != nd->cfg->id && o->st == OUT_UP && o->len < NODE_OUTBUF / 2 &&
           o->qlen < NODE_DELAYQ / 2; /* a stopped peer must not eat all our gold */
}

static void give(struct node *nd, int j, uint32_t amount)
{
    struct proto_msg m = {.type = PROTO_XFER, .seq = nd->seq + 1, .gold = amount};
    if (amount == 0 || amount > nd->st.gold || nd->seq == UINT32_MAX || !can_send_to(nd, j) ||
        !queue_frame(nd, j, &m)) { /* seq never wraps: receivers would take 1 for a replay */
        fprintf(stderr, "player: cannot give %u to %d now (have %u)\n", amount, j, nd->st.gold);
        return;
    }
    nd->seq++, nd->st.gold -= amount;
    nd->n_sent++, nd->gold_sent += amount;
    evlog("ev=send msg=%d:%u to=%d gold=%u have=%u", nd->cfg->id, nd->seq, j, amount, nd->st.gold);
}

/* A turn of the game: life and score drift, an item may change hands, some gold goes out. */
static void play_turn(struct node *nd)
{
    struct snap_state *st = &nd->st;
    st->life = (uint32_t)((st->life + 95 + rnd(nd) % 11) % 100) + 1;
    st->score += (uint32_t)(rnd(nd) % 20);
    if (rnd(nd) % 8 == 0)
        st->items ^= (uint8_t)(1u << (rnd(nd) % NITEMS));
    int ups[PROTO_MAX_NODES], n = 0;
    for (int j = 0; j < nd->cfg->n; j++)
        if (can_send_to(nd, j))
            ups[n++] = j;
    if (n == 0 || st->gold == 0)
        return;
    uint32_t most = st->gold < MAX_GIFT ? st->gold : MAX_GIFT;
    give(nd, ups[rnd(nd) % (uint64_t)n], 1 + (uint32_t)(rnd(nd) % most));
}

static int64_t jitter_us(struct node *nd, uint32_t ms)
{
    /* uniform in [ms/2, 3ms/2]: nodes do not march in step */
    return (int64_t)ms * 500 + (int64_t)(rnd(nd) % ((uint64_t)ms * 1000 + 1));
}

static void command(struct node *nd, char *line)
{
    unsigned j, g;
    char extra;
    if (strcmp(line, "snap") == 0)
        start_snapshot(nd, "stdin");
    else if (sscanf(line, "give %u %u %c", &j, &g, &extra) == 2 && j < (unsigned)nd->cfg->n)
        give(nd, (int)j, g);
    else if (strcmp(line, "state") == 0)
        fprintf(stderr, "player %d: gold=%u life=%u score=%u\n", nd->cfg->id, nd->st.gold,
                nd->st.life, nd->st.score);
    else if (line[0] != '\0')
        fprintf(stderr, "player: commands: snap | give <player> <gold> | state\n");
}

static void stdin_readable(struct node *nd)
{
    ssize_t r = read(nd->in_fd, nd->line + nd->line_len, sizeof nd->line - 1 - nd->line_len);
    if (r < 0 && errno == EINTR)
        return;
    if (r <= 0) {
        nd->in_fd = -1; /* EOF: no more commands, the game goes on */
        return;
    }
    nd->line_len += (size_t)r;
    char *nl;
    while ((nl = memchr(nd->line, '\n', nd->line_len)) != NULL) {
        *nl = '\0';
        command(nd, nd->line);
        size_t used = (size_t)(nl - nd->line) + 1;
        memmove(nd->line, nl + 1, nd->line_len - used);
        nd->line_len -= used;
    }
    if (nd->line_len == sizeof nd->line - 1)
        nd->line_len = 0; /* a line too long to be a command */
}

/* ---- set-up and the loop ---- */

int node_open(struct node *nd, const struct node_config *cfg, int wake_fd, int in_fd)
{
    memset(nd, 0, sizeof *nd);
    nd->cfg = cfg, nd->wake_fd = wake_fd, nd->in_fd = in_fd, nd->rng = cfg->seed;
    nd->out = calloc((size_t)cfg->n, sizeof *nd->out);
    nd->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (!nd->out || nd->lfd < 0)
        return -1;
    int one = 1;
    if (setsockopt(nd->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(nd->lfd, (const struct sockaddr *)&cfg->addrs[cfg->id], sizeof cfg->addrs[0]) < 0 ||
        listen(nd->lfd, 64) < 0 || set_nonblock(nd->lfd) < 0)
        return -1;
    for (int k = 0; k < NODE_MAX_CONNS; k++)
        nd->conns[k] = (struct conn){.fd = -1, .peer = -1};
    for (int j = 0; j < cfg->n; j++)
        nd->out[j].fd = -1, nd->out[j].backoff_ms = 10;
    nd->st = (struct snap_state){
        .gold = cfg->gold, .life = 100, .score = 0, .items = (uint8_t)(1u << (cfg->id % NITEMS))};
    nd->ops =
        (struct snap_ops){nd, op_record, op_markers, op_marker, op_chan, op_report, op_finish};
    snap_init(&nd->snap, cfg->id, cfg->n, &nd->ops);
    acct_init(&nd->acct, cfg->n, cfg->gold);
    return 0;
}

static bool is_initiator(const struct node *nd)
{
    return nd->cfg->snap_every_ms > 0 && (nd->cfg->initiators & (1u << nd->cfg->id));
}

/* Timers that are due; returns the poll() timeout to the next one, in ms. */
static int run_timers(struct node *nd)
{
    int64_t now = now_us(), next = now + 1000000, hello_due = expire_strangers(nd, now);
    if (hello_due < next)
        next = hello_due;
    for (int j = 0; j < nd->cfg->n; j++) {
        struct peer_out *o = &nd->out[j];
        if (o->doomed) /* set inside the algorithm's callbacks, acted on here, outside them */
            peer_dead(nd, j, "queue_full");
        if (j != nd->cfg->id && o->st == OUT_IDLE && o->retry_us <= now)
            start_connect(nd, j);
        if (o->st == OUT_IDLE && o->retry_us < next)
            next = o->retry_us;
        release_due(o, now);
        if (o->qlen > 0 && o->q[o->qhead].at_us < next)
            next = o->q[o->qhead].at_us;
        flush_out(nd, j);
    }
    if (nd->cfg->interval_ms > 0) {
        if (nd->next_xfer_us <= now) {
            play_turn(nd);
            nd->next_xfer_us = now + jitter_us(nd, nd->cfg->interval_ms);
        }
        next = nd->next_xfer_us < next ? nd->next_xfer_us : next;
    }
    if (is_initiator(nd) && (nd->cfg->snapshots == 0 || nd->timed_left > 0)) {
        if (nd->next_snap_us <= now) {
            nd->timed_left -= nd->timed_left > 0;
            nd->next_snap_us = now + (int64_t)nd->cfg->snap_every_ms * 1000;
            start_snapshot(nd, "timer");
            maybe_done(nd);
        }
        next = nd->next_snap_us < next ? nd->next_snap_us : next;
    }
    now = now_us();
    return next <= now ? 0 : (int)((next - now + 999) / 1000);
}

/* Which descriptor each pollfd is: kind and index. */
enum { P_WAKE, P_LISTEN, P_STDIN, P_OUT, P_CONN };
struct pslot {
    int kind, idx;
};

static int build_poll(struct node *nd, struct pollfd *p, struct pslot *ps)
{
    int n = 0;
    p[n] = (struct pollfd){nd->wake_fd, POLLIN, 0}, ps[n++] = (struct pslot){P_WAKE, 0};
    p[n] = (struct pollfd){nd->lfd, POLLIN, 0}, ps[n++] = (struct pslot){P_LISTEN, 0};
    if (nd->in_fd >= 0)
        p[n] = (struct pollfd){nd->in_fd, POLLIN, 0}, ps[n++] = (struct pslot){P_STDIN, 0};
    for (int j = 0; j < nd->cfg->n; j++) {
        struct peer_out *o = &nd->out[j];
        if (o->fd < 0 || o->st == OUT_DEAD)
            continue;
        /* Once UP the peer never writes to this stream again: POLLIN means it ended. */
        short evs = o->st == OUT_CONNECTING ? POLLOUT
                    : o->st == OUT_HELLO    ? POLLIN
                                            : (short)(POLLIN | (o->len ? POLLOUT : 0));
        p[n] = (struct pollfd){o->fd, evs, 0}, ps[n++] = (struct pslot){P_OUT, j};
    }
    for (int k = 0; k < NODE_MAX_CONNS; k++)
        if (nd->conns[k].fd >= 0)
            p[n] = (struct pollfd){nd->conns[k].fd, POLLIN, 0}, ps[n++] = (struct pslot){P_CONN, k};
    return n;
}

/* Returns false when it is time to stop. */
static bool wake_readable(struct node *nd)
{
    char b[16];
    ssize_t r = read(nd->wake_fd, b, sizeof b);
    bool stop = false;
    for (ssize_t k = 0; k < r; k++) {
        if (b[k] == 'u')
            start_snapshot(nd, "signal");
        else
            stop = true;
    }
    return !stop;
}

static void out_event(struct node *nd, int j, short re)
{
    struct peer_out *o = &nd->out[j];
    if (o->st == OUT_CONNECTING) {
        connect_done(nd, j);
        return;
    }
    if (o->st == OUT_HELLO) {
        welcome_readable(nd, j);
        return;
    }
    if (re & (POLLIN | POLLERR | POLLHUP)) {
        char b[64];
        ssize_t r = recv(o->fd, b, sizeof b, 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        peer_dead(nd, j, r == 0 ? "eof" : r < 0 ? "reset" : "unexpected_data");
        return;
    }
    flush_out(nd, j);
}

static bool dispatch(struct node *nd, const struct pollfd *p, const struct pslot *ps, int n)
{
    for (int k = 0; k < n; k++) {
        if (!p[k].revents)
            continue;
        switch (ps[k].kind) {
        case P_WAKE:
            if (!wake_readable(nd))
                return false;
            break;
        case P_LISTEN: accept_one(nd); break;
        case P_STDIN: stdin_readable(nd); break;
        case P_OUT:
            if (nd->out[ps[k].idx].fd == p[k].fd)
                out_event(nd, ps[k].idx, p[k].revents);
            break;
        case P_CONN:
            if (nd->conns[ps[k].idx].fd == p[k].fd)
                conn_readable(nd, &nd->conns[ps[k].idx]);
            break;
        }
    }
    return true;
}

int node_run(struct node *nd)
{
    struct pollfd p[3 + PROTO_MAX_NODES + NODE_MAX_CONNS];
    struct pslot ps[3 + PROTO_MAX_NODES + NODE_MAX_CONNS];
    evlog("ev=ready port=%u players=%d gold=%u seed=%llu",
          ntohs(nd->cfg->addrs[nd->cfg->id].sin_port), nd->cfg->n, nd->cfg->gold,
          (unsigned long long)nd->cfg->seed);
    int64_t now = now_us();
    nd->timed_left = nd->cfg->snapshots;
    nd->next_xfer_us = now + jitter_us(nd, nd->cfg->interval_ms ? nd->cfg->interval_ms : 1);
    nd->next_snap_us = now + (int64_t)nd->cfg->snap_every_ms * 1000;
    for (;;) {
        int timeout = run_timers(nd);
        int n = build_poll(nd, p, ps);
        int r = poll(p, (nfds_t)n, timeout);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (!dispatch(nd, p, ps, n))
            return 0;
    }
}

void node_log_stats(const struct node *nd)
{
    const struct snap_node *sn = &nd->snap;
    evlog("ev=stats sent=%llu recv=%llu gold=%u gold_sent=%llu gold_recv=%llu markers=%llu "
          "bad=%llu snapshots=%llu complete=%llu incomplete=%llu",
          (unsigned long long)nd->n_sent, (unsigned long long)nd->n_recv, nd->st.gold,
          (unsigned long long)nd->gold_sent, (unsigned long long)nd->gold_recv,
          (unsigned long long)nd->n_markers, (unsigned long long)nd->n_bad,
          (unsigned long long)sn->started, (unsigned long long)sn->complete,
          (unsigned long long)sn->incomplete);
}

void node_close(struct node *nd)
{
    for (int k = 0; k < NODE_MAX_CONNS; k++)
        if (nd->conns[k].fd >= 0)
            conn_close(&nd->conns[k]);
    for (int j = 0; nd->out && j < nd->cfg->n; j++)
        if (nd->out[j].fd >= 0)
            close(nd->out[j].fd);
    if (nd->lfd >= 0)
        close(nd->lfd);
    free(nd->out);
    nd->out = NULL;
}
