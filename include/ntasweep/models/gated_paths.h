/* gated_paths — the parameter block of the path-gated linear models:
 * P weight blocks W_p (d_out x d_in each) and n_gates gates, with their
 * gradients and the scratch of one step, and what both models do the same
 * way with it (allocation, initialisation, regulariser and weight-cost
 * gradients, the Euler step, the GEMMs with W_eff and G).
 *
 * model_nta has one gate per path (n_gates = P, Eq. 1); model_neuron one per
 * row of each path (n_gates = P * d_out, App. A.8). How the gates combine the
 * blocks (W_eff, dW, dc) stays in each model's own file.
 */
#ifndef NTASWEEP_GATED_PATHS_H
#define NTASWEEP_GATED_PATHS_H

#include <stddef.h>

#include "ntasweep/config/params.h"
#include "ntasweep/core/rng.h"

/* Put before a function whose floating-point work is elementwise (or
 * summed serially): GCC then also compiles AVX-512 and AVX2 clones and
 * picks the widest the CPU has at load time. Wider vectors change no bits
 * there (no reassociation, and no contraction in ISO C mode: neither
 * target enables FMA). Elsewhere empty. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define NTAS_ELEMENTWISE_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NTAS_ELEMENTWISE_CLONES
#endif

typedef struct {
    int d_in, d_out, P;
    int n_gates;    /* P (model_nta) or P * d_out (model_neuron) */
    double *W;      /* P * d_out * d_in; block p at W[p * d_out * d_in] */
    double *c;      /* n_gates */
    double *dW;     /* gradient of the total loss w.r.t. W */
    double *dc;     /* gradient w.r.t. c */
    double *W_eff;  /* forward cache: the model's map, d_out x d_in */
    double *G;      /* backward scratch: dL_task/dW_eff = dY^T X, d_out x d_in */
} ntas_gated_paths;

/* Allocates every array (zeroed) for sizes that must be positive; gates_per_path
 * is 1 or d_out. `what` names the model in the error message ("NTA model"). */
int  ntas_gated_paths_init(ntas_gated_paths *m, int d_in, int d_out, int P, int gates_per_path,
                           const char *what, char *err, size_t errlen);
void ntas_gated_paths_free(ntas_gated_paths *m);

/* W_pij ~ N(0, sigma^2 / d_in), every gate = gate0 (paper: sigma = 0.01, c = 1/2). */
void ntas_gated_paths_init_params(ntas_gated_paths *m, double sigma, double gate0, ntas_rng *rng);

/* The run's starting state: W from the run's init stream (init_seed, see
 * params.h) as above, and the gates as p->init_gates says: 1/2 (default),
 * or drawn from a stream of their own ("init_gates", derived from the init
 * stream), not from W's. (A drawn start changes the run key and with it the
 * run's streams: W is the same as with gates at 1/2 only under init_seed.) */
void ntas_gated_paths_start(ntas_gated_paths *m, const ntas_params *p, uint64_t run_key);

/* Y (B x d_out) = X W_eff^T with the W_eff the model last computed. */
void ntas_gated_paths_apply(const ntas_gated_paths *m, const double *X, int B, double *Y);

/* G = dY^T X for the batch X (B x d_in) and dY = dL_task/dY (B x d_out). */
void ntas_gated_paths_task_G(ntas_gated_paths *m, const double *X, const double *dY, int B);

/* Adds the gradients of L_reg over the n_gates gates as one vector
 * (ntas_gate_reg) and of the weight cost lambda_w (App. A.3) in the form
 * p->weight_cost (reg.h ntas_weight_cost) to dW, dc; returns their value. */
double ntas_gated_paths_reg_backward(ntas_gated_paths *m, const ntas_params *p);

/* Explicit Euler: W -= dt/tau_w dW, c -= dt/tau_c dc. Writes the Frobenius
 * norm of each path's weight update to norm_dW[P] and of the whole gate
 * update to *norm_dc; either may be NULL (no norm: the run loop asks only on
 * record steps), which leaves the update's bits unchanged. */
void ntas_gated_paths_step(ntas_gated_paths *m, double dt, double tau_w, double tau_c, double *norm_dW,
                           double *norm_dc);
/* Its gate half alone, with kc = dt / tau_c (for a model whose weight
 * update is computed otherwise: model_nta's step from G). */
void ntas_gated_paths_step_gates(ntas_gated_paths *m, double kc, double *norm_dc);

/* Block `path` of W, or NULL past the last path (model.h path_weights). */
const double *ntas_gated_paths_block(const ntas_gated_paths *m, int path);

#endif
