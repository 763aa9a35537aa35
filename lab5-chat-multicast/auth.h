/* auth.h - the group key (--key FILE) and the replay window of signed datagrams (README "Group
 * key"). Key file and stamps as in lab3-bully's auth.h; the freshness rule differs (below). */
#ifndef AUTH_H
#define AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "hmac.h"
#include "proto.h"

#define AUTH_KEY_MIN 16   /* bytes: 128 bits, so a key cannot be guessed */
#define AUTH_KEY_MAX 4096 /* bytes: anything bigger is surely not a key file */
/* A signed datagram's stamp may differ from the receiver's wall clock by this much. It bounds
 * how old a recorded datagram can be and still be replayed to a member that has just
 * (re)started and so remembers no stamps; the members' clocks must agree to within it. */
#define AUTH_WINDOW_US (30 * 1000000LL)
/* Per sender, the stamps of its last AUTH_REPLAY_WINDOW accepted datagrams are remembered:
 * lab5 delays and reorders datagrams, so a stamp lower than the highest seen is still fine if
 * it is not one of those (a copy) and not older than all of them (then we cannot tell). */
#define AUTH_REPLAY_WINDOW 64
#define AUTH_MAX_SENDERS (64 + 1) /* RA_MAXPEERS peers and ourselves (our multicast loops back) */

/* Read the key file at path: every byte of it is the key (make one with
 * `head -c 32 /dev/urandom > group.key`). Sets up *key and returns 0, or returns -1 with a
 * sentence in err: missing or unreadable, shorter than AUTH_KEY_MIN, longer than AUTH_KEY_MAX. */
int auth_load_key(const char *path, struct hmac_sha256 *key, char *err, size_t cap);

struct auth_window {
    char name[PROTO_NAMELEN + 1]; /* "" = a free slot */
    uint64_t seen[AUTH_REPLAY_WINDOW]; /* accepted stamps, in no order */
    int n;
};

/* Per sender name, its replay window. Owned by the node's loop; zero it to start. */
struct auth_guard {
    struct auth_window w[AUTH_MAX_SENDERS];
};

/* An authentic datagram from m->from, stamp m->stamp, at our wall clock now_us: NULL if it is
 * fresh, and then its stamp is remembered; "replay" if that stamp was accepted before; "stale"
 * if it is more than AUTH_WINDOW_US away from now_us, or older than every stamp in a full
 * window; "too-many-peers" if the table is full of other names. */
const char *auth_check_fresh(struct auth_guard *g, const struct proto_msg *m, uint64_t now_us);

/* The stamp for our next datagram: now_us, or one more than the last if the clock has not moved
 * on (or went back), so our stamps always increase. *last is updated. */
uint64_t auth_next_stamp(uint64_t *last, uint64_t now_us);

/* CLOCK_REALTIME in microseconds: stamps must keep increasing across a restart, which a
 * monotonic clock (it starts again at boot, and differs between machines) does not promise. */
uint64_t auth_wall_us(void);

#endif
