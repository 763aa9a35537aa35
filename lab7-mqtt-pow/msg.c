/* msg.c - JSON payloads <-> struct msg, with every field checked for presence, type and range. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "msg.h"

/* Which fields each type carries, in the order they are written. */
enum {
    F_NODE = 1 << 0,
    F_EPOCH = 1 << 1,
    F_VALUE = 1 << 2,
    F_TX = 1 << 3,
    F_DIFF = 1 << 4,
    F_NONCE = 1 << 5,
    F_WINNER = 1 << 6,
    F_DATA = 1 << 7,
};

static const struct {
    const char *name, *topic;
    unsigned fields;
} types[] = {
    [MSG_INIT] = {"init", TOPIC_INIT, F_NODE},
    [MSG_VOTE] = {"vote", TOPIC_VOTE, F_NODE | F_EPOCH | F_VALUE},
    [MSG_LEADER] = {"leader", TOPIC_LEADER, F_NODE | F_EPOCH | F_VALUE | F_TX},
    [MSG_CHALLENGE] = {"challenge", TOPIC_CHALLENGE, F_NODE | F_EPOCH | F_TX | F_DIFF | F_DATA},
    [MSG_SOLUTION] = {"solution", TOPIC_SOLUTION, F_NODE | F_TX | F_NONCE | F_DATA},
    [MSG_RESULT] = {"result", TOPIC_RESULT,
                    F_NODE | F_EPOCH | F_TX | F_DIFF | F_NONCE | F_WINNER | F_DATA},
    [MSG_LEAVE] = {"leave", TOPIC_LEAVE, F_NODE},
    [MSG_SYNC] = {"sync", TOPIC_SYNC, F_NODE | F_TX},
};
#define NTYPES (sizeof types / sizeof *types)

const char *msg_type_name(enum msg_type t)
{
    return (unsigned)t < NTYPES ? types[t].name : "?";
}

const char *msg_topic(enum msg_type t)
{
    return (unsigned)t < NTYPES ? types[t].topic : "system/unknown";
}

/* Challenge data is printed in event lines: letters, digits and . _ : - only. */
static bool good_data(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > MSG_MAX_DATA)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("._:-", *s)))
            return false;
    return true;
}

/* One unsigned field; on failure sets *why and returns false. */
static bool get_uint(const struct json_obj *o, const char *key, uint64_t max, uint64_t *out,
                     const char **why)
{
    enum json_status s = json_get_uint(o, key, max, out);
    if (s != JSON_OK)
        *why = json_status_name(s);
    return s == JSON_OK;
}

static int decode_fields(const struct json_obj *o, unsigned f, struct msg *m, const char **why)
{
    uint64_t v = 0;
    if ((f & F_NODE) &&
        !(get_uint(o, "node", MSG_MAX_NODE, &v, why) && ((m->node = (uint32_t)v), 1)))
        return -1;
    if ((f & F_EPOCH) &&
        !(get_uint(o, "epoch", MSG_MAX_EPOCH, &v, why) && ((m->epoch = (uint32_t)v), 1)))
        return -1;
    if ((f & F_VALUE) && !get_uint(o, "value", UINT32_MAX, &m->value, why))
        return -1;
    if ((f & F_TX) && !get_uint(o, "tx", UINT32_MAX, &m->tx, why))
        return -1;
    if ((f & F_DIFF) && !(get_uint(o, "difficulty", MSG_MAX_DIFFICULTY, &v, why) &&
                          ((m->difficulty = (uint32_t)v), 1)))
        return -1;
    if ((f & F_NONCE) && !get_uint(o, "nonce", UINT64_MAX, &m->nonce, why))
        return -1;
    if ((f & F_WINNER) &&
        !(get_uint(o, "winner", MSG_MAX_NODE, &v, why) && ((m->winner = (uint32_t)v), 1)))
        return -1;
    if (f & F_DATA) {
        const char *s;
        enum json_status st = json_get_str(o, "data", &s);
        if (st != JSON_OK)
            return *why = json_status_name(st), -1;
        if (!good_data(s))
            return *why = "bad_data", -1;
        memcpy(m->data, s, strlen(s) + 1);
    }
    return 0;
}

int msg_decode(const char *payload, size_t len, struct msg *m, const char **why)
{
    static struct json_obj o; /* ~2 KB; only the I/O thread decodes */
    memset(m, 0, sizeof *m);
    if (json_parse(payload, len, &o) < 0)
        return *why = "malformed_json", -1;
    const char *type;
    enum json_status st = json_get_str(&o, "type", &type);
    if (st != JSON_OK)
        return *why = json_status_name(st), -1;
    for (unsigned t = 0; t < NTYPES; t++)
        if (!strcmp(type, types[t].name)) {
            m->type = (enum msg_type)t;
            return decode_fields(&o, types[t].fields, m, why);
        }
    return *why = "unknown_type", -1;
}

/* snprintf into buf at *pos; false once it no longer fits. */
static bool add(char *buf, size_t cap, size_t *pos, const char *fmt, unsigned long long v)
{
    int n = snprintf(buf + *pos, cap - *pos, fmt, v);
    if (n < 0 || (size_t)n >= cap - *pos)
        return false;
    *pos += (size_t)n;
    return true;
}

size_t msg_encode(const struct msg *m, char *buf, size_t cap)
{
    if ((unsigned)m->type >= NTYPES || cap < 2)
        return 0;
    unsigned f = types[m->type].fields;
    size_t pos = 0;
    bool ok =
        add(buf, cap, &pos, "{\"type\": ", 0) && json_put_str(buf, cap, &pos, types[m->type].name);
    ok = ok && (!(f & F_NODE) || add(buf, cap, &pos, ", \"node\": %llu", m->node));
    ok = ok && (!(f & F_EPOCH) || add(buf, cap, &pos, ", \"epoch\": %llu", m->epoch));
    ok = ok && (!(f & F_VALUE) || add(buf, cap, &pos, ", \"value\": %llu", m->value));
    ok = ok && (!(f & F_TX) || add(buf, cap, &pos, ", \"tx\": %llu", m->tx));
    ok = ok && (!(f & F_DIFF) || add(buf, cap, &pos, ", \"difficulty\": %llu", m->difficulty));
    ok = ok && (!(f & F_NONCE) || add(buf, cap, &pos, ", \"nonce\": %llu", m->nonce));
    ok = ok && (!(f & F_WINNER) || add(buf, cap, &pos, ", \"winner\": %llu", m->winner));
    ok = ok && (!(f & F_DATA) ||
                (add(buf, cap, &pos, ", \"data\": ", 0) && json_put_str(buf, cap, &pos, m->data)));
    ok = ok && add(buf, cap, &pos, "}", 0);
    return ok ? pos : 0;
}
