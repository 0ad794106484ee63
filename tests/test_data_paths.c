/* test_data_paths — the three ways a step sees its batch (key `data`,
 * train.c): the fused batch gradient against the unfused forward/backward,
 * the second-moment form against the batch it summarises, the expected
 * path against the analytic loss 1/2 ||W_eff - T||_F^2 of the initial state,
 * the Wishart fallback for batch < d_in, the key's run-key and validation
 * rules, and, over many seeds, a two-sample Kolmogorov-Smirnov test that the
 * wishart path trains like the sampled one (final specialization, time to
 * threshold), with a check that the same test rejects a wrong noise level.
 * Every stream has a fixed key, so the statistical checks are deterministic. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "ntasweep/core/blas_threads.h"
#include "ntasweep/models/model_fc.h"
#include "ntasweep/models/model_nta.h"
#include "ntasweep/config/params.h"
#include "ntasweep/core/rng.h"
#include "ntasweep/tasks/teachers.h"
#include "ntasweep/tasks/curriculum.h"
#include "ntasweep/train/train.h"
#include "check.h"

static int set(ntas_params *p, const char *key, const char *value)
{
    char err[256];
    int k = ntas_param_find(key);
    return k < 0 ? -1 : ntas_param_parse(&ntas_param_table[k], value, p, err, sizeof err);
}

static double max_abs_diff(const double *a, const double *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        if (fabs(a[i] - b[i]) > m) m = fabs(a[i] - b[i]);
    return m;
}

/* ---- the key ---------------------------------------------------------------- */

static void test_key(void)
{
    ntas_params p, q;
    ntas_params_defaults(&p);
    CHECK(p.data == NTAS_DATA_SAMPLED);
    q = p;
    CHECK(set(&q, "data", "sampled") == 0);
    /* Added key: at its default it leaves every earlier run key as it was. */
    CHECK(ntas_params_run_key(&q) == ntas_params_run_key(&p));
    CHECK(ntas_params_run_key(&p) == 0xfecd8a5a63be59c3ULL);
    CHECK(set(&q, "data", "wishart") == 0 && q.data == NTAS_DATA_WISHART);
    uint64_t kw = ntas_params_run_key(&q);
    CHECK(set(&q, "data", "expected") == 0 && q.data == NTAS_DATA_EXPECTED);
    CHECK(kw != ntas_params_run_key(&p) && ntas_params_run_key(&q) != ntas_params_run_key(&p));
    CHECK(ntas_params_run_key(&q) != kw);
    CHECK(set(&q, "data", "bootstrap") == -1);

    char err[512];
    const char *bad = NULL;
    for (int d = 0; d < 3; d++) {
        q = p;
        q.data = d;
        for (int m = 0; m < 3; m++) {
            q.model = m;
            CHECK_MSG(ntas_params_validate(&q, err, sizeof err, &bad) == 0, "model %d data %d: %s", m, d, err);
        }
    }
    /* reduced: fixed input x = 1, so only sampled / expected (the same flow). */
    ntas_params_defaults(&q);
    CHECK(set(&q, "model", "reduced") == 0 && set(&q, "d_in", "1") == 0 && set(&q, "d_out", "2") == 0 &&
          set(&q, "batch", "1") == 0);
    CHECK(ntas_params_validate(&q, err, sizeof err, &bad) == 0);
    q.data = NTAS_DATA_EXPECTED;
    CHECK(ntas_params_validate(&q, err, sizeof err, &bad) == 0);
    CHECK(ntas_train_data_path(&q) == NTAS_DATA_EXPECTED);
    q.data = NTAS_DATA_WISHART;
    bad = NULL;
    CHECK(ntas_params_validate(&q, err, sizeof err, &bad) == -1 && bad && !strcmp(bad, "data"));
    CHECK(strstr(err, "wishart") != NULL);

    /* The path a run takes: wishart needs B >= d_in. */
    ntas_params_defaults(&q);
    q.data = NTAS_DATA_WISHART;
    CHECK(ntas_train_data_path(&q) == NTAS_DATA_WISHART);
    q.batch = q.d_in;
    CHECK(ntas_train_data_path(&q) == NTAS_DATA_WISHART);
    q.batch = q.d_in - 1;
    CHECK(ntas_train_data_path(&q) == NTAS_DATA_SAMPLED);
}

