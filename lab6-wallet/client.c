/* client.c - a wallet client's connection: one request at a time, reconnect and retry. */
#include "client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "evlog.h"

int client_init(struct client *c, const char *servers, const char *name,
                volatile sig_atomic_t *stop)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->stop = stop;
    const char *colon = strchr(servers, ':');
    size_t hl = colon ? (size_t)(colon - servers) : 0;
    if (!colon || hl == 0 || hl >= sizeof c->host)
        return -1;
    memcpy(c->host, servers, hl);
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if ((*end && *end != ',') || port < 1 || port > 65535)
        return -1;
    struct in_addr a;
    if (inet_pton(AF_INET, c->host, &a) != 1)
        return -1;
    c->port = (int)port;
    snprintf(c->name, sizeof c->name, "%s", name);
    return 0;
}

void client_close(struct client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->rlen = 0;
}

static int try_connect(struct client *c)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port)};
    inet_pton(AF_INET, c->host, &a.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    c->fd = fd;
    c->rlen = 0;
    return 0;
}

/* Sleep ms, or less if a signal arrives (then *stop is usually set). */
static void nap(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int send_line(struct client *c, const char *req)
{
    char line[PROTO_MAX_LINE + 2];
    int n = snprintf(line, sizeof line, "%s\n", req);
    if (n < 0 || (size_t)n >= sizeof line)
        n = (int)sizeof line - 1; /* an over-long request (raw): the server says 413 */
    for (const char *p = line; n > 0;) {
        ssize_t k = send(c->fd, p, (size_t)n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR && !*c->stop)
            continue;
        if (k <= 0)
            return -1;
        p += k, n -= (int)k;
    }
    return 0;
}

/* One reply line. -1 if the connection broke (or we were asked to stop). */
static int read_line(struct client *c, char *reply, size_t cap)
{
    for (;;) {
        char *nl = memchr(c->rbuf, '\n', c->rlen);
        if (nl) {
            size_t len = (size_t)(nl - c->rbuf);
            snprintf(reply, cap, "%.*s", (int)len, c->rbuf);
            memmove(c->rbuf, nl + 1, c->rlen - len - 1);
            c->rlen -= len + 1;
            return 0;
        }
        if (c->rlen == sizeof c->rbuf || *c->stop)
            return -1;
        struct pollfd p = {c->fd, POLLIN, 0};
        int n = poll(&p, 1, 500); /* wake now and then to notice *stop */
        if (n <= 0)
            continue;
        ssize_t k = recv(c->fd, c->rbuf + c->rlen, sizeof c->rbuf - c->rlen, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        c->rlen += (size_t)k;
    }
}

int client_call(struct client *c, const char *req, char *reply, size_t cap)
{
    int backoff = 50;
    for (int attempt = 0; !*c->stop; attempt++) {
        if (c->fd < 0 && try_connect(c) < 0) {
            nap(backoff);
            backoff = backoff < 1000 ? backoff * 2 : 1000;
            continue;
        }
        if (attempt > 0)
            c->retries++;
        if (send_line(c, req) == 0 && read_line(c, reply, cap) == 0) {
            if (strncmp(reply, "ERR 503 ", 8) != 0)
                return 0;
            evlog("ev=busy reply=\"%.60s\"", reply); /* server full: back off, retry */
        }
        client_close(c); /* server gone or restarting: same request again on a new one */
        c->reconnects++;
        nap(backoff);
        backoff = backoff < 1000 ? backoff * 2 : 1000;
    }
    return -1;
}
