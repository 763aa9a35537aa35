/* check_json.c - the JSON parser and the lab's messages: good input, wrong types, missing keys,
 * huge values, malformed text. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "msg.h"

static struct json_obj o;

START_TEST(parse_seed_example)
{
    const char *s = "{\"type\": \"init\", \"node\": 42}";
    ck_assert_int_eq(json_parse(s, strlen(s), &o), 0);
    const char *t;
    uint64_t v;
    ck_assert_int_eq(json_get_str(&o, "type", &t), JSON_OK);
    ck_assert_str_eq(t, "init");
    ck_assert_int_eq(json_get_uint(&o, "node", 100, &v), JSON_OK);
    ck_assert_uint_eq(v, 42);
}
END_TEST

START_TEST(parse_kinds_and_escapes)
{
    const char *s = " { \"s\" : \"a\\\"b\\\\c\\/\\n\\u0041\" , \"t\":true,\"f\":false,\"z\":null,"
                    "\"neg\":-3,\"frac\":1.5,\"exp\":1e3,\"e\":\"\"} \n";
    ck_assert_int_eq(json_parse(s, strlen(s), &o), 0);
    ck_assert_int_eq(o.n, 8);
    const char *t;
    ck_assert_int_eq(json_get_str(&o, "s", &t), JSON_OK);
    ck_assert_str_eq(t, "a\"b\\c/\nA");
    ck_assert_int_eq(json_get_str(&o, "e", &t), JSON_OK);
    ck_assert_str_eq(t, "");
    uint64_t v;
    ck_assert_int_eq(json_get_uint(&o, "t", 10, &v), JSON_TYPE);
    ck_assert_int_eq(json_get_uint(&o, "z", 10, &v), JSON_TYPE);
    ck_assert_int_eq(json_get_uint(&o, "neg", 10, &v), JSON_TYPE);
    ck_assert_int_eq(json_get_uint(&o, "frac", 10, &v), JSON_TYPE);
    ck_assert_int_eq(json_get_uint(&o, "exp", 10000, &v), JSON_TYPE);
    ck_assert_int_eq(json_get_str(&o, "neg", &t), JSON_TYPE);
    ck_assert_int_eq(json_get_str(&o, "nope", &t), JSON_MISSING);
}
END_TEST

START_TEST(huge_values)
{
    uint64_t v;
    const char *max = "{\"n\": 18446744073709551615}";
    ck_assert_int_eq(json_parse(max, strlen(max), &o), 0);
    ck_assert_int_eq(json_get_uint(&o, "n", UINT64_MAX, &v), JSON_OK);
    ck_assert(v == UINT64_MAX);
    ck_assert_int_eq(json_get_uint(&o, "n", 1000, &v), JSON_RANGE);
    const char *over = "{\"n\": 18446744073709551616}";
    ck_assert_int_eq(json_parse(over, strlen(over), &o), 0);
    ck_assert_int_eq(json_get_uint(&o, "n", UINT64_MAX, &v), JSON_RANGE);
    char big[600] = "{\"n\": ";
    memset(big + strlen(big), '9', 400);
    strcat(big, "}");
    ck_assert_int_eq(json_parse(big, strlen(big), &o), 0);
    ck_assert_int_eq(json_get_uint(&o, "n", UINT64_MAX, &v), JSON_RANGE);
    /* A string longer than the pool is refused, not truncated. */
    char longs[JSON_POOL + 32] = "{\"s\": \"";
    memset(longs + strlen(longs), 'a', JSON_POOL);
    strcat(longs, "\"}");
    ck_assert_int_eq(json_parse(longs, strlen(longs), &o), -1);
}
END_TEST

/* Issue 12 §1: 1022 bytes of string and an empty one fill the pool exactly; the next "" had
 * its terminator written to pool[JSON_POOL], and the one after it was copied with a cap of
 * JSON_POOL - used wrapped to SIZE_MAX, past the object. The canary sits right after the object
 * so that a plain build (not only ASan) sees the overflow. */
