/* test_lock — the results file's writer lock (lock.h).
 *
 * No lock, a live holder (this host, another host), a stale one (its
 * process gone, its heartbeat too old), `status`'s description, a release
 * after a takeover that must not remove the new holder's lock, and the race
 * the takeover must survive: N processes that find one stale lock at the
 * same moment, repeated many rounds; in every round exactly one wins and the
 * others see its lock as live. Nothing in it waits for a fixed time.
 *
 * A live holder on this host is recognised by "ntasweep" in its command
 * line, so the test re-executes itself under the name ntasweep-test-lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "ntasweep/io/lock.h"

static char dir[64], results[128], lockpath[160];

static void host(char *buf, size_t len)
{
    if (gethostname(buf, len) != 0) snprintf(buf, len, "unknown-host");
    buf[len - 1] = '\0';
}

/* A lock file of holder "h pid", its mtime age_s seconds ago. */
static void write_lock(const char *h, long pid, double age_s)
{
    FILE *f = fopen(lockpath, "w");
    fprintf(f, "%s %ld\n", h, pid);
    fclose(f);
    struct timespec t[2];
    clock_gettime(CLOCK_REALTIME, &t[0]);
    t[0].tv_sec -= (time_t)age_s;
    t[1] = t[0];
    utimensat(AT_FDCWD, lockpath, t, 0);
}

static void read_lock(char *buf, size_t len)
{
    buf[0] = '\0';
    FILE *f = fopen(lockpath, "r");
    if (!f) return;
    if (!fgets(buf, (int)len, f)) buf[0] = '\0';
    fclose(f);
}

/* The pid of a process that has exited and been reaped. */
static long dead_pid(void)
{
    pid_t p = fork();
    if (p == 0) _exit(0);
    waitpid(p, NULL, 0);
    return (long)p;
}

/* Files in dir besides the results' lock: leftovers of a takeover. */
static int stray_files(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strstr(e->d_name, ".new.") || strstr(e->d_name, ".stale.")) n++;
    closedir(d);
    return n;
}

static void test_basic(void)
{
    char me[256], note[600], err[1200], line[512], want[512];
    host(me, sizeof me);
    ntas_lock l;
    CHECK(ntas_lock_acquire(&l, results, note, sizeof note, err, sizeof err) == 0 && l.held && !note[0]);
    read_lock(line, sizeof line);
    snprintf(want, sizeof want, "%s %ld\n", me, (long)getpid());
    CHECK_MSG(!strcmp(line, want), "lock holds '%s'", line);
    /* The same job asking again: its own lock is live. */
    ntas_lock again;
    CHECK(ntas_lock_acquire(&again, results, note, sizeof note, err, sizeof err) == 1);
    CHECK(ntas_lock_describe(results, line, sizeof line) == 1);
    ntas_lock_release(&l);
    CHECK(access(lockpath, F_OK) != 0 && !l.held);
    ntas_lock_release(&l);   /* twice is safe */
    CHECK(ntas_lock_describe(results, line, sizeof line) == 0 && !line[0]);
    CHECK(stray_files() == 0);
}

