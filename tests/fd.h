/* fd — central finite differences for the models' gradient tests.
 * fd_worst perturbs each of n entries of x by +-h, evaluates loss(ctx) (the
 * value only, gradients untouched), and returns the worst relative error of
 * analytic[i] against (L+ - L-) / 2h. Relative to max(|a|, |fd|); absolute
 * below 1e-9, where relative error means nothing. fd_model and fd_check_model
 * are the fixture every model test shares: L_task + L_reg over two parameter
 * blocks, checked against fd_worst for each regulariser case of fd_reg_case. */
#ifndef NTASWEEP_TEST_FD_H
#define NTASWEEP_TEST_FD_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/config/params.h"

typedef double (*fd_loss_fn)(void *ctx);

static inline double fd_rel_err(double a, double n)
{
    double scale = fmax(fabs(a), fabs(n));
    return scale < 1e-9 ? fabs(a - n) : fabs(a - n) / scale;
}

static inline double fd_worst(fd_loss_fn loss, void *ctx, double *x, const double *analytic, int n)
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

/* A model under test, seen through two callbacks: task(ctx, grads) is the
 * forward pass and the task loss, plus the backward pass into g[] when
 * grads != 0; reg(ctx) returns the regulariser's value and adds its gradient
 * to g[] (the models' *_reg_backward). x[k], g[k]: the two parameter blocks
 * (W and c, or W1 and W2) and their gradients, n[k] entries each. */
typedef struct {
    void *ctx;
    double (*task)(void *ctx, int grads);
    double (*reg)(void *ctx);
    double *x[2], *g[2];
    int n[2];
} fd_model;

/* L_task + L_reg at the current parameters; with grads != 0 the analytic
 * gradient is left in g[]. The value alone leaves g[] as it was, although
 * *_reg_backward can only add to it: g[] is saved and restored around it. */
static inline double fd_total_loss(fd_model *m, int grads)
{
    double loss = m->task(m->ctx, grads);
    if (grads) return loss + m->reg(m->ctx);
    double *saved[2];
    for (int k = 0; k < 2; k++) {
        saved[k] = malloc((size_t)m->n[k] * sizeof(double));
        if (!saved[k]) abort(); /* a test of a few hundred doubles */
        memcpy(saved[k], m->g[k], (size_t)m->n[k] * sizeof(double));
    }
    loss += m->reg(m->ctx);
    for (int k = 0; k < 2; k++) {
        memcpy(m->g[k], saved[k], (size_t)m->n[k] * sizeof(double));
        free(saved[k]);
    }
    return loss;
}

static inline double fd_total_loss_value(void *m)
{
    return fd_total_loss(m, 0);
}

/* Every entry of both blocks against central differences; prints and
 * returns the worst relative error. */
static inline double fd_check_model(fd_model *m, const char *label)
{
    fd_total_loss(m, 1);
    double worst = 0.0;
    for (int k = 0; k < 2; k++) {
        double *analytic = malloc((size_t)m->n[k] * sizeof(double));
        if (!analytic) abort();
        memcpy(analytic, m->g[k], (size_t)m->n[k] * sizeof(double));
        worst = fmax(worst, fd_worst(fd_total_loss_value, m, m->x[k], analytic, m->n[k]));
        free(analytic);
    }
    printf("%-34s worst relative error %.3g\n", label, worst);
    return worst;
}

/* One regulariser setting of a gradient test (the rest of params as set up). */
typedef struct {
    const char *label;
    double lambda_nonneg, lambda_norm, lambda_w;
    int norm;
} fd_reg_case;

static inline void fd_apply_case(ntas_params *p, const fd_reg_case *c)
{
    p->lambda_nonneg = c->lambda_nonneg;
    p->lambda_norm = c->lambda_norm;
    p->lambda_w = c->lambda_w;
    p->norm = c->norm;
}

#endif
