/* batch_gemm — the two products of the sampled batch gradient, in a fixed
 * order of our own (kernels.h: ntas_task_grad_batch_g).
 *
 *   E = X D^T   (B x d_out):  E_bo = fma chain over i = 0 .. d_in - 1,
 *                             acc = 0, acc = fma(X_bi, D_oi, acc)
 *   G = E^T X / B (d_out x d_in): G_oi = (fma chain over b = 0 .. B - 1,
 *                             acc = 0, acc = fma(E_bo, X_bi, acc)) * (1 / B)
 *
 * Every output is one chain of fused multiply-adds in that order; the copies
 * vectorise only across independent outputs, so the portable copy (C's fma,
 * correctly rounded: the hardware instruction's result) and the AVX2 and
 * AVX-512 copies give the same bits, on any machine and with any BLAS (the
 * bits of OpenBLAS 0.3.21's AVX-512 kernels, see batch_gemm.c). At
 * the Fig. 2 shape (B any, d_out 10, d_in 20) the AVX-512 and AVX2 copies
 * are written out with registers blocked by hand; every other shape runs
 * loops the compiler vectorises per instruction set. */
#ifndef NTASWEEP_TRAIN_BATCH_GEMM_H
#define NTASWEEP_TRAIN_BATCH_GEMM_H

#include "ntasweep/train/kernels.h"

/* E and G as above with the process's instruction set (kernels.h:
 * ntas_kernel_isa_active, NTASWEEP_KERNELS); _with a chosen one (the
 * portable copy when the CPU lacks it): for tests and bench. */
void ntas_batch_gemm(const double *D, const double *X, int B, int d_out, int d_in, double *E, double *G);
void ntas_batch_gemm_with(ntas_kernel_isa isa, const double *D, const double *X, int B, int d_out, int d_in,
                          double *E, double *G);

#endif
