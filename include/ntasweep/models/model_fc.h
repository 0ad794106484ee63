/* model_fc — the 2-layer fully-connected linear network y = W2 W1 x with a
 * fast, regularised second layer (Sec. 7, App. A.4, B.6, SPEC-NOTES §5).
 *
 * Owns W1 (d_hid x d_in), W2 (d_out x d_hid), their gradients and the
 * scratch of one step, all allocated once in ntas_fc_init; d_hid = P * d_out
 * (P "paths" worth of hidden units). Every entry of W2 is a gate for
 * ntas_gate_reg. Also owns the sorting of W1 rows into P students and of W2
 * columns into their gates (App. B.4.1).
 */
#ifndef NTASWEEP_MODEL_FC_H
#define NTASWEEP_MODEL_FC_H

#include <stddef.h>

#include "ntasweep/config/params.h"
#include "ntasweep/core/rng.h"

typedef struct {
    int d_in, d_hid, d_out;
    double *W1;     /* d_hid x d_in: its rows are the P stacked students */
    double *W2;     /* d_out x d_hid: every entry is a gate */
    double *dW1;    /* gradient of the total loss w.r.t. W1 */
    double *dW2;    /* gradient w.r.t. W2 */
    double *W_eff;  /* forward cache: W2 W1, d_out x d_in */
    double *G;      /* backward scratch: dY^T X, d_out x d_in */
} ntas_fc;

/* d_hid = P * d_out in the paper (20 = 2 * 10); any positive d_hid works. */
int  ntas_fc_init(ntas_fc *m, int d_in, int d_hid, int d_out, char *err, size_t errlen);
void ntas_fc_free(ntas_fc *m);

/* Both layers ~ N(0, sigma^2 / d_in) with d_in the network's input size
 * (the authors' std = initialization_scale / sqrt(input_size) for every
 * layer; SPEC-NOTES §5 "init like NTA for both layers"). W1 is drawn first,
 * then W2, from the one stream. */
void ntas_fc_init_params(ntas_fc *m, double sigma, ntas_rng *rng);

/* W_eff = W2 W1 into m->W_eff. */
void ntas_fc_effective(ntas_fc *m);

/* Y (B x d_out) = X (W2 W1)^T (sets m->W_eff). */
void ntas_fc_forward(ntas_fc *m, const double *X, int B, double *Y);

/* Given m->G = dL_task/dW_eff (d_out x d_in), sets dW1 = W2^T G and
 * dW2 = G W1^T (overwriting both). */
void ntas_fc_backward_G(ntas_fc *m);

/* Given dY = dL_task/dY for the batch X of the last forward: G = dY^T X,
 * then ntas_fc_backward_G. The same as backpropagating through H = X W1^T,
 * without a B x d_hid buffer. */
void ntas_fc_backward(ntas_fc *m, const double *X, const double *dY, int B);

/* Adds the gradients of L_reg with all d_out*d_hid entries of W2 as the gate
 * vector (nonneg on every entry; lambda_norm (||W2||_k - 1)^2 with k from
 * p->norm, so the paper's L2 setting is the Frobenius norm of W2 with target
 * 1, the authors' gating_manifold_L2 on W2.flatten()) and of the weight cost
 * lambda_w in the form p->weight_cost (reg.h ntas_weight_cost; squared:
 * lambda_w / (2 P d_in) sum W1^2) with P = d_hid / d_out (W1 stacks the P
 * students, so this is model_nta's term) to dW1, dW2; returns their value. */
double ntas_fc_reg_backward(ntas_fc *m, const ntas_params *p);

/* Explicit Euler with one time constant per layer: W1 -= dt/tau_w1 dW1,
 * W2 -= dt/tau_w2 dW2 (the paper's tau_w and tau_c columns for this model,
 * Table 2: 0.06 and 0.01). Writes the Frobenius norms of the two updates;
 * either pointer may be NULL (no norm; same update bits). */
void ntas_fc_step(ntas_fc *m, double dt, double tau_w1, double tau_w2, double *norm_dW1,
                  double *norm_dW2);

/* Sorting of App. B.4.1 with src_row from ntas_sort_rows (metrics.h) over
 * the d_hid rows of W1 against the M*d_out base-teacher rows: sorted student
 * t row r is W1 row h = src_row[t*d_out + r] (students: M x d_out x d_in),
 * column r of its W2 block is W2's column h (W2_blocks: M x d_out x d_out),
 * and gates[t] is the mean of all d_out*d_out entries of block t (the
 * authors' np.mean(sorted_W2_student[:, :, p], axis=(2, 3))). Any output may
 * be NULL. */
void ntas_fc_sorted(const ntas_fc *m, const int *src_row, int M, double *students,
                    double *W2_blocks, double *gates);

#endif
