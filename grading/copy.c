/* copy.c - grading a student's copy: where the kit is, which lab a directory holds, building it,
 * and where its logs go. */
#define _GNU_SOURCE /* readlink, sigtimedwait, unsetenv */
#include "copy.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Cut the last path component off p in place, if it starts with want_prefix (NULL: any); false
 * when it does not or there is none left. */
static bool cut_last(char *p, const char *want_prefix)
{
    char *slash = strrchr(p, '/');
    if (!slash || slash == p)
        return false;
    if (want_prefix && strncmp(slash + 1, want_prefix, strlen(want_prefix)) != 0)
        return false;
    *slash = '\0';
    return true;
}

int copy_find_root(char *out, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        /* ROOT/grading/build/grade (or build-asan/grade): drop grade, build*, grading. */
        if (cut_last(exe, NULL) && cut_last(exe, "build") && cut_last(exe, "grading") &&
            strlen(exe) < cap) {
            char probe[PATH_MAX + 32];
            struct stat st;
            snprintf(probe, sizeof probe, "%s/common", exe);
            if (stat(probe, &st) == 0 && S_ISDIR(st.st_mode)) {
                snprintf(out, cap, "%s", exe);
                return 0;
            }
        }
    }
    /* Not inside a kit (a copied binary): the current directory, as before. */
    char cwd[PATH_MAX];
    if (!realpath(".", cwd))
        return -1;
    if (strlen(cwd) >= cap)
        return errno = ENAMETOOLONG, -1;
    snprintf(out, cap, "%s", cwd);
    return 0;
}

static const char *base_name(const char *dir, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", dir);
    size_t len = strlen(buf);
    while (len > 1 && buf[len - 1] == '/')
        buf[--len] = '\0';
    const char *slash = strrchr(buf, '/');
    return slash ? slash + 1 : buf;
}

/* "lab1-lamport" names lab1-lamport, and so do "lab1", "lab1-mine", "lab1-alice-v2". */
static bool name_says(const char *base, const struct lab *lab)
{
    size_t k = strcspn(lab->dir, "-");
    return strncmp(base, lab->dir, k) == 0 && (base[k] == '\0' || base[k] == '-');
}

/* Does the Makefile text name lab's program as a path ($(B)/chat, build/chat)? */
static bool makefile_builds(const char *text, const struct lab *lab)
{
    size_t k = strlen(lab->bin);
    for (const char *p = text; (p = strstr(p, lab->bin)) != NULL; p += k) {
        char after = p[k];
        bool word_end =
            !(after == '_' || after == '-' || after == '.' || (after >= 'a' && after <= 'z') ||
              (after >= 'A' && after <= 'Z') || (after >= '0' && after <= '9'));
        if (p > text && p[-1] == '/' && word_end)
            return true;
    }
    return false;
}

static char *read_small(const char *path, size_t max)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

const struct lab *copy_infer_lab(const char *dir, char *why, size_t cap)
{
    char tmp[PATH_MAX];
    const char *base = base_name(dir, tmp, sizeof tmp);
    for (int l = 0; l < g_nlabs; l++)
        if (name_says(base, g_labs[l]))
            return g_labs[l];
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/Makefile", dir);
    char *mk = read_small(path, 256 * 1024);
    const struct lab *found = NULL;
    int nfound = 0;
    for (int l = 0; mk && l < g_nlabs; l++)
        if (makefile_builds(mk, g_labs[l]))
            found = g_labs[l], nfound++;
    free(mk);
    if (nfound == 1)
        return found;
    size_t len =
        (size_t)snprintf(why, cap, "its name %s does not start with a lab's labN- and ", base);
    if (!mk && len < cap)
        len += (size_t)snprintf(why + len, cap - len, "it has no Makefile");
    else if (len < cap)
        len += (size_t)snprintf(why + len, cap - len, "its Makefile builds %s of the programs",
                                nfound ? "several" : "none");
    for (int l = 0; mk && len < cap && l < g_nlabs; l++)
        len += (size_t)snprintf(why + len, cap - len, "%s %s (%s)", l ? "," : "", g_labs[l]->bin,
                                g_labs[l]->dir);
    return NULL;
}

