/* model_nta — NTA forward/backward/step. See model_nta.h. */
#include "ntasweep/models/model_nta.h"
#include "ntasweep/core/err.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/models/model.h"
#include "ntasweep/tasks/metrics.h"

int ntas_nta_init(ntas_nta *m, int d_in, int d_out, int P, char *err, size_t errlen)
{
    return ntas_gated_paths_init(m, d_in, d_out, P, 1, "NTA model", err, errlen);
}

/* W_eff = sum_p c_p W_p, p increasing, each term one fused multiply-add
 * (fma(c_p, W_p, sum) from sum = 0): what OpenBLAS's daxpy computed here
 * before, on this project's machines (its SKYLAKEX and HASWELL kernels use
 * FMA), at a fifth of a BLAS call's overhead for 200 values. The FMA copy
 * is chosen at run time; the portable one (C's correctly rounded fma())
 * gives the same bits. */
static inline __attribute__((always_inline)) void effective_body(const double *restrict W, const double *restrict c,
                                                                 int P, size_t en, double *restrict W_eff)
{
    if (P == 2) { /* Fig. 2 and most sweeps: both paths in one pass */
        const double c0 = c[0], c1 = c[1];
        const double *restrict W1 = W + en;
        for (size_t i = 0; i < en; i++) W_eff[i] = fma(c1, W1[i], fma(c0, W[i], 0.0));
        return;
    }
    for (size_t i = 0; i < en; i++) W_eff[i] = P > 0 ? fma(c[0], W[i], 0.0) : 0.0;
    for (int p = 1; p < P; p++) {
        const double *restrict Wp = W + (size_t)p * en;
        const double cp = c[p];
        for (size_t i = 0; i < en; i++) W_eff[i] = fma(cp, Wp[i], W_eff[i]);
    }
}

static void effective_portable(const double *W, const double *c, int P, size_t en, double *W_eff)
{
    effective_body(W, c, P, en, W_eff);
}

#if defined(__GNUC__) && defined(__x86_64__)
__attribute__((target("avx2,fma"))) static void effective_fma(const double *W, const double *c, int P, size_t en,
                                                               double *W_eff)
{
    effective_body(W, c, P, en, W_eff);
}

__attribute__((target("avx512f,avx2,fma"))) static void effective_avx512(const double *W, const double *c, int P,
                                                                         size_t en, double *W_eff)
{
    effective_body(W, c, P, en, W_eff);
}
#endif

void ntas_nta_effective(ntas_nta *m)
{
    size_t en = (size_t)m->d_out * (size_t)m->d_in;
#if defined(__GNUC__) && defined(__x86_64__)
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        if (__builtin_cpu_supports("avx512f"))
            effective_avx512(m->W, m->c, m->P, en, m->W_eff);
        else
            effective_fma(m->W, m->c, m->P, en, m->W_eff);
        return;
    }
#endif
    effective_portable(m->W, m->c, m->P, en, m->W_eff);
}

void ntas_nta_forward(ntas_nta *m, const double *X, int B, double *Y)
{
    ntas_nta_effective(m);
    ntas_gated_paths_apply(m, X, B, Y);
}

NTAS_ELEMENTWISE_CLONES /* dW_p = c_p G elementwise: the same bits in every clone */
void ntas_nta_backward_G(ntas_nta *m)
{
    size_t en = (size_t)m->d_out * (size_t)m->d_in;
    /* One G serves every path: dL/dW_p = c_p G, dL/dc_p = <W_p, G>. */
    for (int p = 0; p < m->P; p++) {
        double *dWp = m->dW + (size_t)p * en;
        double cp = m->c[p];
        for (size_t i = 0; i < en; i++) dWp[i] = cp * m->G[i];
    }
    ntas_nta_backward_dc(m);
}

