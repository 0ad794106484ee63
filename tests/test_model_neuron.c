/* Per-neuron gated NTA: every gradient (task loss, gate regulariser over all
 * P*d_out gates, weight cost) against central finite differences in double
 * (relative error < 1e-6), the forward pass against a naive loop, agreement
 * with model_nta when each path's gates are equal, the Euler step against its
 * formula, the init, and the row sorting on a hand-built known answer. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fd.h"
#include "ntasweep/tasks/metrics.h"
#include "ntasweep/models/model_nta.h"
#include "ntasweep/models/model_neuron.h"
#include "ntasweep/config/params.h"
#include "ntasweep/core/rng.h"
#include "ntasweep/train/train.h"

enum { D_IN = 5, D_OUT = 3, P = 3, B = 7, NW = P * D_OUT * D_IN, NC = P * D_OUT };

typedef struct {
    ntas_neuron m;
    ntas_params p;
    double X[B * D_IN], Ystar[B * D_OUT], Y[B * D_OUT], dY[B * D_OUT];
} fixture;

/* L_task through forward/MSE (and backward when grads), for fd_model. */
static double task_loss(void *ctx, int grads)
{
    fixture *f = ctx;
    ntas_neuron_forward(&f->m, f->X, B, f->Y);
    double loss = ntas_mse(f->Y, f->Ystar, B, D_OUT, f->dY);
    if (grads) ntas_neuron_backward(&f->m, f->X, f->dY, B);
    return loss;
}

/* L_reg over all P*d_out gates plus the weight cost. */
static double reg_loss(void *ctx)
{
    fixture *f = ctx;
    return ntas_gated_paths_reg_backward(&f->m, &f->p);
}

/* The fixture as fd.h sees it: W and the P*d_out gates with their gradients. */
static fd_model as_fd(fixture *f)
{
    return (fd_model){.ctx = f, .task = task_loss, .reg = reg_loss,
                      .x = {f->m.W, f->m.c}, .g = {f->m.dW, f->m.dc}, .n = {NW, NC}};
}

static void setup(fixture *f, uint64_t seed)
{
    char err[256];
    ntas_params_defaults(&f->p);
    f->p.lambda_nonneg = f->p.lambda_norm = f->p.lambda_w = 0.0;
    int rc = ntas_neuron_init(&f->m, D_IN, D_OUT, P, err, sizeof err);
    CHECK(rc == 0);
    ntas_rng rng;
    ntas_rng_init(&rng, seed);
    ntas_rng_normal_fill(&rng, f->m.W, NW);
    ntas_rng_normal_fill(&rng, f->X, B * D_IN);
    ntas_rng_normal_fill(&rng, f->Ystar, B * D_OUT);
    /* Gates away from the kinks of max(0,-c) and |c|, some negative. */
    for (int k = 0; k < NC; k++) f->m.c[k] = 0.15 + 0.11 * k - (k % 4 == 1 ? 0.9 : 0.0);
}

static void test_gradients(void)
{
    fixture f;
    const fd_reg_case cases[] = {
        {"task loss only", 0, 0, 0, NTAS_NORM_L1},
        {"lambda_nonneg only", 0.3, 0, 0, NTAS_NORM_L1},
        {"lambda_norm, L1 only", 0, 0.456, 0, NTAS_NORM_L1},
        {"lambda_norm, L2 only", 0, 0.8, 0, NTAS_NORM_L2},
        {"lambda_w only", 0, 0, 0.77, NTAS_NORM_L1},
        {"everything, L1", 0.091, 0.456, 0.77, NTAS_NORM_L1},
        {"everything, L2 (Fig. 3 subtask)", 0.023, 0.011, 0.5, NTAS_NORM_L2},
    };
    /* Both forms of the weight cost (squared; the authors' Fig. A.3 mean column 2-norm). */
    for (int form = NTAS_WEIGHT_COST_SQUARED; form <= NTAS_WEIGHT_COST_COLUMN_NORM; form++)
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
            for (uint64_t seed = 1; seed <= 3; seed++) {
                if (form != NTAS_WEIGHT_COST_SQUARED && cases[k].lambda_w == 0.0) continue;
                setup(&f, seed * 7919 + k + 1000 * (uint64_t)form);
                fd_apply_case(&f.p, &cases[k]);
                f.p.weight_cost = form;
                fd_model fm = as_fd(&f);
                char label[64];
                snprintf(label, sizeof label, "%s%s", cases[k].label, form ? ", column_norm" : "");
                double worst = fd_check_model(&fm, label);
                CHECK_MSG(worst < 1e-6, "%s, seed %llu: %g", label, (unsigned long long)seed, worst);
                ntas_gated_paths_free(&f.m);
            }
}

