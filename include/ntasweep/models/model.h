/* model — the interface every model implements, one table of functions.
 *
 * Owns the contract between a model and the one run loop (train/train.c):
 * the loop asks a task (linear teachers, or the CNN features) for the loss
 * of each step and the gradient it leaves in the model, then calls the
 * model's backward (regulariser included), step (with the update norms) and
 * record; at the end, finish writes the final state and metrics (and sorts
 * rows where the model needs it). A model's table lives in its own .c next
 * to its forward/backward; the registry (train/model_registry.h) lists the
 * tables. docs/adding-a-model.md is the recipe.
 */
#ifndef NTASWEEP_MODEL_H
#define NTASWEEP_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "ntasweep/config/params.h"
#include "ntasweep/models/results.h"

/* What a model learns from (the run loop's tasks). */
typedef enum {
    NTAS_TASK_TEACHERS, /* linear teachers, squared loss; the data key chooses the batch (train.h) */
    NTAS_TASK_FEATURES  /* pretrained CNN features, cross-entropy over 10 classes (cnn_head.h) */
} ntas_task_kind;

/* What a model's init gets. */
typedef struct {
    const ntas_params *p;
    uint64_t run_key;     /* streams: ntas_stream_key(run_key, "init") for the initial state */
    int64_t n_records;
    const void *data;     /* NTAS_TASK_FEATURES: the run's ntas_features (train/features.h); else NULL */
} ntas_model_ctx;

/* The task gradient the loop hands to backward: with X non-NULL, dY =
 * dL/dY (B x d_out) of the batch X (B x d_in) just passed to forward;
 * with X NULL, the model's grad buffer (effective) holds G = dL/dW_eff. */
typedef struct {
    const double *X;
    const double *dY;
    int B;
} ntas_task_grad;

typedef struct ntas_model_ops {
    const char *name;     /* the `model` choice (params.c) */
    int kind;             /* ntas_model_kind */
    int task;             /* ntas_task_kind */
    unsigned groups;      /* NTAS_RG_BIT of the model's own result groups (NTAS_RG_ALL and
                           * NTAS_RG_TASKS are added by the registry) */
    /* 1: the model's batch is fixed (reduced: x = 1), so it always takes the
     * expected data path whatever the `data` key says (train.h). */
    int expected_only;
    /* Hidden units of the result's "hidden" axis (NULL: 0). */
    int (*hidden_units)(const ntas_params *p);
    /* NTAS_TASK_TEACHERS: writes the model's own fixed teachers (n_tasks
     * blocks of d_out x d_in) instead of building them from the teacher
     * keys; NULL: teachers.h builds them. Returns 0 or -1. */
    int (*own_teachers)(const ntas_params *p, double *teachers, char *err, size_t errlen);
    /* Allocates and initialises *state from ctx. 0 or -1 (err filled). */
    int (*init)(void **state, const ntas_model_ctx *ctx, char *err, size_t errlen);
    void (*free)(void *state);
    /* W_eff (d_out x d_in) of the current state, and in *G the buffer where
     * the task writes dL/dW_eff for backward. NULL for models without one. */
    const double *(*effective)(void *state, double **G);
    /* Y (B x d_out) of a batch X (B x d_in); NULL if the model only trains
     * through effective. */
    void (*forward)(void *state, const double *X, int B, double *Y);
    /* Parameter gradients of task + regulariser from g (see ntas_task_grad). */
    void (*backward)(void *state, const ntas_params *p, const ntas_task_grad *g);
    /* One update; norm_dW[P] per path, *norm_dc of the gates (NaN where a
     * model has none). Both are NULL on the steps the loop does not record
     * (summing the norms every step cost a pass over the weights): the
     * update itself must then be bit for bit the same. */
    void (*step)(void *state, const ntas_params *p, double *norm_dW, double *norm_dc);
    /* The model's gates as one vector of *n doubles (nta, cnn_nta, reduced:
     * c_p; nta_neuron: the per-neuron c_pi), for the run loop's every-step
     * max |dc/dt| (max_dc_dt); NULL op: the model has no gate vector. */
    const double *(*gate_values)(void *state, int *n);
    /* Path p's weights (d_out x d_in), or NULL if the model has no path p. */
    const double *(*path_weights)(void *state, int path);
    /* Records the model's own results of record rec (state before the step;
     * task: the index of the block's task). */
    void (*record)(void *state, ntas_run_result *r, int64_t rec, int task);
    /* After the last step: the final state and metrics into r; a non-finite
     * final state sets r->status FAILED with r->message. 0, or -1 on an
     * error (err filled). */
    int (*finish)(void *state, const ntas_params *p, ntas_run_result *r, char *err, size_t errlen);

    /* The benchmark (train/bench.h). step_cost adds the model's flops of one
     * step (W_eff, backward, regulariser, Euler step and norms; the task's
     * share is bench.c's) to *gemm_flops and *other_flops; NULL: none
     * counted. bench_params sets the model's own settings for a bench row
     * (NULL: the defaults); in_bench: a row of `ntasweep bench`'s table. */
    void (*step_cost)(const ntas_params *p, double *gemm_flops, double *other_flops);
    void (*bench_params)(ntas_params *p);
    int in_bench;
} ntas_model_ops;