/* The run loop's form of backward_G + step when no weight cost adds to dW
 * (lambda_w = 0): dW_p = c_p G is never stored; the step computes each
 * update as kw (c_p G_i), the same two roundings as kw dW_pi, so the same
 * bits, without writing and re-reading P d_out d_in values. dc as in
 * ntas_nta_backward_G. */
void ntas_nta_backward_dc(ntas_nta *m)
{
    size_t en = (size_t)m->d_out * (size_t)m->d_in;
    for (int p = 0; p < m->P; p++) m->dc[p] = cblas_ddot((int)en, m->W + (size_t)p * en, 1, m->G, 1);
}

NTAS_ELEMENTWISE_CLONES /* multiplies and a subtraction per weight, never fused: every clone the same bits */
void ntas_nta_step_from_G(ntas_nta *m, double dt, double tau_w, double tau_c, double *norm_dW, double *norm_dc)
{
    const size_t en = (size_t)m->d_out * (size_t)m->d_in;
    const double kw = dt / tau_w, kc = dt / tau_c;
    const double *restrict G = m->G;
    if (norm_dW && m->P == 2) { /* a recorded step of two paths: their two serial norm sums side by side */
        double *restrict W0 = m->W, *restrict W1 = m->W + en;
        const double c0 = m->c[0], c1 = m->c[1];
        double sq0 = 0.0, sq1 = 0.0;
        for (size_t i = 0; i < en; i++) {
            const double u0 = kw * (c0 * G[i]), u1 = kw * (c1 * G[i]);
            W0[i] -= u0;
            W1[i] -= u1;
            sq0 += u0 * u0;
            sq1 += u1 * u1;
        }
        norm_dW[0] = sqrt(sq0);
        norm_dW[1] = sqrt(sq1);
        ntas_gated_paths_step_gates(m, kc, norm_dc);
        return;
    }
    for (int p = 0; p < m->P; p++) {
        double *restrict Wp = m->W + (size_t)p * en;
        const double cp = m->c[p]; /* the gate backward used: the gates move after the weights */
        if (!norm_dW) {
            for (size_t i = 0; i < en; i++) Wp[i] -= kw * (cp * G[i]);
            continue;
        }
        double sq = 0.0;
        for (size_t i = 0; i < en; i++) {
            const double u = kw * (cp * G[i]);
            Wp[i] -= u;
            sq += u * u;
        }
        norm_dW[p] = sqrt(sq);
    }
    ntas_gated_paths_step_gates(m, kc, norm_dc);
}

void ntas_nta_backward(ntas_nta *m, const double *X, const double *dY, int B)
{
    ntas_gated_paths_task_G(m, X, dY, B);
    ntas_nta_backward_G(m);
}

/* ---- the model interface (model.h) ---------------------------------------- */

static int nta_init(void **state, const ntas_model_ctx *ctx, char *err, size_t errlen)
{
    const ntas_params *p = ctx->p;
    ntas_nta *m = malloc(sizeof *m);
    if (!m) {
        ntas_set_err(err, errlen, "out of memory");
        return -1;
    }
    if (ntas_nta_init(m, (int)p->d_in, (int)p->d_out, (int)p->paths, err, errlen) != 0) {
        free(m);
        return -1;
    }
    ntas_gated_paths_start(m, p, ctx->run_key);
    *state = m;
    return 0;
}

static void nta_free(void *state)
{
    if (!state) return;
    ntas_gated_paths_free(state);
    free(state);
}

static const double *nta_effective(void *state, double **G)
{
    ntas_nta *m = state;
    ntas_nta_effective(m);
    *G = m->G;
    return m->W_eff;
}

static void nta_forward(void *state, const double *X, int B, double *Y)
{
    ntas_nta_forward(state, X, B, Y);
}

/* With no weight cost, dW = c G is left implicit (ntas_nta_step_from_G). */
static void nta_backward(void *state, const ntas_params *p, const ntas_task_grad *g)
{
    ntas_nta *m = state;
    if (g->X) ntas_gated_paths_task_G(m, g->X, g->dY, g->B);
    if (p->lambda_w > 0.0)
        ntas_nta_backward_G(m);
    else
        ntas_nta_backward_dc(m);
    ntas_gated_paths_reg_backward(m, p);
}

