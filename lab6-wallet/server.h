/* server.h - the wallet server: a thread per client, one lock over the bank and the ledger. */
#ifndef SERVER_H
#define SERVER_H

#include "ledger.h"

/* Defaults of the two connection limits (lab4's peer has the same pair): a slow client, one
 * byte a second, cannot hold a slot longer than the line timeout; a silent one, longer than
 * the idle timeout. Both close without a reply (a reply could be taken for the answer to a
 * request in flight); wallet-client reconnects and resends. */
#define SERVER_LINE_TIMEOUT_MS 2000
#define SERVER_IDLE_TIMEOUT_MS 60000
/* When every slot is taken, a new connection evicts the one whose unfinished line is the
 * oldest, if that line began at least this long ago (a real client's line arrives whole). */
#define SERVER_EVICT_MS 200

struct server_opts {
    int id; /* node= in event lines */
    int port;
    const char *dir;  /* holds ledger.log */
    int rotate_every; /* seconds */
    int max_conns;    /* connections served at once; more are refused with ERR 503 */
    int max_wallets;
    int line_timeout_ms; /* a line must be complete this long after its first byte */
    int idle_timeout_ms; /* a connection that sends nothing this long is closed */
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
