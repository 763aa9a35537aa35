/* lab7.c - lab7-mqtt-pow's grading tests: a private Mosquitto per run, the checkers (one leader
 * per epoch, one re-hashed winner per transaction, identical result lists, cheaters never win),
 * and the injectors (broker restart, forged and malformed MQTT messages). */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "grader.h"

#define MOSQUITTO "/usr/sbin/mosquitto"

/* ---- a plain SHA-256 (FIPS 180-4), so the checker re-hashes every winner itself ---- */

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) ((x) >> (n) | (x) << (32 - (n)))

static void sha_block(uint32_t h[8], const uint8_t *p)
{
    uint32_t w[64], v[8];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    memcpy(v, h, sizeof v);
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = v[7] + (ROR(v[4], 6) ^ ROR(v[4], 11) ^ ROR(v[4], 25)) +
                      ((v[4] & v[5]) ^ (~v[4] & v[6])) + K256[i] + w[i];
        uint32_t t2 = (ROR(v[0], 2) ^ ROR(v[0], 13) ^ ROR(v[0], 22)) +
                      ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
        memmove(v + 1, v, 7 * sizeof *v);
        v[4] += t1;
        v[0] = t1 + t2;
    }
    for (int i = 0; i < 8; i++)
        h[i] += v[i];
}

/* Digest of a message of at most 300 bytes (ours are data + 16 hex digits). */
static void sha256_small(const char *msg, size_t len, uint8_t out[32])
{
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    uint8_t buf[384] = {0};
    memcpy(buf, msg, len);
    buf[len] = 0x80;
    size_t total = (len + 9 + 63) / 64 * 64;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        buf[total - 1 - i] = (uint8_t)(bits >> (8 * i));
    for (size_t off = 0; off < total; off += 64)
        sha_block(h, buf + off);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 4; j++)
            out[4 * i + j] = (uint8_t)(h[i] >> (24 - 8 * j));
}

/* Leading zero bits of SHA-256(data || nonce as 16 lowercase hex digits): the lab's proof. */
static int pow_bits(const char *data, unsigned long long nonce, char hex[65])
{
    char msg[300];
    int n = snprintf(msg, sizeof msg, "%s%016llx", data, nonce);
    if (n < 0 || (size_t)n >= sizeof msg)
        return -1;
    uint8_t d[32];
    sha256_small(msg, (size_t)n, d);
    int bits = 0;
    while (bits < 256 && !(d[bits / 8] & (0x80 >> (bits % 8))))
        bits++;
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    return bits;
}

/* ---- the checkers ---- */

struct lab7_state {
    int slot;         /* the broker's harness slot */
    double restart_t; /* when the injector restarted the broker, 0 if never */
    char conf[600];
    int forged;       /* attacks: forged messages the injector got out */
    double attack_t;  /* when the attack was made */
};

/* Every ev=leader line: within an epoch, every node names the same leader. */
static void check_leaders(struct run *r, struct verdict *v)
{
    const struct event *first[1024] = {0}; /* by epoch */
    char a[512], b[512];
    for (int i = 0; i < r->n; i++)
        for_each_event(r, i, e) {
            long long epoch, leader, l0;
            if (strcmp(e->ev, "leader") != 0)
                continue;
            if (!event_int(e, "epoch", &epoch) || !event_int(e, "leader", &leader) || epoch < 0 ||
                epoch >= 1024) {
                verdict_fail(v, V_SAFETY, "ev=leader without a usable epoch= and leader=: %s",
                             event_str(e, a, sizeof a));
                return;
            }
            const struct event *f = first[epoch];
            if (!f)
                first[epoch] = e;
            else if (event_int(f, "leader", &l0) && l0 != leader) {
                verdict_fail(v, V_SAFETY,
                             "two leaders in epoch %lld: node %d follows %lld but node %d "
                             "follows %lld (%s / %s); every node must elect the same leader",
                             epoch, f->node, l0, e->node, leader, event_str(f, a, sizeof a),
                             event_str(e, b, sizeof b));
                return;
            }
        }
}

/* The first ev=result for each tx, by tx (tx < cap). */
#define MAXTX 4096

/* Every result: the same for every node, its proof re-hashed here, never a cheater's. */
static void check_results(struct run *r, struct verdict *v, int *ntx)
{
    static const struct event *by_tx[MAXTX];
    memset(by_tx, 0, sizeof by_tx);
    bool cheater[G_MAXNODES] = {false};
    char a[512], b[512], hex[65];
    for (int i = 0; i < r->n; i++)
        cheater[i] = run_count(r, i, "cheat") > 0;
    *ntx = 0;
    for (int i = 0; i < r->n; i++)
        for_each_event(r, i, e) {
            if (strcmp(e->ev, "result") != 0)
                continue;
            long long tx, winner, nonce, diff;
            const char *data = event_get(e, "data"), *snonce = event_get(e, "nonce");
            if (!event_int(e, "tx", &tx) || !event_int(e, "winner", &winner) || !snonce ||
                !event_int(e, "difficulty", &diff) || !data || tx < 1 || tx >= MAXTX) {
                verdict_fail(v, V_SAFETY,
                             "ev=result without tx= winner= nonce= difficulty= "
                             "data=: %s",
                             event_str(e, a, sizeof a));
                return;
            }
            nonce = (long long)strtoull(snonce, NULL, 10);
            const struct event *f = by_tx[tx];
            if (f) {
                if (strcmp(event_get(f, "winner"), event_get(e, "winner")) ||
                    strcmp(event_get(f, "nonce"), snonce) || strcmp(event_get(f, "data"), data))
                    verdict_fail(v, V_SAFETY,
                                 "tx=%lld has two different winners: %s / %s (each transaction "
                                 "must have exactly one winner, the same on every node)",
                                 tx, event_str(f, a, sizeof a), event_str(e, b, sizeof b));
                continue;
            }
            by_tx[tx] = e;
            (*ntx)++;
            int bits = pow_bits(data, (unsigned long long)nonce, hex);
            if (bits < diff)
                verdict_fail(v, V_SAFETY,
                             "tx=%lld: winner %lld's proof is invalid: SHA-256(\"%s\" || "
                             "%016llx) = %.16s... has %d leading zero bits, difficulty is %lld; "
                             "accepted in %s",
                             tx, winner, data, (unsigned long long)nonce, hex, bits, diff,
                             event_str(e, a, sizeof a));
            if (winner >= 0 && winner < r->n && cheater[winner])
                verdict_fail(v, V_SAFETY,
                             "tx=%lld was won by node %lld, which cheats "
                             "(ev=cheat): %s",
                             tx, winner, event_str(e, a, sizeof a));
        }
}

/* Each node's results, life by life: tx+1 after tx, no gap, no repeat. */
static void check_lists(struct run *r, struct verdict *v)
{
    char a[512], b[512];
    for (int i = 0; i < r->n; i++) {
        const struct event *prev = NULL;
        for_each_event(r, i, e) {
            long long tx, ptx;
            if (strcmp(e->ev, "result") != 0 || !event_int(e, "tx", &tx))
                continue;
            if (prev && prev->life == e->life && event_int(prev, "tx", &ptx) && tx != ptx + 1) {
                verdict_fail(v, V_SAFETY,
                             "node %d's result list is not the chain: tx=%lld follows tx=%lld "
                             "(%s then %s); every node must keep the same list",
                             i, tx, ptx, event_str(prev, a, sizeof a), event_str(e, b, sizeof b));
                return;
            }
            prev = e;
        }
    }
}

/* A miner stops when its transaction closes: no node publishes a solution (ev=solution) for a
 * tx after it accepted that tx's result in the same life. */
static void check_miners_stop(struct run *r, struct verdict *v)
{
    char a[512], b[512];
    for (int i = 0; i < r->n; i++)
        for (int j = 0; j < r->node[i].n; j++) {
            const struct event *e = &r->node[i].ev[j];
            long long tx, rtx;
            if (strcmp(e->ev, "solution") || !event_int(e, "tx", &tx))
                continue;
            for (int k = 0; k < j; k++) {
                const struct event *c = &r->node[i].ev[k];
                if (c->life == e->life && !strcmp(c->ev, "result") && event_int(c, "tx", &rtx) &&
                    rtx == tx)
                    return verdict_fail(v, V_SAFETY,
                                        "node %d published a solution for tx=%lld after it had "
                                        "accepted that tx's result (%s, then %s): a miner must "
                                        "stop when its transaction closes",
                                        i, tx, event_str(c, a, sizeof a),
                                        event_str(e, b, sizeof b));
            }
        }
}

/* The log of the node whose events say node=id (key-wrong-key checks a run without node 0, so
 * a log's place is not always its node's id); -1 if none. */
static int log_of(const struct run *r, long long id)
{
    for (int i = 0; i < r->n; i++)
        if (r->node[i].n > 0 && r->node[i].ev[0].node == id)
            return i;
    return -1;
}

/* Every ev=leader's vote= is a vote its leader cast in that epoch (its ev=vote line), not one
 * left over from an earlier epoch. A leader with no ev=vote for the epoch is not judged. */
static void check_leader_votes(struct run *r, struct verdict *v)
{
    char a[512];
    for (int i = 0; i < r->n; i++)
        for_each_event(r, i, e) {
            long long leader, epoch, vote, ep, val;
            int l;
            if (strcmp(e->ev, "leader") || !event_int(e, "leader", &leader) ||
                !event_int(e, "epoch", &epoch) || !event_int(e, "vote", &vote) ||
                (l = log_of(r, leader)) < 0)
                continue;
            int cast = 0, same = 0;
            for_each_event(r, l, c) {
                if (!strcmp(c->ev, "vote") && event_int(c, "epoch", &ep) && ep == epoch &&
                    event_int(c, "value", &val))
                    cast++, same += val == vote;
            }
            if (cast > 0 && same == 0)
                return verdict_fail(v, V_SAFETY,
                                    "node %d follows node %lld with vote=%lld in epoch %lld, but "
                                    "node %lld voted otherwise in that epoch (its ev=vote lines): "
                                    "%s; an epoch's election counts only that epoch's votes",
                                    e->node, leader, vote, epoch, leader,
                                    event_str(e, a, sizeof a));
        }
}

