/* gated_paths — what model_nta and model_neuron share. See gated_paths.h. */
#include "ntasweep/models/gated_paths.h"
#include "ntasweep/core/err.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/models/reg.h"

int ntas_gated_paths_init(ntas_gated_paths *m, int d_in, int d_out, int P, int gates_per_path,
                          const char *what, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    if (d_in <= 0 || d_out <= 0 || P <= 0) {
        ntas_set_err(err, errlen, "%s: sizes must be positive (P=%d, d_out=%d, d_in=%d)", what, P, d_out, d_in);
        return -1;
    }
    m->d_in = d_in;
    m->d_out = d_out;
    m->P = P;
    m->n_gates = P * gates_per_path;
    size_t wn = (size_t)P * (size_t)d_out * (size_t)d_in, en = (size_t)d_out * (size_t)d_in;
    m->W = calloc(wn, sizeof *m->W);
    m->dW = calloc(wn, sizeof *m->dW);
    m->c = calloc((size_t)m->n_gates, sizeof *m->c);
    m->dc = calloc((size_t)m->n_gates, sizeof *m->dc);
    m->W_eff = calloc(en, sizeof *m->W_eff);
    m->G = calloc(en, sizeof *m->G);
    if (!m->W || !m->dW || !m->c || !m->dc || !m->W_eff || !m->G) {
        ntas_gated_paths_free(m);
        ntas_set_err(err, errlen, "out of memory for a %s of %d x %d x %d", what, P, d_out, d_in);
        return -1;
    }
    return 0;
}

void ntas_gated_paths_free(ntas_gated_paths *m)
{
    free(m->W);
    free(m->dW);
    free(m->c);
    free(m->dc);
    free(m->W_eff);
    free(m->G);
    memset(m, 0, sizeof *m);
}

void ntas_gated_paths_init_params(ntas_gated_paths *m, double sigma, double gate0, ntas_rng *rng)
{
    size_t wn = (size_t)m->P * (size_t)m->d_out * (size_t)m->d_in;
    ntas_rng_normal_fill_scaled(rng, m->W, wn, sigma / sqrt((double)m->d_in));
    for (int k = 0; k < m->n_gates; k++) m->c[k] = gate0;
}

void ntas_gated_paths_start(ntas_gated_paths *m, const ntas_params *p, uint64_t run_key)
{
    const uint64_t init_stream = ntas_params_init_stream(p, run_key);
    ntas_rng rng;
    ntas_rng_init(&rng, init_stream);
    ntas_gated_paths_init_params(m, p->init_sigma, 0.5, &rng);
    if (p->init_gates == NTAS_INIT_GATES_HALF) return;
    ntas_rng gate_rng;
    ntas_rng_init(&gate_rng, ntas_stream_key(init_stream, "init_gates"));
    for (int k = 0; k < m->n_gates; k++)
        m->c[k] = p->init_gates == NTAS_INIT_GATES_UNIFORM ? ntas_rng_uniform(&gate_rng)
                                                          : 0.5 + p->init_gates_sigma * ntas_rng_normal(&gate_rng);
}

void ntas_gated_paths_apply(const ntas_gated_paths *m, const double *X, int B, double *Y)
{
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, m->d_out, m->d_in, 1.0, X, m->d_in,
                m->W_eff, m->d_in, 0.0, Y, m->d_out);
}

void ntas_gated_paths_task_G(ntas_gated_paths *m, const double *X, const double *dY, int B)
{
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m->d_out, m->d_in, B, 1.0, dY, m->d_out,
                X, m->d_in, 0.0, m->G, m->d_in);
}

double ntas_gated_paths_reg_backward(ntas_gated_paths *m, const ntas_params *p)
{
    double loss = ntas_gate_reg(m->c, m->n_gates, (ntas_norm_kind)p->norm, p->lambda_nonneg,
                                p->lambda_norm, m->dc);
    if (p->lambda_w > 0.0) {
        double k = p->lambda_w / ((double)m->P * (double)m->d_in);
        loss += ntas_weight_cost(m->W, m->P, m->d_out, m->d_in, k, (ntas_weight_cost_kind)p->weight_cost, m->dW);
    }
    return loss;
}

/* Vector clones where the CPU has them (NTAS_ELEMENTWISE_CLONES, chosen at
 * load time): the update is elementwise (a multiply and a subtraction per
 * weight, never fused: no contraction in ISO C mode) and the norms' sums
 * stay serial, so every clone gives the same bits. */
NTAS_ELEMENTWISE_CLONES
void ntas_gated_paths_step(ntas_gated_paths *m, double dt, double tau_w, double tau_c, double *norm_dW,
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
    ntas_gated_paths_step_gates(m, kc, norm_dc);
}

void ntas_gated_paths_step_gates(ntas_gated_paths *m, double kc, double *norm_dc)
{
    double sq = 0.0;
    for (int k = 0; k < m->n_gates; k++) {
        double u = kc * m->dc[k];
        m->c[k] -= u;
        sq += u * u;
    }
    if (norm_dc) *norm_dc = sqrt(sq);
}

const double *ntas_gated_paths_block(const ntas_gated_paths *m, int path)
{
    return path < m->P ? m->W + (size_t)path * (size_t)m->d_out * (size_t)m->d_in : NULL;
}
