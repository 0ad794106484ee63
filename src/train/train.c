/* train — the Euler loop of one run. See train.h. */
#include "ntasweep/train/train.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/train/cnn_head.h"
#include "ntasweep/tasks/curriculum.h"
#include "ntasweep/tasks/metrics.h"
#include "ntasweep/models/model_fc.h"
#include "ntasweep/models/model_nta.h"
#include "ntasweep/models/model_neuron.h"
#include "ntasweep/models/model_reduced.h"
#include "ntasweep/core/rng.h"
#include "ntasweep/tasks/teachers.h"
#include "ntasweep/tasks/wishart.h"

#define POLL_EVERY 256

/* Every array of the result, with its length in doubles (0: not used by
 * this run's model). One table for allocation, freeing and NaN filling. */
typedef struct { double **a; size_t n; } slot;

static int slots(ntas_run_result *r, slot *out)
{
    size_t nr = (size_t)r->n_records, P = (size_t)r->P, M = (size_t)r->M;
    size_t dO = (size_t)r->d_out, en = dO * (size_t)r->d_in, nb = (size_t)r->n_blocks;
    int sorted = r->model == NTAS_MODEL_NTA_NEURON || r->model == NTAS_MODEL_FC;
    int neuron = r->model == NTAS_MODEL_NTA_NEURON, fc = r->model == NTAS_MODEL_FC;
    int red = r->model == NTAS_MODEL_REDUCED;
    size_t w2 = dO * (size_t)r->d_hid;
    slot all[] = {
        {&r->loss, nr}, {&r->gates, nr * P}, {&r->cos_sim, nr * M * P}, {&r->update_norm_w, nr * P},
        {&r->update_norm_c, nr}, {&r->time_to_threshold, nb}, {&r->block_task, nb},
        {&r->teachers, (size_t)r->n_tasks * en}, {&r->students, P * en}, {&r->gates_final, P},
        {&r->row_source, sorted ? M * dO : 0}, {&r->sorted_alignment, sorted ? nr : 0},
        {&r->neuron_gates, neuron ? nr * P * dO : 0}, {&r->neuron_gates_final, neuron ? P * dO : 0},
        {&r->fc_w2, fc ? nr * w2 : 0}, {&r->fc_w2_final, fc ? w2 : 0},
        {&r->reduced_w, red ? nr * 4 : 0}, {&r->reduced_eps, red ? nr * 2 : 0},
        {&r->wbar_task, red ? nr * 2 : 0}, {&r->wbar, red ? nr : 0}, {&r->wbarbar, red ? nr : 0},
        {&r->cbar, red ? nr : 0}, {&r->eq10_wbar, red ? nr : 0},
        {&r->accuracy, r->model == NTAS_MODEL_CNN_NTA || r->model == NTAS_MODEL_CNN_ALONE ? nr : 0},
    };
    int n = (int)(sizeof all / sizeof all[0]);
    for (int i = 0; i < n; i++) out[i] = all[i];
    return n;
}
#define MAX_SLOTS 32

int ntas_run_result_init(ntas_run_result *r, const ntas_params *p, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->n_records = ntas_params_n_records(p);
    r->n_blocks = p->n_blocks;
    r->model = (int)p->model;
    r->P = (int)p->paths;
    r->M = (int)p->teachers;
    r->d_out = (int)p->d_out;
    r->d_in = (int)p->d_in;
    r->d_hid = p->model == NTAS_MODEL_FC ? r->P * r->d_out : 0;
    int64_t n_tasks = ntas_params_n_tasks(p);
    if (n_tasks < r->M) {
        snprintf(err, errlen, "invalid teacher options (run ntasweep validate)");
        return -1;
    }
    r->n_tasks = (int)n_tasks;
    slot s[MAX_SLOTS];
    int n = slots(r, s);
    for (int i = 0; i < n; i++) {
        if (s[i].n == 0) continue;
        *s[i].a = malloc(s[i].n * sizeof(double));
        if (!*s[i].a) {
            ntas_run_result_free(r);
            snprintf(err, errlen, "out of memory for the results of one run (%lld records)", (long long)r->n_records);
            return -1;
        }
    }
    return 0;
}

