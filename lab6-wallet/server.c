/* server.c - the wallet server: accept loop, a thread per connection, the request handlers.
 *
 * Locking (README "Locking"): two mutexes, never held together.
 *   s->mu       guards s->bank (every wallet, the idempotency table) and the order of ledger
 *               appends: a transfer is prepared, appended and installed under it, so no other
 *               thread sees or changes the two balances in between.
 *   s->conn_mu  guards the connection list and its counters.
 * The ledger has its own internal mutex for group commit (ledger.c); threads wait for the disk
 * after releasing s->mu, so one slow fdatasync does not stop other transfers from being
 * prepared (group commit). Event lines are written outside every lock, except the balance
 * dump (DUMP and the stop), which must be one consistent picture. */
#define _GNU_SOURCE /* accept4, getrandom */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "evlog.h"

#define THREAD_STACK (256 * 1024) /* 1000 idle clients: 256 MB of address space, little RSS */
#define REPLY_MAX 256

struct conn {
    int fd;
    long long id;
    bool dead; /* a reply could not be sent (the client does not read): close */
    struct server *s;
    struct conn *prev, *next; /* s->conns, guarded by s->conn_mu */
    long long line_start;     /* guarded by s->conn_mu: when its unfinished line began, or 0 */
    bool evicted;             /* guarded by s->conn_mu: closed to make room (accept_one) */
};

struct server {
    struct server_opts o;
    int lfd;
    int stop_fd;        /* readable: stop (a signalfd for SIGINT and SIGTERM; see server_main.c) */
    pthread_mutex_t mu; /* guards bank and the order of ledger appends */
    struct bank bank;
    struct ledger *lg;
    long long transfers;     /* guarded by mu */
    pthread_mutex_t conn_mu; /* guards everything down to conn_cv */
    struct conn *conns;
    int nconns;
    long long accepted, refused, timeouts;
    int evicting;           /* evicted connections whose thread has not ended yet */
    pthread_cond_t conn_cv; /* nconns went down */
};

static long long now_s(void)
{
    return (long long)time(NULL); /* wall clock: key epochs must survive a restart */
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- replies ---- */

/* False if the client is gone, or has not read for SO_SNDTIMEO (set in accept_one). */
static bool send_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n, len -= (size_t)n;
    }
    return true;
}

static void conn_send(struct conn *c, const char *p, size_t len)
{
    if (c->dead || send_all(c->fd, p, len))
        return;
    c->dead = true; /* serve() closes it: a client that never reads cannot hold a slot */
    if (errno == EAGAIN || errno == EWOULDBLOCK) { /* SO_SNDTIMEO: not a client that left */
        pthread_mutex_lock(&c->s->conn_mu);
        c->s->timeouts++;
        pthread_mutex_unlock(&c->s->conn_mu);
        evlog("ev=bad why=slow-reader ms=%d conn=%lld", c->s->o.line_timeout_ms, c->id);
    }
}

static void reply_err(struct conn *c, int code, const char *token, const char *text)
{
    char out[REPLY_MAX];
    size_t n = proto_err_reply(out, sizeof out, code, token, text);
    conn_send(c, out, n);
    evlog("ev=bad why=%s code=%d conn=%lld", token, code, c->id);
}

static void reply_bank_err(struct conn *c, int err)
{
    static const char *const texts[] = {"no wallet has that name",
                                        "the secret is not this wallet's",
                                        "no wallet has that key",
                                        "that key has rotated: ask KEY <name> for the current one",
                                        "a wallet cannot pay itself",
                                        "not enough money in the wallet",
                                        "this request id was used for another transfer",
                                        "that name is registered already",
                                        "the server holds as many wallets as it may"};
    int code;
    const char *token = bank_err_token(err, &code);
    int k = BK_NO_WALLET - err;
    const char *text = k >= 0 && k < 9 ? texts[k] : "internal error";
    if (err == BK_FUNDS) { /* a normal refusal, not bad input: no ev=bad line */
        char out[REPLY_MAX];
        conn_send(c, out, proto_err_reply(out, sizeof out, code, token, text));
        return;
    }
    reply_err(c, code, token, text);
}

