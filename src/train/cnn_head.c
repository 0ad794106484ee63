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
#include "ntasweep/core/rng.h"

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

/* The CNN's own head as one parameter vector: W (10 x 64), then b. */
enum { HEAD_W = N_CLASS * N_FEAT, HEAD_N = HEAD_W + N_CLASS };

typedef struct {
    int alone;
    ntas_nta nta;
    double head[HEAD_N], grad[HEAD_N], adam_m[HEAD_N], adam_v[HEAD_N];
    int64_t adam_t;
    ntas_cnn_train_opts adamw;
} head;

/* logits (B x 10) of B feature rows X. */
static void head_forward(head *h, const double *X, int B, double *logits)
{
    if (!h->alone) {
        ntas_nta_forward(&h->nta, X, B, logits);
        return;
    }
    for (int b = 0; b < B; b++) memcpy(logits + (size_t)b * N_CLASS, h->head + HEAD_W, N_CLASS * sizeof(double));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, N_CLASS, N_FEAT, 1.0, X, N_FEAT, h->head, N_FEAT,
                1.0, logits, N_CLASS);
}

/* Fraction of the test images whose largest logit is the label under the task. */
static double test_accuracy(head *h, const ntas_features *f, const uint8_t *labels, double *logits)
{
    head_forward(h, f->test_x, f->s.n_test, logits);
    int correct = 0;
    for (int i = 0; i < f->s.n_test; i++) correct += ntas_argmax(logits + (size_t)i * N_CLASS, N_CLASS) == labels[i];
    return (double)correct / f->s.n_test;
}

