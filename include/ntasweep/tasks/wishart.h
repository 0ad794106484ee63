/* wishart — draws the batch second moment S = X^T X / B without drawing X.
 *
 * Owns the Bartlett sampler and its scratch. With a linear teacher T and
 * squared loss, a step sees its batch X (B x d, rows x_b ~ N(0, I_d)) only
 * through S: with E = W_eff - T, L = <E S, E> / 2 and dY^T X = E S. B S is
 * Wishart(I_d, B), drawn here in O(d^3) from d(d-1)/2 normals and d
 * chi-squares instead of the B d normals and B d^2 flops of X^T X.
 */
#ifndef NTASWEEP_WISHART_H
#define NTASWEEP_WISHART_H

#include <stddef.h>

#include "ntasweep/core/rng.h"

/* Returned by ntas_wishart_init when B < d: S is then singular and has no
 * Bartlett factor with positive diagonal; the caller samples X instead. */
#define NTAS_WISHART_NEEDS_X 1

typedef struct {
    int d, B;
    double *A;  /* d x d row-major; the lower triangle holds the Bartlett factor */
    double *At; /* its transpose (upper triangular), for the products of kernels.h */
    double *z; /* d (d-1) / 2 + d normals of one draw */
    double *u; /* d uniforms of one draw */
    double *gd, *gc; /* Marsaglia-Tsang constants of diagonal i (ntas_rng_gamma_constants) */
    double *diag;    /* d values: the diagonal of one draw (ntas_wishart_factor's scratch) */
    long long *pass; /* d flags: its first attempts that passed the squeeze */
    /* Draws buffered ahead (ntas_wishart_factor): the normals and words of
     * buf_steps draws of per_step blocks each from block buf_block of the
     * stream with key buf_key; buf_next draws of them are used. 0 steps:
     * no buffer (odd counts, which do not end at a block boundary). */
    int per_step, buf_steps, buf_next, buf_valid;
    uint64_t buf_block;
    uint32_t buf_key[2];
    double *zbuf;
    uint64_t *wbuf;
} ntas_wishart;

/* Sampler of d x d S for batch size B. Returns 0; NTAS_WISHART_NEEDS_X (with
 * a message) when 1 <= B < d; -1 with a message for d < 1, B < 1 or no
 * memory. w needs ntas_wishart_free only after a 0 return (harmless after
 * any return). */
int ntas_wishart_init(ntas_wishart *w, int d, int B, char *err, size_t errlen);
void ntas_wishart_free(ntas_wishart *w);

/* One draw into S (d x d, row-major, full and exactly symmetric).
 * Definition (Bartlett decomposition: Bartlett 1933, Proc. R. Soc. Edinb.
 * 53:260; as a generator, Smith & Hocking 1972, Algorithm AS 53, Appl.
 * Statist. 21:341), draws in this order:
 *   ntas_rng_normal_fill of m = d(d-1)/2 + d values z: z_0 .. z_{m-d-1} go
 *       to A_ij, i > j, row-major (A_10, A_20, A_21, A_30, ...); x_i =
 *       z_{m-d+i} is the first Marsaglia-Tsang normal of diagonal i
 *   ntas_rng_uniform_fill of d values u_i, the first attempts' uniforms
 *   for i = 0 .. d-1, k = B - i degrees of freedom:
 *       A_ii = |x_i|                                   if k = 1 (chi^2_1 = x^2)
 *       A_ii = sqrt(2 ntas_rng_gamma_primed(rng, k/2, x_i, u_i))  otherwise
 *   S_ij = S_ji = (sum_{k=0..j} A_ik A_jk) / B     for i >= j, k increasing
 * so B S = A A^T. The bulk draws make the d chi-squares cost about as much
 * as d normals; a rejected first attempt (a few per cent) draws more.
 * Plain loops, no BLAS: the bits must not depend on the BLAS build or
 * thread count. Allocation-free. */
void ntas_wishart_sample(ntas_wishart *w, ntas_rng *rng, double *S);

/* The same draws as ntas_wishart_sample (same random numbers consumed, in
 * the same order), stopping at the Bartlett factor: returns w->A, lower
 * triangular with B S = A A^T (its strict upper triangle is zero), and
 * fills w->At = A^T (strict lower triangle zero). For a
 * caller that needs only products with S (kernels.h: G = (D A) A^T / B)
 * and so never forms S. When the stream is at a block boundary (and the
 * counts of normals and uniforms are even), the normals and uniforms of
 * several draws are computed in one long fill and buffered: the values,
 * and the stream's state after each draw, are exactly those of the
 * separate fills; a draw whose gamma was rejected moves the stream, and
 * the next draw then refills from where it is. */
const double *ntas_wishart_factor(ntas_wishart *w, ntas_rng *rng);

/* Work of one draw of S by each route, to choose between them:
 *   Bartlett:  d(d-1)/2 normals, d chi-squares (each one gamma: 1 to 1.05
 *              normal+uniform attempts for shape >= 1), d(d+1)(d+2)/3 flops;
 *   explicit:  B d normals and B d (d+1) flops (lower triangle of X^T X).
 * Counts a multiply-add as 2 flops; the division by B is not counted. */
typedef struct {
    double normals; /* standard normals drawn */
    double chisq;   /* chi-square variates drawn */
    double flops;
} ntas_wishart_cost;

ntas_wishart_cost ntas_wishart_cost_bartlett(int d, int B);
ntas_wishart_cost ntas_wishart_cost_explicit(int d, int B);

#endif
