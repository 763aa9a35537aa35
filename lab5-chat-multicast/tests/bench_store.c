/* bench_store.c - time per message of the history under a flood (issue 12: 25,000 forged
 * messages made each one cost more than the last). Prints numbers; asserts nothing, since wall
 * clock differs from machine to machine. `make bench` runs it.
 *
 * Per message it does what a member does: store_add, and (as anti-entropy does every so often)
 * a summary, a "what do we lack" and a "what does the peer lack" pass. It uses only store.h's
 * functions, so the same file also builds against an older store.c for a before/after. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store.h"

#ifdef STORE_DEF_TOTAL
#define AT(s, i) ((s)->m[i]) /* the history is an array of pointers */
#else
#define AT(s, i) (&(s)->m[i]) /* before issue 12: an array of messages */
#endif

#define SUM_EVERY 100 /* messages between two summaries, as from a fast flood */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void flood(int n)
{
    struct store s;
    struct proto_sum sum[PROTO_MAXLIST], peer[PROTO_MAXLIST] = {{"f0", 1, 1}};
    long lacks = 0;
    store_init(&s);
    double t0 = now_s();
    for (int k = 0; k < n; k++) {
        struct chatmsg m = {.seq = (uint32_t)(k / 10 + 1), .lts = (uint64_t)(k * 7919 % n)};
        snprintf(m.author, sizeof m.author, "f%d", k % 10);
        snprintf(m.text, sizeof m.text, "forged message %d", k);
        store_add(&s, &m);
        if (k % SUM_EVERY == 0) {
            int ns = store_summary(&s, sum, PROTO_MAXLIST);
            lacks += store_we_lack(&s, sum, ns);
            for (size_t i = 0; i < s.n; i++)
                lacks += store_peer_lacks(peer, 1, AT(&s, i));
        }
    }
    double dt = now_s() - t0;
    printf("  %6d messages: %8.2f us per message, %8.3f s in all (history %zu, %ld lacks)\n", n,
           dt * 1e6 / n, dt, s.n, lacks);
    store_free(&s);
}

int main(void)
{
    printf("history under a flood of forged messages, no caps (the index's own cost):\n");
    int sizes[] = {1000, 5000, 25000};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        flood(sizes[i]);
    return 0;
}
