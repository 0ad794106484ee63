/* failio — an LD_PRELOAD library that makes writes or syncs of one file
 * fail, for the I/O failure tests (tests/io_faults.sh).
 *
 *   NTAS_FAILIO_PATH   the file (its absolute path) whose I/O fails
 *   NTAS_FAILIO_OP     write (pwrite/pwritev/write fail with ENOSPC) or
 *                      sync (fsync/fdatasync fail with EIO)
 *   NTAS_FAILIO_AFTER  how many such calls succeed first (default 0)
 *
 * It stands between MPI-IO (and HDF5's own drivers) and the C library, the
 * way a full or failing disk would: the results file's name appears only
 * after the serial create renamed OUT.tmp into place, so the create is
 * untouched and only the parallel phase sees the failures. Test-only: never
 * linked into ntasweep.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static long calls;

/* Is fd the target file, and is this call one that fails? */
static int should_fail(int fd, const char *op)
{
    const char *want = getenv("NTAS_FAILIO_PATH"), *wop = getenv("NTAS_FAILIO_OP");
    if (!want || !wop || strcmp(wop, op) != 0) return 0;
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return 0;
    path[n] = '\0';
    if (strcmp(path, want) != 0) return 0;
    const char *after = getenv("NTAS_FAILIO_AFTER");
    return __atomic_add_fetch(&calls, 1, __ATOMIC_SEQ_CST) > (after ? atol(after) : 0);
}

#define REAL(name, ret, ...) \
    static ret (*real_fn)(__VA_ARGS__); \
    if (!real_fn) real_fn = (ret (*)(__VA_ARGS__))dlsym(RTLD_NEXT, name)

ssize_t write(int fd, const void *buf, size_t n)
{
    REAL("write", ssize_t, int, const void *, size_t);
    if (should_fail(fd, "write")) { errno = ENOSPC; return -1; }
    return real_fn(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    REAL("pwrite", ssize_t, int, const void *, size_t, off_t);
    if (should_fail(fd, "write")) { errno = ENOSPC; return -1; }
    return real_fn(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    REAL("pwrite64", ssize_t, int, const void *, size_t, off_t);
    if (should_fail(fd, "write")) { errno = ENOSPC; return -1; }
    return real_fn(fd, buf, n, off);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    REAL("pwritev", ssize_t, int, const struct iovec *, int, off_t);
    if (should_fail(fd, "write")) { errno = ENOSPC; return -1; }
    return real_fn(fd, iov, cnt, off);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
    REAL("pwritev64", ssize_t, int, const struct iovec *, int, off_t);
    if (should_fail(fd, "write")) { errno = ENOSPC; return -1; }
    return real_fn(fd, iov, cnt, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    REAL("writev", ssize_t, int, const struct iovec *, int);
    if (should_fail(fd, "write")) { errno = ENOSPC; return -1; }
    return real_fn(fd, iov, cnt);
}

int fsync(int fd)
{
    REAL("fsync", int, int);
    if (should_fail(fd, "sync")) { errno = EIO; return -1; }
    return real_fn(fd);
}

int fdatasync(int fd)
{
    REAL("fdatasync", int, int);
    if (should_fail(fd, "sync")) { errno = EIO; return -1; }
    return real_fn(fd);
}
