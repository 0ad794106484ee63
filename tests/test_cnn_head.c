/* Tests of cnn_head: the label maps of SPEC-NOTES §8 and the two heads on
 * synthetic features (ten noisy class prototypes in 64-d, non-negative like
 * ReLU features): runs are deterministic, the flexible NTA head switches its
 * gates with the task and recovers within a fraction of a block, the
 * forgetful one relearns slowly, and the CNN-alone head starts from the
 * pretrained head it is given. The real path (pretrained on Fashion-MNIST,
 * through mpirun and the results file) is the integration test cnn_sweep. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ntasweep/train/cnn_head.h"
#include "ntasweep/config/params.h"
#include "ntasweep/io/pretrain.h"
#include "ntasweep/core/rng.h"
#include "ntasweep/train/train.h"

enum { F = NTAS_CNN_FEATURES, K = NTAS_CNN_CLASSES };

static void test_label_maps(void)
{
    const uint8_t *id = ntas_label_map_table(NTAS_LABELS_IDENTITY);
    const uint8_t *par = ntas_label_map_table(NTAS_LABELS_PARITY);
    const uint8_t *ul = ntas_label_map_table(NTAS_LABELS_UPPER_LOWER);
    const uint8_t *wc = ntas_label_map_table(NTAS_LABELS_WARM_COLD);
    CHECK(id && par && ul && wc && ntas_label_map_table(4) == NULL && ntas_label_map_table(-1) == NULL);
    if (!id || !par || !ul || !wc) return;
    /* The paper's definitions, written as "order" lists: the item of rank r. */
    const int ul_order[K] = {0, 2, 4, 6, 8, 1, 3, 5, 7, 9};
    const int wc_order[K] = {0, 1, 5, 3, 7, 6, 2, 4, 8, 9};
    for (int y = 0; y < K; y++) {
        CHECK(id[y] == y);
        CHECK_MSG(par[y] == y / 2 + 5 * (y % 2), "parity of %d is %d", y, par[y]);
        CHECK_MSG(ul[ul_order[y]] == y, "upper_lower: item %d should get label %d", ul_order[y], y);
        CHECK_MSG(wc[wc_order[y]] == y, "warm_cold: item %d should get label %d", wc_order[y], y);
    }
    /* Each map is a permutation of 0..9. */
    const uint8_t *maps[4] = {id, par, ul, wc};
    for (int m = 0; m < 4; m++) {
        int seen[K] = {0};
        for (int y = 0; y < K; y++) seen[maps[m][y] % K]++;
        for (int y = 0; y < K; y++) CHECK_MSG(seen[y] == 1, "map %d is not a permutation", m);
    }
}

/* Ten prototypes mu_c = 4 relu(N(0, 1)); image features relu(mu_c + 1.5 N(0, 1)).
 * The head given to cnn_alone is the nearest-prototype classifier under
 * the original labels (w_c = mu_c, b_c = -|mu_c|^2 / 2). */
static int make_features(ntas_features *f, int n_train, int n_test)
{
    memset(f, 0, sizeof *f);
    f->s.dataset = NTAS_DATASET_FASHION;
    f->s.steps = 3000;
    f->s.n_train = n_train;
    f->s.n_test = n_test;
    f->train_x = malloc((size_t)n_train * F * sizeof(double));
    f->test_x = malloc((size_t)n_test * F * sizeof(double));
    f->train_y = malloc((size_t)n_train);
    f->test_y = malloc((size_t)n_test);
    if (!f->train_x || !f->test_x || !f->train_y || !f->test_y) return -1;
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_stream_key(77, "synthetic-features"));
    double mu[K][F];
    for (int c = 0; c < K; c++)
        for (int j = 0; j < F; j++) mu[c][j] = 4.0 * fmax(0.0, ntas_rng_normal(&rng));
    for (int c = 0; c < K; c++) {
        double sq = 0.0;
        for (int j = 0; j < F; j++) {
            f->head_w[c * F + j] = mu[c][j];
            sq += mu[c][j] * mu[c][j];
        }
        f->head_b[c] = -0.5 * sq;
    }
    for (int s = 0; s < 2; s++) {
        int n = s ? n_test : n_train;
        double *x = s ? f->test_x : f->train_x;
        uint8_t *y = s ? f->test_y : f->train_y;
        for (int i = 0; i < n; i++) {
            y[i] = (uint8_t)(i % K);
            for (int j = 0; j < F; j++) x[(size_t)i * F + j] = fmax(0.0, mu[y[i]][j] + 1.5 * ntas_rng_normal(&rng));
        }
    }
    return 0;
}