static void check_chain(struct run *r, struct verdict *v)
{
    int ntx;
    check_leaders(r, v);
    check_leader_votes(r, v);
    check_results(r, v, &ntx);
    check_lists(r, v);
    check_miners_stop(r, v);
    snprintf(r->info, sizeof r->info, "transactions=%d", ntx);
    if (ntx == 0)
        verdict_fail(v, V_LIVENESS, "no transaction was ever won");
}

/* One leader, and it is the one the rule picks from the epoch-1 votes. */
static void check_one_leader(struct run *r, struct verdict *v)
{
    char a[512];
    check_chain(r, v);
    long long best = -1, best_id = -1, val, ep, leader;
    for (int i = 0; i < r->n; i++)
        for_each_event(r, i, e) {
            if (!strcmp(e->ev, "vote") && event_int(e, "epoch", &ep) && ep == 1 &&
                event_int(e, "value", &val) && (val > best || (val == best && i > best_id)))
                best = val, best_id = i;
        }
    for (int i = 0; i < r->n; i++) {
        int k = run_count(r, i, "leader");
        if (k != 1) {
            verdict_fail(v, V_SAFETY,
                         "node %d printed %d ev=leader lines in a run without "
                         "faults (expected exactly one)",
                         i, k);
            continue;
        }
        for_each_event(r, i, e) {
            if (!strcmp(e->ev, "leader") && event_int(e, "leader", &leader) && leader != best_id)
                verdict_fail(v, V_SAFETY,
                             "node %d follows %lld, but the rule (highest vote, ties to the "
                             "higher id) picks node %lld (vote %lld) in epoch 1: %s",
                             i, leader, best_id, best, event_str(e, a, sizeof a));
        }
    }
}

static void check_cheater(struct run *r, struct verdict *v)
{
    check_chain(r, v);
    int rejects = 0;
    for (int i = 0; i < r->n; i++)
        for (int j = 0; j < r->node[i].n; j++) {
            long long from;
            const struct event *e = &r->node[i].ev[j];
            rejects += !strcmp(e->ev, "reject") && event_int(e, "from", &from) && from == 0;
        }
    if (run_count(r, 0, "cheat") == 0)
        verdict_fail(v, V_LIVENESS, "node 0 (--cheat) never cheated: the test proved nothing");
    else if (rejects == 0)
        verdict_fail(v, V_SAFETY,
                     "node 0 cheated %d times but the leader never printed "
                     "ev=reject from=0",
                     run_count(r, 0, "cheat"));
}

/* The last tx node i had accepted before time t, and whether it accepted one after. */
static void results_around(const struct run *r, int i, double t, long long *before, bool *after)
{
    *before = 0, *after = false;
    for_each_event(r, i, e) {
        long long tx;
        if (strcmp(e->ev, "result") || !event_int(e, "tx", &tx))
            continue;
        if (e->t < t)
            *before = tx;
        else
            *after = true;
    }
}

static void check_leader_killed(struct run *r, struct verdict *v)
{
    check_chain(r, v);
    const struct applied_fault *f = run_fault(r, F_CRASH, 0);
    if (!f)
        return verdict_fail(v, V_HARNESS, "the crash of node 0 was not applied");
    for (int i = 1; i < r->n; i++) {
        bool new_leader = false, after;
        long long before, leader, epoch;
        for_each_event(r, i, e) {
            if (!strcmp(e->ev, "leader") && e->t > f->t && event_int(e, "leader", &leader) &&
                event_int(e, "epoch", &epoch) && leader != 0 && epoch > 1)
                new_leader = true;
        }
        results_around(r, i, f->t, &before, &after);
        if (!new_leader)
            verdict_fail(v, V_LIVENESS,
                         "node %d never followed a new leader after leader 0 "
                         "was killed at t=%.0f",
                         i, f->t);
        else if (!after)
            verdict_fail(v, V_LIVENESS,
                         "node %d accepted no result after leader 0 was killed "
                         "(last before: tx=%lld)",
                         i, before);
    }
}

/* leader-killed-mining: as leader-killed, with the crash at the time the injector killed. */
static void check_killed_mining(struct run *r, struct verdict *v)
{
    struct lab7_state *s = r->lab_state;
    check_chain(r, v);
    if (!s || s->forged == 0)
        return verdict_fail(v, V_HARNESS,
                            "node 0 never published a challenge for tx >= 2 to "
                            "be killed at");
    long long won = 0;
    bool after;
    results_around(r, 0, 1e300, &won, &after);
    run_info(r, " killed-at-open-tx=%d leader-0-last-result=%lld", s->forged, won);
    for (int i = 1; i < r->n; i++) {
        bool new_leader = false;
        long long before, leader, epoch;
        for_each_event(r, i, e) {
            if (!strcmp(e->ev, "leader") && e->t > s->attack_t && event_int(e, "leader", &leader) &&
                event_int(e, "epoch", &epoch) && leader != 0 && epoch > 1)
                new_leader = true;
        }
        results_around(r, i, s->attack_t, &before, &after);
        if (!new_leader)
            verdict_fail(v, V_LIVENESS,
                         "node %d never followed a new leader after leader 0 was killed with "
                         "tx=%d open at t=%.0f",
                         i, s->forged, s->attack_t);
        else if (!after)
            verdict_fail(v, V_LIVENESS,
                         "node %d accepted no result after leader 0 was killed with tx=%d open "
                         "(last before: tx=%lld): the new leader must go on from the last result",
                         i, s->forged, before);
    }
}

static void check_broker_restart(struct run *r, struct verdict *v)
{
    struct lab7_state *s = r->lab_state;
    check_chain(r, v);
    if (!s || s->restart_t <= 0)
        return verdict_fail(v, V_HARNESS, "the broker was never restarted");
    for (int i = 0; i < r->n; i++) {
        int reconnects = 0;
        for_each_event(r, i, e)
            reconnects += !strcmp(e->ev, "connected") && e->t > s->restart_t;
        long long before;
        bool after;
        results_around(r, i, s->restart_t, &before, &after);
        if (!reconnects)
            verdict_fail(v, V_LIVENESS,
                         "node %d never reconnected (ev=connected) after the "
                         "broker restarted at t=%.0f",
                         i, s->restart_t);
        else if (!after)
            verdict_fail(v, V_LIVENESS,
                         "node %d accepted no result after the broker restarted "
                         "(last before: tx=%lld)",
                         i, before);
    }
}

/* restart-missed: node 2 was stopped across the broker restart, so the leader published results
 * it never received (only the last one is retained). It must have them all the same: its list is
 * the chain from its first result to the last round (check_lists: no gap), and it finished. */
static void check_restart_missed(struct run *r, struct verdict *v)
{
    check_broker_restart(r, v);
    const struct applied_fault *p = run_fault(r, F_PAUSE, 2), *q = run_fault(r, F_RESUME, 2);
    if (!p || !q)
        return verdict_fail(v, V_HARNESS, "node 2 was not paused and resumed");
    int missed = 0; /* the leader's results while node 2 was stopped */
    for_each_event(r, 0, e) {
        missed += !strcmp(e->ev, "result") && e->t > p->t && e->t < q->t;
    }
    if (missed < 2)
        return verdict_fail(v, V_HARNESS,
                            "the leader published %d result(s) while node 2 was stopped: the "
                            "test needs at least 2 (one more than the retained one)",
                            missed);
    if (run_count(r, 2, "done") == 0)
        verdict_fail(v, V_LIVENESS,
                     "node 2 missed %d results while it was stopped across the broker restart "
                     "and never printed ev=done: a node must recover the results published "
                     "while it was away",
                     missed);
}

/* Node 2, restarted, learned the leader and accepted a result in its new life. */
static void late_joiner_followed(struct run *r, struct verdict *v)
{
    int leader = 0, results = 0;
    for_each_event(r, 2, e) {
        if (e->life < 1)
            continue;
        leader += !strcmp(e->ev, "leader");
        results += !strcmp(e->ev, "result");
    }
    if (!run_fault(r, F_RESTART, 2))
        verdict_fail(v, V_HARNESS, "node 2 was never restarted");
    else if (!leader)
        verdict_fail(v, V_LIVENESS,
                     "the late joiner (node 2, restarted) never learned the "
                     "leader (no ev=leader)");
    else if (!results)
        verdict_fail(v, V_LIVENESS, "the late joiner (node 2) accepted no result");
}

static void check_late_joiner(struct run *r, struct verdict *v)
{
    check_chain(r, v);
    late_joiner_followed(r, v);
}

static bool attacked(struct run *r, struct verdict *v);

/* How many ev=bad why=<why> topic=<topic> from=<from> node i logged. */
static int bad_count(const struct run *r, int i, const char *why, const char *topic, long long from)
{
    int k = 0;
    for_each_event(r, i, e) {
        const char *w = event_get(e, "why"), *t = event_get(e, "topic");
        long long f;
        k += !strcmp(e->ev, "bad") && w && !strcmp(w, why) && t && !strcmp(t, topic) &&
             event_int(e, "from", &f) && f == from;
    }
    return k;
}

/* restart-then-join: node 2 is down while the broker restarts (which loses every retained
 * message) and comes back after it: it can learn the leader only from what the leader
 * re-published after reconnecting. */
static void check_restart_join(struct run *r, struct verdict *v)
{
    check_broker_restart(r, v);
    late_joiner_followed(r, v);
}

static void check_bad(struct run *r, struct verdict *v)
{
    char a[512];
    check_chain(r, v);
    for (int i = 0; i < r->n; i++) {
        int k = run_count(r, i, "bad");
        if (k < 5)
            verdict_fail(v, V_SAFETY,
                         "node %d logged %d ev=bad for the 8 malformed or forged "
                         "messages (expected at least 5: every node decodes them)",
                         i, k);
    }
    if (!attacked(r, v))
        return;
    for (int i = 0; i < r->n; i++) {
        /* Every node followed the leader when they came: refused for their sender, no other way. */
        static const char *const topics[] = {"system/challenge", "system/result"};
        for (int t = 0; t < 2; t++)
            if (bad_count(r, i, "not_leader", topics[t], 999) == 0)
                verdict_fail(v, V_SAFETY,
                             "node %d did not refuse the %s from node 999 (not the leader) with "
                             "ev=bad why=not_leader topic=%s from=999: a challenge or result "
                             "counts only from the leader of the current epoch",
                             i, topics[t] + 7, topics[t]);
        for_each_event(r, i, e) {
            const char *data = event_get(e, "data");
            if ((!strcmp(e->ev, "challenge") || !strcmp(e->ev, "result")) && data &&
                !strcmp(data, "forged"))
                return verdict_fail(v, V_SAFETY,
                                    "node %d took the challenge or result forged by node 999: %s",
                                    i, event_str(e, a, sizeof a));
        }
    }
}

