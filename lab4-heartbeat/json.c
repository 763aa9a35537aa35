/* json.c - a small JSON reader and writer for flat objects (RFC 8259, minus nesting). */
#include "json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A cursor over the input; every reader returns JSON_OK or an error. */
struct cur {
    const char *p, *end;
};

static void skip_ws(struct cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

/* Append one code point as UTF-8 to out (cap bytes with room for the NUL). */
static enum json_error put_utf8(char *out, size_t *len, size_t cap, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80)
        b[0] = (char)cp, n = 1;
    else if (cp < 0x800)
        b[0] = (char)(0xC0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    else if (cp < 0x10000)
        b[0] = (char)(0xE0 | cp >> 12), b[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
        b[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    else
        b[0] = (char)(0xF0 | cp >> 18), b[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), b[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    if (*len + n >= cap)
        return JSON_ELONG;
    memcpy(out + *len, b, n);
    *len += n;
    return JSON_OK;
}

/* Four hex digits after "\u". */
static enum json_error read_hex4(struct cur *c, uint32_t *out)
{
    if (c->end - c->p < 4)
        return JSON_ETRUNC;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char h = *c->p++;
        int d = h >= '0' && h <= '9'   ? h - '0'
                : h >= 'a' && h <= 'f' ? h - 'a' + 10
                : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                       : -1;
        if (d < 0)
            return JSON_EESCAPE;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return JSON_OK;
}

/* "\uD83D\uDE00" is one code point: a high surrogate must be followed by a low one. */
static enum json_error read_u_escape(struct cur *c, uint32_t *cp)
{
    enum json_error e = read_hex4(c, cp);
    if (e != JSON_OK)
        return e;
    if (*cp >= 0xDC00 && *cp <= 0xDFFF)
        return JSON_EESCAPE; /* a low surrogate alone */
    if (*cp >= 0xD800 && *cp <= 0xDBFF) {
        uint32_t lo;
        if (c->end - c->p < 2)
            return JSON_ETRUNC;
        if (c->p[0] != '\\' || c->p[1] != 'u')
            return JSON_EESCAPE;
        c->p += 2;
        if ((e = read_hex4(c, &lo)) != JSON_OK)
            return e;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return JSON_EESCAPE;
        *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    /* A NUL inside a C string would silently cut it: refuse it. */
    return *cp == 0 ? JSON_EESCAPE : JSON_OK;
}

static enum json_error read_escape(struct cur *c, char *out, size_t *len, size_t cap)
{
    if (c->p == c->end)
        return JSON_ETRUNC;
    char e = *c->p++;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *k = e ? strchr(from, e) : NULL;
    if (k) {
        if (*len + 1 >= cap)
            return JSON_ELONG;
        out[(*len)++] = to[k - from];
        return JSON_OK;
    }
    if (e != 'u')
        return JSON_EESCAPE;
    uint32_t cp;
    enum json_error err = read_u_escape(c, &cp);
    return err != JSON_OK ? err : put_utf8(out, len, cap, cp);
}

/* A string, the opening quote already seen at c->p. */
static enum json_error read_string(struct cur *c, char *out, size_t cap)
{
    size_t len = 0;
    c->p++; /* the quote */
    for (;;) {
        if (c->p == c->end)
            return JSON_ETRUNC;
        unsigned char ch = (unsigned char)*c->p++;
        if (ch == '"')
            break;
        if (ch < 0x20)
            return JSON_ESYNTAX; /* control characters must be escaped */
        if (ch == '\\') {
            enum json_error e = read_escape(c, out, &len, cap);
            if (e != JSON_OK)
                return e;
            continue;
        }
        if (len + 1 >= cap)
            return JSON_ELONG;
        out[len++] = (char)ch;
    }
    out[len] = '\0';
    return JSON_OK;
}

static const char *digits(const char *p, const char *end)
{
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    return p;
}

/* A number in JSON's grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static enum json_error read_number(struct cur *c, double *out)
{
    const char *s = c->p, *p = c->p;
    char tmp[64];
    if (p < c->end && *p == '-')
        p++;
    const char *d = p;
    p = digits(p, c->end);
    if (p == d)
        return p == c->end ? JSON_ETRUNC : JSON_ESYNTAX;
    if (*d == '0' && p - d > 1)
        return JSON_ESYNTAX; /* leading zero */
    if (p < c->end && *p == '.') {
        d = ++p;
        p = digits(p, c->end);
        if (p == d)
            return p == c->end ? JSON_ETRUNC : JSON_ESYNTAX;
    }
    if (p < c->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < c->end && (*p == '+' || *p == '-'))
            p++;
        d = p;
        p = digits(p, c->end);
        if (p == d)
            return p == c->end ? JSON_ETRUNC : JSON_ESYNTAX;
    }
    if ((size_t)(p - s) >= sizeof tmp)
        return JSON_ELONG;
    memcpy(tmp, s, (size_t)(p - s));
    tmp[p - s] = '\0';
    *out = strtod(tmp, NULL); /* the grammar above is a subset of strtod's */
    c->p = p;
    return JSON_OK;
}

/* true, false or null: a prefix of one at the end of the input is "need more". */
static enum json_error read_literal(struct cur *c, struct json_value *v)
{
    static const struct {
        const char *word;
        enum json_type type;
    } lit[] = {{"true", JSON_TRUE}, {"false", JSON_FALSE}, {"null", JSON_NULL}};
    size_t have = (size_t)(c->end - c->p);
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(lit[i].word);
        if (have >= n && memcmp(c->p, lit[i].word, n) == 0) {
            c->p += n, v->type = lit[i].type;
            return JSON_OK;
        }
        if (have < n && have > 0 && memcmp(c->p, lit[i].word, have) == 0)
            return JSON_ETRUNC;
    }
    return JSON_ESYNTAX;
}

static enum json_error read_value(struct cur *c, struct json_value *v)
{
    if (c->p == c->end)
        return JSON_ETRUNC;
    char ch = *c->p;
    if (ch == '"') {
        v->type = JSON_STRING;
        return read_string(c, v->str, sizeof v->str);
    }
    if (ch == '{' || ch == '[')
        return JSON_ENESTED;
    if (ch == '-' || (ch >= '0' && ch <= '9')) {
        v->type = JSON_NUMBER;
        return read_number(c, &v->num);
    }
    return read_literal(c, v);
}

static bool has_key(const struct json_obj *o, int upto, const char *key)
{
    for (int i = 0; i < upto; i++)
        if (strcmp(o->v[i].key, key) == 0)
            return true;
    return false;
}

/* One "key": value pair into o->v[o->n]. */
static enum json_error read_member(struct cur *c, struct json_obj *o)
{
    if (o->n == JSON_MAXKEYS)
        return JSON_EMANY;
    struct json_value *v = &o->v[o->n];
    memset(v, 0, sizeof *v);
    skip_ws(c);
    if (c->p == c->end)
        return JSON_ETRUNC;
    if (*c->p != '"')
        return JSON_ESYNTAX;
    enum json_error e = read_string(c, v->key, sizeof v->key);
    if (e != JSON_OK)
        return e;
    if (has_key(o, o->n, v->key))
        return JSON_EDUP;
    skip_ws(c);
    if (c->p == c->end)
        return JSON_ETRUNC;
    if (*c->p++ != ':')
        return JSON_ESYNTAX;
    skip_ws(c);
    if ((e = read_value(c, v)) != JSON_OK)
        return e;
    o->n++;
    return JSON_OK;
}

static enum json_error read_members(struct cur *c, struct json_obj *o)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        return JSON_OK; /* {} */
    }
    for (;;) {
        enum json_error e = read_member(c, o);
        if (e != JSON_OK)
            return e;
        skip_ws(c);
        if (c->p == c->end)
            return JSON_ETRUNC;
        char ch = *c->p++;
        if (ch == '}')
            return JSON_OK;
        if (ch != ',')
            return JSON_ESYNTAX;
    }
}