void copy_logs_dir(const char *root, const char *dir, char *out, size_t cap)
{
    uint32_t h = 2166136261u; /* FNV-1a: short, stable, enough to tell copies apart */
    for (const char *s = dir; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    char tmp[PATH_MAX];
    snprintf(out, cap, "%s/grading/logs/%s-%08x", root, base_name(dir, tmp, sizeof tmp), h);
}

/* The last lines of the log, each indented, for a failure message. */
static void log_tail(const char *log, int lines, char *out, size_t cap)
{
    out[0] = '\0';
    char *text = read_small(log, 1 << 20);
    if (!text)
        return;
    size_t len = strlen(text);
    while (len && text[len - 1] == '\n')
        text[--len] = '\0';
    char *start = text + len;
    for (int k = 0; k < lines && start > text;) {
        start--;
        if (*start == '\n' && ++k == lines)
            start++;
    }
    if (start < text)
        start = text;
    size_t o = 0;
    for (char *line = strtok(start, "\n"); line && o + 8 < cap; line = strtok(NULL, "\n"))
        o += (size_t)snprintf(out + o, cap - o, "\n      | %s", line);
    free(text);
}

/* Wait for the build, at most secs; then SIGKILL its process group. 1 on timeout, -1 on error.
 * SIGCHLD is blocked by the caller, so sigtimedwait sleeps until the build ends: no polling. */
static int wait_build(pid_t pid, int secs, int *status)
{
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    struct timespec now, end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += secs;
    for (;;) {
        pid_t w = waitpid(pid, status, WNOHANG);
        if (w == pid)
            return 0;
        if (w < 0 && errno != EINTR)
            return -1;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long left_ns = (end.tv_sec - now.tv_sec) * 1000000000LL + (end.tv_nsec - now.tv_nsec);
        if (left_ns <= 0) {
            kill(-pid, SIGKILL); /* make and the compilers it started */
            while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
            }
            return 1;
        }
        struct timespec left = {(time_t)(left_ns / 1000000000LL), (long)(left_ns % 1000000000LL)};
        sigtimedwait(&chld, NULL, &left);
    }
}

int copy_build(const char *dir, const char *build, const char *log, int timeout_s, char *msg,
               size_t cap)
{
    const char *san = strcmp(build, "build") == 0        ? NULL
                      : strcmp(build, "build-asan") == 0 ? "SAN=asan"
                      : strcmp(build, "build-tsan") == 0 ? "SAN=tsan"
                                                         : "";
    if (san && !*san)
        return 1;
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old);
    pid_t pid = fork();
    if (pid < 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        return snprintf(msg, cap, "fork: %s", strerror(errno)), -1;
    }
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        setpgid(0, 0); /* its own group, so a timeout can stop the compilers too */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* The copy is built as its student builds it: not with `make grade`'s variables
         * (LAB=, DIR=, -s, a jobserver) that MAKEFLAGS would pass down. */
        unsetenv("MAKEFLAGS");
        unsetenv("MFLAGS");
        unsetenv("MAKELEVEL");
        unsetenv("MAKEOVERRIDES");
        /* make exports its command line's variables: `make -C grading test SAN=asan` would
         * otherwise build the copy's plain build into build-asan (and B= elsewhere). */
        unsetenv("SAN");
        unsetenv("B");
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int null = open("/dev/null", O_RDONLY);
        if (fd < 0 || null < 0)
            _exit(126);
        dup2(fd, 1);
        dup2(fd, 2);
        dup2(null, 0);
        execlp("make", "make", "-s", "--no-print-directory", "-C", dir, san, (char *)NULL);
        fprintf(stderr, "exec make: %s\n", strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid); /* also here: whichever runs first, the group exists before a kill */
    int status = 0;
    int w = wait_build(pid, timeout_s, &status);
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (w < 0)
        return snprintf(msg, cap, "waitpid: %s", strerror(errno)), -1;
    if (w == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    char tail[2048];
    log_tail(log, 12, tail, sizeof tail);
    char how[64];
    if (w == 1)
        snprintf(how, sizeof how, "was stopped after %d s", timeout_s);
    else if (WIFEXITED(status))
        snprintf(how, sizeof how, "exited %d", WEXITSTATUS(status));
    else
        snprintf(how, sizeof how, "was killed by signal %d", WTERMSIG(status));
    snprintf(msg, cap, "`make -s -C %s%s%s` %s; the end of its output (all of it in %s):%s", dir,
             san ? " " : "", san ? san : "", how, log, tail);
    return -1;
}
