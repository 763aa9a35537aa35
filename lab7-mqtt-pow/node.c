/* node.c - the node's poll() loop and protocol logic: discovery, election, challenges, results.
 *
 * Threads: one loop thread owns every field of struct node and the MQTT session. Mining runs in
 * a miner thread (which pow_mine fans out to --threads workers); the loop hands it a job before
 * pthread_create, reads its answer after pthread_join, and cancels it through one atomic_int,
 * so nothing else is shared. The miner wakes the loop through a pipe. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "chain.h"
#include "election.h"
#include "evlog.h"
#include "mqtt_client.h"
#include "msg.h"
#include "node.h"
#include "pow.h"

#define INIT_EVERY_MS 250
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
/* The backoff starts again from BACKOFF_MIN_MS only after a session lasted this long: a session
 * the broker (or something it delivers) breaks at once must not be retried every 100 ms. */
#define BACKOFF_STABLE_MS 5000
/* A Will is believed only if our own connection stays up this long after it: a broker that
 * shuts down publishes the Wills of the clients it drops first to those it has not dropped yet,
 * and then drops us too. Those Wills say nothing about the nodes. */
#define LEAVE_GRACE_MS 500
/* After a reconnection, a follower that hears nothing from its leader for this long elects
 * again (the leader may have died while the broker was down: then no Will ever comes). */
#define LEADER_SILENCE_MS 5000
/* A follower that missed results asks the leader for them (system/sync) at most this often for
 * the same tx; the leader re-sends at most SYNC_MAX results per request (README "Missed
 * results"). */
#define SYNC_EVERY_MS 1000
#define SYNC_MAX 16

enum phase { PH_START, PH_DISCOVER, PH_VOTE, PH_RUN };

struct miner {
    pthread_t th;
    bool running;       /* a thread exists and has not been joined */
    atomic_int cancel;  /* set by the loop: the transaction closed */
    struct pow_job job; /* written before pthread_create, read-only while running */
    char data[MSG_MAX_DATA + 1];
    uint64_t tx;
    int found; /* written by the miner thread, read by the loop after pthread_join */
    uint64_t nonce, hashes;
    int wake_fd; /* write end of the loop's pipe */
};

struct node {
    const struct node_cfg *cfg;
    struct mqtt_client mq;
    struct election el;
    enum phase phase;
    double discover_end, vote_end, next_init, retry_at, next_challenge;
    double up_since; /* when the current session was subscribed */
    int backoff_ms, attempts;
    bool ready, up; /* up: subscribed on the current connection */
    /* the leader this node follows */
    bool have_leader, am_leader;
    uint32_t leader, leader_epoch;
    uint64_t leader_vote;
    struct chain chain;
    struct open_tx open; /* the leader's open challenge, or the one a miner works on */
    struct seen seen;    /* the challenges seen from (or issued as) the leader: results match one */
    bool solved;         /* miner: we found open's solution (re-sent if the challenge repeats) */
    uint64_t solved_nonce;
    bool done;
    uint64_t my_vote; /* this epoch's, re-sent to a node that appears during the vote */
    struct {
        uint32_t id;
        double at; /* when the Will is believed (LEAVE_GRACE_MS) */
    } leaving[ELECTION_MAX];
    int nleaving;
    double leader_deadline; /* LEADER_SILENCE_MS after a reconnection; 0: not waiting */
    uint64_t sync_tx;       /* the first missed tx we last asked the leader for, and when */
    double sync_at;
    struct miner miner;
    int pipe[2];
    uint64_t rng;
    struct auth_guard guard; /* --key: the last stamp accepted per sender and topic */
    uint64_t stamp;          /* --key: the stamp of our last signed message */
    unsigned long long hashes, solutions, results, rejects, bad;
};

/* ---- small helpers ---- */

