/* model_neuron — per-neuron gated NTA. See model_neuron.h. */
#include "ntasweep/models/model_neuron.h"
#include "ntasweep/core/err.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/models/model.h"
#include "ntasweep/models/model_nta.h"
#include "ntasweep/models/reg.h"
#include "ntasweep/tasks/metrics.h"

int ntas_neuron_init(ntas_neuron *m, int d_in, int d_out, int P, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    if (d_in <= 0 || d_out <= 0 || P <= 0) {
        ntas_set_err(err, errlen, "per-neuron NTA: sizes must be positive (P=%d, d_out=%d, d_in=%d)", P,
                 d_out, d_in);
        return -1;
    }
    m->d_in = d_in;
    m->d_out = d_out;
    m->P = P;
    size_t wn = (size_t)P * (size_t)d_out * (size_t)d_in, en = (size_t)d_out * (size_t)d_in;
    size_t cn = (size_t)P * (size_t)d_out;
    m->W = calloc(wn, sizeof *m->W);
    m->dW = calloc(wn, sizeof *m->dW);
    m->c = calloc(cn, sizeof *m->c);
    m->dc = calloc(cn, sizeof *m->dc);
    m->W_eff = calloc(en, sizeof *m->W_eff);
    m->G = calloc(en, sizeof *m->G);
    if (!m->W || !m->dW || !m->c || !m->dc || !m->W_eff || !m->G) {
        ntas_neuron_free(m);
        ntas_set_err(err, errlen, "out of memory for a per-neuron NTA model of %d x %d x %d", P, d_out,
                 d_in);
        return -1;
    }
    return 0;
}

void ntas_neuron_free(ntas_neuron *m)
{
    free(m->W);
    free(m->dW);
    free(m->c);
    free(m->dc);
    free(m->W_eff);
    free(m->G);
    memset(m, 0, sizeof *m);
}

void ntas_neuron_init_params(ntas_neuron *m, double sigma, double gate0, ntas_rng *rng)
{
    size_t wn = (size_t)m->P * (size_t)m->d_out * (size_t)m->d_in;
    ntas_rng_normal_fill_scaled(rng, m->W, wn, sigma / sqrt((double)m->d_in));
    for (int k = 0; k < m->P * m->d_out; k++) m->c[k] = gate0;
}

void ntas_neuron_effective(ntas_neuron *m)
{
    const int d_in = m->d_in, d_out = m->d_out;
    memset(m->W_eff, 0, (size_t)d_out * (size_t)d_in * sizeof *m->W_eff);
    for (int p = 0; p < m->P; p++)
        for (int i = 0; i < d_out; i++)
            cblas_daxpy(d_in, m->c[p * d_out + i], m->W + ((size_t)p * d_out + i) * d_in, 1,
                        m->W_eff + (size_t)i * d_in, 1);
}

void ntas_neuron_forward(ntas_neuron *m, const double *X, int B, double *Y)
{
    ntas_neuron_effective(m);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, m->d_out, m->d_in, 1.0, X, m->d_in,
                m->W_eff, m->d_in, 0.0, Y, m->d_out);
}

void ntas_neuron_backward_G(ntas_neuron *m)
{
    const int d_in = m->d_in, d_out = m->d_out;
    /* One G serves every row of every path: y_i depends on row (p, i)
     * only through c_pi, so dL/dW_p[i,:] = c_pi G[i,:], dL/dc_pi = <W_p[i,:], G[i,:]>. */
    for (int p = 0; p < m->P; p++)
        for (int i = 0; i < d_out; i++) {
            size_t row = ((size_t)p * d_out + i) * d_in;
            const double *Gi = m->G + (size_t)i * d_in;
            double cpi = m->c[p * d_out + i];
            for (int j = 0; j < d_in; j++) m->dW[row + j] = cpi * Gi[j];
            m->dc[p * d_out + i] = cblas_ddot(d_in, m->W + row, 1, Gi, 1);
        }
}

