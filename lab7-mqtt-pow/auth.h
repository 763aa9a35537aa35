/* auth.h - the group key (--key FILE): signed payloads and their replay guard (README "Group
 * key"). The key file, the stamps and the window are lab3's (lab3-bully/auth.h); what differs is
 * the frame: an MQTT payload is JSON, so the stamp and tag follow it on a line of their own.
 *
 *   signed payload:  <json> '\n' <stamp> ' ' <64 hex digits of the tag>
 *   tag = HMAC-SHA256(key, <topic> '\0' <json> '\n' <stamp>)
 *
 * The topic is signed too, so a message cannot be moved to another topic. */
#ifndef AUTH_H
#define AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hmac.h"

#define AUTH_KEY_MIN 16   /* bytes: 128 bits, so a key cannot be guessed */
#define AUTH_KEY_MAX 4096 /* bytes: anything bigger is surely not a key file */
/* A live message's stamp may differ from the receiver's wall clock by this much (lab3's). */
#define AUTH_WINDOW_US (30 * 1000000LL)
/* '\n', up to 20 digits, ' ', 64 hex digits: what signing adds to a payload. */
#define AUTH_TRAILER_MAX (1 + 20 + 1 + 2 * HMAC_SHA256_LEN)
#define AUTH_SENDERS 128 /* senders whose stamps are remembered (twice ELECTION_MAX) */
#define AUTH_TOPICS 8    /* stamps are kept per sender and per topic (msg_type) */

/* lab3's: every byte of the file is the key, AUTH_KEY_MIN..AUTH_KEY_MAX of them. 0, or -1 with
 * a sentence in err. */
int auth_load_key(const char *path, struct hmac_sha256 *key, char *err, size_t cap);

/* Append "\n<stamp> <tag>" to the payload buf[0..len); returns the new length, 0 if it does
 * not fit in cap. */
size_t auth_sign(const struct hmac_sha256 *key, const char *topic, char *buf, size_t len,
                 size_t cap, uint64_t stamp);

/* Check a received payload's tag (in constant time) before anything in it is believed. NULL
 * when it is authentic: then *json_len is the length of the JSON before the trailer and *stamp
 * its stamp. "bad-mac" when the trailer is missing, malformed or its tag wrong. */
const char *auth_verify(const struct hmac_sha256 *key, const char *topic, const uint8_t *p,
                        size_t len, size_t *json_len, uint64_t *stamp);

/* Does this payload end in something shaped like a trailer? (a node without --key says
 * why=needs-key instead of malformed_json) */
bool auth_looks_signed(const uint8_t *p, size_t len);

/* How a message reached us, which decides its freshness rule (README "Group key"):
 * AUTH_LIVE     forwarded as it was published: within AUTH_WINDOW_US, stamp above the last;
 * AUTH_RETAINED replayed by the broker from its retained store on subscription (MQTT 3.1.1
 *               §3.3.1.3: only then is RETAIN set): any age, stamp not below the last (the same
 *               message again after a reconnection is fine, an older one is not);
 * AUTH_WILL     system/leave: a Will is signed when its node connects and published by the
 *               broker when the node dies, maybe hours later: any age, stamp above the last. */
enum auth_kind { AUTH_LIVE, AUTH_RETAINED, AUTH_WILL };

/* Per sender and topic, the stamp of its latest accepted message. Only authentic messages get
 * in, so only key holders take places; when full, the sender heard from longest ago goes. */
struct auth_guard {
    struct {
        uint32_t sender;
        uint64_t newest; /* the highest stamp of any topic: for eviction */
        uint64_t last[AUTH_TOPICS];
    } e[AUTH_SENDERS];
    int n;
};

/* An authentic message from sender on topic (< AUTH_TOPICS) at our wall clock now_us: NULL if it
 * is fresh (its stamp is then remembered), else "stale" or "replay". */
const char *auth_check_fresh(struct auth_guard *g, uint32_t sender, unsigned topic, uint64_t stamp,
                             uint64_t now_us, enum auth_kind kind);

/* lab3's: the stamp for our next message, always above the last; *last is updated. */
uint64_t auth_next_stamp(uint64_t *last, uint64_t now_us);

/* lab3's: CLOCK_REALTIME in microseconds (stamps must keep increasing across a restart). */
uint64_t auth_wall_us(void);

#endif