/* Polls /proc/PID/cmdline until it contains want (at most ~10 s). */
static void wait_cmdline(pid_t pid, const char *want)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
    for (int i = 0; i < 10000; i++) {
        FILE *f = fopen(path, "rb");
        size_t n = 0;
        if (f) {
            n = fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
        }
        for (size_t k = 0; k < n; k++)
            if (buf[k] == '\0') buf[k] = ' ';
        buf[n] = '\0';
        if (strstr(buf, want)) return;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

static void test_live(void)
{
    char me[256], note[600], err[1200], before[512], after[512];
    host(me, sizeof me);
    /* A live ntasweep on this host: a shell named ntasweep-holder that
     * waits for its stdin to close. */
    int p[2];
    CHECK(pipe(p) == 0);
    pid_t child = fork();
    if (child == 0) {
        dup2(p[0], 0);
        close(p[1]);
        execl("/bin/sh", "ntasweep-holder", "-c", "read x", (char *)NULL);
        _exit(127);
    }
    close(p[0]);
    /* Wait until the exec is done (its command line names ntasweep-holder):
     * while the kernel swaps the program in, /proc/PID/cmdline can read
     * empty and the name can be "sh", so the holder would look gone. */
    wait_cmdline(child, "ntasweep-holder");
    write_lock(me, (long)child, 0);
    ntas_lock l;
    read_lock(before, sizeof before);
    CHECK(ntas_lock_acquire(&l, results, note, sizeof note, err, sizeof err) == 1 && !l.held);
    CHECK_MSG(strstr(err, "held by ntasweep process") && strstr(err, lockpath), "%s", err);
    read_lock(after, sizeof after);
    CHECK(!strcmp(before, after));
    CHECK(ntas_lock_describe(results, after, sizeof after) == 1);
    close(p[1]);
    waitpid(child, NULL, 0);
    /* The same pid, now gone: stale, taken over. */
    CHECK(ntas_lock_acquire(&l, results, note, sizeof note, err, sizeof err) == 0);
    CHECK_MSG(strstr(note, "stale") && strstr(note, "is gone"), "%s", note);
    ntas_lock_release(&l);

    /* Another host, fresh heartbeat: live (its pid cannot be checked). */
    write_lock("some-other-host", 4242, 10);
    CHECK(ntas_lock_acquire(&l, results, note, sizeof note, err, sizeof err) == 1);
    CHECK_MSG(strstr(err, "on host some-other-host"), "%s", err);
    CHECK(ntas_lock_describe(results, after, sizeof after) == 1);
    unlink(lockpath);
    CHECK(stray_files() == 0);
}

static void test_stale(void)
{
    char me[256], note[600], err[1200], line[512];
    host(me, sizeof me);
    ntas_lock l;
    write_lock(me, dead_pid(), 0);
    CHECK(ntas_lock_describe(results, line, sizeof line) == 2 && strstr(line, "stale"));
    CHECK(ntas_lock_acquire(&l, results, note, sizeof note, err, sizeof err) == 0 && l.held);
    CHECK_MSG(strstr(note, "removed a stale lock"), "%s", note);
    ntas_lock_release(&l);
    /* Another host whose heartbeat stopped longer ago than the limit. */
    write_lock("some-other-host", 4242, NTAS_LOCK_STALE_SECONDS + 60);
    CHECK(ntas_lock_describe(results, line, sizeof line) == 2);
    CHECK(ntas_lock_acquire(&l, results, note, sizeof note, err, sizeof err) == 0);
    CHECK_MSG(strstr(note, "heartbeat"), "%s", note);
    /* A garbled lock file of this host ("?" host) with an old heartbeat. */
    ntas_lock_release(&l);
    FILE *f = fopen(lockpath, "w");
    fclose(f);
    write_lock("", 0, NTAS_LOCK_STALE_SECONDS + 60);
    CHECK(ntas_lock_acquire(&l, results, note, sizeof note, err, sizeof err) == 0);
    ntas_lock_release(&l);
    CHECK(access(lockpath, F_OK) != 0 && stray_files() == 0);
}

/* A job judged stale and taken over must not remove the new holder's lock. */
static void test_release_after_takeover(void)
{
    char note[600], err[1200], line[512];
    ntas_lock old;
    CHECK(ntas_lock_acquire(&old, results, note, sizeof note, err, sizeof err) == 0);
    char tmp[200];
    snprintf(tmp, sizeof tmp, "%s/newer", dir);
    FILE *f = fopen(tmp, "w");
    fprintf(f, "some-other-host 99\n");
    fclose(f);
    CHECK(rename(tmp, lockpath) == 0);
    ntas_lock_release(&old);
    read_lock(line, sizeof line);
    CHECK_MSG(!strcmp(line, "some-other-host 99\n"), "'%s'", line);
    unlink(lockpath);
}

/* N processes contend for one stale lock; returns the number of winners
 * (and counts those that saw a live lock and those that failed). */
static int race_round(int n, int stale_kind, int *live, int *failed)
{
    char me[256];
    host(me, sizeof me);
    if (stale_kind == 0) write_lock(me, dead_pid(), 0);
    else write_lock("some-other-host", 4242, NTAS_LOCK_STALE_SECONDS + 60);
    int start[2], result[2], release[2];
    if (pipe(start) || pipe(result) || pipe(release)) return -1;
    pid_t kids[64];
    for (int i = 0; i < n; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            close(start[1]);
            close(result[0]);
            close(release[1]);
            char c;
            while (read(start[0], &c, 1) > 0) {}   /* EOF: everyone starts now */
            ntas_lock l;
            char note[600], err[1200];
            int rc = ntas_lock_acquire(&l, results, note, sizeof note, err, sizeof err);
            c = rc == 0 ? 'W' : rc == 1 ? 'L' : 'E';
            if (rc < 0) fprintf(stderr, "contender %d: %s\n", i, err);
            if (write(result[1], &c, 1) != 1) _exit(2);
            /* Hold a won lock until every contender has tried. */
            while (read(release[0], &c, 1) > 0) {}
            ntas_lock_release(&l);
            _exit(0);
        }
    }
    close(start[0]);
    close(result[1]);
    close(release[0]);
    close(start[1]);
    int won = 0;
    for (int i = 0; i < n; i++) {
        char c = 0;
        if (read(result[0], &c, 1) != 1) { (*failed)++; continue; }
        won += c == 'W';
        *live += c == 'L';
        *failed += c == 'E';
    }
    close(release[1]);
    close(result[0]);
    for (int i = 0; i < n; i++) waitpid(kids[i], NULL, 0);
    return won;
}

static void test_race(void)
{
    const int rounds = 150, n = 6;
    int bad_rounds = 0, failed = 0, live = 0;
    for (int r = 0; r < rounds; r++) {
        int won = race_round(n, r % 2, &live, &failed);
        if (won != 1) {
            bad_rounds++;
            fprintf(stderr, "race round %d: %d winners\n", r, won);
        }
    }
    CHECK_MSG(bad_rounds == 0, "%d of %d rounds had not exactly one winner", bad_rounds, rounds);
    CHECK_MSG(failed == 0, "%d contenders failed with an error", failed);
    CHECK_MSG(live == rounds * (n - 1), "%d contenders saw a live lock, want %d", live, rounds * (n - 1));
    CHECK(access(lockpath, F_OK) != 0);   /* each winner released */
    CHECK(stray_files() == 0);
}

int main(int argc, char **argv)
{
    /* Live holders on this host are recognised by their command line. */
    if (!strstr(argv[0], "ntasweep")) {
        char *args[] = {"ntasweep-test-lock", NULL};
        execv("/proc/self/exe", args);
        fprintf(stderr, "test_lock: cannot re-execute itself: %s\n", strerror(errno));
        return 1;
    }
    (void)argc;
    snprintf(dir, sizeof dir, "/tmp/ntas-lock.XXXXXX");
    if (!mkdtemp(dir)) return 1;
    snprintf(results, sizeof results, "%s/out.h5", dir);
    snprintf(lockpath, sizeof lockpath, "%s.lock", results);
    test_basic();
    test_live();
    test_stale();
    test_release_after_takeover();
    test_race();
    unlink(lockpath);
    rmdir(dir);
    return CHECK_DONE();
}
