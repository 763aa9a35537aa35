/* fuzz_json.c - libFuzzer harness for json_parse: what it accepts stays inside the object (every
 * string NUL-terminated inside the pool, used <= JSON_POOL) and survives a round trip (written back
 * with json_put_str and "%llu", parsed again: same keys, kinds and values). Objects with a number
 * that is not an exact unsigned integer are not written back (the parser keeps no value for
 * them). `make fuzz` runs it. */
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

static void put(char *buf, size_t cap, size_t *pos, const char *s)
{
    size_t n = strlen(s);
    FUZZ_ASSERT(*pos + n < cap);
    memcpy(buf + *pos, s, n + 1);
    *pos += n;
}

static bool write_back(const struct json_obj *o, char *buf, size_t cap, size_t *pos)
{
    *pos = 0;
    put(buf, cap, pos, "{");
    for (int i = 0; i < o->n; i++) {
        const struct json_field *f = &o->f[i];
        char num[32];
        put(buf, cap, pos, i ? ", " : "");
        FUZZ_ASSERT(json_put_str(buf, cap, pos, f->key));
        put(buf, cap, pos, ": ");
        switch (f->kind) {
        case JSON_STRING: FUZZ_ASSERT(json_put_str(buf, cap, pos, f->str)); break;
        case JSON_UINT:
            if (f->huge)
                return false;
            snprintf(num, sizeof num, "%llu", (unsigned long long)f->num);
            put(buf, cap, pos, num);
            break;
        case JSON_OTHER_NUMBER: return false;
        case JSON_BOOL: put(buf, cap, pos, f->boolean ? "true" : "false"); break;
        case JSON_NULL: put(buf, cap, pos, "null"); break;
        }
    }
    put(buf, cap, pos, "}");
    return true;
}

static void check_inside(const struct json_obj *o)
{
    FUZZ_ASSERT(o->n >= 0 && o->n <= JSON_MAX_FIELDS && o->used <= JSON_POOL);
    for (int i = 0; i < o->n; i++) {
        const struct json_field *f = &o->f[i];
        FUZZ_ASSERT(strlen(f->key) <= JSON_MAX_KEY);
        for (int j = 0; j < i; j++)
            FUZZ_ASSERT(strcmp(f->key, o->f[j].key) != 0);
        if (f->kind != JSON_STRING)
            continue;
        FUZZ_ASSERT(f->str >= o->pool && f->str + f->str_len < o->pool + JSON_POOL);
        FUZZ_ASSERT(f->str[f->str_len] == '\0' && strlen(f->str) == f->str_len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct json_obj o, again;
    static char buf[JSON_MAX_FIELDS * (2 * 6 * (JSON_POOL + JSON_MAX_KEY) + 8) + 16];
    if (json_parse((const char *)data, size, &o) != 0)
        return 0;
    check_inside(&o);
    size_t len;
    if (!write_back(&o, buf, sizeof buf, &len))
        return 0;
    FUZZ_ASSERT(json_parse(buf, len, &again) == 0);
    FUZZ_ASSERT(again.n == o.n);
    for (int i = 0; i < o.n; i++) {
        const struct json_field *a = &o.f[i], *b = &again.f[i];
        FUZZ_ASSERT(strcmp(a->key, b->key) == 0 && a->kind == b->kind);
        FUZZ_ASSERT(a->kind != JSON_STRING || strcmp(a->str, b->str) == 0);
        FUZZ_ASSERT(a->kind != JSON_UINT || a->num == b->num);
        FUZZ_ASSERT(a->kind != JSON_BOOL || a->boolean == b->boolean);
    }
    return 0;
}
