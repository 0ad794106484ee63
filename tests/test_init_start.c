/* Starting states (issue #18): init_seed and reduced_init = given.
 *  - init_seed >= 0: runs that differ in seed or case start from the same
 *    initial W (models nta, nta_neuron, fc, reduced with a random start),
 *    while their input streams, and hence their losses, stay their own;
 *    two init_seeds give two W; init_seed = -1 keeps each run's own W.
 *  - init_seed at its default leaves the run key as it was before the key
 *    existed, and a set init_seed enters it.
 *  - reduced_init = given starts the reduced model at the keys' values
 *    (first record = the state before the first update).
 *  - init_gates = uniform / normal (models nta, nta_neuron) draws the
 *    initial gates, different per gate and per seed, within U(0, 1) or
 *    around 1/2 by init_gates_sigma, from a stream of their own (with an
 *    init_seed the initial W is the one of gates at 1/2); at their defaults
 *    both keys leave the run key unchanged. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "ntasweep/config/params.h"
#include "ntasweep/models/model.h"
#include "ntasweep/train/train.h"

/* Copies path 0..P-1's initial weights of a fresh model into w (P*d_out*d_in). */
static void initial_w(const ntas_model_ops *ops, const ntas_params *p, double *w)
{
    const ntas_model_ctx ctx = {p, ntas_params_run_key(p), 1, NULL};
    char err[256];
    void *state = NULL;
    CHECK_MSG(ops->init(&state, &ctx, err, sizeof err) == 0, "%s", err);
    if (!state) return;
    const size_t n = (size_t)(p->d_out * p->d_in);
    for (int path = 0; path < (int)p->paths; path++) {
        const double *wp = ops->path_weights(state, path);
        CHECK(wp != NULL);
        if (wp) memcpy(w + (size_t)path * n, wp, n * sizeof *w);
    }
    ops->free(state);
}

static void test_shared_w(const ntas_model_ops *ops, ntas_params base)
{
    enum { MAXW = 2 * 20 * 20 };
    double a[MAXW], b[MAXW], c[MAXW], d[MAXW];
    const size_t bytes = (size_t)(base.paths * base.d_out * base.d_in) * sizeof(double);
    CHECK(bytes <= sizeof a);
    ntas_params s0 = base, s1 = base, other_case = base, other_init = base;
    s0.init_seed = s1.init_seed = other_case.init_seed = 7;
    other_init.init_seed = 8;
    s1.seed = 1;
    other_case.tau_c = base.tau_c * 2;      /* a different case, same shapes */
    initial_w(ops, &s0, a);
    initial_w(ops, &s1, b);
    initial_w(ops, &other_case, c);
    initial_w(ops, &other_init, d);
    CHECK_MSG(memcmp(a, b, bytes) == 0, "%s: seeds 0 and 1 with init_seed 7 start apart", ops->name);
    CHECK_MSG(memcmp(a, c, bytes) == 0, "%s: two cases with init_seed 7 start apart", ops->name);
    CHECK_MSG(memcmp(a, d, bytes) != 0, "%s: init_seed 7 and 8 start alike", ops->name);
    /* The weights are a real draw, not zeros. */
    double sum = 0.0;
    for (size_t i = 0; i < bytes / sizeof(double); i++) sum += fabs(a[i]);
    CHECK_MSG(sum > 0.0, "%s: initial W all zero", ops->name);
    /* Without init_seed the seeds keep their own W. */
    ntas_params own0 = base, own1 = base;
    own1.seed = 1;
    initial_w(ops, &own0, a);
    initial_w(ops, &own1, b);
    CHECK_MSG(memcmp(a, b, bytes) != 0, "%s: seeds 0 and 1 without init_seed start alike", ops->name);
}

/* Two seeds with one init_seed: the first record (before any update) has the
 * same alignment to the teachers (same W, same teachers), but the losses
 * differ (each seed draws its own inputs), and so does the state later. */