static void test_forward_reg_step(void)
{
    fixture f;
    setup(&f, 42);
    /* Forward equals the naive sum. */
    ntas_neuron_forward(&f.m, f.X, B, f.Y);
    double worst = 0;
    for (int b = 0; b < B; b++)
        for (int i = 0; i < D_OUT; i++) {
            double y = 0;
            for (int p = 0; p < P; p++)
                for (int j = 0; j < D_IN; j++)
                    y += f.m.c[p * D_OUT + i] * f.m.W[(p * D_OUT + i) * D_IN + j] * f.X[b * D_IN + j];
            worst = fmax(worst, fabs(y - f.Y[b * D_OUT + i]));
        }
    CHECK(worst < 1e-12);

    /* Regulariser over all P*d_out gates as one vector (SPEC-NOTES §6). */
    double c[NC] = {0.2, -0.1, 0.3, 0.05, 0.1, -0.2, 0.0, 0.4, 0.1};
    memcpy(f.m.c, c, sizeof c);
    f.p.lambda_nonneg = 0.5;
    f.p.lambda_norm = 2.0;
    f.p.norm = NTAS_NORM_L1;
    memset(f.m.dc, 0, sizeof(double) * NC);
    memset(f.m.dW, 0, sizeof(double) * NW);
    /* ||c||_1 = 1.45, negative part 0.3: 0.5 * 0.3 + 2 * 0.45^2. */
    CHECK_NEAR(ntas_gated_paths_reg_backward(&f.m, &f.p), 0.5 * 0.3 + 2.0 * 0.45 * 0.45, 1e-14);
    f.p.norm = NTAS_NORM_L2;
    double sq = 0;
    for (int k = 0; k < NC; k++) sq += c[k] * c[k];
    CHECK_NEAR(ntas_gated_paths_reg_backward(&f.m, &f.p), 0.5 * 0.3 + 2.0 * (sqrt(sq) - 1) * (sqrt(sq) - 1), 1e-14);

    /* Euler step. */
    f.p.lambda_w = 0.3;
    fd_model fm = as_fd(&f);
    fd_total_loss(&fm, 1);
    double W0[NW], c0[NC], nW[P], nc;
    memcpy(W0, f.m.W, sizeof W0);
    memcpy(c0, f.m.c, sizeof c0);
    ntas_gated_paths_step(&f.m, 0.01, 2.0, 0.05, nW, &nc);
    double s = 0;
    for (int k = 0; k < NC; k++) {
        CHECK_NEAR(f.m.c[k], c0[k] - 0.2 * f.m.dc[k], 1e-15);
        s += (0.2 * f.m.dc[k]) * (0.2 * f.m.dc[k]);
    }
    CHECK_NEAR(nc, sqrt(s), 1e-15);
    for (int p = 0; p < P; p++) {
        double sp = 0;
        for (int i = 0; i < D_OUT * D_IN; i++) {
            int k = p * D_OUT * D_IN + i;
            CHECK(fabs(f.m.W[k] - (W0[k] - 0.005 * f.m.dW[k])) < 1e-15);
            sp += (0.005 * f.m.dW[k]) * (0.005 * f.m.dW[k]);
        }
        CHECK_NEAR(nW[p], sqrt(sp), 1e-15);
    }
    /* Without norms (the loop's unrecorded steps): the same update, bit for bit. */
    double W1[NW], c1[NC];
    memcpy(W1, f.m.W, sizeof W1);
    memcpy(c1, f.m.c, sizeof c1);
    memcpy(f.m.W, W0, sizeof W0);
    memcpy(f.m.c, c0, sizeof c0);
    ntas_gated_paths_step(&f.m, 0.01, 2.0, 0.05, NULL, NULL);
    CHECK(memcmp(f.m.W, W1, sizeof W1) == 0 && memcmp(f.m.c, c1, sizeof c1) == 0);
    ntas_gated_paths_free(&f.m);
}

/* With c_pi = c_p for every row, the model is the per-path NTA: same output,
 * same dW, and dc_p(NTA) = sum_i dc_pi. */
static void test_matches_nta(void)
{
    fixture f;
    setup(&f, 5);
    ntas_nta n;
    char err[128];
    CHECK(ntas_nta_init(&n, D_IN, D_OUT, P, err, sizeof err) == 0);
    memcpy(n.W, f.m.W, sizeof(double) * NW);
    const double cp[P] = {0.7, -0.4, 0.25};
    for (int p = 0; p < P; p++) {
        n.c[p] = cp[p];
        for (int i = 0; i < D_OUT; i++) f.m.c[p * D_OUT + i] = cp[p];
    }
    double Yn[B * D_OUT], dYn[B * D_OUT];
    ntas_nta_forward(&n, f.X, B, Yn);
    ntas_mse(Yn, f.Ystar, B, D_OUT, dYn);
    ntas_nta_backward(&n, f.X, dYn, B);
    fd_model fm = as_fd(&f);
    fd_total_loss(&fm, 1);
    double worst = 0;
    for (int k = 0; k < B * D_OUT; k++) worst = fmax(worst, fabs(Yn[k] - f.Y[k]));
    for (int k = 0; k < NW; k++) worst = fmax(worst, fabs(n.dW[k] - f.m.dW[k]));
    for (int p = 0; p < P; p++) {
        double s = 0;
        for (int i = 0; i < D_OUT; i++) s += f.m.dc[p * D_OUT + i];
        worst = fmax(worst, fabs(n.dc[p] - s));
    }
    CHECK_MSG(worst < 1e-12, "per-neuron vs per-path: %g", worst);
    ntas_gated_paths_free(&n);
    ntas_gated_paths_free(&f.m);
}

