/* q4.h - Q4 of the assignment: workers send UDP heartbeats to a monitor, which detects
 * failures and sends the "purchase orders" to the lowest alive worker. */
#ifndef Q4_H
#define Q4_H

#include <netinet/in.h>
#include <stdbool.h>

struct q4_config {
    int id;                  /* --id: node= in event lines; the worker's id in its beats */
    struct sockaddr_in bind; /* --port: the monitor's UDP port; optional for a worker */
    bool have_bind;
    struct sockaddr_in monitor; /* worker: --monitor */
    int interval_ms;            /* worker: time between beats */
    int timeout_ms;             /* monitor: silence after which a worker has failed */
    int order_ms;               /* monitor: one purchase order every order_ms; 0 = none */
    int forget_ms;              /* monitor: a failed worker silent this long is removed */
};

/* Each runs until SIGINT/SIGTERM ('t' on wake_fd). Returns 0, or -1 with a message on stderr
 * if start-up failed. */
int q4_monitor_main(const struct q4_config *cfg, int wake_fd);
int q4_worker_main(const struct q4_config *cfg, int wake_fd);

#endif
