/* model_reduced — the reduced 2-D NTA. See model_reduced.h. */
#include "ntasweep/models/model_reduced.h"

#include <math.h>
#include <string.h>

int ntas_reduced_init(ntas_reduced *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->x = 1.0;
    return ntas_nta_init(&r->nta, 1, 2, 2, err, errlen);
}

void ntas_reduced_free(ntas_reduced *r)
{
    ntas_nta_free(&r->nta);
    memset(r, 0, sizeof *r);
}

void ntas_reduced_set(ntas_reduced *r, const double w[4], const double c[2])
{
    memcpy(r->nta.W, w, 4 * sizeof *w);
    memcpy(r->nta.c, c, 2 * sizeof *c);
}

void ntas_reduced_init_specialized(ntas_reduced *r)
{
    const double w[4] = {1.0, 0.0, 0.0, 1.0}, c[2] = {1.0, 0.0};
    ntas_reduced_set(r, w, c);
}

void ntas_reduced_init_collapsed(ntas_reduced *r)
{
    const double w[4] = {1.0, 0.0, 1.0, 0.0}, c[2] = {0.5, 0.5};
    ntas_reduced_set(r, w, c);
}

void ntas_reduced_init_random(ntas_reduced *r, double sigma, double gate0, ntas_rng *rng)
{
    ntas_nta_init_params(&r->nta, sigma, gate0, rng);
}

double ntas_reduced_step(ntas_reduced *r, int task, const ntas_params *p, double dt, double tau_w,
                         double tau_c)
{
    /* The teacher e_{task+1} maps x = 1 to y* = e_{task+1}. */
    const double ystar[2] = {task == 0 ? 1.0 : 0.0, task == 0 ? 0.0 : 1.0};
    ntas_nta_forward(&r->nta, &r->x, 1, r->y);
    double loss = 0.0;
    for (int i = 0; i < 2; i++) {
        r->dy[i] = r->y[i] - ystar[i];
        loss += 0.5 * r->dy[i] * r->dy[i];
    }
    ntas_nta_backward(&r->nta, &r->x, r->dy, 1);
    ntas_nta_reg_backward(&r->nta, p);
    double norm_dW[2], norm_dc;
    ntas_nta_step(&r->nta, dt, tau_w, tau_c, norm_dW, &norm_dc);
    return loss;
}

void ntas_reduced_coords_of(const double w[4], const double c[2], int task, ntas_reduced_view *o)
{
    const double ystar[2] = {task == 0 ? 1.0 : 0.0, task == 0 ? 0.0 : 1.0};
    for (int p = 0; p < 2; p++)
        for (int m = 0; m < 2; m++) o->w[p][m] = w[p * 2 + m];
    o->c[0] = c[0];
    o->c[1] = c[1];
    o->loss = 0.0;
    for (int m = 0; m < 2; m++) {
        o->y[m] = c[0] * o->w[0][m] + c[1] * o->w[1][m];
        o->eps[m] = ystar[m] - o->y[m];
        o->loss += 0.5 * o->eps[m] * o->eps[m];
    }
    o->wbar1 = o->w[0][0] - o->w[1][0];
    o->wbar2 = o->w[1][1] - o->w[0][1];
    o->wbar = 0.5 * (o->wbar1 + o->wbar2);
    o->wbarbar = 0.5 * ((o->w[0][0] - o->w[0][1]) + (o->w[1][0] - o->w[1][1]));
    o->cbar = c[0] - c[1];
}

void ntas_reduced_coords(const ntas_reduced *r, int task, ntas_reduced_view *out)
{
    ntas_reduced_coords_of(r->nta.W, r->nta.c, task, out);
}

double ntas_reduced_eq23_wbar(double cbar, double cbar0, double wbar0, double ratio)
{
    double rad = wbar0 * wbar0 + 0.5 * ratio * (cbar * cbar - cbar0 * cbar0);
    if (rad < 0.0) return NAN;
    return copysign(sqrt(rad), wbar0);
}

double ntas_reduced_eq10_wbar(double cbar, double ratio)
{
    double rad = 1.0 - 0.5 * ratio * (1.0 - cbar * cbar);
    return rad < 0.0 ? NAN : sqrt(rad);
}

void ntas_reduced_project_rows(const double *teachers, const double *students, int d_out, int d_in,
                               double w[4])
{
    const size_t en = (size_t)d_out * (size_t)d_in;
    for (int p = 0; p < 2; p++)
        for (int m = 0; m < 2; m++) {
            double s = 0.0;
            for (int b = 0; b < d_out; b++) {
                const double *t = teachers + m * en + (size_t)b * d_in;
                const double *u = students + p * en + (size_t)b * d_in;
                double tu = 0.0, tt = 0.0;
                for (int j = 0; j < d_in; j++) {
                    tu += t[j] * u[j];
                    tt += t[j] * t[j];
                }
                s += tt > 0.0 ? tu / tt : 0.0;
            }
            w[p * 2 + m] = s / d_out;
        }
}