static uint64_t rnd(struct node *n) /* splitmix64: seeded, so a run replays */
{
    uint64_t z = (n->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void bad(struct node *n, const char *why, const char *topic, long long from)
{
    n->bad++;
    evlog("ev=bad why=%s topic=%s from=%lld", why, topic, from);
}

/* m as a payload: its JSON and, with --key, the signed trailer (auth.h). 0 if it does not fit. */
static size_t encode(struct node *n, const struct msg *m, char *buf, size_t cap)
{
    size_t len = msg_encode(m, buf, cap);
    if (len == 0 || !n->cfg->keyed)
        return len;
    uint64_t stamp = auth_next_stamp(&n->stamp, auth_wall_us());
    return auth_sign(&n->cfg->key, msg_topic(m->type), buf, len, cap, stamp);
}

static void publish(struct node *n, const struct msg *m, bool retain)
{
    char buf[MSG_MAX_PAYLOAD];
    size_t len = encode(n, m, buf, sizeof buf);
    if (len == 0 || mqtt_client_publish(&n->mq, msg_topic(m->type), buf, len, 1, retain) < 0)
        fprintf(stderr, "pownode: %s not sent (queue full or connection lost)\n",
                msg_type_name(m->type));
}

/* ---- mining ---- */

static void *miner_main(void *arg)
{
    struct miner *m = arg;
    m->found = pow_mine(&m->job, &m->cancel, &m->nonce, &m->hashes);
    char c = 'm';
    if (write(m->wake_fd, &c, 1) < 0) { /* the pipe has room: one byte per job */
    }
    return NULL;
}

static void miner_join(struct node *n)
{
    struct miner *m = &n->miner;
    if (!m->running)
        return;
    int rc = pthread_join(m->th, NULL);
    if (rc != 0)
        fprintf(stderr, "pownode: pthread_join: %s\n", strerror(rc));
    m->running = false;
    n->hashes += m->hashes;
    char c;
    while (read(n->pipe[0], &c, 1) == 1) /* its wake-up byte, if not read yet */
        ;
}

static void miner_stop(struct node *n)
{
    atomic_store(&n->miner.cancel, 1);
    miner_join(n);
}

static void miner_start(struct node *n)
{
    struct miner *m = &n->miner;
    miner_stop(n);
    memcpy(m->data, n->open.data, sizeof m->data);
    m->tx = n->open.tx;
    m->job =
        (struct pow_job){m->data, strlen(m->data), n->open.difficulty, n->cfg->threads, rnd(n)};
    m->found = 0;
    m->hashes = 0;
    atomic_store(&m->cancel, 0);
    int rc = pthread_create(&m->th, NULL, miner_main, m);
    if (rc != 0)
        fprintf(stderr, "pownode: pthread_create: %s\n", strerror(rc));
    m->running = rc == 0;
}

static void send_solution(struct node *n, uint64_t tx, const char *data, uint64_t nonce)
{
    struct msg s = {.type = MSG_SOLUTION, .node = n->cfg->id, .tx = tx, .nonce = nonce};
    snprintf(s.data, sizeof s.data, "%s", data);
    publish(n, &s, false);
}

/* The miner thread finished: publish its solution if the transaction is still open. */
static void miner_done(struct node *n)
{
    struct miner *m = &n->miner;
    miner_join(n); /* after this, the thread's answer is ours to read */
    if (m->found != 1 || !n->open.open || m->tx != n->open.tx || strcmp(m->data, n->open.data))
        return;
    n->solved = true;
    n->solved_nonce = m->nonce;
    n->solutions++;
    evlog("ev=solution tx=%" PRIu64 " nonce=%" PRIu64 " from=%u hashes=%" PRIu64, m->tx, m->nonce,
          n->cfg->id, m->hashes);
    send_solution(n, m->tx, m->data, m->nonce);
}

/* A cheating miner (--cheat): no work, just a wrong answer for the grader to catch. */
static void cheat(struct node *n)
{
    const struct result *last = n->chain.n ? &n->chain.r[n->chain.n - 1] : NULL;
    if (n->cfg->cheat == CHEAT_STALE && last) {
        /* An old valid proof offered for the new tx, and again for its own, closed tx. */
        evlog("ev=cheat kind=stale tx=%" PRIu64 " nonce=%" PRIu64, n->open.tx, last->nonce);
        send_solution(n, n->open.tx, last->data, last->nonce);
        send_solution(n, last->tx, last->data, last->nonce);
        return;
    }
    uint64_t nonce = rnd(n);
    while (pow_check(n->open.data, strlen(n->open.data), nonce, n->open.difficulty))
        nonce++; /* a random nonce is almost never valid; make sure */
    evlog("ev=cheat kind=invalid tx=%" PRIu64 " nonce=%" PRIu64, n->open.tx, nonce);
    send_solution(n, n->open.tx, n->open.data, nonce);
}

/* ---- the leader's side ---- */

static void announce(struct node *n)
{
    struct msg m = {.type = MSG_LEADER,
                    .node = n->cfg->id,
                    .epoch = n->leader_epoch,
                    .value = n->leader_vote,
                    .tx = chain_last_tx(&n->chain)};
    publish(n, &m, true);
}

static void publish_challenge(struct node *n)
{
    struct msg m = {.type = MSG_CHALLENGE,
                    .node = n->cfg->id,
                    .epoch = n->leader_epoch,
                    .tx = n->open.tx,
                    .difficulty = n->open.difficulty};
    memcpy(m.data, n->open.data, sizeof m.data);
    publish(n, &m, true); /* retained: a node that joins later gets it at once */
}

static void publish_result(struct node *n, const struct result *r, bool retain)
{
    struct msg m = {.type = MSG_RESULT,
                    .node = n->cfg->id,
                    .epoch = n->leader_epoch,
                    .tx = r->tx,
                    .difficulty = r->difficulty,
                    .nonce = r->nonce,
                    .winner = r->winner};
    memcpy(m.data, r->data, sizeof m.data);
    publish(n, &m, retain);
}

/* STEP 4: the leader opens the next transaction; the chain goes on from the last result. */
static void issue_challenge(struct node *n)
{
    n->next_challenge = 0;
    uint64_t tx = chain_last_tx(&n->chain) + 1;
    if (n->cfg->rounds && tx > n->cfg->rounds)
        return;
    n->open.open = true;
    n->open.tx = tx;
    n->open.difficulty = n->cfg->difficulty;
    snprintf(n->open.data, sizeof n->open.data, "tx%" PRIu64 "-e%u-%016" PRIx64, tx,
             n->leader_epoch, rnd(n));
    evlog("ev=challenge tx=%" PRIu64 " difficulty=%u data=%s leader=%u epoch=%u", tx,
          n->open.difficulty, n->open.data, n->cfg->id, n->leader_epoch);
    struct msg own = {.epoch = n->leader_epoch, .tx = tx, .difficulty = n->open.difficulty};
    memcpy(own.data, n->open.data, sizeof own.data);
    chain_seen_add(&n->seen, &own); /* so that a forged result for it is refused here too */
    publish_challenge(n);
}

static void check_done(struct node *n)
{
    if (!n->done && n->cfg->rounds && chain_last_tx(&n->chain) >= n->cfg->rounds) {
        n->done = true;
        evlog("ev=done results=%zu last=%" PRIu64, n->chain.n, chain_last_tx(&n->chain));
    }
}

static void log_result(struct node *n, const struct msg *m)
{
    n->results++;
    evlog("ev=result tx=%" PRIu64 " winner=%u nonce=%" PRIu64 " difficulty=%u data=%s leader=%u "
          "epoch=%u",
          m->tx, m->winner, m->nonce, m->difficulty, m->data, m->node, m->epoch);
}

/* STEP 5: first valid solution wins; later, stale, unknown and invalid ones are refused. */
static void on_solution(struct node *n, const struct msg *m)
{
    if (!n->am_leader)
        return; /* everyone hears solutions; only the leader judges them */
    enum sol_verdict v = chain_judge(&n->chain, &n->open, m);
    if (v != SOL_WIN) {
        n->rejects++;
        evlog("ev=reject tx=%" PRIu64 " from=%u nonce=%" PRIu64 " why=%s", m->tx, m->node, m->nonce,
              sol_verdict_name(v));
        return;
    }
    struct msg r = {.type = MSG_RESULT,
                    .node = n->cfg->id,
                    .epoch = n->leader_epoch,
                    .tx = m->tx,
                    .difficulty = n->open.difficulty,
                    .nonce = m->nonce,
                    .winner = m->node};
    memcpy(r.data, n->open.data, sizeof r.data);
    if (chain_append(&n->chain, &r) < 0)
        return (void)fprintf(stderr, "pownode: out of memory\n");
    n->open.open = false;
    log_result(n, &r);
    publish_result(n, &n->chain.r[n->chain.n - 1], true);
    check_done(n);
    n->next_challenge = evlog_now_ms() + n->cfg->pause_ms;
}

/* ---- election ---- */

static void follow(struct node *n, uint32_t leader, uint32_t epoch, uint64_t vote, const char *via)
{
    bool was_leader = n->am_leader;
    n->have_leader = true;
    n->leader = leader;
    n->leader_epoch = epoch;
    n->leader_vote = vote;
    n->am_leader = leader == n->cfg->id;
    n->phase = PH_RUN;
    evlog("ev=leader leader=%u epoch=%u vote=%" PRIu64 " via=%s", leader, epoch, vote, via);
    if (n->am_leader && !was_leader) {
        miner_stop(n);
        n->open.open = false;
        announce(n);
        n->next_challenge = evlog_now_ms(); /* STEP 4 at once */
    } else if (!n->am_leader && was_leader) {
        n->open.open = false;
        n->next_challenge = 0;
    }
}

static int votes_in(const struct election *e)
{
    int k = 0;
    for (int i = 0; i < e->n; i++)
        k += e->alive[i] && e->voted[i];
    return k;
}

/* STEP 3: decide once every live participant voted, and never on too few votes: in the first
 * epoch all K (a node that has not yet heard of everyone must not decide without them), later
 * a majority of K. The majority matters when the broker shuts down: it publishes the Wills of
 * the clients it drops first to the ones still connected, so a node may briefly believe it is
 * alone; without a majority it waits, and after reconnecting its vote pulls the others into the
 * same epoch. Only the vote timeout decides on fewer (say K=2 and one died). */
static void check_election(struct node *n, bool timeout)
{
    struct election *e = &n->el;
    if (n->phase != PH_VOTE)
        return;
    int k = n->cfg->participants, dead = e->n - election_alive(e);
    int need = e->epoch == 1 ? k - dead : k / 2 + 1; /* epoch 1: not those whose Will we saw */
    if (!timeout && !(election_complete(e) && votes_in(e) >= need))
        return;
    if (timeout)
        evlog("ev=vote_timeout epoch=%u votes=%d", e->epoch, votes_in(e));
    if (election_decide(e))
        follow(n, e->leader, e->epoch, e->leader_vote, timeout ? "timeout" : "votes");
}

static void send_vote(struct node *n)
{
    struct msg m = {
        .type = MSG_VOTE, .node = n->cfg->id, .epoch = n->el.epoch, .value = n->my_vote};
    publish(n, &m, false);
}

/* STEP 2: a new epoch: forget the leader, stop mining, publish a random vote. */
static void start_election(struct node *n, uint32_t epoch)
{
    miner_stop(n);
    n->open.open = false;
    n->have_leader = n->am_leader = false;
    n->next_challenge = 0;
    n->phase = PH_VOTE;
    election_start(&n->el, epoch);
    uint64_t v = n->cfg->fixed_vote ? n->cfg->vote : rnd(n) % UINT32_MAX;
    n->my_vote = v;
    election_vote(&n->el, n->cfg->id, epoch, v);
    evlog("ev=vote epoch=%u value=%" PRIu64 " known=%d", epoch, v, election_alive(&n->el));
    send_vote(n);
    n->vote_end = evlog_now_ms() + n->cfg->init_timeout_ms;
    check_election(n, false);
}

/* The next round, if epochs are not used up (they end at MSG_MAX_EPOCH rather than wrap). */
static void next_election(struct node *n)
{
    uint32_t epoch = election_next_epoch(&n->el);
    if (epoch == 0)
        return (void)evlog("ev=bad why=epochs_exhausted epoch=%u", n->el.epoch);
    start_election(n, epoch);
}

static void heard_of(struct node *n, uint32_t id)
{
    if (election_add(&n->el, id) == 1)
        evlog("ev=peer peer=%u known=%d", id, election_alive(&n->el));
}

/* STEP 1: discovery. */
static void send_init(struct node *n)
{
    struct msg m = {.type = MSG_INIT, .node = n->cfg->id};
    char buf[MSG_MAX_PAYLOAD];
    size_t len = encode(n, &m, buf, sizeof buf);
    if (len && mqtt_client_connected(&n->mq))
        mqtt_client_publish(&n->mq, TOPIC_INIT, buf, len, 0, false);
}

static void on_init(struct node *n, const struct msg *m)
{
    if (election_add(&n->el, m->node) != 1)
        return;
    evlog("ev=peer peer=%u known=%d", m->node, election_alive(&n->el));
    send_init(n); /* so that a newcomer learns about us without waiting */
    if (n->phase == PH_VOTE)
        send_vote(n); /* it subscribed after our vote went out (votes are not retained) */
    if (n->phase == PH_DISCOVER && election_alive(&n->el) >= n->cfg->participants)
        next_election(n);
}

static void on_vote(struct node *n, const struct msg *m)
{
    if (!election_epoch_ok(&n->el, m->epoch, false))
        return bad(n, "epoch_jump", TOPIC_VOTE, m->node);
    heard_of(n, m->node);
    if (m->epoch > n->el.epoch) /* a round we have not started: join it */
        start_election(n, m->epoch);
    if (m->epoch == n->el.epoch && n->phase == PH_VOTE) {
        election_vote(&n->el, m->node, m->epoch, m->value);
        check_election(n, false);
    }
}

static bool ranks_above(uint64_t v1, uint32_t id1, uint64_t v2, uint32_t id2)
{
    return v1 > v2 || (v1 == v2 && id1 > id2);
}

/* A leader's announcement (retained: a late joiner learns the leader from it). */
static void on_leader(struct node *n, const struct msg *m)
{
    if (!election_epoch_ok(&n->el, m->epoch, true))
        return bad(n, "epoch_jump", TOPIC_LEADER, m->node);
    heard_of(n, m->node);
    if (m->node == n->cfg->id && !n->am_leader)
        return; /* our own announcement from before a restart: stale */
    if (m->epoch > n->el.epoch || (m->epoch == n->el.epoch && n->phase != PH_RUN)) {
        if (m->epoch > n->el.epoch)
            election_start(&n->el, m->epoch);
        follow(n, m->node, m->epoch, m->value, "announce");
    } else if (m->epoch == n->el.epoch && m->node != n->leader) {
        /* Two claims for one epoch (only after a vote timeout): the higher vote wins. */
        if (ranks_above(m->value, m->node, n->leader_vote, n->leader))
            follow(n, m->node, m->epoch, m->value, "conflict");
        else
            bad(n, "leader_conflict", TOPIC_LEADER, m->node);
    }
}

/* A node said goodbye or its Will arrived, and LEAVE_GRACE_MS later we are still connected. */
static void left(struct node *n, uint32_t id)
{
    if (!election_remove(&n->el, id))
        return; /* a Will after a goodbye says nothing new */
    evlog("ev=leave peer=%u known=%d", id, election_alive(&n->el));
    if (n->phase == PH_RUN && n->have_leader && id == n->leader)
        next_election(n); /* STEP 6: the leader's Last Will fired */
    else
        check_election(n, false); /* one vote fewer to wait for */
}

static void on_leave(struct node *n, const struct msg *m)
{
    /* Only live participants, once each: forged leaves for made-up ids cannot fill the list
     * (it has a place for every entry of the election table) and crowd out a real Will. */
    if (m->node == n->cfg->id || !election_is_alive(&n->el, m->node))
        return;
    for (int i = 0; i < n->nleaving; i++)
        if (n->leaving[i].id == m->node)
            return;
    if (n->nleaving == ELECTION_MAX)
        return;
    n->leaving[n->nleaving].id = m->node;
    n->leaving[n->nleaving++].at = evlog_now_ms() + LEAVE_GRACE_MS;
}

/* A message from id: it is alive, whatever a Will said a moment ago. */
static void alive(struct node *n, uint32_t id)
{
    for (int i = 0; i < n->nleaving; i++)
        if (n->leaving[i].id == id)
            n->leaving[i--] = n->leaving[--n->nleaving];
    if (n->have_leader && id == n->leader)
        n->leader_deadline = 0;
}

static void leave_timers(struct node *n, double now)
{
    for (int i = 0; i < n->nleaving; i++)
        if (now >= n->leaving[i].at) {
            uint32_t id = n->leaving[i].id;
            n->leaving[i--] = n->leaving[--n->nleaving];
            left(n, id);
        }
    if (n->leader_deadline > 0 && now >= n->leader_deadline && !n->am_leader) {
        n->leader_deadline = 0;
        evlog("ev=leader_silent leader=%u epoch=%u", n->leader, n->leader_epoch);
        next_election(n);
    }
}

/* ---- challenges and results ---- */

static bool from_leader(struct node *n, const struct msg *m, const char *topic)
{
    if (!n->have_leader) {
        bad(n, "no_leader_yet", topic, m->node);
        return false;
    }
    if (m->node != n->leader || m->epoch != n->leader_epoch) {
        bad(n, "not_leader", topic, m->node);
        return false;
    }
    return true;
}

/* The leader hears its own challenges too: one in its name that it did not issue is forged
 * (it cannot stop the miners taking it, but it can say so). */
static void own_challenge(struct node *n, const struct msg *m)
{
    const struct challenge *c = chain_seen_find(&n->seen, m->epoch, m->tx);
    if (!c || c->difficulty != m->difficulty || strcmp(c->data, m->data) != 0)
        bad(n, "not_mine", TOPIC_CHALLENGE, m->node);
}

static void on_challenge(struct node *n, const struct msg *m)
{
    if (!from_leader(n, m, TOPIC_CHALLENGE))
        return;
    if (n->am_leader)
        return own_challenge(n, m);
    if (m->tx <= chain_last_tx(&n->chain) && n->chain.n) {
        bad(n, "closed_tx", TOPIC_CHALLENGE, m->node);
        return;
    }
    enum seen_verdict sv = chain_seen_add(&n->seen, m);
    if (sv == SEEN_CONFLICT) { /* the first challenge of a tx in an epoch wins (README) */
        n->bad++;
        evlog("ev=bad why=challenge_conflict topic=%s from=%u tx=%" PRIu64 " data=%s",
              TOPIC_CHALLENGE, m->node, m->tx, m->data);
        return;
    }
    if (sv == SEEN_REPEAT) { /* again after a reconnection: our solution may have been lost */
        if (n->open.open && m->tx == n->open.tx && n->solved)
            send_solution(n, n->open.tx, n->open.data, n->solved_nonce);
        return;
    }
    miner_stop(n);
    n->open.open = true;
    n->open.tx = m->tx;
    n->open.difficulty = m->difficulty;
    memcpy(n->open.data, m->data, sizeof n->open.data);
    n->solved = false;
    evlog("ev=challenge tx=%" PRIu64 " difficulty=%u data=%s leader=%u epoch=%u", m->tx,
          m->difficulty, m->data, m->node, m->epoch);
    if (n->cfg->cheat != CHEAT_NONE)
        cheat(n);
    else
        miner_start(n);
}

/* A follower that was disconnected missed results (only the last one is retained): it asks the
 * leader to send them again, from the first one it lacks. */
static void ask_sync(struct node *n)
{
    uint64_t from = chain_last_tx(&n->chain) + 1;
    double now = evlog_now_ms();
    if (from == n->sync_tx && now < n->sync_at + SYNC_EVERY_MS)
        return;
    n->sync_tx = from;
    n->sync_at = now;
    evlog("ev=sync tx=%" PRIu64 " leader=%u epoch=%u", from, n->leader, n->leader_epoch);
    struct msg m = {.type = MSG_SYNC, .node = n->cfg->id, .tx = from};
    publish(n, &m, false);
}

/* The leader re-sends (not retained) up to SYNC_MAX of its results from the tx asked for. */
static void on_sync(struct node *n, const struct msg *m)
{
    if (!n->am_leader || m->node == n->cfg->id || n->chain.n == 0)
        return;
    uint64_t tx = m->tx < n->chain.r[0].tx ? n->chain.r[0].tx : m->tx;
    for (int k = 0; k < SYNC_MAX && tx <= chain_last_tx(&n->chain); k++, tx++)
        publish_result(n, chain_find(&n->chain, tx), false);
}

/* STEP 5 on every node: keep the list, and verify every winner's proof ourselves. */
static void on_result(struct node *n, const struct msg *m)
{
    if (!from_leader(n, m, TOPIC_RESULT))
        return;
    enum chain_verdict v = chain_check(&n->chain, &n->seen, m);
    if (v == CH_DUP)
        return;
    bool missed = false;
    if (v == CH_UNSEEN && !n->am_leader) { /* its challenge came while we were away? */
        v = chain_check_missed(&n->chain, &n->seen, m);
        missed = v == CH_ACCEPT;
    }
    if (n->am_leader) { /* we append our results before publishing them: this one is not ours */
        n->bad++;
        evlog("ev=bad why=not_mine topic=%s from=%u tx=%" PRIu64 " winner=%u nonce=%" PRIu64,
              TOPIC_RESULT, m->node, m->tx, m->winner, m->nonce);
        return;
    }
    if (v != CH_ACCEPT) {
        n->bad++;
        evlog("ev=bad why=%s topic=%s from=%u tx=%" PRIu64 " winner=%u nonce=%" PRIu64,
              chain_verdict_name(v), TOPIC_RESULT, m->node, m->tx, m->winner, m->nonce);
        if (n->chain.n && m->tx > chain_last_tx(&n->chain) + 1)
            ask_sync(n); /* the leader is ahead of us */
        return;
    }
    if (chain_append(&n->chain, m) < 0)
        return (void)fprintf(stderr, "pownode: out of memory\n");
    if (n->open.open && n->open.tx == m->tx) {
        miner_stop(n); /* the transaction closed: stop at once */
        n->open.open = false;
    }
    log_result(n, m);
    check_done(n);
    if (missed && m->tx == n->sync_tx + SYNC_MAX - 1)
        ask_sync(n); /* a whole batch came: there may be more */
}

/* Every PUBLISH the broker delivers. */
static void on_message(void *ctx, const char *topic, const uint8_t *payload, size_t len,
                       bool retained)
{
    struct node *n = ctx;
    if (len == 0)
        return; /* a retained message being cleared */
    if (len > MSG_MAX_PAYLOAD) /* no message of ours is this long: do not even parse it */
        return bad(n, "oversized_payload", topic, -1);
    uint64_t stamp = 0;
    const char *why = NULL;
    if (n->cfg->keyed) /* the tag first: nothing in the payload is believed before it */
        why = auth_verify(&n->cfg->key, topic, payload, len, &len, &stamp);
    else if (auth_looks_signed(payload, len))
        why = "needs-key";
    if (why)
        return bad(n, why, topic, -1);
    struct msg m;
    if (msg_decode((const char *)payload, len, &m, &why) < 0)
        return bad(n, why, topic, -1);
    if (strcmp(topic, msg_topic(m.type)) != 0)
        return bad(n, "wrong_topic", topic, m.node);
    if (n->cfg->keyed) {
        enum auth_kind k = retained ? AUTH_RETAINED : m.type == MSG_LEAVE ? AUTH_WILL : AUTH_LIVE;
        why = auth_check_fresh(&n->guard, m.node, (unsigned)m.type, stamp, auth_wall_us(), k);
        if (why)
            return bad(n, why, topic, m.node);
    }
    if (m.node == n->cfg->id && (m.type == MSG_INIT || m.type == MSG_VOTE))
        return; /* our own, echoed back */
    if (m.type != MSG_LEAVE && m.type != MSG_SOLUTION && m.node != n->cfg->id)
        alive(n, m.node);
    switch (m.type) {
    case MSG_INIT: on_init(n, &m); break;
    case MSG_VOTE: on_vote(n, &m); break;
    case MSG_LEADER: on_leader(n, &m); break;
    case MSG_CHALLENGE: on_challenge(n, &m); break;
    case MSG_SOLUTION: on_solution(n, &m); break;
    case MSG_RESULT: on_result(n, &m); break;
    case MSG_LEAVE: on_leave(n, &m); break;
    case MSG_SYNC: on_sync(n, &m); break;
    }
}

/* ---- the connection ---- */

/* Anyone may publish (and retain) a huge message on our topics: skipped, the session stays. */
static void on_oversized(void *ctx, const char *topic, size_t len)
{
    struct node *n = ctx;
    n->bad++;
    evlog("ev=bad why=oversized_packet topic=%s from=-1 len=%zu", *topic ? topic : "?", len);
}

static void on_subscribed(void *ctx)
{
    struct node *n = ctx;
    n->up_since = evlog_now_ms();
    n->up = true;
    if (!n->ready) { /* STEP 0: subscribed, so we can receive: the first event line */
        evlog("ev=ready participants=%d difficulty=%u threads=%d seed=%" PRIu64,
              n->cfg->participants, n->cfg->difficulty, n->cfg->threads, n->cfg->seed);
    }
    evlog("ev=connected broker=%s:%d tls=%d attempt=%d", n->cfg->broker, n->cfg->port, n->mq.tls,
          n->attempts);
    n->attempts = 0;
    if (!n->ready) {
        n->ready = true;
        n->phase = PH_DISCOVER;
        n->discover_end = evlog_now_ms() + n->cfg->init_timeout_ms;
        n->next_init = evlog_now_ms();
    }
    if (n->phase == PH_RUN && !n->am_leader && n->have_leader) /* a reconnection */
        n->leader_deadline = evlog_now_ms() + LEADER_SILENCE_MS;
    /* A broker that shuts down may acknowledge our vote and die before forwarding it. */
    if (n->phase == PH_VOTE)
        send_vote(n);
    if (n->am_leader) { /* a restarted broker lost the retained state: give it back */
        announce(n);
        if (n->chain.n)
            publish_result(n, &n->chain.r[n->chain.n - 1], true);
        if (n->open.open)
            publish_challenge(n);
    }
}

static void grow_backoff(struct node *n)
{
    n->backoff_ms = n->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : n->backoff_ms * 2;
}

static void lost(struct node *n, const char *why)
{
    double now = evlog_now_ms();
    if (n->up && now - n->up_since >= BACKOFF_STABLE_MS)
        n->backoff_ms = BACKOFF_MIN_MS;
    n->up = false;
    evlog("ev=disconnected why=\"%s\" wills_ignored=%d retry_ms=%d", why, n->nleaving,
          n->backoff_ms);
    n->nleaving = 0; /* see LEAVE_GRACE_MS */
    n->retry_at = now + n->backoff_ms;
    grow_backoff(n);
}

/* STEP 7: (re)connect; on failure try again after 100 ms, 200 ms, ... up to 2 s. Returns -1
 * when retrying cannot help (a refused certificate). */
static int try_connect(struct node *n)
{
    char err[512];
    n->attempts++;
    /* A new Will each time: signed now, so that it is newer than the last one anyone accepted. */
    struct msg will = {.type = MSG_LEAVE, .node = n->cfg->id};
    if (encode(n, &will, n->mq.will_msg, sizeof n->mq.will_msg) == 0)
        return fprintf(stderr, "pownode: the Will does not fit\n"), -1;
    int rc = mqtt_client_connect(&n->mq, err, sizeof err);
    if (rc == 0)
        return 0;
    fprintf(stderr, "pownode: %s:%d: %s\n", n->cfg->broker, n->cfg->port, err);
    if (rc == -2)
        return -1;
    n->retry_at = evlog_now_ms() + n->backoff_ms;
    grow_backoff(n);
    return 0;
}

/* ---- timers and the loop ---- */

static double earliest(double a, double b)
{
    return a <= 0 ? b : b <= 0 ? a : a < b ? a : b;
}

static double timers(struct node *n, double now)
{
    leave_timers(n, now);
    if (n->phase == PH_DISCOVER && now >= n->discover_end) {
        evlog("ev=discovery_timeout known=%d", election_alive(&n->el));
        next_election(n);
    }
    if (n->phase == PH_DISCOVER && now >= n->next_init) {
        send_init(n);
        n->next_init = now + INIT_EVERY_MS;
    }
    if (n->phase == PH_VOTE && now >= n->vote_end)
        check_election(n, true);
    if (n->am_leader && !n->open.open && n->next_challenge > 0 && now >= n->next_challenge &&
        mqtt_client_connected(&n->mq))
        issue_challenge(n);
    double next = 0;
    if (n->phase == PH_DISCOVER)
        next = earliest(n->discover_end, n->next_init);
    if (n->phase == PH_VOTE)
        next = earliest(next, n->vote_end);
    if (n->am_leader && !n->open.open)
        next = earliest(next, n->next_challenge);
    if (!mqtt_client_connected(&n->mq))
        next = earliest(next, n->retry_at);
    for (int i = 0; i < n->nleaving; i++)
        next = earliest(next, n->leaving[i].at);
    next = earliest(next, n->leader_deadline);
    return earliest(next, mqtt_client_deadline(&n->mq));
}

static int loop(struct node *n, volatile int *stop, int wake_fd)
{
    char err[512];
    while (!*stop) {
        double now = evlog_now_ms();
        if (n->up && !mqtt_client_connected(&n->mq)) /* a send failed somewhere */
            lost(n, "send failed");
        if (!mqtt_client_connected(&n->mq) && now >= n->retry_at && try_connect(n) < 0)
            return 1;
        if (mqtt_client_tick(&n->mq, now, err, sizeof err) < 0)
            lost(n, err);
        double next = timers(n, now);
        int timeout = next <= 0 ? -1 : next <= now ? 0 : (int)(next - now) + 1;
        struct pollfd pfd[3] = {
            {wake_fd, POLLIN, 0}, {n->pipe[0], POLLIN, 0}, {mqtt_client_fd(&n->mq), POLLIN, 0}};
        if (poll(pfd, 3, timeout) < 0 && errno != EINTR)
            return fprintf(stderr, "pownode: poll: %s\n", strerror(errno)), 1;
        if (pfd[1].revents & POLLIN)
            miner_done(n);
        /* miner_done may have published, failed, and dropped the connection: check again. */
        if (pfd[2].fd >= 0 && (pfd[2].revents & (POLLIN | POLLHUP | POLLERR)) &&
            mqtt_client_connected(&n->mq)) {
            if (mqtt_client_readable(&n->mq, err, sizeof err) < 0)
                lost(n, err);
        }
    }
    return 0;
}

/* A clean exit: say goodbye so the others need not wait for a Will, clear what we retained. */
static void leave(struct node *n)
{
    miner_stop(n);
    if (!mqtt_client_connected(&n->mq))
        return;
    struct msg m = {.type = MSG_LEAVE, .node = n->cfg->id};
    publish(n, &m, false);
    if (n->am_leader) {
        mqtt_client_publish(&n->mq, TOPIC_LEADER, "", 0, 1, true);
        mqtt_client_publish(&n->mq, TOPIC_CHALLENGE, "", 0, 1, true);
    }
    mqtt_client_disconnect(&n->mq);
}

static void setup(struct node *n, const struct node_cfg *cfg)
{
    memset(n, 0, sizeof *n);
    n->cfg = cfg;
    n->rng = cfg->seed ^ ((uint64_t)cfg->id << 32);
    n->backoff_ms = BACKOFF_MIN_MS;
    election_init(&n->el, cfg->id);
    chain_init(&n->chain);
    mqtt_client_init(&n->mq);
    struct mqtt_client *c = &n->mq;
    c->host = cfg->broker;
    c->port = cfg->port;
    c->cafile = cfg->cafile;
    c->username = cfg->user;
    c->password = cfg->password[0] ? cfg->password : NULL;
    c->keepalive = (uint16_t)cfg->keepalive;
    snprintf(c->client_id, sizeof c->client_id, "pownode-%u", cfg->id);
    /* 3.1.2.5 Will Flag: if we vanish without DISCONNECT the broker says so for us. */
    c->will_topic = TOPIC_LEAVE; /* its payload is made in try_connect */
    static const char *const topics[] = {TOPIC_LEADER,   TOPIC_INIT,   TOPIC_VOTE,  TOPIC_CHALLENGE,
                                         TOPIC_SOLUTION, TOPIC_RESULT, TOPIC_LEAVE, TOPIC_SYNC};
    for (size_t i = 0; i < sizeof topics / sizeof *topics; i++)
        c->topics[c->ntopics++] = topics[i];
    c->on_message = on_message;
    c->on_subscribed = on_subscribed;
    c->on_oversized = on_oversized;
    c->ctx = n;
}

int node_run(const struct node_cfg *cfg, volatile int *stop, int wake_fd)
{
    static struct node n; /* ~70 KB of receive buffer: not on the stack */
    setup(&n, cfg);
    if (pipe(n.pipe) < 0)
        return fprintf(stderr, "pownode: pipe: %s\n", strerror(errno)), 1;
    fcntl(n.pipe[0], F_SETFL, O_NONBLOCK);
    n.miner.wake_fd = n.pipe[1];
    int rc = loop(&n, stop, wake_fd);
    leave(&n);
    if (n.ready || rc == 0) /* a node that never started prints no events at all */
        evlog("ev=stats results=%llu solutions=%llu hashes=%llu rejects=%llu bad=%llu sent=%llu "
              "received=%llu resent=%llu connects=%llu",
              n.results, n.solutions, n.hashes, n.rejects, n.bad, n.mq.sent, n.mq.received,
              n.mq.resent, n.mq.connects);
    mqtt_client_free(&n.mq);
    chain_free(&n.chain);
    close(n.pipe[0]);
    close(n.pipe[1]);
    return rc;
}
