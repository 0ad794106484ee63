/* model_fc — 2-layer fully-connected linear network. See model_fc.h. */
#include "ntasweep/models/model_fc.h"
#include "ntasweep/core/err.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/models/model.h"
#include "ntasweep/models/reg.h"
#include "ntasweep/tasks/metrics.h"

int ntas_fc_init(ntas_fc *m, int d_in, int d_hid, int d_out, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    if (d_in <= 0 || d_hid <= 0 || d_out <= 0) {
        ntas_set_err(err, errlen, "FC network: sizes must be positive (d_in=%d, d_hid=%d, d_out=%d)",
                 d_in, d_hid, d_out);
        return -1;
    }
    m->d_in = d_in;
    m->d_hid = d_hid;
    m->d_out = d_out;
    size_t n1 = (size_t)d_hid * (size_t)d_in, n2 = (size_t)d_out * (size_t)d_hid;
    size_t en = (size_t)d_out * (size_t)d_in;
    m->W1 = calloc(n1, sizeof *m->W1);
    m->dW1 = calloc(n1, sizeof *m->dW1);
    m->W2 = calloc(n2, sizeof *m->W2);
    m->dW2 = calloc(n2, sizeof *m->dW2);
    m->W_eff = calloc(en, sizeof *m->W_eff);
    m->G = calloc(en, sizeof *m->G);
    if (!m->W1 || !m->dW1 || !m->W2 || !m->dW2 || !m->W_eff || !m->G) {
        ntas_fc_free(m);
        ntas_set_err(err, errlen, "out of memory for an FC network of %d x %d x %d", d_out, d_hid, d_in);
        return -1;
    }
    return 0;
}

void ntas_fc_free(ntas_fc *m)
{
    free(m->W1);
    free(m->dW1);
    free(m->W2);
    free(m->dW2);
    free(m->W_eff);
    free(m->G);
    memset(m, 0, sizeof *m);
}

void ntas_fc_init_params(ntas_fc *m, double sigma, ntas_rng *rng)
{
    size_t n1 = (size_t)m->d_hid * (size_t)m->d_in, n2 = (size_t)m->d_out * (size_t)m->d_hid;
    double scale = sigma / sqrt((double)m->d_in);
    ntas_rng_normal_fill_scaled(rng, m->W1, n1, scale);
    ntas_rng_normal_fill_scaled(rng, m->W2, n2, scale);
}

void ntas_fc_effective(ntas_fc *m)
{
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m->d_out, m->d_in, m->d_hid, 1.0, m->W2,
                m->d_hid, m->W1, m->d_in, 0.0, m->W_eff, m->d_in);
}

void ntas_fc_forward(ntas_fc *m, const double *X, int B, double *Y)
{
    /* W_eff = W2 W1 once per step, then one GEMM over the batch. */
    ntas_fc_effective(m);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, m->d_out, m->d_in, 1.0, X, m->d_in,
                m->W_eff, m->d_in, 0.0, Y, m->d_out);
}

void ntas_fc_backward_G(ntas_fc *m)
{
    /* L depends on the weights only through W_eff = W2 W1 and dL/dW_eff = G,
     * so dL/dW1 = W2^T G and dL/dW2 = G W1^T. */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m->d_hid, m->d_in, m->d_out, 1.0, m->W2,
                m->d_hid, m->G, m->d_in, 0.0, m->dW1, m->d_in);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m->d_out, m->d_hid, m->d_in, 1.0, m->G,
                m->d_in, m->W1, m->d_in, 0.0, m->dW2, m->d_hid);
}

void ntas_fc_backward(ntas_fc *m, const double *X, const double *dY, int B)
{
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m->d_out, m->d_in, B, 1.0, dY, m->d_out, X,
                m->d_in, 0.0, m->G, m->d_in);
    ntas_fc_backward_G(m);
}

double ntas_fc_reg_backward(ntas_fc *m, const ntas_params *p)
{
    double loss = ntas_gate_reg(m->W2, m->d_out * m->d_hid, (ntas_norm_kind)p->norm,
                                p->lambda_nonneg, p->lambda_norm, m->dW2);
    if (p->lambda_w > 0.0) {
        /* k = lambda_w / (P d_in) with P = d_hid / d_out = lambda_w d_out / (d_hid d_in);
         * W1's d_out-row blocks are the P students W_p. */
        double k = p->lambda_w * (double)m->d_out / ((double)m->d_hid * (double)m->d_in);
        const ntas_weight_cost_kind kind = (ntas_weight_cost_kind)p->weight_cost;
        /* squared sums every entry of W1 alike: one block of d_hid rows. */
        const int blocks = kind == NTAS_WEIGHT_COST_SQUARED ? 1 : m->d_hid / m->d_out;
        const int rows = kind == NTAS_WEIGHT_COST_SQUARED ? m->d_hid : m->d_out;
        loss += ntas_weight_cost(m->W1, blocks, rows, m->d_in, k, kind, m->dW1);
    }
    return loss;
}

