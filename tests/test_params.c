/* test_params — the key table's defaults, run keys that stay what they were
 * before the model-variant keys existed, the variants' cross-field
 * validation, and one short in-process run of every model (train.c wiring:
 * sizes, sorted metrics, reduced coordinates, NaN where a model has none). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ntasweep/tasks/curriculum.h"
#include "ntasweep/config/params.h"
#include "ntasweep/train/train.h"
#include "check.h"
#include "run_params.h"

static void test_defaults_parse(void)
{
    ntas_params p;
    char err[256];
    for (int i = 0; i < ntas_param_count; i++) {
        memset(&p, 0, sizeof p);
        CHECK_MSG(ntas_param_parse(&ntas_param_table[i], ntas_param_table[i].default_text, &p, err, sizeof err) == 0,
                  "default of %s: %s", ntas_param_table[i].key, err);
    }
    ntas_params_defaults(&p);
    const char *bad = NULL;
    CHECK_MSG(ntas_params_validate(&p, err, sizeof err, &bad) == 0, "%s", err);
}

static void test_run_keys_unchanged(void)
{
    ntas_params p;
    ntas_params_defaults(&p);
    /* fecd8a5a63be59c3 is the run key of the default parameters (= Fig. 2's
     * flexible run, seed 0) computed by main before the model-variant keys
     * (rho, teacher_rank, composition, mix, tau_w2, reduced_init) and the new
     * choices existed (`ntasweep plan sweeps/fig2.ini`, run 0). If it changes,
     * every results file written so far would no longer resume or extend. */
    CHECK(ntas_params_run_key(&p) == 0xfecd8a5a63be59c3ULL);
    /* A new key set explicitly to its default changes nothing ... */
    ntas_params q = p;
    CHECK(set(&q, "rho", "0") == 0 && set(&q, "mix", "0.5") == 0 && set(&q, "tau_w2", "0.01") == 0);
    CHECK(set(&q, "composition", "none") == 0 && set(&q, "reduced_init", "random") == 0);
    CHECK(set(&q, "teacher_rank", "1") == 0);
    CHECK(set(&q, "dataset", "none") == 0 && set(&q, "label_map", "parity") == 0);
    CHECK(set(&q, "cnn_steps", "3000") == 0 && set(&q, "cnn_seed", "0") == 0);
    CHECK(set(&q, "dt_limit", "tau") == 0 && set(&q, "scaling", "fan_in") == 0);
    CHECK(set(&q, "weight_cost", "squared") == 0);
    CHECK(ntas_params_run_key(&q) == ntas_params_run_key(&p));
    /* ... and any other value of any new key does. */
    const char *kv[][2] = {{"rho", "0.3"}, {"teacher_rank", "2"}, {"composition", "task"}, {"mix", "0.25"},
                           {"tau_w2", "0.02"}, {"reduced_init", "specialized"}, {"model", "fc"},
                           {"model", "nta_neuron"}, {"teacher", "lowrank"}, {"curriculum", "composition"},
                           {"model", "cnn_nta"}, {"model", "cnn_alone"}, {"dataset", "fashion"},
                           {"label_map", "warm_cold"}, {"cnn_steps", "100"}, {"cnn_seed", "3"},
                           {"teacher", "correlated_random"}, {"reduced_init", "collapsed"},
                           {"scaling", "unit_sum"}, {"dt_limit", "none"},
                           {"weight_cost", "column_norm"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        q = p;
        CHECK(set(&q, kv[i][0], kv[i][1]) == 0);
        CHECK_MSG(ntas_params_run_key(&q) != ntas_params_run_key(&p), "%s=%s", kv[i][0], kv[i][1]);
    }
    /* The first release's keys stay hashed even at their defaults. */
    for (int i = 0; i < ntas_param_count; i++)
        if (!ntas_param_table[i].added)
            CHECK_MSG(ntas_param_find(ntas_param_table[i].key) < 21, "%s", ntas_param_table[i].key);
}

static char verr[512];
static const char *blame(const char *const *kv, int n)
{
    ntas_params p;
    ntas_params_defaults(&p);
    for (int i = 0; i < n; i += 2)
        if (set(&p, kv[i], kv[i + 1]) != 0) return "(parse)";
    const char *bad = NULL;
    return ntas_params_validate(&p, verr, sizeof verr, &bad) == 0 ? "" : bad;
}
#define BLAME(...) blame((const char *const[]){__VA_ARGS__}, \
    (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)))

/* The cached run key (used to expand large sweeps) equals the plain one
 * through a sequence where a first-release key, a late key and an added key
 * (left out of the key at its default) change in every pattern. */
