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
#include "ntasweep/tasks/metrics.h"

int ntas_neuron_init(ntas_neuron *m, int d_in, int d_out, int P, char *err, size_t errlen)
{
    return ntas_gated_paths_init(m, d_in, d_out, P, d_out, "per-neuron NTA model", err, errlen);
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
    ntas_gated_paths_apply(m, X, B, Y);
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
    ntas_gated_paths_task_G(m, X, dY, B);
    ntas_neuron_backward_G(m);
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
    ntas_gated_paths_free(&s->m);
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
    ntas_gated_paths_start(&s->m, p, ctx->run_key);
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
    ntas_gated_paths_reg_backward(m, p);
}

static void neuron_step(void *state, const ntas_params *p, double *norm_dW, double *norm_dc)
{
    ntas_gated_paths_step(&((neuron_state *)state)->m, p->dt, p->tau_w, p->tau_c, norm_dW, norm_dc);
}

static const double *neuron_gate_values(void *state, int *n)
{
    const ntas_neuron *m = &((neuron_state *)state)->m;
    *n = m->n_gates;
    return m->c;
}

static const double *neuron_path_weights(void *state, int path)
{
    return ntas_gated_paths_block(&((neuron_state *)state)->m, path);
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
    .gate_values = neuron_gate_values,
    .path_weights = neuron_path_weights,
    .record = neuron_record,
    .finish = neuron_finish,
    .step_cost = neuron_step_cost,
    .in_bench = 1,
};
