/* check_node.c - integration: real pownode processes and a real mosquitto on loopback. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "auth.h"
#include "broker.h"
#include "msg.h"

#ifndef POWNODE_BIN
#define POWNODE_BIN "build/pownode"
#endif

#define N 3

static struct broker broker;
static struct proc node[N];
static struct proc odd[2]; /* outsiders (key tests), stopped by teardown if a test fails */

/* Start node i; extra is appended to the common arguments (space-separated). */
static void start_node(int i, int rounds, const char *extra)
{
    char cmd[512], *argv[48];
    snprintf(cmd, sizeof cmd,
             "%s --id %d --port %d --participants %d --difficulty 10 --pause 20 --rounds %d "
             "--init-timeout 30000 --keepalive 2 --seed %d %s",
             POWNODE_BIN, i, broker.port, N, rounds, 100 + i, extra ? extra : "");
    int argc = 0;
    for (char *t = strtok(cmd, " "); t && argc < 47; t = strtok(NULL, " "))
        argv[argc++] = t;
    argv[argc] = NULL;
    ck_assert_int_eq(proc_start(&node[i], argv), 0);
}

/* The value of key in the k-th line (0-based) containing what; "" if none. */
static const char *field(const struct proc *p, const char *what, int k, const char *key)
{
    static char val[128];
    val[0] = '\0';
    const char *s = p->buf;
    for (int i = 0; s && (s = strstr(s, what)); s++, i++) {
        if (i < k)
            continue;
        const char *eol = strchr(s, '\n');
        char want[40];
        snprintf(want, sizeof want, " %s=", key);
        const char *v = strstr(s, want);
        if (!v || (eol && v > eol))
            return val;
        v += strlen(want);
        size_t n = strcspn(v, " \n");
        snprintf(val, sizeof val, "%.*s", (int)(n < sizeof val ? n : sizeof val - 1), v);
        return val;
    }
    return val;
}

/* The end of a node's output, for failure messages (Check cuts long ones). */
static const char *tail(const struct proc *p)
{
    return p->len > 1500 ? p->buf + p->len - 1500 : p->buf;
}

static void stop_all(void)
{
    for (int i = 0; i < N; i++) {
        if (node[i].pid <= 0)
            continue;
        int st = proc_stop(&node[i], false);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "node %d exit status %d", i, st);
        ck_assert_int_eq(proc_count(&node[i], "ev=stats"), 1);
    }
}

static void setup(void)
{
    memset(&broker, 0, sizeof broker);
    ck_assert_msg(broker_start(&broker, NULL) == 0, "cannot start %s", MOSQUITTO_BIN);
}

static void teardown(void)
{
    for (int i = 0; i < N; i++)
        if (node[i].pid > 0)
            proc_stop(&node[i], true);
    for (int i = 0; i < 2; i++)
        if (odd[i].pid > 0)
            proc_stop(&odd[i], true);
    broker_cleanup(&broker);
}

/* Every node's k-th result line names the same tx, winner and nonce. */
static void same_results(int count)
{
    for (int k = 0; k < count; k++) {
        char want[3][128];
        snprintf(want[0], sizeof want[0], "%s", field(&node[0], "ev=result", k, "tx"));
        snprintf(want[1], sizeof want[1], "%s", field(&node[0], "ev=result", k, "winner"));
        snprintf(want[2], sizeof want[2], "%s", field(&node[0], "ev=result", k, "nonce"));
        for (int i = 1; i < N; i++) {
            ck_assert_str_eq(field(&node[i], "ev=result", k, "tx"), want[0]);
            ck_assert_str_eq(field(&node[i], "ev=result", k, "winner"), want[1]);
            ck_assert_str_eq(field(&node[i], "ev=result", k, "nonce"), want[2]);
        }
    }
}

