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
