/* broker.h - for the integration tests: a private mosquitto, and node processes read by line. */
#ifndef TESTS_BROKER_H
#define TESTS_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define WAIT_MS 60000 /* every wait gives up after this: generous for valgrind and sanitizers */

struct broker {
    pid_t pid;
    int port;     /* plain listener */
    int tls_port; /* TLS listener, 0 when none */
    char dir[256];
};

/* A port nobody listens on now (bind to 0, read it back). */
int free_port(void);
/* Start mosquitto with a generated config in a fresh temp dir; tls_extra, if not NULL, is
 * appended to the config (a TLS listener). Waits until the plain port accepts. -1 on failure. */
int broker_start(struct broker *b, const char *tls_extra);
void broker_stop(struct broker *b);    /* the config stays: broker_start again restarts it */
void broker_cleanup(struct broker *b); /* stop, and remove the temp dir */
/* The broker's temp dir (for certificates), removed by broker_cleanup. */
const char *broker_dir(const struct broker *b);

/* Publish one QoS 0 message (retained if asked) from a session of its own, the way a stranger
 * on the LAN would; returns once the broker has processed it. -1 on failure. */
int broker_publish(const struct broker *b, const char *topic, const void *payload, size_t len,
                   bool retain);

struct proc {
    pid_t pid;
    int out;           /* its stdout */
    char buf[1 << 16]; /* everything it printed so far */
    size_t len;
};

/* Start argv[0] with stdout to a pipe (stderr inherited). */
int proc_start(struct proc *p, char *const argv[]);
/* Read until every one of the text's lines containing `what` occurred `count` times; false
 * after WAIT_MS or at end of output. */
bool proc_wait(struct proc *p, const char *what, int count);
int proc_count(const struct proc *p, const char *what);
/* SIGTERM (or kill with SIGKILL), wait; the exit status as waitpid gives it. */
int proc_stop(struct proc *p, bool hard);
/* Start a process and collect its whole output and status: for usage errors. */
int run_collect(char *const argv[], char *out, size_t cap, char *err, size_t ecap);

#endif
