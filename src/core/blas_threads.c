#include "ntasweep/core/blas_threads.h"

#include <stdint.h>

/* The vendors' own declarations (openblas_config.h, blis.h, mkl_service.h);
 * weak, so a binary linked against another BLAS still links and sees NULL. */
void openblas_set_num_threads(int num_threads) __attribute__((weak));
void bli_thread_set_num_threads(int64_t n_threads) __attribute__((weak)); /* dim_t */
void MKL_Set_Num_Threads(int nth) __attribute__((weak));

const char *ntas_blas_set_threads(int n)
{
    if (n < 1) n = 1;
    if (openblas_set_num_threads) {
        openblas_set_num_threads(n);
        return "OpenBLAS";
    }
    if (bli_thread_set_num_threads) {
        bli_thread_set_num_threads(n);
        return "BLIS";
    }
    if (MKL_Set_Num_Threads) {
        MKL_Set_Num_Threads(n);
        return "MKL";
    }
    return "none";
}
