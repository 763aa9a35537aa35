/* msg.h - the lab's messages: one JSON object per MQTT payload, to and from a struct. */
#ifndef MSG_H
#define MSG_H

#include <stddef.h>
#include <stdint.h>

/* Topics (README "Protocol"). system/leave carries the Last Will. */
#define TOPIC_INIT "system/init"
#define TOPIC_VOTE "system/vote"
#define TOPIC_LEADER "system/leader"
#define TOPIC_CHALLENGE "system/challenge"
#define TOPIC_SOLUTION "system/solution"
#define TOPIC_RESULT "system/result"
#define TOPIC_LEAVE "system/leave"
#define TOPIC_SYNC "system/sync"

#define MSG_MAX_DATA 64       /* challenge data: printable, no spaces (it is printed in events) */
#define MSG_MAX_NODE 1000000  /* node ids 0..MSG_MAX_NODE */
/* Epochs stop far below UINT32_MAX, so that epoch + 1 can never wrap to 0 (issue 12: a forged
 * vote for epoch 4294967295 made the next election wrap and split the group). */
#define MSG_MAX_EPOCH 1000000000u
#define MSG_MAX_DIFFICULTY 64 /* bits; beyond that no one would ever finish */
#define MSG_MAX_PAYLOAD 512   /* the longest message encodes to far less */

enum msg_type {
    MSG_INIT,
    MSG_VOTE,
    MSG_LEADER,
    MSG_CHALLENGE,
    MSG_SOLUTION,
    MSG_RESULT,
    MSG_LEAVE,
    MSG_SYNC
};

/* Every field any message has; which ones a type uses is in msg.c's table and the README. */
struct msg {
    enum msg_type type;
    uint32_t node;  /* sender (for leave: the node that went away) */
    uint32_t epoch; /* election round: vote, leader, challenge, result */
    uint64_t value; /* vote: the random vote; leader: the winning vote */
    uint64_t tx;    /* challenge, solution, result; leader: the last result's tx; sync: the first
                     * result asked for */
    uint32_t difficulty;
    uint64_t nonce;  /* solution, result */
    uint32_t winner; /* result */
    char data[MSG_MAX_DATA + 1];
};

const char *msg_type_name(enum msg_type t);

/* Parse a payload. 0 on success; -1 with a short token in why ("malformed_json", "missing_key",
 * "wrong_type", "out_of_range", "unknown_type", "bad_data"), for ev=bad why=<token>. */
int msg_decode(const char *payload, size_t len, struct msg *m, const char **why);

/* Encode as JSON; bytes written (NUL-terminated), 0 if cap is too small. */
size_t msg_encode(const struct msg *m, char *buf, size_t cap);

/* The topic a message of this type is published on. */
const char *msg_topic(enum msg_type t);

#endif