START_TEST(three_nodes_one_leader_same_results)
{
    for (int i = 0; i < N; i++)
        start_node(i, 4, NULL);
    for (int i = 0; i < N; i++)
        ck_assert_msg(proc_wait(&node[i], "ev=done", 1), "node %d never finished:\n%s", i,
                      tail(&node[i]));
    ck_assert_msg(!strncmp(node[0].buf, "node=0 ev=ready", 15), "ev=ready is not first");
    const char *leader = field(&node[0], "ev=leader", 0, "leader");
    ck_assert_str_ne(leader, "");
    char l0[16];
    snprintf(l0, sizeof l0, "%s", leader);
    for (int i = 1; i < N; i++)
        ck_assert_str_eq(field(&node[i], "ev=leader", 0, "leader"), l0);
    int li = atoi(l0);
    for (int i = 0; i < N; i++)
        if (i != li) /* the leader does not mine; the others saw every challenge */
            ck_assert_int_eq(proc_count(&node[i], "ev=challenge"), 4);
    same_results(4);
    stop_all();
}
END_TEST

START_TEST(leader_killed_chain_goes_on)
{
    start_node(0, 8, "--vote 4294967295"); /* node 0 will lead epoch 1 */
    for (int i = 1; i < N; i++)
        start_node(i, 8, NULL);
    ck_assert(proc_wait(&node[1], "ev=result tx=2 ", 1));
    proc_stop(&node[0], true); /* the Last Will fires */
    for (int i = 1; i < N; i++) {
        ck_assert_msg(proc_wait(&node[i], "epoch=2 vote=", 1), "no new leader:\n%s",
                      tail(&node[i]));
        ck_assert_msg(proc_wait(&node[i], "ev=done", 1), "node %d stuck:\n%s", i, tail(&node[i]));
        ck_assert_str_ne(field(&node[i], "ev=leader", 1, "leader"), "0");
    }
    stop_all();
}
END_TEST

START_TEST(broker_restart_reconnects)
{
    for (int i = 0; i < N; i++)
        start_node(i, 6, NULL);
    ck_assert(proc_wait(&node[0], "ev=result tx=2 ", 1));
    broker_stop(&broker);
    ck_assert_int_eq(broker_start(&broker, NULL), 0); /* same port, same config */
    for (int i = 0; i < N; i++) {
        ck_assert_msg(proc_wait(&node[i], "ev=connected", 2), "node %d:\n%s", i, tail(&node[i]));
        ck_assert_msg(proc_wait(&node[i], "ev=done", 1), "node %d:\n%s", i, tail(&node[i]));
    }
    stop_all();
}
END_TEST

/* Issue 12 §1: the json pool reproducer, published on system/init, is longer than any message
 * of ours: every node drops it before parsing (ev=bad why=oversized_payload) and goes on. */
START_TEST(oversized_payload_dropped)
{
    for (int i = 0; i < N; i++)
        start_node(i, 3, NULL);
    for (int i = 0; i < N; i++)
        ck_assert(proc_wait(&node[i], "ev=ready", 1));
    static char s[2048];
    int n = snprintf(s, sizeof s, "{\"a\":\"%0*d\",\"b\":\"\",\"c\":\"\",\"d\":\"YYYYYYY\"}", 1022, 0);
    ck_assert_int_eq(broker_publish(&broker, "system/init", s, (size_t)n, false), 0);
    for (int i = 0; i < N; i++) {
        ck_assert_msg(proc_wait(&node[i], "ev=bad why=oversized_payload topic=system/init", 1),
                      "node %d:\n%s", i, tail(&node[i]));
        ck_assert_msg(proc_wait(&node[i], "ev=done", 1), "node %d:\n%s", i, tail(&node[i]));
    }
    stop_all();
}
END_TEST

/* Issue 12 §2: a 100 KB retained message on a topic every node subscribes to used to end each
 * session right after its SUBACK ("remaining length disagrees"), and the backoff reset on every
 * SUBACK: a reconnect loop. Now it is skipped with a clear ev=bad and the session stays up. */
START_TEST(oversized_retained_skipped)
{
    static char big[100 * 1024];
    memset(big, 'x', sizeof big);
    ck_assert_int_eq(broker_publish(&broker, "system/result", big, sizeof big, true), 0);
    for (int i = 0; i < N; i++)
        start_node(i, 3, NULL);
    for (int i = 0; i < N; i++) {
        ck_assert_msg(
            proc_wait(&node[i], "ev=bad why=oversized_packet topic=system/result from=-1 len=", 1),
            "node %d:\n%s", i, tail(&node[i]));
        ck_assert_msg(proc_wait(&node[i], "ev=done", 1), "node %d:\n%s", i, tail(&node[i]));
        ck_assert_msg(proc_count(&node[i], "ev=connected") == 1 &&
                          proc_count(&node[i], "ev=disconnected") == 0,
                      "node %d reconnected:\n%s", i, tail(&node[i]));
    }
    stop_all();
}
END_TEST

