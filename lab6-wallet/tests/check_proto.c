/* check_proto.c - the line protocol: framing, every request, every malformed case. */
#include <check.h>
#include <string.h>

#include "proto.h"

#define SECRET "0123456789abcdef0123456789abcdef"

START_TEST(frame_needs_newline)
{
    ck_assert_int_eq(proto_frame("PING", 4), 0);
    ck_assert_int_eq(proto_frame("PING\n", 5), 5);
    ck_assert_int_eq(proto_frame("PING\nPI", 7), 5);
    ck_assert_int_eq(proto_frame("", 0), 0);
}
END_TEST

START_TEST(frame_too_long)
{
    char buf[PROTO_MAX_LINE + 10];
    memset(buf, 'A', sizeof buf);
    ck_assert_int_eq(proto_frame(buf, PROTO_MAX_LINE - 1), 0);
    ck_assert_int_eq(proto_frame(buf, PROTO_MAX_LINE), -1);
    buf[PROTO_MAX_LINE - 1] = '\n'; /* the longest line allowed: 255 bytes and the newline */
    ck_assert_int_eq(proto_frame(buf, PROTO_MAX_LINE), PROTO_MAX_LINE);
}
END_TEST

static int parse(const char *s, struct proto_req *q)
{
    return proto_parse(s, strlen(s), q);
}

START_TEST(good_requests)
{
    struct proto_req q;
    ck_assert_int_eq(parse("REGISTER alice", &q), 0);
    ck_assert_int_eq(q.cmd, P_REGISTER);
    ck_assert_str_eq(q.name, "alice");
    ck_assert_int_eq(parse("KEY bob_2", &q), 0);
    ck_assert_int_eq(q.cmd, P_KEY);
    ck_assert_int_eq(parse("CHECK 0123abcd", &q), 0);
    ck_assert_str_eq(q.key, "0123abcd");
    ck_assert_int_eq(parse("BALANCE alice " SECRET, &q), 0);
    ck_assert_str_eq(q.secret, SECRET);
    ck_assert_int_eq(parse("SEND alice " SECRET " r-1 0123abcd 250", &q), 0);
    ck_assert_int_eq(q.cmd, P_SEND);
    ck_assert_str_eq(q.reqid, "r-1");
    ck_assert_str_eq(q.key, "0123abcd");
    ck_assert_int_eq(q.cents, 250);
    ck_assert_int_eq(parse("PING", &q), 0);
    ck_assert_int_eq(parse("DUMP", &q), 0);
    ck_assert_int_eq(parse("QUIT", &q), 0);
    ck_assert_int_eq(q.cmd, P_QUIT);
}
END_TEST

static const struct {
    const char *line;
    int err;
} bad[] = {
    {"", PE_COMMAND},
    {"HELLO", PE_COMMAND},
    {"ping", PE_COMMAND},
    {" PING", PE_COMMAND},
    {"PING x", PE_ARGS},
    {"REGISTER", PE_ARGS},
    {"REGISTER a b", PE_ARGS},
    {"REGISTER  a", PE_ARGS},
    {"REGISTER a ", PE_ARGS},
    {"REGISTER a/b", PE_NAME},
    {"REGISTER abcdefghijklmnopqrstuvwxy", PE_NAME}, /* 25 characters */
    {"BALANCE alice 123", PE_TOKEN},
    {"BALANCE alice 0123456789ABCDEF0123456789ABCDEF", PE_TOKEN},
    {"SEND alice " SECRET " r1 key abc", PE_AMOUNT},
    {"SEND alice " SECRET " r1 key -5", PE_AMOUNT},
    {"SEND alice " SECRET " r1 key 0", PE_AMOUNT},
    {"SEND alice " SECRET " r1 key 1.5", PE_AMOUNT},
    {"SEND alice " SECRET " r1 key +5", PE_AMOUNT},
    {"SEND alice " SECRET " r1 key 1000000000001", PE_AMOUNT},
    {"SEND alice " SECRET " r1 key 99999999999999999999999", PE_AMOUNT},
    {"SEND alice " SECRET " r/1 key 5", PE_TOKEN},
    {"SEND alice " SECRET " r1 k\"y 5", PE_TOKEN},
    {"SEND alice " SECRET " r1 key", PE_ARGS},
    {"CHECK 01234567890123456789012345678901234567890", PE_TOKEN}, /* 41 characters */
    {"PING\x01", PE_BINARY},
    {"PI\xffNG", PE_BINARY},
    {"SEND\talice", PE_BINARY},
};

START_TEST(malformed)
{
    struct proto_req q;
    ck_assert_msg(parse(bad[_i].line, &q) == bad[_i].err, "\"%s\": got %d, want %d", bad[_i].line,
                  parse(bad[_i].line, &q), bad[_i].err);
}
END_TEST

START_TEST(nul_byte_is_binary)
{
    struct proto_req q;
    ck_assert_int_eq(proto_parse("PI\0NG", 5, &q), PE_BINARY);
}
END_TEST

START_TEST(amount_bounds)
{
    long long v = 0;
    ck_assert_int_eq(proto_parse_cents("1", &v), 0);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(proto_parse_cents("1000000000000", &v), 0);
    ck_assert_int_eq(v, PROTO_MAX_CENTS);
    ck_assert_int_eq(proto_parse_cents("1000000000001", &v), PE_AMOUNT);
    ck_assert_int_eq(proto_parse_cents("", &v), PE_AMOUNT);
    ck_assert_int_eq(proto_parse_cents("00", &v), PE_AMOUNT);
}
END_TEST

START_TEST(replies)
{
    char buf[128], tok[32];
    int code = 0;
    size_t n = proto_err_reply(buf, sizeof buf, 402, "insufficient-funds", "not enough");
    ck_assert_str_eq(buf, "ERR 402 insufficient-funds not enough\n");
    ck_assert_uint_eq(n, strlen(buf));
    ck_assert_uint_eq(proto_err_reply(buf, 10, 402, "insufficient-funds", "x"), 0);
    ck_assert_int_eq(proto_reply_status("ERR 410 expired-key rotated", &code, tok, sizeof tok), 0);
    ck_assert_int_eq(code, 410);
    ck_assert_str_eq(tok, "expired-key");
    ck_assert_int_eq(proto_reply_status("OK 1 c2 100", &code, tok, sizeof tok), 1);
    ck_assert_int_eq(proto_reply_status("OKAY", &code, tok, sizeof tok), -1);
    ck_assert_int_eq(proto_reply_status("ERR x", &code, tok, sizeof tok), -1);
    int c;
    ck_assert_str_eq(proto_err_token(PE_AMOUNT, &c), "bad-amount");
    ck_assert_int_eq(c, 422);
    ck_assert_str_eq(proto_err_token(PE_BINARY, &c), "binary");
    ck_assert_int_eq(c, 400);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("proto");
    TCase *t = tcase_create("proto");
    tcase_set_timeout(t, 10);
    tcase_add_test(t, frame_needs_newline);
    tcase_add_test(t, frame_too_long);
    tcase_add_test(t, good_requests);
    tcase_add_loop_test(t, malformed, 0, sizeof bad / sizeof *bad);
    tcase_add_test(t, nul_byte_is_binary);
    tcase_add_test(t, amount_bounds);
    tcase_add_test(t, replies);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
