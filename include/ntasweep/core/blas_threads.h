/* blas_threads — the number of threads the linked BLAS may use, whichever
 * BLAS that is (CMake's -DBLA_VENDOR: OpenBLAS, BLIS, MKL, reference).
 *
 * ntasweep runs one BLAS thread per rank (parallelism is across runs), so
 * every entry point calls ntas_blas_set_threads(1) before any BLAS call. The
 * vendors' setters are weak references resolved at link time: the one the
 * linked BLAS defines is called, the others stay NULL. The reference BLAS
 * has no threads and no setter: nothing to do. A BLAS linked statically
 * keeps its setter only if something else pulls the object in; the
 * environment variables tools/mpi-launch sets (OPENBLAS_NUM_THREADS,
 * BLIS_NUM_THREADS, MKL_NUM_THREADS, OMP_NUM_THREADS = 1) cover that case.
 */
#ifndef NTASWEEP_BLAS_THREADS_H
#define NTASWEEP_BLAS_THREADS_H

/* Sets the thread count of the linked BLAS to n (>= 1) and returns the name
 * of the BLAS whose setter was called ("OpenBLAS", "BLIS", "MKL"), or "none"
 * when the BLAS has no setter (reference BLAS). */
const char *ntas_blas_set_threads(int n);

#endif
