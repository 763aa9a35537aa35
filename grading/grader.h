/* grader.h - the grader's data model: labs, test tables, fault schedules, runs and verdicts. */
#ifndef GRADER_H
#define GRADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define G_MAXNODES 64
#define G_MAXFAULTS 32
#define G_MAXAUX 4
#define G_MAXKV 40

/* ---- event lines (common/EVENTS.md), parsed ---- */

struct event {
    int node;       /* node= */
    int life;       /* 0 for the first run of the node, 1 after the first restart, ... */
    int seq;        /* index in this node's log, all lives together */
    double t;       /* t= (CLOCK_MONOTONIC ms); -1 when absent */
    const char *ev; /* ev= value, "" when absent */
    int nkv;
    const char *key[G_MAXKV];
    const char *val[G_MAXKV];
    char *buf; /* owns the strings above */
};

/* Parse one line (without its newline). Returns 0, or -1 if it is not an event line. */
int event_parse(const char *line, struct event *out);
void event_free(struct event *e);
const char *event_get(const struct event *e, const char *key);
/* Whether e is ev=<ev> and, unless key is NULL, has key=<val>. */
bool event_is(const struct event *e, const char *ev, const char *key, const char *val);
/* Integer value of key; false if absent or not a number. */
bool event_int(const struct event *e, const char *key, long long *out);
/* "[1,0,2]" -> v[]; returns the number of entries or -1 if malformed. */
int event_vector(const struct event *e, const char *key, long long *v, int cap);
/* A short printable form for failure messages: "node=1#12 ev=recv msg=0:4 lc=3". */
const char *event_str(const struct event *e, char *buf, size_t cap);

/* ---- verdicts: a timeout is never a pass ---- */

/* V_BUILD and V_NOTRUN are never found by a run: the grader gives them to every test of a copy
 * that does not build, and (--fail-fast) to the tests after a lab's first failure. */
enum verdict_kind { V_PASS, V_LIVENESS, V_SAFETY, V_CRASH, V_HARNESS, V_BUILD, V_NOTRUN };

/* How much a reason says about the bug, most specific first. */
enum reason_rank {
    R_PROPERTY, /* a checker's property, a crash, a sanitizer report, a harness error */
    R_STALL,    /* the harness saw the run stop making progress, and names who went quiet */
    R_GENERIC,  /* the cap ran out, a node did not exit after SIGTERM */
};

#define G_MAXREASONS 8

struct reason {
    enum verdict_kind kind;
    enum reason_rank rank;
    char text[4096];
};

/* Every reason a run found, most specific first: harness errors (the run says nothing about the
 * lab), then by rank, then by severity (crash > safety > liveness), then in the order found.
 * Initialise with {.kind = V_PASS}. */
struct verdict {
    enum verdict_kind kind; /* reason[0]'s kind; V_PASS when there is no reason */
    char msg[4096];         /* reason[0]'s text */
    int n;                  /* reasons kept */
    int more;               /* reasons found beyond G_MAXREASONS (the least specific go) */
    struct reason reason[G_MAXREASONS];
};

const char *verdict_name(enum verdict_kind k);
/* Record a failure (rank R_PROPERTY); every distinct reason is kept, see struct verdict. */
void verdict_fail(struct verdict *v, enum verdict_kind k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void verdict_add(struct verdict *v, enum verdict_kind k, enum reason_rank rank, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));
/* Whether some reason is of kind k. */
bool verdict_has(const struct verdict *v, enum verdict_kind k);

/* ---- fault schedules ---- */

enum fault_kind {
    F_CRASH,     /* SIGKILL */
    F_PAUSE,     /* SIGSTOP */
    F_RESUME,    /* SIGCONT */
    F_RESTART,   /* start the node again with the same id, ports and arguments */
    F_NET,       /* replace the network-fault directives (faultnet) with arg */
    F_PARTITION, /* arg: "0,1 2" groups; F_NET's directives are kept */
    F_HEAL,      /* remove the partition */
    F_CALL,      /* call the test's inject() with node (lab-specific: e.g. send garbage) */
    F_INPUT,     /* write arg (placeholders expanded) to the node's stdin */
};

struct fault {
    int at_ms; /* after every node printed ev=ready (not scaled by --slow) */
    enum fault_kind kind;
    int node;
    const char *arg;
};