static void reply_ok(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply_ok(struct conn *c, const char *fmt, ...)
{
    char out[REPLY_MAX];
    va_list ap;
    memcpy(out, "OK ", 3);
    va_start(ap, fmt);
    int n = vsnprintf(out + 3, sizeof out - 4, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof out - 4)
        n = 0;
    out[3 + n] = '\n';
    conn_send(c, out, (size_t)n + 4);
}

/* ---- the requests ---- */

static void new_secret(char out[PROTO_SECRET_LEN + 1])
{
    unsigned char r[PROTO_SECRET_LEN / 2];
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t n = getrandom(r + got, sizeof r - got, 0);
        if (n > 0)
            got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
}

static void do_register(struct conn *c, const struct proto_req *q)
{
    struct server *s = c->s;
    char secret[PROTO_SECRET_LEN + 1], payload[128], key[BANK_KEY_LEN + 1];
    long long seq = 0, now = now_s();
    uint8_t hash[BANK_HASH_LEN];
    new_secret(secret);
    bank_hash_secret(secret, hash); /* the ledger and the bank keep only this */
    int used = snprintf(payload, sizeof payload, "R %s ", q->name);
    for (int i = 0; i < BANK_HASH_LEN; i++)
        used += snprintf(payload + used, sizeof payload - (size_t)used, "%02x", hash[i]);
    pthread_mutex_lock(&s->mu);
    int err = bank_find(&s->bank, q->name) >= 0  ? BK_NAME_TAKEN
              : s->bank.n >= s->bank.max_wallets ? BK_FULL
                                                 : 0;
    if (!err && ledger_append(s->lg, payload, &seq) < 0)
        err = -1;
    int idx = err ? -1 : bank_register_hashed(&s->bank, q->name, hash);
    if (idx >= 0)
        bank_key(&s->bank, idx, bank_epoch(&s->bank, now), key);
    int expires = bank_expires_in(&s->bank, now);
    pthread_mutex_unlock(&s->mu);
    if (err == -1 || (idx >= 0 && ledger_wait(s->lg, seq) < 0))
        return reply_err(c, 500, "storage", "the ledger could not be written");
    if (idx < 0)
        return reply_bank_err(c, err ? err : idx);
    evlog("ev=register name=%s conn=%lld", q->name, c->id);
    reply_ok(c, "%s %s %d", secret, key, expires);
}

static void do_send(struct conn *c, const struct proto_req *q)
{
    struct server *s = c->s;
    struct bank_tx tx;
    char payload[160];
    long long seq = 0;
    pthread_mutex_lock(&s->mu);
    int err = bank_prepare(&s->bank, q->name, q->secret, q->reqid, q->key, q->cents, now_s(), &tx);
    if (!err && !tx.dup) {
        snprintf(payload, sizeof payload, "T %lld %s %s %lld %s", tx.tx, s->bank.w[tx.from].name,
                 s->bank.w[tx.to].name, tx.cents, tx.reqid);
        /* STEP 1 (README "Locking"): the record is in the ledger before the balances change. */
        if (ledger_append(s->lg, payload, &seq) < 0)
            err = -1;
        else if (bank_apply(&s->bank, &tx) < 0)
            err = -1; /* out of memory: the record is written, a restart will apply it */
        else
            s->transfers++;
    }
    char to[PROTO_MAX_NAME + 1] = "";
    if (!err)
        snprintf(to, sizeof to, "%s", s->bank.w[tx.to].name);
    pthread_mutex_unlock(&s->mu);
    if (err == -1)
        return reply_err(c, 500, "storage", "the ledger could not be written");
    if (err)
        return reply_bank_err(c, err);
    /* STEP 3: reply only once the record is on disk (a retry waits for the original too). */
    if (ledger_wait(s->lg, tx.dup ? ledger_written(s->lg) : seq) < 0)
        return reply_err(c, 500, "storage", "the ledger could not be synced");
    reply_ok(c, "%lld %s %lld%s", tx.tx, to, tx.from_after, tx.dup ? " dup" : "");
}

static void do_lookup(struct conn *c, const struct proto_req *q)
{
    struct server *s = c->s;
    char key[BANK_KEY_LEN + 1], name[PROTO_MAX_NAME + 1] = "";
    long long now = now_s(), cents = 0;
    pthread_mutex_lock(&s->mu);
    int i = q->cmd == P_KEY     ? bank_find(&s->bank, q->name)
            : q->cmd == P_CHECK ? bank_lookup_key(&s->bank, q->key, now)
                                : bank_auth(&s->bank, q->name, q->secret);
    if (i >= 0) {
        bank_key(&s->bank, i, bank_epoch(&s->bank, now), key);
        snprintf(name, sizeof name, "%s", s->bank.w[i].name);
        cents = s->bank.w[i].cents;
    }
    int expires = bank_expires_in(&s->bank, now);
    pthread_mutex_unlock(&s->mu);
    if (i < 0)
        return reply_bank_err(c, i == BK_NO_WALLET && q->cmd == P_BALANCE ? BK_SECRET : i);
    if (q->cmd == P_KEY)
        reply_ok(c, "%s %d", key, expires);
    else if (q->cmd == P_CHECK)
        reply_ok(c, "%s", name);
    else
        reply_ok(c, "%lld", cents);
}

/* Print every balance (ev=wallet) and return the total. */
static long long dump(struct server *s, int *n)
{
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->bank.n; i++) /* a short, rare walk: fine to log under the lock */
        evlog("ev=wallet name=%s cents=%lld", s->bank.w[i].name, s->bank.w[i].cents);
    long long total = bank_total(&s->bank);
    *n = s->bank.n;
    pthread_mutex_unlock(&s->mu);
    return total;
}