void ntas_neuron_backward(ntas_neuron *m, const double *X, const double *dY, int B)
{
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m->d_out, m->d_in, B, 1.0, dY, m->d_out,
                X, m->d_in, 0.0, m->G, m->d_in);
    ntas_neuron_backward_G(m);
}

double ntas_neuron_reg_backward(ntas_neuron *m, const ntas_params *p)
{
    double loss = ntas_gate_reg(m->c, m->P * m->d_out, (ntas_norm_kind)p->norm, p->lambda_nonneg,
                                p->lambda_norm, m->dc);
    if (p->lambda_w > 0.0) {
        double k = p->lambda_w / ((double)m->P * (double)m->d_in);
        loss += ntas_weight_cost(m->W, m->P, m->d_out, m->d_in, k, (ntas_weight_cost_kind)p->weight_cost, m->dW);
    }
    return loss;
}

void ntas_neuron_step(ntas_neuron *m, double dt, double tau_w, double tau_c, double *norm_dW,
                      double *norm_dc)
{
    size_t en = (size_t)m->d_out * (size_t)m->d_in;
    double kw = dt / tau_w, kc = dt / tau_c;
    for (int p = 0; p < m->P; p++) {
        double *Wp = m->W + (size_t)p * en;
        const double *dWp = m->dW + (size_t)p * en;
        if (!norm_dW) {   /* a step that is not recorded: the same update, no norm */
            for (size_t i = 0; i < en; i++) Wp[i] -= kw * dWp[i];
            continue;
        }
        double sq = 0.0;
        for (size_t i = 0; i < en; i++) {
            double u = kw * dWp[i];
            Wp[i] -= u;
            sq += u * u;
        }
        norm_dW[p] = sqrt(sq);
    }
    double sq = 0.0;
    for (int k = 0; k < m->P * m->d_out; k++) {
        double u = kc * m->dc[k];
        m->c[k] -= u;
        sq += u * u;
    }
    if (norm_dc) *norm_dc = sqrt(sq);
}

void ntas_neuron_sorted(const ntas_neuron *m, const int *src_row, int M, double *students,
                        double *gates, double *gate_mean)
{
    const int d_in = m->d_in, d_out = m->d_out;
    for (int t = 0; t < M; t++) {
        double s = 0.0;
        for (int r = 0; r < d_out; r++) {
            int src = src_row[t * d_out + r];
            if (students)
                memcpy(students + ((size_t)t * d_out + r) * d_in, m->W + (size_t)src * d_in,
                       (size_t)d_in * sizeof *students);
            if (gates) gates[t * d_out + r] = m->c[src];
            s += m->c[src];
        }
        if (gate_mean) gate_mean[t] = s / d_out;
    }
}

/* ---- the model interface (model.h) ---------------------------------------- */

typedef struct {
    ntas_neuron m;
    ntas_sorted_rows rows;
} neuron_state;

static void neuron_free(void *state)
{
    neuron_state *s = state;
    if (!s) return;
    ntas_neuron_free(&s->m);
    ntas_sorted_rows_free(&s->rows);
    free(s);
}

static int neuron_init(void **state, const ntas_model_ctx *ctx, char *err, size_t errlen)
{
    const ntas_params *p = ctx->p;
    neuron_state *s = calloc(1, sizeof *s);
    if (!s) {
        ntas_set_err(err, errlen, "out of memory");
        return -1;
    }
    if (ntas_neuron_init(&s->m, (int)p->d_in, (int)p->d_out, (int)p->paths, err, errlen) != 0 ||
        ntas_sorted_rows_init(&s->rows, p, ctx->n_records, err, errlen) != 0) {
        neuron_free(s);
        return -1;
    }
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_params_init_stream(p, ctx->run_key));
    ntas_neuron_init_params(&s->m, p->init_sigma, 0.5, &rng);
    *state = s;
    return 0;
}