static void test_runs_differ_otherwise(void)
{
    ntas_params p;
    ntas_params_defaults(&p);
    p.n_blocks = 1;
    p.block_len = 0.02;   /* 20 steps */
    p.record_every = 1;
    p.init_seed = 3;
    ntas_params q = p;
    q.seed = 1;
    char err[512];
    ntas_run_result a, b;
    CHECK(ntas_run_result_init(&a, &p, err, sizeof err) == 0);
    CHECK(ntas_run_result_init(&b, &q, err, sizeof err) == 0);
    CHECK_MSG(ntas_train_run(&p, ntas_params_run_key(&p), &a, NULL, NULL, err, sizeof err) == 0, "%s", err);
    CHECK_MSG(ntas_train_run(&q, ntas_params_run_key(&q), &b, NULL, NULL, err, sizeof err) == 0, "%s", err);
    const size_t per_rec = (size_t)(a.M * a.P);
    CHECK(memcmp(a.cos_sim, b.cos_sim, per_rec * sizeof *a.cos_sim) == 0);
    CHECK(a.loss[0] != b.loss[0]);
    CHECK(memcmp(a.cos_sim + 19 * per_rec, b.cos_sim + 19 * per_rec, per_rec * sizeof *a.cos_sim) != 0);
    ntas_run_result_free(&a);
    ntas_run_result_free(&b);
}

static void test_run_key(void)
{
    ntas_params p;
    ntas_params_defaults(&p);
    ntas_params q = p;
    q.init_seed = -1;   /* explicitly the default */
    CHECK(ntas_params_run_key(&p) == ntas_params_run_key(&q));
    /* The key of the Fig. 2 default run as ntasweep computed it before the
     * starting-state keys existed (so files written then still resume). */
    CHECK_MSG(ntas_params_run_key(&p) == 0xfecd8a5a63be59c3ull, "run key %016llx",
              (unsigned long long)ntas_params_run_key(&p));
    q.init_seed = 0;
    CHECK(ntas_params_run_key(&p) != ntas_params_run_key(&q));
}

static void reduced_params(ntas_params *p)
{
    ntas_params_defaults(p);
    p->model = NTAS_MODEL_REDUCED;
    p->d_in = 1;
    p->d_out = 2;
    p->batch = 1;
    p->n_blocks = 1;
    p->block_len = 0.01;
    p->record_every = 1;
}

static void test_reduced_given(void)
{
    ntas_params p;
    reduced_params(&p);
    p.reduced_init = NTAS_REDUCED_GIVEN;
    p.reduced_w11 = 0.9;
    p.reduced_w12 = 0.1;
    p.reduced_w21 = -0.2;
    p.reduced_w22 = 0.8;
    p.reduced_c1 = 0.3;
    p.reduced_c2 = 0.6;
    char err[512];
    const char *bad = NULL;
    CHECK_MSG(ntas_params_validate(&p, err, sizeof err, &bad) == 0, "%s", err);
    ntas_run_result r;
    CHECK(ntas_run_result_init(&r, &p, err, sizeof err) == 0);
    CHECK_MSG(ntas_train_run(&p, ntas_params_run_key(&p), &r, NULL, NULL, err, sizeof err) == 0, "%s", err);
    /* reduced_w[time][path][teacher]: the first record is the start. */
    CHECK(r.reduced_w[0] == 0.9 && r.reduced_w[1] == 0.1 && r.reduced_w[2] == -0.2 && r.reduced_w[3] == 0.8);
    CHECK(r.gates[0] == 0.3 && r.gates[1] == 0.6);
    /* y = c1 w^1 + c2 w^2 = (0.15, 0.51), teacher e_1: L = 1/2 (0.85^2 + 0.51^2). */
    CHECK_NEAR(r.loss[0], 0.5 * (0.85 * 0.85 + 0.51 * 0.51), 1e-15);
    ntas_run_result_free(&r);

    /* The keys are refused where they would be ignored. */
    reduced_params(&p);
    p.reduced_w11 = 0.5;   /* reduced_init = random */
    CHECK(ntas_params_validate(&p, err, sizeof err, &bad) != 0 && strcmp(bad, "reduced_w11") == 0);
    reduced_params(&p);
    p.reduced_init = NTAS_REDUCED_GIVEN;
    p.init_seed = 1;
    CHECK(ntas_params_validate(&p, err, sizeof err, &bad) != 0 && strcmp(bad, "init_seed") == 0);
    ntas_params n;
    ntas_params_defaults(&n);
    n.reduced_c2 = 0.25;   /* model = nta */
    CHECK(ntas_params_validate(&n, err, sizeof err, &bad) != 0 && strcmp(bad, "reduced_c2") == 0);
}

