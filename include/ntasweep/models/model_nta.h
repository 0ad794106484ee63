/* model_nta — the Neural Task Abstraction model, y = sum_p c_p W_p x (Eq. 1).
 *
 * Owns the parameters (W: P blocks of d_out x d_in, c: P gates), their
 * gradients and the scratch of one step, all allocated once in ntas_nta_init.
 * llm.c style: forward, backward and step are plain functions over flat
 * row-major arrays; a batch X is B x d_in (one sample per row).
 */
#ifndef NTASWEEP_MODEL_NTA_H
#define NTASWEEP_MODEL_NTA_H

#include <stddef.h>

#include "ntasweep/config/params.h"
#include "ntasweep/core/rng.h"
#include "ntasweep/models/results.h"

typedef struct {
    int d_in, d_out, P;
    double *W;      /* P * d_out * d_in */
    double *c;      /* P */
    double *dW;     /* gradient of the total loss w.r.t. W */
    double *dc;     /* gradient w.r.t. c */
    double *W_eff;  /* forward cache: sum_p c_p W_p, d_out x d_in */
    double *G;      /* backward scratch: dY^T X, d_out x d_in */
} ntas_nta;

int  ntas_nta_init(ntas_nta *m, int d_in, int d_out, int P, char *err, size_t errlen);
void ntas_nta_free(ntas_nta *m);

/* W_pij ~ N(0, sigma^2 / d_in), c_p = gate0 (paper: sigma = 0.01, c = 1/2). */
void ntas_nta_init_params(ntas_nta *m, double sigma, double gate0, ntas_rng *rng);

/* W_eff = sum_p c_p W_p into m->W_eff (the model's map, Eq. 1). */
void ntas_nta_effective(ntas_nta *m);

/* Y (B x d_out) = X W_eff^T with W_eff = sum_p c_p W_p (sets m->W_eff). */
void ntas_nta_forward(ntas_nta *m, const double *X, int B, double *Y);

/* Given m->G = dL_task/dW_eff (d_out x d_in; = dY^T X for a batch, or
 * (W_eff - T) S from a second moment S, train.c), sets dW_p = c_p G and
 * dc_p = <W_p, G> (overwriting dW, dc). */
void ntas_nta_backward_G(ntas_nta *m);

/* Given dY = dL_task/dY (B x d_out) for the batch X used in forward, sets
 * G = dY^T X, then ntas_nta_backward_G. */
void ntas_nta_backward(ntas_nta *m, const double *X, const double *dY, int B);

/* Adds the gradients of L_reg(c) and of the weight cost lambda_w (App. A.3)
 * in the form p->weight_cost (reg.h ntas_weight_cost: squared
 * lambda_w / (2 P d_in) sum W^2, or the mean column 2-norm) to dW, dc;
 * returns their value. */
double ntas_nta_reg_backward(ntas_nta *m, const ntas_params *p);

/* Explicit Euler: W -= dt/tau_w dW, c -= dt/tau_c dc. Writes the Frobenius
 * norm of each path's update to norm_dW[P] and of the gate update to *norm_dc;
 * either may be NULL (no norm: the run loop asks only on record steps),
 * which leaves the update's bits unchanged. */
void ntas_nta_step(ntas_nta *m, double dt, double tau_w, double tau_c, double *norm_dW, double *norm_dc);

/* The final state into r (students, gates_final) if every gate is finite;
 * otherwise r->status FAILED with the message, and 1. Shared by the models
 * built on ntas_nta (nta, cnn_nta). */
int ntas_nta_finish_state(const ntas_nta *m, ntas_run_result *r);

/* Flops of one step of a model built like ntas_nta with `gates` gates
 * (W_eff, dW = c G, dc = <W, G>, Euler step and norms; model.h step_cost),
 * and with one gate per path (the step_cost of nta, reduced and the cnn heads). */
void ntas_nta_step_cost_gates(const ntas_params *p, double gates, double *gemm_flops, double *other_flops);
void ntas_nta_step_cost(const ntas_params *p, double *gemm_flops, double *other_flops);

#endif