static void test_run_key_cache(void)
{
    ntas_run_key_cache cache;
    ntas_run_key_cache_init(&cache);
    const double rho[] = {0, 0.5, 0, 0.25};
    int bad = 0, n = 0;
    for (int a = 0; a < 4; a++)
        for (int seed = 0; seed < 3; seed++)
            for (int w = 0; w < 2; w++, n++) {
                ntas_params p;
                ntas_params_defaults(&p);
                p.rho = rho[a];
                p.seed = seed;
                p.tau_w = w ? 1.3 : 1.0;
                p.d_in = n % 5 == 4 ? 16 : 12;   /* the first key changes now and then */
                bad += ntas_params_run_key_cached(&cache, &p) != ntas_params_run_key(&p);
            }
    CHECK_MSG(bad == 0, "%d of %d cached run keys differ", bad, n);
}

static void test_validate_variants(void)
{
    CHECK(!strcmp(BLAME("teacher", "correlated", "rho", "0.5"), ""));
    CHECK(!strcmp(BLAME("teacher", "correlated", "rho", "1"), "rho"));
    CHECK(!strcmp(BLAME("teacher", "lowrank", "teacher_rank", "3"), ""));
    CHECK(!strcmp(BLAME("teacher", "lowrank", "teacher_rank", "6"), "teacher_rank"));
    CHECK(!strcmp(BLAME("curriculum", "composition"), "curriculum"));
    /* The weight cost's form: any model with lambda_w, not cnn_alone (AdamW only). */
    CHECK(!strcmp(BLAME("weight_cost", "column_norm", "lambda_w", "0.1935"), ""));
    CHECK(!strcmp(BLAME("model", "fc", "weight_cost", "column_norm"), ""));
    CHECK(!strcmp(BLAME("model", "cnn_alone", "weight_cost", "column_norm"), "weight_cost"));
    CHECK(!strcmp(BLAME("curriculum", "composition", "composition", "task"), ""));
    CHECK(!strcmp(BLAME("curriculum", "composites", "composition", "subtask"), ""));
    CHECK(!strcmp(BLAME("composition", "task", "teachers", "3", "d_out", "6"), ""));
    CHECK(!strcmp(BLAME("d_in", "10"), "d_in"));
    CHECK(!strcmp(BLAME("model", "reduced"), "d_in"));
    CHECK(!strcmp(BLAME("model", "reduced", "d_in", "1", "d_out", "2", "batch", "1"), ""));
    CHECK(!strcmp(BLAME("model", "reduced", "d_in", "1", "d_out", "2"), "batch"));
    CHECK(!strcmp(BLAME("model", "reduced", "d_in", "1", "d_out", "2", "batch", "1", "paths", "3"), "paths"));
    CHECK(!strcmp(BLAME("model", "reduced", "d_in", "1", "d_out", "2", "batch", "1", "teacher", "correlated"), "teacher"));
    CHECK(!strcmp(BLAME("reduced_init", "specialized"), "reduced_init"));
    CHECK(!strcmp(BLAME("model", "fc", "paths", "1"), "paths"));
    CHECK(!strcmp(BLAME("model", "fc", "tau_c", "0.0005"), ""));  /* tau_c unused by fc */
    CHECK_MSG(!strcmp(BLAME("model", "fc", "tau_w2", "0.0005"), "dt"), "%s", verr);
    CHECK(!strcmp(BLAME("model", "fc", "dt", "0.01"), ""));  /* Table 2: dt = tau_W2 = 0.01 */
    CHECK(!strcmp(BLAME("model", "nta_neuron", "record_every", "1", "n_blocks", "2000"), "record_every"));
    /* The authors' random-overlap teachers of Fig. A.13 allow rho = 1. */
    CHECK(!strcmp(BLAME("teacher", "correlated_random", "rho", "1"), ""));
    CHECK(!strcmp(BLAME("teacher", "correlated_random", "rho", "0.5", "d_in", "19"), "d_in"));
    CHECK(!strcmp(BLAME("model", "reduced", "d_in", "1", "d_out", "2", "batch", "1", "reduced_init", "collapsed"), ""));
    CHECK(!strcmp(BLAME("reduced_init", "collapsed"), "reduced_init"));
    /* dt beyond a time constant only with dt_limit = none (Fig. 3 subtask: dt = 2 tau_c; A.7). */
    CHECK_MSG(!strcmp(BLAME("dt", "0.06"), "dt") && strstr(verr, "dt_limit = none"), "%s", verr);
    CHECK(!strcmp(BLAME("dt", "0.06", "dt_limit", "none"), ""));
    CHECK(!strcmp(BLAME("dt", "0.03"), ""));   /* dt = tau_c is an ordinary step */
    CHECK(!strcmp(BLAME("model", "fc", "dt", "0.01", "tau_w2", "0.0075"), "dt"));
    CHECK(!strcmp(BLAME("model", "fc", "dt", "0.01", "tau_w2", "0.0075", "dt_limit", "none"), ""));
}

