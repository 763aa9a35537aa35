/* fuzz_proto.c - libFuzzer harness for the wallet's line protocol: the input is a TCP stream, cut
 * into lines with proto_frame and each parsed with proto_parse, as server.c does. A parsed request
 * written back in canonical form parses to the same request; the client's reply parser
 * (proto_reply_status) runs on every line too. `make fuzz` runs it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define FUZZ_ASSERT(c)                                                                          \
    do {                                                                                        \
        if (!(c)) {                                                                             \
            fprintf(stderr, "fuzz_proto: property failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
            abort();                                                                            \
        }                                                                                       \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const words[] = {"REGISTER", "KEY", "CHECK", "BALANCE",
                                    "SEND",     "PING", "DUMP", "QUIT"};

/* The request as a client would write it: one space between fields, cents without zeros. */
static int write_back(const struct proto_req *r, char *buf, size_t cap)
{
    const char *w = words[r->cmd];
    switch (r->cmd) {
    case P_REGISTER:
    case P_KEY: return snprintf(buf, cap, "%s %s", w, r->name);
    case P_CHECK: return snprintf(buf, cap, "%s %s", w, r->key);
    case P_BALANCE: return snprintf(buf, cap, "%s %s %s", w, r->name, r->secret);
    case P_SEND:
        return snprintf(buf, cap, "%s %s %s %s %s %lld", w, r->name, r->secret, r->reqid, r->key,
                        r->cents);
    default: return snprintf(buf, cap, "%s", w);
    }
}

static void check_line(const char *line, size_t len)
{
    struct proto_req r, again;
    char buf[PROTO_MAX_LINE + 1], tok[64];
    int code = 0;
    int rc = proto_parse(line, len, &r);
    if (rc != 0) {
        const char *t = proto_err_token(rc, &code);
        FUZZ_ASSERT(t && *t && code >= 400 && code < 600);
        FUZZ_ASSERT(proto_err_reply(buf, sizeof buf, code, t, "x") > 0);
        return;
    }
    FUZZ_ASSERT((unsigned)r.cmd < sizeof words / sizeof *words);
    FUZZ_ASSERT(r.cmd != P_SEND || (r.cents >= 1 && r.cents <= PROTO_MAX_CENTS));
    int n = write_back(&r, buf, sizeof buf);
    FUZZ_ASSERT(n > 0 && (size_t)n <= len); /* canonical form is never longer */
    FUZZ_ASSERT(proto_parse(buf, (size_t)n, &again) == 0);
    FUZZ_ASSERT(memcmp(&r, &again, sizeof r) == 0); /* proto_parse memsets: padding too */
    memcpy(buf, line, len);
    buf[len] = '\0';
    (void)proto_reply_status(buf, &code, tok, sizeof tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    size_t off = 0;
    while (off < size) {
        int n = proto_frame(buf + off, size - off);
        if (n <= 0)
            break; /* 0: a partial last line; -1: too long, ERR 413 and close */
        FUZZ_ASSERT((size_t)n <= size - off && n <= PROTO_MAX_LINE && buf[off + n - 1] == '\n');
        check_line(buf + off, (size_t)n - 1);
        off += (size_t)n;
    }
    return 0;
}
