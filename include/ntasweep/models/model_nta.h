/* model_nta — the Neural Task Abstraction model, y = sum_p c_p W_p x (Eq. 1).
 *
 * Owns the parameters (W: P blocks of d_out x d_in, c: P gates), their
 * gradients and the scratch of one step, all allocated once in ntas_nta_init
 * (an ntas_gated_paths block, gated_paths.h, shared with model_neuron).
 * llm.c style: forward, backward and step are plain functions over flat
 * row-major arrays; a batch X is B x d_in (one sample per row).
 */
#ifndef NTASWEEP_MODEL_NTA_H
#define NTASWEEP_MODEL_NTA_H

#include <stddef.h>

#include "ntasweep/config/params.h"
#include "ntasweep/core/rng.h"
#include "ntasweep/models/gated_paths.h"
#include "ntasweep/models/results.h"

/* The parameter block with one gate per path (n_gates = P); freed, initialised,
 * regularised and stepped by the ntas_gated_paths_* functions (gated_paths.h). */
typedef ntas_gated_paths ntas_nta;

int ntas_nta_init(ntas_nta *m, int d_in, int d_out, int P, char *err, size_t errlen);

/* W_eff = sum_p c_p W_p into m->W_eff (the model's map, Eq. 1): per
 * weight, s = fma(c_p, W_p, s) from s = 0, p increasing (one rounding per
 * path; on every CPU the same bits). */
void ntas_nta_effective(ntas_nta *m);

/* Y (B x d_out) = X W_eff^T with W_eff = sum_p c_p W_p (sets m->W_eff). */
void ntas_nta_forward(ntas_nta *m, const double *X, int B, double *Y);

/* Given m->G = dL_task/dW_eff (d_out x d_in; = dY^T X for a batch, or
 * (W_eff - T) S from a second moment S, train.c), sets dW_p = c_p G and
 * dc_p = <W_p, G> (overwriting dW, dc). */
void ntas_nta_backward_G(ntas_nta *m);

/* dc_p = <W_p, G> alone, and the Euler step that takes dW_p = c_p G from
 * m->G instead of m->dW (the same bits as backward_G + ntas_gated_paths_step
 * when nothing else adds to dW): the run loop's pair when lambda_w = 0. */
void ntas_nta_backward_dc(ntas_nta *m);
void ntas_nta_step_from_G(ntas_nta *m, double dt, double tau_w, double tau_c, double *norm_dW, double *norm_dc);

/* Given dY = dL_task/dY (B x d_out) for the batch X used in forward, sets
 * G = dY^T X, then ntas_nta_backward_G. */
void ntas_nta_backward(ntas_nta *m, const double *X, const double *dY, int B);

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
