/* json.c - parse flat JSON objects (RFC 8259, a subset: no nesting) without allocating. */
#include <stdio.h>
#include <string.h>

#include "json.h"

struct parser {
    const char *s;
    size_t len, pos;
};

static void skip_ws(struct parser *p)
{
    while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]) && p->s[p->pos])
        p->pos++;
}

static bool eat(struct parser *p, char c)
{
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == c) {
        p->pos++;
        return true;
    }
    return false;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One escape after the backslash; -1 if it is not one we take. */
static int unescape(struct parser *p)
{
    if (p->pos >= p->len)
        return -1;
    char c = p->s[p->pos++];
    switch (c) {
    case '"':
    case '\\':
    case '/': return c;
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'u': {
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int h = p->pos < p->len ? hexval(p->s[p->pos++]) : -1;
            if (h < 0)
                return -1;
            v = v * 16 + h;
        }
        return v >= 1 && v < 0x80 ? v : -1; /* ASCII only: our payloads never need more */
    }
    default: return -1;
    }
}

/* A string literal into dst of size cap (the pool's free part, or a key buffer). The
 * terminator needs room too: cap 0 refuses even "" (an exhausted pool must not take one). */
static int parse_string(struct parser *p, char *dst, size_t cap, size_t *outlen)
{
    if (cap == 0 || !eat(p, '"'))
        return -1;
    size_t n = 0;
    for (;;) {
        if (p->pos >= p->len)
            return -1;
        unsigned char c = (unsigned char)p->s[p->pos++];
        int v = c;
        if (c == '"')
            break;
        if (c < 0x20) /* RFC 8259 §7: control characters must be escaped */
            return -1;
        if (c == '\\' && (v = unescape(p)) < 0)
            return -1;
        if (n + 1 >= cap)
            return -1;
        dst[n++] = (char)v;
    }
    dst[n] = '\0';
    *outlen = n;
    return 0;
}

/* A number: unsigned integers are kept exactly (with overflow noted); anything else (sign,
 * fraction, exponent) is only checked for syntax and marked JSON_OTHER_NUMBER. */
static int parse_number(struct parser *p, struct json_field *f)
{
    size_t start = p->pos;
    bool other = false, digits = false;
    if (p->s[p->pos] == '-')
        other = true, p->pos++;
    f->num = 0;
    f->huge = false;
    while (p->pos < p->len && strchr("0123456789.eE+-", p->s[p->pos]) && p->s[p->pos]) {
        char c = p->s[p->pos++];
        if (c < '0' || c > '9') {
            other = true;
            continue;
        }
        digits = true;
        unsigned d = (unsigned)(c - '0');
        if (f->num > (UINT64_MAX - d) / 10)
            f->huge = true;
        else
            f->num = f->num * 10 + d;
    }
    if (!digits || (p->s[start] == '0' && p->pos - start > 1 && !other))
        return -1; /* no digits, or a leading zero like 012 */
    f->kind = other ? JSON_OTHER_NUMBER : JSON_UINT;
    return 0;
}

static bool word(struct parser *p, const char *w)
{
    size_t n = strlen(w);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, w, n) != 0)
        return false;
    p->pos += n;
    return true;
}

static int parse_value(struct parser *p, struct json_obj *o, struct json_field *f)
{
    skip_ws(p);
    if (p->pos >= p->len)
        return -1;
    char c = p->s[p->pos];
    if (c == '"') {
        f->kind = JSON_STRING;
        if (o->used >= JSON_POOL) /* full: JSON_POOL - used would wrap to a huge cap */
            return -1;
        char *dst = o->pool + o->used;
        if (parse_string(p, dst, JSON_POOL - o->used, &f->str_len) < 0)
            return -1;
        f->str = dst;
        o->used += f->str_len + 1;
        return 0;
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return parse_number(p, f);
    if (word(p, "true") || word(p, "false")) {
        f->kind = JSON_BOOL;
        f->boolean = c == 't';
        return 0;
    }
    if (word(p, "null")) {
        f->kind = JSON_NULL;
        return 0;
    }
    return -1; /* objects, arrays, garbage */
}

static bool has_key(const struct json_obj *o, const char *key)
{
    for (int i = 0; i < o->n; i++)
        if (!strcmp(o->f[i].key, key))
            return true;
    return false;
}

static int parse_member(struct parser *p, struct json_obj *o)
{
    if (o->n == JSON_MAX_FIELDS)
        return -1;
    struct json_field *f = &o->f[o->n];
    memset(f, 0, sizeof *f);
    size_t klen;
    if (parse_string(p, f->key, sizeof f->key, &klen) < 0 || has_key(o, f->key) || !eat(p, ':'))
        return -1;
    if (parse_value(p, o, f) < 0)
        return -1;
    o->n++;
    return 0;
}

int json_parse(const char *s, size_t len, struct json_obj *o)
{
    struct parser p = {s, len, 0};
    o->n = 0;
    o->used = 0;
    if (!eat(&p, '{'))
        return -1;
    if (!eat(&p, '}')) {
        do {
            if (parse_member(&p, o) < 0)
                return -1;
        } while (eat(&p, ','));
        if (!eat(&p, '}'))
            return -1;
    }
    skip_ws(&p);
    return p.pos == p.len ? 0 : -1;
}

static const struct json_field *find(const struct json_obj *o, const char *key)
{
    for (int i = 0; i < o->n; i++)
        if (!strcmp(o->f[i].key, key))
            return &o->f[i];
    return NULL;
}

enum json_status json_get_str(const struct json_obj *o, const char *key, const char **out)
{
    const struct json_field *f = find(o, key);
    if (!f)
        return JSON_MISSING;
    if (f->kind != JSON_STRING)
        return JSON_TYPE;
    *out = f->str;
    return JSON_OK;
}

enum json_status json_get_uint(const struct json_obj *o, const char *key, uint64_t max,
                               uint64_t *out)
{
    const struct json_field *f = find(o, key);
    if (!f)
        return JSON_MISSING;
    if (f->kind != JSON_UINT)
        return JSON_TYPE;
    if (f->huge || f->num > max)
        return JSON_RANGE;
    *out = f->num;
    return JSON_OK;
}

const char *json_status_name(enum json_status s)
{
    switch (s) {
    case JSON_OK: return "ok";
    case JSON_MISSING: return "missing_key";
    case JSON_TYPE: return "wrong_type";
    case JSON_RANGE: return "out_of_range";
    }
    return "?";
}

bool json_put_str(char *buf, size_t cap, size_t *pos, const char *s)
{
    size_t p = *pos;
    if (p >= cap)
        return false;
    buf[p++] = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        int n;
        if (c == '"' || c == '\\')
            n = snprintf(esc, sizeof esc, "\\%c", c);
        else if (c < 0x20)
            n = snprintf(esc, sizeof esc, "\\u%04x", c);
        else
            esc[0] = (char)c, n = 1;
        if (p + (size_t)n >= cap)
            return false;
        memcpy(buf + p, esc, (size_t)n);
        p += (size_t)n;
    }
    if (p + 1 >= cap)
        return false;
    buf[p++] = '"';
    buf[p] = '\0';
    *pos = p;
    return true;
}