/* The initial gates of a fresh model into g (at most 64), their count. */
static int initial_gates(const ntas_model_ops *ops, const ntas_params *p, double *g)
{
    const ntas_model_ctx ctx = {p, ntas_params_run_key(p), 1, NULL};
    char err[256];
    void *state = NULL;
    CHECK_MSG(ops->init(&state, &ctx, err, sizeof err) == 0, "%s", err);
    if (!state) return 0;
    int n = 0;
    const double *c = ops->gate_values(state, &n);
    CHECK(n > 0 && n <= 64);
    if (n > 64) n = 64;
    memcpy(g, c, (size_t)n * sizeof *g);
    ops->free(state);
    return n;
}

static void test_init_gates(const ntas_model_ops *ops, ntas_params base)
{
    enum { MAXW = 2 * 20 * 20 };
    double w_half[MAXW], w_drawn[MAXW], g[64], g1[64], gn[64];
    const size_t bytes = (size_t)(base.paths * base.d_out * base.d_in) * sizeof(double);
    char err[512];
    const char *bad = NULL;
    ntas_params half = base, uni = base, uni1 = base, nrm = base;
    uni.init_gates = uni1.init_gates = NTAS_INIT_GATES_UNIFORM;
    uni1.seed = 1;
    nrm.init_gates = NTAS_INIT_GATES_NORMAL;
    nrm.init_gates_sigma = 0.05;
    CHECK_MSG(ntas_params_validate(&uni, err, sizeof err, &bad) == 0, "%s", err);
    CHECK_MSG(ntas_params_validate(&nrm, err, sizeof err, &bad) == 0, "%s", err);
    int n = initial_gates(ops, &half, g);
    for (int k = 0; k < n; k++) CHECK_MSG(g[k] == 0.5, "%s: half gate %d = %g", ops->name, k, g[k]);
    n = initial_gates(ops, &uni, g);
    CHECK(initial_gates(ops, &uni1, g1) == n);
    CHECK(initial_gates(ops, &nrm, gn) == n);
    for (int k = 0; k < n; k++) {
        CHECK_MSG(g[k] > 0.0 && g[k] < 1.0, "%s: uniform gate %d = %g", ops->name, k, g[k]);
        CHECK_MSG(fabs(gn[k] - 0.5) < 0.05 * 6, "%s: normal gate %d = %g", ops->name, k, gn[k]);
        CHECK_MSG(gn[k] != 0.5, "%s: normal gate %d not drawn", ops->name, k);
        if (k > 0) CHECK_MSG(g[k] != g[0], "%s: two uniform gates alike", ops->name);
    }
    CHECK_MSG(memcmp(g, g1, (size_t)n * sizeof *g) != 0, "%s: seeds 0 and 1 draw the same gates", ops->name);
    /* The gates have a stream of their own: with one init_seed (W keyed by
     * it alone) W is the same as with gates at 1/2. */
    ntas_params half_s = half, uni_s = uni;
    half_s.init_seed = uni_s.init_seed = 7;
    initial_w(ops, &half_s, w_half);
    initial_w(ops, &uni_s, w_drawn);
    CHECK_MSG(memcmp(w_half, w_drawn, bytes) == 0, "%s: init_gates moved W", ops->name);
    /* The run key: unchanged at the defaults, changed by a drawn start. */
    ntas_params same = half;
    same.init_gates_sigma = 0.1;
    CHECK(ntas_params_run_key(&same) == ntas_params_run_key(&half));
    CHECK(ntas_params_run_key(&uni) != ntas_params_run_key(&half));
    CHECK(ntas_params_run_key(&nrm) != ntas_params_run_key(&half));
}

int main(void)
{
    ntas_params p;
    ntas_params_defaults(&p);
    p.d_in = 20;
    p.d_out = 10;
    test_shared_w(&ntas_model_nta, p);
    ntas_params n = p;
    n.model = NTAS_MODEL_NTA_NEURON;
    test_shared_w(&ntas_model_nta_neuron, n);
    test_init_gates(&ntas_model_nta, p);
    test_init_gates(&ntas_model_nta_neuron, n);
    ntas_params f = p;
    f.model = NTAS_MODEL_FC;
    test_shared_w(&ntas_model_fc, f);
    ntas_params r;
    reduced_params(&r);
    test_shared_w(&ntas_model_reduced, r);
    test_runs_differ_otherwise();
    test_run_key();
    test_reduced_given();
    return CHECK_DONE();
}
