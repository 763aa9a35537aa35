/* net.h - one TCP connection to the broker, plain or (built with TLS=1) TLS over OpenSSL. */
#ifndef NET_H
#define NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct net;

/* Connect to host:port; with cafile (not NULL) run a TLS handshake that verifies the broker's
 * certificate against that CA and host name. NULL with a message in err on failure; *fatal is
 * set when retrying cannot help (the certificate was refused, TLS not built in). */
struct net *net_open(const char *host, int port, const char *cafile, bool *fatal, char *err,
                     size_t cap);
/* Bytes read (>0), 0 at end of stream, -1 on error, -2 if nothing could be read yet. */
ssize_t net_read(struct net *n, void *buf, size_t cap);
/* Write everything (short writes looped); 0 or -1. */
int net_write(struct net *n, const void *buf, size_t len);
int net_fd(const struct net *n);
/* TLS may hold decrypted bytes the socket no longer shows as readable. */
bool net_pending(const struct net *n);
bool net_is_tls(const struct net *n);
void net_close(struct net *n);
/* Close after our last write was read: half-close, then read until the peer closes (or
 * timeout_ms). Closing with unread input would send a reset, and the peer may then drop what
 * we sent last (an MQTT DISCONNECT, and the broker would publish our Will). */
void net_close_gracefully(struct net *n, int timeout_ms);
/* Whether this binary was built with TLS (make TLS=1). */
bool net_tls_built(void);

#endif
