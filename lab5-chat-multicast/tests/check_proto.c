/* check_proto.c - the datagram codec: round trips, every kind, malformed and boundary input. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

static struct proto_msg sample(int kind)
{
    struct proto_msg m;
    memset(&m, 0, sizeof m);
    m.kind = kind, m.boot = 7, m.lc = 0x0102030405060708ULL;
    strcpy(m.from, "alice");
    switch (kind) {
    case P_REQ:
        m.req = 42, m.nmiss = 2;
        strcpy(m.miss[0], "bob"), strcpy(m.miss[1], "carol");
        break;
    case P_REP: m.req = 9, m.req_boot = 3, strcpy(m.to, "bob"); break;
    case P_MSG:
        strcpy(m.author, "carol"), m.seq = 5, m.lts = 77, strcpy(m.text, "olá, mundo");
        m.tlen = (uint16_t)strlen(m.text);
        break;
    case P_SUM:
        m.nsum = 2;
        strcpy(m.sum[0].name, "alice"), m.sum[0].prefix = 3, m.sum[0].max = 5;
        strcpy(m.sum[1].name, "bob"), m.sum[1].prefix = 0, m.sum[1].max = 0;
        break;
    }
    return m;
}

START_TEST(roundtrip_every_kind)
{
    static const int kinds[] = {P_HELLO, P_REQ, P_REP, P_MSG, P_SUM};
    struct proto_msg m = sample(kinds[_i]), d;
    uint8_t buf[PROTO_MAXDGRAM];
    size_t len = proto_encode(&m, buf, sizeof buf);
    const char *why = NULL;
    ck_assert_uint_gt(len, 0);
    ck_assert_int_eq(proto_decode(buf, len, &d, &why), (int)len);
    ck_assert_int_eq(d.kind, m.kind);
    ck_assert_uint_eq(d.boot, 7);
    ck_assert(d.lc == m.lc);
    ck_assert_str_eq(d.from, "alice");
    ck_assert_uint_eq(d.req, m.req);
    ck_assert_int_eq(d.nmiss, m.nmiss);
    ck_assert_str_eq(d.to, m.to);
    ck_assert_str_eq(d.text, m.text);
    ck_assert(d.lts == m.lts);
    ck_assert_int_eq(d.nsum, m.nsum);
    for (int i = 0; i < m.nsum; i++)
        ck_assert(!strcmp(d.sum[i].name, m.sum[i].name) && d.sum[i].prefix == m.sum[i].prefix &&
                  d.sum[i].max == m.sum[i].max);
    for (int i = 0; i < m.nmiss; i++)
        ck_assert_str_eq(d.miss[i], m.miss[i]);
}
END_TEST

START_TEST(every_truncation_is_rejected)
{
    struct proto_msg m = sample(P_MSG), d;
    uint8_t buf[PROTO_MAXDGRAM];
    size_t len = proto_encode(&m, buf, sizeof buf);
    const char *why;
    for (size_t k = 0; k < len; k++)
        ck_assert_msg(proto_decode(buf, k, &d, &why) < 0, "accepted %zu of %zu bytes", k, len);
}
END_TEST

START_TEST(malformed)
{
    struct proto_msg m = sample(P_REP), d;
    uint8_t buf[PROTO_MAXDGRAM + 10];
    size_t len = proto_encode(&m, buf, sizeof buf);
    const char *why;
    buf[0] = 'X';
    ck_assert_int_lt(proto_decode(buf, len, &d, &why), 0);
    ck_assert_str_eq(why, "bad-magic");
    buf[0] = 'R', buf[2] = 9;
    ck_assert_int_lt(proto_decode(buf, len, &d, &why), 0);
    ck_assert_str_eq(why, "bad-version");
    buf[2] = PROTO_VERSION, buf[3] = 99;
    ck_assert_int_lt(proto_decode(buf, len, &d, &why), 0);
    ck_assert_str_eq(why, "bad-kind");
    buf[3] = P_REP;
    buf[len] = 0;
    ck_assert_int_lt(proto_decode(buf, len + 1, &d, &why), 0);
    ck_assert_str_eq(why, "trailing-bytes");
    ck_assert_int_lt(proto_decode(buf, PROTO_MAXDGRAM + 1, &d, &why), 0);
    ck_assert_str_eq(why, "oversize");
    buf[9] = '!'; /* first byte of the sender's name */
    ck_assert_int_lt(proto_decode(buf, len, &d, &why), 0);
}
END_TEST

