/* model_neuron — the per-neuron gated NTA, y_i = sum_p c_pi (W_p x)_i
 * (App. A.8, SPEC-NOTES §6; the authors' "N_diag_mono" / "c_hadamard").
 *
 * Owns the parameters (W: P blocks of d_out x d_in, c: P x d_out gates, one
 * per row of each path), their gradients and the scratch of one step, all
 * allocated once in ntas_neuron_init (an ntas_gated_paths block, gated_paths.h,
 * shared with model_nta). Same llm.c-style functions as model_nta; the
 * regulariser sees all P*d_out gates as one vector.
 */
#ifndef NTASWEEP_MODEL_NEURON_H
#define NTASWEEP_MODEL_NEURON_H

#include <stddef.h>

#include "ntasweep/config/params.h"
#include "ntasweep/core/rng.h"
#include "ntasweep/models/gated_paths.h"

/* The parameter block with one gate per row of each path (n_gates = P * d_out;
 * row (p, i) of W at W[(p * d_out + i) * d_in], gated by c[p * d_out + i]);
 * freed, initialised, regularised (all P*d_out gates as one vector) and
 * stepped by the ntas_gated_paths_* functions (gated_paths.h). */
typedef ntas_gated_paths ntas_neuron;

int ntas_neuron_init(ntas_neuron *m, int d_in, int d_out, int P, char *err, size_t errlen);

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

/* Sorting of App. A.8 / B.4.1 with src_row from ntas_sort_rows (metrics.h)
 * over the P*d_out rows of W against the M*d_out base-teacher rows: sorted
 * student m row r is W row src_row[m*d_out + r] (students: M x d_out x d_in),
 * its gate is that row's c (gates: M x d_out), and gate_mean[m] is the mean
 * of student m's d_out gates (the authors' plotted "sorted c^p"). Any
 * output may be NULL. */
void ntas_neuron_sorted(const ntas_neuron *m, const int *src_row, int M, double *students,
                        double *gates, double *gate_mean);

#endif