int ntas_cnn_head_run(const ntas_params *p, uint64_t run_key, const ntas_features *f, ntas_run_result *r,
                      ntas_poll_fn poll, void *poll_ctx, char *err, size_t errlen)
{
    const int B = (int)p->batch, P = r->P, n = f->s.n_train, nt = f->s.n_test;
    const uint8_t *map = ntas_label_map_table((int)p->label_map);
    if (r->d_in != N_FEAT || r->d_out != N_CLASS || r->M != N_TASKS || !map || B < 1 || B > n || !r->accuracy) {
        snprintf(err, errlen, "model=cnn_%s needs d_in=64, d_out=10, teachers=2 and batch <= %d training images",
                 p->model == NTAS_MODEL_CNN_ALONE ? "alone" : "nta", n);
        return -1;
    }
    for (size_t i = 0; i < (size_t)r->n_tasks * N_CLASS * N_FEAT; i++) r->teachers[i] = NAN;

    head h;
    memset(&h, 0, sizeof h);
    h.alone = p->model == NTAS_MODEL_CNN_ALONE;
    uint8_t *train_y[N_TASKS] = {NULL, NULL}, *test_y[N_TASKS] = {NULL, NULL}, *y = NULL;
    int *perm[N_TASKS] = {NULL, NULL};
    double *X = NULL, *logits = NULL, *dlogits = NULL, *test_logits = NULL, *norm_dW = NULL;
    int rc = -1, nta_ready = 0;
    for (int t = 0; t < N_TASKS; t++) {
        train_y[t] = malloc((size_t)n);
        test_y[t] = malloc((size_t)nt);
        perm[t] = malloc((size_t)n * sizeof *perm[t]);
        if (!train_y[t] || !test_y[t] || !perm[t]) goto oom;
        const uint8_t *m = t == 0 ? label_maps[NTAS_LABELS_IDENTITY] : map;
        for (int i = 0; i < n; i++) train_y[t][i] = m[f->train_y[i] % N_CLASS];
        for (int i = 0; i < nt; i++) test_y[t][i] = m[f->test_y[i] % N_CLASS];
    }
    y = malloc((size_t)B);
    X = malloc((size_t)B * N_FEAT * sizeof *X);
    logits = malloc((size_t)B * N_CLASS * sizeof *logits);
    dlogits = malloc((size_t)B * N_CLASS * sizeof *dlogits);
    test_logits = malloc((size_t)nt * N_CLASS * sizeof *test_logits);
    norm_dW = malloc((size_t)P * sizeof *norm_dW);
    if (!y || !X || !logits || !dlogits || !test_logits || !norm_dW) goto oom;

    ntas_rng data_rng;
    ntas_rng_init(&data_rng, ntas_stream_key(run_key, "data"));
    if (h.alone) {
        /* Starts from the pretrained head: the CNN as it is, trained on. */
        memcpy(h.head, f->head_w, sizeof f->head_w);
        memcpy(h.head + HEAD_W, f->head_b, sizeof f->head_b);
        ntas_cnn_train_opts_defaults(&h.adamw);
    } else {
        if (ntas_nta_init(&h.nta, N_FEAT, N_CLASS, P, err, errlen) != 0) goto done;
        nta_ready = 1;
        ntas_rng init_rng;
        ntas_rng_init(&init_rng, ntas_stream_key(run_key, "init"));
        ntas_nta_init_params(&h.nta, p->init_sigma, 0.5, &init_rng);
    }

    int next[N_TASKS] = {n, n};   /* position in each task's epoch; n forces the first shuffle */
    const int64_t steps_per_block = ntas_params_steps_per_block(p), total = steps_per_block * p->n_blocks;
    rc = 0;
    for (int64_t k = 0; k < total; k++) {
        const int64_t block = k / steps_per_block, in_block = k % steps_per_block;
        const int task = (int)r->block_task[block];
        if (next[task] + B > n) {
            ntas_shuffle(perm[task], n, &data_rng);
            next[task] = 0;
        }
        for (int b = 0; b < B; b++) {
            const int i = perm[task][next[task] + b];
            memcpy(X + (size_t)b * N_FEAT, f->train_x + (size_t)i * N_FEAT, N_FEAT * sizeof *X);
            y[b] = train_y[task][i];
        }
        next[task] += B;

        head_forward(&h, X, B, logits);
        const double loss = ntas_log_softmax_xent(logits, y, B, N_CLASS, dlogits);
        if (!isfinite(loss)) {
            r->status = NTAS_STATUS_FAILED;
            snprintf(r->message, sizeof r->message, "diverged: task loss is %g at step %lld (t = %g)", loss,
                     (long long)k, (double)k * p->dt);
            goto done;
        }
        if (loss < NTAS_LOSS_THRESHOLD && isnan(r->time_to_threshold[block]))
            r->time_to_threshold[block] = (double)in_block * p->dt;

        const int record = k % p->record_every == 0;
        const int64_t rec = k / p->record_every;
        if (record) {
            r->loss[rec] = loss;
            if (!h.alone) memcpy(r->gates + rec * P, h.nta.c, (size_t)P * sizeof(double));
            r->accuracy[rec] = test_accuracy(&h, f, test_y[task], test_logits);
        }
        if (h.alone) {
            /* dL/dW = dlogits^T X, dL/db = column sums; one AdamW step. */
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N_CLASS, N_FEAT, B, 1.0, dlogits, N_CLASS, X,
                        N_FEAT, 0.0, h.grad, N_FEAT);
            memset(h.grad + HEAD_W, 0, N_CLASS * sizeof(double));
            for (int b = 0; b < B; b++)
                for (int j = 0; j < N_CLASS; j++) h.grad[HEAD_W + j] += dlogits[(size_t)b * N_CLASS + j];
            double before[HEAD_W];
            memcpy(before, h.head, sizeof before);
            ntas_adamw_update(h.head, h.grad, h.adam_m, h.adam_v, HEAD_N, ++h.adam_t, &h.adamw);
            if (record) {
                double sq = 0.0;
                for (int i = 0; i < HEAD_W; i++) sq += (h.head[i] - before[i]) * (h.head[i] - before[i]);
                r->update_norm_w[rec * P] = sqrt(sq);
            }
        } else {
            /* Eq. (1) with dY = dL/dlogits; L_reg on the gates (SPEC-NOTES §1, §8). */
            ntas_nta_backward(&h.nta, X, dlogits, B);
            ntas_nta_reg_backward(&h.nta, p);
            double norm_dc;
            ntas_nta_step(&h.nta, p->dt, p->tau_w, p->tau_c, norm_dW, &norm_dc);
            if (record) {
                memcpy(r->update_norm_w + rec * P, norm_dW, (size_t)P * sizeof(double));
                r->update_norm_c[rec] = norm_dc;
            }
        }
        if (poll && (k + 1) % POLL_EVERY == 0 && poll(poll_ctx)) {
            rc = 1;
            goto done;
        }
    }

    if (h.alone) {
        memcpy(r->students, h.head, HEAD_W * sizeof(double));
    } else {
        for (int i = 0; i < P; i++)
            if (!isfinite(h.nta.c[i])) {
                r->status = NTAS_STATUS_FAILED;
                snprintf(r->message, sizeof r->message, "diverged: final gate %d is %g", i, h.nta.c[i]);
                goto done;
            }
        memcpy(r->students, h.nta.W, (size_t)P * HEAD_W * sizeof(double));
        memcpy(r->gates_final, h.nta.c, (size_t)P * sizeof(double));
    }
    goto done;
oom:
    snprintf(err, errlen, "out of memory for a run on %d training and %d test features", n, nt);
    rc = -1;
done:
    for (int t = 0; t < N_TASKS; t++) {
        free(train_y[t]);
        free(test_y[t]);
        free(perm[t]);
    }
    free(y);
    free(X);
    free(logits);
    free(dlogits);
    free(test_logits);
    free(norm_dW);
    if (nta_ready) ntas_nta_free(&h.nta);
    return rc;
}