static void check_tls(struct run *r, struct verdict *v)
{
    check_chain(r, v);
    bool tls = false;
    for_each_event(r, 0, e) {
        const char *t = event_get(e, "tls");
        tls |= !strcmp(e->ev, "connected") && t && !strcmp(t, "1");
    }
    if (!tls)
        verdict_fail(v, V_SAFETY,
                     "node 0 (pownode-tls --cafile) never printed ev=connected "
                     "tls=1");
}

/* ---- the broker ---- */

static bool port_accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static void nap(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Start (or restart) mosquitto on the run's {aux} port and wait until it accepts. */
static int spawn_broker(struct run *r, struct verdict *v)
{
    struct lab7_state *s = r->lab_state;
    char *argv[] = {MOSQUITTO, "-c", s->conf, NULL};
    s->slot = harness_spawn(r, argv, "broker.log");
    if (s->slot < 0)
        return verdict_fail(v, V_HARNESS, "cannot start %s", MOSQUITTO), -1;
    for (int waited = 0; waited < 20000; waited += 20) {
        if (port_accepts(r->aux_port))
            return 0;
        if (r->aux_pid[s->slot] <= 0 || waitpid(r->aux_pid[s->slot], NULL, WNOHANG) != 0)
            break;
        nap(20);
    }
    return verdict_fail(v, V_HARNESS, "mosquitto did not accept on port %d (see %s/broker.log)",
                        r->aux_port, r->dir),
           -1;
}

static int write_conf(struct run *r, struct verdict *v, const char *extra)
{
    /* One run at a time, and the checker (which runs after teardown) still reads it. */
    static struct lab7_state state;
    struct lab7_state *s = &state;
    memset(s, 0, sizeof *s);
    r->lab_state = s;
    snprintf(s->conf, sizeof s->conf, "%s/mosquitto.conf", r->dir);
    FILE *f = fopen(s->conf, "w");
    if (!f)
        return verdict_fail(v, V_HARNESS, "%s: %s", s->conf, strerror(errno)), -1;
    /* As root mosquitto would drop to user mosquitto, which cannot read our key files. */
    fprintf(f, "listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n%s%s", r->aux_port,
            geteuid() == 0 ? "user root\n" : "", extra ? extra : "");
    fclose(f);
    return 0;
}

static int setup_broker(struct run *r, struct verdict *v)
{
    if (access(MOSQUITTO, X_OK) != 0)
        return verdict_fail(v, V_HARNESS, "%s is missing: apt-get install mosquitto", MOSQUITTO),
               -1;
    return write_conf(r, v, NULL) < 0 ? -1 : spawn_broker(r, v);
}

/* Hold a TCP port on 127.0.0.1: bound, not listening, so connects to it are refused and no
 * other program can take it (SO_REUSEADDR: mosquitto, which sets it too, may bind beside it).
 * The fd, or -1. */
static int hold_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) < 0)
        return close(fd), -1;
    return fd;
}

/* F_CALL: stop the broker (its clients lose their connections), start it again. The port is
 * held while the broker is down: a parallel grading run once took it in those 300 ms, and the
 * new broker died with "Address already in use". */
static void inject_restart(struct run *r, int node, struct verdict *v)
{
    (void)node;
    struct lab7_state *s = r->lab_state;
    harness_stop_aux(r, s->slot, 5000);
    int held = hold_port(r->aux_port);
    nap(300); /* the nodes see the broker gone and retry in the meantime */
    s->restart_t = mono_ms();
    spawn_broker(r, v);
    if (held >= 0)
        close(held);
}

/* ---- a tiny MQTT publisher for the forged-message injector (MQTT 3.1.1 §3.1, §3.3) ---- */

static size_t put_rl(uint8_t *p, size_t len)
{
    size_t n = 0;
    do {
        p[n] = len % 128;
        len /= 128;
        if (len)
            p[n] |= 0x80;
        n++;
    } while (len);
    return n;
}

static int send_all(int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        p += n, len -= (size_t)n;
    }
    return 0;
}

static int mqtt_publish(int fd, const char *topic, const void *payload, size_t pl, bool retain)
{
    size_t tl = strlen(topic), n = 0;
    uint8_t *buf = malloc(pl + tl + 8);
    if (!buf)
        return -1;
    buf[n++] = retain ? 0x31 : 0x30; /* PUBLISH, QoS 0 */
    n += put_rl(buf + n, 2 + tl + pl);
    buf[n++] = (uint8_t)(tl >> 8), buf[n++] = (uint8_t)tl;
    memcpy(buf + n, topic, tl), n += tl;
    memcpy(buf + n, payload, pl), n += pl;
    int rc = send_all(fd, buf, n);
    free(buf);
    return rc;
}

static int mqtt_publish0(int fd, const char *topic, const char *payload)
{
    return mqtt_publish(fd, topic, payload, strlen(payload), false);
}

static void put_str16(uint8_t *buf, size_t *n, const char *str)
{
    size_t len = strlen(str);
    buf[(*n)++] = (uint8_t)(len >> 8), buf[(*n)++] = (uint8_t)len;
    memcpy(buf + *n, str, len), *n += len;
}

/* 3.1 CONNECT (clean session, keep-alive 30 s, user and password if given) and its CONNACK.
 * The fd, or -1; *code gets the CONNACK return code (3.2.2.3), -1 if none came. */
static int mqtt_login(int port, const char *user, const char *pass, int *code)
{
    *code = -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
        return fd >= 0 ? close(fd), -1 : -1;
    uint8_t body[300], pkt[310];
    size_t n = 0, k = 0;
    put_str16(body, &n, "MQTT");
    body[n++] = 4;
    body[n++] = (uint8_t)(0x02 | (user ? 0x80 : 0) | (pass ? 0x40 : 0));
    body[n++] = 0, body[n++] = 30;
    put_str16(body, &n, "grader-fake");
    if (user)
        put_str16(body, &n, user);
    if (pass)
        put_str16(body, &n, pass);
    pkt[k++] = 0x10;
    k += put_rl(pkt + k, n);
    memcpy(pkt + k, body, n), k += n;
    uint8_t ack[4];
    struct pollfd pfd = {fd, POLLIN, 0};
    if (send_all(fd, pkt, k) < 0 || poll(&pfd, 1, 5000) <= 0 ||
        recv(fd, ack, 4, MSG_WAITALL) != 4 || ack[0] != 0x20)
        return close(fd), -1;
    *code = ack[3];
    return ack[3] == 0 ? fd : (close(fd), -1);
}

static int mqtt_open(int port)
{
    int code;
    return mqtt_login(port, NULL, NULL, &code);
}

/* ---- TLS: a CA and a broker certificate made for the run, and pownode-tls ---- */

/* Run a shell command with its output in <run dir>/<log>; its exit status, -1 if none. */
static int sh(struct run *r, const char *cmd, const char *log)
{
    char full[4096];
    snprintf(full, sizeof full, "cd '%s' && (%s) >>'%s' 2>&1", r->dir, cmd, log);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", full, (char *)NULL);
        _exit(127);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char make_certs[] =
    "mkdir -p tls && cd tls && "
    "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=lab7-test-ca "
    "  -keyout ca.key -out ca.pem && "
    "openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr && "
    "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext && "
    "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
    "  -extfile san.ext -out server.pem && "
    "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=some-other-ca "
    "  -keyout wrong.key -out wrong.pem";

/* The lab directory as the harness sees it. */
static void lab_path(struct run *r, char *out, size_t cap)
{
    const char *base = r->opt->labdir ? r->opt->labdir : r->lab->dir;
    if (base[0] == '/')
        snprintf(out, cap, "%s", base);
    else
        snprintf(out, cap, "%s/%s", r->opt->root, base);
}

/* pownode-tls is built by `make TLS=1`; build it if missing, so that the TLS test can never
 * pass (or be skipped) silently without a TLS binary. */
static int need_tls_binary(struct run *r, struct verdict *v)
{
    char lab[700], bin[900], cmd[4096];
    lab_path(r, lab, sizeof lab);
    snprintf(bin, sizeof bin, "%s/%s/pownode-tls", lab, r->opt->build);
    if (access(bin, X_OK) == 0)
        return 0;
    const char *san = strstr(r->opt->build, "asan")   ? "SAN=asan"
                      : strstr(r->opt->build, "tsan") ? "SAN=tsan"
                                                      : "";
    /* Under a lock: tests run in parallel (--jobs, --repeat) would otherwise build it together,
     * each compiler writing the same objects. */
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s/%s' && flock '%s/%s/.tls-build.lock' "
             "make -s -C '%s' TLS=1 %s '%s/pownode-tls'",
             lab, r->opt->build, lab, r->opt->build, lab, san, r->opt->build);
    if (sh(r, cmd, "make-tls.log") != 0 || access(bin, X_OK) != 0)
        return verdict_fail(v, V_HARNESS,
                            "the TLS test needs %s, and `make TLS=1` could not "
                            "build it (OpenSSL's libssl-dev missing?): see %s/"
                            "make-tls.log",
                            bin, r->dir),
               -1;
    return 0;
}

