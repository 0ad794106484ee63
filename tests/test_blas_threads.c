/* test_blas_threads — ntas_blas_set_threads reaches the setter of the BLAS
 * this build links (CMake's BLA_VENDOR; NTAS_EXPECTED_BLAS is its name, or
 * "" when the vendor's name says nothing certain, e.g. Generic, which
 * Debian's alternatives may point at OpenBLAS), and the count sticks. The
 * setters are weak references: they bind to the BLAS the binary loads. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cblas.h>

#include "ntasweep/core/blas_threads.h"
#include "check.h"

#ifndef NTAS_EXPECTED_BLAS
#define NTAS_EXPECTED_BLAS ""
#endif

int openblas_get_num_threads(void) __attribute__((weak));
int64_t bli_thread_get_num_threads(void) __attribute__((weak));
int MKL_Get_Max_Threads(void) __attribute__((weak));

static int threads_now(const char *name)
{
    if (!strcmp(name, "OpenBLAS") && openblas_get_num_threads) return openblas_get_num_threads();
    if (!strcmp(name, "BLIS") && bli_thread_get_num_threads) return (int)bli_thread_get_num_threads();
    if (!strcmp(name, "MKL") && MKL_Get_Max_Threads) return MKL_Get_Max_Threads();
    return -1;
}

int main(void)
{
    /* Use the BLAS, as every ntasweep binary does: a binary that calls no
     * BLAS function has no BLAS loaded (--as-needed) and nothing to set. */
    const double x[3] = {1, 2, 3};
    CHECK(cblas_ddot(3, x, 1, x, 1) == 14);
    const char *name = ntas_blas_set_threads(2);
    printf("linked BLAS: %s (expected: %s)\n", name, NTAS_EXPECTED_BLAS[0] ? NTAS_EXPECTED_BLAS : "any");
    if (NTAS_EXPECTED_BLAS[0]) CHECK_MSG(!strcmp(name, NTAS_EXPECTED_BLAS), "set the threads of %s", name);
    if (strcmp(name, "none")) {
        CHECK_MSG(threads_now(name) == 2, "%s threads after setting 2: %d", name, threads_now(name));
        CHECK(!strcmp(ntas_blas_set_threads(1), name));
        CHECK_MSG(threads_now(name) == 1, "%s threads after setting 1: %d", name, threads_now(name));
    } else {
        CHECK(!strcmp(ntas_blas_set_threads(1), "none"));
    }
    CHECK(!strcmp(ntas_blas_set_threads(0), name)); /* clamped to 1, no crash */
    return CHECK_DONE();
}
