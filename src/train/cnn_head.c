/* cnn_head — heads on pretrained CNN features. See cnn_head.h.
 *
 * Why each task keeps its own permutation and position: the authors' code
 * keeps one batch counter per task, so a task resumes its epoch where the
 * previous block of that task left it, whatever the other task drew. */
#include "ntasweep/train/cnn_head.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/models/cnn.h"
#include "ntasweep/tasks/metrics.h"
#include "ntasweep/models/model_nta.h"
#include "ntasweep/core/err.h"
#include "ntasweep/core/rng.h"
#include "ntasweep/train/run_task.h"

#define POLL_EVERY 256
enum { N_FEAT = NTAS_CNN_FEATURES, N_CLASS = NTAS_CNN_CLASSES, N_TASKS = 2 };

/* SPEC-NOTES §8, written as table[original label] = new label. */
static const uint8_t label_maps[4][N_CLASS] = {
    /* identity */ {0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
    /* parity: y -> floor(y/2) + 5 (y mod 2) (Fig. 7A) */ {0, 5, 1, 6, 2, 7, 3, 8, 4, 9},
    /* upper_lower: upper-body items first, order 0,2,4,6,8,1,3,5,7,9 (Fig. A.15 left) */
    {0, 5, 1, 6, 2, 7, 3, 8, 4, 9},
    /* warm_cold: order 0,1,5,3,7,6,2,4,8,9 (Fig. A.15 right) */ {0, 1, 6, 3, 7, 2, 5, 4, 8, 9},
};

const uint8_t *ntas_label_map_table(int kind)
{
    return kind >= 0 && kind < 4 ? label_maps[kind] : NULL;
}

/* ---- the task: batches of pretrained features, cross-entropy ---------------- */

typedef struct {
    const ntas_features *f;
    int B, n, nt;
    uint8_t *train_y[N_TASKS], *test_y[N_TASKS], *y;
    int *perm[N_TASKS];
    int next[N_TASKS];    /* position in each task's epoch; n forces the first shuffle */
    double *X, *logits, *dlogits, *test_logits;
    ntas_rng data_rng;
} feature_task;

static void feature_free(void *state)
{
    feature_task *t = state;
    if (!t) return;
    for (int k = 0; k < N_TASKS; k++) {
        free(t->train_y[k]);
        free(t->test_y[k]);
        free(t->perm[k]);
    }
    free(t->y);
    free(t->X);
    free(t->logits);
    free(t->dlogits);
    free(t->test_logits);
    free(t);
}

static int feature_init(void **state, const ntas_params *p, uint64_t run_key, const void *data,
                        const ntas_model_ops *m, ntas_run_result *r, char *err, size_t errlen)
{
    const ntas_features *f = data;
    const int B = (int)p->batch, n = f->s.n_train, nt = f->s.n_test;
    const uint8_t *map = ntas_label_map_table((int)p->label_map);
    if (r->d_in != N_FEAT || r->d_out != N_CLASS || r->M != N_TASKS || !map || B < 1 || B > n || !r->accuracy) {
        ntas_set_err(err, errlen, "model=%s needs d_in=64, d_out=10, teachers=2 and batch <= %d training images",
                     m->name, n);
        return -1;
    }
    for (size_t i = 0; i < (size_t)r->n_tasks * N_CLASS * N_FEAT; i++) r->teachers[i] = NAN;
    feature_task *t = calloc(1, sizeof *t);
    if (!t) goto oom;
    t->f = f;
    t->B = B;
    t->n = n;
    t->nt = nt;
    for (int k = 0; k < N_TASKS; k++) {
        t->next[k] = n;
        t->train_y[k] = malloc((size_t)n);
        t->test_y[k] = malloc((size_t)nt);
        t->perm[k] = malloc((size_t)n * sizeof *t->perm[k]);
        if (!t->train_y[k] || !t->test_y[k] || !t->perm[k]) goto oom;
        const uint8_t *mk = k == 0 ? label_maps[NTAS_LABELS_IDENTITY] : map;
        for (int i = 0; i < n; i++) t->train_y[k][i] = mk[f->train_y[i] % N_CLASS];
        for (int i = 0; i < nt; i++) t->test_y[k][i] = mk[f->test_y[i] % N_CLASS];
    }
    t->y = malloc((size_t)B);
    t->X = malloc((size_t)B * N_FEAT * sizeof *t->X);
    t->logits = malloc((size_t)B * N_CLASS * sizeof *t->logits);
    t->dlogits = malloc((size_t)B * N_CLASS * sizeof *t->dlogits);
    t->test_logits = malloc((size_t)nt * N_CLASS * sizeof *t->test_logits);
    if (!t->y || !t->X || !t->logits || !t->dlogits || !t->test_logits) goto oom;
    ntas_rng_init(&t->data_rng, ntas_stream_key(run_key, "data"));
    *state = t;
    return 0;
oom:
    feature_free(t);
    ntas_set_err(err, errlen, "out of memory for a run on %d training and %d test features", n, nt);
    return -1;
}

/* The next B images of the task's epoch, the batch cross-entropy and dL/dlogits. */
static double feature_loss_grad(void *state, const ntas_model_ops *m, void *model, int task,
                                const ntas_loss_need *need, ntas_task_grad *g)
{
    (void)need; /* always exact */
    feature_task *t = state;
    const int B = t->B;
    if (t->next[task] + B > t->n) {
        ntas_shuffle(t->perm[task], t->n, &t->data_rng);
        t->next[task] = 0;
    }
    for (int b = 0; b < B; b++) {
        const int i = t->perm[task][t->next[task] + b];
        memcpy(t->X + (size_t)b * N_FEAT, t->f->train_x + (size_t)i * N_FEAT, N_FEAT * sizeof *t->X);
        t->y[b] = t->train_y[task][i];
    }
    t->next[task] += B;
    m->forward(model, t->X, B, t->logits);
    g->X = t->X;
    g->dY = t->dlogits;
    g->B = B;
    return ntas_log_softmax_xent(t->logits, t->y, B, N_CLASS, t->dlogits);
}

/* Fraction of the test images whose largest logit is the label under the task. */
static void feature_record(void *state, const ntas_model_ops *m, void *model, int task, ntas_run_result *r,
                           int64_t rec)
{
    feature_task *t = state;
    m->forward(model, t->f->test_x, t->nt, t->test_logits);
    int correct = 0;
    for (int i = 0; i < t->nt; i++)
        correct += ntas_argmax(t->test_logits + (size_t)i * N_CLASS, N_CLASS) == t->test_y[task][i];
    r->accuracy[rec] = (double)correct / t->nt;
}

const ntas_task_ops ntas_task_features = {
    .init = feature_init,
    .free = feature_free,
    .loss_grad = feature_loss_grad,
    .record = feature_record,
};

/* ---- cnn_nta: the NTA head (model_nta's functions on the features) --------- */

static int cnn_nta_init(void **state, const ntas_model_ctx *ctx, char *err, size_t errlen)
{
    return ntas_model_nta.init(state, ctx, err, errlen);
}

static void cnn_nta_record(void *state, ntas_run_result *r, int64_t rec, int task)
{
    const ntas_nta *m = state;
    memcpy(r->gates + rec * m->P, m->c, (size_t)m->P * sizeof(double));
}

static int cnn_nta_finish(void *state, const ntas_params *p, ntas_run_result *r, char *err, size_t errlen)
{
    ntas_nta_finish_state(state, r);
    return 0;
}

static void cnn_nta_free(void *state)
{
    ntas_model_nta.free(state);
}

static void cnn_nta_forward(void *state, const double *X, int B, double *Y)
{
    ntas_model_nta.forward(state, X, B, Y);
}

/* Eq. (1) with dY = dL/dlogits; L_reg on the gates (SPEC-NOTES §1, §8). */
static void cnn_nta_backward(void *state, const ntas_params *p, const ntas_task_grad *g)
{
    ntas_model_nta.backward(state, p, g);
}

static void cnn_nta_step(void *state, const ntas_params *p, double *norm_dW, double *norm_dc)
{
    ntas_model_nta.step(state, p, norm_dW, norm_dc);
}

static const double *cnn_nta_gate_values(void *state, int *n)
{
    return ntas_model_nta.gate_values(state, n);
}

static const double *cnn_nta_path_weights(void *state, int path)
{
    return ntas_model_nta.path_weights(state, path);
}

const ntas_model_ops ntas_model_cnn_nta = {
    .name = "cnn_nta",
    .kind = NTAS_MODEL_CNN_NTA,
    .task = NTAS_TASK_FEATURES,
    .groups = NTAS_RG_BIT(NTAS_RG_CNN),
    .init = cnn_nta_init,
    .free = cnn_nta_free,
    .forward = cnn_nta_forward,
    .backward = cnn_nta_backward,
    .step = cnn_nta_step,
    .gate_values = cnn_nta_gate_values,
    .path_weights = cnn_nta_path_weights,
    .record = cnn_nta_record,
    .finish = cnn_nta_finish,
    .step_cost = ntas_nta_step_cost,
};

/* ---- cnn_alone: the CNN's own head, trained on by AdamW ----------------------
 * One parameter vector: W (10 x 64), then b. Starts from the pretrained head:
 * the CNN as it is, trained on. */
enum { HEAD_W = N_CLASS * N_FEAT, HEAD_N = HEAD_W + N_CLASS };

typedef struct {
    int P;
    double head[HEAD_N], grad[HEAD_N], adam_m[HEAD_N], adam_v[HEAD_N];
    int64_t adam_t;
    ntas_cnn_train_opts adamw;
} alone_head;

static int alone_init(void **state, const ntas_model_ctx *ctx, char *err, size_t errlen)
{
    const ntas_features *f = ctx->data;
    alone_head *h = calloc(1, sizeof *h);
    if (!h) {
        ntas_set_err(err, errlen, "out of memory");
        return -1;
    }
    h->P = (int)ctx->p->paths;
    memcpy(h->head, f->head_w, sizeof f->head_w);
    memcpy(h->head + HEAD_W, f->head_b, sizeof f->head_b);
    ntas_cnn_train_opts_defaults(&h->adamw);
    *state = h;
    return 0;
}

static void alone_free(void *state)
{
    free(state);
}

/* logits (B x 10) = b + X W^T. */
static void alone_forward(void *state, const double *X, int B, double *logits)
{
    const alone_head *h = state;
    for (int b = 0; b < B; b++) memcpy(logits + (size_t)b * N_CLASS, h->head + HEAD_W, N_CLASS * sizeof(double));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, N_CLASS, N_FEAT, 1.0, X, N_FEAT, h->head, N_FEAT,
                1.0, logits, N_CLASS);
}

