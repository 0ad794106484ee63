/* NTA model: every gradient against central finite differences in double
 * (relative error < 1e-6), the forward pass against a naive loop, the
 * Euler step against its formula (and its from-G form bitwise against
 * it), and W_eff bitwise against its fused sums. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fd.h"
#include "ntasweep/models/model.h"
#include "ntasweep/models/model_nta.h"
#include "ntasweep/models/reg.h"
#include "ntasweep/config/params.h"
#include "ntasweep/core/rng.h"
#include "ntasweep/train/train.h"

enum { D_IN = 5, D_OUT = 3, P = 3, B = 7 };

typedef struct {
    ntas_nta m;
    ntas_params p;
    double X[B * D_IN], Ystar[B * D_OUT], Y[B * D_OUT], dY[B * D_OUT];
} fixture;

/* L_task through forward/MSE (and backward when grads), for fd_model. */
static double task_loss(void *ctx, int grads)
{
    fixture *f = ctx;
    ntas_nta_forward(&f->m, f->X, B, f->Y);
    double loss = ntas_mse(f->Y, f->Ystar, B, D_OUT, f->dY);
    if (grads) ntas_nta_backward(&f->m, f->X, f->dY, B);
    return loss;
}

static double reg_loss(void *ctx)
{
    fixture *f = ctx;
    return ntas_gated_paths_reg_backward(&f->m, &f->p);
}

/* The fixture as fd.h sees it: W and c with their gradients. */
static fd_model as_fd(fixture *f)
{
    return (fd_model){.ctx = f, .task = task_loss, .reg = reg_loss,
                      .x = {f->m.W, f->m.c}, .g = {f->m.dW, f->m.dc}, .n = {P * D_OUT * D_IN, P}};
}

static void setup(fixture *f, uint64_t seed)
{
    char err[256];
    ntas_params_defaults(&f->p);
    f->p.lambda_nonneg = f->p.lambda_norm = f->p.lambda_w = 0.0;
    int rc = ntas_nta_init(&f->m, D_IN, D_OUT, P, err, sizeof err);
    CHECK(rc == 0);
    ntas_rng rng;
    ntas_rng_init(&rng, seed);
    ntas_rng_normal_fill(&rng, f->m.W, P * D_OUT * D_IN);
    ntas_rng_normal_fill(&rng, f->X, B * D_IN);
    ntas_rng_normal_fill(&rng, f->Ystar, B * D_OUT);
    /* Gates away from the kinks of max(0,-c) and |c| (one negative). */
    f->m.c[0] = 0.7;
    f->m.c[1] = -0.4;
    f->m.c[2] = 0.25;
}

/* W_eff = sum_p c_p W_p exactly as model_nta.c promises: one C fma() per
 * path and weight, p increasing, from 0 (whichever copy the CPU runs: the
 * FMA one must give the bits of the portable one), at the Fig. 2 size too
 * (vector remainders: 200 and 15 values per path). */
