/* Reduced 2-D model (Sec. 5): Eq. (10) / (23) values, the plotted
 * coordinates on a hand-set state, one step against Eqs. (15)-(16) written
 * out, the row reduction of App. A.1.1, and the paper's claim that the
 * flexible-regime trajectory follows Eq. (10):
 *  - Fig. 4E: from w^p_m = delta_pm, c^p = delta_p1, a switch to teacher 2
 *    with tau_w = 1 and tau_c = 0.1 ... 1 follows Eq. (10) until L < 1e-2;
 *  - after transients: a reduced model trained from a random init on the
 *    Fig. 2 schedule follows Eq. (23) within every late block.
 * Tolerances are stated where they are used. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "ntasweep/models/model_reduced.h"
#include "ntasweep/config/params.h"
#include "ntasweep/models/reg.h"
#include "ntasweep/core/rng.h"
#include "ntasweep/tasks/teachers.h"

static void test_curves(void)
{
    CHECK(ntas_reduced_eq10_wbar(1.0, 0.3) == 1.0);
    CHECK(ntas_reduced_eq10_wbar(-1.0, 0.3) == 1.0);
    CHECK_NEAR(ntas_reduced_eq10_wbar(0.0, 0.3), sqrt(1 - 0.15), 1e-15);
    CHECK_NEAR(ntas_reduced_eq10_wbar(0.5, 1.0), sqrt(1 - 0.5 * 0.75), 1e-15);
    CHECK(ntas_reduced_eq10_wbar(0.5, 2.0) > 0.0);
    CHECK(isnan(ntas_reduced_eq10_wbar(0.0, 3.0)));
    /* Eq. (23) from (1, 1) is Eq. (10); the invariant tau_c cbar^2 - 2 tau_w wbar^2. */
    for (double c = -1.0; c <= 1.0; c += 0.125)
        CHECK_NEAR(ntas_reduced_eq23_wbar(c, 1.0, 1.0, 0.4), ntas_reduced_eq10_wbar(c, 0.4), 1e-15);
    double w = ntas_reduced_eq23_wbar(0.2, -0.9, 0.8, 0.1);
    CHECK_NEAR(0.1 * 0.2 * 0.2 - 2 * w * w, 0.1 * 0.81 - 2 * 0.64, 1e-14);
    CHECK(ntas_reduced_eq23_wbar(0.2, -0.9, -0.8, 0.1) == -w); /* branch of wbar0 */
    CHECK(isnan(ntas_reduced_eq23_wbar(0.0, 1.0, 0.1, 1.0)));
}

static void test_coords(void)
{
    ntas_reduced_view v;
    /* w^1 = (0.9, 0.2), w^2 = (-0.1, 0.7), c = (0.6, 0.3), teacher 2 active. */
    const double w[4] = {0.9, 0.2, -0.1, 0.7}, c[2] = {0.6, 0.3};
    ntas_reduced_coords_of(w, c, 1, &v);
    CHECK(v.w[0][0] == 0.9 && v.w[0][1] == 0.2 && v.w[1][0] == -0.1 && v.w[1][1] == 0.7);
    CHECK_NEAR(v.y[0], 0.6 * 0.9 - 0.3 * 0.1, 1e-15);
    CHECK_NEAR(v.y[1], 0.6 * 0.2 + 0.3 * 0.7, 1e-15);
    CHECK_NEAR(v.eps[0], -v.y[0], 1e-15);
    CHECK_NEAR(v.eps[1], 1.0 - v.y[1], 1e-15);
    CHECK_NEAR(v.loss, 0.5 * (v.eps[0] * v.eps[0] + v.eps[1] * v.eps[1]), 1e-15);
    CHECK_NEAR(v.wbar1, 0.9 + 0.1, 1e-15);
    CHECK_NEAR(v.wbar2, 0.7 - 0.2, 1e-15);
    CHECK_NEAR(v.wbar, 0.75, 1e-15);
    CHECK_NEAR(v.wbarbar, ((0.9 - 0.2) + (-0.1 - 0.7)) / 2, 1e-15);
    CHECK_NEAR(v.cbar, 0.3, 1e-15);

    ntas_reduced r;
    char err[128];
    CHECK(ntas_reduced_init(&r, err, sizeof err) == 0);
    ntas_reduced_init_specialized(&r);
    ntas_reduced_coords(&r, 0, &v);
    CHECK(v.wbar == 1.0 && v.cbar == 1.0 && v.wbarbar == 0.0 && v.loss == 0.0);
    ntas_reduced_coords(&r, 1, &v); /* the switch of Fig. 4E: eps = (-1, 1) */
    CHECK(v.eps[0] == -1.0 && v.eps[1] == 1.0 && v.loss == 1.0);
    ntas_rng rng;
    ntas_rng_init(&rng, 1);
    ntas_reduced_init_random(&r, 0.01, 0.5, &rng);
    CHECK(r.nta.c[0] == 0.5 && r.nta.c[1] == 0.5 && fabs(r.nta.W[0]) < 0.1 && r.nta.W[0] != 0.0);
    ntas_reduced_free(&r);
}

