/* fuzz_json.c - libFuzzer harness for json_parse: whatever it accepts is within its limits and
 * survives a round trip (written back with json_put_str and "%.17g", parsed again: the same
 * keys, types and values). `make fuzz` runs it. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define FUZZ_ASSERT(c)                                                                         \
    do {                                                                                       \
        if (!(c)) {                                                                            \
            fprintf(stderr, "fuzz_json: property failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Append printf output; aborts if it does not fit (the buffer is sized for the worst case). */
static size_t put(char *buf, size_t len, size_t cap, const char *text)
{
    size_t n = strlen(text);
    FUZZ_ASSERT(len + n < cap);
    memcpy(buf + len, text, n + 1);
    return len + n;
}

/* Write o back as JSON; false if a value has no JSON spelling (a number that overflowed). */
static bool write_back(const struct json_obj *o, char *buf, size_t cap, size_t *out)
{
    size_t len = put(buf, 0, cap, "{");
    for (int i = 0; i < o->n; i++) {
        const struct json_value *v = &o->v[i];
        char num[64];
        len = put(buf, len, cap, i ? ", " : "");
        FUZZ_ASSERT((len = json_put_str(buf, len, cap, v->key)) != 0);
        len = put(buf, len, cap, ": ");
        switch (v->type) {
        case JSON_STRING: FUZZ_ASSERT((len = json_put_str(buf, len, cap, v->str)) != 0); break;
        case JSON_NUMBER:
            if (!isfinite(v->num))
                return false;
            snprintf(num, sizeof num, "%.17g", v->num);
            len = put(buf, len, cap, num);
            break;
        case JSON_TRUE: len = put(buf, len, cap, "true"); break;
        case JSON_FALSE: len = put(buf, len, cap, "false"); break;
        case JSON_NULL: len = put(buf, len, cap, "null"); break;
        }
    }
    *out = put(buf, len, cap, "}");
    return true;
}

static void check_same(const struct json_obj *a, const struct json_obj *b)
{
    FUZZ_ASSERT(a->n == b->n);
    for (int i = 0; i < a->n; i++) {
        FUZZ_ASSERT(strcmp(a->v[i].key, b->v[i].key) == 0 && a->v[i].type == b->v[i].type);
        if (a->v[i].type == JSON_STRING)
            FUZZ_ASSERT(strcmp(a->v[i].str, b->v[i].str) == 0);
        if (a->v[i].type == JSON_NUMBER)
            FUZZ_ASSERT(a->v[i].num == b->v[i].num);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct json_obj o, again;
    static char buf[JSON_MAXKEYS * 2 * (6 * JSON_MAXSTR + 8) + 64];
    enum json_error e = json_parse((const char *)data, size, &o);
    if (e != JSON_OK) {
        const char *why = json_strerror(e);
        FUZZ_ASSERT(why && *why && !strchr(why, ' '));
        return 0;
    }
    FUZZ_ASSERT(o.n >= 0 && o.n <= JSON_MAXKEYS);
    for (int i = 0; i < o.n; i++) {
        FUZZ_ASSERT(strlen(o.v[i].key) < JSON_MAXSTR && strlen(o.v[i].str) < JSON_MAXSTR);
        for (int j = 0; j < i; j++)
            FUZZ_ASSERT(strcmp(o.v[i].key, o.v[j].key) != 0); /* JSON_EDUP */
        if (o.v[i].type == JSON_STRING)
            FUZZ_ASSERT(json_get_str(&o, o.v[i].key) != NULL);
    }
    size_t len;
    if (!write_back(&o, buf, sizeof buf, &len))
        return 0;
    FUZZ_ASSERT(json_parse(buf, len, &again) == JSON_OK);
    check_same(&o, &again);
    return 0;
}