static struct {
    struct json_obj o;
    char canary[64 * 1024];
} guarded;

static void pool_reproducer(size_t dlen)
{
    static char s[JSON_POOL + 64 * 1024];
    size_t n = (size_t)snprintf(s, sizeof s, "{\"a\":\"");
    memset(s + n, 'x', 1022), n += 1022;
    n += (size_t)snprintf(s + n, sizeof s - n, "\",\"b\":\"\",\"c\":\"\",\"d\":\"");
    memset(s + n, 'Y', dlen), n += dlen;
    n += (size_t)snprintf(s + n, sizeof s - n, "\"}");
    memset(guarded.canary, 0x5a, sizeof guarded.canary);
    ck_assert_int_eq(json_parse(s, n, &guarded.o), -1);
    for (size_t i = 0; i < sizeof guarded.canary; i++)
        ck_assert_msg(guarded.canary[i] == 0x5a, "written past the object at +%zu", i);
    ck_assert_uint_le(guarded.o.used, JSON_POOL);
}

START_TEST(pool_overflow_refused)
{
    pool_reproducer(7);             /* the reproducer */
    pool_reproducer(60 * 1024 - 8); /* its 61 KB variant, which killed every node */
    /* The boundary: strings that fill the pool exactly, terminators included, are fine. */
    char s[JSON_POOL + 64];
    size_t n = (size_t)snprintf(s, sizeof s, "{\"a\":\"");
    memset(s + n, 'x', 1022), n += 1022;
    n += (size_t)snprintf(s + n, sizeof s - n, "\",\"b\":\"\"}");
    ck_assert_int_eq(json_parse(s, n, &o), 0);
    ck_assert_uint_eq(o.used, JSON_POOL);
}
END_TEST

static const char *const malformed[] = {
    "",
    "{",
    "}",
    "[]",
    "{\"a\":1,}",
    "{\"a\" 1}",
    "{a:1}",
    "{\"a\":1} x",
    "{\"a\":{\"b\":1}}",
    "{\"a\":[1]}",
    "{\"a\":01}",
    "{\"a\":-}",
    "{\"a\":tru}",
    "{\"a\":\"x}",
    "{\"a\":\"\\q\"}",
    "{\"a\":\"\\u00e9\"}",
    "{\"a\":1,\"a\":2}",
    "{\"a\":\"tab\there\"}",
    "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1}",
};

START_TEST(malformed_text)
{
    const char *s = malformed[_i];
    ck_assert_msg(json_parse(s, strlen(s), &o) == -1, "accepted: %s", s);
}
END_TEST

START_TEST(too_many_fields)
{
    char s[512] = "{";
    for (int i = 0; i <= JSON_MAX_FIELDS; i++)
        snprintf(s + strlen(s), sizeof s - strlen(s), "%s\"k%d\":%d", i ? "," : "", i, i);
    strcat(s, "}");
    ck_assert_int_eq(json_parse(s, strlen(s), &o), -1);
}
END_TEST

START_TEST(not_nul_terminated)
{
    const char s[] = {'{', '"', 'a', '"', ':', '1', '}', '}'}; /* only the first 7 count */
    ck_assert_int_eq(json_parse(s, 7, &o), 0);
    ck_assert_int_eq(json_parse(s, 6, &o), -1);
}
END_TEST

/* ---- messages ---- */

static struct msg sample(enum msg_type t)
{
    struct msg m = {.type = t,
                    .node = 7,
                    .epoch = 2,
                    .value = 4000000000u,
                    .tx = 12,
                    .difficulty = 14,
                    .nonce = 18446744073709551615ULL,
                    .winner = 3};
    strcpy(m.data, "tx12-e2-00ff00ff00ff00ff");
    return m;
}

