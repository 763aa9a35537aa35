/* clock.c - the rules of Lamport clocks (1978) and vector clocks (Fidge 1988, Mattern 1989). */
#include "clock.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int clock_init(struct clock_state *c, int id, int n, bool vector)
{
    if (n < 1 || n > PROTO_MAX_NODES || id < 0 || id >= n)
        return CLOCK_EINVAL;
    memset(c, 0, sizeof *c);
    c->id = id;
    c->n = n;
    c->vector = vector;
    return 0;
}

/* STEP 1: every event ticks. Lamport's rule IR1: a process increments its
 * clock between any two of its events, so two events of one process never
 * share a timestamp. Our own vector entry counts our events, so it ticks too. */
static void tick(struct clock_state *c)
{
    c->lc++;
    if (c->vector)
        c->vc[c->id]++;
}

void clock_local(struct clock_state *c)
{
    tick(c);
}

/* The message carries the clock *after* the send's tick: it is the send
 * event's timestamp, which the receiver must land strictly above. */
void clock_send(struct clock_state *c, struct lc_msg *m)
{
    tick(c);
    m->lc = c->lc;
    m->vlen = c->vector ? (uint16_t)c->n : 0;
    memcpy(m->vc, c->vc, m->vlen * sizeof m->vc[0]);
}

/* Is m's vector one we can merge? Checked before anything changes, so a bad
 * message leaves the clock exactly as it was. */
static int check_vector(const struct clock_state *c, const struct lc_msg *m)
{
    if (m->vlen != (c->vector ? c->n : 0))
        return CLOCK_EVLEN;
    /* Peers learn of our events only from our messages, sent after we ticked,
     * so an honest vc[id] never exceeds ours. A larger one is forged or
     * corrupt, and merging it would claim events we never had. */
    if (c->vector && m->vc[c->id] > c->vc[c->id])
        return CLOCK_EAHEAD;
    return 0;
}

int clock_recv(struct clock_state *c, const struct lc_msg *m)
{
    int rc = check_vector(c, m);
    if (rc < 0)
        return rc;
    /* STEP 2: receive rule. Lamport's IR2: move past both our own clock and
     * the message's timestamp, so C(send) < C(receive): the clock condition
     * for the one arrow a message adds to happened-before. */
    c->lc = (m->lc > c->lc ? m->lc : c->lc) + 1;
    if (!c->vector)
        return 0;
    /* STEP 3: vector receive rule: take everything the sender knew
     * (component-wise max), then count this receive as one of our events. */
    for (int i = 0; i < c->n; i++)
        if (m->vc[i] > c->vc[i])
            c->vc[i] = m->vc[i];
    c->vc[c->id]++;
    return 0;
}

int clock_format_vc(const struct clock_state *c, char *buf, size_t cap)
{
    size_t len = 0;
    for (int i = 0; i < c->n; i++) {
        int w = snprintf(buf + len, cap - len, "%c%" PRIu64, i == 0 ? '[' : ',', c->vc[i]);
        if (w < 0 || (size_t)w >= cap - len)
            return -1; /* snprintf failed, or the text did not fit */
        len += (size_t)w;
    }
    if (len + 2 > cap)
        return -1; /* no room for "]" and the terminating NUL */
    buf[len++] = ']';
    buf[len] = '\0';
    return (int)len;
}

const char *clock_strerror(int code)
{
    switch (code) {
    case CLOCK_EINVAL: return "bad-clock-args";
    case CLOCK_EVLEN: return "vlen-mismatch";
    case CLOCK_EAHEAD: return "vc-ahead";
    default: return "unknown-error";
    }
}