/* Defaults with the L1 gate regulariser of the Fig. 2 setting (lambda_nonneg
 * 0.091; lambda_norm as each test sets it) and no weight cost. */
static void reduced_params(ntas_params *p, double lambda_norm)
{
    ntas_params_defaults(p);
    p->lambda_nonneg = 0.091;
    p->lambda_norm = lambda_norm;
    p->norm = NTAS_NORM_L1;
    p->lambda_w = 0.0;
}

/* One Euler step is Eqs. (15)-(16) with the regulariser's gradient. */
static void test_step_is_eq15_16(void)
{
    ntas_reduced r;
    char err[128];
    CHECK(ntas_reduced_init(&r, err, sizeof err) == 0);
    const double w[4] = {0.9, 0.2, -0.1, 0.7}, c[2] = {0.6, -0.3};
    ntas_reduced_set(&r, w, c);
    ntas_params p;
    reduced_params(&p, 0.455);
    const double dt = 0.01, tw = 1.3, tc = 0.03;
    double y[2], eps[2], greg[2] = {0, 0};
    for (int m = 0; m < 2; m++) {
        y[m] = c[0] * w[m] + c[1] * w[2 + m];
        eps[m] = (m == 1 ? 1.0 : 0.0) - y[m];
    }
    ntas_gate_reg(c, 2, NTAS_NORM_L1, 0.091, 0.455, greg);
    double loss = ntas_reduced_step(&r, 1, &p, dt, tw, tc);
    CHECK_NEAR(loss, 0.5 * (eps[0] * eps[0] + eps[1] * eps[1]), 1e-15);
    for (int q = 0; q < 2; q++) {
        for (int m = 0; m < 2; m++)
            CHECK_NEAR(r.nta.W[q * 2 + m], w[q * 2 + m] + dt / tw * c[q] * eps[m], 1e-15);
        double wte = w[q * 2] * eps[0] + w[q * 2 + 1] * eps[1];
        CHECK_NEAR(r.nta.c[q], c[q] + dt / tc * (wte - greg[q]), 1e-14);
    }
    ntas_reduced_free(&r);
}

/* Runs the switch to teacher 2 from the current state with dt = tau_c / steps_per_tau_c
 * until L < 1e-2 (at most t_max) and returns max |wbar - Eq. (10)(cbar)| over
 * that stretch; *cbar_end and *reached report where it stopped. */
static double fig4e_error(double tau_c, double tau_w, double steps_per_tau_c, const ntas_params *p,
                          double *cbar_end, int *reached)
{
    ntas_reduced r;
    char err[128];
    CHECK(ntas_reduced_init(&r, err, sizeof err) == 0);
    ntas_reduced_init_specialized(&r);
    const double dt = tau_c / steps_per_tau_c;
    const long n = (long)(5.0 / dt);
    double worst = 0.0;
    ntas_reduced_view v;
    *reached = 0;
    for (long k = 0; k < n; k++) {
        ntas_reduced_coords(&r, 1, &v);
        if (v.loss < 1e-2) {
            *reached = 1;
            break;
        }
        worst = fmax(worst, fabs(v.wbar - ntas_reduced_eq10_wbar(v.cbar, tau_c / tau_w)));
        ntas_reduced_step(&r, 1, p, dt, tau_w, tau_c);
    }
    *cbar_end = v.cbar;
    ntas_reduced_free(&r);
    return worst;
}