#ifndef MOSQUITTO_PASSWD_BIN
#define MOSQUITTO_PASSWD_BIN "/usr/bin/mosquitto_passwd"
#endif

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* The broker's own security (issue 12 §3): a password_file and an ACL. The nodes log in with
 * --user and --password-file; a stranger without an account cannot even connect, so cannot
 * publish anything; a node with a wrong password exits 1 and says why. */
START_TEST(broker_login_and_acl)
{
    const char *d = broker_dir(&broker);
    write_file(d, "passwd", "pownode:s3cret\n");
    write_file(d, "secret", "s3cret\n");
    write_file(d, "wrong", "guess\n");
    write_file(d, "acl", "user pownode\ntopic readwrite system/#\n");
    char path[512], out[4096], err[4096], extra[1024];
    snprintf(path, sizeof path, "%s/passwd", d);
    char *hash[] = {MOSQUITTO_PASSWD_BIN, "-U", path, NULL}; /* plain text to hashes */
    ck_assert_int_eq(run_collect(hash, out, sizeof out, err, sizeof err), 0);
    snprintf(extra, sizeof extra, "allow_anonymous false\npassword_file %s/passwd\n"
             "acl_file %s/acl\n", d, d);
    broker_stop(&broker);
    ck_assert_int_eq(broker_start(&broker, extra), 0);
    char login[600];
    snprintf(login, sizeof login, "--user pownode --password-file %s/secret", d);
    for (int i = 0; i < N; i++)
        start_node(i, 3, login);
    for (int i = 0; i < N; i++)
        ck_assert_msg(proc_wait(&node[i], "ev=done", 1), "node %d:\n%s", i, tail(&node[i]));
    const char *forged = "{\"type\": \"init\", \"node\": 666}";
    ck_assert_int_eq(broker_publish(&broker, "system/init", forged, strlen(forged), false), -1);
    char wrong[600], port[16];
    snprintf(wrong, sizeof wrong, "%s/wrong", d);
    snprintf(port, sizeof port, "%d", broker.port);
    char *bad[] = {POWNODE_BIN, "--id", "9", "--port", port, "--user", "pownode",
                   "--password-file", wrong, NULL};
    int st = run_collect(bad, out, sizeof out, err, sizeof err);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d: %s", st, err);
    ck_assert_msg(strstr(err, "bad user name or password") || strstr(err, "not authorized"),
                  "%s", err);
    stop_all();
}
END_TEST

/* --key (README "Group key"): key files in the broker's temp dir; returns the path of name. */
static const char *key_path(const char *name, int byte)
{
    static char path[2][512];
    static int k;
    char *p = path[k++ % 2];
    snprintf(p, 512, "%s/%s", broker_dir(&broker), name);
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 32; i++)
        fputc(byte + i, f);
    ck_assert_int_eq(fclose(f), 0);
    return p;
}

/* json signed with the bytes byte, byte+1, ... (as key_path writes them) at stamp, published. */
static void publish_signed(int byte, const char *topic, const char *json, uint64_t stamp)
{
    uint8_t raw[32];
    for (int i = 0; i < 32; i++)
        raw[i] = (uint8_t)(byte + i);
    struct hmac_sha256 k;
    hmac_sha256_init(&k, raw, sizeof raw);
    char buf[MSG_MAX_PAYLOAD];
    snprintf(buf, sizeof buf, "%s", json);
    size_t len = auth_sign(&k, topic, buf, strlen(buf), sizeof buf, stamp);
    ck_assert_uint_gt(len, 0);
    ck_assert_int_eq(broker_publish(&broker, topic, buf, len, false), 0);
}

static void publish_plain(const char *topic, const char *json)
{
    ck_assert_int_eq(broker_publish(&broker, topic, json, strlen(json), false), 0);
}

/* Nodes 0-2 hold the group key. Node 7 holds another key and node 8 none: both are real
 * pownodes publishing on the same topics, and never heard. Forged messages without the key
 * (a vote, a challenge and a result in the leader's name), one with a wrong key, a replayed
 * and a stale one with the right key: all refused, with the reason. */
