/* json.h - a small JSON reader and writer for flat objects: {"KEY": "text", "N": 1.5}. */
#ifndef JSON_H
#define JSON_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Enough JSON for this lab's protocol (004's heartbeat): one object whose values are strings,
 * numbers, true, false or null, with any whitespace, any key order and unknown keys. Nested
 * objects and arrays are rejected (JSON_ENESTED): no message of the protocol has them.
 * Strings are decoded (\" \\ \/ \b \f \n \r \t \uXXXX with surrogate pairs, to UTF-8).
 */
#define JSON_MAXKEYS 16
#define JSON_MAXSTR 128 /* decoded key or string value, with its NUL */

enum json_type { JSON_STRING, JSON_NUMBER, JSON_TRUE, JSON_FALSE, JSON_NULL };

enum json_error {
    JSON_OK = 0,
    JSON_ETRUNC = -1,  /* the input ended inside the object */
    JSON_ESYNTAX = -2, /* not JSON, or trailing bytes after the object */
    JSON_ENESTED = -3, /* an object or array as a value */
    JSON_ELONG = -4,   /* a key or string longer than JSON_MAXSTR - 1 bytes */
    JSON_EMANY = -5,   /* more than JSON_MAXKEYS keys */
    JSON_EESCAPE = -6, /* a bad escape (\x, \u12G4, a lone surrogate, \u0000) */
    JSON_EDUP = -7,    /* the same key twice */
};

struct json_value {
    char key[JSON_MAXSTR];
    enum json_type type;
    char str[JSON_MAXSTR]; /* JSON_STRING: the decoded text */
    double num;            /* JSON_NUMBER */
};

struct json_obj {
    int n;
    struct json_value v[JSON_MAXKEYS];
};

/* Parse len bytes holding exactly one object (surrounding whitespace allowed). */
enum json_error json_parse(const char *buf, size_t len, struct json_obj *out);

/* A short token naming the error, for ev=bad why=... */
const char *json_strerror(enum json_error e);

/* The string value of key, or NULL if absent or not a string. */
const char *json_get_str(const struct json_obj *o, const char *key);

/* The number value of key; false if absent or not a number. */
bool json_get_num(const struct json_obj *o, const char *key, double *out);

/* Append "s" to buf as a JSON string with quotes and escapes. Returns the new length, or 0 if
 * it does not fit (buf is then left NUL-terminated at its old length). */
size_t json_put_str(char *buf, size_t len, size_t cap, const char *s);

#endif
