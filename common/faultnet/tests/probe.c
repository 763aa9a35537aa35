/* probe.c - a tiny node the Check tests run with libfaultnet preloaded: it sends what it is told to. */

/*
 * Usage (the tests are the only intended caller):
 *   probe udp DATA_PORT CTL_PORT N BATCH MODE
 *       MODE is sendto | send | sendmsg | mixed (cycles the three) | threads (two sender threads).
 *       Sends datagrams seq 0..N-1 to 127.0.0.1:DATA_PORT; after every BATCH of them sends
 *       "SYNC" to CTL_PORT and waits for "ACK" (flow control: the receiver's buffer is finite),
 *       then "END" and waits for its "ACK" before exiting, so queued delayed datagrams are sent.
 *   probe reuse DATA_PORT CTL_PORT K M
 *       Socket A sends seq 0..K-1, A is closed, socket B (which must get A's fd number) sends
 *       seq 1000..1000+M-1, then END as above.
 *   probe tcp PORT
 *       Connects, sends "hello\n", waits for EOF and prints "eof"; then for each stdin line
 *       "connect" or "connect_nb" prints "connect=ok|refused|error:<errno>"; "quit" ends.
 * Every mode first prints "threads=<n>" (threads in this process) on stdout.
 * Exit status: 0 ok, 2 usage, 3 setup failure, 4 timed out waiting for an ACK, 5 fd not reused.
 */
#define _GNU_SOURCE
#include "wire.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { ACK_TIMEOUT_MS = 60000, SEQ_REUSE_B = 1000 };

/* Set in main before any thread starts; read-only afterwards. */
static struct sockaddr_in data_addr, ctl_addr;

static void die(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("probe: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(code);
}

static void out(const char *fmt, ...)
{
    char line[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line || write(1, line, (size_t)n) != n)
        die(3, "stdout: %s", strerror(errno));
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static long arg_long(const char *s, long lo, long hi)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi)
        die(2, "bad number '%s'", s);
    return v;
}

static void loopback(struct sockaddr_in *a, long port)
{
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static int udp_socket(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        die(3, "socket: %s", strerror(errno));
    return fd;
}

/* ---------------------------------------------------------------- UDP */

/* Send one data datagram through the call the mode names; s_conn is connected to data_addr. */
static void send_seq(const char *mode, uint32_t seq, int s_to, int s_conn)
{
    unsigned char b[WIRE_LEN];
    wire_put(b, seq, mono_ns());
    const char *m = strcmp(mode, "mixed") ? mode : (const char *[]){ "sendto", "send", "sendmsg" }[seq % 3];
    ssize_t n;
    if (strcmp(m, "send") == 0)
        n = send(s_conn, b, sizeof b, 0);
    else if (strcmp(m, "sendmsg") == 0) {
        struct iovec iov[2] = { { b, 6 }, { b + 6, sizeof b - 6 } }; /* gathered, on purpose */
        struct msghdr msg = { .msg_name = &data_addr, .msg_namelen = sizeof data_addr, .msg_iov = iov, .msg_iovlen = 2 };
        n = sendmsg(s_to, &msg, 0);
    } else
        n = sendto(s_to, b, sizeof b, 0, (struct sockaddr *)&data_addr, sizeof data_addr);
    if (n != (ssize_t)sizeof b)
        die(3, "%s seq %u: %s", m, seq, n < 0 ? strerror(errno) : "short send");
}

/* Tell the receiver `what` on the control socket and wait for its ACK. */
static void ctl_roundtrip(int ctl, const char *what)
{
    char buf[16];
    if (sendto(ctl, what, strlen(what), 0, (struct sockaddr *)&ctl_addr, sizeof ctl_addr) < 0)
        die(3, "ctl sendto: %s", strerror(errno));
    struct pollfd p = { .fd = ctl, .events = POLLIN };
    for (;;) {
        int r = poll(&p, 1, ACK_TIMEOUT_MS);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            die(4, "no ACK for %s", what);
        ssize_t n = recv(ctl, buf, sizeof buf, 0);
        if (n == 3 && memcmp(buf, "ACK", 3) == 0)
            return;
    }
}

struct sender {
    pthread_t tid;
    int fd;             /* kept open until END: close() would drop its still-delayed datagrams */
    int first, step, n; /* sends seq first, first+step, ... below n */
};

static void *sender_main(void *arg)
{
    struct sender *s = arg;
    for (int seq = s->first; seq < s->n; seq += s->step)
        send_seq("sendto", (uint32_t)seq, s->fd, -1);
    return NULL;
}

/* Two threads sending at once: exercises the library's locking (run it under TSan/valgrind). */
static void send_threads(struct sender *s, int n)
{
    for (int i = 0; i < 2; i++) {
        s[i] = (struct sender){ .fd = udp_socket(), .first = i, .step = 2, .n = n };
        if ((errno = pthread_create(&s[i].tid, NULL, sender_main, &s[i])) != 0)
            die(3, "pthread_create: %s", strerror(errno));
    }
    for (int i = 0; i < 2; i++)
        if ((errno = pthread_join(s[i].tid, NULL)) != 0)
            die(3, "pthread_join: %s", strerror(errno));
}

static int known_mode(const char *m)
{
    const char *modes[] = { "sendto", "send", "sendmsg", "mixed", "threads" };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(m, modes[i]) == 0)
            return 1;
    return 0;
}