/* Fig. 4E: tau_w = 1, tau_c = 0.1, 0.18, 0.32, 0.56, 1 (the notebook's
 * logspace(-1, 0, 5)), the reduced model's regulariser of Table 2. Along the
 * switch the only approximation behind Eq. (10) is the symmetry
 * wbar1 = wbar2 (Eqs. 6 and 8 are exact in the positive quadrant, where the
 * L1 term cancels in cbar). Eq. (10) predicts a dip of wbar of depth
 * 1 - sqrt(1 - tau_c/(2 tau_w)), from 2.5e-2 to 0.29 here; the test demands
 * agreement within 1% of that depth at every step. Measured: 0.10-0.18%, of
 * which most is the O(dt/tau_c) bias of explicit Euler (the second check: ten
 * times finer steps give ten times less error), so 1% leaves a 5x margin and
 * still fails any model in which wbar does not dip as predicted. */
static void test_fig4e(void)
{
    ntas_params p;
    reduced_params(&p, 0.455);
    const double tau_w = 1.0;
    for (int k = 0; k < 5; k++) {
        double tau_c = pow(10.0, -1.0 + 0.25 * k), cbar_end;
        int reached;
        double worst = fig4e_error(tau_c, tau_w, 1000.0, &p, &cbar_end, &reached);
        double depth = 1.0 - ntas_reduced_eq10_wbar(0.0, tau_c / tau_w);
        printf("Fig. 4E tau_c = %.3f: max |wbar - Eq.10| = %.2e = %.2f%% of the dip %.3f; cbar at L < 1e-2: %.3f\n",
               tau_c, worst, 100 * worst / depth, depth, cbar_end);
        CHECK_MSG(reached, "tau_c = %g: loss never fell below 1e-2", tau_c);
        /* The gates have swapped over most of their range (paper: the curve
         * is not traversed in full, learning also happens outside it). */
        CHECK_MSG(cbar_end < 0.1, "tau_c = %g: cbar only reached %g", tau_c, cbar_end);
        CHECK_MSG(worst <= 0.01 * depth, "tau_c = %g: %g > 1%% of %g", tau_c, worst, depth);
    }
    /* The residual is Euler bias: 10x coarser steps, ~10x the error. */
    double c1, c2;
    int r1, r2;
    double fine = fig4e_error(0.1, 1.0, 1000.0, &p, &c1, &r1);
    double coarse = fig4e_error(0.1, 1.0, 100.0, &p, &c2, &r2);
    printf("Euler bias at tau_c = 0.1: dt = tau_c/100 -> %.2e, dt = tau_c/1000 -> %.2e\n", coarse, fine);
    CHECK_MSG(coarse > 5.0 * fine, "coarse %g vs fine %g", coarse, fine);
}

/* After transients (the paper's "flexible regime"): random init (sigma = 0.01,
 * c = 1/2), the Fig. 2 time constants and regulariser (tau_w = 1.3,
 * tau_c = 0.03, 0.091 / 0.456 L1), 20 alternating blocks of length 1,
 * dt = 1e-4. The model specialises within ~10 blocks; in blocks 12-19 the
 * state at the switch is near but not at cbar = wbar = 1, so the comparison
 * is Eq. (23) with that block's start (cbar0, wbar0). Required: every late
 * block starts specialised (|wbar0| > 0.9, |cbar0| > 0.95), reaches L < 1e-2,
 * and until then stays within 5% of Eq. (23)'s dip over the block (measured
 * ~0.6%; the blocks just after specialisation, 8-9, are at ~10% because
 * wbar1 and wbar2 still differ by 0.2-0.3, which is why they are excluded). */
