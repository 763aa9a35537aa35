/* server.h - the wallet server: a thread per client, one lock over the bank and the ledger. */
#ifndef SERVER_H
#define SERVER_H

#include "ledger.h"

struct server_opts {
    int id; /* node= in event lines */
    int port;
    const char *dir;  /* holds ledger.log */
    int rotate_every; /* seconds */
    int max_conns;    /* connections served at once; more are refused with ERR 503 */
    int max_wallets;
    enum ledger_sync sync;
};

struct server;

/* Replay the ledger, bind and listen, print ev=replayed and ev=ready. NULL with err filled.
 * stop_fd: a descriptor that becomes readable when the server must stop (server_main.c passes
 * a signalfd for SIGINT and SIGTERM). */
struct server *server_start(const struct server_opts *o, int stop_fd, char *err, size_t errcap);
/* Serve until stop_fd is readable, then close every connection, print the balances
 * (ev=wallet) and ev=stats. */
void server_run(struct server *s);
void server_free(struct server *s);

#endif
