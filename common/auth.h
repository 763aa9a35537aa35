/* auth.h - the group key (--key FILE) and the replay guard of signed frames (README "Group key").
 * The canonical copy is the kit's common/auth.h; labs 2 and 3 carry it verbatim (drift-checked).
 * It needs the lab's proto.h to define PROTO_MAX_NODES and a struct proto_msg with the fields
 * sender (the member's id) and stamp (microseconds). */
#ifndef AUTH_H
#define AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "hmac.h"
#include "proto.h"

#define AUTH_KEY_MIN 16   /* bytes: 128 bits, so a key cannot be guessed */
#define AUTH_KEY_MAX 4096 /* bytes: anything bigger is surely not a key file */
/* A signed frame's stamp may differ from the receiver's wall clock by this much. It bounds how
 * old a recorded frame can be and still be replayed to a node that has just (re)started and so
 * remembers no stamps; the members' clocks must agree to within it (NTP does far better). */
#define AUTH_WINDOW_US (30 * 1000000LL)

/* Read the key file at path: every byte of it is the key (make one with
 * `head -c 32 /dev/urandom > group.key`). Sets up *key and returns 0, or returns -1 with a
 * sentence in err: missing or unreadable, shorter than AUTH_KEY_MIN, longer than AUTH_KEY_MAX. */
int auth_load_key(const char *path, struct hmac_sha256 *key, char *err, size_t cap);

/* Per sender, the stamp of its latest accepted frame (0: none yet). Owned by the node's loop. */
struct auth_guard {
    uint64_t last[PROTO_MAX_NODES];
};

/* An authentic frame from m->sender (< PROTO_MAX_NODES) at our wall clock now_us: NULL if it is
 * fresh, and then its stamp is remembered; "replay" if its stamp is not above the last one
 * accepted from that sender (a copy, or one overtaken by a later frame: both count as lost);
 * "stale" if it is more than AUTH_WINDOW_US away from now_us. */
const char *auth_check_fresh(struct auth_guard *g, const struct proto_msg *m, uint64_t now_us);

/* The stamp for our next frame: now_us, or one more than the last if the clock has not moved on
 * (or went back), so our stamps always increase. *last is updated. */
uint64_t auth_next_stamp(uint64_t *last, uint64_t now_us);

/* CLOCK_REALTIME in microseconds: stamps must keep increasing across a restart, which a
 * monotonic clock (it starts again at boot, and differs between machines) does not promise. */
uint64_t auth_wall_us(void);

#endif
