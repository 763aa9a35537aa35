/* replica.c - local replica logs: append, read back, compare with the history, repair. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replica.h"

static void path_of(char *out, size_t cap, const char *dir, int k)
{
    snprintf(out, cap, "%s/replica-%d.log", dir, k);
}

static int format_line(char *buf, size_t cap, const struct chatmsg *m)
{
    int n =
        snprintf(buf, cap, "%" PRIu64 " %s %" PRIu32 " %s\n", m->lts, m->author, m->seq, m->text);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

int replica_append(const char *dir, int r, const struct chatmsg *m)
{
    char path[600], line[PROTO_MAXTEXT + 64];
    int failed = 0, n = format_line(line, sizeof line, m);
    for (int k = 0; k < r; k++) {
        path_of(path, sizeof path, dir, k);
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        /* One write per line: a crash tears at most the last line, which the check repairs. */
        if (fd < 0 || n < 0 || write(fd, line, (size_t)n) != n)
            failed++;
        if (fd >= 0)
            close(fd);
    }
    return failed;
}

static int parse_line(char *line, struct chatmsg *m)
{
    char *end, *p = line;
    errno = 0;
    unsigned long long lts = strtoull(p, &end, 10);
    if (end == p || *end != ' ' || errno)
        return -1;
    p = end + 1;
    char *sp = strchr(p, ' ');
    if (!sp || (size_t)(sp - p) > PROTO_NAMELEN)
        return -1;
    memcpy(m->author, p, (size_t)(sp - p));
    m->author[sp - p] = '\0';
    p = sp + 1;
    unsigned long seq = strtoul(p, &end, 10);
    if (end == p || *end != ' ' || seq == 0 || seq > UINT32_MAX || !proto_name_ok(m->author))
        return -1;
    p = end + 1;
    size_t tlen = strlen(p);
    if (!proto_text_ok(p, tlen))
        return -1;
    memcpy(m->text, p, tlen + 1);
    m->lts = lts, m->seq = (uint32_t)seq;
    return 0;
}

int replica_load(const char *path, struct store *st)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[PROTO_MAXTEXT + 128];
    int bad = 0;
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        struct chatmsg m;
        if (len == 0 || line[len - 1] != '\n') { /* torn or overlong */
            bad++;
            int c;
            while (len == sizeof line - 1 && (c = fgetc(f)) != EOF && c != '\n')
                ;
            continue;
        }
        line[len - 1] = '\0';
        if (parse_line(line, &m) < 0 || store_add(st, &m) < 0)
            bad++;
    }
    fclose(f);
    return bad;
}

static int rewrite(const char *path, const struct store *h)
{
    char tmp[640], line[PROTO_MAXTEXT + 64];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    for (size_t i = 0; i < h->n; i++) {
        int n = format_line(line, sizeof line, h->m[i]);
        if (n < 0 || fputs(line, f) == EOF) {
            fclose(f);
            return -1;
        }
    }
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

static int same(const struct store *a, const struct store *b)
{
    return a->n == b->n && store_digest(a) == store_digest(b);
}

int replica_check(const char *dir, int r, const struct store *history, int repair, int canonical,
                  struct replica_report *out)
{
    char path[600];
    memset(out, 0, sizeof *out);
    out->agree = 1;
    out->n = history->n;
    for (int k = 0; k < r; k++) {
        struct store st;
        store_init(&st);
        path_of(path, sizeof path, dir, k);
        int bad = replica_load(path, &st);
        if (bad > 0)
            out->bad_lines += bad;
        /* a replica not written yet holds nothing, which is right for an empty history */
        int ok = (bad == 0 && same(&st, history)) || (bad < 0 && history->n == 0);
        if (!ok)
            out->agree = 0;
        if (repair && (!ok || (canonical && bad >= 0)) && rewrite(path, history) == 0)
            out->repaired += !ok;
        store_free(&st);
    }
    out->digest = store_digest(history);
    return out->agree;
}