/* ---- one step's loss and gradient ------------------------------------------- */

/* The fused batch form equals the unfused one (targets X T^T, outputs
 * X W^T, dY = (Y - Y*) / B, G = dY^T X), and the second-moment form with
 * S = X^T X / B equals both: the batch enters only through S. */
static void test_grad_forms(void)
{
    enum { B = 37, DI = 9, DO = 4 };
    const size_t en = (size_t)DO * DI;
    double X[B * DI], W[DO * DI], T[DO * DI], D[DO * DI], Y[B * DO], Ys[B * DO], dY[B * DO], E[B * DO];
    double G_ref[DO * DI], G[DO * DI], S[DI * DI];
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_stream_key(7, "test/grad_forms"));
    ntas_rng_normal_fill(&rng, X, (size_t)B * DI);
    ntas_rng_normal_fill(&rng, W, en);
    ntas_rng_normal_fill(&rng, T, en);
    for (size_t i = 0; i < en; i++) D[i] = W[i] - T[i];

    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, DO, DI, 1.0, X, DI, T, DI, 0.0, Ys, DO);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, DO, DI, 1.0, X, DI, W, DI, 0.0, Y, DO);
    double L_ref = ntas_mse(Y, Ys, B, DO, dY);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, DO, DI, B, 1.0, dY, DO, X, DI, 0.0, G_ref, DI);

    double L = ntas_task_grad_batch(D, X, B, DO, DI, E, G);
    CHECK_NEAR(L, L_ref, 1e-12 * L_ref);
    CHECK_MSG(max_abs_diff(G, G_ref, en) < 1e-12, "batch G off by %g", max_abs_diff(G, G_ref, en));
    /* E ends as Y - Y*. */
    double e_ref[B * DO];
    for (int i = 0; i < B * DO; i++) e_ref[i] = Y[i] - Ys[i];
    CHECK(max_abs_diff(E, e_ref, (size_t)B * DO) < 1e-12);

    /* S = X^T X / B, by plain loops. */
    for (int i = 0; i < DI; i++)
        for (int j = 0; j < DI; j++) {
            double s = 0.0;
            for (int b = 0; b < B; b++) s += X[b * DI + i] * X[b * DI + j];
            S[i * DI + j] = s / B;
        }
    L = ntas_task_grad_moment(D, S, DO, DI, G);
    CHECK_NEAR(L, L_ref, 1e-12 * L_ref);
    CHECK_MSG(max_abs_diff(G, G_ref, en) < 1e-12, "moment G off by %g", max_abs_diff(G, G_ref, en));

    /* S = NULL is S = I: G = D exactly, L = 1/2 sum D^2 summed in order. */
    double sq = 0.0;
    for (size_t i = 0; i < en; i++) sq += D[i] * D[i];
    L = ntas_task_grad_moment(D, NULL, DO, DI, G);
    CHECK(L == 0.5 * sq);
    CHECK(memcmp(G, D, sizeof G) == 0);
}

/* ---- the expected path in a whole run --------------------------------------- */

/* The first recorded loss of a data=expected run is 1/2 ||W_eff - T||_F^2 of
 * the initial state, which the test rebuilds from the run's "init" stream:
 * no batch, no noise, only rounding. Every model that supports the path. */