static void test_effective_bits(void)
{
    fixture f;
    setup(&f, 99);
    double ref[D_OUT * D_IN];
    ntas_nta_effective(&f.m);
    for (int i = 0; i < D_OUT * D_IN; i++) {
        double s = 0.0;
        for (int q = 0; q < P; q++) s = fma(f.m.c[q], f.m.W[q * D_OUT * D_IN + i], s);
        ref[i] = s;
    }
    CHECK_MSG(memcmp(ref, f.m.W_eff, sizeof ref) == 0, "W_eff is not the fused sum (small shape)");
    ntas_gated_paths_free(&f.m);

    ntas_nta big;
    char err[256];
    CHECK(ntas_nta_init(&big, 20, 10, 2, err, sizeof err) == 0);
    ntas_rng rng;
    ntas_rng_init(&rng, 1234);
    ntas_rng_normal_fill(&rng, big.W, 400);
    big.c[0] = 0.8133;
    big.c[1] = -1.37;
    ntas_nta_effective(&big);
    int same = 1;
    for (int i = 0; i < 200; i++) {
        const double r = fma(big.c[1], big.W[200 + i], fma(big.c[0], big.W[i], 0.0));
        same &= memcmp(&r, &big.W_eff[i], sizeof r) == 0;
    }
    CHECK_MSG(same, "W_eff is not the fused sum (10 x 20, 2 paths)");
    /* The paths' norms two at a time (the records): ntas_norm2's bits. */
    double na, nb;
    ntas_norm2_pair(big.W, big.W + 200, 200, &na, &nb);
    const double ra = ntas_norm2(big.W, 200), rb = ntas_norm2(big.W + 200, 200);
    CHECK(memcmp(&na, &ra, sizeof na) == 0 && memcmp(&nb, &rb, sizeof nb) == 0);
    /* The step from G at two paths (its recorded steps sum both norms side
     * by side): the bits of dW = c G and ntas_gated_paths_step. */
    ntas_rng_normal_fill(&rng, big.G, 200);
    big.dc[0] = 0.3;
    big.dc[1] = -0.2;
    double W0[400], nW[2], nWg[2], nc, ncg;
    memcpy(W0, big.W, sizeof W0);
    const double c0[2] = {big.c[0], big.c[1]};
    ntas_nta_step_from_G(&big, 0.001, 1.3, 0.03, nW, &nc);
    double Wg[400], cg[2];
    memcpy(Wg, big.W, sizeof Wg);
    memcpy(cg, big.c, sizeof cg);
    memcpy(big.W, W0, sizeof W0);
    memcpy(big.c, c0, sizeof c0);
    ntas_nta_backward_G(&big); /* dW = c G; overwrites dc: restore it */
    big.dc[0] = 0.3;
    big.dc[1] = -0.2;
    ntas_gated_paths_step(&big, 0.001, 1.3, 0.03, nWg, &ncg);
    CHECK_MSG(memcmp(Wg, big.W, sizeof Wg) == 0 && memcmp(cg, big.c, sizeof cg) == 0 &&
                  memcmp(nW, nWg, sizeof nW) == 0 && memcmp(&nc, &ncg, sizeof nc) == 0,
              "step from G, two paths: not the bits of the Euler step");
    ntas_gated_paths_free(&big);
}

/* The column-norm cost at a known point, and its subgradient 0 at a zero
 * column (where ||w||_2 has no gradient): the column stays zero and the
 * gradient is finite. */
static void test_column_norm_values(void)
{
    fixture f;
    setup(&f, 5);
    memset(f.m.W, 0, sizeof(double) * P * D_OUT * D_IN);
    /* Path 0, column 1 = (3, 4, 0): norm 5; path 2, column 4 = (0, 1, 0): norm 1; the rest 0. */
    f.m.W[(0 * D_OUT + 0) * D_IN + 1] = 3.0;
    f.m.W[(0 * D_OUT + 1) * D_IN + 1] = 4.0;
    f.m.W[(2 * D_OUT + 1) * D_IN + 4] = 1.0;
    f.p.lambda_w = 0.1935;
    f.p.weight_cost = NTAS_WEIGHT_COST_COLUMN_NORM;
    memset(f.m.dW, 0, sizeof(double) * P * D_OUT * D_IN);
    memset(f.m.dc, 0, sizeof(double) * P);
    const double k = 0.1935 / (P * D_IN);
    double reg = ntas_gated_paths_reg_backward(&f.m, &f.p) - ntas_gate_reg(f.m.c, P, NTAS_NORM_L1, 0, 0, NULL);
    CHECK_NEAR(reg, k * (5.0 + 1.0), 1e-15);
    CHECK_NEAR(f.m.dW[(0 * D_OUT + 0) * D_IN + 1], k * 3.0 / 5.0, 1e-15);
    CHECK_NEAR(f.m.dW[(0 * D_OUT + 1) * D_IN + 1], k * 4.0 / 5.0, 1e-15);
    CHECK_NEAR(f.m.dW[(2 * D_OUT + 1) * D_IN + 4], k, 1e-15);
    int nonzero = 0;
    for (int i = 0; i < P * D_OUT * D_IN; i++)
        nonzero += isfinite(f.m.dW[i]) && f.m.dW[i] != 0.0;
    CHECK_MSG(nonzero == 3, "%d entries of dW are nonzero, want 3 (zero columns get subgradient 0)", nonzero);
    ntas_gated_paths_free(&f.m);
}

