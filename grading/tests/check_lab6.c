/* check_lab6.c - lab6-wallet's checkers on hand-made logs: each good log passes, each bad
 * log fails with the property it breaks. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grader.h"
#include "tests/testlog.h"

#define ASSERT_FAILS(v, want, text)                                                                \
    do {                                                                                           \
        ck_assert_int_eq((v).kind, want);                                                          \
        ck_assert_msg(strstr((v).msg, text), "want \"%s\" in: %s", text, (v).msg);                 \
    } while (0)

/* Two wallets; c1 pays c2 100 (tx 1) and 50 (tx 2); the server prints final balances. */
static void two_wallets(long long c1, long long c2)
{
    char line[128];
    run_reset(3);
    add("node=1 ev=ack req=c1-1 tx=1 from=c1 to=c2 cents=100 t=10");
    add("node=1 ev=ack req=c1-2 tx=2 from=c1 to=c2 cents=50 t=11");
    add("node=2 ev=done t=12");
    snprintf(line, sizeof line, "node=0 ev=wallet name=c1 cents=%lld t=20", c1);
    add(line);
    snprintf(line, sizeof line, "node=0 ev=wallet name=c2 cents=%lld t=20", c2);
    add(line);
    add("node=0 ev=stats wallets=2 t=21");
}

START_TEST(conserved_passes)
{
    two_wallets(9850, 10150);
    struct verdict v = check("conserved-50");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
}
END_TEST

START_TEST(lost_update_names_the_wallet)
{
    two_wallets(9850, 10100); /* c2's +50 was overwritten: the total is off too */
    struct verdict v = check("conserved-50");
    ASSERT_FAILS(v, V_SAFETY, "lost update: wallet c2 holds 10100");
}
END_TEST

START_TEST(retry_acked_twice_passes)
{
    two_wallets(9850, 10150);
    add("node=1 ev=ack req=c1-2 tx=2 from=c1 to=c2 cents=50 dup=1 t=13");
    struct verdict v = check("conserved-50");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
}
END_TEST

START_TEST(same_id_for_two_transfers_fails)
{
    two_wallets(9850, 10150);
    add("node=2 ev=ack req=c2-1 tx=2 from=c2 to=c1 cents=0 t=13");
    struct verdict v = check("conserved-50");
    ASSERT_FAILS(v, V_SAFETY, "same id tx=2");
}
END_TEST

START_TEST(applied_twice_fails)
{
    two_wallets(9800, 10200);
    add("node=1 ev=ack req=c1-2 tx=3 from=c1 to=c2 cents=50 t=13");
    struct verdict v = check("conserved-50");
    ASSERT_FAILS(v, V_SAFETY, "request c1-2 was applied twice");
}
END_TEST

START_TEST(negative_balance_fails)
{
    run_reset(2);
    add("node=1 ev=ack req=a tx=1 from=c1 to=c2 cents=10000 t=10");
    add("node=1 ev=ack req=b tx=2 from=c1 to=c2 cents=5 t=11");
    add("node=0 ev=wallet name=c1 cents=-5 t=20");
    add("node=0 ev=wallet name=c2 cents=20005 t=20");
    add("node=0 ev=stats t=21");
    struct verdict v = check("conserved-50");
    ASSERT_FAILS(v, V_SAFETY, "wallet c1 goes to -5 cents at tx=2");
}
END_TEST

START_TEST(money_created_fails)
{
    run_reset(2);
    add("node=1 ev=done t=1");
    add("node=0 ev=wallet name=c1 cents=10000 t=20");
    add("node=0 ev=wallet name=c2 cents=10001 t=20");
    add("node=0 ev=stats t=21");
    struct verdict v = check("conserved-50");
    ASSERT_FAILS(v, V_SAFETY, "wallet c2 holds 10001");
}
END_TEST

START_TEST(no_dump_is_liveness)
{
    run_reset(2);
    add("node=1 ev=ack req=a tx=1 from=c1 to=c2 cents=1 t=10");
    struct verdict v = check("conserved-50");
    ASSERT_FAILS(v, V_LIVENESS, "printed no balances");
}
END_TEST