static void test_expected_loss(void)
{
    for (int model = 0; model < 3; model++) {
        ntas_params p;
        ntas_params_defaults(&p);
        p.model = model;
        p.data = NTAS_DATA_EXPECTED;
        p.n_blocks = 1;
        p.block_len = 0.01; /* 10 steps */
        p.record_every = 1;
        p.lambda_nonneg = p.lambda_norm = 0.0; /* pure gradient flow on the task loss */
        if (model == NTAS_MODEL_FC) p.init_sigma = 0.3; /* W2 W1 = O(sigma^2): keep it visible */
        char err[512];
        ntas_run_result r;
        CHECK(ntas_run_result_init(&r, &p, err, sizeof err) == 0);
        const uint64_t key = ntas_params_run_key(&p);
        CHECK_MSG(ntas_train_run(&p, key, &r, NULL, NULL, err, sizeof err) == 0, "%s", err);
        CHECK(r.status == NTAS_STATUS_DONE);

        const int d_in = (int)p.d_in, d_out = (int)p.d_out, P = (int)p.paths;
        const size_t en = (size_t)d_out * d_in;
        double *W_eff = calloc(en, sizeof *W_eff);
        ntas_rng init;
        ntas_rng_init(&init, ntas_stream_key(key, "init"));
        if (model == NTAS_MODEL_FC) {
            ntas_fc f;
            CHECK(ntas_fc_init(&f, d_in, P * d_out, d_out, err, sizeof err) == 0);
            ntas_fc_init_params(&f, p.init_sigma, &init);
            for (int i = 0; i < d_out; i++)
                for (int j = 0; j < d_in; j++) {
                    double s = 0.0;
                    for (int h = 0; h < f.d_hid; h++) s += f.W2[i * f.d_hid + h] * f.W1[h * d_in + j];
                    W_eff[i * d_in + j] = s;
                }
            ntas_fc_free(&f);
        } else {
            /* nta and nta_neuron draw W alike and start every gate at 1/2. */
            ntas_nta m;
            CHECK(ntas_nta_init(&m, d_in, d_out, P, err, sizeof err) == 0);
            ntas_gated_paths_init_params(&m, p.init_sigma, 0.5, &init);
            for (size_t i = 0; i < en; i++)
                for (int q = 0; q < P; q++) W_eff[i] += 0.5 * m.W[(size_t)q * en + i];
            ntas_gated_paths_free(&m);
        }
        /* Block 0's task (block_task is recorded only for composite curricula). */
        const int task0 = ntas_curriculum_block_task((ntas_curriculum_kind)p.curriculum, r.M, r.n_tasks - r.M,
                                                     p.n_blocks, 0);
        const double *T = r.teachers + (size_t)task0 * en;
        double sq = 0.0;
        for (size_t i = 0; i < en; i++) sq += (W_eff[i] - T[i]) * (W_eff[i] - T[i]);
        CHECK_MSG(fabs(r.loss[0] - 0.5 * sq) <= 1e-14 * 0.5 * sq, "model %d: loss %.17g, analytic %.17g",
                  model, r.loss[0], 0.5 * sq);
        /* Gradient flow on 1/2 ||W_eff - T||^2 with small steps: the loss falls. */
        CHECK_MSG(r.loss[9] < r.loss[0], "model %d: %g -> %g", model, r.loss[0], r.loss[9]);
        free(W_eff);
        ntas_run_result_free(&r);
    }
}

/* wishart with B < d_in runs the sampled path: with the same run key it
 * computes exactly what data = sampled computes. */
static void test_wishart_fallback(void)
{
    ntas_params p;
    ntas_params_defaults(&p);
    p.batch = 7; /* < d_in = 20 */
    p.n_blocks = 2;
    p.block_len = 0.05;
    p.record_every = 5;
    ntas_params w = p;
    w.data = NTAS_DATA_WISHART;
    char err[512];
    ntas_run_result a, b;
    CHECK(ntas_run_result_init(&a, &p, err, sizeof err) == 0);
    CHECK(ntas_run_result_init(&b, &w, err, sizeof err) == 0);
    const uint64_t key = ntas_params_run_key(&w);
    CHECK(ntas_train_run(&p, key, &a, NULL, NULL, err, sizeof err) == 0);
    CHECK(ntas_train_run(&w, key, &b, NULL, NULL, err, sizeof err) == 0);
    CHECK(memcmp(a.loss, b.loss, (size_t)a.n_records * sizeof *a.loss) == 0);
    CHECK(memcmp(a.students, b.students, (size_t)a.P * a.d_out * a.d_in * sizeof(double)) == 0);
    /* With B >= d_in the same key gives a different trajectory (S drawn directly). */
    w.batch = p.batch = 20;
    CHECK(ntas_train_run(&p, key, &a, NULL, NULL, err, sizeof err) == 0);
    CHECK(ntas_train_run(&w, key, &b, NULL, NULL, err, sizeof err) == 0);
    CHECK(memcmp(a.loss, b.loss, (size_t)a.n_records * sizeof *a.loss) != 0);
    ntas_run_result_free(&a);
    ntas_run_result_free(&b);
}

