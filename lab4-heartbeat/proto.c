/* proto.c - the wire format: 004's JSON heartbeat messages, one object per line. */
#include "proto.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

long proto_line(const char *buf, size_t len)
{
    size_t scan = len < PROTO_MAX_LINE ? len : PROTO_MAX_LINE;
    const char *nl = memchr(buf, '\n', scan);
    if (nl)
        return (long)(nl - buf) + 1;
    return len < PROTO_MAX_LINE ? 0 : -1;
}

/* A decoded answer: RESPONSE must be ALIVE and SERVER_ID a printable id without spaces
 * (it goes into event lines as a value). */
static int decode_alive(const struct json_obj *o, struct proto_msg *m, const char **why)
{
    const char *resp = json_get_str(o, "RESPONSE"), *id = json_get_str(o, "SERVER_ID");
    if (strcmp(resp, "ALIVE") != 0)
        return *why = "not-alive", -1;
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n >= sizeof m->server_id)
        return *why = "bad-id", -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)id[i] <= ' ' || id[i] == '"' || (unsigned char)id[i] >= 0x7f)
            return *why = "bad-id", -1;
    memcpy(m->server_id, id, n + 1);
    m->kind = PROTO_ALIVE;
    m->has_load = json_get_num(o, "LOAD", &m->load);
    if (m->has_load && !(m->load >= 0 && m->load < 1e6))
        return *why = "bad-load", -1;
    if (!m->has_load && json_get_str(o, "LOAD"))
        return *why = "bad-load", -1;
    return 0;
}

static int decode_beat(const struct json_obj *o, double node, struct proto_msg *m, const char **why)
{
    double seq = 0, inc = 0;
    if (!(node >= 0 && node <= 1e9) || floor(node) != node)
        return *why = "bad-node", -1;
    if ((json_get_num(o, "SEQ", &seq) && !(seq >= 0 && seq <= 4e9 && floor(seq) == seq)) ||
        (!json_get_num(o, "SEQ", &seq) && json_get_str(o, "SEQ")))
        return *why = "bad-seq", -1;
    if ((json_get_num(o, "INC", &inc) && !(inc >= 0 && inc <= PROTO_MAX_INC && floor(inc) == inc)) ||
        (!json_get_num(o, "INC", &inc) && json_get_str(o, "INC")))
        return *why = "bad-inc", -1;
    m->kind = PROTO_BEAT;
    m->node = (long)node;
    m->inc = (uint64_t)inc;
    m->seq = (unsigned long)seq;
    return 0;
}

int proto_decode(const char *line, size_t len, struct proto_msg *m, const char **why)
{
    struct json_obj o;
    memset(m, 0, sizeof *m);
    if (len > 0 && line[len - 1] == '\r')
        len--;
    enum json_error e = json_parse(line, len, &o);
    if (e != JSON_OK)
        return *why = json_strerror(e), -1;
    const char *task = json_get_str(&o, "TASK");
    if (!task)
        return *why = "no-task", -1;
    if (strcmp(task, "HEARTBEAT") != 0)
        return *why = "not-heartbeat", -1;
    double node;
    if (json_get_str(&o, "RESPONSE"))
        return decode_alive(&o, m, why);
    if (json_get_num(&o, "NODE", &node))
        return decode_beat(&o, node, m, why);
    m->kind = PROTO_REQUEST;
    return 0;
}

/* snprintf into buf; 0 if it did not fit. */
static size_t fit(int n, size_t cap)
{
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

size_t proto_encode_request(char *buf, size_t cap)
{
    return fit(snprintf(buf, cap, "{\"TASK\": \"HEARTBEAT\"}\n"), cap);
}

size_t proto_encode_alive(char *buf, size_t cap, const char *server_id, bool with_load, double load)
{
    size_t len = fit(snprintf(buf, cap,
                              "{\"TASK\": \"HEARTBEAT\", \"RESPONSE\": \"ALIVE\", "
                              "\"SERVER_ID\": "),
                     cap);
    if (len == 0 || (len = json_put_str(buf, len, cap, server_id)) == 0)
        return 0;
    size_t more = with_load
                      ? fit(snprintf(buf + len, cap - len, ", \"LOAD\": %.2f}\n", load), cap - len)
                      : fit(snprintf(buf + len, cap - len, "}\n"), cap - len);
    return more ? len + more : 0;
}

size_t proto_encode_beat(char *buf, size_t cap, long node, uint64_t inc, unsigned long seq)
{
    return fit(snprintf(buf, cap,
                        "{\"TASK\": \"HEARTBEAT\", \"NODE\": %ld, \"INC\": %" PRIu64
                        ", \"SEQ\": %lu}\n",
                        node, inc, seq),
               cap);
}
