/* conntab.c - the inbound connection table's rules (see conntab.h for the states and why). */
#include "conntab.h"

int ctab_free(const struct conn *t, int n)
{
    for (int k = 0; k < n; k++)
        if (t[k].fd < 0)
            return k;
    return -1;
}

static bool stranger(const struct conn *c)
{
    return c->fd >= 0 && c->peer < 0;
}

int ctab_oldest_stranger(const struct conn *t, int n)
{
    int best = -1;
    for (int k = 0; k < n; k++)
        if (stranger(&t[k]) && (best < 0 || t[k].since_us < t[best].since_us))
            best = k;
    return best;
}

int ctab_expired(const struct conn *t, int n, int64_t now_us, int64_t limit_us)
{
    for (int k = 0; k < n; k++)
        if (stranger(&t[k]) && now_us - t[k].since_us >= limit_us)
            return k;
    return -1;
}

int64_t ctab_next_expiry(const struct conn *t, int n, int64_t limit_us)
{
    int k = ctab_oldest_stranger(t, n);
    return k < 0 ? INT64_MAX : t[k].since_us + limit_us;
}

enum ctab_hello ctab_on_hello(const struct conn *t, int n, int self, int peer, int *victim)
{
    int claims = 0, oldest = -1;
    for (int k = 0; k < n; k++) {
        if (k == self || t[k].fd < 0 || t[k].peer != peer)
            continue;
        if (t[k].spoke)
            return CTAB_TAKEN; /* the channel is there and talking: this one is not it */
        claims++;
        if (oldest < 0 || t[k].since_us < t[oldest].since_us)
            oldest = k;
    }
    *victim = oldest;
    return claims >= CTAB_CLAIMS ? CTAB_EVICT : CTAB_ACCEPT;
}

int ctab_rival(const struct conn *t, int n, int self)
{
    for (int k = 0; k < n; k++)
        if (k != self && t[k].fd >= 0 && t[k].peer == t[self].peer && !t[k].spoke)
            return k;
    return -1;
}