static int cmd_udp(const char *mode, int n, int batch)
{
    struct sender th[2] = { { .fd = -1 }, { .fd = -1 } };
    int threads = strcmp(mode, "threads") == 0;
    if (!known_mode(mode))
        die(2, "unknown mode '%s'", mode);
    int s_to = udp_socket(), s_conn = udp_socket(), ctl = udp_socket();
    if (connect(s_conn, (struct sockaddr *)&data_addr, sizeof data_addr) != 0)
        die(3, "connect udp: %s", strerror(errno));
    if (threads)
        send_threads(th, n);
    for (int seq = 0; !threads && seq < n; seq++) {
        send_seq(mode, (uint32_t)seq, s_to, s_conn);
        if ((seq + 1) % batch == 0 && seq + 1 < n)
            ctl_roundtrip(ctl, "SYNC");
    }
    ctl_roundtrip(ctl, "END"); /* sockets stay open until now: see struct sender */
    if (close(s_to) || close(s_conn) || close(ctl) || (threads && (close(th[0].fd) || close(th[1].fd))))
        die(3, "close: %s", strerror(errno));
    return 0;
}

static int cmd_reuse(int k, int m)
{
    int a = udp_socket(), ctl = udp_socket();
    for (int seq = 0; seq < k; seq++)
        send_seq("sendto", (uint32_t)seq, a, -1);
    if (close(a) != 0)
        die(3, "close: %s", strerror(errno));
    int b = udp_socket();
    if (b != a)
        die(5, "new socket got fd %d, not %d", b, a);
    for (int seq = 0; seq < m; seq++)
        send_seq("sendto", (uint32_t)(SEQ_REUSE_B + seq), b, -1);
    ctl_roundtrip(ctl, "END");
    if (close(b) || close(ctl))
        die(3, "close: %s", strerror(errno));
    return 0;
}

/* ---------------------------------------------------------------- TCP */

static int wait_writable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    int r;
    while ((r = poll(&p, 1, ACK_TIMEOUT_MS)) < 0 && errno == EINTR)
        ;
    int err = 0;
    socklen_t len = sizeof err;
    if (r <= 0)
        return ETIMEDOUT;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        return errno;
    return err;
}

/* Returns 0 or the errno of the failed connect; the socket is kept open on success. */
static int tcp_connect(int nonblocking, int *fd_out)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die(3, "socket: %s", strerror(errno));
    if (nonblocking && fcntl(fd, F_SETFL, O_NONBLOCK) != 0)
        die(3, "fcntl: %s", strerror(errno));
    int err = 0;
    if (connect(fd, (struct sockaddr *)&data_addr, sizeof data_addr) != 0)
        err = errno == EINPROGRESS ? wait_writable(fd) : errno;
    if (err != 0 && close(fd) != 0)
        die(3, "close: %s", strerror(errno));
    *fd_out = err ? -1 : fd;
    return err;
}

static void wait_eof(int fd)
{
    char buf[64];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0 || (n < 0 && errno == EINTR))
        ;
    out(n == 0 ? "eof\n" : "recv_error=%d\n", errno);
}

static void report_connect(int nonblocking, int *keep)
{
    int fd;
    int err = tcp_connect(nonblocking, &fd);
    if (err == 0)
        out("connect=ok\n");
    else if (err == ECONNREFUSED)
        out("connect=refused\n");
    else
        out("connect=error:%d\n", err);
    if (fd >= 0 && *keep >= 0 && close(*keep) != 0)
        die(3, "close: %s", strerror(errno));
    if (fd >= 0)
        *keep = fd;
}

static int cmd_tcp(void)
{
    int fd, keep = -1;
    if (tcp_connect(0, &fd) != 0)
        die(3, "first connect failed");
    if (send(fd, "hello\n", 6, 0) != 6)
        die(3, "send: %s", strerror(errno));
    wait_eof(fd);
    if (close(fd) != 0)
        die(3, "close: %s", strerror(errno));
    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        if (strcmp(line, "quit\n") == 0)
            break;
        report_connect(strcmp(line, "connect_nb\n") == 0, &keep);
    }
    if (keep >= 0 && close(keep) != 0)
        die(3, "close: %s", strerror(errno));
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc < 3)
        die(2, "usage: see the comment at the top of probe.c");
    out("threads=%d\n", count_threads());
    loopback(&data_addr, arg_long(argv[2], 1, 65535));
    if (strcmp(argv[1], "tcp") == 0 && argc == 3)
        return cmd_tcp();
    if (argc < 6)
        die(2, "usage: see the comment at the top of probe.c");
    loopback(&ctl_addr, arg_long(argv[3], 1, 65535));
    if (strcmp(argv[1], "reuse") == 0)
        return cmd_reuse((int)arg_long(argv[4], 0, 999), (int)arg_long(argv[5], 1, 999));
    if (strcmp(argv[1], "udp") == 0 && argc == 7)
        return cmd_udp(argv[6], (int)arg_long(argv[4], 1, 1000000), (int)arg_long(argv[5], 1, 1000000));
    die(2, "usage: see the comment at the top of probe.c");
}
