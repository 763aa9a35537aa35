/* broker.c - start a private mosquitto on a free port, and child processes read line by line. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"

#ifndef MOSQUITTO_BIN
#define MOSQUITTO_BIN "/usr/sbin/mosquitto"
#endif

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* A port for a node to bind, from 5000-9999: below the grader's range (10000 up) and the kernel's
 * ephemeral one, whose ports any process's next outgoing connection may take between our pick
 * and the node's bind (make test runs suites at once; CI saw "Address already in use"). Free
 * for TCP and UDP right now; consecutive from a start spread by pid, so this process never
 * hands one out twice. */
static int quiet_port(void)
{
    static unsigned next;
    if (!next)
        next = (unsigned)getpid() * 7919u;
    for (int tries = 0; tries < 5000; tries++) {
        int port = 5000 + (int)(next++ % 5000u), ok = 1;
        for (int type = 0; type < 2 && ok; type++) {
            int fd = socket(AF_INET, type ? SOCK_DGRAM : SOCK_STREAM, 0);
            struct sockaddr_in a = {.sin_family = AF_INET,
                                    .sin_port = htons((uint16_t)port),
                                    .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
            ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
            if (fd >= 0)
                close(fd);
        }
        if (ok)
            return port;
    }
    return -1;
}

int free_port(void)
{
    return quiet_port();
}

static bool accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

const char *broker_dir(const struct broker *b)
{
    return b->dir;
}

int broker_start(struct broker *b, const char *tls_extra)
{
    if (!b->dir[0]) {
        snprintf(b->dir, sizeof b->dir, "/tmp/lab7-test-XXXXXX");
        if (!mkdtemp(b->dir))
            return -1;
    }
    if (!b->port)
        b->port = free_port();
    char conf[512];
    snprintf(conf, sizeof conf, "%s/mosquitto.conf", b->dir);
    FILE *f = fopen(conf, "w");
    if (!f)
        return -1;
    /* As root, mosquitto would switch to user mosquitto and then fail to read our key files. */
    fprintf(f, "listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n%s%s", b->port,
            geteuid() == 0 ? "user root\n" : "", tls_extra ? tls_extra : "");
    fclose(f);
    b->pid = fork();
    if (b->pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execl(MOSQUITTO_BIN, "mosquitto", "-c", conf, (char *)NULL);
        _exit(127);
    }
    if (b->pid < 0)
        return -1;
    for (double end = now_ms() + WAIT_MS; now_ms() < end;) {
        if (accepts(b->port))
            return 0;
        if (waitpid(b->pid, NULL, WNOHANG) == b->pid)
            return b->pid = 0, -1;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL); /* polling a port we do not own: there is no ready line */
    }
    return -1;
}

void broker_stop(struct broker *b)
{
    if (b->pid > 0) {
        kill(b->pid, SIGTERM);
        waitpid(b->pid, NULL, 0);
        b->pid = 0;
    }
}