/* A node given the wrong CA must refuse the broker, say so, and exit 1. */
static int wrong_ca_refused(struct run *r, struct verdict *v, int tls_port)
{
    char lab[700], cmd[2000], path[700], text[2048] = "";
    lab_path(r, lab, sizeof lab);
    snprintf(cmd, sizeof cmd,
             "timeout 60 '%s/%s/pownode-tls' --id 9 --port %d --cafile "
             "tls/wrong.pem; echo \"exit=$?\"",
             lab, r->opt->build, tls_port);
    sh(r, cmd, "wrong-ca.log");
    snprintf(path, sizeof path, "%s/wrong-ca.log", r->dir);
    FILE *f = fopen(path, "r");
    if (f) {
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = '\0';
        fclose(f);
    }
    if (!strstr(text, "exit=1") || !strstr(text, "certificate"))
        return verdict_fail(v, V_SAFETY,
                            "pownode-tls with a CA that did not sign the broker's "
                            "certificate must exit 1 with a message naming the "
                            "certificate; it said: %.300s",
                            text),
               -1;
    return 0;
}

static int setup_tls(struct run *r, struct verdict *v)
{
    if (access(MOSQUITTO, X_OK) != 0)
        return verdict_fail(v, V_HARNESS, "%s is missing", MOSQUITTO), -1;
    if (need_tls_binary(r, v) < 0)
        return -1;
    if (sh(r, make_certs, "openssl.log") != 0)
        return verdict_fail(v, V_HARNESS,
                            "openssl could not make the test certificates: see "
                            "%s/openssl.log",
                            r->dir),
               -1;
    /* The TLS listener takes node 0's reserved port: {port} in args0 names it. */
    int tls_port = r->node[0].port;
    char extra[2048];
    snprintf(extra, sizeof extra,
             "listener %d 127.0.0.1\ncafile %s/tls/ca.pem\ncertfile %s/tls/server.pem\n"
             "keyfile %s/tls/server.key\n",
             tls_port, r->dir, r->dir, r->dir);
    if (write_conf(r, v, extra) < 0 || spawn_broker(r, v) < 0)
        return -1;
    for (int waited = 0; !port_accepts(tls_port); waited += 20) {
        if (waited > 20000)
            return verdict_fail(v, V_HARNESS, "the TLS listener never accepted"), -1;
        nap(20);
    }
    return wrong_ca_refused(r, v, tls_port);
}

/* ---- attacks of a hostile classmate on the LAN (issue 12): over the wire, real broker ---- */

/* 3.8 SUBSCRIBE to topics at QoS 0, and its SUBACK. */
static int mqtt_subscribe0(int fd, const char *const *topics, int n)
{
    uint8_t buf[512];
    size_t body = 2, k = 0;
    for (int i = 0; i < n; i++)
        body += 2 + strlen(topics[i]) + 1;
    buf[k++] = 0x82;
    k += put_rl(buf + k, body);
    buf[k++] = 0, buf[k++] = 1; /* packet id 1 */
    for (int i = 0; i < n; i++) {
        size_t tl = strlen(topics[i]);
        buf[k++] = (uint8_t)(tl >> 8), buf[k++] = (uint8_t)tl;
        memcpy(buf + k, topics[i], tl), k += tl;
        buf[k++] = 0;
    }
    return send_all(fd, buf, k);
}

static int recv_full(int fd, uint8_t *p, size_t len, int timeout_ms)
{
    struct pollfd pfd = {fd, POLLIN, 0};
    while (len) {
        if (poll(&pfd, 1, timeout_ms) <= 0)
            return -1;
        ssize_t n = recv(fd, p, len, 0);
        if (n <= 0)
            return -1;
        p += n, len -= (size_t)n;
    }
    return 0;
}

/* The next PUBLISH (other packets skipped): its topic and payload (NUL-terminated), and
 * whether the broker flagged it retained. -1 after timeout_ms without one. */
static int mqtt_next(int fd, char *topic, size_t tcap, char *pay, size_t pcap, bool *retained,
                     int timeout_ms)
{
    for (;;) {
        uint8_t h, b;
        size_t rl = 0, mult = 1;
        if (recv_full(fd, &h, 1, timeout_ms) < 0)
            return -1;
        do {
            if (recv_full(fd, &b, 1, timeout_ms) < 0)
                return -1;
            rl += (b & 127) * mult, mult *= 128;
        } while (b & 128);
        uint8_t *body = malloc(rl + 1);
        if (!body || recv_full(fd, body, rl, timeout_ms) < 0)
            return free(body), -1;
        size_t tl = rl >= 2 ? (size_t)body[0] << 8 | body[1] : 0;
        if ((h >> 4) == 3 && 2 + tl <= rl && tl < tcap && rl - 2 - tl < pcap) {
            memcpy(topic, body + 2, tl), topic[tl] = '\0';
            memcpy(pay, body + 2 + tl, rl - 2 - tl), pay[rl - 2 - tl] = '\0';
            *retained = h & 1;
            free(body);
            return 0;
        }
        free(body);
    }
}

/* A number field of a node's JSON payload ("key": 12); -1 if absent. */
static long long json_num(const char *pay, const char *key)
{
    char k[32];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(pay, k);
    return p ? strtoll(p + strlen(k), NULL, 10) : -1;
}

/* A session that listens to the leader as every node does. */
static int spy(struct run *r, struct verdict *v)
{
    static const char *const topics[] = {"system/challenge", "system/result"};
    int fd = mqtt_open(r->aux_port);
    if (fd < 0 || mqtt_subscribe0(fd, topics, 2) < 0) {
        verdict_fail(v, V_HARNESS, "cannot connect to the broker to attack");
        return fd >= 0 ? close(fd), -1 : -1;
    }
    return fd;
}

static void hang_up(int fd)
{
    static const uint8_t disconnect[] = {0xe0, 0};
    send_all(fd, disconnect, sizeof disconnect);
    close(fd);
}

static const struct {
    const char *topic, *payload;
} forged[] = {
    {"system/solution", "not json at all"},
    {"system/init", "{\"type\": \"init\", \"node\": \"seven\"}"},
    {"system/vote", "{\"type\": \"vote\", \"node\": 1}"},
    {"system/init", "{\"type\": \"init\", \"node\": 99999999999999999999999}"},
    {"system/vote", "{\"type\": \"init\", \"node\": 5}"},
    /* %lld: the leader's epoch and the next tx (see inject_forged) */
    {"system/challenge", "{\"type\": \"challenge\", \"node\": 999, \"epoch\": %lld, \"tx\": "
                         "%lld, \"difficulty\": 1, \"data\": \"forged\"}"},
    {"system/result", "{\"type\": \"result\", \"node\": 999, \"epoch\": %lld, \"tx\": %lld, "
                      "\"difficulty\": 1, \"nonce\": 1, \"winner\": 999, \"data\": \"forged\"}"},
    {"system/solution", "{\"type\": \"solution\", \"node\": 998, \"tx\": 99999, \"nonce\": 1, "
                        "\"data\": \"x\"}"},
};

/* F_CALL: once the leader published a result (so every node that took it knows its leader),
 * publish malformed and forged messages; every node must log them and go on. The forged
 * challenge and result come from node 999 in the leader's epoch, for the next tx: only the
 * sender's id gives them away, so they reach the not_leader check. */
static void inject_forged(struct run *r, int node, struct verdict *v)
{
    (void)node;
    struct lab7_state *s = r->lab_state;
    char topic[64], pay[1024], msg[512];
    bool retained;
    long long tx = -1, epoch = -1;
    int fd = spy(r, v);
    if (fd < 0)
        return;
    for (double end = mono_ms() + 30000; tx < 0 && mono_ms() < end;) {
        if (mqtt_next(fd, topic, sizeof topic, pay, sizeof pay, &retained, 10000) < 0)
            break;
        if (!retained && !strcmp(topic, "system/result"))
            tx = json_num(pay, "tx"), epoch = json_num(pay, "epoch");
    }
    if (tx < 0 || epoch < 0) {
        hang_up(fd);
        return verdict_fail(v, V_HARNESS, "no result was published within 30 s: nothing to forge");
    }
    s->attack_t = mono_ms();
    for (size_t i = 0; i < sizeof forged / sizeof *forged; i++) {
        snprintf(msg, sizeof msg, forged[i].payload, epoch, tx + 1);
        if (mqtt_publish0(fd, forged[i].topic,
                          strchr(forged[i].payload, '%') ? msg : forged[i].payload) < 0)
            verdict_fail(v, V_HARNESS, "cannot publish to the broker");
        else
            s->forged++;
    }
    hang_up(fd);
}

/* F_CALL: each time the leader publishes a result for tx, at once (inside its --pause) a
 * forged result for tx+1 in the leader's name and epoch: difficulty 1, winner 666, made-up
 * data with a proof that holds at difficulty 1 (issue 12 §3). Three times. */
static void inject_forged_result(struct run *r, int node, struct verdict *v)
{
    (void)node;
    struct lab7_state *s = r->lab_state;
    int fd = spy(r, v);
    char topic[64], pay[1024], hex[65], data[64], msg[512];
    bool retained;
    s->attack_t = mono_ms();
    while (s->forged < 3 && mqtt_next(fd, topic, sizeof topic, pay, sizeof pay, &retained,
                                      10000) == 0) {
        long long tx = json_num(pay, "tx");
        if (retained || strcmp(topic, "system/result") != 0 || tx < 0)
            continue;
        snprintf(data, sizeof data, "forged-%lld", tx + 1);
        unsigned long long nonce = 0;
        while (pow_bits(data, nonce, hex) < 1)
            nonce++;
        snprintf(msg, sizeof msg,
                 "{\"type\": \"result\", \"node\": %lld, \"epoch\": %lld, \"tx\": %lld, "
                 "\"difficulty\": 1, \"nonce\": %llu, \"winner\": 666, \"data\": \"%s\"}",
                 json_num(pay, "node"), json_num(pay, "epoch"), tx + 1, nonce, data);
        if (mqtt_publish0(fd, "system/result", msg) == 0)
            s->forged++;
    }
    hang_up(fd);
}

/* F_CALL: each time the leader publishes a challenge, at once a forged one in its name for the
 * same tx and epoch with other data (issue 12 §3: it made both miners drop the real one).
 * Three times. */
