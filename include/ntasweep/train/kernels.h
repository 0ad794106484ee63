/* kernels — the task gradient of the linear-teacher models for one step.
 *
 * With a linear teacher T and squared loss, a step needs only D = W_eff - T
 * and its batch: L = 1/2 mean_b |(W_eff - T) x_b|^2 and G = dL/dW_eff
 * = D X^T X / B. Three forms, one per data path (train.h):
 *   batch:  from the inputs X themselves (two GEMMs in ntasweep's own fixed
 *           order, batch_gemm.h: at 200 x 20 x 10 they take about half of
 *           OpenBLAS's time, and the bits no longer depend on the BLAS);
 *   moment: from S = X^T X / B, or S = I;
 *   factor: from a lower-triangular L with B S = L L^T (the Bartlett factor
 *           of the Wishart draw, wishart.h), without forming S.
 * The moment and factor forms are plain C loops for the Fig. 2 shapes
 * (10 x 20 times 20 x 20): a BLAS call costs more than the product at these
 * sizes. Their loops vectorise across independent outputs only, so every
 * output is summed in the order written here whatever the vector width: the
 * bits do not depend on the CPU, the compiler's vectorisation or the BLAS.
 */
#ifndef NTASWEEP_TRAIN_KERNELS_H
#define NTASWEEP_TRAIN_KERNELS_H

#include <stddef.h>

/* Batch form: X (B x d_in) the inputs, E (B x d_out) scratch that ends as
 * Y - Y* = X D^T; L = 1/2 mean_b |e_b|^2, G = E^T X / B. Two GEMMs: the
 * targets X T^T are never formed. */
double ntas_task_grad_batch(const double *D, const double *X, int B, int d_out, int d_in, double *E,
                            double *G);
/* The batch form in parts: the two GEMMs (E and G) without the loss; the
 * loss of E = Y - Y* exactly as ntas_task_grad_batch sums it (serially, i
 * increasing: 1/2 sum_i E_i^2 / B); and a fast approximation of it (BLAS
 * ddot, any order) with a bound *rel_err on its relative distance from the
 * exact one. The serial sum is a chain of B d_out dependent additions
 * (~1 us at the Fig. 2 shape): a step whose loss is not recorded needs
 * only to know that it is finite and on which side of the threshold it
 * lies, which the approximation answers unless it is within the bound. */
void ntas_task_grad_batch_g(const double *D, const double *X, int B, int d_out, int d_in, double *E, double *G);
double ntas_batch_loss(const double *E, int B, int d_out);
double ntas_batch_loss_approx(const double *E, int B, int d_out, double *rel_err);

/* Second-moment form: the same loss and G depend on X only through
 * S = X^T X / B (d_in x d_in, symmetric): G = D S, L = 1/2 tr(D S D^T)
 * = 1/2 <G, D>. S = NULL means S = I (the B -> infinity limit, G = D,
 * L = 1/2 ||W_eff - T||_F^2). G_oj = sum_i D_oi S_ij with i increasing. */
double ntas_task_grad_moment(const double *D, const double *S, int d_out, int d_in, double *G);

/* Factor form: L_f (d_in x d_in, row-major, lower triangular: its strict
 * upper triangle must be zero) with B S = L_f L_f^T, and Lt_f = L_f^T (the
 * Bartlett factor of the Wishart draw and its transpose, wishart.h). With
 * P = D L_f (d_out x d_in):
 *   G = P L_f^T / B,   L = 1/2 tr(D S D^T) = 1/2 ||P||_F^2 / B,
 * 2 d_out d_in (d_in + 1) / 2 multiply-adds instead of the d_in^3/3 of S
 * and the d_out d_in^2 of D S. scratch holds d_out d_in doubles.
 * Summation orders: P_ok = sum_{i >= k} D_oi L_ik, i increasing;
 * (P L^T)_oj = sum_{k <= j} P_ok L_jk, k DECREASING; ||P||^2 over o for each
 * column k, then over k. Each product-and-add of those three sums is one
 * fused multiply-add (fma(): one rounding); the last sum over k, the 1/B
 * and the 1/2 are plain operations. */
double ntas_task_grad_factor(const double *D, const double *L_f, const double *Lt_f, int B, int d_out, int d_in,
                             double *scratch, double *G);

/* Instruction sets of the train kernels (the factor form, the projections
 * and the batch form's GEMMs, batch_gemm.h): the one place that decides
 * which copy runs. Every copy computes the same bits (the same fused
 * multiply-adds per output, in the same order: C's fma() in the portable
 * copy, FMA instructions in the vector ones), so the choice changes speed,
 * never a result. AVX2 means AVX2 with FMA; AVX-512 means AVX-512F and VL
 * besides. Names: "portable", "avx2", "avx512" (NTASWEEP_KERNELS). */
typedef enum { NTAS_KERNEL_BASELINE = 0, NTAS_KERNEL_AVX2 = 1, NTAS_KERNEL_AVX512 = 2 } ntas_kernel_isa;
int ntas_kernel_isa_supported(ntas_kernel_isa isa);
/* The widest set this CPU runs. */
ntas_kernel_isa ntas_kernel_isa_best(void);
const char *ntas_kernel_isa_name(ntas_kernel_isa isa);
/* The set a requested name (the value of NTASWEEP_KERNELS; NULL or "" asks
 * for the best) stands for, into *isa. Returns 0, or -1 with err saying why
 * when the name is unknown or names a set this CPU lacks: *isa is then the
 * best. Prints nothing: the runner reports err. */
int ntas_kernel_isa_request(const char *name, ntas_kernel_isa *isa, char *err, size_t errlen);
/* The set the entry points without _with run: the best until
 * ntas_kernel_isa_use chooses another (one a process, which the runner sets
 * before any run from NTASWEEP_KERNELS: a choice among copies with the same
 * bits, so runs stay independent of it; a set the CPU lacks means the best). */
void ntas_kernel_isa_use(ntas_kernel_isa isa);
ntas_kernel_isa ntas_kernel_isa_active(void);
/* ntas_task_grad_factor with a chosen instruction set (the baseline when
 * the CPU lacks it): for tests and bench. */
double ntas_task_grad_factor_with(ntas_kernel_isa isa, const double *D, const double *L_f, const double *Lt_f,
                                  int B, int d_out, int d_in, double *scratch, double *G);

/* The projections u_c^T W v_c of a path's weights W (d_out x d_in) on n
 * pairs of singular vectors (Sec. 5: every mode of every teacher), from
 * their transposes Ut (d_out x n: column c is u_c) and Vt (d_in x n):
 *   out_c = sum_i Ut_ic (sum_j W_ij Vt_jc),  j increasing, then i increasing,
 * exactly the plain nested dot products per output; the vector copies run
 * across outputs, so every copy gives the same bits. scratch holds n
 * doubles. */
void ntas_sv_projection(const double *W, const double *Ut, const double *Vt, int d_out, int d_in, int n,
                        double *out, double *scratch);
void ntas_sv_projection_with(ntas_kernel_isa isa, const double *W, const double *Ut, const double *Vt, int d_out,
                             int d_in, int n, double *out, double *scratch);

#endif
