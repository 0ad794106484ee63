/* model_fc — 2-layer fully-connected linear network. See model_fc.h. */
#include "ntasweep/models/model_fc.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/models/reg.h"

int ntas_fc_init(ntas_fc *m, int d_in, int d_hid, int d_out, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    if (d_in <= 0 || d_hid <= 0 || d_out <= 0) {
        snprintf(err, errlen, "FC network: sizes must be positive (d_in=%d, d_hid=%d, d_out=%d)",
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
        snprintf(err, errlen, "out of memory for an FC network of %d x %d x %d", d_out, d_hid, d_in);
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
        size_t n1 = (size_t)m->d_hid * (size_t)m->d_in;
        /* lambda_w / (2 P d_in) with P = d_hid / d_out = lambda_w d_out / (2 d_hid d_in). */
        double k = p->lambda_w * (double)m->d_out / ((double)m->d_hid * (double)m->d_in);
        double sq = 0.0;
        for (size_t i = 0; i < n1; i++) {
            sq += m->W1[i] * m->W1[i];
            m->dW1[i] += k * m->W1[i];
        }
        loss += 0.5 * k * sq;
    }
    return loss;
}

static double euler(double *w, const double *g, size_t n, double k)
{
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
    *norm_dW1 = euler(m->W1, m->dW1, (size_t)m->d_hid * (size_t)m->d_in, dt / tau_w1);
    *norm_dW2 = euler(m->W2, m->dW2, (size_t)m->d_out * (size_t)m->d_hid, dt / tau_w2);
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
