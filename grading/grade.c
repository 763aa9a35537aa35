/* grade.c - the grader's main: pick labs and tests, run them, print xv6-style results, score. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "copy.h"
#include "grader.h"
#include "pool.h"
#include "report.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: grade [options]\n"
            "  --lab NAME      grade only this lab (repeatable); default: every lab\n"
            "  --dir PATH      grade the copy of a lab in PATH (a student's): built first with\n"
            "                  make -C PATH; its lab is --lab, or inferred from PATH's name\n"
            "                  (labN-...) or Makefile\n"
            "  --test NAMES    only these tests (a name or a comma-separated list; repeatable)\n"
            "  --fail-fast     stop grading a lab at its first failing test (the rest: not run)\n"
            "  --seed N        seed of the first run (default 1); faults and nodes derive theirs\n"
            "  --repeat N      run each test N times with seeds SEED, SEED+1, ...; print the pass rate\n"
            "                  (each run's logs then go to LOGS/LAB/TEST/seedN)\n"
            "  --jobs N        run N tests at once (default 3 per core; 1 per core under valgrind)\n"
            "                  and print them in table order all the same\n"
            "  --ports I/N     this is grader I (0..N-1) of N started at once: it takes its ports\n"
            "                  from share I of the range only, never from another's\n"
            "  --json FILE     also write Gradescope's results.json\n"
            "  --valgrind      run nodes under valgrind memcheck: node 0, 1, 2, the highest id\n"
            "                  and every node a fault names (all of a test of up to 5 nodes)\n"
            "  --valgrind-all  the same, every node of every test\n"
            "  --build DIR     the lab's build directory to run from (build, build-asan, ...)\n"
            "  --slow X        multiply every timeout by X (fault times stay)\n"
            "  --root DIR      top of the kit (default: found from this program's own path)\n"
            "  --logs DIR      where node logs go (default ROOT/grading/logs; with --dir\n"
            "                  ROOT/grading/logs/<name of PATH>-<hash of PATH>; then /valgrind,\n"
            "                  /asan or /tsan under --valgrind, --build build-asan or build-tsan)\n"
            "  --list          list the labs and their tests, then exit\n"
            "  -v, --verbose   print each test's numbers even when it passes\n"
            "  --help          this text\n");
}

static void list_tests(void)
{
    for (int l = 0; l < g_nlabs; l++)
        for (int t = 0; t < g_labs[l]->ntests; t++) {
            const struct gtest *g = &g_labs[l]->tests[t];
            printf("%-22s %-16s %3d pts  %2d nodes  %s\n", g_labs[l]->dir, g->name, g->points,
                   g->nodes, g->what);
        }
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int make_dirs(const char *path)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static void run_free(struct run *r)
{
    for (int i = 0; i < r->n; i++) {
        for (int j = 0; j < r->node[i].n; j++)
            event_free(&r->node[i].ev[j]);
        free(r->node[i].ev);
    }
}

static const char *rerun_target(const struct options *o)
{
    if (o->valgrind)
        return o->valgrind_all ? "make valgrind VALGRIND_ALL=1" : "make valgrind";
    if (strstr(o->build, "asan"))
        return "make asan";
    if (strstr(o->build, "tsan"))
        return "make tsan";
    return "make grade";
}

/* One command that reruns exactly this test and seed (a copy: with DIR=, which make passes on). */
static void rerun_line(const struct options *o, const struct lab *lab, const char *test,
                       uint64_t seed, char *out, size_t cap)
{
    snprintf(out, cap, "%s LAB=%s%s%s TEST=%s SEED=%llu", rerun_target(o), lab->dir,
             o->labdir ? " DIR=" : "", o->labdir ? o->labdir : "", test, (unsigned long long)seed);
}