/* The sampled loss is exact only where the loop needs its bits (recorded
 * steps; the side of the threshold otherwise): a run that records every
 * step, so every loss is the exact serial sum, must decide and compute the
 * same as one that records every 7th step: the same times to threshold,
 * students and gates bitwise, and every 7th loss equal to the other's. */
static void test_loss_need(int scaling)
{
    ntas_params p;
    ntas_params_defaults(&p);
    p.n_blocks = 3;
    p.block_len = 0.5;
    p.tau_w = 0.05; /* fast enough to cross the loss threshold in every block */
    p.scaling = scaling;
    p.record_every = 1;
    ntas_params q = p;
    q.record_every = 7;
    char err[512];
    ntas_run_result a, b;
    CHECK(ntas_run_result_init(&a, &p, err, sizeof err) == 0);
    CHECK(ntas_run_result_init(&b, &q, err, sizeof err) == 0);
    const uint64_t key = ntas_params_run_key(&p);
    CHECK_MSG(ntas_train_run(&p, key, &a, NULL, NULL, err, sizeof err) == 0, "%s", err);
    CHECK_MSG(ntas_train_run(&q, key, &b, NULL, NULL, err, sizeof err) == 0, "%s", err);
    int reached = 0;
    for (int64_t k = 0; k < p.n_blocks; k++) reached += !isnan(a.time_to_threshold[k]);
    CHECK_MSG(reached > 0, "no block reached the loss threshold: the test misses the threshold path");
    CHECK(memcmp(a.time_to_threshold, b.time_to_threshold, (size_t)p.n_blocks * sizeof(double)) == 0);
    CHECK(memcmp(a.students, b.students, (size_t)a.P * a.d_out * a.d_in * sizeof(double)) == 0);
    CHECK(memcmp(a.gates_final, b.gates_final, (size_t)a.P * sizeof(double)) == 0);
    int same = 1;
    for (int64_t r = 0; r < b.n_records; r++) same &= memcmp(&b.loss[r], &a.loss[7 * r], sizeof(double)) == 0;
    CHECK_MSG(same, "a recorded loss differs between record_every 1 and 7");
    ntas_run_result_free(&a);
    ntas_run_result_free(&b);
}

/* ---- sampled vs wishart over many seeds ------------------------------------- */

/* Two-sample Kolmogorov-Smirnov statistic sup |F_a - F_b|; NaN (threshold
 * never reached) counts as +infinity. Sorts a and b. */
static double key_of(double x) { return isnan(x) ? INFINITY : x; }
static int cmp_key(const void *a, const void *b)
{
    double x = key_of(*(const double *)a), y = key_of(*(const double *)b);
    return (x > y) - (x < y);
}
static double ks_statistic(double *a, int n, double *b, int m)
{
    qsort(a, (size_t)n, sizeof *a, cmp_key);
    qsort(b, (size_t)m, sizeof *b, cmp_key);
    int i = 0, j = 0;
    double d = 0.0;
    while (i < n && j < m) {
        double v = fmin(key_of(a[i]), key_of(b[j]));
        while (i < n && key_of(a[i]) <= v) i++;
        while (j < m && key_of(b[j]) <= v) j++;
        double e = fabs((double)i / n - (double)j / m);
        if (e > d) d = e;
    }
    return d;
}

/* Level 0.001 per comparison (asymptotic critical value c(alpha) =
 * sqrt(-ln(alpha / 2) / 2) = 1.949 times sqrt((n + m) / (n m)); conservative
 * with ties). 6 comparisons of equal distributions: family-wise < 0.6%. */
#define KS_C 1.949

enum { N_SEEDS = 300, N_BLOCKS = 6 };

typedef struct {
    double spec[N_SEEDS];  /* final specialization */
    double first[N_SEEDS]; /* time to threshold in block 1 (from the random init) */
    double later[N_SEEDS]; /* mean time to threshold over blocks 2..N_BLOCKS (after switches) */
} outcomes;