/* The crash test: acks tx 1 before the crash at t=100, tx 2 after the restart at t=200. */
static void crash_log(const char *replayed, bool torn)
{
    run_reset(2);
    R.applied[0] = (struct applied_fault){100, F_CRASH, 0};
    R.applied[1] = (struct applied_fault){150, F_CALL, 0};
    R.applied[2] = (struct applied_fault){200, F_RESTART, 0};
    R.napplied = 3;
    add("node=1 ev=ack req=a tx=1 from=c1 to=c2 cents=100 t=50");
    add("node=1 ev=ack req=b tx=2 from=c1 to=c2 cents=100 t=300");
    add_life("node=0 ev=replayed n=1 transfers=0 t=1", 0);
    if (torn)
        add_life("node=0 ev=torn offset=200 bytes=37 t=210", 1);
    add_life(replayed, 1);
    add_life("node=0 ev=wallet name=c1 cents=9800 t=400", 1);
    add_life("node=0 ev=wallet name=c2 cents=10200 t=400", 1);
    add_life("node=0 ev=stats t=401", 1);
}

START_TEST(crash_passes)
{
    crash_log("node=0 ev=replayed n=4 transfers=1 t=211", true);
    struct verdict v = check("crash-restart");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
}
END_TEST

START_TEST(crash_lost_ack_fails)
{
    crash_log("node=0 ev=replayed n=3 transfers=0 t=211", true);
    struct verdict v = check("crash-restart");
    ASSERT_FAILS(v, V_SAFETY,
                 "durability: transfer tx=1 was acknowledged before the server was killed");
}
END_TEST

START_TEST(crash_torn_unreported_fails)
{
    crash_log("node=0 ev=replayed n=4 transfers=1 t=211", false);
    struct verdict v = check("crash-restart");
    ASSERT_FAILS(v, V_SAFETY, "did not report it with ev=torn");
}
END_TEST

/* crash-at-write reads the same log: the kill is the backstop F_CRASH (the server died
 * earlier, at its write); a lost acknowledged transfer fails it the same way. */
START_TEST(at_write_passes)
{
    crash_log("node=0 ev=replayed n=4 transfers=1 t=211", true);
    struct verdict v = check("crash-at-write");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
    ck_assert_msg(strstr(R.info, "retry after the restart did not run"), "%s", R.info);
}
END_TEST

START_TEST(at_write_lost_ack_fails)
{
    crash_log("node=0 ev=replayed n=3 transfers=0 t=211", true);
    struct verdict v = check("crash-at-write");
    ASSERT_FAILS(v, V_SAFETY, "durability: transfer tx=1 was acknowledged before the server");
}
END_TEST

/* A second restart (life 2) that lost tx 2, acknowledged before it replayed. */
START_TEST(at_write_second_life_lost_fails)
{
    crash_log("node=0 ev=replayed n=4 transfers=1 t=211", true);
    add_life("node=0 ev=replayed n=4 transfers=1 t=350", 2);
    struct verdict v = check("crash-at-write");
    ASSERT_FAILS(v, V_SAFETY,
                 "tx=2 was acknowledged before the server was killed but the "
                 "restarted server (life 2) replayed only 1");
}
END_TEST

static void rotation_log(const char *second_key_of_ack)
{
    char line[160];
    run_reset(3);
    add("node=2 ev=key name=c1 key=k1 expires_in=2 t=10");
    add("node=2 ev=refused req=r1 why=expired-key code=410 key=k1 cents=100 t=3000");
    add("node=2 ev=key name=c1 key=k2 expires_in=3 t=3001");
    snprintf(line, sizeof line, "node=2 ev=ack req=r2 tx=1 from=c2 to=c1 cents=100 key=%s t=3002",
             second_key_of_ack);
    add(line);
    add("node=0 ev=wallet name=c1 cents=10100 t=4000");
    add("node=0 ev=wallet name=c2 cents=9900 t=4000");
    add("node=0 ev=stats t=4001");
}

START_TEST(rotation_passes)
{
    rotation_log("k2");
    struct verdict v = check("key-rotation");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
}
END_TEST

START_TEST(old_key_accepted_fails)
{
    rotation_log("k1");
    struct verdict v = check("key-rotation");
    ASSERT_FAILS(v, V_SAFETY, "old key of c1 was accepted");
}
END_TEST