static void test_after_transients(void)
{
    ntas_params p;
    reduced_params(&p, 0.456);
    const double tau_w = 1.3, tau_c = 0.03, dt = 1e-4;
    ntas_reduced r;
    char err[128];
    CHECK(ntas_reduced_init(&r, err, sizeof err) == 0);
    ntas_rng rng;
    ntas_rng_init(&rng, 12345);
    ntas_reduced_init_random(&r, 0.01, 0.5, &rng);
    const long spb = 10000;
    double worst_frac = 0.0;
    for (int b = 0; b < 20; b++) {
        const int task = b % 2;
        ntas_reduced_view v0, v;
        ntas_reduced_coords(&r, task, &v0);
        double worst = 0.0, dip = 0.0;
        int reached = 0;
        for (long k = 0; k < spb; k++) {
            ntas_reduced_coords(&r, task, &v);
            if (!reached && v.loss < 1e-2) reached = 1;
            if (!reached) {
                double th = ntas_reduced_eq23_wbar(v.cbar, v0.cbar, v0.wbar, tau_c / tau_w);
                worst = fmax(worst, fabs(v.wbar - th));
                dip = fmax(dip, fabs(v0.wbar - th));
            }
            ntas_reduced_step(&r, task, &p, dt, tau_w, tau_c);
        }
        if (b < 12) continue;
        CHECK_MSG(fabs(v0.wbar) > 0.9 && fabs(v0.cbar) > 0.95, "block %d starts at wbar %g, cbar %g", b,
                  v0.wbar, v0.cbar);
        CHECK_MSG(reached, "block %d never reached L < 1e-2", b);
        CHECK_MSG(worst <= 0.05 * dip, "block %d: %g vs dip %g", b, worst, dip);
        worst_frac = fmax(worst_frac, worst / dip);
    }
    printf("after transients (blocks 12-19): max |wbar - Eq.23| = %.2f%% of the dip\n", 100 * worst_frac);
    ntas_reduced_free(&r);
}

/* App. A.1.1: students that are known combinations of the two teachers'
 * rows plus a component outside their span project onto the combination. */
static void test_project_rows(void)
{
    const int d_in = 20, d_out = 5;
    const size_t en = (size_t)d_out * d_in;
    double T[3 * 100], S[2 * 100], w[4];
    char err[256];
    CHECK(ntas_teachers_orthogonal(d_in, d_out, 3, 8, T, err, sizeof err) == 0);
    const double coef[4] = {0.8, 0.1, -0.2, 1.1}; /* w^1 = (0.8, 0.1), w^2 = (-0.2, 1.1) */
    for (int q = 0; q < 2; q++)
        for (size_t i = 0; i < en; i++)
            S[q * en + i] = coef[q * 2] * T[i] + coef[q * 2 + 1] * T[en + i] + 0.7 * T[2 * en + i];
    ntas_reduced_project_rows(T, S, d_out, d_in, w);
    for (int k = 0; k < 4; k++) CHECK_NEAR(w[k], coef[k], 1e-13);
}

/* Fig. 4C (the authors' forgetful panel): from the collapsed start w^1 = w^2 =
 * e_1, c = (1/2, 1/2), with the flexible time constants (tau_w = 0.4/3,
 * tau_c = 0.2/3) and the regulariser on, one time unit on teacher e_2. Both
 * students get the same gradients, so they stay equal bit for bit; the gates
 * cannot take over and the weights remap instead: both students end near e_2
 * and the gates stay near 1/2. */
static void test_collapsed_fig4c(void)
{
    ntas_reduced r;
    char err[128];
    CHECK(ntas_reduced_init(&r, err, sizeof err) == 0);
    ntas_reduced_init_collapsed(&r);
    CHECK(r.nta.W[0] == 1.0 && r.nta.W[1] == 0.0 && r.nta.W[2] == 1.0 && r.nta.W[3] == 0.0);
    CHECK(r.nta.c[0] == 0.5 && r.nta.c[1] == 0.5);
    ntas_params p;
    reduced_params(&p, 0.455);
    const double dt = 0.001, tw = 0.4 / 3, tc = 0.2 / 3;
    double loss = 0.0;
    for (int k = 0; k < 1000; k++) loss = ntas_reduced_step(&r, 1, &p, dt, tw, tc);
    CHECK(r.nta.W[0] == r.nta.W[2] && r.nta.W[1] == r.nta.W[3] && r.nta.c[0] == r.nta.c[1]);
    CHECK_MSG(r.nta.W[1] > 0.8 && fabs(r.nta.W[0]) < 0.2, "w = (%g, %g)", r.nta.W[0], r.nta.W[1]);
    CHECK_MSG(fabs(r.nta.c[0] - 0.5) < 0.1, "c = %g", r.nta.c[0]);
    CHECK_MSG(loss < 0.01, "loss after one time unit %g", loss);
    ntas_reduced_free(&r);
}

int main(void)
{
    test_collapsed_fig4c();
    test_curves();
    test_coords();
    test_step_is_eq15_16();
    test_fig4e();
    test_after_transients();
    test_project_rows();
    return CHECK_DONE();
}
