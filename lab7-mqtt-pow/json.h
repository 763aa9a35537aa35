/* json.h - a small parser for the flat JSON objects of this lab's payloads: {"k": "str", "n": 12}.
 */
#ifndef JSON_H
#define JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Enough for every message of the lab; an object with more keys is refused, not truncated. */
#define JSON_MAX_FIELDS 16
#define JSON_MAX_KEY 31
#define JSON_POOL 1024 /* all decoded string values together */

enum json_kind { JSON_STRING, JSON_UINT, JSON_OTHER_NUMBER, JSON_BOOL, JSON_NULL };

struct json_field {
    char key[JSON_MAX_KEY + 1];
    enum json_kind kind;
    const char *str; /* JSON_STRING: NUL-terminated, in the object's pool */
    size_t str_len;
    uint64_t num; /* JSON_UINT */
    bool huge;    /* JSON_UINT that does not fit in 64 bits */
    bool boolean; /* JSON_BOOL */
};

struct json_obj {
    int n;
    struct json_field f[JSON_MAX_FIELDS];
    char pool[JSON_POOL];
    size_t used;
};

/* What a lookup found. */
enum json_status { JSON_OK = 0, JSON_MISSING = -1, JSON_TYPE = -2, JSON_RANGE = -3 };

/* Parse one object (and nothing after it but white space). Nested objects and arrays, duplicate
 * keys, control characters in strings and \u escapes beyond ASCII are refused: 0 ok, -1 not. */
int json_parse(const char *s, size_t len, struct json_obj *o);

/* Lookups: a string, or an unsigned integer in [0, max]. */
enum json_status json_get_str(const struct json_obj *o, const char *key, const char **out);
enum json_status json_get_uint(const struct json_obj *o, const char *key, uint64_t max,
                               uint64_t *out);
const char *json_status_name(enum json_status s); /* "missing_key", "wrong_type", ... */

/* Append s as a JSON string literal (quotes and escapes) to buf at *pos; false if no room. */
bool json_put_str(char *buf, size_t cap, size_t *pos, const char *s);

#endif