static void small(ntas_params *p, const char *model)
{
    ntas_params_defaults(p);
    set(p, "model", model);
    set(p, "d_in", "12");
    set(p, "d_out", "4");
    set(p, "batch", "20");
    set(p, "dt", "0.01");
    set(p, "n_blocks", "4");
    set(p, "block_len", "0.5");
    set(p, "record_every", "5");
}

static void test_runs(void)
{
    ntas_params p;
    ntas_run_result r;

    small(&p, "nta_neuron");
    set(&p, "norm", "l2");
    if (run(&p, &r) == 0) {
        CHECK(r.neuron_gates && r.neuron_gates_final && r.row_source && r.sorted_alignment && !r.fc_w2);
        for (int i = 0; i < r.M * r.d_out; i++) CHECK(r.row_source[i] >= 0 && r.row_source[i] < r.P * r.d_out);
        /* The sorted alignment of the last record is the diagonal of its sorted cos_sim. */
        int64_t k = r.n_records - 1;
        double diag = 0.5 * (r.cos_sim[k * 4 + 0] + r.cos_sim[k * 4 + 3]);
        CHECK_NEAR(r.sorted_alignment[k], diag, 1e-12);
        CHECK(isfinite(r.specialization) && r.specialization == r.total_alignment);
        CHECK(isfinite(r.gates_final[0]) && isfinite(r.gates_final[1]));
    }
    ntas_run_result_free(&r);

    small(&p, "fc");
    set(&p, "tau_w2", "0.04");
    set(&p, "norm", "l2");            /* Table 2 FC regulariser */
    set(&p, "lambda_nonneg", "0.2");
    set(&p, "lambda_norm", "0.1");
    set(&p, "paths", "3");   /* one redundant block of hidden units: path slot 2 is NaN */
    if (run(&p, &r) == 0) {
        CHECK(r.d_hid == 12 && r.fc_w2 && r.fc_w2_final && !r.neuron_gates);
        CHECK(isnan(r.gates[2]) && isnan(r.cos_sim[2]) && isnan(r.gates_final[2]));
        CHECK(isfinite(r.gates[0]) && isfinite(r.update_norm_w[2]) && isfinite(r.update_norm_c[0]));
        for (int i = 0; i < r.M * r.d_out; i++) CHECK(r.row_source[i] >= 0 && r.row_source[i] < r.d_hid);
    }
    ntas_run_result_free(&r);

    small(&p, "nta");
    set(&p, "teachers", "3");
    set(&p, "paths", "3");
    set(&p, "composition", "subtask");
    set(&p, "curriculum", "composition");
    if (run(&p, &r) == 0) {
        CHECK(r.n_tasks == 6);
        /* floor(0.75 * 4) = 3 base blocks, then composite M + (3 mod 3) = 3. */
        CHECK(r.block_task[0] == 0 && r.block_task[1] == 1 && r.block_task[2] == 2 && r.block_task[3] == 3);
        /* Composite AB = even rows of A, odd rows of B. */
        size_t en = (size_t)r.d_out * (size_t)r.d_in;
        CHECK(r.teachers[3 * en + 0] == r.teachers[0] && r.teachers[3 * en + r.d_in] == r.teachers[en + r.d_in]);
    }
    ntas_run_result_free(&r);

    small(&p, "reduced");
    set(&p, "d_in", "1");
    set(&p, "d_out", "2");
    set(&p, "batch", "1");
    set(&p, "reduced_init", "specialized");
    set(&p, "tau_c", "0.7");
    set(&p, "tau_w", "5");
    set(&p, "dt", "0.001");
    if (run(&p, &r) == 0) {
        /* Specialized start on task A: w^p_m = delta_pm, c = (1, 0), loss 0. */
        CHECK(r.wbar[0] == 1.0 && r.cbar[0] == 1.0 && r.loss[0] == 0.0);
        CHECK(r.reduced_w[0] == 1.0 && r.reduced_w[1] == 0.0 && r.reduced_w[3] == 1.0);
        CHECK(r.eq10_wbar[0] == 1.0);
        CHECK(isnan(r.cos_sim[0]) && isnan(r.specialization));
        CHECK(r.teachers[0] == 1.0 && r.teachers[1] == 0.0 && r.teachers[3] == 1.0);
        CHECK(isfinite(r.gates_final[0]) && isfinite(r.students[3]));
    }
    ntas_run_result_free(&r);
}

int main(void)
{
    test_defaults_parse();
    test_run_keys_unchanged();
    test_run_key_cache();
    test_validate_variants();
    test_runs();
    return CHECK_DONE();
}