START_TEST(key_group_ignores_outsiders)
{
    char arg[600];
    snprintf(arg, sizeof arg, "--key %s", key_path("group.key", 'a'));
    for (int i = 0; i < N; i++)
        start_node(i, 8, arg);
    char port[16], *wrong_key = (char *)key_path("wrong.key", 'A');
    snprintf(port, sizeof port, "%d", broker.port);
    char *argv7[] = {POWNODE_BIN, "--id", "7", "--port", port, "--participants", "1",
                     "--difficulty", "8", "--pause", "50", "--key", wrong_key, NULL};
    char *argv8[] = {POWNODE_BIN, "--id", "8", "--port", port, "--participants", "1",
                     "--difficulty", "8", "--pause", "50", NULL};
    ck_assert_int_eq(proc_start(&odd[0], argv7), 0);
    ck_assert_int_eq(proc_start(&odd[1], argv8), 0);
    ck_assert(proc_wait(&odd[0], "ev=challenge", 1)); /* both lead themselves and publish */
    ck_assert(proc_wait(&odd[1], "ev=challenge", 1));
    ck_assert(proc_wait(&node[0], "ev=leader", 1));
    char lead[16];
    snprintf(lead, sizeof lead, "%s", field(&node[0], "ev=leader", 0, "leader"));
    char forged[3][256];
    snprintf(forged[0], sizeof forged[0],
             "{\"type\": \"vote\", \"node\": 666, \"epoch\": 2, \"value\": 4294967295}");
    snprintf(forged[1], sizeof forged[1],
             "{\"type\": \"challenge\", \"node\": %s, \"epoch\": 1, \"tx\": 900, "
             "\"difficulty\": 1, \"data\": \"forged\"}", lead);
    snprintf(forged[2], sizeof forged[2],
             "{\"type\": \"result\", \"node\": %s, \"epoch\": 1, \"tx\": 1, \"difficulty\": 1, "
             "\"nonce\": 1, \"winner\": 666, \"data\": \"forged\"}", lead);
    publish_plain(TOPIC_VOTE, forged[0]);
    publish_plain(TOPIC_CHALLENGE, forged[1]);
    publish_plain(TOPIC_RESULT, forged[2]);
    publish_signed('A', TOPIC_RESULT, forged[2], auth_wall_us()); /* another key */
    const char *leave = "{\"type\": \"leave\", \"node\": 555}"; /* harmless: 555 is unknown */
    uint64_t now = auth_wall_us();
    publish_signed('a', TOPIC_LEAVE, leave, now);
    publish_signed('a', TOPIC_LEAVE, leave, now); /* the same again: a replay */
    publish_signed('a', TOPIC_RESULT, forged[2], now - AUTH_WINDOW_US - 1000000); /* stale */
    for (int i = 0; i < N; i++) {
        ck_assert_msg(proc_wait(&node[i], "ev=done", 1), "node %d:\n%s", i, tail(&node[i]));
        ck_assert_msg(proc_wait(&node[i], "why=replay topic=system/leave from=555", 1),
                      "node %d:\n%s", i, tail(&node[i]));
        ck_assert_msg(proc_wait(&node[i], "why=stale topic=system/result", 1), "node %d:\n%s",
                      i, tail(&node[i]));
        ck_assert_int_ge(proc_count(&node[i], "why=bad-mac topic=system/vote"), 2);
        ck_assert_int_ge(proc_count(&node[i], "why=bad-mac topic=system/challenge"), 3);
        ck_assert_int_ge(proc_count(&node[i], "why=bad-mac topic=system/result"), 2);
        ck_assert_msg(!strstr(node[i].buf, "=666") && !strstr(node[i].buf, "peer=7 ") &&
                          !strstr(node[i].buf, "peer=8 ") && !strstr(node[i].buf, "leader=7 ") &&
                          !strstr(node[i].buf, "leader=8 ") && !strstr(node[i].buf, "ev=leave"),
                      "node %d believed an outsider:\n%s", i, tail(&node[i]));
        ck_assert_str_eq(field(&node[i], "ev=leader", 0, "leader"), lead);
        ck_assert_int_eq(proc_count(&node[i], "ev=leader"), 1);
    }
    ck_assert(proc_wait(&odd[0], "why=bad-mac", 1));   /* it cannot read the group either */
    ck_assert(proc_wait(&odd[1], "why=needs-key", 1)); /* the group's messages are signed */
    for (int k = 0; k < 2; k++) {
        int st = proc_stop(&odd[k], false);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    stop_all();
}
END_TEST

/* With --key, a late joiner still learns the leader and the open challenge from the retained
 * messages (any age: they are authentic), and a killed leader's Will (signed when it connected)
 * still starts a new election. */
START_TEST(key_retained_and_will)
{
    char arg[600];
    snprintf(arg, sizeof arg, "--participants 2 --key %s --vote 4294967295",
             key_path("group.key", 'a'));
    start_node(0, 0, arg); /* node 0 leads epoch 1 */
    snprintf(arg, sizeof arg, "--participants 2 --key %s", key_path("group.key", 'a'));
    start_node(1, 0, arg);
    ck_assert(proc_wait(&node[1], "ev=result tx=2 ", 1));
    start_node(2, 0, arg); /* late: the retained announcement tells it the leader */
    ck_assert_msg(proc_wait(&node[2], "ev=leader leader=0 epoch=1", 1), "%s", tail(&node[2]));
    ck_assert_msg(proc_wait(&node[2], "ev=result", 1), "%s", tail(&node[2]));
    proc_stop(&node[0], true); /* the Last Will fires */
    for (int i = 1; i < N; i++)
        ck_assert_msg(proc_wait(&node[i], "ev=leave peer=0", 1), "node %d:\n%s", i,
                      tail(&node[i]));
    ck_assert_msg(proc_wait(&node[1], "epoch=2 vote=", 1), "%s", tail(&node[1]));
    ck_assert_int_eq(proc_count(&node[1], "why=bad-mac") + proc_count(&node[2], "why=bad-mac"),
                     0);
    stop_all();
}
END_TEST

START_TEST(command_line)
{
    char out[8192], err[8192];
    char *help[] = {POWNODE_BIN, "--help", NULL};
    int st = run_collect(help, out, sizeof out, err, sizeof err);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ck_assert_ptr_nonnull(strstr(out, "usage: pownode"));
    char *bad[][4] = {{POWNODE_BIN, NULL},
                      {POWNODE_BIN, "--id", "x", NULL},
                      {POWNODE_BIN, "--id", "1", "--threads"},
                      {POWNODE_BIN, "--id", "1", "--bogus"}};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        char *argv[6] = {0};
        memcpy(argv, bad[k], sizeof bad[k]);
        st = run_collect(argv, out, sizeof out, err, sizeof err);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 2, "case %zu: status %d", k, st);
        ck_assert_ptr_nonnull(strstr(err, "usage: pownode"));
        ck_assert_str_eq(out, "");
    }
    char *cheat[] = {POWNODE_BIN, "--id", "1", "--cheat", "lots", NULL};
    st = run_collect(cheat, out, sizeof out, err, sizeof err);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    char *nokey[] = {POWNODE_BIN, "--id", "1", "--key", "/nonexistent/group.key", NULL};
    st = run_collect(nokey, out, sizeof out, err, sizeof err);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    ck_assert_ptr_nonnull(strstr(err, "No such file"));
    char *shortkey[] = {POWNODE_BIN, "--id", "1", "--key", "/dev/null", NULL};
    st = run_collect(shortkey, out, sizeof out, err, sizeof err);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    ck_assert_ptr_nonnull(strstr(err, "too short"));
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("node");
    TCase *tc = tcase_create("processes");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, three_nodes_one_leader_same_results);
    tcase_add_test(tc, leader_killed_chain_goes_on);
    tcase_add_test(tc, broker_restart_reconnects);
    tcase_add_test(tc, oversized_payload_dropped);
    tcase_add_test(tc, oversized_retained_skipped);
    tcase_add_test(tc, broker_login_and_acl);
    tcase_add_test(tc, key_group_ignores_outsiders);
    tcase_add_test(tc, key_retained_and_will);
    suite_add_tcase(s, tc);
    tc = tcase_create("usage");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, command_line);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