void ntas_run_result_free(ntas_run_result *r)
{
    slot s[MAX_SLOTS];
    int n = slots(r, s);
    for (int i = 0; i < n; i++) free(*s[i].a);
    memset(r, 0, sizeof *r);
}

double ntas_mse(const double *Y, const double *Ystar, int B, int d_out, double *dY)
{
    size_t n = (size_t)B * (size_t)d_out;
    double sq = 0.0, inv_b = 1.0 / B;
    for (size_t i = 0; i < n; i++) {
        double e = Y[i] - Ystar[i];
        sq += e * e;
        dY[i] = e * inv_b;
    }
    return 0.5 * sq * inv_b;
}

double ntas_task_grad_batch(const double *D, const double *X, int B, int d_out, int d_in, double *E,
                            double *G)
{
    /* E = X D^T = Y - Y* in one GEMM (Y* = X T^T is never formed). */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, d_out, d_in, 1.0, X, d_in, D, d_in, 0.0, E,
                d_out);
    const size_t n = (size_t)B * (size_t)d_out;
    double sq = 0.0;
    for (size_t i = 0; i < n; i++) sq += E[i] * E[i];
    /* G = dY^T X with dY = E / B: the 1/B rides on the GEMM's alpha. */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d_out, d_in, B, 1.0 / B, E, d_out, X, d_in,
                0.0, G, d_in);
    return 0.5 * sq / B;
}

double ntas_task_grad_moment(const double *D, const double *S, int d_out, int d_in, double *G)
{
    const size_t en = (size_t)d_out * (size_t)d_in;
    if (S)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d_out, d_in, d_in, 1.0, D, d_in, S, d_in,
                    0.0, G, d_in);
    else
        memcpy(G, D, en * sizeof *G);
    /* L = 1/2 tr(D S D^T) = 1/2 <D S, D> (S symmetric). */
    double sq = 0.0;
    for (size_t i = 0; i < en; i++) sq += G[i] * D[i];
    return 0.5 * sq;
}

/* Fill every slot a run may leave unwritten (a divergence stops it early),
 * so a failed run's arrays read as NaN rather than as stale numbers. */
static void fill_nan(ntas_run_result *r)
{
    slot s[MAX_SLOTS];
    int n = slots(r, s);
    for (int k = 0; k < n; k++)
        if (*s[k].a && *s[k].a != r->teachers)
            for (size_t i = 0; i < s[k].n; i++) (*s[k].a)[i] = NAN;
    r->specialization = NAN;
    r->total_alignment = NAN;
}

/* The three batch models behind one set of calls (nta, nta_neuron, fc). */
typedef struct {
    int kind;
    ntas_nta nta;
    ntas_neuron neu;
    ntas_fc fc;
} model;

static int model_init(model *m, const ntas_params *p, ntas_rng *init_rng, char *err, size_t errlen)
{
    const int d_in = (int)p->d_in, d_out = (int)p->d_out, P = (int)p->paths;
    memset(m, 0, sizeof *m);
    m->kind = (int)p->model;
    switch (m->kind) {
    case NTAS_MODEL_NTA_NEURON:
        if (ntas_neuron_init(&m->neu, d_in, d_out, P, err, errlen) != 0) return -1;
        ntas_neuron_init_params(&m->neu, p->init_sigma, 0.5, init_rng);
        return 0;
    case NTAS_MODEL_FC:
        if (ntas_fc_init(&m->fc, d_in, P * d_out, d_out, err, errlen) != 0) return -1;
        ntas_fc_init_params(&m->fc, p->init_sigma, init_rng);
        return 0;
    default:
        if (ntas_nta_init(&m->nta, d_in, d_out, P, err, errlen) != 0) return -1;
        ntas_nta_init_params(&m->nta, p->init_sigma, 0.5, init_rng);
        return 0;
    }
}

static void model_free(model *m)
{
    if (m->kind == NTAS_MODEL_NTA_NEURON) ntas_neuron_free(&m->neu);
    else if (m->kind == NTAS_MODEL_FC) ntas_fc_free(&m->fc);
    else ntas_nta_free(&m->nta);
}

