/* check_store.c - the history (order, duplicates, summaries) and replica reconciliation. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replica.h"
#include "store.h"

static struct chatmsg msg(const char *author, uint32_t seq, uint64_t lts, const char *text)
{
    struct chatmsg m = {.seq = seq, .lts = lts};
    strcpy(m.author, author);
    strcpy(m.text, text);
    return m;
}

START_TEST(order_is_lts_then_author_whatever_the_arrival)
{
    struct store a, b;
    store_init(&a), store_init(&b);
    struct chatmsg m[] = {msg("bob", 1, 5, "x"), msg("al", 1, 5, "y"), msg("al", 2, 9, "z"),
                          msg("cy", 1, 1, "w")};
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(store_add(&a, &m[i]), 1);
    for (int i = 3; i >= 0; i--)
        ck_assert_int_eq(store_add(&b, &m[i]), 1);
    ck_assert_str_eq(a.m[0]->author, "cy");
    ck_assert_str_eq(a.m[1]->author, "al");
    ck_assert_str_eq(a.m[2]->author, "bob");
    ck_assert(store_digest(&a) == store_digest(&b));
    ck_assert_int_eq(store_add(&a, &m[0]), 0); /* duplicate */
    struct chatmsg evil = msg("bob", 1, 5, "other text");
    ck_assert_int_eq(store_add(&a, &evil), -1); /* conflict */
    ck_assert_uint_eq(a.n, 4);
    struct chatmsg more = msg("dee", 1, 2, "v");
    store_add(&b, &more);
    ck_assert(store_digest(&a) != store_digest(&b));
    store_free(&a), store_free(&b);
}
END_TEST

START_TEST(summaries_find_what_is_missing)
{
    struct store a, b;
    store_init(&a), store_init(&b);
    for (uint32_t s = 1; s <= 5; s++) {
        struct chatmsg m = msg("al", s, s * 10, "t");
        store_add(&a, &m);
        if (s != 3)
            store_add(&b, &m); /* b misses al:3 */
    }
    struct proto_sum sa[PROTO_MAXLIST], sb[PROTO_MAXLIST];
    int na = store_summary(&a, sa, PROTO_MAXLIST), nb = store_summary(&b, sb, PROTO_MAXLIST);
    ck_assert_int_eq(na, 1);
    ck_assert_uint_eq(sa[0].prefix, 5);
    ck_assert_uint_eq(sb[0].prefix, 2);
    ck_assert_uint_eq(sb[0].max, 5);
    ck_assert(store_we_lack(&b, sa, na));
    ck_assert(!store_we_lack(&a, sb, nb));
    ck_assert(!store_peer_lacks(sb, nb, store_find(&a, "al", 2)));
    ck_assert(store_peer_lacks(sb, nb, store_find(&a, "al", 3)));
    /* reconcile: a answers b's summary with everything b may lack, b adds it */
    for (size_t i = 0; i < a.n; i++)
        if (store_peer_lacks(sb, nb, a.m[i]))
            store_add(&b, a.m[i]);
    ck_assert(store_digest(&a) == store_digest(&b));
    struct chatmsg other = msg("zed", 1, 1, "new author");
    store_add(&b, &other);
    nb = store_summary(&b, sb, PROTO_MAXLIST);
    ck_assert(store_we_lack(&a, sb, nb));
    ck_assert_uint_eq(store_max_seq(&b, "zed"), 1);
    ck_assert_uint_eq(store_max_seq(&b, "nobody"), 0);
    store_free(&a), store_free(&b);
}
END_TEST

/* Issue 12, section 1: seq 4294967295 (or any absurd jump) is implausible; so is 0. */
START_TEST(absurd_seqs_are_implausible)
{
    struct store s;
    store_init(&s);
    ck_assert(store_seq_ok(&s, "alice", 1));
    ck_assert(store_seq_ok(&s, "alice", STORE_SEQ_WINDOW));
    ck_assert(!store_seq_ok(&s, "alice", STORE_SEQ_WINDOW + 1));
    ck_assert(!store_seq_ok(&s, "alice", 0));
    ck_assert(!store_seq_ok(&s, "alice", 4294967295u));
    struct chatmsg m = msg("alice", 500, 1, "t");
    ck_assert_int_eq(store_add(&s, &m), 1);
    ck_assert(store_seq_ok(&s, "alice", 1)); /* older ones: fine (a resend) */
    ck_assert(store_seq_ok(&s, "alice", 500 + STORE_SEQ_WINDOW));
    ck_assert(!store_seq_ok(&s, "alice", 501 + STORE_SEQ_WINDOW));
    ck_assert(!store_seq_ok(&s, "alice", 4294967295u));
    ck_assert(!store_seq_ok(&s, "bob", 600 + STORE_SEQ_WINDOW)); /* per author */
    store_free(&s);
}
END_TEST

/* Issue 12, section 2: 25,000 forged messages grew the history without limit. With caps, what
 * others make us keep is bounded per author and in total; the owner's own messages never are. */
