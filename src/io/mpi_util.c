/* mpi_util — see mpi_util.h. */
#include "ntasweep/io/mpi_util.h"

#include "ntasweep/core/err.h"

int ntas_mpi_errors_return(char *err, size_t errlen)
{
    return ntas_mpi_check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN),
                          "MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN)", err, errlen);
}

int ntas_mpi_check(int rc, const char *what, char *err, size_t errlen)
{
    if (rc == MPI_SUCCESS) return 0;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) len = 0;
    text[len < MPI_MAX_ERROR_STRING ? len : MPI_MAX_ERROR_STRING - 1] = '\0';
    ntas_set_err(err, errlen, "%s failed: %s", what, len ? text : "unknown MPI error");
    return -1;
}