/* W_eff of the current state (the model's own buffer). */
static const double *model_effective(model *m)
{
    if (m->kind == NTAS_MODEL_NTA_NEURON) {
        ntas_neuron_effective(&m->neu);
        return m->neu.W_eff;
    }
    if (m->kind == NTAS_MODEL_FC) {
        ntas_fc_effective(&m->fc);
        return m->fc.W_eff;
    }
    ntas_nta_effective(&m->nta);
    return m->nta.W_eff;
}

/* Where the task gradient dL/dW_eff goes before model_backward. */
static double *model_G(model *m)
{
    return m->kind == NTAS_MODEL_NTA_NEURON ? m->neu.G : m->kind == NTAS_MODEL_FC ? m->fc.G : m->nta.G;
}

/* Parameter gradients from model_G, plus the regularisers. */
static void model_backward(model *m, const ntas_params *p)
{
    if (m->kind == NTAS_MODEL_NTA_NEURON) {
        ntas_neuron_backward_G(&m->neu);
        ntas_neuron_reg_backward(&m->neu, p);
    } else if (m->kind == NTAS_MODEL_FC) {
        ntas_fc_backward_G(&m->fc);
        ntas_fc_reg_backward(&m->fc, p);
    } else {
        ntas_nta_backward_G(&m->nta);
        ntas_nta_reg_backward(&m->nta, p);
    }
}

/* Euler step; norm_dW[p] per path (fc: per block of d_out rows of W1),
 * *norm_dc of the gates (fc: of W2). */
static void model_step(model *m, const ntas_params *p, double *norm_dW, double *norm_dc)
{
    if (m->kind == NTAS_MODEL_NTA_NEURON) {
        ntas_neuron_step(&m->neu, p->dt, p->tau_w, p->tau_c, norm_dW, norm_dc);
    } else if (m->kind == NTAS_MODEL_FC) {
        const ntas_fc *f = &m->fc;
        const int P = (int)p->paths;
        const size_t block = (size_t)f->d_hid / (size_t)P * (size_t)f->d_in;
        const double k = p->dt / p->tau_w;
        for (int q = 0; q < P; q++) {
            double sq = 0.0;
            for (size_t i = 0; i < block; i++) {
                double u = k * f->dW1[(size_t)q * block + i];
                sq += u * u;
            }
            norm_dW[q] = sqrt(sq);
        }
        double whole;
        ntas_fc_step(&m->fc, p->dt, p->tau_w, p->tau_w2, &whole, norm_dc);
    } else {
        ntas_nta_step(&m->nta, p->dt, p->tau_w, p->tau_c, norm_dW, norm_dc);
    }
}

/* Rows that are sorted to teachers (neuron: W; fc: W1), P * d_out of them. */
static const double *model_rows(const model *m)
{
    return m->kind == NTAS_MODEL_FC ? m->fc.W1 : m->neu.W;
}

/* Sorting of App. B.4.1 once per run: mean row cosines over the records
 * decide src_row; every record's cos_sim, gates and sorted alignment are
 * then computed for the sorted students from that record's row cosines and
 * raw gates. */
