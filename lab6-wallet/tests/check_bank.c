/* check_bank.c - the transfer rules, idempotency and key rotation, with a fake clock. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "bank.h"

#define SA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SB "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define T0 1000000 /* the fake clock: seconds, a multiple of the rotation period */

static struct bank b;

static void setup(void)
{
    bank_init(&b, 10, 100, (const uint64_t[2]){42, 43});
    ck_assert_int_eq(bank_register(&b, "alice", SA), 0);
    ck_assert_int_eq(bank_register(&b, "bob", SB), 1);
}

static void teardown(void)
{
    bank_free(&b);
}

static const char *key(int idx, long long now)
{
    static char k[BANK_KEY_LEN + 1];
    bank_key(&b, idx, bank_epoch(&b, now), k);
    return k;
}

static int send(const char *from, const char *secret, const char *reqid, const char *to_key,
                long long cents, long long now, struct bank_tx *tx)
{
    int rc = bank_prepare(&b, from, secret, reqid, to_key, cents, now, tx);
    if (rc == 0)
        ck_assert_int_eq(bank_apply(&b, tx), 0);
    return rc;
}

START_TEST(transfer_moves_money)
{
    struct bank_tx tx;
    ck_assert_int_eq(send("alice", SA, "r1", key(1, T0), 250, T0, &tx), 0);
    ck_assert_int_eq(tx.tx, 1);
    ck_assert_int_eq(tx.to, 1);
    ck_assert_int_eq(b.w[0].cents, BANK_START_CENTS - 250);
    ck_assert_int_eq(b.w[1].cents, BANK_START_CENTS + 250);
    ck_assert_int_eq(bank_total(&b), 2 * BANK_START_CENTS);
    ck_assert_int_eq(send("bob", SB, "r1", key(0, T0), 5, T0, &tx), 0);
    ck_assert_int_eq(tx.tx, 2); /* ids follow the ledger order, whoever sends */
}
END_TEST

START_TEST(rules)
{
    struct bank_tx tx;
    ck_assert_int_eq(send("alice", SB, "r1", key(1, T0), 1, T0, &tx), BK_SECRET);
    ck_assert_int_eq(send("carol", SA, "r1", key(1, T0), 1, T0, &tx), BK_SECRET);
    ck_assert_int_eq(send("alice", SA, "r1", key(0, T0), 1, T0, &tx), BK_SELF);
    ck_assert_int_eq(send("alice", SA, "r1", "0123456789abcdef", 1, T0, &tx), BK_UNKNOWN_KEY);
    ck_assert_int_eq(send("alice", SA, "r1", key(1, T0), BANK_START_CENTS + 1, T0, &tx), BK_FUNDS);
    ck_assert_int_eq(b.w[0].cents, BANK_START_CENTS); /* nothing moved */
    ck_assert_int_eq(send("alice", SA, "r1", key(1, T0), BANK_START_CENTS, T0, &tx), 0);
    ck_assert_int_eq(b.w[0].cents, 0); /* down to zero is fine, never below */
    ck_assert_int_eq(send("alice", SA, "r2", key(1, T0), 1, T0, &tx), BK_FUNDS);
}
END_TEST

START_TEST(retry_is_idempotent)
{
    struct bank_tx tx, again;
    ck_assert_int_eq(send("alice", SA, "r1", key(1, T0), 100, T0, &tx), 0);
    ck_assert_int_eq(send("alice", SA, "r1", key(1, T0), 100, T0, &again), 0);
    ck_assert(again.dup);
    ck_assert_int_eq(again.tx, tx.tx);
    ck_assert_int_eq(again.from_after, tx.from_after);
    ck_assert_int_eq(b.w[0].cents, BANK_START_CENTS - 100); /* applied once */
    /* the same id for another transfer is refused, not applied */
    ck_assert_int_eq(send("alice", SA, "r1", key(1, T0), 7, T0, &again), BK_REQID);
    /* a retry after the key rotated still gets its first answer */
    ck_assert_int_eq(send("alice", SA, "r1", key(1, T0), 100, T0 + 25, &again), 0);
    ck_assert(again.dup);
    /* request ids are per sender: bob may use r1 too */
    ck_assert_int_eq(send("bob", SB, "r1", key(0, T0), 100, T0, &again), 0);
    ck_assert(!again.dup);
}
END_TEST

START_TEST(rotation_with_fake_clock)
{
    char k0[BANK_KEY_LEN + 1];
    struct bank_tx tx;
    snprintf(k0, sizeof k0, "%s", key(1, T0));
    ck_assert_int_eq(bank_expires_in(&b, T0), 10);
    ck_assert_int_eq(bank_expires_in(&b, T0 + 9), 1);
    ck_assert_int_eq(bank_lookup_key(&b, k0, T0 + 9), 1); /* same epoch: still valid */
    ck_assert_int_eq(bank_lookup_key(&b, k0, T0 + 10), BK_EXPIRED_KEY);
    ck_assert_str_ne(key(1, T0 + 10), k0);
    ck_assert_int_eq(bank_lookup_key(&b, key(1, T0 + 10), T0 + 10), 1);
    ck_assert_int_eq(send("alice", SA, "r1", k0, 5, T0 + 10, &tx), BK_EXPIRED_KEY);
    ck_assert_int_eq(send("alice", SA, "r2", key(1, T0 + 10), 5, T0 + 10, &tx), 0);
    /* far in the past: no longer told apart from a key that never was */
    ck_assert_int_eq(bank_lookup_key(&b, k0, T0 + 10 * (BANK_KEY_HISTORY + 2)), BK_UNKNOWN_KEY);
    /* a key names one wallet: alice's and bob's differ */
    ck_assert_str_ne(key(0, T0), k0);
}
END_TEST

