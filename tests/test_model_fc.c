/* Fully-connected 2-layer network: every gradient (task loss, regulariser on
 * all W2 entries with both norms, weight cost on W1) against central finite
 * differences in double (relative error < 1e-6), forward and backward against
 * explicit hidden-layer loops, the two-timescale Euler step, the init, and the
 * W1-row / W2-column sorting on hand-built known answers. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fd.h"
#include "ntasweep/tasks/metrics.h"
#include "ntasweep/models/model_fc.h"
#include "ntasweep/config/params.h"
#include "ntasweep/core/rng.h"
#include "ntasweep/train/train.h"

enum { D_IN = 5, D_OUT = 3, D_HID = 6, B = 7, N1 = D_HID * D_IN, N2 = D_OUT * D_HID };

typedef struct {
    ntas_fc m;
    ntas_params p;
    double X[B * D_IN], Ystar[B * D_OUT], Y[B * D_OUT], dY[B * D_OUT];
} fixture;

/* L_task through forward/MSE (and backward when grads), for fd_model. */
static double task_loss(void *ctx, int grads)
{
    fixture *f = ctx;
    ntas_fc_forward(&f->m, f->X, B, f->Y);
    double loss = ntas_mse(f->Y, f->Ystar, B, D_OUT, f->dY);
    if (grads) ntas_fc_backward(&f->m, f->X, f->dY, B);
    return loss;
}

/* L_reg on the W2 entries plus the weight cost on W1. */
static double reg_loss(void *ctx)
{
    fixture *f = ctx;
    return ntas_fc_reg_backward(&f->m, &f->p);
}

/* The fixture as fd.h sees it: W1 and W2 with their gradients. */
static fd_model as_fd(fixture *f)
{
    return (fd_model){.ctx = f, .task = task_loss, .reg = reg_loss,
                      .x = {f->m.W1, f->m.W2}, .g = {f->m.dW1, f->m.dW2}, .n = {N1, N2}};
}

static void setup(fixture *f, uint64_t seed)
{
    char err[256];
    ntas_params_defaults(&f->p);
    f->p.lambda_nonneg = f->p.lambda_norm = f->p.lambda_w = 0.0;
    CHECK(ntas_fc_init(&f->m, D_IN, D_HID, D_OUT, err, sizeof err) == 0);
    ntas_rng rng;
    ntas_rng_init(&rng, seed);
    ntas_rng_normal_fill(&rng, f->m.W1, N1);
    ntas_rng_normal_fill(&rng, f->m.W2, N2);
    ntas_rng_normal_fill(&rng, f->X, B * D_IN);
    ntas_rng_normal_fill(&rng, f->Ystar, B * D_OUT);
    /* Keep W2 entries away from the kinks at 0 (|w| >= 0.05). */
    for (int i = 0; i < N2; i++)
        if (fabs(f->m.W2[i]) < 0.05) f->m.W2[i] = f->m.W2[i] < 0 ? -0.05 : 0.05;
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
        {"everything, L2 (Fig. 6)", 0.2, 0.1, 0.77, NTAS_NORM_L2},
        {"everything, L1", 0.091, 0.456, 0.5, NTAS_NORM_L1},
    };
    /* Both forms of the weight cost (squared; the authors' Fig. A.3 mean column 2-norm). */
    for (int form = NTAS_WEIGHT_COST_SQUARED; form <= NTAS_WEIGHT_COST_COLUMN_NORM; form++)
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
            for (uint64_t seed = 1; seed <= 3; seed++) {
                if (form != NTAS_WEIGHT_COST_SQUARED && cases[k].lambda_w == 0.0) continue;
                setup(&f, seed * 104729 + k + 1000 * (uint64_t)form);
                fd_apply_case(&f.p, &cases[k]);
                f.p.weight_cost = form;
                fd_model fm = as_fd(&f);
                char label[64];
                snprintf(label, sizeof label, "%s%s", cases[k].label, form ? ", column_norm" : "");
                double worst = fd_check_model(&fm, label);
                CHECK_MSG(worst < 1e-6, "%s, seed %llu: %g", label, (unsigned long long)seed, worst);
                ntas_fc_free(&f.m);
            }
}

/* Forward and backward against the textbook two-layer pass through
 * H = X W1^T: Y = H W2^T, dW2 = dY^T H, dW1 = (dY W2)^T X. */
