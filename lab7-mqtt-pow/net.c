/* net.c - TCP to the broker; with -DWITH_TLS the same over an OpenSSL TLS session. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#ifdef WITH_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#endif

#include "net.h"

struct net {
    int fd;
#ifdef WITH_TLS
    SSL_CTX *ctx;
    SSL *ssl;
#endif
};

bool net_tls_built(void)
{
#ifdef WITH_TLS
    return true;
#else
    return false;
#endif
}

/* Plain TCP connect; -1 with err set. The socket stays blocking: the node writes small
 * packets, and reads only after poll() said there is something to read. */
static int tcp_connect(const char *host, int port, char *err, size_t cap)
{
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        snprintf(err, cap, "%s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        snprintf(err, cap, "connect %s:%d: %s", host, port, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1; /* small packets, answered at once: no Nagle delay */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        /* A broker that accepts and then says nothing must not hang us forever. */
        struct timeval tv = {5, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    return fd;
}

#ifdef WITH_TLS
static bool is_ip(const char *host)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* The handshake, verifying the broker's certificate chain against cafile and its name. */
static int tls_start(struct net *n, const char *host, const char *cafile, bool *fatal, char *err,
                     size_t cap)
{
    n->ctx = SSL_CTX_new(TLS_client_method());
    if (!n->ctx)
        return snprintf(err, cap, "SSL_CTX_new failed"), *fatal = true, -1;
    SSL_CTX_set_min_proto_version(n->ctx, TLS1_2_VERSION);
    if (SSL_CTX_load_verify_locations(n->ctx, cafile, NULL) != 1)
        return snprintf(err, cap, "cannot load CA file %s", cafile), *fatal = true, -1;
    SSL_CTX_set_verify(n->ctx, SSL_VERIFY_PEER, NULL);
    n->ssl = SSL_new(n->ctx);
    if (!n->ssl || SSL_set_fd(n->ssl, n->fd) != 1)
        return snprintf(err, cap, "SSL_new failed"), *fatal = true, -1;
    X509_VERIFY_PARAM *param = SSL_get0_param(n->ssl);
    if (is_ip(host))
        X509_VERIFY_PARAM_set1_ip_asc(param, host);
    else {
        X509_VERIFY_PARAM_set1_host(param, host, 0);
        SSL_set_tlsext_host_name(n->ssl, host);
    }
    if (SSL_connect(n->ssl) == 1)
        return 0;
    long v = SSL_get_verify_result(n->ssl);
    if (v != X509_V_OK) {
        snprintf(err, cap,
                 "TLS: the broker's certificate was refused: %s (is %s the CA that "
                 "signed it, and is it issued for %s?)",
                 X509_verify_cert_error_string(v), cafile, host);
        *fatal = true;
    } else {
        char e[256];
        ERR_error_string_n(ERR_get_error(), e, sizeof e);
        snprintf(err, cap, "TLS handshake with %s failed: %s", host, e);
    }
    return -1;
}
#endif

struct net *net_open(const char *host, int port, const char *cafile, bool *fatal, char *err,
                     size_t cap)
{
    *fatal = false;
#ifndef WITH_TLS
    if (cafile) {
        snprintf(err, cap, "--cafile needs the TLS build: make TLS=1 (uses OpenSSL)");
        *fatal = true;
        return NULL;
    }
#endif
    struct net *n = calloc(1, sizeof *n);
    if (!n)
        return snprintf(err, cap, "out of memory"), NULL;
    n->fd = tcp_connect(host, port, err, cap);
    if (n->fd < 0)
        return free(n), NULL;
#ifdef WITH_TLS
    if (cafile && tls_start(n, host, cafile, fatal, err, cap) < 0) {
        net_close(n);
        return NULL;
    }
#endif
    return n;
}

ssize_t net_read(struct net *n, void *buf, size_t cap)
{
#ifdef WITH_TLS
    if (n->ssl) {
        int r = SSL_read(n->ssl, buf, cap > 1 << 30 ? 1 << 30 : (int)cap);
        if (r > 0)
            return r;
        int e = SSL_get_error(n->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return -2;
        return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
    }
#endif
    ssize_t r;
    do
        r = recv(n->fd, buf, cap, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return -2;
    return r;
}

int net_write(struct net *n, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t w;
#ifdef WITH_TLS
        if (n->ssl)
            w = SSL_write(n->ssl, p, len > 1 << 30 ? 1 << 30 : (int)len);
        else
#endif
            w = send(n->fd, p, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int net_fd(const struct net *n)
{
    return n->fd;
}

bool net_pending(const struct net *n)
{
#ifdef WITH_TLS
    return n->ssl && SSL_pending(n->ssl) > 0;
#else
    (void)n;
    return false;
#endif
}

bool net_is_tls(const struct net *n)
{
#ifdef WITH_TLS
    return n->ssl != NULL;
#else
    (void)n;
    return false;
#endif
}

void net_close_gracefully(struct net *n, int timeout_ms)
{
    if (!n)
        return;
#ifdef WITH_TLS
    if (n->ssl)
        SSL_shutdown(n->ssl); /* close_notify; we do not wait for the peer's */
#endif
    shutdown(n->fd, SHUT_WR);
    char buf[512];
    struct pollfd pfd = {n->fd, POLLIN, 0};
    while (poll(&pfd, 1, timeout_ms) > 0 && recv(n->fd, buf, sizeof buf, 0) > 0)
        ;
    net_close(n);
}

void net_close(struct net *n)
{
    if (!n)
        return;
#ifdef WITH_TLS
    if (n->ssl)
        SSL_free(n->ssl);
    if (n->ctx)
        SSL_CTX_free(n->ctx);
#endif
    if (n->fd >= 0)
        close(n->fd);
    free(n);
}
