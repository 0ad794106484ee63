/* train — one run: teachers, curriculum, model and the Euler loop, with metrics.
 *
 * Owns ntas_run_result (every array a run produces, sized from its params) and
 * the training loop that fills it, with its three data paths (key `data`:
 * a Gaussian batch, a Wishart draw of S = X^T X / B, or S = I). A run's
 * randomness comes only from streams keyed by its run key ("init", "data")
 * and by teacher_seed, so it computes the same bits on any rank, in any order.
 */
#ifndef NTASWEEP_TRAIN_H
#define NTASWEEP_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "ntasweep/config/params.h"

enum { NTAS_STATUS_PENDING = 0, NTAS_STATUS_DONE = 1, NTAS_STATUS_FAILED = 2 };
#define NTAS_MESSAGE_LEN 128

typedef struct {
    int64_t n_records, n_blocks;
    int model;                 /* ntas_model_kind */
    int P, M, d_out, d_in;
    int n_tasks;               /* M base teachers + composites (teachers.h) */
    int d_hid;                 /* fc: P * d_out hidden units; 0 otherwise */
    /* Every model. For nta_neuron and fc, "path" p < M in cos_sim, gates
     * and gates_final is the sorted student of teacher p (App. B.4.1; rows
     * sorted once per run on the row cosines averaged over records), and
     * p >= M is NaN; students stays the raw W (fc: W1 as P blocks). For
     * reduced, cos_sim, specialization and total_alignment are NaN. */
    double *loss;              /* [n_records] task loss of the batch at each recorded step (wishart:
                                * from its S; expected: 1/2 ||W_eff - T||_F^2) */
    double *gates;             /* [n_records][P] gates before that step's update */
    double *cos_sim;           /* [n_records][M][P] against the M base teachers */
    double *update_norm_w;     /* [n_records][P] ||dt/tau_w dW_p||_F of that step (fc: W1 row block p) */
    double *update_norm_c;     /* [n_records] (fc: ||dt/tau_w2 dW2||_F) */
    double *time_to_threshold; /* [n_blocks] time from block start to loss < 0.1, NaN if never */
    double *block_task;        /* [n_blocks] index into the task list of each block's task */
    double *teachers;          /* [n_tasks][d_out][d_in] base teachers, then composites */
    double *students;          /* [P][d_out][d_in] final W */
    double *gates_final;       /* [P] */
    double specialization, total_alignment;   /* of the final state */
    /* nta_neuron and fc (NULL otherwise). */
    double *row_source;        /* [M][d_out] W row (neuron: p*d_out+i; fc: hidden unit) of sorted student m row r */
    double *sorted_alignment;  /* [n_records] mean over m, r of cos(teacher m row r, sorted student m row r) */
    /* nta_neuron (NULL otherwise). */
    double *neuron_gates;      /* [n_records][P][d_out] raw gates c_pi */
    double *neuron_gates_final;/* [P][d_out] */
    /* fc (NULL otherwise). */
    double *fc_w2;             /* [n_records][d_out][d_hid] second layer */
    double *fc_w2_final;       /* [d_out][d_hid] */
    /* reduced (NULL otherwise): ntas_reduced_view before each recorded step. */
    double *reduced_w;         /* [n_records][2][2] w^{p+1}_{m+1} */
    double *reduced_eps;       /* [n_records][2] eps_m = (y* - y)_m */
    double *wbar_task;         /* [n_records][2] wbar_1, wbar_2 */
    double *wbar, *wbarbar, *cbar; /* [n_records] */
    double *eq10_wbar;         /* [n_records] Eq. (10) at the recorded cbar, ratio tau_c/tau_w */
    /* cnn_nta, cnn_alone (NULL otherwise; cnn_head.h). */
    double *accuracy;          /* [n_records] test accuracy under the current block's task labels */
    int status;                /* NTAS_STATUS_DONE or NTAS_STATUS_FAILED */
    char message[NTAS_MESSAGE_LEN];
} ntas_run_result;

int  ntas_run_result_init(ntas_run_result *r, const ntas_params *p, char *err, size_t errlen);
void ntas_run_result_free(ntas_run_result *r);

/* Task loss L = 1/2 mean_b sum_i (y_b,i - y*_b,i)^2 (SPEC-NOTES §1) and its
 * gradient dY = (Y - Y*) / B. */
double ntas_mse(const double *Y, const double *Ystar, int B, int d_out, double *dY);

/* The task loss and G = dL/dW_eff (d_out x d_in) of one step from
 * D = W_eff - T (the linear teacher T of the step's task), for the squared
 * loss above. Batch form: X (B x d_in) the inputs, E (B x d_out) scratch
 * that ends as Y - Y* = X D^T; L = 1/2 mean_b |e_b|^2, G = E^T X / B. Two
 * GEMMs: the targets X T^T are never formed. */
double ntas_task_grad_batch(const double *D, const double *X, int B, int d_out, int d_in, double *E,
                            double *G);
/* Second-moment form: the same loss and G depend on X only through
 * S = X^T X / B (d_in x d_in, symmetric): G = D S, L = 1/2 tr(D S D^T)
 * = 1/2 <G, D>. S = NULL means S = I (the B -> infinity limit, G = D,
 * L = 1/2 ||W_eff - T||_F^2). */
double ntas_task_grad_moment(const double *D, const double *S, int d_out, int d_in, double *G);

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