/* w -= k g; returns ||k g||, or 0 without summing it when norm is 0. */
static double euler(double *w, const double *g, size_t n, double k, int norm)
{
    if (!norm) {
        for (size_t i = 0; i < n; i++) w[i] -= k * g[i];
        return 0.0;
    }
    double sq = 0.0;
    for (size_t i = 0; i < n; i++) {
        double u = k * g[i];
        w[i] -= u;
        sq += u * u;
    }
    return sqrt(sq);
}

void ntas_fc_step(ntas_fc *m, double dt, double tau_w1, double tau_w2, double *norm_dW1,
                  double *norm_dW2)
{
    double n1 = euler(m->W1, m->dW1, (size_t)m->d_hid * (size_t)m->d_in, dt / tau_w1, norm_dW1 != NULL);
    double n2 = euler(m->W2, m->dW2, (size_t)m->d_out * (size_t)m->d_hid, dt / tau_w2, norm_dW2 != NULL);
    if (norm_dW1) *norm_dW1 = n1;
    if (norm_dW2) *norm_dW2 = n2;
}

void ntas_fc_sorted(const ntas_fc *m, const int *src_row, int M, double *students,
                    double *W2_blocks, double *gates)
{
    const int d_in = m->d_in, d_out = m->d_out, d_hid = m->d_hid;
    for (int t = 0; t < M; t++) {
        double s = 0.0;
        for (int r = 0; r < d_out; r++) {
            int h = src_row[t * d_out + r];
            if (students)
                memcpy(students + ((size_t)t * d_out + r) * d_in, m->W1 + (size_t)h * d_in,
                       (size_t)d_in * sizeof *students);
            for (int i = 0; i < d_out; i++) {
                double w = m->W2[(size_t)i * d_hid + h];
                if (W2_blocks) W2_blocks[((size_t)t * d_out + i) * d_out + r] = w;
                s += w;
            }
        }
        if (gates) gates[t] = s / ((double)d_out * d_out);
    }
}

/* ---- the model interface (model.h) ---------------------------------------- */

typedef struct {
    ntas_fc m;
    int P;                 /* paths: W1 holds P blocks of d_out rows */
    ntas_sorted_rows rows;
} fc_state;

static int fc_hidden_units(const ntas_params *p)
{
    return (int)(p->paths * p->d_out);
}

static void fc_free(void *state)
{
    fc_state *s = state;
    if (!s) return;
    ntas_fc_free(&s->m);
    ntas_sorted_rows_free(&s->rows);
    free(s);
}

static int fc_init(void **state, const ntas_model_ctx *ctx, char *err, size_t errlen)
{
    const ntas_params *p = ctx->p;
    fc_state *s = calloc(1, sizeof *s);
    if (!s) {
        ntas_set_err(err, errlen, "out of memory");
        return -1;
    }
    s->P = (int)p->paths;
    if (ntas_fc_init(&s->m, (int)p->d_in, fc_hidden_units(p), (int)p->d_out, err, errlen) != 0 ||
        ntas_sorted_rows_init(&s->rows, p, ctx->n_records, err, errlen) != 0) {
        fc_free(s);
        return -1;
    }
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_params_init_stream(p, ctx->run_key));
    ntas_fc_init_params(&s->m, p->init_sigma, &rng);
    *state = s;
    return 0;
}

static const double *fc_effective(void *state, double **G)
{
    fc_state *s = state;
    ntas_fc_effective(&s->m);
    *G = s->m.G;
    return s->m.W_eff;
}

static void fc_forward(void *state, const double *X, int B, double *Y)
{
    ntas_fc_forward(&((fc_state *)state)->m, X, B, Y);
}

static void fc_backward(void *state, const ntas_params *p, const ntas_task_grad *g)
{
    ntas_fc *m = &((fc_state *)state)->m;
    if (g->X) ntas_fc_backward(m, g->X, g->dY, g->B);
    else ntas_fc_backward_G(m);
    ntas_fc_reg_backward(m, p);
}

/* norm_dW[q]: of the update of W1's row block q (the path's d_out hidden
 * units); *norm_dc: of W2's. */
