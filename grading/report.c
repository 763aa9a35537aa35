/* report.c - print results the way xv6's `make grade` does, and write Gradescope's results.json. */
#define _POSIX_C_SOURCE 200809L
#include "report.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void report_init(struct report *rep)
{
    memset(rep, 0, sizeof *rep);
    rep->jf = open_memstream(&rep->json, &rep->jlen);
    rep->ff = open_memstream(&rep->fails, &rep->flen);
}

void report_faultnet(const char *dir, char *out, size_t cap)
{
    long long sum[NS_N];
    size_t len = 0;
    out[0] = '\0';
    if (net_stats(dir, sum) < 0)
        return;
    for (int k = 0; k < NS_N; k++)
        if (sum[k] && len < cap)
            len += (size_t)snprintf(out + len, cap - len, "%s%s=%lld", len ? " " : "",
                                    net_stat_names[k], sum[k]);
}

/* Every reason of a verdict, most specific first, one per line; then what node=N#K means. */
static void print_reasons(FILE *f, const struct verdict *v, const char *indent)
{
    bool cites = false;
    if (v->n == 0 && v->kind != V_PASS) /* a verdict made by hand, without verdict_fail */
        fprintf(f, "%s%s: %s\n", indent, verdict_name(v->kind), v->msg);
    for (int i = 0; i < v->n; i++) {
        fprintf(f, "%s%s%s: %s\n", indent, i ? "also " : "", verdict_name(v->reason[i].kind),
                v->reason[i].text);
        cites |= strstr(v->reason[i].text, "#") && strstr(v->reason[i].text, "node=");
    }
    if (v->more)
        fprintf(f, "%s(and %d less specific reason%s)\n", indent, v->more, v->more > 1 ? "s" : "");
    if (cites)
        fprintf(f,
                "%s(node=N#K is node N's event line number K, counting from 0 over all its "
                "lives in order, as in nodeN.out in the logs)\n",
                indent);
}

void report_line(const struct options *o, const struct lab *lab, const struct gtest *t,
                 const struct result *res, int run_no)
{
    if (run_no)
        printf("== %s: %s [run %d, seed %llu] == ", lab->dir, t->name, run_no,
               (unsigned long long)res->seed);
    else
        printf("== %s: %s (%d pts) == ", lab->dir, t->name, t->points);
    if (res->v.kind == V_NOTRUN) { /* nothing ran: no numbers, seed or logs to show */
        printf("NOT RUN\n    %s\n", res->v.msg);
        fflush(stdout);
        return;
    }
    printf("%s (%.1fs)\n", res->v.kind == V_PASS ? "OK" : "FAIL", res->secs);
    if (res->info[0] && (o->verbose || res->v.kind != V_PASS || !run_no))
        printf("    %s\n", res->info);
    if (res->net[0] && (o->verbose || res->v.kind != V_PASS))
        printf("    faultnet injected: %s\n", res->net);
    if (res->v.kind != V_PASS) {
        print_reasons(stdout, &res->v, "    ");
        printf("    property: %s\n", t->what);
        printf("    seed %llu; rerun: %s\n", (unsigned long long)res->seed, res->rerun);
        printf("    logs: %s\n", res->logs);
    }
    fflush(stdout);
}

/* JSON string body: escape quotes, backslashes and control characters. */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void report_add(struct report *rep, const struct lab *lab, const struct gtest *t, int passes,
                int runs, const struct result *shown)
{
    int got = passes == runs ? t->points : 0;
    rep->score += got;
    rep->max += t->points;
    if (runs > 1)
        printf("    pass rate %s: %d/%d\n", t->name, passes, runs);
    if (shown->v.kind == V_NOTRUN) {
        rep->notrun++, rep->notrun_pts += t->points;
    } else if (passes != runs && rep->ff) {
        fprintf(rep->ff, "  %s: %s (%d pts, %d/%d runs passed):\n", lab->dir, t->name, t->points,
                passes, runs);
        print_reasons(rep->ff, &shown->v, "    ");
        fprintf(rep->ff, "    rerun: %s\n", shown->rerun);
    }
    if (!rep->jf)
        return;
    char name[256], *out = NULL;
    size_t olen = 0;
    FILE *of = open_memstream(&out, &olen);
    if (!of)
        return;
    snprintf(name, sizeof name, "%s: %s", lab->dir, t->name);
    if (shown->v.kind == V_PASS) {
        fprintf(of, "OK (%d/%d runs). %s\n%s", passes, runs, t->what, shown->info);
    } else if (shown->v.kind == V_NOTRUN) {
        fprintf(of, "NOT RUN. %s\nproperty: %s", shown->v.msg, t->what);
    } else {
        fprintf(of, "FAIL (%d/%d runs passed).\n", passes, runs);
        print_reasons(of, &shown->v, "");
        fprintf(of, "property: %s\n%s\nrerun: %s", t->what, shown->info, shown->rerun);
    }
    fclose(of);
    fprintf(rep->jf, "%s\n    {\"name\": ", rep->ntests++ ? "," : "");
    json_str(rep->jf, name);
    fprintf(rep->jf, ", \"score\": %d, \"max_score\": %d, \"output\": ", got, t->points);
    json_str(rep->jf, out ? out : "");
    fputc('}', rep->jf);
    free(out);
}

void report_finish(struct report *rep, const char *json)
{
    if (rep->ff) {
        fclose(rep->ff);
        rep->ff = NULL;
        if (rep->flen)
            printf("Failed:\n%s", rep->fails);
        free(rep->fails);
    }
    if (rep->notrun)
        printf("Not run: %d test(s), %d pts, after their lab's first failure (--fail-fast)\n",
               rep->notrun, rep->notrun_pts);
    if (rep->interrupted)
        printf("Interrupted: every node was stopped; score of the tests run so far: ");
    printf("Score: %d/%d\n", rep->score, rep->max);
    if (rep->jf)
        fclose(rep->jf);
    if (json) {
        FILE *f = fopen(json, "w");
        if (!f) {
            perror(json);
        } else {
            fprintf(f, "{\n  \"score\": %d,\n  \"max_score\": %d,\n  \"tests\": [%s\n  ]\n}\n",
                    rep->score, rep->max, rep->json ? rep->json : "");
            if (fclose(f) != 0)
                perror(json);
        }
    }
    free(rep->json);
}