static void inject_forged_challenge(struct run *r, int node, struct verdict *v)
{
    (void)node;
    struct lab7_state *s = r->lab_state;
    int fd = spy(r, v);
    char topic[64], pay[1024], msg[512];
    bool retained;
    s->attack_t = mono_ms();
    while (s->forged < 3 && mqtt_next(fd, topic, sizeof topic, pay, sizeof pay, &retained,
                                      10000) == 0) {
        long long tx = json_num(pay, "tx");
        if (retained || strcmp(topic, "system/challenge") != 0 || tx < 0 ||
            strstr(pay, "forged-")) /* our own forgery, echoed back */
            continue;
        snprintf(msg, sizeof msg,
                 "{\"type\": \"challenge\", \"node\": %lld, \"epoch\": %lld, \"tx\": %lld, "
                 "\"difficulty\": %lld, \"data\": \"forged-%lld\"}",
                 json_num(pay, "node"), json_num(pay, "epoch"), tx, json_num(pay, "difficulty"),
                 tx);
        if (mqtt_publish0(fd, "system/challenge", msg) == 0)
            s->forged++;
    }
    hang_up(fd);
}

/* near-miss: the grader is the only honest miner (nodes 1 and 2 cheat), at a difficulty that is
 * not a multiple of 4, so that a proof one bit short is still whole hex digits long. */
#define NM_DIFF 10
#define NM_SHORT 900 /* its solution has NM_DIFF - 1 zero bits */
#define NM_WRONG 901 /* a valid proof of the open challenge, offered for another tx */
#define NM_GOOD 902  /* a proof with exactly NM_DIFF zero bits: the one to win */
#define NM_ROUNDS 4

/* The first nonce from start whose proof for data has exactly bits leading zero bits. */
static unsigned long long nonce_with(const char *data, int bits, unsigned long long start)
{
    char hex[65];
    while (pow_bits(data, start, hex) != bits)
        start++;
    return start;
}

static int publish_solution(int fd, long long from, long long tx, unsigned long long nonce,
                            const char *data)
{
    char msg[512];
    snprintf(msg, sizeof msg,
             "{\"type\": \"solution\", \"node\": %lld, \"tx\": %lld, \"nonce\": %llu, "
             "\"data\": \"%s\"}",
             from, tx, nonce, data);
    return mqtt_publish0(fd, "system/solution", msg);
}

/* F_CALL: for each challenge, in this order (the broker keeps one publisher's order): a
 * solution one bit short; a result in the leader's name with that proof; a valid proof of the
 * challenge offered for tx+5; then a proof with exactly the difficulty's zero bits. */
static void inject_near_miss(struct run *r, int node, struct verdict *v)
{
    (void)node;
    struct lab7_state *s = r->lab_state;
    int fd = spy(r, v);
    char topic[64], pay[1024], msg[512], data[80];
    long long done = 0;
    bool retained;
    s->attack_t = mono_ms();
    while (fd >= 0 && done < NM_ROUNDS &&
           mqtt_next(fd, topic, sizeof topic, pay, sizeof pay, &retained, 10000) == 0) {
        long long tx = json_num(pay, "tx"), ep = json_num(pay, "epoch"), ld = json_num(pay, "node");
        long long diff = json_num(pay, "difficulty");
        const char *d = strstr(pay, "\"data\":");
        if (strcmp(topic, "system/challenge") || tx <= done || diff != NM_DIFF || !d ||
            sscanf(d, "\"data\": \"%63[A-Za-z0-9._:-]\"", data) != 1)
            continue;
        done = tx;
        unsigned long long shorter = nonce_with(data, NM_DIFF - 1, 0);
        unsigned long long good = nonce_with(data, NM_DIFF, 0);
        snprintf(msg, sizeof msg,
                 "{\"type\": \"result\", \"node\": %lld, \"epoch\": %lld, \"tx\": %lld, "
                 "\"difficulty\": %d, \"nonce\": %llu, \"winner\": %d, \"data\": \"%s\"}",
                 ld, ep, tx, NM_DIFF, shorter, NM_SHORT, data);
        if (publish_solution(fd, NM_SHORT, tx, shorter, data) == 0 &&
            mqtt_publish0(fd, "system/result", msg) == 0 &&
            publish_solution(fd, NM_WRONG, tx + 5, good, data) == 0 &&
            publish_solution(fd, NM_GOOD, tx, good, data) == 0)
            s->forged++;
    }
    if (fd >= 0)
        hang_up(fd);
}

/* F_CALL: SIGKILL the leader (node 0) the moment it publishes a challenge for tx >= 2, while
 * the miners work on it (difficulty 18): the new leader must go on from the last RESULT, not
 * from the challenge that was open. A kill from the injector, not the schedule: the harness
 * has no fault "when node 0 logs X", so this marks the node killed by us as F_CRASH does. */
static void inject_kill_mining(struct run *r, int node, struct verdict *v)
{
    (void)node;
    struct lab7_state *s = r->lab_state;
    char topic[64], pay[1024];
    bool retained;
    int fd = spy(r, v);
    for (double end = mono_ms() + 30000; fd >= 0 && mono_ms() < end;) {
        if (mqtt_next(fd, topic, sizeof topic, pay, sizeof pay, &retained, 10000) < 0)
            break;
        if (retained || strcmp(topic, "system/challenge") || json_num(pay, "tx") < 2 ||
            r->node[0].pid <= 0)
            continue;
        r->node[0].killed_by_us = true;
        kill(-r->node[0].pid, SIGKILL);
        s->attack_t = mono_ms();
        s->forged = (int)json_num(pay, "tx"); /* the tx that was open */
        break;
    }
    if (fd >= 0)
        hang_up(fd);
}

/* F_CALL: a 100 KB retained message on system/init, a topic every node subscribes to and no
 * node ever retains on, so it stays for the whole run (issue 12 §2: a reconnect loop). */
static void inject_big_retained(struct run *r, int node, struct verdict *v)
{
    (void)node;
    struct lab7_state *s = r->lab_state;
    static char big[100 * 1024];
    memset(big, 'x', sizeof big);
    int fd = mqtt_open(r->aux_port);
    if (fd < 0)
        return verdict_fail(v, V_HARNESS, "cannot connect to the broker to attack");
    s->attack_t = mono_ms();
    if (mqtt_publish(fd, "system/init", big, sizeof big, true) == 0)
        s->forged++;
    hang_up(fd);
}

#define FLOOD_IDS 71 /* more than the 64 places of a node's election table */
#define LATE_ID 50   /* the genuine node that comes after the flood */

/* F_CALL: 71 forged inits, then a genuine pownode with a new id (issue 12 §2: it was never
 * registered). It runs as a helper process (log: late.log) until the run ends. */
static void inject_flood(struct run *r, int node, struct verdict *v)
{
    (void)node;
    struct lab7_state *s = r->lab_state;
    static const char *const topic[] = {"system/init"};
    int fd = mqtt_open(r->aux_port);
    if (fd < 0 || mqtt_subscribe0(fd, topic, 1) < 0)
        return fd >= 0 ? close(fd) : 0, verdict_fail(v, V_HARNESS, "cannot attack the broker");
    char msg[128], t[64], pay[256];
    for (int i = 0; i < FLOOD_IDS; i++) {
        snprintf(msg, sizeof msg, "{\"type\": \"init\", \"node\": %d}", 1000 + i);
        s->forged += mqtt_publish0(fd, "system/init", msg) == 0;
    }
    /* Every node answers each init new to it with its own: the flood has been taken in once
     * the answers stop (for a second; at most 30 s on a loaded machine). */
    bool retained;
    for (double end = mono_ms() + 30000; mono_ms() < end;)
        if (mqtt_next(fd, t, sizeof t, pay, sizeof pay, &retained, 1000) < 0)
            break;
    hang_up(fd);
    char lab[700], bin[900], port[16], id[16];
    lab_path(r, lab, sizeof lab);
    snprintf(bin, sizeof bin, "%s/%s/pownode", lab, r->opt->build);
    snprintf(port, sizeof port, "%d", r->aux_port);
    snprintf(id, sizeof id, "%d", LATE_ID);
    char *argv[] = {bin, "--id", id, "--port", port, "--participants", "3", "--difficulty", "12",
                    "--init-timeout", "20000", NULL};
    s->attack_t = mono_ms();
    if (harness_spawn(r, argv, "late.log") < 0)
        verdict_fail(v, V_HARNESS, "cannot start the late node %s", bin);
}

/* ---- the attacks' properties ---- */

/* Every result any node accepted is for a challenge its leader issued (the leader's own
 * ev=challenge line, leader= itself: same tx and data) and was won by a node of the run. */
static void check_results_issued(struct run *r, struct verdict *v)
{
    char a[512];
    for (int i = 0; i < r->n; i++)
        for_each_event(r, i, e) {
            long long winner, tx, ltx, leader;
            const char *data = event_get(e, "data");
            if (strcmp(e->ev, "result") || !event_int(e, "winner", &winner) ||
                !event_int(e, "tx", &tx) || !event_int(e, "leader", &leader) || !data)
                continue;
            bool issued = false;
            for (int k = 0; leader >= 0 && leader < r->n && k < r->node[leader].n && !issued;
                 k++) {
                const struct event *c = &r->node[leader].ev[k];
                long long cl;
                const char *cd = event_get(c, "data");
                issued = !strcmp(c->ev, "challenge") && event_int(c, "leader", &cl) &&
                         cl == leader && event_int(c, "tx", &ltx) && ltx == tx && cd &&
                         !strcmp(cd, data);
            }
            if (!issued || winner < 0 || winner >= r->n)
                return verdict_fail(v, V_SAFETY,
                                    "node %d accepted a forged result: %s (its leader never "
                                    "issued that challenge, or the winner is not a node of the "
                                    "run); a result is valid only for the challenge this node "
                                    "saw from its leader",
                                    i, event_str(e, a, sizeof a));
        }
}

static bool attacked(struct run *r, struct verdict *v)
{
    struct lab7_state *s = r->lab_state;
    if (!s || s->forged == 0)
        verdict_fail(v, V_HARNESS, "the injector got no forged message out: the test proved "
                                   "nothing");
    return s && s->forged > 0;
}

static void check_forged_result(struct run *r, struct verdict *v)
{
    check_chain(r, v);
    if (attacked(r, v))
        check_results_issued(r, v);
}