static int finish_sorted(ntas_run_result *r, const double *rowcos, int64_t n_rec, int *src_row,
                         char *err, size_t errlen)
{
    const int P = r->P, M = r->M, d_out = r->d_out;
    const size_t nrow = (size_t)P * (size_t)d_out, ntrow = (size_t)M * (size_t)d_out, cell = nrow * ntrow;
    double *mean = calloc(cell, sizeof *mean);
    if (!mean) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int64_t k = 0; k < n_rec; k++)
        for (size_t i = 0; i < cell; i++) mean[i] += rowcos[(size_t)k * cell + i];
    for (size_t i = 0; i < cell; i++) mean[i] /= (double)(n_rec > 0 ? n_rec : 1);
    ntas_sort_rows(mean, (int)nrow, (int)ntrow, src_row);
    free(mean);
    for (size_t i = 0; i < ntrow; i++) r->row_source[i] = src_row[i];
    for (int64_t k = 0; k < n_rec; k++) {
        const double *rc = rowcos + (size_t)k * cell;
        double *cs = r->cos_sim + (size_t)k * (size_t)M * (size_t)P, *g = r->gates + (size_t)k * (size_t)P;
        double align = 0.0;
        for (int s = 0; s < M; s++) {
            for (int t = 0; t < M; t++) {
                double sum = 0.0;
                for (int row = 0; row < d_out; row++)
                    sum += rc[(size_t)src_row[s * d_out + row] * ntrow + (size_t)(t * d_out + row)];
                cs[t * P + s] = sum / d_out;
            }
            align += cs[s * P + s];
            double gs = 0.0;
            if (r->model == NTAS_MODEL_NTA_NEURON) {
                const double *c = r->neuron_gates + (size_t)k * nrow;
                for (int row = 0; row < d_out; row++) gs += c[src_row[s * d_out + row]];
                g[s] = gs / d_out;
            } else {
                const double *w2 = r->fc_w2 + (size_t)k * (size_t)d_out * (size_t)r->d_hid;
                for (int row = 0; row < d_out; row++)
                    for (int i = 0; i < d_out; i++) gs += w2[(size_t)i * (size_t)r->d_hid + (size_t)src_row[s * d_out + row]];
                g[s] = gs / ((double)d_out * d_out);
            }
        }
        r->sorted_alignment[k] = align / M;
    }
    return 0;
}

static int train_reduced(const ntas_params *p, uint64_t run_key, ntas_run_result *r, ntas_poll_fn poll,
                         void *poll_ctx, char *err, size_t errlen)
{
    ntas_reduced red;
    if (ntas_reduced_init(&red, err, errlen) != 0) return -1;
    if (p->reduced_init == NTAS_REDUCED_SPECIALIZED) {
        ntas_reduced_init_specialized(&red);
    } else if (p->reduced_init == NTAS_REDUCED_COLLAPSED) {
        ntas_reduced_init_collapsed(&red);
    } else {
        ntas_rng init_rng;
        ntas_rng_init(&init_rng, ntas_stream_key(run_key, "init"));
        ntas_reduced_init_random(&red, p->init_sigma, 0.5, &init_rng);
    }
    /* Teachers e_1, e_2: blocks of d_out = 2 rows, d_in = 1. */
    const double eye[4] = {1, 0, 0, 1};
    memcpy(r->teachers, eye, sizeof eye);
    const double ratio = p->tau_c / p->tau_w;
    const int64_t steps_per_block = ntas_params_steps_per_block(p), total = steps_per_block * p->n_blocks;
    int rc = 0;
    for (int64_t k = 0; k < total; k++) {
        const int64_t block = k / steps_per_block, in_block = k % steps_per_block;
        const int task = (int)r->block_task[block];
        ntas_reduced_view v;
        ntas_reduced_coords(&red, task, &v);
        double w0[4], c0[2];
        memcpy(w0, red.nta.W, sizeof w0);
        memcpy(c0, red.nta.c, sizeof c0);
        double loss = ntas_reduced_step(&red, task, p, p->dt, p->tau_w, p->tau_c);
        if (!isfinite(loss)) {
            r->status = NTAS_STATUS_FAILED;
            snprintf(r->message, sizeof r->message, "diverged: task loss is %g at step %lld (t = %g)",
                     loss, (long long)k, (double)k * p->dt);
            goto done;
        }
        if (loss < NTAS_LOSS_THRESHOLD && isnan(r->time_to_threshold[block]))
            r->time_to_threshold[block] = (double)in_block * p->dt;
        if (k % p->record_every == 0) {
            const int64_t rec = k / p->record_every;
            r->loss[rec] = loss;
            r->gates[rec * 2] = v.c[0];
            r->gates[rec * 2 + 1] = v.c[1];
            for (int q = 0; q < 2; q++) {
                double sq = 0.0;
                for (int m = 0; m < 2; m++) {
                    double u = red.nta.W[q * 2 + m] - w0[q * 2 + m];
                    sq += u * u;
                    r->reduced_w[rec * 4 + q * 2 + m] = v.w[q][m];
                }
                r->update_norm_w[rec * 2 + q] = sqrt(sq);
            }
            r->update_norm_c[rec] = hypot(red.nta.c[0] - c0[0], red.nta.c[1] - c0[1]);
            r->reduced_eps[rec * 2] = v.eps[0];
            r->reduced_eps[rec * 2 + 1] = v.eps[1];
            r->wbar_task[rec * 2] = v.wbar1;
            r->wbar_task[rec * 2 + 1] = v.wbar2;
            r->wbar[rec] = v.wbar;
            r->wbarbar[rec] = v.wbarbar;
            r->cbar[rec] = v.cbar;
            r->eq10_wbar[rec] = ntas_reduced_eq10_wbar(v.cbar, ratio);
        }
        if (poll && (k + 1) % POLL_EVERY == 0 && poll(poll_ctx)) {
            rc = 1;
            goto done;
        }
    }
    memcpy(r->students, red.nta.W, 4 * sizeof(double));
    memcpy(r->gates_final, red.nta.c, 2 * sizeof(double));
done:
    ntas_reduced_free(&red);
    return rc;
}

