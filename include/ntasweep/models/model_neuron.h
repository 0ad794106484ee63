/* model_neuron — the per-neuron gated NTA, y_i = sum_p c_pi (W_p x)_i
 * (App. A.8, SPEC-NOTES §6; the authors' "N_diag_mono" / "c_hadamard").
 *
 * Owns the parameters (W: P blocks of d_out x d_in, c: P x d_out gates, one
 * per row of each path), their gradients and the scratch of one step, all
 * allocated once in ntas_neuron_init. Same llm.c-style functions as
 * model_nta; the regulariser sees all P*d_out gates as one vector.
 */
#ifndef NTASWEEP_MODEL_NEURON_H
#define NTASWEEP_MODEL_NEURON_H

#include <stddef.h>

#include "ntasweep/config/params.h"
#include "ntasweep/core/rng.h"

typedef struct {
    int d_in, d_out, P;
    double *W;      /* P * d_out * d_in; row (p, i) at W[(p * d_out + i) * d_in] */
    double *c;      /* P * d_out; c[p * d_out + i] gates row i of path p */
    double *dW;     /* gradient of the total loss w.r.t. W */
    double *dc;     /* gradient w.r.t. c */
    double *W_eff;  /* forward cache: row i = sum_p c_pi W_p[i, :], d_out x d_in */
    double *G;      /* backward scratch: dY^T X, d_out x d_in */
} ntas_neuron;

int  ntas_neuron_init(ntas_neuron *m, int d_in, int d_out, int P, char *err, size_t errlen);
void ntas_neuron_free(ntas_neuron *m);

/* W_pij ~ N(0, sigma^2 / d_in), every gate c_pi = gate0 (the authors start
 * all per-neuron gates at 1/2, like the per-path ones). */
void ntas_neuron_init_params(ntas_neuron *m, double sigma, double gate0, ntas_rng *rng);

/* W_eff row i = sum_p c_pi W_p[i, :] into m->W_eff. */
void ntas_neuron_effective(ntas_neuron *m);

/* Y (B x d_out) = X W_eff^T (sets m->W_eff). */
void ntas_neuron_forward(ntas_neuron *m, const double *X, int B, double *Y);

/* Given m->G = dL_task/dW_eff (d_out x d_in), sets dW_p[i, :] = c_pi G[i, :]
 * and dc_pi = <W_p[i, :], G[i, :]> (overwriting dW, dc). */
void ntas_neuron_backward_G(ntas_neuron *m);

/* Given dY = dL_task/dY for the batch X of the last forward: G = dY^T X,
 * then ntas_neuron_backward_G. */
void ntas_neuron_backward(ntas_neuron *m, const double *X, const double *dY, int B);

/* Adds the gradients of L_reg over the P*d_out gates as one vector
 * (ntas_gate_reg) and of the weight cost lambda_w in the form p->weight_cost
 * (reg.h ntas_weight_cost) to dW, dc; returns their value. */
double ntas_neuron_reg_backward(ntas_neuron *m, const ntas_params *p);

/* Explicit Euler: W -= dt/tau_w dW, c -= dt/tau_c dc. Writes the Frobenius
 * norm of each path's weight update to norm_dW[P] and of the whole gate
 * update to *norm_dc; either may be NULL (no norm; same update bits). */
void ntas_neuron_step(ntas_neuron *m, double dt, double tau_w, double tau_c, double *norm_dW,
                      double *norm_dc);

/* Sorting of App. A.8 / B.4.1 with src_row from ntas_sort_rows (metrics.h)
 * over the P*d_out rows of W against the M*d_out base-teacher rows: sorted
 * student m row r is W row src_row[m*d_out + r] (students: M x d_out x d_in),
 * its gate is that row's c (gates: M x d_out), and gate_mean[m] is the mean
 * of student m's d_out gates (the authors' plotted "sorted c^p"). Any
 * output may be NULL. */
void ntas_neuron_sorted(const ntas_neuron *m, const int *src_row, int M, double *students,
                        double *gates, double *gate_mean);

#endif
