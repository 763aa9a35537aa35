/* fuzz_events.c - libFuzzer harness for the grader's event-line parser (events.c): event_parse
 * and the lookups the checkers use. The input is a node's stdout; each line is parsed as
 * harness.c does. A parsed event has a node id in range, at most G_MAXKV pairs, and writes back
 * (key=value, quoting values that need it) to a line that parses to the same pairs. event_str
 * stays inside buffers of any size. `make -C grading fuzz` runs it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grader.h"

#define FUZZ_ASSERT(c)                                                                           \
    do {                                                                                         \
        if (!(c)) {                                                                              \
            fprintf(stderr, "fuzz_events: property failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

#define MAX_LINE 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* key=value, or key="..." with \ and " escaped when the value would not survive bare. */
static size_t write_back(const struct event *e, char *buf, size_t cap)
{
    size_t len = 0;
    for (int i = 0; i < e->nkv; i++) {
        const char *v = e->val[i];
        bool quote = strpbrk(v, " \"\\") != NULL;
        len += (size_t)snprintf(buf + len, cap - len, "%s%s=%s", i ? " " : "", e->key[i],
                                quote ? "\"" : "");
        FUZZ_ASSERT(len < cap);
        for (; *v; v++) {
            FUZZ_ASSERT(len + 3 < cap);
            if (quote && (*v == '"' || *v == '\\'))
                buf[len++] = '\\';
            buf[len++] = *v;
        }
        len += (size_t)snprintf(buf + len, cap - len, "%s", quote ? "\"" : "");
        FUZZ_ASSERT(len < cap);
    }
    return len;
}

static void check_lookups(const struct event *e)
{
    long long v[G_MAXNODES], x;
    char small[24], big[8192];
    for (int i = 0; i < e->nkv; i++) {
        FUZZ_ASSERT(!strchr(e->key[i], ' ') && !strchr(e->key[i], '='));
        FUZZ_ASSERT(event_get(e, e->key[i]) != NULL);
        (void)event_int(e, e->key[i], &x);
        int n = event_vector(e, e->key[i], v, G_MAXNODES);
        FUZZ_ASSERT(n >= -1 && n <= G_MAXNODES);
    }
    FUZZ_ASSERT(strlen(event_str(e, small, sizeof small)) < sizeof small);
    FUZZ_ASSERT(strlen(event_str(e, big, sizeof big)) < sizeof big);
}

static void check_line(const char *line)
{
    static char buf[4 * MAX_LINE + 64];
    struct event e, again;
    if (event_parse(line, &e) != 0)
        return;
    FUZZ_ASSERT(e.node >= 0 && e.node < G_MAXNODES && e.ev != NULL);
    FUZZ_ASSERT(e.nkv >= 1 && e.nkv <= G_MAXKV && strcmp(e.key[0], "node") == 0);
    check_lookups(&e);
    size_t n = write_back(&e, buf, sizeof buf);
    FUZZ_ASSERT(n < sizeof buf);
    FUZZ_ASSERT(event_parse(buf, &again) == 0 && again.nkv == e.nkv && again.node == e.node);
    for (int i = 0; i < e.nkv; i++)
        FUZZ_ASSERT(strcmp(e.key[i], again.key[i]) == 0 && strcmp(e.val[i], again.val[i]) == 0);
    event_free(&again);
    event_free(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char line[MAX_LINE + 1];
    size_t off = 0;
    while (off < size) {
        const uint8_t *nl = memchr(data + off, '\n', size - off);
        size_t len = nl ? (size_t)(nl - data) - off : size - off;
        if (len <= MAX_LINE && !memchr(data + off, '\0', len)) {
            memcpy(line, data + off, len);
            line[len] = '\0';
            check_line(line);
        }
        off += len + 1;
    }
    return 0;
}