static void cnn_params(ntas_params *p, int model, int flexible)
{
    ntas_params_defaults(p);
    p->model = model;
    p->dataset = NTAS_DATASET_FASHION;
    p->label_map = NTAS_LABELS_UPPER_LOWER;
    p->d_in = F;
    p->d_out = K;
    p->batch = 100;
    p->dt = 0.001;
    p->block_len = 1;
    p->n_blocks = 8;
    p->record_every = 10;
    p->init_sigma = 1e-4;
    p->tau_w = 10;
    p->tau_c = flexible ? 0.005 : 10;
    p->lambda_nonneg = flexible ? 0.5 : 0;
    p->lambda_norm = flexible ? 0.25 : 0;
}

static int run(const ntas_params *p, uint64_t seed, const ntas_features *f, ntas_run_result *r)
{
    char err[512] = "";
    ntas_params q = *p;
    q.seed = (int64_t)seed;
    const char *bad = NULL;
    int rc = ntas_params_validate(&q, err, sizeof err, &bad);
    CHECK_MSG(rc == 0, "validate: %s", err);
    rc = ntas_run_result_init(r, &q, err, sizeof err);
    CHECK_MSG(rc == 0, "%s", err);
    if (rc != 0) return -1;
    rc = ntas_train_run_features(&q, ntas_params_run_key(&q), f, r, NULL, NULL, err, sizeof err);
    CHECK_MSG(rc == 0 && r->status == NTAS_STATUS_DONE, "run: rc %d, %s %s", rc, err, r->message);
    return rc;
}

/* Accuracy a fraction `at` into block b (records per block: per). */
static double acc_at(const ntas_run_result *r, int b, double at, int per)
{
    return r->accuracy[b * per + (int)(at * per)];
}

