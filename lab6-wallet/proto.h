/* proto.h - the wallet's line protocol: framing, request parsing, reply formatting. */
#ifndef PROTO_H
#define PROTO_H

#include <stddef.h>

#define PROTO_MAX_LINE 256              /* bytes, newline included; longer lines get ERR 413 */
#define PROTO_MAX_NAME 24               /* wallet names: [A-Za-z0-9_-]{1,24} */
#define PROTO_MAX_TOKEN 40              /* request ids and keys: [A-Za-z0-9_.:-]{1,40} */
#define PROTO_SECRET_LEN 32             /* secrets: 32 lowercase hex digits */
#define PROTO_MAX_CENTS 1000000000000LL /* 10^12 cents: larger amounts are "overflowing" */

enum proto_cmd {
    P_REGISTER, /* REGISTER <name> */
    P_KEY,      /* KEY <name> */
    P_CHECK,    /* CHECK <key> */
    P_BALANCE,  /* BALANCE <name> <secret> */
    P_SEND,     /* SEND <name> <secret> <reqid> <to_key> <cents> */
    P_PING,     /* PING */
    P_DUMP,     /* DUMP */
    P_QUIT,     /* QUIT */
};

/* Why a line was refused before it reached the bank (the token is in every ERR reply). */
enum proto_err {
    PE_OK = 0,
    PE_BINARY = -1,  /* 400 binary: a byte outside printable ASCII */
    PE_COMMAND = -2, /* 400 bad-command */
    PE_ARGS = -3,    /* 400 bad-args: wrong number of fields */
    PE_NAME = -4,    /* 400 bad-name */
    PE_TOKEN = -5,   /* 400 bad-token: a malformed key, secret or request id */
    PE_AMOUNT = -6,  /* 422 bad-amount: non-numeric, negative, zero or overflowing */
};

struct proto_req {
    enum proto_cmd cmd;
    char name[PROTO_MAX_NAME + 1];
    char secret[PROTO_SECRET_LEN + 1];
    char reqid[PROTO_MAX_TOKEN + 1];
    char key[PROTO_MAX_TOKEN + 1];
    long long cents;
};

/* Find one line in buf[0..len). Returns the bytes it takes, newline included (>0); 0 when
 * more bytes are needed; -1 when PROTO_MAX_LINE bytes hold no newline (line too long). The
 * line itself is buf[0 .. ret-1), without its newline. */
int proto_frame(const char *buf, size_t len);

/* Parse one line (no newline). 0 on success, a negative enum proto_err otherwise. */
int proto_parse(const char *line, size_t len, struct proto_req *out);

/* An amount in cents: digits only, 1..PROTO_MAX_CENTS. 0 or PE_AMOUNT. */
int proto_parse_cents(const char *s, long long *out);

/* The field rules of the protocol, for other readers of names and tokens (the ledger replay
 * applies the same ones as a request). s is NUL-terminated. */
int proto_name_ok(const char *s);  /* [A-Za-z0-9_-]{1,PROTO_MAX_NAME} */
int proto_token_ok(const char *s); /* [A-Za-z0-9_.:-]{1,PROTO_MAX_TOKEN} */

/* "bad-amount" etc. for a proto_err; code is the reply's status number. */
const char *proto_err_token(int err, int *code);

/* Format "ERR <code> <token> <text>\n" into buf; returns the length, 0 if it did not fit. */
size_t proto_err_reply(char *buf, size_t cap, int code, const char *token, const char *text);

/* Split a reply line into its status ("OK"/"ERR"), code and the rest; used by clients. Returns
 * 1 for OK, 0 for ERR (with *code and token), -1 for anything else. */
int proto_reply_status(const char *line, int *code, char *token, size_t tokcap);

#endif