/* One line from the client (no newline). False when the connection should close. */
static bool handle_line(struct conn *c, const char *line, size_t len)
{
    struct proto_req q;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    int rc = proto_parse(line, len, &q);
    if (rc < 0) {
        int code;
        const char *token = proto_err_token(rc, &code);
        reply_err(c, code, token,
                  rc == PE_AMOUNT ? "amounts are whole cents, 1 to 10^12"
                                  : "see the protocol in README.md");
        return true;
    }
    int n;
    switch (q.cmd) {
    case P_REGISTER: do_register(c, &q); break;
    case P_SEND: do_send(c, &q); break;
    case P_KEY:
    case P_CHECK:
    case P_BALANCE: do_lookup(c, &q); break;
    case P_PING: reply_ok(c, "pong"); break;
    case P_DUMP: {
        long long total = dump(c->s, &n);
        reply_ok(c, "%d %lld", n, total);
        break;
    }
    case P_QUIT: reply_ok(c, "bye"); return false;
    }
    return true;
}

/* ---- connections ---- */

/* Wait until c->fd is readable or a deadline passes (README "Limits"): the unfinished line
 * must end line_timeout after its first byte, and some byte must come idle_timeout after the
 * last one. False, with an ev=bad line, when a deadline passed: close the connection. */
static bool wait_input(struct conn *c, long long line_start, long long last_byte, size_t len)
{
    const struct server_opts *o = &c->s->o;
    for (;;) {
        long long now = mono_ms(), idle = last_byte + o->idle_timeout_ms;
        long long line = line_start ? line_start + o->line_timeout_ms : idle;
        long long until = line < idle ? line : idle;
        if (now >= until)
            break;
        struct pollfd p = {c->fd, POLLIN, 0};
        int n = poll(&p, 1, (int)(until - now));
        if (n > 0 || (n < 0 && errno != EINTR))
            return true; /* readable, or an error recv() will report */
    }
    pthread_mutex_lock(&c->s->conn_mu);
    c->s->timeouts++;
    pthread_mutex_unlock(&c->s->conn_mu);
    if (line_start)
        evlog("ev=bad why=slow-line bytes=%zu ms=%d conn=%lld", len, o->line_timeout_ms, c->id);
    else
        evlog("ev=bad why=idle ms=%d conn=%lld", o->idle_timeout_ms, c->id);
    return false;
}

/* Tell accept_one when this connection's unfinished line began (for eviction). */
static void publish_line(struct conn *c, long long line_start, long long *published)
{
    if (line_start == *published)
        return; /* twice a request at most: at its first byte and once it is answered */
    pthread_mutex_lock(&c->s->conn_mu);
    c->line_start = *published = line_start;
    pthread_mutex_unlock(&c->s->conn_mu);
}

/* recv() said the connection ended: say why, if it matters. */
static void log_end(struct conn *c, size_t len, bool skipping)
{
    pthread_mutex_lock(&c->s->conn_mu);
    bool evicted = c->evicted;
    pthread_mutex_unlock(&c->s->conn_mu);
    if (evicted)
        evlog("ev=bad why=evicted bytes=%zu conn=%lld", len, c->id);
    else if (len > 0 && !skipping)
        evlog("ev=bad why=partial-line bytes=%zu conn=%lld", len, c->id);
}