static void test_heads(void)
{
    ntas_features f;
    if (make_features(&f, 3000, 1000) != 0) {
        CHECK_MSG(0, "out of memory");
        ntas_features_free(&f);
        return;
    }
    const int per = 100;   /* records per block: 1 / (dt * record_every) */

    ntas_params flex, forget, alone;
    cnn_params(&flex, NTAS_MODEL_CNN_NTA, 1);
    cnn_params(&forget, NTAS_MODEL_CNN_NTA, 0);
    cnn_params(&alone, NTAS_MODEL_CNN_ALONE, 0);
    ntas_run_result a, b, c, fo, al;
    if (run(&flex, 0, &f, &a) || run(&flex, 0, &f, &b) || run(&flex, 1, &f, &c) || run(&forget, 0, &f, &fo) ||
        run(&alone, 0, &f, &al)) {
        ntas_features_free(&f);
        return;
    }
    size_t nr = (size_t)a.n_records;
    CHECK_MSG(memcmp(a.accuracy, b.accuracy, nr * sizeof(double)) == 0 &&
              memcmp(a.gates, b.gates, 2 * nr * sizeof(double)) == 0 &&
              memcmp(a.students, b.students, 2 * K * F * sizeof(double)) == 0, "same run key, different results");
    CHECK_MSG(memcmp(a.gates, c.gates, 2 * nr * sizeof(double)) != 0, "the seed has no effect");

    /* Flexible, from block 3 on: the dominant gate alternates with the task,
     * and 10% into a block the accuracy is back within 0.05 of the block's end. */
    for (int blk = 0; blk < 8; blk++) {
        const double *g = a.gates + (size_t)((blk + 1) * per - 1) * 2;
        printf("block %d: flexible acc %.3f @0.1 %.3f @end gates %.2f %.2f | forgetful %.3f @0.1 %.3f @end | "
               "alone %.3f @0 %.3f @0.1\n", blk, acc_at(&a, blk, 0.1, per), acc_at(&a, blk, 0.99, per), g[0], g[1],
               acc_at(&fo, blk, 0.1, per), acc_at(&fo, blk, 0.99, per), acc_at(&al, blk, 0, per),
               acc_at(&al, blk, 0.1, per));
    }
    int dominant_prev = -1;
    for (int blk = 3; blk < 8; blk++) {
        const double *g = a.gates + (size_t)((blk + 1) * per - 1) * 2;
        int dominant = g[1] > g[0];
        CHECK_MSG(fabs(g[0] - g[1]) > 0.5, "block %d: gates %.3f %.3f not separated", blk, g[0], g[1]);
        if (dominant_prev >= 0) CHECK_MSG(dominant != dominant_prev, "block %d: the same gate dominates again", blk);
        dominant_prev = dominant;
        double end = acc_at(&a, blk, 0.99, per), early = acc_at(&a, blk, 0.1, per);
        CHECK_MSG(end > 0.9, "flexible block %d ends at accuracy %.3f", blk, end);
        CHECK_MSG(early > end - 0.05, "flexible block %d: %.3f after 0.1 block vs %.3f at its end", blk, early, end);
        /* Forgetful: still relearning 10% into the block. */
        double fend = acc_at(&fo, blk, 0.99, per), fearly = acc_at(&fo, blk, 0.1, per);
        CHECK_MSG(fearly < fend - 0.2, "forgetful block %d: %.3f after 0.1 block vs %.3f at its end", blk, fearly, fend);
    }
    /* The forgetful head's gates move together (no force separates them). */
    CHECK_MSG(fabs(fo.gates_final[0] - fo.gates_final[1]) < 0.01, "forgetful gates %.4f %.4f", fo.gates_final[0],
              fo.gates_final[1]);

    /* cnn_alone starts from the given head (task 1 = original labels), has
     * no gates, and its weights are student 0. */
    CHECK_MSG(al.accuracy[0] > 0.9, "cnn_alone starts at accuracy %.3f", al.accuracy[0]);
    CHECK(isnan(al.gates[0]) && isnan(al.gates_final[0]) && isnan(al.update_norm_c[0]));
    CHECK(isfinite(al.students[0]) && isnan(al.students[K * F]));
    CHECK(isnan(a.cos_sim[0]) && isnan(a.teachers[0]) && isnan(a.specialization));

    /* Errors, not crashes: no features, or a batch larger than the images. */
    char err[512] = "";
    CHECK(ntas_train_run(&flex, 1, &b, NULL, NULL, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "pretrained features") != NULL, "%s", err);
    f.s.n_train = 50;
    err[0] = '\0';
    CHECK(ntas_train_run_features(&flex, 1, &f, &b, NULL, NULL, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "batch") != NULL, "%s", err);
    f.s.n_train = 3000;

    ntas_run_result_free(&a);
    ntas_run_result_free(&b);
    ntas_run_result_free(&c);
    ntas_run_result_free(&fo);
    ntas_run_result_free(&al);
    ntas_features_free(&f);
}

static void test_validation(void)
{
    ntas_params p;
    char err[512];
    const char *bad = NULL;
    cnn_params(&p, NTAS_MODEL_CNN_NTA, 1);
    CHECK(ntas_params_validate(&p, err, sizeof err, &bad) == 0);
    struct { const char *key; void (*set)(ntas_params *); } cases[] = {
        {"dataset", NULL}, {"d_in", NULL}, {"d_out", NULL}, {"teachers", NULL}, {"curriculum", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ntas_params q = p;
        if (!strcmp(cases[i].key, "dataset")) q.dataset = NTAS_DATASET_NONE;
        if (!strcmp(cases[i].key, "d_in")) q.d_in = 20;
        if (!strcmp(cases[i].key, "d_out")) q.d_out = 6;
        if (!strcmp(cases[i].key, "teachers")) q.teachers = 3;
        if (!strcmp(cases[i].key, "curriculum")) q.curriculum = 1;
        bad = NULL;
        err[0] = '\0';
        CHECK_MSG(ntas_params_validate(&q, err, sizeof err, &bad) == -1 && bad && !strcmp(bad, cases[i].key),
                  "%s: blamed %s (%s)", cases[i].key, bad ? bad : "nothing", err);
    }
    /* The CNN keys belong to the cnn models only. */
    ntas_params q;
    ntas_params_defaults(&q);
    q.cnn_steps = 10;
    bad = NULL;
    CHECK(ntas_params_validate(&q, err, sizeof err, &bad) == -1 && bad && !strcmp(bad, "cnn_steps"));
    ntas_params_defaults(&q);
    q.dataset = NTAS_DATASET_MNIST;
    CHECK(ntas_params_validate(&q, err, sizeof err, &bad) == -1 && bad && !strcmp(bad, "dataset"));
}

int main(void)
{
    test_label_maps();
    test_validation();
    test_heads();
    return CHECK_DONE();
}
