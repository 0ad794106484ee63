/* wishart — Bartlett sampler of S = X^T X / B (see wishart.h). */
#include "ntasweep/wishart.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int ntas_wishart_init(ntas_wishart *w, int d, int B, char *err, size_t errlen)
{
    memset(w, 0, sizeof *w);
    if (d < 1 || B < 1) {
        set_err(err, errlen, "wishart: need d >= 1 and B >= 1 (d=%d, B=%d)", d, B);
        return -1;
    }
    if (B < d) {
        set_err(err, errlen,
                "wishart: batch B=%d < d=%d makes X^T X / B singular; the Bartlett "
                "sampler needs B >= d, so sample X instead",
                B, d);
        return NTAS_WISHART_NEEDS_X;
    }
    size_t dd = (size_t)d * (size_t)d, nz = (size_t)d * (size_t)(d - 1) / 2;
    w->A = calloc(dd, sizeof *w->A);
    w->z = malloc((nz > 0 ? nz : 1) * sizeof *w->z);
    if (!w->A || !w->z) {
        ntas_wishart_free(w);
        set_err(err, errlen, "wishart: out of memory for d=%d", d);
        return -1;
    }
    w->d = d;
    w->B = B;
    return 0;
}

void ntas_wishart_free(ntas_wishart *w)
{
    free(w->A);
    free(w->z);
    memset(w, 0, sizeof *w);
}

void ntas_wishart_sample(ntas_wishart *w, ntas_rng *rng, double *S)
{
    const int d = w->d;
    const size_t ud = (size_t)d;
    double *A = w->A;

    /* Diagonal: B - i >= B - d + 1 >= 1 degrees of freedom. */
    for (int i = 0; i < d; i++)
        A[(size_t)i * ud + (size_t)i] = sqrt(ntas_rng_chisq(rng, w->B - i));

    /* Strict lower triangle from one fill, row by row. */
    size_t nz = ud * (ud - 1) / 2;
    ntas_rng_normal_fill(rng, w->z, nz);
    const double *z = w->z;
    for (int i = 1; i < d; i++)
        for (int j = 0; j < i; j++)
            A[(size_t)i * ud + (size_t)j] = *z++;

    /* S = A A^T / B on the lower triangle (A is lower triangular, so the
     * sum stops at k = j), mirrored so S is exactly symmetric. */
    const double B = (double)w->B;
    for (int i = 0; i < d; i++) {
        const double *ai = A + (size_t)i * ud;
        for (int j = 0; j <= i; j++) {
            const double *aj = A + (size_t)j * ud;
            double s = 0.0;
            for (int k = 0; k <= j; k++)
                s += ai[k] * aj[k];
            s /= B;
            S[(size_t)i * ud + (size_t)j] = s;
            S[(size_t)j * ud + (size_t)i] = s;
        }
    }
}

ntas_wishart_cost ntas_wishart_cost_bartlett(int d, int B)
{
    (void)B;
    double dd = d;
    ntas_wishart_cost c = { dd * (dd - 1) / 2, dd, dd * (dd + 1) * (dd + 2) / 3 };
    return c;
}

ntas_wishart_cost ntas_wishart_cost_explicit(int d, int B)
{
    double dd = d, b = B;
    ntas_wishart_cost c = { b * dd, 0.0, b * dd * (dd + 1) };
    return c;
}