/* A scaled-down Fig. 2 (d_in 6, d_out 3, dt 0.005, 6 blocks of 200 steps),
 * with a small batch so that the batch noise matters. */
static void run_seeds(int batch, int data, int seed0, outcomes *o)
{
    for (int s = 0; s < N_SEEDS; s++) {
        ntas_params p;
        ntas_params_defaults(&p);
        p.d_in = 6;
        p.d_out = 3;
        p.dt = 0.005;
        p.n_blocks = N_BLOCKS;
        p.record_every = 50;
        p.batch = batch;
        p.data = data;
        p.seed = seed0 + s;
        char err[512];
        ntas_run_result r;
        if (ntas_run_result_init(&r, &p, err, sizeof err) != 0 ||
            ntas_train_run(&p, ntas_params_run_key(&p), &r, NULL, NULL, err, sizeof err) != 0) {
            CHECK_MSG(0, "%s", err);
            return;
        }
        CHECK(r.status == NTAS_STATUS_DONE);
        o->spec[s] = r.specialization;
        o->first[s] = r.time_to_threshold[0];
        double later = 0.0;
        for (int b = 1; b < N_BLOCKS; b++) later += key_of(r.time_to_threshold[b]);
        o->later[s] = later / (N_BLOCKS - 1);
        ntas_run_result_free(&r);
    }
}

/* Number of the three statistics whose KS test rejects at level 0.001. */
static int ks_rejections(const char *what, outcomes *a, outcomes *b)
{
    const double crit = KS_C * sqrt(2.0 / N_SEEDS);
    double d[3] = {ks_statistic(a->spec, N_SEEDS, b->spec, N_SEEDS),
                   ks_statistic(a->first, N_SEEDS, b->first, N_SEEDS),
                   ks_statistic(a->later, N_SEEDS, b->later, N_SEEDS)};
    printf("%s: KS D specialization %.3f, time to threshold block 1 %.3f, later blocks %.3f "
           "(critical %.3f at level 0.001, %d seeds each)\n", what, d[0], d[1], d[2], crit, N_SEEDS);
    return (d[0] > crit) + (d[1] > crit) + (d[2] > crit);
}

static void test_wishart_vs_sampled(void)
{
    static outcomes sampled, wishart, other;
    /* B = d_in = 6: the last Bartlett diagonal has 1 degree of freedom;
     * B = 12: the usual case. Seeds differ between the samples (independent). */
    const int batches[2] = {6, 12};
    for (int i = 0; i < 2; i++) {
        char what[64];
        run_seeds(batches[i], NTAS_DATA_SAMPLED, 0, &sampled);
        run_seeds(batches[i], NTAS_DATA_WISHART, 100000, &wishart);
        snprintf(what, sizeof what, "B=%d sampled vs wishart", batches[i]);
        CHECK_MSG(ks_rejections(what, &sampled, &wishart) == 0, "%s differ in distribution", what);
    }
    /* The test can fail: a Wishart draw with the noise of batch 12 instead
     * of 6 (S scaled as by a wrong B) is rejected on the times to threshold,
     * and the noise-free flow is rejected too. */
    run_seeds(6, NTAS_DATA_SAMPLED, 0, &sampled);
    run_seeds(12, NTAS_DATA_WISHART, 100000, &other);
    CHECK_MSG(ks_rejections("B=6 sampled vs B=12 wishart", &sampled, &other) >= 2,
              "the KS test does not see a doubled batch");
    run_seeds(6, NTAS_DATA_EXPECTED, 0, &other);
    CHECK_MSG(ks_rejections("B=6 sampled vs expected", &sampled, &other) >= 2,
              "the KS test does not see the missing noise");
}

int main(void)
{
    ntas_blas_set_threads(1);
    test_key();
    test_grad_forms();
    test_expected_loss();
    test_wishart_fallback();
    test_loss_need(NTAS_SCALING_FAN_IN);
    test_loss_need(NTAS_SCALING_UNIT);
    test_wishart_vs_sampled();
    return CHECK_DONE();
}