struct run;
typedef void (*check_fn)(struct run *r, struct verdict *v);
/* true when the run phase may end; else writes what it still waits for into why */
typedef bool (*until_fn)(struct run *r, char *why, size_t cap);
typedef void (*inject_fn)(struct run *r, int node, struct verdict *v);
/* Before the nodes start (e.g. start a broker with harness_spawn); -1 after verdict_fail. */
typedef int (*setup_fn)(struct run *r, struct verdict *v);
/* After every node stopped, before the checker; aux processes still running are then killed. */
typedef void (*teardown_fn)(struct run *r, struct verdict *v);

struct gtest {
    const char *name;
    int points;
    int nodes;
    const char *args; /* per-node arguments, with {id} {nodes} {port} {seed} {dir} */
    const char *net;  /* initial faultnet directives, "" for none */
    struct fault faults[G_MAXFAULTS];
    int nfaults;
    until_fn until; /* NULL: every live node printed ev=done */
    check_fn check;
    inject_fn inject;
    int timeout_ms;
    const char *what; /* one line: the property this test checks */
    /* Optional, for labs with two roles (server/client, monitor/node): node 0 runs bin0
     * (default: the lab's bin) with args0 (default: args). */
    const char *bin0;
    const char *args0;
    /* Optional: written to every node's stdin when it starts (placeholders expanded). A node's
     * stdin is a pipe the grader holds open until the stop phase; F_INPUT writes more. */
    const char *input;
    setup_fn setup;
    teardown_fn teardown;
};

/* A lab's progress measure (grading/README.md, "Progress and stalls"). Every event counts toward
 * a test's end except the background ones, which a node logs periodically even while it is stuck
 * (heartbeats, money a player keeps sending while its snapshot waits). Once every fault of the
 * schedule was applied, a run whose progress has not moved for stall_ms (x --slow) ends with a
 * liveness verdict that names the nodes that went quiet. */
struct progress_rule {
    const char *background; /* space-separated ev= names that are not progress; NULL: none */
    int stall_ms;           /* a small multiple of the test's protocol timers; 0: G_STALL_MS */
    /* For a lab whose every live node logs something every few hundred ms (a checkpoint): a
     * running node that logged nothing at all for silent_ms (x --slow) after the last fault is
     * hung, whatever the others do. 0: no such rule. */
    int silent_ms;
    /* An operation that must end: a node's ev=<open> carrying field <key> starts one, the same
     * node's ev=<close> with the same value ends it (a restart forgets the node's open ones).
     * One still open open_ms (x --slow) after its start and after the last fault is stuck,
     * however much else the run does: players keep sending money while a snapshot waits for a
     * marker that never comes. NULL open: no such rule. */
    const char *open, *close, *key;
    int open_ms;
};
#define G_STALL_MS 6000
typedef void (*progress_fn)(const struct run *r, struct progress_rule *rule);

struct lab {
    const char *dir; /* e.g. "lab1-lamport" */
    const char *bin; /* program name inside the lab's build directory */
    const struct gtest *tests;
    int ntests;
    progress_fn progress; /* NULL: every event is progress, the window is G_STALL_MS */
};

extern const struct lab *const g_labs[];
extern const int g_nlabs;

/* ---- one run of one test ---- */

struct nodelog {
    struct event *ev;
    int n, cap;
    pid_t pid;           /* 0 when not running */
    int life;            /* current incarnation */
    bool ready;          /* current incarnation printed ev=ready */
    bool paused;
    bool killed_by_us;   /* SIGKILL from the schedule: not a crash */
    int port;            /* the node's port (UDP and TCP) on 127.0.0.1 */
    int out_fd, err_fd;  /* pipes from the node, -1 when closed */
    int in_fd;           /* pipe to the node's stdin, -1 when closed */
    char partial[8192];  /* an unterminated line being read from out_fd */
    size_t plen;
    char epartial[1024]; /* same for err_fd */
    size_t eplen;
    int log_fd, elog_fd; /* node<i>.out and node<i>.err */
    int sanitizer_reports;
    char first_report[256];
};

struct applied_fault {
    double t; /* monotonic ms when applied (a resume: just before SIGCONT was sent) */
    enum fault_kind kind;
    int node;
};

struct options {
    const char *root;    /* top of the kit */
    const char *labdir;  /* override: grade this directory (a student's copy) */
    const char *build;   /* build directory inside a lab: build, build-asan, build-tsan */
    const char *logs;    /* where logs go */
    bool valgrind;
    bool valgrind_all; /* --valgrind-all: memcheck every node, not only memchecked() ones */
    double slow;         /* timeout multiplier (valgrind and sanitizers are slower) */
    int grace_ms;        /* how long a node may take to exit after SIGTERM (x slow) */
    bool verbose;
};