START_TEST(master_changes_keys)
{
    struct bank other;
    char a[BANK_KEY_LEN + 1], o[BANK_KEY_LEN + 1];
    bank_init(&other, 10, 100, (const uint64_t[2]){7, 8});
    ck_assert_int_eq(bank_register(&other, "alice", SA), 0);
    bank_key(&b, 0, 5, a);
    bank_key(&other, 0, 5, o);
    ck_assert_str_ne(a, o);
    bank_free(&other);
}
END_TEST

START_TEST(registration)
{
    ck_assert_int_eq(bank_register(&b, "alice", SB), BK_NAME_TAKEN);
    ck_assert_int_eq(bank_find(&b, "bob"), 1);
    ck_assert_int_eq(bank_find(&b, "nobody"), BK_NO_WALLET);
    ck_assert_int_eq(bank_auth(&b, "bob", SB), 1);
    ck_assert_int_eq(bank_auth(&b, "bob", SA), BK_SECRET);
    for (int i = 2; i < 100; i++) {
        char name[16];
        snprintf(name, sizeof name, "w%d", i);
        ck_assert_int_eq(bank_register(&b, name, SA), i);
    }
    ck_assert_int_eq(bank_register(&b, "one-more", SA), BK_FULL);
    ck_assert_int_eq(bank_total(&b), 100LL * BANK_START_CENTS);
}
END_TEST

START_TEST(replay_rules)
{
    ck_assert_int_eq(bank_replay(&b, 1, "alice", "bob", 300, "r1"), 0);
    ck_assert_int_eq(b.w[1].cents, BANK_START_CENTS + 300);
    ck_assert_int_eq(bank_replay(&b, 2, "alice", "bob", 300, "r1"), BK_REQID);
    ck_assert_int_eq(bank_replay(&b, 2, "alice", "zed", 1, "r2"), BK_NO_WALLET);
    ck_assert_int_eq(bank_replay(&b, 2, "alice", "bob", 999999, "r3"), BK_FUNDS);
    ck_assert_int_eq(b.next_tx, 2);
    /* a ledger is input too: the id must be the next one, the amount in range */
    ck_assert_int_eq(bank_replay(&b, LLONG_MAX, "alice", "bob", 1, "r4"), BK_TX_ORDER);
    ck_assert_int_eq(bank_replay(&b, 3, "alice", "bob", 1, "r4"), BK_TX_ORDER);
    ck_assert_int_eq(bank_replay(&b, 1, "alice", "bob", 1, "r4"), BK_TX_ORDER);
    ck_assert_int_eq(bank_replay(&b, 2, "alice", "bob", -5, "r4"), BK_AMOUNT);
    ck_assert_int_eq(bank_replay(&b, 2, "alice", "bob", 0, "r4"), BK_AMOUNT);
    ck_assert_int_eq(bank_replay(&b, 2, "alice", "bob", PROTO_MAX_CENTS + 1, "r4"), BK_AMOUNT);
    ck_assert_int_eq(bank_replay(&b, 2, "alice", "alice", 1, "r4"), BK_SELF);
    ck_assert_int_eq(b.next_tx, 2);
    ck_assert_int_eq(bank_total(&b), 2 * BANK_START_CENTS);
    ck_assert_int_eq(bank_replay(&b, 2, "alice", "bob", 1, "r4"), 0);
    ck_assert_int_eq(b.next_tx, 3);
}
END_TEST

/* Only SHA-256(secret) is kept: FIPS 180-4's "abc" vector, and the wallet holds the hash. */
START_TEST(secrets_are_kept_as_hashes)
{
    uint8_t h[BANK_HASH_LEN];
    bank_hash_secret("abc", h);
    ck_assert_int_eq(h[0], 0xba);
    ck_assert_int_eq(h[31], 0xad);
    bank_hash_secret(SA, h);
    ck_assert_mem_eq(b.w[0].secret_hash, h, BANK_HASH_LEN);
    ck_assert_int_eq(bank_register_hashed(&b, "carol", h), 2);
    ck_assert_int_eq(bank_auth(&b, "carol", SA), 2);
    ck_assert_int_eq(bank_auth(&b, "carol", SB), BK_SECRET);
    ck_assert_int_eq(bank_auth(&b, "nobody", SA), BK_NO_WALLET);
}
END_TEST

START_TEST(error_tokens)
{
    int code;
    ck_assert_str_eq(bank_err_token(BK_EXPIRED_KEY, &code), "expired-key");
    ck_assert_int_eq(code, 410);
    ck_assert_str_eq(bank_err_token(BK_SECRET, &code), "wrong-secret");
    ck_assert_int_eq(code, 403);
    ck_assert_str_eq(bank_err_token(BK_FUNDS, &code), "insufficient-funds");
    ck_assert_int_eq(code, 402);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bank");
    TCase *t = tcase_create("bank");
    tcase_set_timeout(t, 10);
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, transfer_moves_money);
    tcase_add_test(t, rules);
    tcase_add_test(t, retry_is_idempotent);
    tcase_add_test(t, rotation_with_fake_clock);
    tcase_add_test(t, master_changes_keys);
    tcase_add_test(t, registration);
    tcase_add_test(t, replay_rules);
    tcase_add_test(t, secrets_are_kept_as_hashes);
    tcase_add_test(t, error_tokens);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
