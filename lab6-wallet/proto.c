/* proto.c - the wallet's line protocol: pure functions over (buf, len), no sockets. */
#include "proto.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int proto_frame(const char *buf, size_t len)
{
    size_t scan = len < PROTO_MAX_LINE ? len : PROTO_MAX_LINE;
    const char *nl = memchr(buf, '\n', scan);
    if (nl)
        return (int)(nl - buf) + 1;
    return len >= PROTO_MAX_LINE ? -1 : 0;
}

static bool name_ok(const char *s, size_t n)
{
    if (n == 0 || n > PROTO_MAX_NAME)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool token_ok(const char *s, size_t n, size_t max)
{
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == ':'))
            return false;
    }
    return true;
}

static bool secret_ok(const char *s, size_t n)
{
    if (n != PROTO_SECRET_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

int proto_name_ok(const char *s)
{
    return name_ok(s, strlen(s));
}

int proto_token_ok(const char *s)
{
    return token_ok(s, strlen(s), PROTO_MAX_TOKEN);
}

int proto_parse_cents(const char *s, long long *out)
{
    long long v = 0;
    if (!*s)
        return PE_AMOUNT;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return PE_AMOUNT; /* "-5", "+5", "1.5", "abc": cents are whole, positive numbers */
        v = v * 10 + (*s - '0');
        if (v > PROTO_MAX_CENTS)
            return PE_AMOUNT; /* stop before long long could overflow */
    }
    if (v == 0)
        return PE_AMOUNT;
    *out = v;
    return 0;
}

#define MAXF 7

/* Split on single spaces; empty fields (two spaces) are malformed. */
static int split(char *s, char *f[MAXF])
{
    int n = 0;
    for (char *p = s;;) {
        char *sp = strchr(p, ' ');
        if (n == MAXF)
            return -1;
        f[n++] = p;
        if (!sp)
            break;
        *sp = '\0';
        p = sp + 1;
    }
    for (int i = 0; i < n; i++)
        if (!*f[i])
            return -1;
    return n;
}

static const struct {
    const char *word;
    enum proto_cmd cmd;
    int nargs;
} commands[] = {
    {"REGISTER", P_REGISTER, 1}, {"KEY", P_KEY, 1},   {"CHECK", P_CHECK, 1},
    {"BALANCE", P_BALANCE, 2},   {"SEND", P_SEND, 5}, {"PING", P_PING, 0},
    {"DUMP", P_DUMP, 0},         {"QUIT", P_QUIT, 0},
};

static int fill(struct proto_req *r, char **a)
{
    switch (r->cmd) {
    case P_REGISTER:
    case P_KEY:
        if (!name_ok(a[0], strlen(a[0])))
            return PE_NAME;
        strcpy(r->name, a[0]);
        return 0;
    case P_CHECK:
        if (!token_ok(a[0], strlen(a[0]), PROTO_MAX_TOKEN))
            return PE_TOKEN;
        strcpy(r->key, a[0]);
        return 0;
    case P_BALANCE:
    case P_SEND:
        if (!name_ok(a[0], strlen(a[0])))
            return PE_NAME;
        if (!secret_ok(a[1], strlen(a[1])))
            return PE_TOKEN;
        strcpy(r->name, a[0]);
        strcpy(r->secret, a[1]);
        if (r->cmd == P_BALANCE)
            return 0;
        if (!token_ok(a[2], strlen(a[2]), PROTO_MAX_TOKEN) ||
            !token_ok(a[3], strlen(a[3]), PROTO_MAX_TOKEN))
            return PE_TOKEN;
        strcpy(r->reqid, a[2]);
        strcpy(r->key, a[3]);
        return proto_parse_cents(a[4], &r->cents);
    default: return 0;
    }
}

int proto_parse(const char *line, size_t len, struct proto_req *out)
{
    char s[PROTO_MAX_LINE + 1];
    char *f[MAXF];
    if (len > PROTO_MAX_LINE)
        return PE_ARGS;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
            return PE_BINARY;
    memcpy(s, line, len);
    s[len] = '\0';
    memset(out, 0, sizeof *out);
    int n = split(s, f);
    if (n < 1) /* an empty line or field: "" and " PING" are no command, "SEND  x" bad args */
        return len > 0 && line[0] != ' ' ? PE_ARGS : PE_COMMAND;
    for (size_t k = 0; k < sizeof commands / sizeof *commands; k++) {
        if (strcmp(f[0], commands[k].word) != 0)
            continue;
        if (n - 1 != commands[k].nargs)
            return PE_ARGS;
        out->cmd = commands[k].cmd;
        return fill(out, f + 1);
    }
    return PE_COMMAND;
}

const char *proto_err_token(int err, int *code)
{
    *code = 400;
    switch (err) {
    case PE_BINARY: return "binary";
    case PE_COMMAND: return "bad-command";
    case PE_ARGS: return "bad-args";
    case PE_NAME: return "bad-name";
    case PE_TOKEN: return "bad-token";
    case PE_AMOUNT: *code = 422; return "bad-amount";
    default: *code = 500; return "internal";
    }
}

size_t proto_err_reply(char *buf, size_t cap, int code, const char *token, const char *text)
{
    int n = snprintf(buf, cap, "ERR %d %s %s\n", code, token, text);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

int proto_reply_status(const char *line, int *code, char *token, size_t tokcap)
{
    if (!strncmp(line, "OK", 2) && (line[2] == ' ' || line[2] == '\0'))
        return 1;
    int c, used = 0;
    char tok[64];
    if (sscanf(line, "ERR %d %63s%n", &c, tok, &used) != 2 || used == 0)
        return -1;
    *code = c;
    snprintf(token, tokcap, "%s", tok);
    return 0;
}