/* Run one test once; fill res. Returns -1 when interrupted. */
static int run_one(const struct options *o, const struct lab *lab, const struct gtest *t,
                   uint64_t seed, bool seed_dir, struct result *res)
{
    static struct run r; /* large: keep it off the stack */
    memset(&r, 0, sizeof r);
    r.lab = lab, r.test = t, r.opt = o, r.seed = seed;
    snprintf(r.dir, sizeof r.dir, "%s/%s/%s", o->logs, lab->dir, t->name);
    if (seed_dir) /* runs of one test at several seeds may run at once: one directory each */
        snprintf(r.dir + strlen(r.dir), sizeof r.dir - strlen(r.dir), "/seed%llu",
                 (unsigned long long)seed);
    nftw(r.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    struct verdict v = {.kind = V_PASS};
    double t0 = mono_ms();
    int rc = 0;
    if (make_dirs(r.dir) < 0)
        verdict_fail(&v, V_HARNESS, "mkdir %s: %s", r.dir, strerror(errno));
    else
        rc = run_test(&r, &v);
    res->secs = (mono_ms() - t0) / 1e3;
    res->v = v;
    res->seed = seed;
    snprintf(res->info, sizeof res->info, "%s", r.info);
    report_faultnet(r.dir, res->net, sizeof res->net);
    rerun_line(o, lab, t->name, seed, res->rerun, sizeof res->rerun);
    snprintf(res->logs, sizeof res->logs, "%s", r.dir);
    run_free(&r);
    return rc;
}

/* Is name one of the comma-separated names in csv? */
static bool in_list(const char *name, const char *csv)
{
    size_t len = strlen(name);
    for (const char *s = csv;; s++) {
        size_t k = strcspn(s, ",");
        if (k == len && strncmp(s, name, len) == 0)
            return true;
        s += k;
        if (!*s)
            return false;
    }
}

static bool selected(const char *name, char *const *list, int n)
{
    if (n == 0)
        return true;
    for (int i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

struct plan {
    char *labs[16];
    int nlabs;
    const char *test; /* every --test, joined with commas; NULL: all */
    uint64_t seed;
    int repeat;
    const char *json;
    bool fail_fast;
    int jobs; /* 0: pool_default_width() */
};

/* --test a --test b,c: one list "a,b,c". */
static int add_tests(struct plan *p, const char *names)
{
    static char buf[4096];
    size_t len = p->test ? strlen(buf) : 0;
    int n = snprintf(buf + len, sizeof buf - len, "%s%s", len ? "," : "", names);
    if (n < 0 || (size_t)n >= sizeof buf - len)
        return -1;
    p->test = buf;
    return 0;
}

static int parse_args(int argc, char **argv, struct options *o, struct plan *p)
{
    static const struct option longopts[] = {
        {"lab", 1, 0, 'l'},   {"dir", 1, 0, 'd'},      {"test", 1, 0, 't'},
        {"seed", 1, 0, 's'},  {"repeat", 1, 0, 'r'},   {"json", 1, 0, 'j'},
        {"valgrind", 0, 0, 'V'}, {"build", 1, 0, 'b'}, {"slow", 1, 0, 'S'},
        {"root", 1, 0, 'R'},  {"logs", 1, 0, 'L'},     {"list", 0, 0, 'T'},
        {"verbose", 0, 0, 'v'}, {"help", 0, 0, 'h'},   {"fail-fast", 0, 0, 'F'},
        {"jobs", 1, 0, 'J'},  {"ports", 1, 0, 'P'},    {"valgrind-all", 0, 0, 'A'},
        {0, 0, 0, 0}};
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (p->nlabs == 16)
                return -1;
            p->labs[p->nlabs++] = optarg;
            break;
        case 'd': o->labdir = optarg; break;
        case 't':
            if (add_tests(p, optarg) < 0)
                return -1;
            break;
        case 'F': p->fail_fast = true; break;
        case 's':
            p->seed = strtoull(optarg, &end, 10);
            if (*end || !*optarg)
                return -1;
            break;
        case 'r':
            p->repeat = (int)strtol(optarg, &end, 10);
            if (*end || p->repeat < 1 || p->repeat > 10000)
                return -1;
            break;
        case 'j': p->json = optarg; break;
        case 'J':
            p->jobs = (int)strtol(optarg, &end, 10);
            if (*end || p->jobs < 1 || p->jobs > POOL_MAXJOBS)
                return -1;
            break;
        case 'P': {
            long i = strtol(optarg, &end, 10), n = *end == '/' ? strtol(end + 1, &end, 10) : 0;
            if (*end || n < 1 || n > 64 || i < 0 || i >= n)
                return -1;
            harness_port_share((int)i, (int)n);
            break;
        }
        case 'V': o->valgrind = true; break;
        case 'A': o->valgrind = o->valgrind_all = true; break;
        case 'b': o->build = optarg; break;
        case 'S':
            o->slow = strtod(optarg, &end);
            if (*end || o->slow < 1 || o->slow > 1000)
                return -1;
            break;
        case 'R': o->root = optarg; break;
        case 'L': o->logs = optarg; break;
        case 'T': list_tests(); exit(0);
        case 'v': o->verbose = true; break;
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (optind != argc || (o->labdir && p->nlabs > 1))
        return -1;
    return 0;
}

static int known(const struct plan *p)
{
    for (int i = 0; i < p->nlabs; i++) {
        bool found = false;
        for (int l = 0; l < g_nlabs; l++)
            found |= strcmp(g_labs[l]->dir, p->labs[i]) == 0;
        if (!found) {
            fprintf(stderr, "grade: no lab named %s (try --list)\n", p->labs[i]);
            return -1;
        }
    }
    /* Every name in --test must name a test of a selected lab: a typo in a list of several
     * would otherwise quietly grade fewer tests. */
    for (const char *s = p->test; s && *s;) {
        size_t k = strcspn(s, ",");
        bool found = false;
        for (int l = 0; l < g_nlabs; l++)
            for (int t = 0; selected(g_labs[l]->dir, p->labs, p->nlabs) && t < g_labs[l]->ntests;
                 t++)
                found |= strlen(g_labs[l]->tests[t].name) == k &&
                         strncmp(g_labs[l]->tests[t].name, s, k) == 0;
        if (!found) {
            fprintf(stderr, "grade: no test named %.*s in %s (try --list)\n", (int)k, s,
                    p->nlabs ? "the selected labs" : "any lab");
            return -1;
        }
        s += k + (s[k] == ',');
    }
    return 0;
}

/* The top of the kit: --root, or found from this program's own path (any cwd works). */
static int find_root(struct options *o, char *root)
{
    if (o->root ? !realpath(o->root, root) : copy_find_root(root, PATH_MAX) < 0) {
        fprintf(stderr, "grade: %s: %s\n", o->root ? o->root : "/proc/self/exe", strerror(errno));
        return -1;
    }
    o->root = root;
    char probe[PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s/common/faultnet", root);
    if (access(probe, F_OK) != 0) {
        fprintf(stderr, "grade: %s is not the top of the kit (it has no common/faultnet)\n", root);
        return -1;
    }
    return 0;
}

/* --dir: absolute (against the caller's cwd), its lab (inferred without --lab), its own logs. */
static int setup_copy(struct options *o, struct plan *p, char *dir, char *logs, size_t lcap)
{
    struct stat st;
    int err = !realpath(o->labdir, dir) || stat(dir, &st) < 0 ? errno
              : S_ISDIR(st.st_mode)                           ? 0
                                                              : ENOTDIR;
    if (err) {
        fprintf(stderr, "grade: --dir %s: %s\n", o->labdir, strerror(err));
        return -1;
    }
    o->labdir = dir;
    if (p->nlabs == 0) {
        char why[1024];
        const struct lab *lab = copy_infer_lab(dir, why, sizeof why);
        if (!lab) {
            fprintf(stderr, "grade: which lab is in %s? %s; give --lab NAME (try --list)\n", dir,
                    why);
            return -1;
        }
        p->labs[p->nlabs++] = (char *)lab->dir;
        printf("grade: %s holds %s\n", dir, lab->dir);
    }
    if (!o->logs) {
        copy_logs_dir(o->root, dir, logs, lcap);
        o->logs = logs;
    }
    return 0;
}

/* --dir: build the copy as its student would; -1 with msg (then every test is "build failed"). */
static int build_copy(const struct options *o, const char *lab, char *msg, size_t cap, char *log,
                      size_t lcap)
{
    snprintf(log, lcap, "%s/%s", o->logs, lab);
    if (make_dirs(log) < 0)
        return snprintf(msg, cap, "mkdir %s: %s", log, strerror(errno)), -1;
    snprintf(log + strlen(log), lcap - strlen(log), "/build.log");
    double t0 = mono_ms();
    int rc = copy_build(o->labdir, o->build, log, COPY_BUILD_TIMEOUT_S, msg, cap);
    if (rc == 1)
        printf("build: not built (only --build build, build-asan and build-tsan are)\n");
    else
        printf("build: make -C %s%s%s: %s (%.1fs)\n", o->labdir,
               strcmp(o->build, "build") ? " SAN=" : "",
               strcmp(o->build, "build") ? o->build + 6 : "", rc == 0 ? "OK" : "FAILED",
               (mono_ms() - t0) / 1e3);
    return rc < 0 ? -1 : 0;
}

/* A test that did not run (its copy did not build; --fail-fast): reported and scored, 0 points,
 * like one that ran, so the score line counts it. */
static void report_unrun(struct report *rep, const struct options *o, const struct lab *lab,
                         const struct gtest *g, uint64_t seed, enum verdict_kind k, const char *msg,
                         const char *logs)
{
    static struct result res;
    memset(&res, 0, sizeof res);
    verdict_fail(&res.v, k, "%s", msg);
    res.seed = seed;
    rerun_line(o, lab, g->name, seed, res.rerun, sizeof res.rerun);
    snprintf(res.logs, sizeof res.logs, "%s", logs);
    report_line(o, lab, g, &res, 0);
    report_add(rep, lab, g, 0, 1, &res);
}

/* Every run of the plan, in table order: fills jobs (if not NULL), returns how many. */
static int plan_jobs(const struct plan *p, struct pool_job *jobs)
{
    int n = 0;
    for (int l = 0; l < g_nlabs; l++) {
        const struct lab *lab = g_labs[l];
        if (!selected(lab->dir, p->labs, p->nlabs))
            continue;
        for (int t = 0; t < lab->ntests; t++) {
            if (p->test && !in_list(lab->tests[t].name, p->test))
                continue;
            for (int k = 0; k < p->repeat; k++, n++)
                if (jobs)
                    jobs[n] = (struct pool_job){lab, &lab->tests[t], p->seed + (uint64_t)k, k};
        }
    }
    return n;
}

/* The runs of one test come back one after the other (pool.c keeps table order): a test's
 * pass rate and score are added when its last run is in, or the next test's first is. */
struct grading {
    const struct options *o;
    struct report *rep;
    int repeat;
    bool fail_fast;
    const struct lab *failed_lab; /* --fail-fast: the lab whose test failed_test failed first */
    const struct gtest *failed_test;
    const struct pool_job *test; /* the test being tallied, NULL before the first */
    int passes, runs;
    struct result shown;
};

static int grading_run(void *ctx, const struct pool_job *j, struct result *res)
{
    struct grading *g = ctx;
    return run_one(g->o, j->lab, j->test, j->seed, g->repeat > 1, res);
}

static void grading_flush(struct grading *g)
{
    if (g->test && g->runs)
        report_add(g->rep, g->test->lab, g->test->test, g->passes, g->runs, &g->shown);
    g->test = NULL;
    g->passes = g->runs = 0;
}

/* --fail-fast, in table order: a lab is over once one of its tests failed. Tests after it are
 * not started once that is known, and reported not run even if they had started (so the report
 * does not depend on which runs happened to be under way). */
static bool grading_skip(void *ctx, const struct pool_job *j)
{
    struct grading *g = ctx;
    return g->fail_fast && g->failed_lab == j->lab;
}

static void grading_done(void *ctx, const struct pool_job *j, const struct result *res, int rc)
{
    struct grading *g = ctx;
    if (rc < 0)
        g->rep->interrupted = true;
    if (grading_skip(g, j)) {
        if (j->test == g->failed_test)
            return; /* the failing test's later runs do not count either */
        grading_flush(g);
        if (j->run == 0) {
            char why[256];
            snprintf(why, sizeof why, "--fail-fast: %s failed first", g->failed_test->name);
            report_unrun(g->rep, g->o, j->lab, j->test, j->seed, V_NOTRUN, why, "");
        }
        return;
    }
    if (g->test && g->test->test != j->test)
        grading_flush(g);
    g->test = j;
    if (g->fail_fast && res->v.kind != V_PASS)
        g->failed_lab = j->lab, g->failed_test = j->test;
    report_line(g->o, j->lab, j->test, res, g->repeat > 1 ? j->run + 1 : 0);
    g->runs++;
    g->passes += res->v.kind == V_PASS;
    if (g->runs == 1 || (res->v.kind != V_PASS && g->shown.v.kind == V_PASS))
        g->shown = *res; /* the JSON shows the first failure, if any */
}

int main(int argc, char **argv)
{
    struct options o = {.build = "build", .slow = 1, .grace_ms = 10000};
    struct plan p = {.seed = 1, .repeat = 1};
    if (parse_args(argc, argv, &o, &p) < 0) {
        usage(stderr);
        return 2;
    }
    static char root[PATH_MAX], dir[PATH_MAX], logs[PATH_MAX + 64];
    bool logs_given = o.logs != NULL;
    if (find_root(&o, root) < 0 || (o.labdir && setup_copy(&o, &p, dir, logs, sizeof logs) < 0))
        return 2;
    if (known(&p) < 0)
        return 2;
    char build_msg[3072], build_log[PATH_MAX + 64];
    int built = o.labdir ? build_copy(&o, p.labs[0], build_msg, sizeof build_msg, build_log,
                                      sizeof build_log)
                         : 0;
    if (!o.logs) {
        snprintf(logs, sizeof logs, "%s/grading/logs", root);
        o.logs = logs;
    }
    /* Each mode keeps its own logs (LOGS/valgrind/LAB/TEST, LOGS/asan/..., LOGS/tsan/...):
     * CI grades under memcheck while it grades natively, and neither may clobber the other. */
    const char *mode = o.valgrind                        ? "valgrind"
                       : !strcmp(o.build, "build-asan") ? "asan"
                       : !strcmp(o.build, "build-tsan") ? "tsan"
                                                        : NULL;
    if (!logs_given && mode && strlen(logs) + strlen(mode) + 2 < sizeof logs)
        strcat(strcat(logs, "/"), mode);
    if (o.valgrind && o.slow < 10)
        o.slow = 10; /* memcheck runs code ~20x slower; timeouts must never flake */
    else if (strcmp(o.build, "build") != 0 && o.slow < 3)
        o.slow = 3;
    struct report rep;
    report_init(&rep);
    struct grading g = {.o = &o, .rep = &rep, .repeat = p.repeat, .fail_fast = p.fail_fast};
    int n = plan_jobs(&p, NULL);
    struct pool_job *jobs = calloc((size_t)n + 1, sizeof *jobs);
    if (n == 0 || !jobs) {
        fprintf(stderr, n ? "grade: out of memory\n" : "grade: no test matches (try --list)\n");
        return 2;
    }
    plan_jobs(&p, jobs);
    if (built < 0) { /* with --dir, the only lab selected is the copy's: nothing runs */
        for (int i = 0; i < n; i++)
            if (jobs[i].run == 0)
                report_unrun(&rep, &o, jobs[i].lab, jobs[i].test, p.seed, V_BUILD,
                             i ? "the copy did not build (the first test of the lab quotes "
                                 "make's output)"
                               : build_msg,
                             build_log);
    } else {
        int width = p.jobs ? p.jobs : pool_default_width(&o);
        if (pool_run(jobs, n, width, grading_run, grading_done, grading_skip, &g) < 0)
            rep.interrupted = true;
        grading_flush(&g);
    }
    free(jobs);
    report_finish(&rep, p.json);
    return rep.interrupted ? 130 : rep.score == rep.max ? 0 : 1;
}