/* Read, frame and answer lines until the client leaves or a limit closes it. */
static void serve(struct conn *c)
{
    char buf[PROTO_MAX_LINE];
    size_t len = 0;
    bool skipping = false; /* inside an over-long line: drop bytes up to its newline */
    long long last_byte = mono_ms(), line_start = 0, published = 0; /* 0: no unfinished line */
    while (!c->dead) {
        publish_line(c, line_start, &published);
        if (!wait_input(c, line_start, last_byte, len))
            return;
        ssize_t n = recv(c->fd, buf + len, sizeof buf - len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return log_end(c, len, skipping);
        last_byte = mono_ms();
        if (!line_start)
            publish_line(c, line_start = last_byte, &published);
        len += (size_t)n;
        if (skipping) {
            char *nl = memchr(buf, '\n', len);
            size_t drop = nl ? (size_t)(nl - buf) + 1 : len;
            memmove(buf, buf + drop, len - drop);
            len -= drop;
            skipping = !nl;
        }
        size_t off = 0;
        int k;
        while (!skipping && !c->dead && (k = proto_frame(buf + off, len - off)) != 0) {
            if (k < 0) {
                reply_err(c, 413, "line-too-long", "a line is at most 256 bytes");
                skipping = true, off = len;
                break;
            }
            if (!handle_line(c, buf + off, (size_t)k - 1))
                return;
            off += (size_t)k;
        }
        memmove(buf, buf + off, len - off);
        len -= off;
        /* A new line starts when the last one ended; the time of handling is not the client's. */
        if (len == 0 && !skipping)
            line_start = 0;
        else if (off > 0)
            line_start = mono_ms();
        last_byte = mono_ms();
    }
}

static void *conn_main(void *arg)
{
    struct conn *c = arg;
    struct server *s = c->s;
    serve(c);
    pthread_mutex_lock(&s->conn_mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    s->evicting -= c->evicted;
    close(c->fd);
    free(c);
    pthread_cond_broadcast(&s->conn_cv);
    pthread_mutex_unlock(&s->conn_mu);
    return NULL;
}

/* Over the cap: say so and close. Logged once per 100 so a flood cannot fill stdout. */
static void refuse(struct server *s, int fd, long long refused)
{
    char out[REPLY_MAX];
    char text[96];
    snprintf(text, sizeof text, "too many connections (at most %d): try again later",
             s->o.max_conns);
    (void)send_all(fd, out, proto_err_reply(out, sizeof out, 503, "server-full", text));
    close(fd);
    if (refused % 100 == 1)
        evlog("ev=bad why=server-full code=503 refused=%lld", refused);
}

/* The server is full (conn_mu held): close the connection whose unfinished line is the
 * oldest, if it began SERVER_EVICT_MS ago or more, to make room for a new one. A client that
 * sends whole lines is never chosen; a slow one would be cut by --line-timeout anyway, and a
 * flood that reconnects as fast as it is cut then takes slots from itself, not from others.
 * True if one was chosen: its thread ends soon, and until then it counts in s->evicting. */
static bool evict_one(struct server *s)
{
    struct conn *victim = NULL;
    long long old = mono_ms() - SERVER_EVICT_MS;
    for (struct conn *c = s->conns; c; c = c->next)
        if (!c->evicted && c->line_start && c->line_start <= old &&
            (!victim || c->line_start < victim->line_start))
            victim = c;
    if (!victim)
        return false;
    victim->evicted = true;
    s->evicting++;
    shutdown(victim->fd, SHUT_RDWR); /* wakes its thread's poll(): recv() returns 0 */
    return true;
}

static void accept_one(struct server *s, pthread_attr_t *attr)
{
    int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return; /* EMFILE, ECONNABORTED...: the client retries; we go on */
    /* A client that stops reading its replies: a send blocked this long fails (conn_send). */
    struct timeval tv = {s->o.line_timeout_ms / 1000, (s->o.line_timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    pthread_mutex_lock(&s->conn_mu);
    bool room = s->nconns - s->evicting < s->o.max_conns || evict_one(s);
    struct conn *c = room ? calloc(1, sizeof *c) : NULL;
    long long refused = c ? 0 : ++s->refused;
    if (c) {
        c->fd = fd, c->s = s, c->id = ++s->accepted;
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        s->nconns++;
    }
    pthread_t t;
    int err = c ? pthread_create(&t, attr, conn_main, c) : 0;
    if (c && err) { /* no thread: undo, and refuse like a full server */
        s->conns = c->next;
        if (c->next)
            c->next->prev = NULL;
        s->nconns--;
        free(c);
        c = NULL;
        refused = ++s->refused;
    }
    pthread_mutex_unlock(&s->conn_mu);
    if (!c)
        refuse(s, fd, refused);
}

/* ---- start, run, stop ---- */

static int listen_on(int port, char *err, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 1024) < 0) {
        snprintf(err, cap, "listen on port %d: %s", port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

struct server *server_start(const struct server_opts *o, int stop_fd, char *err, size_t errcap)
{
    struct server *s = calloc(1, sizeof *s);
    char path[1024];
    struct ledger_info info;
    uint64_t master[2];
    if (!s) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    s->o = *o;
    s->stop_fd = stop_fd;
    s->lfd = -1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->conn_mu, NULL);
    pthread_condattr_t ca; /* stop_all's timed wait runs on the monotonic clock */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->conn_cv, &ca);
    pthread_condattr_destroy(&ca);
    if (getrandom(master, sizeof master, 0) != (ssize_t)sizeof master) {
        snprintf(err, errcap, "getrandom: %s", strerror(errno));
        server_free(s);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/ledger.log", o->dir);
    s->lg = ledger_open(path, o->sync, &s->bank, o->rotate_every, o->max_wallets, master, &info,
                        err, errcap);
    if (!s->lg || (s->lfd = listen_on(o->port, err, errcap)) < 0) {
        server_free(s);
        return NULL;
    }
    if (info.torn_bytes) {
        fprintf(stderr,
                "wallet-server: %s: dropped a torn last record (%lld bytes at offset "
                "%lld): it was never acknowledged\n",
                path, info.torn_bytes, info.torn_offset);
        evlog("ev=torn offset=%lld bytes=%lld", info.torn_offset, info.torn_bytes);
    }
    if (info.old_mode)
        fprintf(stderr, "wallet-server: %s was mode %03o, open to other users: now 0600\n", path,
                info.old_mode);
    if (info.plain_secrets)
        fprintf(stderr,
                "wallet-server: %s holds %lld secrets in plain text (the old format); new "
                "wallets store only a hash. README \"Trust model\" says how to migrate\n",
                path, info.plain_secrets);
    s->transfers = info.transfers;
    evlog("ev=replayed n=%lld wallets=%lld transfers=%lld total=%lld", info.records, info.wallets,
          info.transfers, bank_total(&s->bank));
    evlog("ev=ready port=%d max_conns=%d rotate_every=%d sync=%s line_timeout=%d "
          "idle_timeout=%d",
          o->port, o->max_conns, o->rotate_every, o->sync == LEDGER_SYNC_EACH ? "each" : "group",
          o->line_timeout_ms, o->idle_timeout_ms);
    return s;
}

/* Milliseconds to the next key rotation (wall clock, as the epochs are). */
static int ms_to_rotation(const struct server *s)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    long long period = (long long)s->o.rotate_every * 1000;
    return (int)(period - ms % period) + 5;
}

static void stop_all(struct server *s)
{
    pthread_mutex_lock(&s->conn_mu);
    for (struct conn *c = s->conns; c; c = c->next)
        shutdown(c->fd, SHUT_RDWR); /* wakes its thread's recv() */
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += 5;
    while (s->nconns > 0)
        if (pthread_cond_timedwait(&s->conn_cv, &s->conn_mu, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&s->conn_mu);
}

void server_run(struct server *s)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, THREAD_STACK);
    long long epoch = now_s() / s->o.rotate_every;
    for (;;) {
        struct pollfd p[2] = {{s->lfd, POLLIN, 0}, {s->stop_fd, POLLIN, 0}};
        int n = poll(p, 2, ms_to_rotation(s));
        if (n < 0 && errno != EINTR)
            break;
        if (p[1].revents) /* SIGINT or SIGTERM (left pending: we exit anyway) */
            break;
        if (n > 0 && (p[0].revents & POLLIN))
            accept_one(s, &attr);
        long long e = now_s() / s->o.rotate_every;
        if (e != epoch)
            evlog("ev=rotate epoch=%lld", epoch = e);
    }
    pthread_attr_destroy(&attr);
    close(s->lfd);
    s->lfd = -1;
    stop_all(s);
    int n;
    long long total = dump(s, &n);
    pthread_mutex_lock(&s->conn_mu);
    long long accepted = s->accepted, refused = s->refused, timeouts = s->timeouts;
    pthread_mutex_unlock(&s->conn_mu);
    pthread_mutex_lock(&s->mu);
    long long transfers = s->transfers;
    pthread_mutex_unlock(&s->mu);
    evlog("ev=stats wallets=%d total=%lld transfers=%lld syncs=%lld conns=%lld refused=%lld "
          "timeouts=%lld",
          n, total, transfers, ledger_syncs(s->lg), accepted, refused, timeouts);
}

void server_free(struct server *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->conn_mu);
    int live = s->nconns;
    pthread_mutex_unlock(&s->conn_mu);
    if (live > 0)
        return; /* a thread stuck past stop_all's 5 s still uses s: leave it to exit() */
    if (s->lfd >= 0)
        close(s->lfd);
    ledger_close(s->lg);
    bank_free(&s->bank);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->conn_mu);
    pthread_cond_destroy(&s->conn_cv);
    free(s);
}
