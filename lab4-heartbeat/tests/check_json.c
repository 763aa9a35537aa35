/* check_json.c - the JSON reader/writer and the heartbeat wire format: table-driven, with
 * whitespace, key order, unknown keys, escapes, truncated and malformed input. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "proto.h"

static enum json_error parse(const char *s, struct json_obj *o)
{
    return json_parse(s, strlen(s), o);
}

/* ---- json_parse: inputs that must parse, and what they must hold ---- */

START_TEST(json_whitespace_and_order)
{
    static const char *same[] = {
        "{\"TASK\":\"HEARTBEAT\",\"N\":2}",
        "  {  \"N\" : 2 ,\n\t\"TASK\"\r\n:\"HEARTBEAT\"  }  ",
        "{\"X\": \"unknown\", \"TASK\": \"HEARTBEAT\", \"N\": 2.0, \"Z\": null, \"B\": true}",
    };
    for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
        struct json_obj o;
        double n = 0;
        ck_assert_msg(parse(same[i], &o) == JSON_OK, "rejected %s", same[i]);
        ck_assert_str_eq(json_get_str(&o, "TASK"), "HEARTBEAT");
        ck_assert(json_get_num(&o, "N", &n) && n == 2.0);
        ck_assert_ptr_null(json_get_str(&o, "N"));    /* a number is not a string */
        ck_assert(!json_get_num(&o, "TASK", &n));     /* nor the reverse */
        ck_assert_ptr_null(json_get_str(&o, "task")); /* keys are case-sensitive */
    }
}
END_TEST

START_TEST(json_empty_object)
{
    struct json_obj o;
    ck_assert_int_eq(parse("{}", &o), JSON_OK);
    ck_assert_int_eq(o.n, 0);
    ck_assert_int_eq(parse(" { } ", &o), JSON_OK);
}
END_TEST