/* The tables of the models in this layer (the cnn heads are in train/cnn_head.h). */
extern const ntas_model_ops ntas_model_nta;
extern const ntas_model_ops ntas_model_nta_neuron;
extern const ntas_model_ops ntas_model_fc;
extern const ntas_model_ops ntas_model_reduced;

/* What nta_neuron and fc keep for the sorting of App. B.4.1: the row
 * cosines of every record, then the sorted rows. */
typedef struct {
    int P, M, d_out, d_in;
    double *rowcos;       /* [n_records][P*d_out][M*d_out] */
    int *src_row;         /* [M*d_out] */
    double *sorted_w;     /* [M][d_out][d_in] sorted students */
} ntas_sorted_rows;

int  ntas_sorted_rows_init(ntas_sorted_rows *s, const ntas_params *p, int64_t n_records, char *err,
                           size_t errlen);
void ntas_sorted_rows_free(ntas_sorted_rows *s);
/* Row cosines of the P*d_out rows (d_in each) against the base teachers' rows at record rec. */
void ntas_sorted_rows_record(ntas_sorted_rows *s, const double *rows, const double *teachers, int64_t rec);
/* The tail of a sorted model's finish, after ntas_finish_sorted and the
 * model's own sorted() into s->sorted_w: sorted student m is teacher m's,
 * so specialization (mean matched cos_sim) and total alignment are both the
 * sorted alignment of App. B.4.1. */
void ntas_sorted_rows_alignment(const ntas_sorted_rows *s, ntas_run_result *r);
/* 1 (and r FAILED with the message) if one of the n final gates g is not finite. */
int ntas_sorted_rows_diverged(const double *g, size_t n, ntas_run_result *r);

/* The gates of sorted student s at record k for the row sorting below. */
typedef double (*ntas_sorted_gate_fn)(const ntas_run_result *r, int64_t k, const int *src_row, int s);

/* Sorting of App. B.4.1 once per run (nta_neuron, fc): the row cosines
 * rowcos [n_rec][P*d_out][M*d_out] averaged over records decide src_row
 * (M*d_out); every record's cos_sim, gates (gate_of) and sorted alignment
 * are then computed for the sorted students, and row_source is written. */
int ntas_finish_sorted(ntas_run_result *r, const double *rowcos, int64_t n_rec, int *src_row,
                       ntas_sorted_gate_fn gate_of, char *err, size_t errlen);

/* Frobenius norm of n doubles. */
double ntas_norm2(const double *a, size_t n);
/* Two of them at once, each summed as ntas_norm2 sums it (the same bits):
 * two independent chains of adds take the time of one. */
void ntas_norm2_pair(const double *a, const double *b, size_t n, double *norm_a, double *norm_b);

#endif