static void nta_step(void *state, const ntas_params *p, double *norm_dW, double *norm_dc)
{
    if (p->lambda_w > 0.0)
        ntas_gated_paths_step(state, p->dt, p->tau_w, p->tau_c, norm_dW, norm_dc);
    else
        ntas_nta_step_from_G(state, p->dt, p->tau_w, p->tau_c, norm_dW, norm_dc);
}

static const double *nta_gate_values(void *state, int *n)
{
    const ntas_nta *m = state;
    *n = m->n_gates;
    return m->c;
}

static const double *nta_path_weights(void *state, int path)
{
    return ntas_gated_paths_block(state, path);
}

static void nta_record(void *state, ntas_run_result *r, int64_t rec, int task)
{
    const ntas_nta *m = state;
    memcpy(r->gates + rec * m->P, m->c, (size_t)m->P * sizeof(double));
    ntas_cos_sim(r->teachers, r->M, m->W, m->P, m->d_out, m->d_in, r->cos_sim + rec * r->M * m->P);
}

int ntas_nta_finish_state(const ntas_nta *m, ntas_run_result *r)
{
    for (int i = 0; i < m->P; i++)
        if (!isfinite(m->c[i])) {
            r->status = NTAS_STATUS_FAILED;
            snprintf(r->message, sizeof r->message, "diverged: final gate %d is %g", i, m->c[i]);
            return 1;
        }
    memcpy(r->students, m->W, (size_t)m->P * (size_t)m->d_out * (size_t)m->d_in * sizeof(double));
    memcpy(r->gates_final, m->c, (size_t)m->P * sizeof(double));
    return 0;
}

static int nta_finish(void *state, const ntas_params *p, ntas_run_result *r, char *err, size_t errlen)
{
    const ntas_nta *m = state;
    if (ntas_nta_finish_state(m, r) != 0) return 0;
    double *cs = malloc((size_t)r->M * (size_t)m->P * sizeof *cs);
    if (!cs) {
        ntas_set_err(err, errlen, "out of memory");
        return -1;
    }
    ntas_cos_sim(r->teachers, r->M, m->W, m->P, m->d_out, m->d_in, cs);
    r->specialization = ntas_specialization(cs, r->M, m->P);
    r->total_alignment = ntas_total_alignment(r->teachers, r->M, m->W, m->P, m->d_out, m->d_in, cs);
    free(cs);
    return 0;
}

void ntas_nta_step_cost_gates(const ntas_params *p, double gates, double *gemm_flops, double *other_flops)
{
    const double P = (double)p->paths, en = (double)p->d_out * (double)p->d_in;
    *other_flops += 2.0 * P * en      /* W_eff */
                    + 3.0 * P * en    /* dW = c G, dc = <W, G> */
                    + 4.0 * (P * en + gates); /* Euler step and norms */
    if (p->lambda_w > 0.0) *other_flops += 4.0 * P * en;
}

void ntas_nta_step_cost(const ntas_params *p, double *gemm_flops, double *other_flops)
{
    ntas_nta_step_cost_gates(p, (double)p->paths, gemm_flops, other_flops);
}

const ntas_model_ops ntas_model_nta = {
    .name = "nta",
    .kind = NTAS_MODEL_NTA,
    .task = NTAS_TASK_TEACHERS,
    .groups = 0,
    .init = nta_init,
    .free = nta_free,
    .effective = nta_effective,
    .forward = nta_forward,
    .backward = nta_backward,
    .step = nta_step,
    .gate_values = nta_gate_values,
    .path_weights = nta_path_weights,
    .record = nta_record,
    .finish = nta_finish,
    .step_cost = ntas_nta_step_cost,
    .in_bench = 1,
};