static void check_forged_challenge(struct run *r, struct verdict *v)
{
    char a[512];
    check_chain(r, v);
    if (!attacked(r, v))
        return;
    check_results_issued(r, v);
    int conflicts = 0, denied = 0;
    for (int i = 0; i < r->n; i++)
        for_each_event(r, i, e) {
            const char *data = event_get(e, "data"), *why = event_get(e, "why");
            if (!strcmp(e->ev, "challenge") && data && !strncmp(data, "forged-", 7))
                return verdict_fail(v, V_SAFETY,
                                    "node %d dropped the leader's challenge for a forged one "
                                    "published after it: %s (one tx has one challenge per "
                                    "epoch: the first)",
                                    i, event_str(e, a, sizeof a));
            conflicts += !strcmp(e->ev, "bad") && why && !strcmp(why, "challenge_conflict");
            denied += !strcmp(e->ev, "bad") && why && !strcmp(why, "not_mine");
        }
    if (denied == 0)
        return verdict_fail(v, V_SAFETY, "the leader never logged ev=bad why=not_mine for the "
                                         "challenges forged in its name (it hears them too)");
    if (conflicts == 0) /* each came after the tx was won (closed_tx): nothing was tested */
        verdict_fail(v, V_HARNESS, "%d forged challenges were published, but no node logged "
                                   "ev=bad why=challenge_conflict: either none arrived while "
                                   "its tx was open (rerun), or the refusal is not logged",
                     ((struct lab7_state *)r->lab_state)->forged);
}

/* How many ev=reject from=<from> why=<why> node i logged. */
static int rejects(const struct run *r, int i, long long from, const char *why)
{
    int k = 0;
    for_each_event(r, i, e) {
        const char *w = event_get(e, "why");
        long long f;
        k += !strcmp(e->ev, "reject") && event_int(e, "from", &f) && f == from && w &&
             !strcmp(w, why);
    }
    return k;
}

/* Every tx was won by the grader's exact proof; the short one and the one for another tx were
 * refused by the leader (node 0), the short result by every follower (the chain's re-hash and
 * list checks catch one that was taken). */
static void check_near_miss(struct run *r, struct verdict *v)
{
    char a[512];
    check_chain(r, v);
    if (!attacked(r, v))
        return;
    int ntx = 0;
    for_each_event(r, 0, e) {
        long long winner;
        if (strcmp(e->ev, "result") || !event_int(e, "winner", &winner))
            continue;
        ntx++;
        if (winner != NM_GOOD)
            return verdict_fail(v, V_SAFETY,
                                "the leader's result %s was not won by the only valid proof "
                                "(node %d's, exactly %d zero bits)",
                                event_str(e, a, sizeof a), NM_GOOD, NM_DIFF);
    }
    int shorts = rejects(r, 0, NM_SHORT, "invalid_pow"),
        wrong = rejects(r, 0, NM_WRONG, "unknown_tx");
    int rounds = ((struct lab7_state *)r->lab_state)->forged;
    snprintf(r->info, sizeof r->info,
             "transactions=%d rounds=%d short-proof rejects=%d wrong-tx rejects=%d", ntx, rounds,
             shorts, wrong);
    if (shorts < rounds)
        verdict_fail(v, V_SAFETY,
                     "the leader rejected %d of %d solutions with %d zero bits at difficulty %d "
                     "(ev=reject from=%d why=invalid_pow): a proof needs difficulty zero BITS, "
                     "not whole hex digits",
                     shorts, rounds, NM_DIFF - 1, NM_DIFF, NM_SHORT);
    if (wrong < rounds)
        verdict_fail(v, V_SAFETY,
                     "the leader rejected %d of %d valid proofs offered for a tx that is not open "
                     "(ev=reject from=%d why=unknown_tx): a solution counts only for the open tx",
                     wrong, rounds, NM_WRONG);
    for (int i = 1; i < r->n; i++)
        if (bad_count(r, i, "invalid_pow", "system/result", 0) < rounds)
            verdict_fail(v, V_SAFETY,
                         "node %d refused %d of %d results whose proof was one bit short "
                         "(ev=bad why=invalid_pow topic=system/result from=0): every node "
                         "re-hashes every result",
                         i, bad_count(r, i, "invalid_pow", "system/result", 0), rounds);
}

static void check_big_retained(struct run *r, struct verdict *v)
{
    check_chain(r, v);
    if (!attacked(r, v))
        return;
    for (int i = 0; i < r->n; i++) {
        int connects = run_count(r, i, "connected"), oversized = 0;
        for_each_event(r, i, e) {
            const char *why = event_get(e, "why");
            oversized += !strcmp(e->ev, "bad") && why && !strcmp(why, "oversized_packet");
        }
        if (connects != 1)
            verdict_fail(v, V_LIVENESS,
                         "node %d connected %d times in a run without faults, after a 100 KB "
                         "retained message: a message too long to take must be skipped, not "
                         "end the session (it comes back on every reconnection)",
                         i, connects);
        else if (oversized == 0)
            verdict_fail(v, V_SAFETY,
                         "node %d never logged ev=bad why=oversized_packet for the 100 KB "
                         "message: the log must say what happened",
                         i);
    }
}

static void check_flood(struct run *r, struct verdict *v)
{
    struct lab7_state *s = r->lab_state;
    check_chain(r, v);
    if (!attacked(r, v))
        return;
    for (int i = 0; i < r->n; i++) {
        bool seen = false;
        for (int j = 0; j < r->node[i].n && !seen; j++) {
            const struct event *e = &r->node[i].ev[j];
            long long peer;
            seen = !strcmp(e->ev, "peer") && e->t >= s->attack_t &&
                   event_int(e, "peer", &peer) && peer == LATE_ID;
        }
        if (!seen)
            verdict_fail(v, V_LIVENESS,
                         "node %d never registered the genuine node %d (no ev=peer peer=%d) "
                         "that started after %d forged inits: forged entries must not lock a "
                         "real node out of the election table",
                         i, LATE_ID, LATE_ID, FLOOD_IDS);
    }
}

/* F_CALL: the epoch attack of issue 12 §1: a vote for epoch 4294967295 (it moved every node
 * there, and the next election wrapped to 0), one 1000 epochs ahead, and the leader's Will
 * forged (with the wrap, a permanent split brain). */
static void inject_epochs(struct run *r, int node, struct verdict *v)
{
    (void)node;
    struct lab7_state *s = r->lab_state;
    int fd = mqtt_open(r->aux_port);
    if (fd < 0)
        return verdict_fail(v, V_HARNESS, "cannot connect to the broker to attack");
    static const char *const msgs[][2] = {
        {"system/vote", "{\"type\": \"vote\", \"node\": 666, \"epoch\": 4294967295, "
                        "\"value\": 4294967295}"},
        {"system/vote", "{\"type\": \"vote\", \"node\": 667, \"epoch\": 1001, "
                        "\"value\": 4294967295}"},
        {"system/leave", "{\"type\": \"leave\", \"node\": 0}"},
    };
    s->attack_t = mono_ms();
    for (size_t i = 0; i < sizeof msgs / sizeof *msgs; i++)
        s->forged += mqtt_publish0(fd, msgs[i][0], msgs[i][1]) == 0;
    hang_up(fd);
}

/* No node moved to an epoch the forged votes named (nor wrapped), and the chain went on. The
 * forged leave of leader 0 moved nobody either: node 0 keeps talking (a result or challenge
 * every ~100 ms), and a message from a node is the proof that it is alive, whatever a Will said
 * a moment before (README: a Will is believed only after LEAVE_GRACE_MS). */
static void check_epochs(struct run *r, struct verdict *v)
{
    char a[512];
    check_chain(r, v);
    if (!attacked(r, v))
        return;
    for (int i = 0; i < r->n; i++)
        for_each_event(r, i, e) {
            long long epoch, peer;
            if (!strcmp(e->ev, "leave") && event_int(e, "peer", &peer) && peer == 0)
                return verdict_fail(v, V_SAFETY,
                                    "node %d believed the forged leave of leader 0, which kept "
                                    "publishing: %s (a Will or leave stands only if the node "
                                    "stays silent for the grace period)",
                                    i, event_str(e, a, sizeof a));
            if ((!strcmp(e->ev, "vote") || !strcmp(e->ev, "leader")) &&
                event_int(e, "epoch", &epoch) && epoch > 16)
                return verdict_fail(v, V_SAFETY,
                                    "node %d followed a forged epoch: %s (a vote or leader "
                                    "far ahead of the node's own epoch must move nobody)",
                                    i, event_str(e, a, sizeof a));
        }
}

/* ---- the broker's own security: a password file and an ACL ---- */

#define NODE_SECRET "s3cret-for-the-nodes"

/* Accounts: pownode (the nodes: read and write system/#) and observer (read only). */
static int setup_auth(struct run *r, struct verdict *v)
{
    if (access(MOSQUITTO, X_OK) != 0)
        return verdict_fail(v, V_HARNESS, "%s is missing", MOSQUITTO), -1;
    if (sh(r,
           "printf 'pownode:" NODE_SECRET "\\nobserver:look\\n' > passwd && "
           "mosquitto_passwd -U passwd && printf '" NODE_SECRET "\\n' > secret && "
           "printf 'user pownode\\ntopic readwrite system/#\\nuser observer\\n"
           "topic read system/#\\n' > acl",
           "auth.log") != 0)
        return verdict_fail(v, V_HARNESS, "mosquitto_passwd failed: see %s/auth.log", r->dir),
               -1;
    char extra[1400];
    snprintf(extra, sizeof extra, "allow_anonymous false\npassword_file %s/passwd\n"
             "acl_file %s/acl\n", r->dir, r->dir);
    return write_conf(r, v, extra) < 0 ? -1 : spawn_broker(r, v);
}

/* F_CALL: a stranger tries without an account, and with the wrong password; the read-only
 * observer publishes a forged init. The broker must refuse the first two and drop the third. */