int ntas_train_data_path(const ntas_params *p)
{
    if (p->model == NTAS_MODEL_REDUCED) return NTAS_DATA_EXPECTED; /* x = 1: S = 1 whatever data says */
    if (p->data == NTAS_DATA_WISHART && p->batch < p->d_in) return NTAS_DATA_SAMPLED;
    return (int)p->data;
}

int ntas_train_run(const ntas_params *p, uint64_t run_key, ntas_run_result *r,
                   ntas_poll_fn poll, void *poll_ctx, char *err, size_t errlen)
{
    return ntas_train_run_features(p, run_key, NULL, r, poll, poll_ctx, err, errlen);
}

int ntas_train_run_features(const ntas_params *p, uint64_t run_key, const ntas_features *features,
                            ntas_run_result *r, ntas_poll_fn poll, void *poll_ctx, char *err, size_t errlen)
{
    const int B = (int)p->batch, d_in = r->d_in, d_out = r->d_out, P = r->P, M = r->M;
    const size_t en = (size_t)d_out * (size_t)d_in;
    fill_nan(r);
    r->status = NTAS_STATUS_DONE;
    r->message[0] = '\0';

    for (int64_t b = 0; b < p->n_blocks; b++) {
        int task = ntas_curriculum_block_task((ntas_curriculum_kind)p->curriculum, M, r->n_tasks - M,
                                              p->n_blocks, b);
        if (task < 0 || task >= r->n_tasks) {
            snprintf(err, errlen, "curriculum has no task for block %lld (run ntasweep validate)", (long long)b);
            return -1;
        }
        r->block_task[b] = task;
    }
    if (p->model == NTAS_MODEL_REDUCED) return train_reduced(p, run_key, r, poll, poll_ctx, err, errlen);
    if (ntas_params_cnn_model(p)) {
        if (!features) {
            snprintf(err, errlen, "model=%s needs the pretrained features of its dataset (pretrain.h)",
                     p->model == NTAS_MODEL_CNN_NTA ? "cnn_nta" : "cnn_alone");
            return -1;
        }
        return ntas_cnn_head_run(p, run_key, features, r, poll, poll_ctx, err, errlen);
    }

    ntas_teacher_opts topts;
    ntas_params_teacher_opts(p, &topts);
    if (ntas_teachers_build(&topts, r->teachers, err, errlen) != r->n_tasks) return -1;

    const int sorted = ntas_params_sorted_model(p);
    const size_t nrow = (size_t)P * (size_t)d_out, ntrow = (size_t)M * (size_t)d_out;
    const int data = ntas_train_data_path(p);
    model mdl;
    ntas_rng init_rng, data_rng;
    ntas_wishart ws;
    memset(&ws, 0, sizeof ws);
    ntas_rng_init(&init_rng, ntas_stream_key(run_key, "init"));
    ntas_rng_init(&data_rng, ntas_stream_key(run_key, "data"));
    if (model_init(&mdl, p, &init_rng, err, errlen) != 0) return -1;
    /* Every buffer of the loop is allocated here, none per step. */
    const int batch = data == NTAS_DATA_SAMPLED;
    double *X = batch ? malloc((size_t)B * (size_t)d_in * sizeof *X) : NULL;
    double *E = batch ? malloc((size_t)B * (size_t)d_out * sizeof *E) : NULL;
    double *S = data == NTAS_DATA_WISHART ? malloc((size_t)d_in * (size_t)d_in * sizeof *S) : NULL;
    double *D = malloc(en * sizeof *D);
    double *norm_dW = malloc((size_t)P * sizeof *norm_dW);
    double *rowcos = sorted ? malloc((size_t)r->n_records * nrow * ntrow * sizeof *rowcos) : NULL;
    int *src_row = sorted ? malloc(ntrow * sizeof *src_row) : NULL;
    double *sorted_w = sorted ? malloc(ntrow * (size_t)d_in * sizeof *sorted_w) : NULL;
    double *cs = malloc((size_t)M * (size_t)P * sizeof *cs);
    int rc = 0;
    if ((batch && (!X || !E)) || (data == NTAS_DATA_WISHART && !S) || !D || !norm_dW || !cs ||
        (sorted && (!rowcos || !src_row || !sorted_w))) {
        snprintf(err, errlen, "out of memory for a batch of %d", B);
        rc = -1;
        goto done;
    }
    if (data == NTAS_DATA_WISHART && ntas_wishart_init(&ws, d_in, B, err, errlen) != 0) {
        rc = -1;
        goto done;
    }

    const int64_t steps_per_block = ntas_params_steps_per_block(p);
    const int64_t total = steps_per_block * p->n_blocks;
    double *G = model_G(&mdl);
    for (int64_t k = 0; k < total; k++) {
        const int64_t block = k / steps_per_block, in_block = k % steps_per_block;
        const double *T = r->teachers + (size_t)r->block_task[block] * en;

        /* The batch enters only through dL/dW_eff = G (teachers are linear,
         * the loss squared): D = W_eff - T, then G from a fresh Gaussian
         * batch X (G = D X^T X / B, fused: E = X D^T, G = E^T X / B), from
         * S = X^T X / B drawn directly (G = D S), or from S = I (G = D). */
        const double *W_eff = model_effective(&mdl);
        for (size_t i = 0; i < en; i++) D[i] = W_eff[i] - T[i];
        double loss;
        if (data == NTAS_DATA_SAMPLED) {
            ntas_rng_normal_fill(&data_rng, X, (size_t)B * (size_t)d_in);
            loss = ntas_task_grad_batch(D, X, B, d_out, d_in, E, G);
        } else if (data == NTAS_DATA_WISHART) {
            ntas_wishart_sample(&ws, &data_rng, S);
            loss = ntas_task_grad_moment(D, S, d_out, d_in, G);
        } else {
            loss = ntas_task_grad_moment(D, NULL, d_out, d_in, G);
        }
        if (p->scaling == NTAS_SCALING_UNIT) {
            /* L_task averaged, not summed, over the outputs: the loss and its
             * gradient shrink by 1/d_out (the authors' earlier runs). */
            loss /= d_out;
            cblas_dscal((int)en, 1.0 / d_out, G, 1);
        }
        if (!isfinite(loss)) {
            r->status = NTAS_STATUS_FAILED;
            snprintf(r->message, sizeof r->message, "diverged: task loss is %g at step %lld (t = %g)",
                     loss, (long long)k, (double)k * p->dt);
            goto done;
        }
        model_backward(&mdl, p);

        /* Time to threshold uses every step, not the down-sampled record. */
        if (loss < NTAS_LOSS_THRESHOLD && isnan(r->time_to_threshold[block]))
            r->time_to_threshold[block] = (double)in_block * p->dt;

        const int record = k % p->record_every == 0;
        const int64_t rec = k / p->record_every;
        if (record) {
            r->loss[rec] = loss;
            if (mdl.kind == NTAS_MODEL_NTA) {
                memcpy(r->gates + rec * P, mdl.nta.c, (size_t)P * sizeof(double));
                ntas_cos_sim(r->teachers, M, mdl.nta.W, P, d_out, d_in, r->cos_sim + rec * M * P);
            } else {
                /* Sorted after the run, from these row cosines and raw gates. */
                ntas_row_cosines(model_rows(&mdl), (int)nrow, r->teachers, (int)ntrow, d_in,
                                 rowcos + (size_t)rec * nrow * ntrow);
                if (mdl.kind == NTAS_MODEL_NTA_NEURON)
                    memcpy(r->neuron_gates + (size_t)rec * nrow, mdl.neu.c, nrow * sizeof(double));
                else
                    memcpy(r->fc_w2 + (size_t)rec * (size_t)d_out * (size_t)r->d_hid, mdl.fc.W2,
                           (size_t)d_out * (size_t)r->d_hid * sizeof(double));
            }
        }
        double norm_dc;
        model_step(&mdl, p, norm_dW, &norm_dc);
        if (record) {
            memcpy(r->update_norm_w + rec * P, norm_dW, (size_t)P * sizeof(double));
            r->update_norm_c[rec] = norm_dc;
        }
        if (poll && (k + 1) % POLL_EVERY == 0 && poll(poll_ctx)) {
            rc = 1;
            goto done;
        }
    }

    if (mdl.kind == NTAS_MODEL_NTA) {
        for (int i = 0; i < P; i++)
            if (!isfinite(mdl.nta.c[i])) {
                r->status = NTAS_STATUS_FAILED;
                snprintf(r->message, sizeof r->message, "diverged: final gate %d is %g", i, mdl.nta.c[i]);
                goto done;
            }
        memcpy(r->students, mdl.nta.W, (size_t)P * en * sizeof(double));
        memcpy(r->gates_final, mdl.nta.c, (size_t)P * sizeof(double));
        ntas_cos_sim(r->teachers, M, mdl.nta.W, P, d_out, d_in, cs);
        r->specialization = ntas_specialization(cs, M, P);
        r->total_alignment = ntas_total_alignment(r->teachers, M, mdl.nta.W, P, d_out, d_in, cs);
        goto done;
    }

    /* nta_neuron, fc: the final state must be finite too. */
    {
        const double *g = mdl.kind == NTAS_MODEL_FC ? mdl.fc.W2 : mdl.neu.c;
        size_t ng = mdl.kind == NTAS_MODEL_FC ? (size_t)d_out * (size_t)r->d_hid : nrow;
        for (size_t i = 0; i < ng; i++)
            if (!isfinite(g[i])) {
                r->status = NTAS_STATUS_FAILED;
                snprintf(r->message, sizeof r->message, "diverged: final gate %zu is %g", i, g[i]);
                goto done;
            }
    }
    if (finish_sorted(r, rowcos, r->n_records, src_row, err, errlen) != 0) {
        rc = -1;
        goto done;
    }
    memcpy(r->students, model_rows(&mdl), nrow * (size_t)d_in * sizeof(double));
    if (mdl.kind == NTAS_MODEL_NTA_NEURON) {
        memcpy(r->neuron_gates_final, mdl.neu.c, nrow * sizeof(double));
        ntas_neuron_sorted(&mdl.neu, src_row, M, sorted_w, NULL, r->gates_final);
    } else {
        memcpy(r->fc_w2_final, mdl.fc.W2, (size_t)d_out * (size_t)r->d_hid * sizeof(double));
        ntas_fc_sorted(&mdl.fc, src_row, M, sorted_w, NULL, r->gates_final);
    }
    /* Sorted student m is teacher m's: specialization (mean matched cos_sim)
     * and total alignment are both the sorted alignment of App. B.4.1. */
    r->total_alignment = ntas_sorted_alignment(r->teachers, M, sorted_w, d_out, d_in);
    r->specialization = r->total_alignment;

done:
    free(X);
    free(E);
    free(S);
    free(D);
    ntas_wishart_free(&ws);
    free(norm_dW);
    free(rowcos);
    free(src_row);
    free(sorted_w);
    free(cs);
    model_free(&mdl);
    return rc;
}