static void fc_step(void *state, const ntas_params *p, double *norm_dW, double *norm_dc)
{
    fc_state *s = state;
    const ntas_fc *f = &s->m;
    const size_t block = (size_t)f->d_hid / (size_t)s->P * (size_t)f->d_in;
    const double k = p->dt / p->tau_w;
    for (int q = 0; norm_dW && q < s->P; q++) {
        double sq = 0.0;
        for (size_t i = 0; i < block; i++) {
            double u = k * f->dW1[(size_t)q * block + i];
            sq += u * u;
        }
        norm_dW[q] = sqrt(sq);
    }
    ntas_fc_step(&s->m, p->dt, p->tau_w, p->tau_w2, NULL, norm_dc);
}

static const double *fc_path_weights(void *state, int path)
{
    const fc_state *s = state;
    const size_t block = (size_t)s->m.d_hid / (size_t)s->P * (size_t)s->m.d_in;
    return path < s->P ? s->m.W1 + (size_t)path * block : NULL;
}

/* Sorted after the run, from the row cosines of W1 and W2 of every record. */
static void fc_record(void *state, ntas_run_result *r, int64_t rec, int task)
{
    fc_state *s = state;
    const size_t w2 = (size_t)s->m.d_out * (size_t)s->m.d_hid;
    ntas_sorted_rows_record(&s->rows, s->m.W1, r->teachers, rec);
    memcpy(r->fc_w2 + (size_t)rec * w2, s->m.W2, w2 * sizeof(double));
}

/* Sorted student s's gate: the mean of all entries of its W2 block. */
static double fc_gate_of(const ntas_run_result *r, int64_t k, const int *src_row, int s)
{
    const int d_out = r->d_out;
    const double *w2 = r->fc_w2 + (size_t)k * (size_t)d_out * (size_t)r->d_hid;
    double gs = 0.0;
    for (int row = 0; row < d_out; row++)
        for (int i = 0; i < d_out; i++) gs += w2[(size_t)i * (size_t)r->d_hid + (size_t)src_row[s * d_out + row]];
    return gs / ((double)d_out * d_out);
}

static int fc_finish(void *state, const ntas_params *p, ntas_run_result *r, char *err, size_t errlen)
{
    fc_state *s = state;
    const size_t w2 = (size_t)s->m.d_out * (size_t)s->m.d_hid;
    if (ntas_sorted_rows_diverged(s->m.W2, w2, r)) return 0;
    if (ntas_finish_sorted(r, s->rows.rowcos, r->n_records, s->rows.src_row, fc_gate_of, err, errlen) != 0)
        return -1;
    memcpy(r->students, s->m.W1, (size_t)s->m.d_hid * (size_t)s->m.d_in * sizeof(double));
    memcpy(r->fc_w2_final, s->m.W2, w2 * sizeof(double));
    ntas_fc_sorted(&s->m, s->rows.src_row, r->M, s->rows.sorted_w, NULL, r->gates_final);
    ntas_sorted_rows_alignment(&s->rows, r);
    return 0;
}

static void fc_step_cost(const ntas_params *p, double *gemm_flops, double *other_flops)
{
    const double P = (double)p->paths, di = (double)p->d_in, dout = (double)p->d_out;
    const double hid = P * dout, n1 = hid * di, n2 = dout * hid;
    *gemm_flops += 2.0 * dout * hid * di  /* W_eff = W2 W1 */
                   + 4.0 * dout * hid * di; /* dW1 = W2^T G, dW2 = G W1^T */
    *other_flops += 4.0 * (n1 + n2) + 3.0 * n1;
    if (p->lambda_w > 0.0) *other_flops += 4.0 * n1;
}

/* Table 2's fully-connected column: tau_w1 0.06, tau_w2 0.01, L2 norm. */
static void fc_bench_params(ntas_params *p)
{
    p->tau_w = 0.06;
    p->tau_w2 = 0.01;
    p->norm = NTAS_NORM_L2;
    p->lambda_nonneg = 0.2;
    p->lambda_norm = 0.1;
}

const ntas_model_ops ntas_model_fc = {
    .name = "fc",
    .kind = NTAS_MODEL_FC,
    .task = NTAS_TASK_TEACHERS,
    .groups = NTAS_RG_BIT(NTAS_RG_SORTED) | NTAS_RG_BIT(NTAS_RG_FC),
    .hidden_units = fc_hidden_units,
    .init = fc_init,
    .free = fc_free,
    .effective = fc_effective,
    .forward = fc_forward,
    .backward = fc_backward,
    .step = fc_step,
    .path_weights = fc_path_weights,
    .record = fc_record,
    .finish = fc_finish,
    .step_cost = fc_step_cost,
    .bench_params = fc_bench_params,
    .in_bench = 1,
};