static void inject_auth(struct run *r, int node, struct verdict *v)
{
    (void)node;
    struct lab7_state *s = r->lab_state;
    int code;
    int fd = mqtt_login(r->aux_port, NULL, NULL, &code);
    if (fd >= 0 || code != 5)
        verdict_fail(v, V_SAFETY, "the broker accepted (or did not refuse with CONNACK 5) a "
                                  "client without an account: code %d", code);
    if (fd >= 0)
        hang_up(fd);
    fd = mqtt_login(r->aux_port, "pownode", "guess", &code);
    if (fd >= 0 || (code != 4 && code != 5))
        verdict_fail(v, V_SAFETY, "the broker accepted a wrong password: code %d", code);
    if (fd >= 0)
        hang_up(fd);
    fd = mqtt_login(r->aux_port, "observer", "look", &code);
    if (fd < 0)
        return verdict_fail(v, V_HARNESS, "the observer account cannot log in: code %d", code);
    s->attack_t = mono_ms();
    s->forged += mqtt_publish0(fd, "system/init", "{\"type\": \"init\", \"node\": 777}") == 0;
    hang_up(fd);
}

static void check_auth(struct run *r, struct verdict *v)
{
    char a[512];
    check_chain(r, v);
    if (!attacked(r, v))
        return;
    for (int i = 0; i < r->n; i++)
        for_each_event(r, i, e) {
            long long peer;
            if ((!strcmp(e->ev, "peer") && event_int(e, "peer", &peer) && peer == 777) ||
                !strcmp(e->ev, "bad"))
                return verdict_fail(v, V_SAFETY,
                                    "node %d received what a read-only account published: %s "
                                    "(the broker's ACL must drop it)",
                                    i, event_str(e, a, sizeof a));
        }
}

/* ---- --key: the group key (lab7 README "Group key") ---- */

#define OUTSIDER 0 /* key-wrong-key: node 0 (args0) holds another key */

static int setup_group_key(struct run *r, struct verdict *v)
{
    return harness_write_keys(r, -1, v) < 0 ? -1 : setup_broker(r, v);
}

static int setup_outsider_key(struct run *r, struct verdict *v)
{
    return harness_write_keys(r, OUTSIDER, v) < 0 ? -1 : setup_broker(r, v);
}

/* Publish json as is (no tag) and with the signed trailer "\n<stamp> <64 hex>" (written here,
 * independently of the lab's code) whose tag is bytes of our own: the grader has no key, so
 * this is what a forger without it can send. Fresh stamps: only the tag can give them away. */