static void test_against_hidden_layer(void)
{
    fixture f;
    setup(&f, 77);
    double H[B * D_HID], Yn[B * D_OUT], dH[B * D_HID];
    for (int b = 0; b < B; b++)
        for (int h = 0; h < D_HID; h++) {
            double s = 0;
            for (int j = 0; j < D_IN; j++) s += f.m.W1[h * D_IN + j] * f.X[b * D_IN + j];
            H[b * D_HID + h] = s;
        }
    for (int b = 0; b < B; b++)
        for (int i = 0; i < D_OUT; i++) {
            double s = 0;
            for (int h = 0; h < D_HID; h++) s += f.m.W2[i * D_HID + h] * H[b * D_HID + h];
            Yn[b * D_OUT + i] = s;
        }
    fd_model fm = as_fd(&f);
    fd_total_loss(&fm, 1);
    double worst = 0;
    for (int k = 0; k < B * D_OUT; k++) worst = fmax(worst, fabs(Yn[k] - f.Y[k]));
    for (int b = 0; b < B; b++)
        for (int h = 0; h < D_HID; h++) {
            double s = 0;
            for (int i = 0; i < D_OUT; i++) s += f.dY[b * D_OUT + i] * f.m.W2[i * D_HID + h];
            dH[b * D_HID + h] = s;
        }
    for (int i = 0; i < D_OUT; i++)
        for (int h = 0; h < D_HID; h++) {
            double s = 0;
            for (int b = 0; b < B; b++) s += f.dY[b * D_OUT + i] * H[b * D_HID + h];
            worst = fmax(worst, fabs(s - f.m.dW2[i * D_HID + h]));
        }
    for (int h = 0; h < D_HID; h++)
        for (int j = 0; j < D_IN; j++) {
            double s = 0;
            for (int b = 0; b < B; b++) s += dH[b * D_HID + h] * f.X[b * D_IN + j];
            worst = fmax(worst, fabs(s - f.m.dW1[h * D_IN + j]));
        }
    CHECK_MSG(worst < 1e-12, "vs hidden-layer pass: %g", worst);

    /* Regulariser value: W2 as one gate vector, L2 = Frobenius norm. */
    double fro = 0, neg = 0;
    for (int i = 0; i < N2; i++) {
        fro += f.m.W2[i] * f.m.W2[i];
        neg += f.m.W2[i] < 0 ? -f.m.W2[i] : 0;
    }
    fro = sqrt(fro);
    f.p.lambda_nonneg = 0.2;
    f.p.lambda_norm = 0.1;
    f.p.norm = NTAS_NORM_L2;
    f.p.lambda_w = 0.6;
    double sq1 = 0;
    for (int i = 0; i < N1; i++) sq1 += f.m.W1[i] * f.m.W1[i];
    /* Weight cost lambda_w / (2 P d_in) sum W1^2 with P = d_hid / d_out = 2. */
    double want = 0.2 * neg + 0.1 * (fro - 1) * (fro - 1) + 0.6 / (2 * 2.0 * D_IN) * sq1;
    CHECK_NEAR(ntas_fc_reg_backward(&f.m, &f.p), want, 1e-13);

    /* Two-timescale Euler step. */
    fd_total_loss(&fm, 1);
    double W10[N1], W20[N2], n1, n2;
    memcpy(W10, f.m.W1, sizeof W10);
    memcpy(W20, f.m.W2, sizeof W20);
    ntas_fc_step(&f.m, 0.01, 0.06, 0.01, &n1, &n2);
    double s1 = 0, s2 = 0;
    for (int i = 0; i < N1; i++) {
        double u = 0.01 / 0.06 * f.m.dW1[i];
        CHECK(fabs(f.m.W1[i] - (W10[i] - u)) < 1e-15);
        s1 += u * u;
    }
    for (int i = 0; i < N2; i++) {
        double u = 1.0 * f.m.dW2[i];
        CHECK(fabs(f.m.W2[i] - (W20[i] - u)) < 1e-15);
        s2 += u * u;
    }
    CHECK_NEAR(n1, sqrt(s1), 1e-14);
    CHECK_NEAR(n2, sqrt(s2), 1e-14);
    /* Without norms (the loop's unrecorded steps): the same update, bit for bit. */
    double W11[N1], W21[N2];
    memcpy(W11, f.m.W1, sizeof W11);
    memcpy(W21, f.m.W2, sizeof W21);
    memcpy(f.m.W1, W10, sizeof W10);
    memcpy(f.m.W2, W20, sizeof W20);
    ntas_fc_step(&f.m, 0.01, 0.06, 0.01, NULL, NULL);
    CHECK(memcmp(f.m.W1, W11, sizeof W11) == 0 && memcmp(f.m.W2, W21, sizeof W21) == 0);
    ntas_fc_free(&f.m);
}

/* Hand-built known answer: teachers A = (e0, e1), B = (e2, e3) in R^4,
 * d_hid = 4 = 2 d_out. W1 rows: h0 = 2 e2, h1 = e1 + 0.1 e3, h2 = 0.5 e3,
 * h3 = 3 e0, so A's rows are matched by h3, h1 and B's by h0, h2. */
