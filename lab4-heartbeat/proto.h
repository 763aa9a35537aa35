/* proto.h - the wire format: 004's JSON heartbeat, one object per line (TCP and UDP). */
#ifndef PROTO_H
#define PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Framing: one JSON object per line, ended by "\n" (a "\r" before it is ignored, so a request
 * typed into `nc -C` or telnet works). A line longer than PROTO_MAX_LINE bytes is an error: the
 * reader closes that connection instead of buffering without bound.
 *
 *   request  {"TASK": "HEARTBEAT"}
 *   answer   {"TASK": "HEARTBEAT", "RESPONSE": "ALIVE", "SERVER_ID": "<uuid>", "LOAD": 0.42}
 *   beat     {"TASK": "HEARTBEAT", "NODE": 3, "INC": 1764581234567, "SEQ": 17}
 *                                                             (Q4: worker -> monitor, UDP)
 *
 * "LOAD" is sprint 2's extension; "NODE", "INC" and "SEQ" are this lab's keys for the Q4
 * monitor: INC is the worker's incarnation (its start time, ms since 1970: a restart has a
 * higher one), SEQ counts its beats from 1 within an incarnation. Both are optional (0).
 * Unknown keys are ignored and keys may come in any order, so other implementations of the
 * assignment interoperate.
 */
#define PROTO_MAX_LINE 1024
#define PROTO_ID_MAX 64 /* SERVER_ID, with its NUL */
#define PROTO_MAX_INC 9007199254740992.0 /* 2^53: every whole number up to it is exact in JSON */

enum proto_kind { PROTO_REQUEST, PROTO_ALIVE, PROTO_BEAT };

struct proto_msg {
    enum proto_kind kind;
    char server_id[PROTO_ID_MAX]; /* PROTO_ALIVE */
    bool has_load;                /* PROTO_ALIVE: "LOAD" was present */
    double load;
    long node;         /* PROTO_BEAT */
    uint64_t inc;      /* PROTO_BEAT: 0 when absent; at most PROTO_MAX_INC */
    unsigned long seq; /* PROTO_BEAT: 0 when absent */
};

/* Find one line in buf[0..len): returns its length including the "\n" (> 0), 0 if there is
 * no "\n" yet and len <= PROTO_MAX_LINE, or -1 if the line is already too long. */
long proto_line(const char *buf, size_t len);

/* Decode one line (without its "\n"; a trailing "\r" is allowed). Returns 0, or fills why with
 * a short token (json-syntax, no-task, not-heartbeat, bad-id, bad-load, bad-node, ...) and
 * returns -1. */
int proto_decode(const char *line, size_t len, struct proto_msg *m, const char **why);

/* Each returns the length written, including the "\n", or 0 if cap is too small. */
size_t proto_encode_request(char *buf, size_t cap);
size_t proto_encode_alive(char *buf, size_t cap, const char *server_id, bool with_load,
                          double load);
size_t proto_encode_beat(char *buf, size_t cap, long node, uint64_t inc, unsigned long seq);

#endif
