/* testlog.c - a run built from hand-made event lines, for the checker tests (see testlog.h). */
#include "testlog.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tl_reset(struct run *r, int n)
{
    for (int i = 0; i < G_MAXNODES; i++) {
        for (int j = 0; j < r->node[i].n; j++)
            event_free(&r->node[i].ev[j]);
        free(r->node[i].ev);
    }
    memset(r, 0, sizeof *r);
    r->n = n;
}

void tl_add(struct run *r, const char *line, int life)
{
    struct event e;
    ck_assert_msg(event_parse(line, &e) == 0, "bad test line %s", line);
    ck_assert_msg(e.node >= 0 && e.node < G_MAXNODES, "node out of range in %s", line);
    struct nodelog *nl = &r->node[e.node];
    struct event *ev = realloc(nl->ev, (size_t)(nl->n + 1) * sizeof *nl->ev);
    ck_assert_ptr_nonnull(ev);
    nl->ev = ev;
    e.seq = nl->n;
    e.life = life;
    nl->ev[nl->n++] = e;
}

const struct gtest *tl_test(const char *dir, const char *name)
{
    for (int l = 0; l < g_nlabs; l++)
        for (int t = 0; strcmp(g_labs[l]->dir, dir) == 0 && t < g_labs[l]->ntests; t++)
            if (strcmp(g_labs[l]->tests[t].name, name) == 0)
                return &g_labs[l]->tests[t];
    ck_abort_msg("no test %s in %s", name, dir);
    return NULL;
}

struct run R;
const char *tl_lab;
bool tl_setup;

void run_reset(int n)
{
    tl_reset(&R, n);
}

void add(const char *line)
{
    tl_add(&R, line, 0);
}

void addf(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    tl_add(&R, line, 0);
}

void add_life(const char *line, int life)
{
    tl_add(&R, line, life);
    R.node[atoi(line + strlen("node="))].life = life;
}

const struct gtest *find_test(const char *name)
{
    return tl_test(tl_lab, name);
}

struct verdict check(const char *name)
{
    struct verdict v = {.kind = V_PASS};
    R.test = find_test(name);
    R.info[0] = '\0';
    if (tl_setup && R.test->setup)
        R.test->setup(&R, &v);
    R.test->check(&R, &v);
    return v;
}

void expect_fail(const char *test, enum verdict_kind kind, const char *words)
{
    struct verdict v = check(test);
    ck_assert_msg(v.kind == kind, "%s: expected %s, got %s: %s", test, verdict_name(kind),
                  verdict_name(v.kind), v.msg);
    ck_assert_msg(strstr(v.msg, words), "%s: message lacks '%s': %s", test, words, v.msg);
}

void expect_pass(const char *test)
{
    struct verdict v = check(test);
    ck_assert_msg(v.kind == V_PASS, "%s: %s", test, v.msg);
}