/* dL/dW = dlogits^T X, dL/db = column sums of dlogits. */
static void alone_backward(void *state, const ntas_params *p, const ntas_task_grad *g)
{
    alone_head *h = state;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N_CLASS, N_FEAT, g->B, 1.0, g->dY, N_CLASS, g->X,
                N_FEAT, 0.0, h->grad, N_FEAT);
    memset(h->grad + HEAD_W, 0, N_CLASS * sizeof(double));
    for (int b = 0; b < g->B; b++)
        for (int j = 0; j < N_CLASS; j++) h->grad[HEAD_W + j] += g->dY[(size_t)b * N_CLASS + j];
}

/* One AdamW step; norm_dW[0] is ||dW|| of the head, the other paths and
 * the gates have none (NaN). */
static void alone_step(void *state, const ntas_params *p, double *norm_dW, double *norm_dc)
{
    alone_head *h = state;
    double before[HEAD_W];
    if (norm_dW) memcpy(before, h->head, sizeof before);
    ntas_adamw_update(h->head, h->grad, h->adam_m, h->adam_v, HEAD_N, ++h->adam_t, &h->adamw);
    if (norm_dc) *norm_dc = NAN;
    if (!norm_dW) return;
    double sq = 0.0;
    for (int i = 0; i < HEAD_W; i++) sq += (h->head[i] - before[i]) * (h->head[i] - before[i]);
    norm_dW[0] = sqrt(sq);
    for (int q = 1; q < h->P; q++) norm_dW[q] = NAN;
}

static const double *alone_path_weights(void *state, int path)
{
    return path == 0 ? ((alone_head *)state)->head : NULL;
}

static void alone_record(void *state, ntas_run_result *r, int64_t rec, int task)
{
    /* No gates: they stay NaN. */
}

static int alone_finish(void *state, const ntas_params *p, ntas_run_result *r, char *err, size_t errlen)
{
    memcpy(r->students, ((alone_head *)state)->head, HEAD_W * sizeof(double));
    return 0;
}

const ntas_model_ops ntas_model_cnn_alone = {
    .name = "cnn_alone",
    .kind = NTAS_MODEL_CNN_ALONE,
    .task = NTAS_TASK_FEATURES,
    .groups = NTAS_RG_BIT(NTAS_RG_CNN),
    .init = alone_init,
    .free = alone_free,
    .forward = alone_forward,
    .backward = alone_backward,
    .step = alone_step,
    .path_weights = alone_path_weights,
    .record = alone_record,
    .finish = alone_finish,
    .step_cost = ntas_nta_step_cost, /* counted as an NTA head, as the cost model always did */
};
