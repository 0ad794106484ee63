/* fd — central finite differences for the models' gradient tests.
 * fd_worst perturbs each of n entries of x by +-h, evaluates loss(ctx) (the
 * value only, gradients untouched), and returns the worst relative error of
 * analytic[i] against (L+ - L-) / 2h. Relative to max(|a|, |fd|); absolute
 * below 1e-9, where relative error means nothing. */
#ifndef NTASWEEP_TEST_FD_H
#define NTASWEEP_TEST_FD_H

#include <math.h>

typedef double (*fd_loss_fn)(void *ctx);

static double fd_rel_err(double a, double n)
{
    double scale = fmax(fabs(a), fabs(n));
    return scale < 1e-9 ? fabs(a - n) : fabs(a - n) / scale;
}

static double fd_worst(fd_loss_fn loss, void *ctx, double *x, const double *analytic, int n)
{
    const double h = 1e-5;
    double worst = 0.0;
    for (int i = 0; i < n; i++) {
        double x0 = x[i];
        x[i] = x0 + h;
        double lp = loss(ctx);
        x[i] = x0 - h;
        double lm = loss(ctx);
        x[i] = x0;
        worst = fmax(worst, fd_rel_err(analytic[i], (lp - lm) / (2 * h)));
    }
    return worst;
}

#endif
