/* reg — gate regulariser. See reg.h. */
#include "ntasweep/models/reg.h"

#include <math.h>

double ntas_gate_reg(const double *c, int n, ntas_norm_kind norm, double lambda_nonneg,
                     double lambda_norm, double *grad)
{
    double nonneg = 0.0, knorm = 0.0;
    for (int i = 0; i < n; i++) {
        if (c[i] < 0.0) nonneg -= c[i];
        knorm += norm == NTAS_NORM_L1 ? fabs(c[i]) : c[i] * c[i];
    }
    if (norm == NTAS_NORM_L2) knorm = sqrt(knorm);
    double excess = knorm - 1.0;
    if (grad) {
        /* d/dc_i of lambda_norm (||c|| - 1)^2 = 2 lambda_norm (||c|| - 1) d||c||/dc_i */
        double outer = 2.0 * lambda_norm * excess;
        for (int i = 0; i < n; i++) {
            double dnorm;
            if (norm == NTAS_NORM_L1)
                dnorm = c[i] > 0.0 ? 1.0 : (c[i] < 0.0 ? -1.0 : 0.0);
            else
                dnorm = knorm > 0.0 ? c[i] / knorm : 0.0;
            grad[i] += outer * dnorm - (c[i] < 0.0 ? lambda_nonneg : 0.0);
        }
    }
    return lambda_nonneg * nonneg + lambda_norm * excess * excess;
}

/* Column j of block p: W[p en + i d_in + j], i = 0 .. d_out - 1. */
static double column_norm_cost(const double *W, int P, int d_out, int d_in, double k, double *dW)
{
    const size_t en = (size_t)d_out * (size_t)d_in;
    double total = 0.0;
    for (int p = 0; p < P; p++)
        for (int j = 0; j < d_in; j++) {
            const double *col = W + (size_t)p * en + (size_t)j;
            double sq = 0.0;
            for (int i = 0; i < d_out; i++) sq += col[(size_t)i * d_in] * col[(size_t)i * d_in];
            if (sq == 0.0) continue;   /* subgradient 0 at a zero column (reg.h) */
            double norm = sqrt(sq), g = k / norm;
            double *dcol = dW + (size_t)p * en + (size_t)j;
            for (int i = 0; i < d_out; i++) dcol[(size_t)i * d_in] += g * col[(size_t)i * d_in];
            total += norm;
        }
    return k * total;
}

double ntas_weight_cost(const double *W, int P, int d_out, int d_in, double k, ntas_weight_cost_kind kind,
                        double *dW)
{
    if (kind == NTAS_WEIGHT_COST_COLUMN_NORM) return column_norm_cost(W, P, d_out, d_in, k, dW);
    /* Squared: the same loop as before the choice existed, so the bits of
     * earlier runs stay. */
    size_t wn = (size_t)P * (size_t)d_out * (size_t)d_in;
    double sq = 0.0;
    for (size_t i = 0; i < wn; i++) {
        sq += W[i] * W[i];
        dW[i] += k * W[i];
    }
    return 0.5 * k * sq;
}