void broker_cleanup(struct broker *b)
{
    broker_stop(b);
    if (!b->dir[0])
        return;
    pid_t pid = fork(); /* the config and any certificates the test wrote */
    if (pid == 0) {
        execl("/bin/rm", "rm", "-rf", b->dir, (char *)NULL);
        _exit(127);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
    b->dir[0] = '\0';
}

int proc_start(struct proc *p, char *const argv[])
{
    int fds[2];
    if (pipe(fds) < 0)
        return -1;
    memset(p, 0, sizeof *p);
    p->pid = fork();
    if (p->pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    p->out = fds[0];
    return p->pid > 0 ? 0 : -1;
}

int proc_count(const struct proc *p, const char *what)
{
    int k = 0;
    for (const char *s = p->buf; (s = strstr(s, what)); s++)
        k++;
    return k;
}

bool proc_wait(struct proc *p, const char *what, int count)
{
    double end = now_ms() + WAIT_MS;
    while (proc_count(p, what) < count) {
        int left = (int)(end - now_ms());
        struct pollfd pfd = {p->out, POLLIN, 0};
        if (left <= 0 || poll(&pfd, 1, left) <= 0 || p->len + 1 >= sizeof p->buf)
            return false;
        ssize_t n = read(p->out, p->buf + p->len, sizeof p->buf - 1 - p->len);
        if (n <= 0)
            return false;
        p->len += (size_t)n;
        p->buf[p->len] = '\0';
    }
    return true;
}

int proc_stop(struct proc *p, bool hard)
{
    int status = -1;
    if (p->pid > 0) {
        kill(p->pid, hard ? SIGKILL : SIGTERM);
        /* read what is left so the child never blocks on a full pipe */
        ssize_t n;
        char tmp[4096];
        while ((n = read(p->out, tmp, sizeof tmp)) > 0)
            if (p->len + (size_t)n + 1 < sizeof p->buf) {
                memcpy(p->buf + p->len, tmp, (size_t)n);
                p->len += (size_t)n;
                p->buf[p->len] = '\0';
            }
        waitpid(p->pid, &status, 0);
        p->pid = 0;
    }
    if (p->out >= 0)
        close(p->out);
    p->out = -1;
    return status;
}

static void drain(int fd, char *out, size_t cap)
{
    size_t len = 0;
    ssize_t n;
    while (cap && (n = read(fd, out + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    if (cap)
        out[len] = '\0';
    close(fd);
}

int run_collect(char *const argv[], char *out, size_t cap, char *err, size_t ecap)
{
    int o[2], e[2];
    if (pipe(o) < 0 || pipe(e) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(o[1], 1);
        dup2(e[1], 2);
        close(o[0]), close(e[0]), close(o[1]), close(e[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(o[1]);
    close(e[1]);
    drain(o[0], out, cap); /* outputs are small: reading one, then the other, cannot block */
    drain(e[0], err, ecap);
    int status;
    waitpid(pid, &status, 0);
    return status;
}

/* ---- a raw MQTT 3.1.1 publisher, for the hostile-classmate tests (§3.1, §3.3, §3.14) ---- */

static int send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        p += n, len -= (size_t)n;
    }
    return 0;
}

static size_t put_rl(unsigned char *p, size_t len)
{
    size_t n = 0;
    do {
        p[n] = len % 128;
        len /= 128;
        if (len)
            p[n] |= 0x80;
        n++;
    } while (len);
    return n;
}

static int open_session(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
        return fd >= 0 ? close(fd), -1 : -1;
    static const unsigned char conn[] = {0x10, 20,  0,   4,   'M', 'Q', 'T', 'T', 4,   0x02, 0,
                                         30,   0,   8,   'f', 'o', 'r', 'g', 'e', 'r', '-', 't'};
    unsigned char ack[4];
    struct pollfd pfd = {fd, POLLIN, 0};
    if (send_all(fd, conn, sizeof conn) < 0 || poll(&pfd, 1, WAIT_MS) <= 0 ||
        recv(fd, ack, 4, MSG_WAITALL) != 4 || ack[0] != 0x20 || ack[3] != 0)
        return close(fd), -1;
    return fd;
}

int broker_publish(const struct broker *b, const char *topic, const void *payload, size_t len,
                   bool retain)
{
    int fd = open_session(b->port);
    if (fd < 0)
        return -1;
    size_t tl = strlen(topic);
    unsigned char *pkt = malloc(len + tl + 8);
    if (!pkt)
        return close(fd), -1;
    size_t n = 0;
    pkt[n++] = retain ? 0x31 : 0x30; /* PUBLISH, QoS 0 */
    n += put_rl(pkt + n, 2 + tl + len);
    pkt[n++] = (unsigned char)(tl >> 8), pkt[n++] = (unsigned char)tl;
    memcpy(pkt + n, topic, tl), n += tl;
    memcpy(pkt + n, payload, len), n += len;
    static const unsigned char disc[] = {0xe0, 0};
    int rc = send_all(fd, pkt, n) == 0 && send_all(fd, disc, sizeof disc) == 0 ? 0 : -1;
    free(pkt);
    /* The broker closes once it has read DISCONNECT, so the PUBLISH before it is processed. */
    char c;
    struct pollfd pfd = {fd, POLLIN, 0};
    while (rc == 0 && poll(&pfd, 1, WAIT_MS) > 0 && recv(fd, &c, 1, 0) > 0)
        ;
    close(fd);
    return rc;
}