START_TEST(json_escapes)
{
    struct json_obj o;
    ck_assert_int_eq(parse("{\"s\": \"a\\\"b\\\\c\\/d\\n\\t\\r\\b\\f\"}", &o), JSON_OK);
    ck_assert_str_eq(json_get_str(&o, "s"), "a\"b\\c/d\n\t\r\b\f");
    ck_assert_int_eq(parse("{\"s\": \"caf\\u00e9 \\u20ac \\uD83D\\uDE00 \\u0041\"}", &o), JSON_OK);
    ck_assert_str_eq(json_get_str(&o, "s"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 A");
    ck_assert_int_eq(parse("{\"k\\u0041y\": \"v\"}", &o), JSON_OK); /* escapes in keys too */
    ck_assert_str_eq(json_get_str(&o, "kAy"), "v");
    ck_assert_int_eq(parse("{\"s\": \"raw \xc3\xa9 utf-8\"}", &o), JSON_OK);
    ck_assert_str_eq(json_get_str(&o, "s"), "raw \xc3\xa9 utf-8");
}
END_TEST

START_TEST(json_numbers)
{
    static const struct {
        const char *in;
        double want;
    } ok[] = {{"{\"n\": 0}", 0},         {"{\"n\": -0.5}", -0.5}, {"{\"n\": 1e3}", 1000},
              {"{\"n\": 2.5E-1}", 0.25}, {"{\"n\": 42}", 42},     {"{\"n\": 1.0e+2}", 100}};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        struct json_obj o;
        double n;
        ck_assert_msg(parse(ok[i].in, &o) == JSON_OK, "rejected %s", ok[i].in);
        ck_assert(json_get_num(&o, "n", &n));
        ck_assert_msg(n == ok[i].want, "%s gave %g", ok[i].in, n);
    }
}
END_TEST

/* ---- json_parse: inputs that must be refused, with the right error ---- */

static const struct {
    const char *in;
    enum json_error want;
} bad[] = {
    {"", JSON_ETRUNC},
    {"   ", JSON_ETRUNC},
    {"{", JSON_ETRUNC},
    {"{\"TASK\"", JSON_ETRUNC},
    {"{\"TASK\":", JSON_ETRUNC},
    {"{\"TASK\": \"HEART", JSON_ETRUNC},
    {"{\"TASK\": \"HEARTBEAT\"", JSON_ETRUNC},
    {"{\"TASK\": \"HEARTBEAT\",", JSON_ETRUNC},
    {"{\"n\": 1", JSON_ETRUNC},
    {"{\"n\": -", JSON_ETRUNC},
    {"{\"b\": tr", JSON_ETRUNC},
    {"{\"s\": \"\\u00", JSON_ETRUNC},
    {"{\"s\": \"\\", JSON_ETRUNC},
    {"hello", JSON_ESYNTAX},
    {"[1, 2]", JSON_ESYNTAX},
    {"{\"a\": 1} x", JSON_ESYNTAX},
    {"{\"a\": 1}{}", JSON_ESYNTAX},
    {"{a: 1}", JSON_ESYNTAX},
    {"{'a': 1}", JSON_ESYNTAX},
    {"{\"a\" 1}", JSON_ESYNTAX},
    {"{\"a\": 1,}", JSON_ESYNTAX},
    {"{\"a\": 1 \"b\": 2}", JSON_ESYNTAX},
    {"{\"a\": 01}", JSON_ESYNTAX},
    {"{\"a\": 1.}", JSON_ESYNTAX},
    {"{\"a\": .5}", JSON_ESYNTAX},
    {"{\"a\": +1}", JSON_ESYNTAX},
    {"{\"a\": nul}", JSON_ESYNTAX},
    {"{\"a\": True}", JSON_ESYNTAX},
    {"{\"a\": \"tab\there\"}", JSON_ESYNTAX},
    {"{\"a\": {\"b\": 1}}", JSON_ENESTED},
    {"{\"a\": [1]}", JSON_ENESTED},
    {"{\"a\": \"\\x41\"}", JSON_EESCAPE},
    {"{\"a\": \"\\u12G4\"}", JSON_EESCAPE},
    {"{\"a\": \"\\uD83D\"}", JSON_EESCAPE},
    {"{\"a\": \"\\uD83D\\u0041\"}", JSON_EESCAPE},
    {"{\"a\": \"\\uDE00\"}", JSON_EESCAPE},
    {"{\"a\": \"\\u0000\"}", JSON_EESCAPE},
    {"{\"a\": 1, \"a\": 2}", JSON_EDUP},
};

START_TEST(json_refuses)
{
    struct json_obj o;
    enum json_error got = parse(bad[_i].in, &o);
    ck_assert_msg(got == bad[_i].want, "'%s': got %s, want %s", bad[_i].in, json_strerror(got),
                  json_strerror(bad[_i].want));
}
END_TEST

START_TEST(json_limits)
{
    struct json_obj o;
    char buf[4096];
    /* a string of JSON_MAXSTR - 1 bytes fits, one more does not */
    snprintf(buf, sizeof buf, "{\"s\": \"%0*d\"}", JSON_MAXSTR - 1, 0);
    ck_assert_int_eq(parse(buf, &o), JSON_OK);
    ck_assert_uint_eq(strlen(json_get_str(&o, "s")), JSON_MAXSTR - 1);
    snprintf(buf, sizeof buf, "{\"s\": \"%0*d\"}", JSON_MAXSTR, 0);
    ck_assert_int_eq(parse(buf, &o), JSON_ELONG);
    /* JSON_MAXKEYS keys fit, one more does not */
    size_t len = (size_t)snprintf(buf, sizeof buf, "{\"k0\": 0");
    for (int i = 1; i < JSON_MAXKEYS; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, ", \"k%d\": %d", i, i);
    snprintf(buf + len, sizeof buf - len, "}");
    ck_assert_int_eq(parse(buf, &o), JSON_OK);
    ck_assert_int_eq(o.n, JSON_MAXKEYS);
    snprintf(buf + len, sizeof buf - len, ", \"more\": 1}");
    ck_assert_int_eq(parse(buf, &o), JSON_EMANY);
    /* an embedded NUL is not whitespace: the object ends before it */
    ck_assert_int_eq(json_parse("{}\0{}", 5, &o), JSON_ESYNTAX);
}
END_TEST

START_TEST(json_every_prefix_is_truncated)
{
    const char *full = "{\"TASK\": \"HEARTBEAT\", \"RESPONSE\": \"ALIVE\", \"LOAD\": 0.25, "
                       "\"S\": \"\\u00e9\\uD83D\\uDE00\", \"B\": false}";
    struct json_obj o;
    size_t n = strlen(full);
    for (size_t k = 0; k < n; k++)
        ck_assert_msg(json_parse(full, k, &o) == JSON_ETRUNC, "prefix of %zu bytes", k);
    ck_assert_int_eq(json_parse(full, n, &o), JSON_OK);
}
END_TEST

START_TEST(json_put_str_roundtrip)
{
    char buf[256] = "{\"s\": ";
    size_t len = json_put_str(buf, strlen(buf), sizeof buf, "q\"b\\s\n\x01 \xc3\xa9");
    ck_assert_uint_gt(len, 0);
    ck_assert_uint_lt(len + 1, sizeof buf);
    buf[len] = '}', buf[len + 1] = '\0';
    struct json_obj o;
    ck_assert_int_eq(parse(buf, &o), JSON_OK);
    ck_assert_str_eq(json_get_str(&o, "s"), "q\"b\\s\n\x01 \xc3\xa9");
    char small[6] = "ab";
    ck_assert_uint_eq(json_put_str(small, 2, sizeof small, "xyz"), 0); /* "xyz" needs 5 + NUL */
    ck_assert_str_eq(small, "ab");
}
END_TEST

/* ---- proto: framing and the three messages ---- */

START_TEST(proto_framing)
{
    ck_assert_int_eq(proto_line("", 0), 0);
    ck_assert_int_eq(proto_line("{\"TASK\"", 7), 0);
    ck_assert_int_eq(proto_line("ab\ncd\n", 6), 3);
    ck_assert_int_eq(proto_line("\n", 1), 1);
    char *big = malloc(PROTO_MAX_LINE + 10);
    memset(big, 'A', PROTO_MAX_LINE + 10);
    ck_assert_int_eq(proto_line(big, PROTO_MAX_LINE - 1), 0);
    ck_assert_int_eq(proto_line(big, PROTO_MAX_LINE), -1); /* no newline within the limit */
    big[PROTO_MAX_LINE - 1] = '\n';
    ck_assert_int_eq(proto_line(big, PROTO_MAX_LINE + 10), PROTO_MAX_LINE);
    free(big);
}
END_TEST

START_TEST(proto_request_and_answer)
{
    char buf[256];
    struct proto_msg m;
    const char *why = NULL;
    size_t n = proto_encode_request(buf, sizeof buf);
    ck_assert_str_eq(buf, "{\"TASK\": \"HEARTBEAT\"}\n"); /* 004's request, byte for byte */
    ck_assert_int_eq(proto_decode(buf, n - 1, &m, &why), 0);
    ck_assert_int_eq(m.kind, PROTO_REQUEST);
    n = proto_encode_alive(buf, sizeof buf, "ab12-cd", true, 0.42);
    ck_assert_str_eq(buf, "{\"TASK\": \"HEARTBEAT\", \"RESPONSE\": \"ALIVE\", \"SERVER_ID\": "
                          "\"ab12-cd\", \"LOAD\": 0.42}\n");
    ck_assert_int_eq(proto_decode(buf, n - 1, &m, &why), 0);
    ck_assert_int_eq(m.kind, PROTO_ALIVE);
    ck_assert_str_eq(m.server_id, "ab12-cd");
    ck_assert(m.has_load && m.load > 0.419 && m.load < 0.421);
    n = proto_encode_alive(buf, sizeof buf, "x", false, 0);
    ck_assert_int_eq(proto_decode(buf, n - 1, &m, &why), 0);
    ck_assert(!m.has_load);
    ck_assert_uint_eq(proto_encode_alive(buf, 20, "x", true, 0.5), 0); /* does not fit */
    n = proto_encode_beat(buf, sizeof buf, 3, 1764581234567ULL, 17);
    ck_assert_int_eq(proto_decode(buf, n, &m, &why), 0); /* a trailing "\n" is JSON whitespace */
    ck_assert_int_eq(proto_decode(buf, n - 1, &m, &why), 0);
    ck_assert(m.kind == PROTO_BEAT && m.node == 3 && m.seq == 17 && m.inc == 1764581234567ULL);
    ck_assert_int_eq(proto_decode("{\"TASK\": \"HEARTBEAT\", \"NODE\": 3}", 32, &m, &why), 0);
    ck_assert(m.kind == PROTO_BEAT && m.inc == 0 && m.seq == 0); /* both optional */
}
END_TEST

/* Another implementation's answer: other key order, other spacing, extra keys, CRLF. */
START_TEST(proto_interop)
{
    const char *line = "{\"SERVER_ID\":\"2f1e9a\",\"extra\":[]}";
    struct proto_msg m;
    const char *why = NULL;
    ck_assert_int_eq(proto_decode(line, strlen(line), &m, &why), -1); /* nested: refused */
    line = "{\"SERVER_ID\":\"2f1e9a\",\"RESPONSE\":\"ALIVE\",\"v\":2,\"TASK\":\"HEARTBEAT\"}\r";
    ck_assert_int_eq(proto_decode(line, strlen(line), &m, &why), 0);
    ck_assert_int_eq(m.kind, PROTO_ALIVE);
    ck_assert_str_eq(m.server_id, "2f1e9a");
    ck_assert(!m.has_load);
}
END_TEST

static const struct {
    const char *line, *why;
} bad_msgs[] = {
    {"garbage", "json-syntax"},
    {"{\"TASK\": \"HEARTBEAT\"", "json-truncated"},
    {"{\"RESPONSE\": \"ALIVE\"}", "no-task"},
    {"{\"TASK\": 5}", "no-task"},
    {"{\"TASK\": \"ELECTION\"}", "not-heartbeat"},
    {"{\"TASK\": \"HEARTBEAT\", \"RESPONSE\": \"DEAD\", \"SERVER_ID\": \"a\"}", "not-alive"},
    {"{\"TASK\": \"HEARTBEAT\", \"RESPONSE\": \"ALIVE\"}", "bad-id"},
    {"{\"TASK\": \"HEARTBEAT\", \"RESPONSE\": \"ALIVE\", \"SERVER_ID\": \"\"}", "bad-id"},
    {"{\"TASK\": \"HEARTBEAT\", \"RESPONSE\": \"ALIVE\", \"SERVER_ID\": \"a b\"}", "bad-id"},
    {"{\"TASK\": \"HEARTBEAT\", \"RESPONSE\": \"ALIVE\", \"SERVER_ID\": 7}", "bad-id"},
    {"{\"TASK\": \"HEARTBEAT\", \"RESPONSE\": \"ALIVE\", \"SERVER_ID\": \"a\", \"LOAD\": -1}",
     "bad-load"},
    {"{\"TASK\": \"HEARTBEAT\", \"RESPONSE\": \"ALIVE\", \"SERVER_ID\": \"a\", \"LOAD\": \"x\"}",
     "bad-load"},
    {"{\"TASK\": \"HEARTBEAT\", \"NODE\": -1}", "bad-node"},
    {"{\"TASK\": \"HEARTBEAT\", \"NODE\": 1.5}", "bad-node"},
    {"{\"TASK\": \"HEARTBEAT\", \"NODE\": 1, \"SEQ\": -2}", "bad-seq"},
    {"{\"TASK\": \"HEARTBEAT\", \"NODE\": 1, \"SEQ\": \"7\"}", "bad-seq"},
    {"{\"TASK\": \"HEARTBEAT\", \"NODE\": 1, \"INC\": -1}", "bad-inc"},
    {"{\"TASK\": \"HEARTBEAT\", \"NODE\": 1, \"INC\": 1.5}", "bad-inc"},
    {"{\"TASK\": \"HEARTBEAT\", \"NODE\": 1, \"INC\": 1e16}", "bad-inc"},
    {"{\"TASK\": \"HEARTBEAT\", \"NODE\": 1, \"INC\": \"x\"}", "bad-inc"},
};

START_TEST(proto_refuses)
{
    struct proto_msg m;
    const char *why = NULL, *line = bad_msgs[_i].line;
    ck_assert_msg(proto_decode(line, strlen(line), &m, &why) == -1, "accepted %s", line);
    ck_assert_msg(why && !strcmp(why, bad_msgs[_i].why), "%s: why=%s, want %s", line,
                  why ? why : "(null)", bad_msgs[_i].why);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("json");
    TCase *t = tcase_create("json");
    tcase_set_timeout(t, 10);
    tcase_add_test(t, json_whitespace_and_order);
    tcase_add_test(t, json_empty_object);
    tcase_add_test(t, json_escapes);
    tcase_add_test(t, json_numbers);
    tcase_add_loop_test(t, json_refuses, 0, (int)(sizeof bad / sizeof *bad));
    tcase_add_test(t, json_limits);
    tcase_add_test(t, json_every_prefix_is_truncated);
    tcase_add_test(t, json_put_str_roundtrip);
    suite_add_tcase(s, t);
    t = tcase_create("proto");
    tcase_set_timeout(t, 10);
    tcase_add_test(t, proto_framing);
    tcase_add_test(t, proto_request_and_answer);
    tcase_add_test(t, proto_interop);
    tcase_add_loop_test(t, proto_refuses, 0, (int)(sizeof bad_msgs / sizeof *bad_msgs));
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