START_TEST(msg_round_trip)
{
    struct msg m = sample((enum msg_type)_i), back;
    char buf[MSG_MAX_PAYLOAD];
    size_t n = msg_encode(&m, buf, sizeof buf);
    ck_assert_uint_gt(n, 0);
    const char *why = "unset";
    ck_assert_msg(msg_decode(buf, n, &back, &why) == 0, "%s: %s", buf, why);
    ck_assert_int_eq(back.type, m.type);
    ck_assert_uint_eq(back.node, m.node);
    ck_assert_str_eq(msg_topic(back.type), msg_topic(m.type));
    char again[MSG_MAX_PAYLOAD];
    ck_assert_uint_eq(msg_encode(&back, again, sizeof again), n); /* nothing lost */
    ck_assert_str_eq(again, buf);
    for (size_t cap = 0; cap <= n; cap++)
        ck_assert_uint_eq(msg_encode(&m, buf, cap), 0);
}
END_TEST

static const struct {
    const char *payload, *why;
} bad_msgs[] = {
    {"{\"type\": \"init\"}", "missing_key"},
    {"{\"node\": 1}", "missing_key"},
    {"{\"type\": 5, \"node\": 1}", "wrong_type"},
    {"{\"type\": \"init\", \"node\": \"1\"}", "wrong_type"},
    {"{\"type\": \"init\", \"node\": -1}", "wrong_type"},
    {"{\"type\": \"init\", \"node\": 1.0}", "wrong_type"},
    {"{\"type\": \"init\", \"node\": 99999999999999999999999}", "out_of_range"},
    {"{\"type\": \"init\", \"node\": 1000001}", "out_of_range"},
    {"{\"type\": \"vote\", \"node\": 1, \"epoch\": 1, \"value\": 4294967296}", "out_of_range"},
    {"{\"type\": \"solution\", \"node\": 1, \"tx\": 1, \"nonce\": 18446744073709551616, "
     "\"data\": \"a\"}",
     "out_of_range"},
    {"{\"type\": \"solution\", \"node\": 1, \"tx\": 1, \"nonce\": 5, \"data\": \"a b\"}",
     "bad_data"},
    {"{\"type\": \"solution\", \"node\": 1, \"tx\": 1, \"nonce\": 5, \"data\": \"\"}", "bad_data"},
    {"{\"type\": \"solution\", \"node\": 1, \"tx\": 1, \"nonce\": 5, \"data\": "
     "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
     "bad_data"},
    {"{\"type\": \"solution\", \"node\": 1, \"tx\": 1, \"nonce\": 5, \"data\": 5}", "wrong_type"},
    {"{\"type\": \"challenge\", \"node\": 1, \"epoch\": 1, \"tx\": 1, \"difficulty\": 65, "
     "\"data\": \"a\"}",
     "out_of_range"},
    {"{\"type\": \"bribe\", \"node\": 1}", "unknown_type"},
    {"not json", "malformed_json"},
    {"{\"type\": \"init\", \"node\": 1", "malformed_json"},
};

START_TEST(msg_rejects)
{
    struct msg m;
    const char *why = "unset";
    const char *p = bad_msgs[_i].payload;
    ck_assert_msg(msg_decode(p, strlen(p), &m, &why) == -1, "accepted: %s", p);
    ck_assert_str_eq(why, bad_msgs[_i].why);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("json");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, parse_seed_example);
    tcase_add_test(tc, parse_kinds_and_escapes);
    tcase_add_test(tc, huge_values);
    tcase_add_test(tc, pool_overflow_refused);
    tcase_add_loop_test(tc, malformed_text, 0, sizeof malformed / sizeof *malformed);
    tcase_add_test(tc, too_many_fields);
    tcase_add_test(tc, not_nul_terminated);
    tcase_add_loop_test(tc, msg_round_trip, 0, MSG_SYNC + 1);
    tcase_add_loop_test(tc, msg_rejects, 0, sizeof bad_msgs / sizeof *bad_msgs);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