static void test_sorting(void)
{
    ntas_fc m;
    char err[128];
    CHECK(ntas_fc_init(&m, 4, 4, 2, err, sizeof err) == 0);
    const double T[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    const double W1[16] = {0, 0, 2, 0, 0, 1, 0, 0.1, 0, 0, 0, 0.5, 3, 0, 0, 0};
    const double W2[8] = {0.1, 0.2, 0.3, 0.4,   /* row 0 */
                          0.5, 0.6, 0.7, 0.8};  /* row 1 */
    memcpy(m.W1, W1, sizeof W1);
    memcpy(m.W2, W2, sizeof W2);
    double cos[16], students[16], blocks[8], gates[2];
    int src[4];
    ntas_row_cosines(m.W1, 4, T, 4, 4, cos);
    ntas_sort_rows(cos, 4, 4, src);
    CHECK(src[0] == 3 && src[1] == 1 && src[2] == 0 && src[3] == 2);
    ntas_fc_sorted(&m, src, 2, students, blocks, gates);
    const double want_students[16] = {3, 0, 0, 0, 0, 1, 0, 0.1, 0, 0, 2, 0, 0, 0, 0, 0.5};
    CHECK(memcmp(students, want_students, sizeof want_students) == 0);
    /* Block 0 = W2 columns (3, 1), block 1 = columns (0, 2). */
    const double want_blocks[8] = {0.4, 0.2, 0.8, 0.6, 0.1, 0.3, 0.5, 0.7};
    CHECK(memcmp(blocks, want_blocks, sizeof want_blocks) == 0);
    CHECK_NEAR(gates[0], (0.4 + 0.2 + 0.8 + 0.6) / 4, 1e-15);
    CHECK_NEAR(gates[1], (0.1 + 0.3 + 0.5 + 0.7) / 4, 1e-15);
    CHECK_NEAR(ntas_sorted_alignment(T, 2, students, 2, 4), (1 + 1 / sqrt(1.01) + 1 + 1) / 4, 1e-15);

    /* The ideal gating solution for task A (Fig. 6): W1 = [A; B] with the
     * hidden units in scrambled order, W2 selects A's units: block A is the
     * identity (gate 1/2), block B is zero (gate 0), and y = A x. */
    const double W1g[16] = {0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0}; /* e3, e0, e2, e1 */
    const double W2g[8] = {0, 1, 0, 0, 0, 0, 0, 1};
    memcpy(m.W1, W1g, sizeof W1g);
    memcpy(m.W2, W2g, sizeof W2g);
    ntas_row_cosines(m.W1, 4, T, 4, 4, cos);
    ntas_sort_rows(cos, 4, 4, src);
    CHECK(src[0] == 1 && src[1] == 3 && src[2] == 2 && src[3] == 0);
    ntas_fc_sorted(&m, src, 2, students, blocks, gates);
    const double want_g[8] = {1, 0, 0, 1, 0, 0, 0, 0};
    CHECK(memcmp(blocks, want_g, sizeof want_g) == 0);
    CHECK(gates[0] == 0.5 && gates[1] == 0.0);
    CHECK(memcmp(students, T, sizeof T) == 0);
    double X[4] = {0.3, -1.2, 2.0, 0.7}, Y[2];
    ntas_fc_forward(&m, X, 1, Y);
    CHECK(Y[0] == 0.3 && Y[1] == -1.2);
    /* NULL outputs are allowed. */
    ntas_fc_sorted(&m, src, 2, NULL, NULL, gates);
    CHECK(gates[0] == 0.5);
    ntas_fc_free(&m);
}

static void test_init(void)
{
    ntas_fc big;
    char err[128];
    CHECK(ntas_fc_init(&big, 20, 40, 20, err, sizeof err) == 0);
    ntas_rng rng;
    ntas_rng_init(&rng, 3);
    ntas_fc_init_params(&big, 0.01, &rng);
    double v1 = 0, v2 = 0;
    for (int i = 0; i < 40 * 20; i++) {
        v1 += big.W1[i] * big.W1[i];
        v2 += big.W2[i] * big.W2[i];
    }
    v1 /= 800;
    v2 /= 800;
    /* Both layers N(0, sigma^2 / d_in) with the input's d_in (not d_hid). */
    CHECK_MSG(fabs(v1 / (1e-4 / 20) - 1) < 0.15, "W1 variance ratio %g", v1 / (1e-4 / 20));
    CHECK_MSG(fabs(v2 / (1e-4 / 20) - 1) < 0.15, "W2 variance ratio %g", v2 / (1e-4 / 20));
    ntas_fc_free(&big);
    CHECK(ntas_fc_init(&big, 20, 0, 10, err, sizeof err) == -1);
    CHECK(strstr(err, "positive") != NULL);
}

int main(void)
{
    test_gradients();
    test_against_hidden_layer();
    test_sorting();
    test_init();
    return CHECK_DONE();
}
