/* lock — the results file's writer lock. See lock.h. */
#include "ntasweep/io/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void host_name(char *buf, size_t len)
{
    if (gethostname(buf, len) != 0) snprintf(buf, len, "unknown-host");
    buf[len - 1] = '\0';
}

/* Is pid a running ntasweep on this host? A reused pid of another program
 * does not count (its /proc/PID/cmdline names something else). */
static int ntasweep_alive(long pid)
{
    if (pid <= 0) return 0;
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) return 0;
    char path[64], cmd[4096];
    snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
    FILE *f = fopen(path, "rb");
    if (!f) return 1;   /* no /proc: trust kill() */
    size_t n = fread(cmd, 1, sizeof cmd - 1, f);
    fclose(f);
    for (size_t i = 0; i < n; i++)
        if (cmd[i] == '\0') cmd[i] = ' ';
    cmd[n] = '\0';
    return strstr(cmd, "ntasweep") != NULL;
}

typedef struct {
    char host[256];
    long pid;
    double age;   /* seconds since the last heartbeat */
} holder;

/* 0 read, -1 no lock file (or unreadable). */
static int read_holder(const char *path, holder *h)
{
    memset(h, 0, sizeof *h);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[512] = "";
    if (!fgets(line, sizeof line, f)) line[0] = '\0';
    struct stat st;
    int have_stat = fstat(fileno(f), &st) == 0;
    fclose(f);
    if (sscanf(line, "%255s %ld", h->host, &h->pid) != 2) {
        snprintf(h->host, sizeof h->host, "?");
        h->pid = -1;
    }
    h->age = have_stat ? difftime(time(NULL), st.st_mtime) : 0;
    return 0;
}

/* 1 live, 2 stale. */
static int judge(const holder *h, char *why, size_t len)
{
    char me[256];
    host_name(me, sizeof me);
    if (h->age > NTAS_LOCK_STALE_SECONDS) {
        snprintf(why, len, "its heartbeat is %.0f s old", h->age);
        return 2;
    }
    if (!strcmp(h->host, me)) {
        if (!ntasweep_alive(h->pid)) {
            snprintf(why, len, "process %ld on this host is gone", h->pid);
            return 2;
        }
        snprintf(why, len, "held by ntasweep process %ld on this host", h->pid);
        return 1;
    }
    snprintf(why, len, "held by process %ld on host %s (heartbeat %.0f s ago)", h->pid, h->host, h->age);
    return 1;
}

int ntas_lock_acquire(ntas_lock *l, const char *results_path, char *note, size_t notelen,
                      char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    if (note && notelen) note[0] = '\0';
    if (snprintf(l->path, sizeof l->path, "%s.lock", results_path) >= (int)sizeof l->path) {
        snprintf(err, errlen, "%s: path too long", results_path);
        return -1;
    }
    char me[256];
    host_name(me, sizeof me);
    for (int attempt = 0; attempt < 3; attempt++) {
        int fd = open(l->path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd >= 0) {
            char line[400];
            int n = snprintf(line, sizeof line, "%s %ld\n", me, (long)getpid());
            int ok = write(fd, line, (size_t)n) == n;
            ok &= close(fd) == 0;
            if (!ok) {
                unlink(l->path);
                snprintf(err, errlen, "%s: cannot write the lock file", l->path);
                return -1;
            }
            l->held = 1;
            l->last_beat = mono_now();
            return 0;
        }
        if (errno != EEXIST) {
            snprintf(err, errlen, "%s: cannot create the lock file: %s", l->path, strerror(errno));
            return -1;
        }
        holder h;
        if (read_holder(l->path, &h) != 0) continue;   /* removed meanwhile: retry */
        char why[400];
        if (judge(&h, why, sizeof why) == 1) {
            snprintf(err, errlen, "%s is being written by another job: %s. If that job is really gone, remove %s",
                     results_path, why, l->path);
            return 1;
        }
        /* Stale: move it aside atomically, so two jobs that both found it
         * stale cannot both remove a fresh lock the other just made. */
        char aside[4200];
        snprintf(aside, sizeof aside, "%s.stale.%ld", l->path, (long)getpid());
        if (rename(l->path, aside) == 0) {
            unlink(aside);
            if (note && notelen) snprintf(note, notelen, "removed a stale lock %s (%s)", l->path, why);
        }
    }
    snprintf(err, errlen, "%s: could not take the lock (it keeps changing)", l->path);
    return -1;
}

void ntas_lock_heartbeat(ntas_lock *l)
{
    if (!l || !l->held) return;
    double t = mono_now();
    if (t - l->last_beat < NTAS_LOCK_HEARTBEAT_SECONDS) return;
    l->last_beat = t;
    utimensat(AT_FDCWD, l->path, NULL, 0);
}

void ntas_lock_release(ntas_lock *l)
{
    if (!l || !l->held) return;
    unlink(l->path);
    l->held = 0;
}

int ntas_lock_describe(const char *results_path, char *buf, size_t len)
{
    char path[4200];
    snprintf(path, sizeof path, "%s.lock", results_path);
    holder h;
    buf[0] = '\0';
    if (read_holder(path, &h) != 0) return 0;
    char why[400];
    int j = judge(&h, why, sizeof why);
    snprintf(buf, len, "%s: %s%s", path, why, j == 2 ? " (stale: the next run takes it over)" : "");
    return j;
}