enum json_error json_parse(const char *buf, size_t len, struct json_obj *out)
{
    struct cur c = {buf, buf + len};
    out->n = 0;
    skip_ws(&c);
    if (c.p == c.end)
        return JSON_ETRUNC;
    if (*c.p++ != '{')
        return JSON_ESYNTAX;
    enum json_error e = read_members(&c, out);
    if (e != JSON_OK)
        return e;
    skip_ws(&c);
    return c.p == c.end ? JSON_OK : JSON_ESYNTAX;
}

const char *json_strerror(enum json_error e)
{
    switch (e) {
    case JSON_OK: return "ok";
    case JSON_ETRUNC: return "json-truncated";
    case JSON_ESYNTAX: return "json-syntax";
    case JSON_ENESTED: return "json-nested";
    case JSON_ELONG: return "json-too-long";
    case JSON_EMANY: return "json-too-many-keys";
    case JSON_EESCAPE: return "json-bad-escape";
    case JSON_EDUP: return "json-duplicate-key";
    }
    return "json-?";
}

static const struct json_value *find(const struct json_obj *o, const char *key)
{
    for (int i = 0; i < o->n; i++)
        if (strcmp(o->v[i].key, key) == 0)
            return &o->v[i];
    return NULL;
}

const char *json_get_str(const struct json_obj *o, const char *key)
{
    const struct json_value *v = find(o, key);
    return v && v->type == JSON_STRING ? v->str : NULL;
}

bool json_get_num(const struct json_obj *o, const char *key, double *out)
{
    const struct json_value *v = find(o, key);
    if (!v || v->type != JSON_NUMBER)
        return false;
    *out = v->num;
    return true;
}

size_t json_put_str(char *buf, size_t len, size_t cap, const char *s)
{
    size_t start = len;
#define PUT(ch)                                                                                    \
    do {                                                                                           \
        if (len + 1 >= cap)                                                                        \
            goto full;                                                                             \
        buf[len++] = (ch);                                                                         \
    } while (0)
    PUT('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            PUT('\\');
            PUT((char)ch);
        } else if (ch < 0x20) {
            char u[7];
            snprintf(u, sizeof u, "\\u%04x", ch);
            for (int i = 0; i < 6; i++)
                PUT(u[i]);
        } else
            PUT((char)ch);
    }
    PUT('"');
#undef PUT
    buf[len] = '\0';
    return len;
full:
    if (cap > 0)
        buf[start < cap ? start : cap - 1] = '\0';
    return 0;
}
