/* mpi_util — how MPI failures are reported.
 *
 * Decision: MPI_ERRORS_RETURN on MPI_COMM_WORLD (and the communicators
 * derived from it), set once right after MPI_Init by ntas_mpi_errors_return,
 * and every MPI call outside the coordinator checked through ntas_mpi_check,
 * whose message names the call and carries MPI_Error_string. With the
 * default MPI_ERRORS_ARE_FATAL a failed call would end the job with Open
 * MPI's text and no word of which results file or phase it was in; a
 * returned code lets the caller close its HDF5 ids, remove the lock and say
 * what failed. (A rank whose collective failed may leave the others waiting;
 * the launcher ends the job once this rank exits non-zero.)
 */
#ifndef NTASWEEP_MPI_UTIL_H
#define NTASWEEP_MPI_UTIL_H

#include <mpi.h>
#include <stddef.h>

/* Makes MPI calls on MPI_COMM_WORLD return error codes. 0, or -1 with err. */
int ntas_mpi_errors_return(char *err, size_t errlen);

/* 0 if rc is MPI_SUCCESS; otherwise -1 and err = "WHAT: MPI error text". */
int ntas_mpi_check(int rc, const char *what, char *err, size_t errlen);

#endif