int main(void)
{
    fixture f;
    const fd_reg_case cases[] = {
        {"task loss only", 0, 0, 0, NTAS_NORM_L1},
        {"lambda_nonneg only", 0.3, 0, 0, NTAS_NORM_L1},
        {"lambda_norm, L1 only", 0, 0.456, 0, NTAS_NORM_L1},
        {"lambda_norm, L2 only", 0, 0.8, 0, NTAS_NORM_L2},
        {"lambda_w only", 0, 0, 0.77, NTAS_NORM_L1},
        {"everything, L1", 0.091, 0.456, 0.77, NTAS_NORM_L1},
        {"everything, L2", 0.2, 0.1, 0.5, NTAS_NORM_L2},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            setup(&f, seed * 7919 + k);
            fd_apply_case(&f.p, &cases[k]);
            fd_model fm = as_fd(&f);
            double worst = fd_check_model(&fm, cases[k].label);
            CHECK_MSG(worst < 1e-6, "%s, seed %llu: %g", cases[k].label, (unsigned long long)seed, worst);
            ntas_gated_paths_free(&f.m);
        }
    }

    /* The authors' Fig. A.3 weight cost, lambda_w / (P d_in) sum_{p,j}
     * ||W_p[:, j]||_2 (weight_cost = column_norm): same checks. */
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        if (cases[k].lambda_w == 0.0) continue;
        for (uint64_t seed = 1; seed <= 3; seed++) {
            setup(&f, seed * 6007 + k);
            fd_apply_case(&f.p, &cases[k]);
            f.p.weight_cost = NTAS_WEIGHT_COST_COLUMN_NORM;
            fd_model fm = as_fd(&f);
            char label[64];
            snprintf(label, sizeof label, "%s, column_norm", cases[k].label);
            double worst = fd_check_model(&fm, label);
            CHECK_MSG(worst < 1e-6, "%s, seed %llu: %g", label, (unsigned long long)seed, worst);
            ntas_gated_paths_free(&f.m);
        }
    }
    test_column_norm_values();
    test_effective_bits();

    /* Regulariser values at a known point: c = (0.7, -0.4, 0.25). */
    setup(&f, 42);
    f.p.lambda_nonneg = 0.5;
    f.p.lambda_norm = 2.0;
    f.p.norm = NTAS_NORM_L1;
    memset(f.m.dc, 0, sizeof(double) * P);
    memset(f.m.dW, 0, sizeof(double) * P * D_OUT * D_IN);
    double reg = ntas_gated_paths_reg_backward(&f.m, &f.p);
    /* 0.5 * 0.4 + 2 * (1.35 - 1)^2 */
    CHECK_NEAR(reg, 0.5 * 0.4 + 2.0 * 0.35 * 0.35, 1e-14);

    /* Forward equals the naive sum over paths. */
    ntas_nta_forward(&f.m, f.X, B, f.Y);
    double worst = 0;
    for (int b = 0; b < B; b++)
        for (int i = 0; i < D_OUT; i++) {
            double y = 0;
            for (int p = 0; p < P; p++)
                for (int j = 0; j < D_IN; j++)
                    y += f.m.c[p] * f.m.W[(p * D_OUT + i) * D_IN + j] * f.X[b * D_IN + j];
            worst = fmax(worst, fabs(y - f.Y[b * D_OUT + i]));
        }
    CHECK(worst < 1e-12);

    /* Euler step: W -= dt/tau_w dW, c -= dt/tau_c dc, norms of the updates. */
    fd_model fm = as_fd(&f);
    fd_total_loss(&fm, 1);
    double W0[P * D_OUT * D_IN], c0[P], nW[P], nc;
    memcpy(W0, f.m.W, sizeof W0);
    memcpy(c0, f.m.c, sizeof c0);
    ntas_gated_paths_step(&f.m, 0.01, 2.0, 0.05, nW, &nc);
    double sq = 0;
    for (int p = 0; p < P; p++) {
        CHECK_NEAR(f.m.c[p], c0[p] - 0.01 / 0.05 * f.m.dc[p], 1e-15);
        sq += (0.01 / 0.05 * f.m.dc[p]) * (0.01 / 0.05 * f.m.dc[p]);
    }
    CHECK_NEAR(nc, sqrt(sq), 1e-15);
    for (int p = 0; p < P; p++) {
        double s = 0;
        for (int i = 0; i < D_OUT * D_IN; i++) {
            int k = p * D_OUT * D_IN + i;
            CHECK(fabs(f.m.W[k] - (W0[k] - 0.005 * f.m.dW[k])) < 1e-15);
            s += (0.005 * f.m.dW[k]) * (0.005 * f.m.dW[k]);
        }
        CHECK_NEAR(nW[p], sqrt(s), 1e-15);
    }
    /* Without norms (the loop's unrecorded steps): the same update, bit for bit. */
    double W1[P * D_OUT * D_IN], c1[P];
    memcpy(W1, f.m.W, sizeof W1);
    memcpy(c1, f.m.c, sizeof c1);
    memcpy(f.m.W, W0, sizeof W0);
    memcpy(f.m.c, c0, sizeof c0);
    ntas_gated_paths_step(&f.m, 0.01, 2.0, 0.05, NULL, NULL);
    CHECK(memcmp(f.m.W, W1, sizeof W1) == 0 && memcmp(f.m.c, c1, sizeof c1) == 0);
    /* The run loop's step from G (no weight cost: dW = c G never stored):
     * the same bits and norms, with and without norms. */
    double nW2[P], nc2;
    memcpy(f.m.W, W0, sizeof W0);
    memcpy(f.m.c, c0, sizeof c0);
    ntas_nta_step_from_G(&f.m, 0.01, 2.0, 0.05, nW2, &nc2);
    CHECK_MSG(memcmp(f.m.W, W1, sizeof W1) == 0 && memcmp(f.m.c, c1, sizeof c1) == 0,
              "step from G: not the bits of dW = c G and the Euler step");
    CHECK(memcmp(nW2, nW, sizeof nW) == 0 && memcmp(&nc2, &nc, sizeof nc) == 0);
    memcpy(f.m.W, W0, sizeof W0);
    memcpy(f.m.c, c0, sizeof c0);
    ntas_nta_step_from_G(&f.m, 0.01, 2.0, 0.05, NULL, NULL);
    CHECK(memcmp(f.m.W, W1, sizeof W1) == 0 && memcmp(f.m.c, c1, sizeof c1) == 0);
    ntas_gated_paths_free(&f.m);

    /* Init: W ~ N(0, sigma^2/d_in), c = 1/2 (paper Sec. 3). */
    ntas_nta big;
    char err[128];
    CHECK(ntas_nta_init(&big, 20, 10, 50, err, sizeof err) == 0);
    ntas_rng rng;
    ntas_rng_init(&rng, 99);
    ntas_gated_paths_init_params(&big, 0.01, 0.5, &rng);
    double var = 0;
    for (int i = 0; i < 50 * 10 * 20; i++) var += big.W[i] * big.W[i];
    var /= 50 * 10 * 20;
    CHECK_MSG(fabs(var / (0.01 * 0.01 / 20) - 1) < 0.05, "init variance ratio %g", var / (0.01 * 0.01 / 20));
    CHECK(big.c[0] == 0.5 && big.c[49] == 0.5);
    ntas_gated_paths_free(&big);
    return CHECK_DONE();
}
