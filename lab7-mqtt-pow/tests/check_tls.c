/* check_tls.c - pownode-tls (make TLS=1) against a Mosquitto TLS listener whose CA and
 * certificate this test makes with the openssl command; a wrong CA must be refused. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker.h"

#ifndef POWNODE_BIN
#define POWNODE_BIN "build/pownode"
#endif
#ifndef POWNODE_TLS_BIN
#define POWNODE_TLS_BIN "build/pownode-tls"
#endif

static struct broker broker;
static char ca[300], wrong[300];

/* Certificates: a CA, a broker certificate it signs for 127.0.0.1, and an unrelated CA. */
static void make_certs(const char *dir)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && "
             "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca "
             "-keyout ca.key -out ca.pem && "
             "openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key "
             "-out server.csr && "
             "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext && "
             "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
             "-extfile san.ext -out server.pem && "
             "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca "
             "-keyout wrong.key -out wrong.pem",
             dir);
    char full[2200];
    snprintf(full, sizeof full, "(%s) >/dev/null 2>&1", cmd);
    ck_assert_msg(system(full) == 0, "openssl could not make the certificates");
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    snprintf(wrong, sizeof wrong, "%s/wrong.pem", dir);
}

static void setup(void)
{
    memset(&broker, 0, sizeof broker);
    /* The first start only makes the temp dir; then certificates, then the TLS listener. */
    ck_assert_int_eq(broker_start(&broker, NULL), 0);
    broker_stop(&broker);
    make_certs(broker_dir(&broker));
    broker.tls_port = free_port();
    char extra[1200];
    const char *d = broker_dir(&broker);
    snprintf(extra, sizeof extra,
             "listener %d 127.0.0.1\ncafile %s/ca.pem\ncertfile %s/server.pem\n"
             "keyfile %s/server.key\n",
             broker.tls_port, d, d, d);
    ck_assert_int_eq(broker_start(&broker, extra), 0);
}

static void teardown(void)
{
    broker_cleanup(&broker);
}

START_TEST(tls_node_mines_with_a_plain_node)
{
    char tport[16], pport[16];
    snprintf(tport, sizeof tport, "%d", broker.tls_port);
    snprintf(pport, sizeof pport, "%d", broker.port);
    char *a0[] = {POWNODE_TLS_BIN,
                  "--id",
                  "0",
                  "--port",
                  tport,
                  "--cafile",
                  ca,
                  "--participants",
                  "2",
                  "--difficulty",
                  "10",
                  "--pause",
                  "20",
                  "--rounds",
                  "3",
                  "--init-timeout",
                  "30000",
                  NULL};
    char *a1[] = {POWNODE_BIN, "--id",           "1",     "--port",  pport, "--participants",
                  "2",         "--difficulty",   "10",    "--pause", "20",  "--rounds",
                  "3",         "--init-timeout", "30000", NULL};
    struct proc p0, p1;
    ck_assert_int_eq(proc_start(&p0, a0), 0);
    ck_assert_int_eq(proc_start(&p1, a1), 0);
    ck_assert_msg(proc_wait(&p0, "ev=done", 1), "TLS node:\n%s", p0.buf);
    ck_assert_msg(proc_wait(&p1, "ev=done", 1), "plain node:\n%s", p1.buf);
    ck_assert_int_eq(proc_count(&p0, "tls=1"), 1);
    ck_assert_int_eq(proc_count(&p1, "tls=0"), 1);
    ck_assert_int_eq(proc_count(&p0, "ev=result"), 3);
    int s0 = proc_stop(&p0, false), s1 = proc_stop(&p1, false);
    ck_assert(WIFEXITED(s0) && WEXITSTATUS(s0) == 0);
    ck_assert(WIFEXITED(s1) && WEXITSTATUS(s1) == 0);
}
END_TEST

START_TEST(wrong_ca_refused_clearly)
{
    char tport[16], out[4096], err[4096];
    snprintf(tport, sizeof tport, "%d", broker.tls_port);
    char *argv[] = {POWNODE_TLS_BIN, "--id", "5", "--port", tport, "--cafile", wrong, NULL};
    int st = run_collect(argv, out, sizeof out, err, sizeof err);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d, stderr: %s", st, err);
    ck_assert_msg(strstr(err, "certificate was refused") != NULL, "stderr: %s", err);
    ck_assert_str_eq(out, ""); /* never ready: no event lines at all */
}
END_TEST

START_TEST(missing_ca_file)
{
    char tport[16], out[4096], err[4096];
    snprintf(tport, sizeof tport, "%d", broker.tls_port);
    char *argv[] = {POWNODE_TLS_BIN,    "--id", "5", "--port", tport, "--cafile",
                    "/nonexistent.pem", NULL};
    int st = run_collect(argv, out, sizeof out, err, sizeof err);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    ck_assert_msg(strstr(err, "cannot load CA file") != NULL, "stderr: %s", err);
}
END_TEST

START_TEST(plain_build_says_make_tls)
{
    char out[4096], err[4096];
    char *argv[] = {POWNODE_BIN, "--id", "5", "--cafile", ca, NULL};
    int st = run_collect(argv, out, sizeof out, err, sizeof err);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    ck_assert_ptr_nonnull(strstr(err, "make TLS=1"));
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("tls");
    TCase *tc = tcase_create("tls");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, tls_node_mines_with_a_plain_node);
    tcase_add_test(tc, wrong_ca_refused_clearly);
    tcase_add_test(tc, missing_ca_file);
    tcase_add_test(tc, plain_build_says_make_tls);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