START_TEST(old_key_not_refused_fails)
{
    run_reset(3);
    add("node=2 ev=key name=c1 key=k1 expires_in=2 t=10");
    add("node=2 ev=refused req=r1 why=unknown-key code=404 key=k1 cents=100 t=3000");
    add("node=0 ev=wallet name=c1 cents=10000 t=4000");
    add("node=0 ev=stats t=4001");
    struct verdict v = check("key-rotation");
    ASSERT_FAILS(v, V_SAFETY, "was not refused with expired-key");
}
END_TEST

START_TEST(secret_without_owner_transfer_fails)
{
    two_wallets(9850, 10150);
    add("node=0 ev=bad why=wrong-secret t=5");
    struct verdict v = check("wrong-secret");
    ASSERT_FAILS(v, V_SAFETY, "owner's own transfer");
}
END_TEST

static const char *all_bad[] = {"bad-amount",    "bad-amount",    "bad-amount",   "bad-amount",
                                "unknown-key",   "self-transfer", "wrong-secret", "bad-command",
                                "line-too-long", "binary",        "partial-line", "expired-key",
                                "server-full"};

static void bad_log(int skip)
{
    char line[128];
    two_wallets(9850, 10150);
    for (int k = 0; k < (int)(sizeof all_bad / sizeof *all_bad); k++) {
        if (k == skip)
            continue;
        snprintf(line, sizeof line, "node=0 ev=bad why=%s t=5", all_bad[k]);
        add(line);
    }
}

START_TEST(bad_input_passes)
{
    bad_log(-1);
    struct verdict v = check("bad-input");
    ck_assert_msg(v.kind == V_PASS, "%s", v.msg);
}
END_TEST

START_TEST(bad_input_unlogged_fails)
{
    bad_log(10);
    struct verdict v = check("bad-input");
    ASSERT_FAILS(v, V_SAFETY, "0 ev=bad why=partial-line");
}
END_TEST

/* No injector ran here (setup reset its record): as if the new client was never served. */
START_TEST(slowloris_unserved_fails)
{
    two_wallets(9850, 10150);
    struct verdict v = check("slowloris");
    ASSERT_FAILS(v, V_SAFETY, "nobody locked out: a new client tried 0 times");
}
END_TEST

START_TEST(name_probe_not_run_is_harness)
{
    two_wallets(9850, 10150);
    struct verdict v = check("name-probe");
    ASSERT_FAILS(v, V_HARNESS, "the name probe did not run");
}
END_TEST

START_TEST(table_points_sum_to_100)
{
    int sum = 0;
    for (int l = 0; l < g_nlabs; l++)
        for (int t = 0; strcmp(g_labs[l]->dir, "lab6-wallet") == 0 && t < g_labs[l]->ntests; t++)
            sum += g_labs[l]->tests[t].points;
    ck_assert_int_eq(sum, 100);
}
END_TEST

int main(void)
{
    tl_lab = "lab6-wallet";
    tl_setup = true;
    Suite *s = suite_create("lab6");
    TCase *t = tcase_create("checkers");
    tcase_add_test(t, conserved_passes);
    tcase_add_test(t, lost_update_names_the_wallet);
    tcase_add_test(t, retry_acked_twice_passes);
    tcase_add_test(t, same_id_for_two_transfers_fails);
    tcase_add_test(t, applied_twice_fails);
    tcase_add_test(t, negative_balance_fails);
    tcase_add_test(t, money_created_fails);
    tcase_add_test(t, no_dump_is_liveness);
    tcase_add_test(t, crash_passes);
    tcase_add_test(t, crash_lost_ack_fails);
    tcase_add_test(t, crash_torn_unreported_fails);
    tcase_add_test(t, at_write_passes);
    tcase_add_test(t, at_write_lost_ack_fails);
    tcase_add_test(t, at_write_second_life_lost_fails);
    tcase_add_test(t, rotation_passes);
    tcase_add_test(t, old_key_accepted_fails);
    tcase_add_test(t, old_key_not_refused_fails);
    tcase_add_test(t, secret_without_owner_transfer_fails);
    tcase_add_test(t, bad_input_passes);
    tcase_add_test(t, bad_input_unlogged_fails);
    tcase_add_test(t, slowloris_unserved_fails);
    tcase_add_test(t, name_probe_not_run_is_harness);
    tcase_add_test(t, table_points_sum_to_100);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    run_reset(0);
    return failed ? 1 : 0;
}