struct run {
    const struct lab *lab;
    const struct gtest *test;
    const struct options *opt;
    uint64_t seed;
    int n;
    struct nodelog node[G_MAXNODES];
    struct applied_fault applied[G_MAXFAULTS];
    int napplied;
    double t_ready; /* when every node was ready */
    char dir[512];  /* this run's log directory */
    char netconf[600];
    char net[512];       /* current network directives */
    char partition[256]; /* current partition, "" for none */
    char info[512];      /* a line of numbers the checker wants printed */
    int aux_port;        /* {aux}: one more free port per run (a broker, a multicast group) */
    pid_t aux_pid[G_MAXAUX]; /* processes started by harness_spawn, 0 when gone */
    int aux_status[G_MAXAUX];
    void *lab_state;     /* for a test's setup/inject/teardown; theirs to allocate and free */
};

/* harness.c */
int run_test(struct run *r, struct verdict *v);
void harness_kill_all(void); /* from a signal path: SIGKILL every node we started */
int net_write_conf(struct run *r);
/* A port free for TCP and UDP on 127.0.0.1, different from every node's and aux_port. */
int harness_free_port(struct run *r);
/* Parallel runs (grading/pool.c): this process is slot of nslots and takes its ports only from
 * its own share of the range below the ephemeral ports, so two runs never pick the same port. */
void harness_port_slot(int slot, int nslots);
/* This grader is share `share` of `nshares` graders running at once (--ports I/N). */
void harness_port_share(int share, int nshares);
/* Under --valgrind, whether node id of r runs under memcheck (harness.c says which do). */
bool harness_memchecked(const struct run *r, int id);
/* Start a helper process (a broker) in its own process group, stdout+stderr appended to
 * <run dir>/<logname>; killed with the run (and if the grader dies). Returns its slot or -1. */
int harness_spawn(struct run *r, char *const argv[], const char *logname);
/* SIGTERM the helper in slot, wait up to wait_ms for it, then SIGKILL. */
void harness_stop_aux(struct run *r, int slot, int wait_ms);
/* Write text to node id's stdin; -1 if the node is not running or the pipe is full. */
int harness_input(struct run *r, int id, const char *text);
/* The labs' --key: one group-key file per node, {dir}/group.key (HARNESS_KEY_LEN bytes made from
 * the seed), every node the same key except odd_one (-1: none), which gets another. Returns 0, or
 * -1 with a harness verdict. */
#define HARNESS_KEY_LEN 32
int harness_write_keys(struct run *r, int odd_one, struct verdict *v);
/* CLOCK_MONOTONIC in ms: the clock of the nodes' t= and of every time the harness records. */
double mono_ms(void);
/* CLOCK_REALTIME in microseconds: the clock of the labs' --key freshness stamps. */
uint64_t harness_wall_us(void);
/* Expand {id} {nodes} {port} {seed} {dir} {aux} for node id. */
void harness_expand(struct run *r, int id, const char *tpl, char *out, size_t cap);

/* What the fault library injected in a run, summed over every node (FAULTNET_STATS). */
enum { NS_DROPPED, NS_DUPLICATED, NS_DELAYED, NS_PARTITIONED, NS_TCP_REFUSED, NS_TCP_CUT, NS_N };
extern const char *const net_stat_names[NS_N];
/* Returns the number of stats lines read (one per clean node exit), -1 if there is no file. */
int net_stats(const char *dir, long long sum[NS_N]);

/* check.c: helpers for checkers */
struct msgmap;
struct msgmap *msgmap_new(void);
void msgmap_free(struct msgmap *m);
/* Map a message id (msg=) to its send event; false if the id was already there. */
bool msgmap_put(struct msgmap *m, const char *id, const struct event *e);
const struct event *msgmap_get(const struct msgmap *m, const char *id);
/* for_each_event(r, i, e) { ... }: e walks node i's log, first event to last (all lives). */
#define for_each_event(r, i, e)                                                                    \
    for (const struct event *e = (r)->node[i].ev;                                                  \
         (r)->node[i].n > 0 && e < &(r)->node[i].ev[(r)->node[i].n]; e++)
int run_count(const struct run *r, int node, const char *ev);
/* How many ev=bad lines with why=<why> node logged. */
int run_count_bad(const struct run *r, int node, const char *why);
/* Append to r->info (the line of numbers printed with the verdict), truncated to fit. */
void run_info(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const struct applied_fault *run_fault(const struct run *r, enum fault_kind k, int node);
bool until_all_done(struct run *r, char *why, size_t cap);

#endif
