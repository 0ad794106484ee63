/* lock — one writer per results file.
 *
 * Owns OUT.h5.lock, created atomically (O_EXCL) by the rank that writes the
 * file's layout and holding "host pid" of that process. The MPI-IO driver
 * takes no lock of its own, so without this two jobs could write one file.
 * A lock is stale, and is taken over, when its process no longer runs (same
 * host) or its heartbeat (the file's mtime, refreshed while the sweep runs)
 * is older than NTAS_LOCK_STALE_SECONDS (any host: a node that died).
 *
 * Taking a lock over is atomic: a new lock appears whole (written under a
 * private name, then link()ed or rename()d into place), and a stale one is
 * replaced only by the contender that first holds flock() on that stale
 * file and still finds it under the lock's name, so of several jobs that
 * find one stale lock at once exactly one wins and the others see it live.
 */
#ifndef NTASWEEP_LOCK_H
#define NTASWEEP_LOCK_H

#include <stddef.h>

#define NTAS_LOCK_STALE_SECONDS 300.0
#define NTAS_LOCK_HEARTBEAT_SECONDS 30.0

typedef struct {
    char path[4096];
    int held;
    unsigned long long dev, ino;   /* the lock file this process made */
    double last_beat;   /* monotonic seconds of the last heartbeat */
} ntas_lock;

/* Takes the lock of results_path. Returns 0 (note says if a stale lock was
 * removed, else ""), 1 if another live writer holds it (err says which host
 * and pid and how to proceed), -1 on an error (err filled). */
int  ntas_lock_acquire(ntas_lock *l, const char *results_path, char *note, size_t notelen,
                       char *err, size_t errlen);
/* Refreshes the heartbeat if NTAS_LOCK_HEARTBEAT_SECONDS have passed. */
void ntas_lock_heartbeat(ntas_lock *l);
/* Removes the lock file if held. Safe to call twice. */
void ntas_lock_release(ntas_lock *l);
/* For `status`: describes the lock of results_path in buf ("" if none).
 * Returns 0 none, 1 held by a live writer, 2 stale. */
int  ntas_lock_describe(const char *results_path, char *buf, size_t len);

#endif
