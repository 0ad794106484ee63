/* h5util — small HDF5 helpers that the results-file modules share.
 *
 * Owns the fixed-length string type every string dataset and attribute uses
 * (NUL-terminated; fixed length because the parallel file cannot hold
 * variable-length strings), the scalar attribute writers, and the error
 * messages of failed HDF5 calls: HDF5's automatic printing to stderr is off
 * (ntas_h5_quiet) and ntas_h5_fail puts the error stack's own words into
 * the caller's message instead.
 */
#ifndef NTASWEEP_H5UTIL_H
#define NTASWEEP_H5UTIL_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

/* Turns HDF5's automatic error printing off for this thread: every failure
 * is reported once, by us, through ntas_h5_fail. Idempotent. */
void ntas_h5_quiet(void);

/* Fills err with the printf-formatted `what`, then ": API: outer (inner)"
 * from the default HDF5 error stack, e.g.
 *   "creating dataset loss: H5Dcreate2: unable to create dataset
 *    (file write failed: No space left on device)".
 * Call it right after the failing HDF5 call: the next HDF5 call clears the
 * stack. With an empty stack err holds `what` alone. */
void ntas_h5_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ntas_h5_fail for a call that creates, writes, flushes or closes the file
 * at `path` (NULL or "" if unknown), made with errno set to 0 right before it and
 * sys_errno = errno right after. The MPI-IO driver drops the system's reason
 * ("file write failed", "MPI_File_sync failed: ... MPI_ERR_OTHER"), the
 * sec2 driver keeps it ("errno = 28, error message = '...'"). When the
 * stack lacks it, appends "; system error: <strerror(sys_errno)>"; with no
 * errno either, what statvfs/access verify now about path's directory
 * ("no space left on the device holding DIR", "DIR is on a read-only file
 * system", "DIR is not writable (...)"), and nothing when none of those
 * holds: never a guess. */
void ntas_h5_fail_io(char *err, size_t errlen, int sys_errno, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* A fixed-length string type of n bytes (close with H5Tclose), or
 * H5I_INVALID_HID. */
hid_t ntas_h5_str_type(size_t n);
/* A scalar string / int64 attribute `name` on obj. 0, or -1 (the HDF5
 * error stack still holds the failure for ntas_h5_fail). */
int ntas_h5_set_str_attr(hid_t obj, const char *name, const char *value);
int ntas_h5_set_i64_attr(hid_t obj, const char *name, int64_t value);

/* Closes *id with the close function that fits its type (file, group,
 * dataset, dataspace, datatype, attribute, property list) if it is valid,
 * and sets it to H5I_INVALID_HID. Cleanup paths call it on every id they
 * own, valid or not. 0, or -1 if the close failed. */
int ntas_h5_close(hid_t *id);


/* HDF5's lifetime in an MPI program. Called before MPI_Init, ntas_h5_start
 * initialises HDF5 with its exit-time termination off (H5dont_atexit): HDF5
 * then installs neither an atexit handler nor, because MPI is not up yet,
 * its MPI_Finalize hook (an attribute on MPI_COMM_SELF). Both would close
 * every id still open, and an id whose H5Fclose failed (a disk that fails
 * every write: the close cannot rewrite the superblock) is half-destroyed:
 * closing it again crashes (SIGSEGV in H5F__close_cb). ntas_h5_finish,
 * called before MPI_Finalize, then ends HDF5 while MPI is still up if no
 * file is left open, and otherwise leaves it alone: the process is about to
 * exit with the close's error already reported. Returns the number of files
 * left open (0 on a clean end). */
void ntas_h5_start(void);
long ntas_h5_finish(void);
#endif
