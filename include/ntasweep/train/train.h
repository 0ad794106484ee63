/* train — one run: teachers, curriculum, model and the Euler loop, with metrics.
 *
 * Owns the one run loop every model goes through (model.h: the Euler block,
 * the divergence checks, the records, the poll), the task of the models
 * trained on linear teachers with its three data paths (key `data`: a
 * Gaussian batch, a Wishart draw of S = X^T X / B, or S = I), and the
 * sizing of ntas_run_result (results.h) from a run's params. A run's
 * randomness comes only from streams keyed by its run key ("init", "data")
 * and by teacher_seed, so it computes the same bits on any rank, in any order.
 */
#ifndef NTASWEEP_TRAIN_H
#define NTASWEEP_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "ntasweep/config/params.h"
#include "ntasweep/models/results.h"
#include "ntasweep/train/kernels.h"

/* Sizes r for a run with params p (its model's result groups, model_registry.h)
 * and allocates its arrays; free with ntas_run_result_free (results.h). */
int ntas_run_result_init(ntas_run_result *r, const ntas_params *p, char *err, size_t errlen);

/* Task loss L = 1/2 mean_b sum_i (y_b,i - y*_b,i)^2 (SPEC-NOTES §1) and its
 * gradient dY = (Y - Y*) / B. */
double ntas_mse(const double *Y, const double *Ystar, int B, int d_out, double *dY);

/* The task loss and G = dL/dW_eff of one step from D = W_eff - T, in its
 * batch, second-moment and Bartlett-factor forms: kernels.h. */
/* The data path a run takes (ntas_data_kind): p->data, except that
 * wishart with batch < d_in falls back to sampled (S would be singular:
 * no Bartlett factor), and reduced always computes the expected flow (its
 * batch is the fixed input x = 1, S = 1). */
int ntas_train_data_path(const ntas_params *p);

/* Called every few hundred steps; a non-zero return abandons the run
 * (the coordinator uses it to serve other ranks and to honour signals). */
typedef int (*ntas_poll_fn)(void *ctx);

/* Runs one training run. Returns 0 when the run finished (r->status is DONE,
 * or FAILED with r->message when it diverged), 1 when poll asked to abandon
 * it, -1 on an error (err filled). */
int ntas_train_run(const ntas_params *p, uint64_t run_key, ntas_run_result *r,
                   ntas_poll_fn poll, void *poll_ctx, char *err, size_t errlen);

/* The same for a run of any model, cnn_nta and cnn_alone included: those
 * train on features, the pretrained features of their dataset, cnn_steps
 * and cnn_seed (pretrain.h); ntas_train_run gives them none, an error. */
struct ntas_features_s;
int ntas_train_run_features(const ntas_params *p, uint64_t run_key, const struct ntas_features_s *features,
                            ntas_run_result *r, ntas_poll_fn poll, void *poll_ctx, char *err, size_t errlen);

#endif