START_TEST(text_and_names)
{
    ck_assert(proto_name_ok("a"));
    ck_assert(proto_name_ok("abcdefghijklmno")); /* 15 */
    ck_assert(!proto_name_ok("abcdefghijklmnop"));
    ck_assert(!proto_name_ok(""));
    ck_assert(!proto_name_ok("a b"));
    ck_assert(proto_text_ok("", 0));
    ck_assert(!proto_text_ok("a\nb", 3));
    ck_assert(!proto_text_ok("a\x7f", 2));
    char big[PROTO_MAXTEXT + 2];
    memset(big, 'x', sizeof big);
    ck_assert(proto_text_ok(big, PROTO_MAXTEXT));
    ck_assert(!proto_text_ok(big, PROTO_MAXTEXT + 1));
    /* a MSG whose text has a control character is refused on both sides */
    struct proto_msg m = sample(P_MSG), d;
    uint8_t buf[PROTO_MAXDGRAM];
    strcpy(m.text, "a\tb"), m.tlen = 3;
    ck_assert_uint_eq(proto_encode(&m, buf, sizeof buf), 0);
    m = sample(P_MSG);
    size_t len = proto_encode(&m, buf, sizeof buf);
    buf[len - 1] = '\n';
    const char *why;
    ck_assert_int_lt(proto_decode(buf, len, &d, &why), 0);
    ck_assert_str_eq(why, "bad-text");
}
END_TEST

/* Issue 12: a name with a NUL inside its length ("al\0ce", 5 bytes) used to decode as "al", a
 * different and valid name. Every name field of every kind is refused with why=bad-name. */
START_TEST(names_with_nul_inside_are_refused)
{
    static const int kinds[] = {P_HELLO, P_REQ, P_REP, P_MSG, P_SUM};
    struct proto_msg m = sample(kinds[_i]), d;
    uint8_t buf[PROTO_MAXDGRAM];
    size_t len = proto_encode(&m, buf, sizeof buf);
    const char *why = NULL;
    ck_assert_uint_gt(len, 0);
    /* header: 'R' 'A' ver kind | boot u32 | 5 "alice" | lc u64: the sender's name is at 9..13 */
    ck_assert_int_eq(buf[8], 5);
    buf[10] = '\0';
    ck_assert_int_lt(proto_decode(buf, len, &d, &why), 0);
    ck_assert_str_eq(why, "bad-name");
    buf[10] = 'l';
    ck_assert_int_eq(proto_decode(buf, len, &d, &why), (int)len);
    /* the first name of the body: REQ's missing list, REP's to, MSG's author, SUM's entry */
    size_t at = 22 + (kinds[_i] == P_REQ ? 5 : kinds[_i] == P_REP ? 8 : kinds[_i] == P_SUM);
    if (kinds[_i] == P_HELLO)
        return;
    ck_assert_int_ge(buf[at], 2);
    buf[at + 2] = '\0';
    ck_assert_int_lt(proto_decode(buf, len, &d, &why), 0);
    ck_assert_str_eq(why, "bad-name");
}
END_TEST

START_TEST(lists_at_the_limit)
{
    struct proto_msg m = sample(P_SUM), d;
    uint8_t buf[PROTO_MAXDGRAM];
    m.nsum = PROTO_MAXLIST;
    for (int i = 0; i < m.nsum; i++) {
        snprintf(m.sum[i].name, sizeof m.sum[i].name, "member%02d", i & 63);
        m.sum[i].prefix = (uint32_t)i, m.sum[i].max = (uint32_t)i * 2;
    }
    size_t len = proto_encode(&m, buf, sizeof buf);
    const char *why;
    ck_assert_uint_gt(len, 0);
    ck_assert_int_eq(proto_decode(buf, len, &d, &why), (int)len);
    ck_assert_int_eq(d.nsum, PROTO_MAXLIST);
    ck_assert_str_eq(d.sum[63].name, "member63");
    m.nsum = PROTO_MAXLIST + 1;
    ck_assert_uint_eq(proto_encode(&m, buf, sizeof buf), 0);
    ck_assert_uint_eq(proto_encode(&m, buf, 10), 0); /* no room */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("proto");
    TCase *tc = tcase_create("codec");
    tcase_set_timeout(tc, 10);
    tcase_add_loop_test(tc, roundtrip_every_kind, 0, 5);
    tcase_add_test(tc, every_truncation_is_rejected);
    tcase_add_test(tc, malformed);
    tcase_add_test(tc, text_and_names);
    tcase_add_test(tc, lists_at_the_limit);
    tcase_add_loop_test(tc, names_with_nul_inside_are_refused, 0, 5);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