static int publish_forged(int fd, const char *topic, const char *json)
{
    char buf[512];
    uint64_t stamp = harness_wall_us();
    int n = snprintf(buf, sizeof buf, "%s\n%llu ", json, (unsigned long long)stamp);
    for (int k = 0; k < 32 && n > 0 && (size_t)n + 2 < sizeof buf; k++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%02x", (unsigned)((stamp * 31 + k) & 255));
    return mqtt_publish0(fd, topic, json) == 0 && mqtt_publish0(fd, topic, buf) == 0 ? 0 : -1;
}

/* F_CALL: what the README lists as "not protected without a key", each time the leader
 * publishes a result for tx (inside its --pause): a challenge for tx+1 in its name (first
 * wins), an announcement of node 1 as leader of the next epoch, the leader's leave, and a
 * result for tx+1 with a proof at difficulty 1. Three times. */
static void inject_key_forged(struct run *r, int node, struct verdict *v)
{
    (void)node;
    struct lab7_state *s = r->lab_state;
    int fd = spy(r, v);
    char topic[64], pay[1024], msg[512], data[64], hex[65];
    bool retained;
    s->attack_t = mono_ms();
    while (fd >= 0 && s->forged < 3 &&
           mqtt_next(fd, topic, sizeof topic, pay, sizeof pay, &retained, 10000) == 0) {
        long long tx = json_num(pay, "tx"), ep = json_num(pay, "epoch"), ld = json_num(pay, "node");
        if (retained || strcmp(topic, "system/result") != 0 || tx < 0 || strstr(pay, "forged-"))
            continue;
        snprintf(data, sizeof data, "forged-%lld", tx + 1);
        unsigned long long nonce = 0;
        while (pow_bits(data, nonce, hex) < 1)
            nonce++;
        int bad = 0;
        snprintf(msg, sizeof msg,
                 "{\"type\": \"challenge\", \"node\": %lld, \"epoch\": %lld, \"tx\": %lld, "
                 "\"difficulty\": 1, \"data\": \"%s\"}", ld, ep, tx + 1, data);
        bad |= publish_forged(fd, "system/challenge", msg);
        snprintf(msg, sizeof msg,
                 "{\"type\": \"leader\", \"node\": 1, \"epoch\": %lld, \"value\": 4294967295, "
                 "\"tx\": %lld}", ep + 1, tx);
        bad |= publish_forged(fd, "system/leader", msg);
        snprintf(msg, sizeof msg, "{\"type\": \"leave\", \"node\": %lld}", ld);
        bad |= publish_forged(fd, "system/leave", msg);
        snprintf(msg, sizeof msg,
                 "{\"type\": \"result\", \"node\": %lld, \"epoch\": %lld, \"tx\": %lld, "
                 "\"difficulty\": 1, \"nonce\": %llu, \"winner\": 1, \"data\": \"%s\"}",
                 ld, ep, tx + 1, nonce, data);
        bad |= publish_forged(fd, "system/result", msg);
        s->forged += bad == 0;
    }
    if (fd >= 0)
        hang_up(fd);
}

static void check_key_forged(struct run *r, struct verdict *v)
{
    char a[512];
    check_chain(r, v);
    if (!attacked(r, v))
        return;
    check_results_issued(r, v);
    for (int i = 0; i < r->n; i++) {
        for_each_event(r, i, e) {
            const char *data = event_get(e, "data");
            long long leader;
            if ((!strcmp(e->ev, "leader") && event_int(e, "leader", &leader) && leader != 0) ||
                !strcmp(e->ev, "leave") ||
                (!strcmp(e->ev, "challenge") && data && !strncmp(data, "forged-", 7)))
                return verdict_fail(v, V_SAFETY,
                                    "node %d believed a message forged without the group key: "
                                    "%s (with --key a message without a good tag must be "
                                    "dropped, ev=bad why=bad-mac)",
                                    i, event_str(e, a, sizeof a));
        }
        if (run_count_bad(r, i, "bad-mac") == 0)
            return verdict_fail(v, V_SAFETY, "node %d never logged ev=bad why=bad-mac for the "
                                             "%d rounds of forgeries", i,
                                ((struct lab7_state *)r->lab_state)->forged);
    }
}

/* key-wrong-key: the group (nodes 1..n-1) has finished; the outsider runs on. */
static bool until_group_done(struct run *r, char *why, size_t cap)
{
    for (int i = 1; i < r->n; i++)
        if (run_count(r, i, "done") == 0)
            return snprintf(why, cap, "node %d has not printed ev=done", i), false;
    return true;
}

/* Node 0 holds another key and leads itself: nodes 1..n-1 never hear of it, elect among
 * themselves and keep one chain; node 0 published (it issued challenges) and heard them only
 * as bad-mac too. */
static void check_outsider(struct run *r, struct verdict *v)
{
    static struct run group; /* the run without node 0, for the chain checks */
    char a[512];
    group = *r;
    group.n = r->n - 1;
    memmove(group.node, r->node + 1, sizeof *r->node * (size_t)group.n);
    check_chain(&group, v);
    snprintf(r->info, sizeof r->info, "%s", group.info);
    if (run_count(r, OUTSIDER, "challenge") == 0)
        return verdict_fail(v, V_HARNESS, "node 0 (another key) never issued a challenge: the "
                                          "test proved nothing");
    for (int i = 1; i < r->n; i++) {
        for_each_event(r, i, e) {
            long long x;
            if (((!strcmp(e->ev, "peer") && event_int(e, "peer", &x)) ||
                 (!strcmp(e->ev, "leader") && event_int(e, "leader", &x)) ||
                 (!strcmp(e->ev, "challenge") && event_int(e, "leader", &x))) &&
                x == OUTSIDER)
                return verdict_fail(v, V_SAFETY,
                                    "node %d believed node 0, which holds another key: %s (its "
                                    "every message must be dropped, why=bad-mac)",
                                    i, event_str(e, a, sizeof a));
        }
        if (run_count_bad(r, i, "bad-mac") == 0)
            return verdict_fail(v, V_SAFETY, "node %d never logged why=bad-mac for node 0's "
                                             "messages", i);
    }
    if (run_count_bad(r, OUTSIDER, "bad-mac") == 0)
        verdict_fail(v, V_SAFETY, "node 0 (another key) never logged why=bad-mac for the "
                                  "group's messages");
}

/* ---- the table ---- */

/* --participants is always the number of nodes the test starts: K is the contract of discovery
 * (README, "Election"), and a node never decides epoch 1 on fewer than K votes. */
#define COMMON "--difficulty 12 --init-timeout 20000 --keepalive 5 --seed {seed}"
#define ARGSK(k, rounds, pause)                                                                    \
    "--id {id} --port {aux} --participants " #k " --rounds " #rounds " --pause " #pause " " COMMON
#define ARGS(rounds, pause) ARGSK(3, rounds, pause)
/* The same at another difficulty (a later --difficulty wins over COMMON's). */
#define ARGSD(rounds, pause, d) ARGS(rounds, pause) " --difficulty " #d
#define LEADS "--vote 4294967295 " /* node 0 casts the highest vote possible: it leads */
#define KEY " --key {dir}/group.key"

static const struct gtest tests[] = {
    {.name = "one-leader",
     .points = 5,
     .nodes = 3,
     .args = ARGS(8, 30),
     .net = "",
     .check = check_one_leader,
     .setup = setup_broker,
     .timeout_ms = 90000,
     .what = "every node elects the same leader, the highest vote (ties: higher id)"},
    {.name = "tied-votes",
     .points = 5,
     .nodes = 3,
     .args = ARGS(3, 30) " --vote 7",
     .net = "",
     .check = check_one_leader,
     .setup = setup_broker,
     .timeout_ms = 90000,
     .what = "every node casts the same vote: the tie goes to the highest id"},
    {.name = "valid-winners",
     .points = 5,
     .nodes = 4,
     .args = ARGSK(4, 15, 20) " --threads 2 --difficulty 11",
     .net = "",
     .check = check_chain,
     .setup = setup_broker,
     .timeout_ms = 90000,
     .what = "each transaction has one winner whose proof re-hashes to >= difficulty zero bits "
             "(difficulty 11: bits, not whole hex digits)"},
    {.name = "same-lists",
     .points = 5,
     .nodes = 5,
     .args = ARGSK(5, 20, 10),
     .net = "",
     .check = check_chain,
     .setup = setup_broker,
     .timeout_ms = 90000,
     .what = "every node keeps the same list of results, in tx order"},
    {.name = "cheat-invalid",
     .points = 5,
     .nodes = 3,
     .args = ARGS(10, 30),
     .net = "",
     .args0 = ARGS(10, 30) " --cheat invalid --vote 0",
     .check = check_cheater,
     .setup = setup_broker,
     .timeout_ms = 90000,
     .what = "a node sending random nonces is rejected and never wins"},
    {.name = "cheat-stale",
     .points = 5,
     .nodes = 3,
     .args = ARGS(10, 30),
     .net = "",
     .args0 = ARGS(10, 30) " --cheat stale --vote 0",
     .check = check_cheater,
     .setup = setup_broker,
     .timeout_ms = 90000,
     .what = "a node re-sending old proofs (stale, closed tx) is rejected and never wins"},
    {.name = "leader-killed",
     .points = 15,
     .nodes = 3,
     .args = ARGS(30, 100),
     .net = "",
     .args0 = LEADS ARGS(30, 100),
     .faults = {{1000, F_CRASH, 0, NULL}},
     .nfaults = 1,
     .check = check_leader_killed,
     .setup = setup_broker,
     .timeout_ms = 120000,
     .what = "the leader is killed: its Will fires, the others elect a new one, the chain goes on"},
    {.name = "leader-killed-mining",
     .points = 5,
     .nodes = 3,
     .args = ARGSD(5, 100, 18),
     .net = "",
     .args0 = LEADS ARGSD(5, 100, 18),
     .faults = {{300, F_CALL, 0, NULL}},
     .nfaults = 1,
     .inject = inject_kill_mining,
     .check = check_killed_mining,
     .setup = setup_broker,
     .timeout_ms = 120000,
     .what = "the leader is killed while a challenge is open: the new leader re-issues that tx"},
    {.name = "broker-restart",
     .points = 5,
     .nodes = 3,
     .args = ARGS(30, 100),
     .net = "",
     .faults = {{1000, F_CALL, 0, NULL}},
     .nfaults = 1,
     .inject = inject_restart,
     .check = check_broker_restart,
     .setup = setup_broker,
     .timeout_ms = 120000,
     .what = "the broker restarts: every node reconnects and goes on"},
    {.name = "restart-missed",
     .points = 5,
     .nodes = 3,
     .args = ARGS(40, 100),
     .net = "",
     .args0 = LEADS ARGS(40, 100),
     .faults = {{800, F_PAUSE, 2, NULL}, {1000, F_CALL, 0, NULL}, {4000, F_RESUME, 2, NULL}},
     .nfaults = 3,
     .inject = inject_restart,
     .check = check_restart_missed,
     .setup = setup_broker,
     .timeout_ms = 120000,
     .what = "a node stopped across a broker restart misses results: it recovers them and "
             "finishes"},
    {.name = "restart-then-join",
     .points = 5,
     .nodes = 3,
     .args = ARGS(40, 100),
     .net = "",
     .args0 = LEADS ARGS(40, 100),
     .faults = {{300, F_CRASH, 2, NULL}, {1000, F_CALL, 0, NULL}, {3000, F_RESTART, 2, NULL}},
     .nfaults = 3,
     .inject = inject_restart,
     .check = check_restart_join,
     .setup = setup_broker,
     .timeout_ms = 120000,
     .what = "node 2 joins after a broker restart: the leader re-published its retained state"},
    {.name = "late-joiner",
     .points = 5,
     .nodes = 3,
     .args = ARGS(30, 100),
     .net = "",
     .args0 = LEADS ARGS(30, 100),
     .faults = {{300, F_CRASH, 2, NULL}, {1500, F_RESTART, 2, NULL}},
     .nfaults = 2,
     .check = check_late_joiner,
     .setup = setup_broker,
     .timeout_ms = 120000,
     .what = "a node joining late learns the leader and the chain's end, and follows it"},
    {.name = "bad-input",
     .points = 5,
     .nodes = 3,
     .args = ARGS(12, 50),
     .net = "",
     .faults = {{200, F_CALL, 0, NULL}},
     .nfaults = 1,
     .inject = inject_forged,
     .check = check_bad,
     .setup = setup_broker,
     .timeout_ms = 90000,
     .what = "malformed payloads, and a challenge and result of a non-leader in the leader's "
             "epoch: logged, refused (why=not_leader), never taken"},
    {.name = "forged-result",
     .points = 5,
     .nodes = 3,
     .args = ARGS(12, 100),
     .net = "",
     .args0 = LEADS ARGS(12, 100),
     .faults = {{200, F_CALL, 0, NULL}},
     .nfaults = 1,
     .inject = inject_forged_result,
     .check = check_forged_result,
     .setup = setup_broker,
     .timeout_ms = 90000,
     .what = "forged results in the leader's name (difficulty 1, winner 666) are never accepted"},
    {.name = "near-miss",
     .points = 5,
     .nodes = 3,
     .args = ARGSD(4, 50, 10) " --cheat invalid",
     .net = "",
     .args0 = LEADS ARGSD(4, 50, 10),
     .faults = {{100, F_CALL, 0, NULL}},
     .nfaults = 1,
     .inject = inject_near_miss,
     .check = check_near_miss,
     .setup = setup_broker,
     .timeout_ms = 90000,
     .what = "difficulty 10: a proof with 9 zero bits (2 whole hex digits) and a valid proof "
             "for another tx are refused by the leader and every node; 10 bits win"},
    {.name = "forged-challenge",
     .points = 5,
     .nodes = 3,
     .args = ARGSD(5, 50, 18),
     .net = "",
     .args0 = LEADS ARGSD(5, 50, 18),
     .faults = {{200, F_CALL, 0, NULL}},
     .nfaults = 1,
     .inject = inject_forged_challenge,
     .check = check_forged_challenge,
     .setup = setup_broker,
     .timeout_ms = 90000,
     .what = "a forged challenge for the open tx, just after the real one, is refused"},
    {.name = "big-retained",
     .points = 5,
     .nodes = 3,
     .args = ARGS(12, 50),
     .net = "",
     .faults = {{200, F_CALL, 0, NULL}},
     .nfaults = 1,
     .inject = inject_big_retained,
     .check = check_big_retained,
     .setup = setup_broker,
     .timeout_ms = 90000,
     .what = "a 100 KB retained message is skipped: no reconnect loop, a clear ev=bad"},
    {.name = "table-flood",
     .points = 5,
     .nodes = 3,
     .args = ARGS(30, 100),
     .net = "",
     .faults = {{300, F_CALL, 0, NULL}},
     .nfaults = 1,
     .inject = inject_flood,
     .check = check_flood,
     .setup = setup_broker,
     .timeout_ms = 90000,
     .what = "71 forged inits do not keep a genuine late node out of the election table"},
    {.name = "forged-epoch",
     .points = 5,
     .nodes = 3,
     .args = ARGS(20, 100),
     .net = "",
     .args0 = LEADS ARGS(20, 100),
     .faults = {{300, F_CALL, 0, NULL}},
     .nfaults = 1,
     .inject = inject_epochs,
     .check = check_epochs,
     .setup = setup_broker,
     .timeout_ms = 90000,
     .what = "forged votes for epoch 4294967295 and 1001 and a forged leave move nobody"},
    {.name = "broker-auth",
     .points = 5,
     .nodes = 3,
     .args = ARGS(12, 50) " --user pownode --password-file {dir}/../secret",
     .net = "",
     .faults = {{200, F_CALL, 0, NULL}},
     .nfaults = 1,
     .inject = inject_auth,
     .check = check_auth,
     .setup = setup_auth,
     .timeout_ms = 90000,
     .what = "a broker with password_file and ACL: nodes log in; strangers are refused, a "
             "read-only account cannot publish"},
    {.name = "key-forged",
     .points = 5,
     .nodes = 3,
     .args = ARGS(12, 100) KEY,
     .net = "",
     .args0 = LEADS ARGS(12, 100) KEY,
     .faults = {{200, F_CALL, 0, NULL}},
     .nfaults = 1,
     .inject = inject_key_forged,
     .check = check_key_forged,
     .setup = setup_group_key,
     .timeout_ms = 90000,
     .what = "--key: a forged next challenge, leader announcement, leave and result (no tag, a "
             "tag without the key) are all dropped (bad-mac): one leader, one chain"},
    {.name = "key-wrong-key",
     .points = 5,
     .nodes = 4,
     .args = ARGS(12, 50) KEY,
     .net = "",
     .args0 = "--id {id} --port {aux} --participants 1 --rounds 0 --pause 100 " COMMON KEY
              " --init-timeout 300",
     .until = until_group_done,
     .check = check_outsider,
     .setup = setup_outsider_key,
     .timeout_ms = 90000,
     .what = "--key: node 0 holds another key and leads itself: nodes 1-3 never believe it "
             "(bad-mac), elect among themselves and keep one chain"},
    {.name = "tls",
     .points = 5,
     .nodes = 3,
     .args = ARGS(8, 30),
     .net = "",
     .bin0 = "pownode-tls",
     .args0 = "--id {id} --broker 127.0.0.1 --port {port} --cafile {dir}/../tls/ca.pem "
              "--participants 3 --rounds 8 --pause 30 " COMMON,
     .check = check_tls,
     .setup = setup_tls,
     .timeout_ms = 120000,
     .what = "node 0 over TLS (make TLS=1, --cafile); a wrong CA is refused with a message"},
};

const struct lab lab7_mqtt = {"lab7-mqtt-pow", "pownode", tests, sizeof tests / sizeof *tests,
                              NULL};