START_TEST(caps_bound_the_history)
{
    struct store s;
    store_init(&s);
    store_limit(&s, 100, 30, "me");
    char name[16];
    int added = 0, full = 0;
    for (int k = 0; k < 25000; k++) {
        snprintf(name, sizeof name, "f%d", k % 10);
        struct chatmsg m = msg(name, (uint32_t)(k / 10 + 1), (uint64_t)k, "flood");
        int rc = store_add(&s, &m);
        added += rc == 1, full += rc == -3;
    }
    ck_assert_int_eq(added, 100);
    ck_assert_int_eq(full, 25000 - 100);
    ck_assert_uint_eq(s.n, 100);
    for (uint32_t q = 1; q <= 50; q++) { /* the owner: always kept */
        struct chatmsg m = msg("me", q, 100000 + q, "mine");
        ck_assert_int_eq(store_add(&s, &m), 1);
    }
    ck_assert_uint_eq(s.n, 150);
    store_free(&s);
    store_init(&s);
    store_limit(&s, 1000, 30, NULL);
    for (uint32_t q = 1; q <= 40; q++) {
        struct chatmsg m = msg("one", q, q, "x");
        ck_assert_int_eq(store_add(&s, &m), q <= 30 ? 1 : -3);
    }
    ck_assert_uint_eq(store_max_seq(&s, "one"), 30);
    for (int k = 0; k < STORE_MAX_AUTHORS + 5; k++) { /* the author table is bounded too */
        snprintf(name, sizeof name, "a%d", k);
        struct chatmsg m = msg(name, 1, 7, "x");
        ck_assert_int_eq(store_add(&s, &m), k < STORE_MAX_AUTHORS - 1 ? 1 : -3);
    }
    store_free(&s);
}
END_TEST

/* The index: lookups, prefixes and summaries stay right over many authors, arrival orders and
 * gaps (these were linear scans; now they are a hash and a per-author table). */
START_TEST(index_agrees_with_the_history)
{
    struct store s;
    store_init(&s);
    uint64_t x = 12345;
    for (int k = 0; k < 3000; k++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        char name[16];
        snprintf(name, sizeof name, "u%d", (int)(x >> 60));
        struct chatmsg m = msg(name, (uint32_t)((x >> 20) % 400 + 1), (x >> 30) % 5000, "t");
        int rc = store_add(&s, &m);
        ck_assert(rc == 1 || rc == 0 || rc == -1);
    }
    for (size_t i = 0; i < s.n; i++) {
        ck_assert_ptr_eq(store_find(&s, s.m[i]->author, s.m[i]->seq), s.m[i]);
        if (i > 0)
            ck_assert(s.m[i - 1]->lts <= s.m[i]->lts);
    }
    struct proto_sum sum[PROTO_MAXLIST];
    int n = store_summary(&s, sum, PROTO_MAXLIST);
    for (int k = 0; k < n; k++) {
        uint32_t p = 0, max = 0;
        while (store_find(&s, sum[k].name, p + 1))
            p++;
        for (size_t i = 0; i < s.n; i++)
            if (!strcmp(s.m[i]->author, sum[k].name) && s.m[i]->seq > max)
                max = s.m[i]->seq;
        ck_assert_uint_eq(sum[k].prefix, p);
        ck_assert_uint_eq(sum[k].max, max);
    }
    ck_assert_ptr_null(store_find(&s, "u1", 401));
    ck_assert_ptr_null(store_find(&s, "nobody", 1));
    store_free(&s);
}
END_TEST

static char dir[64];

static void mkdir_tmp(void)
{
    strcpy(dir, "/tmp/check_store.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void rm_tmp(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(replicas_agree_then_repair)
{
    mkdir_tmp();
    struct store h;
    store_init(&h);
    struct replica_report r;
    ck_assert(replica_check(dir, 3, &h, 0, 0, &r)); /* no files yet, no messages: agreement */
    for (uint32_t s = 1; s <= 4; s++) {
        struct chatmsg m = msg("al", s, 5 - s, "hello there");
        store_add(&h, &m);
        ck_assert_int_eq(replica_append(dir, 3, &m), 0);
    }
    ck_assert(replica_check(dir, 3, &h, 0, 0, &r));
    ck_assert_uint_eq(r.n, 4);
    /* damage: replica 1 loses its last line and gets a torn one, replica 2 is deleted */
    char p[128];
    snprintf(p, sizeof p, "%s/replica-1.log", dir);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs("4 al 1 hello there\n3 al 2 hello there\n2 al 3 hello there\n1 al 4 hel", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/replica-2.log", dir);
    unlink(p);
    ck_assert(!replica_check(dir, 3, &h, 1, 0, &r));
    ck_assert_int_eq(r.repaired, 2);
    ck_assert_int_eq(r.bad_lines, 1);
    ck_assert(replica_check(dir, 3, &h, 0, 0, &r));
    ck_assert_int_eq(r.repaired, 0);
    /* every replica now holds exactly the history */
    for (int k = 0; k < 3; k++) {
        struct store st;
        store_init(&st);
        snprintf(p, sizeof p, "%s/replica-%d.log", dir, k);
        ck_assert_int_eq(replica_load(p, &st), 0);
        ck_assert(store_digest(&st) == store_digest(&h));
        store_free(&st);
    }
    store_free(&h);
    rm_tmp();
}
END_TEST

START_TEST(replica_garbage_lines)
{
    mkdir_tmp();
    char p[128];
    snprintf(p, sizeof p, "%s/replica-0.log", dir);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs("x al 1 t\n1 al 0 t\n1  1 t\n1 bad!name 1 t\n99999999999999999999999 al 1 t\n"
          "1 al 1 ok\n",
          f);
    fclose(f);
    struct store st;
    store_init(&st);
    ck_assert_int_eq(replica_load(p, &st), 5);
    ck_assert_uint_eq(st.n, 1);
    store_free(&st);
    rm_tmp();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("history");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, order_is_lts_then_author_whatever_the_arrival);
    tcase_add_test(tc, summaries_find_what_is_missing);
    tcase_add_test(tc, replicas_agree_then_repair);
    tcase_add_test(tc, replica_garbage_lines);
    tcase_add_test(tc, absurd_seqs_are_implausible);
    tcase_add_test(tc, caps_bound_the_history);
    tcase_add_test(tc, index_agrees_with_the_history);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
