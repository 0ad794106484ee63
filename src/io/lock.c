/* lock — the results file's writer lock. See lock.h. */
#include "ntasweep/io/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "ntasweep/core/err.h"

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

/* A process whose command line reads empty: a zombie (dead), or one in the
 * middle of an exec (its name is still the old one) or a kernel thread.
 * /proc/PID/stat says which: state Z is dead, otherwise its name decides. */
static int ntasweep_by_stat(long pid)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;   /* gone meanwhile */
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    const char *open = strchr(line, '('), *close = strrchr(line, ')');
    if (!open || !close || close < open || close[1] != ' ') return 0;
    if (close[2] == 'Z') return 0;
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(close - open - 1), open + 1);
    return strstr(name, "ntasweep") != NULL;
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
    if (n == 0) return ntasweep_by_stat(pid);
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

/* Writes "host pid" into a new file under a name no other process uses
 * (path.new.HOST.PID), so the lock file appears with its content whole. */
static int write_candidate(const char *lock_path, char *cand, size_t candlen, char *err, size_t errlen)
{
    char me[256];
    host_name(me, sizeof me);
    if (snprintf(cand, candlen, "%s.new.%s.%ld", lock_path, me, (long)getpid()) >= (int)candlen) {
        ntas_set_err(err, errlen, "%s: path too long", lock_path);
        return -1;
    }
    int fd = open(cand, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        ntas_set_err(err, errlen, "%s: cannot create the lock file: %s", cand, strerror(errno));
        return -1;
    }
    char line[400];
    int n = snprintf(line, sizeof line, "%s %ld\n", me, (long)getpid());
    int werr = write(fd, line, (size_t)n) == n ? 0 : errno ? errno : EIO;
    if (close(fd) != 0 && !werr) werr = errno;
    if (werr) {
        unlink(cand);
        ntas_set_err(err, errlen, "%s: cannot write the lock file: %s", cand, strerror(werr));
        return -1;
    }
    return 0;
}

/* Replaces the stale lock open as fd (judged from that very file) by cand.
 * Every contender locks the stale file's inode before replacing it and then
 * checks that the lock path still names that inode: the first one replaces
 * it, every later one finds the new lock there and has to judge it anew.
 * 0 replaced, 1 someone else changed the lock meanwhile, -1 error. */
static int replace_stale(const char *lock_path, int fd, const struct stat *judged, const char *cand,
                         char *err, size_t errlen)
{
    if (flock(fd, LOCK_EX) != 0) {
        ntas_set_err(err, errlen, "%s: cannot lock the stale lock file to take it over: %s", lock_path, strerror(errno));
        return -1;
    }
    struct stat now;
    int same = stat(lock_path, &now) == 0 && now.st_dev == judged->st_dev && now.st_ino == judged->st_ino;
    int rc = 1;
    if (same) {
        if (rename(cand, lock_path) == 0) rc = 0;
        else {
            ntas_set_err(err, errlen, "%s: cannot replace the stale lock: %s", lock_path, strerror(errno));
            rc = -1;
        }
    }
    flock(fd, LOCK_UN);
    return rc;
}

/* Reads the holder of the lock file open as fd. */
static void read_holder_fd(int fd, const struct stat *st, holder *h)
{
    memset(h, 0, sizeof *h);
    char line[512];
    ssize_t n = pread(fd, line, sizeof line - 1, 0);
    line[n > 0 ? n : 0] = '\0';
    if (sscanf(line, "%255s %ld", h->host, &h->pid) != 2) {
        snprintf(h->host, sizeof h->host, "?");
        h->pid = -1;
    }
    h->age = difftime(time(NULL), st->st_mtime);
}

int ntas_lock_acquire(ntas_lock *l, const char *results_path, char *note, size_t notelen,
                      char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    if (note && notelen) note[0] = '\0';
    if (snprintf(l->path, sizeof l->path, "%s.lock", results_path) >= (int)sizeof l->path) {
        ntas_set_err(err, errlen, "%s: path too long", results_path);
        return -1;
    }
    char cand[4400];
    if (write_candidate(l->path, cand, sizeof cand, err, errlen) != 0) return -1;
    int rc = -1;
    for (int attempt = 0; attempt < 20; attempt++) {
        /* No lock: link() puts ours in place only if none appeared meanwhile. */
        if (link(cand, l->path) == 0) {
            rc = 0;
            break;
        }
        if (errno != EEXIST) {
            ntas_set_err(err, errlen, "%s: cannot create the lock file: %s", l->path, strerror(errno));
            break;
        }
        /* Writable if we may: flock() over NFS needs a write descriptor. */
        int fd = open(l->path, O_RDWR);
        if (fd < 0 && errno != ENOENT) fd = open(l->path, O_RDONLY);
        if (fd < 0) continue;   /* removed meanwhile: try again */
        struct stat st;
        holder h;
        char why[400];
        if (fstat(fd, &st) != 0) { close(fd); continue; }
        read_holder_fd(fd, &st, &h);
        if (judge(&h, why, sizeof why) == 1) {
            close(fd);
            ntas_set_err(err, errlen, "%s is being written by another job: %s. If that job is really gone, remove %s",
                         results_path, why, l->path);
            rc = 1;
            break;
        }
        int r = replace_stale(l->path, fd, &st, cand, err, errlen);
        close(fd);
        if (r < 0) break;
        if (r == 0) {
            if (note && notelen) ntas_set_err(note, notelen, "removed a stale lock %s (%s)", l->path, why);
            rc = 0;
            break;
        }
    }
    if (rc == 0) {
        struct stat mine;
        if (stat(l->path, &mine) == 0) {
            l->dev = (unsigned long long)mine.st_dev;
            l->ino = (unsigned long long)mine.st_ino;
        }
        l->held = 1;
        l->last_beat = mono_now();
    } else if (rc == -1 && !(err && err[0])) {
        ntas_set_err(err, errlen, "%s: could not take the lock (it keeps changing)", l->path);
    }
    unlink(cand);   /* gone already if renamed into place */
    return rc;
}

/* Is the lock file still the one this process made? A job that was judged
 * stale (no heartbeat for NTAS_LOCK_STALE_SECONDS) and taken over must not
 * touch or remove the new holder's lock. */
static int still_mine(const ntas_lock *l)
{
    struct stat st;
    return stat(l->path, &st) == 0 && (unsigned long long)st.st_dev == l->dev &&
           (unsigned long long)st.st_ino == l->ino;
}

void ntas_lock_heartbeat(ntas_lock *l)
{
    if (!l || !l->held) return;
    double t = mono_now();
    if (t - l->last_beat < NTAS_LOCK_HEARTBEAT_SECONDS) return;
    l->last_beat = t;
    if (still_mine(l)) utimensat(AT_FDCWD, l->path, NULL, 0);
}

void ntas_lock_release(ntas_lock *l)
{
    if (!l || !l->held) return;
    if (still_mine(l)) unlink(l->path);
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
