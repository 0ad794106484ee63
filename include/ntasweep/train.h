/* train — one run: teachers, curriculum, model and the Euler loop, with metrics.
 *
 * Owns ntas_run_result (every array a run produces, sized from its params) and
 * the training loop that fills it. A run's randomness comes only from streams
 * keyed by its run key ("init", "data") and by teacher_seed, so it computes
 * the same bits on any rank, in any order.
 */
#ifndef NTASWEEP_TRAIN_H
#define NTASWEEP_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "ntasweep/params.h"

enum { NTAS_STATUS_PENDING = 0, NTAS_STATUS_DONE = 1, NTAS_STATUS_FAILED = 2 };
#define NTAS_MESSAGE_LEN 128

typedef struct {
    int64_t n_records, n_blocks;
    int P, M, d_out, d_in;
    double *loss;              /* [n_records] task loss of the batch at each recorded step */
    double *gates;             /* [n_records][P] gates before that step's update */
    double *cos_sim;           /* [n_records][M][P] */
    double *update_norm_w;     /* [n_records][P] ||dt/tau_w dW_p||_F of that step */
    double *update_norm_c;     /* [n_records] */
    double *time_to_threshold; /* [n_blocks] time from block start to loss < 0.1, NaN if never */
    double *teachers;          /* [M][d_out][d_in] */
    double *students;          /* [P][d_out][d_in] final W */
    double *gates_final;       /* [P] */
    double specialization, total_alignment;   /* of the final state */
    int status;                /* NTAS_STATUS_DONE or NTAS_STATUS_FAILED */
    char message[NTAS_MESSAGE_LEN];
} ntas_run_result;

int  ntas_run_result_init(ntas_run_result *r, const ntas_params *p, char *err, size_t errlen);
void ntas_run_result_free(ntas_run_result *r);

/* Task loss L = 1/2 mean_b sum_i (y_b,i - y*_b,i)^2 (SPEC-NOTES §1) and its
 * gradient dY = (Y - Y*) / B. */
double ntas_mse(const double *Y, const double *Ystar, int B, int d_out, double *dY);

/* Called every few hundred steps; a non-zero return abandons the run
 * (the coordinator uses it to serve other ranks and to honour signals). */
typedef int (*ntas_poll_fn)(void *ctx);

/* Runs one training run. Returns 0 when the run finished (r->status is DONE,
 * or FAILED with r->message when it diverged), 1 when poll asked to abandon
 * it, -1 on an error (err filled). */
int ntas_train_run(const ntas_params *p, uint64_t run_key, ntas_run_result *r,
                   ntas_poll_fn poll, void *poll_ctx, char *err, size_t errlen);

#endif
