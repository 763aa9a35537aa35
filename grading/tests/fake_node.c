/* fake_node.c - a stand-in node whose misbehaviour is chosen by its argument, to test the harness. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig, stop = 1; }

/* Until SIGTERM. Not `while (!stop) pause();`: a SIGTERM between the test and pause() is lost
 * and the node never exits (a TSan CI run hit it: "did not exit within 5.0s of SIGTERM"). */
static void wait_for_term(void)
{
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, &old);
    while (!stop)
        sigsuspend(&old);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 2 ? argv[2] : "good";
    const char *id = argc > 1 ? argv[1] : "0";
    struct sigaction sa = {.sa_handler = on_term}; /* no SA_RESTART: fgets returns */
    sigemptyset(&sa.sa_mask);
    if (strcmp(mode, "stubborn") == 0)
        sa.sa_handler = SIG_IGN; /* ignores SIGTERM: the harness must SIGKILL it */
    sigaction(SIGTERM, &sa, NULL);
    if (strcmp(mode, "silent") != 0)
        printf("node=%s ev=ready pid=%d\n", id, (int)getpid());
    if (strcmp(mode, "segv") == 0) {
        fflush(stdout);
        raise(SIGSEGV);
    }
    if (strncmp(mode, "echo", 4) == 0) { /* "echo" [extra]: print each stdin line as an event */
        printf("node=%s ev=role mode=%s extra=%s\n", id, mode, argc > 3 ? argv[3] : "-");
        fflush(stdout);
        char line[256];
        while (!stop && fgets(line, sizeof line, stdin)) {
            line[strcspn(line, "\n")] = '\0';
            for (char *p = line; *p; p++)
                if (*p == ' ' || *p == '=')
                    *p = '_';
            printf("node=%s ev=input line=%s\n", id, line);
            fflush(stdout);
        }
        printf("node=%s ev=eof\n", id); /* the grader closes stdin in its stop phase */
        fflush(stdout);
        wait_for_term();
        printf("node=%s ev=stats\n", id);
        return 0;
    }
    /* "stall": one event, then silence without ev=done; "slow": an event every 150 ms, done
     * after 1.8 s; "beats": a background ev=beat every 100 ms, never done. */
    if (strcmp(mode, "stall") == 0 || strcmp(mode, "beats") == 0) {
        printf("node=%s lc=1 ev=local\n", id);
        fflush(stdout);
        struct timespec tick = {0, 100 * 1000 * 1000};
        fflush(stdout);
        while (mode[0] == 'b' && !stop) {
            printf("node=%s ev=beat\n", id);
            fflush(stdout);
            nanosleep(&tick, NULL);
        }
        wait_for_term();
        return 0;
    }
    /* "ops": operations op=1..6 each opened and ended 150 ms later, done after ~1.8 s;
     * "leak": the same, but op=2 never ends while the others go on. */
    if (strcmp(mode, "ops") == 0 || strcmp(mode, "leak") == 0) {
        struct timespec tick = {0, 150 * 1000 * 1000};
        for (int k = 1; k <= 6 && !stop; k++) {
            printf("node=%s ev=start op=%d\n", id, k);
            fflush(stdout);
            nanosleep(&tick, NULL);
            if (k != 2 || mode[0] == 'o')
                printf("node=%s ev=end op=%d\n", id, k);
            fflush(stdout);
            nanosleep(&tick, NULL);
        }
    }
    if (strcmp(mode, "slow") == 0) {
        struct timespec tick = {0, 150 * 1000 * 1000};
        for (int k = 0; k < 12 && !stop; k++) {
            printf("node=%s lc=%d ev=local\n", id, k + 1);
            fflush(stdout);
            nanosleep(&tick, NULL);
        }
    }
    printf("node=%s lc=1 ev=local\nnode=%s ev=done\n", id, id);
    fprintf(stderr, "%s\n", strcmp(mode, "asan") == 0 ? "==1==ERROR: AddressSanitizer: boom" : "hi");
    fflush(stdout);
    wait_for_term();
    printf("node=%s ev=stats\n", id);
    return strcmp(mode, "exit3") == 0 ? 3 : 0;
}