static const double *neuron_effective(void *state, double **G)
{
    neuron_state *s = state;
    ntas_neuron_effective(&s->m);
    *G = s->m.G;
    return s->m.W_eff;
}

static void neuron_forward(void *state, const double *X, int B, double *Y)
{
    ntas_neuron_forward(&((neuron_state *)state)->m, X, B, Y);
}

static void neuron_backward(void *state, const ntas_params *p, const ntas_task_grad *g)
{
    ntas_neuron *m = &((neuron_state *)state)->m;
    if (g->X) ntas_neuron_backward(m, g->X, g->dY, g->B);
    else ntas_neuron_backward_G(m);
    ntas_neuron_reg_backward(m, p);
}

static void neuron_step(void *state, const ntas_params *p, double *norm_dW, double *norm_dc)
{
    ntas_neuron_step(&((neuron_state *)state)->m, p->dt, p->tau_w, p->tau_c, norm_dW, norm_dc);
}

static const double *neuron_path_weights(void *state, int path)
{
    const ntas_neuron *m = &((neuron_state *)state)->m;
    return path < m->P ? m->W + (size_t)path * (size_t)m->d_out * (size_t)m->d_in : NULL;
}

/* Sorted after the run, from the row cosines and raw gates of every record. */
static void neuron_record(void *state, ntas_run_result *r, int64_t rec, int task)
{
    neuron_state *s = state;
    const size_t nrow = (size_t)s->m.P * (size_t)s->m.d_out;
    ntas_sorted_rows_record(&s->rows, s->m.W, r->teachers, rec);
    memcpy(r->neuron_gates + (size_t)rec * nrow, s->m.c, nrow * sizeof(double));
}

/* Sorted student s's gate: the mean of its rows' gates. */
static double neuron_gate_of(const ntas_run_result *r, int64_t k, const int *src_row, int s)
{
    const int d_out = r->d_out;
    const double *c = r->neuron_gates + (size_t)k * (size_t)r->P * (size_t)d_out;
    double gs = 0.0;
    for (int row = 0; row < d_out; row++) gs += c[src_row[s * d_out + row]];
    return gs / d_out;
}

static int neuron_finish(void *state, const ntas_params *p, ntas_run_result *r, char *err, size_t errlen)
{
    neuron_state *s = state;
    const size_t nrow = (size_t)s->m.P * (size_t)s->m.d_out;
    if (ntas_sorted_rows_diverged(s->m.c, nrow, r)) return 0;
    if (ntas_finish_sorted(r, s->rows.rowcos, r->n_records, s->rows.src_row, neuron_gate_of, err, errlen) != 0)
        return -1;
    memcpy(r->students, s->m.W, nrow * (size_t)s->m.d_in * sizeof(double));
    memcpy(r->neuron_gates_final, s->m.c, nrow * sizeof(double));
    ntas_neuron_sorted(&s->m, s->rows.src_row, r->M, s->rows.sorted_w, NULL, r->gates_final);
    ntas_sorted_rows_alignment(&s->rows, r);
    return 0;
}

/* As model_nta with one gate per path and output. */
static void neuron_step_cost(const ntas_params *p, double *gemm_flops, double *other_flops)
{
    ntas_nta_step_cost_gates(p, (double)p->paths * (double)p->d_out, gemm_flops, other_flops);
}

const ntas_model_ops ntas_model_nta_neuron = {
    .name = "nta_neuron",
    .kind = NTAS_MODEL_NTA_NEURON,
    .task = NTAS_TASK_TEACHERS,
    .groups = NTAS_RG_BIT(NTAS_RG_SORTED) | NTAS_RG_BIT(NTAS_RG_NEURON),
    .init = neuron_init,
    .free = neuron_free,
    .effective = neuron_effective,
    .forward = neuron_forward,
    .backward = neuron_backward,
    .step = neuron_step,
    .path_weights = neuron_path_weights,
    .record = neuron_record,
    .finish = neuron_finish,
    .step_cost = neuron_step_cost,
    .in_bench = 1,
};