/* Sorting on a known answer: two teachers with rows e0, e1 and e2, e3 in R^4;
 * the six student rows (P = 3, d_out = 2) are scaled / noisy copies, a mixed
 * row, a zero row and -e0. With signed cosines teacher 0 row 0 is matched by
 * the mixed row 1 (-e0 is its worst match), row 1 by row 0, teacher 1 row 0
 * by row 3 and row 1 by row 5; rows 2 and 4 match nothing best. */
static void test_sorting(void)
{
    ntas_neuron m;
    char err[128];
    CHECK(ntas_neuron_init(&m, 4, 2, 3, err, sizeof err) == 0);
    const double T[2 * 2 * 4] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    const double W[6 * 4] = {
        0, 2, 0, 0.1,      /* row 0: ~e1 */
        0.5, 0.5, 0.5, 0.5, /* row 1: mixed */
        0, 0, 0, 0,        /* row 2: zero (cosine 0 everywhere) */
        0.1, 0, 3, 0,      /* row 3: ~e2 */
        -1, 0, 0, 0,       /* row 4: -e0 (cosine -1 with e0) */
        0, 0, 0.2, 1,      /* row 5: ~e3 */
    };
    memcpy(m.W, W, sizeof W);
    for (int k = 0; k < 6; k++) m.c[k] = 0.1 * (k + 1);
    double cos[6 * 4];
    int src[4];
    ntas_row_cosines(m.W, 6, T, 4, 4, cos);
    CHECK_NEAR(cos[1 * 4 + 0], 0.5, 1e-15);
    CHECK_NEAR(cos[4 * 4 + 0], -1.0, 1e-15);
    CHECK(cos[2 * 4 + 3] == 0.0);
    ntas_sort_rows(cos, 6, 4, src);
    /* Signed cosines: -e0 is the worst match for e0, so the mixed row 1
     * (cosine 0.5) wins; e1 -> row 0, e2 -> row 3, e3 -> row 5. */
    CHECK(src[0] == 1 && src[1] == 0 && src[2] == 3 && src[3] == 5);
    double students[2 * 2 * 4], gates[4], mean[2];
    ntas_neuron_sorted(&m, src, 2, students, gates, mean);
    CHECK(memcmp(students + 0, W + 1 * 4, 4 * sizeof(double)) == 0);
    CHECK(memcmp(students + 4, W + 0 * 4, 4 * sizeof(double)) == 0);
    CHECK(memcmp(students + 8, W + 3 * 4, 4 * sizeof(double)) == 0);
    CHECK(memcmp(students + 12, W + 5 * 4, 4 * sizeof(double)) == 0);
    CHECK(gates[0] == m.c[1] && gates[1] == m.c[0] && gates[2] == m.c[3] && gates[3] == m.c[5]);
    CHECK_NEAR(mean[0], (0.2 + 0.1) / 2, 1e-15);
    CHECK_NEAR(mean[1], (0.4 + 0.6) / 2, 1e-15);
    /* Sorted alignment: mean of the four matched row cosines. */
    double want = (0.5 + 2 / sqrt(4.01) + 3 / sqrt(9.01) + 1 / sqrt(1.04)) / 4;
    CHECK_NEAR(ntas_sorted_alignment(T, 2, students, 2, 4), want, 1e-15);
    /* NULL outputs are allowed. */
    ntas_neuron_sorted(&m, src, 2, NULL, NULL, mean);
    CHECK_NEAR(mean[1], 0.5, 1e-15);
    ntas_gated_paths_free(&m);
}

static void test_init(void)
{
    ntas_neuron big;
    char err[128];
    CHECK(ntas_neuron_init(&big, 20, 6, 30, err, sizeof err) == 0);
    ntas_rng rng;
    ntas_rng_init(&rng, 99);
    ntas_gated_paths_init_params(&big, 0.01, 0.5, &rng);
    double var = 0;
    for (int i = 0; i < 30 * 6 * 20; i++) var += big.W[i] * big.W[i];
    var /= 30 * 6 * 20;
    CHECK_MSG(fabs(var / (0.01 * 0.01 / 20) - 1) < 0.06, "init variance ratio %g", var / (0.01 * 0.01 / 20));
    int all_half = 1;
    for (int k = 0; k < 30 * 6; k++) all_half &= big.c[k] == 0.5;
    CHECK(all_half);
    ntas_gated_paths_free(&big);
    CHECK(ntas_neuron_init(&big, 0, 6, 3, err, sizeof err) == -1);
    CHECK(strstr(err, "positive") != NULL);
}

int main(void)
{
    test_gradients();
    test_forward_reg_step();
    test_matches_nta();
    test_sorting();
    test_init();
    return CHECK_DONE();
}
