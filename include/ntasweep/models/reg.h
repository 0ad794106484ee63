/* reg — the gate regulariser L_reg of SPEC-NOTES §1 (paper App. B.3).
 *
 * Owns L_reg = lambda_nonneg * sum_p max(0, -c_p) + lambda_norm * (||c||_k - 1)^2
 * over a flat gate vector, so every model that has gates (per-path, per-neuron,
 * the FC second layer) shares one implementation. The lambdas are the paper's
 * table values used verbatim (their 1/2 is folded in, SPEC-NOTES §1).
 */
#ifndef NTASWEEP_REG_H
#define NTASWEEP_REG_H

#include "ntasweep/config/params.h"

/* Returns L_reg of the n gates c and adds dL_reg/dc to grad (if non-NULL).
 * Subgradients at the kinks are 0: d max(0,-c)/dc at c = 0, d|c|/dc at c = 0,
 * and d||c||_2/dc at c = 0. */
double ntas_gate_reg(const double *c, int n, ntas_norm_kind norm, double lambda_nonneg,
                     double lambda_norm, double *grad);

/* The weight cost of App. A.3 over P blocks W_p (d_out x d_in, row-major,
 * stored one after another) with k = lambda_W / (P d_in); adds its gradient
 * to dW and returns its value.
 *   squared:     (k/2) sum W^2,                 gradient k W;
 *   column_norm: k sum_{p,j} ||W_p[:, j]||_2,   gradient k W_p[:, j] / ||W_p[:, j]||_2,
 * the authors' Fig. A.3 cost (the mean column 2-norm over the outputs, not
 * squared). ||w||_2 has no gradient at w = 0; its subgradient 0 is taken
 * there, so a zero column stays zero and never divides by 0. */
double ntas_weight_cost(const double *W, int P, int d_out, int d_in, double k, ntas_weight_cost_kind kind,
                        double *dW);

#endif
