/* test_results — the one result table (results.h) and the two results the
 * figures read from it: every row's axes are valid and its length is the
 * product of the run's extents; weight_norm is ||W_p|| and sv_projection the
 * teachers' singular-mode coordinates, checked where they are known in
 * closed form (the reduced model: teachers e_1, e_2, so the projection of
 * path p on teacher m is w^p_m) and by Bessel's inequality otherwise; and
 * max_dc_dt, taken every step, against an every-step record of the gates. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ntasweep/config/params.h"
#include "ntasweep/models/results.h"
#include "ntasweep/train/model_registry.h"
#include "ntasweep/train/train.h"
#include "check.h"
#include "run_params.h"

static void test_table(void)
{
    for (int id = 0; id < NTAS_R_COUNT; id++) {
        const ntas_result_desc *d = &ntas_results[id];
        CHECK_MSG(d->rank >= 0 && d->rank <= 4 && (d->scalar == (d->rank == 0)), "%s: rank %d", d->field, d->rank);
        for (int a = 0; a < 4; a++) {
            if (a < d->rank) CHECK_MSG(ntas_result_axis_dim(d->axes[a]) > 0, "%s: axis %d", d->field, a);
            else CHECK_MSG(d->axes[a] == NTAS_AX_NONE, "%s: unused axis %d set", d->field, a);
        }
        for (int j = 0; j < id; j++) CHECK_MSG(strcmp(d->dataset, ntas_results[j].dataset) != 0, "%s twice", d->dataset);
    }
    /* The registry and the `model` choices agree: every choice has a table of its kind and name. */
    const ntas_param_desc *choice = &ntas_param_table[ntas_param_find("model")];
    int n_choices = 0;
    for (; choice->choices[n_choices]; n_choices++) {
        const ntas_model_ops *m = ntas_model_of_kind(n_choices);
        CHECK_MSG(m && !strcmp(m->name, choice->choices[n_choices]), "model choice %s has no registry entry",
                  choice->choices[n_choices]);
    }
    CHECK(n_choices == ntas_model_count());
    /* Each model's run records exactly its groups' arrays, sized from its extents. */
    for (int i = 0; i < ntas_model_count(); i++) {
        const ntas_model_ops *m = ntas_model_at(i);
        ntas_params p;
        ntas_params_defaults(&p);
        p.model = m->kind;
        ntas_run_result r;
        char err[256];
        if (ntas_run_result_init(&r, &p, err, sizeof err) != 0) {
            CHECK_MSG(0, "%s: %s", m->name, err);
            continue;
        }
        for (int id = 0; id < NTAS_R_COUNT; id++) {
            const ntas_result_desc *d = &ntas_results[id];
            const int recorded = (r.groups & NTAS_RG_BIT(d->group)) != 0;
            CHECK_MSG(recorded == (ntas_result_data(&r, id) != NULL), "%s: %s allocated %d", m->name, d->field,
                      !recorded);
            int64_t ext[NTAS_EXT_COUNT];
            ntas_run_result_extents(&r, ext);
            size_t n = 1;
            for (int a = 0; a < d->rank; a++) n *= (size_t)ext[ntas_result_axis_extent(d->axes[a])];
            CHECK(ntas_result_length(&r, id) == (recorded ? n : 0));
        }
        CHECK_MSG(((r.groups >> NTAS_RG_TEACHERS) & 1) == (m->task == NTAS_TASK_TEACHERS), "%s", m->name);
        ntas_run_result_free(&r);
    }
}

static void test_reduced_projection(void)
{
    ntas_params p;
    ntas_params_defaults(&p);
    set(&p, "model", "reduced");
    set(&p, "d_in", "1");
    set(&p, "d_out", "2");
    set(&p, "batch", "1");
    set(&p, "n_blocks", "4");
    set(&p, "record_every", "7");
    ntas_run_result r;
    if (run(&p, &r) == 0) {
        CHECK(r.n_modes == 1 && r.sv_projection && r.weight_norm);
        for (int64_t k = 0; k < r.n_records; k++)
            for (int q = 0; q < 2; q++) {
                const double *w = r.reduced_w + k * 4 + q * 2;
                for (int m = 0; m < 2; m++)
                    CHECK_MSG(r.sv_projection[(k * 2 + q) * 2 + m] == w[m], "record %lld path %d teacher %d: %.17g vs %.17g",
                              (long long)k, q, m, r.sv_projection[(k * 2 + q) * 2 + m], w[m]);
                CHECK_NEAR(r.weight_norm[k * 2 + q], hypot(w[0], w[1]), 1e-15);
            }
    }
    ntas_run_result_free(&r);
}

/* Sum over modes of (u_a^T W v_a)^2 <= ||W||^2 for each teacher (Bessel),
 * with equality-ish once the student has learned the teacher. */
static void test_nta_projection(const char *model)
{
    ntas_params p;
    ntas_params_defaults(&p);
    set(&p, "model", model);
    set(&p, "d_in", "6");
    set(&p, "d_out", "3");
    set(&p, "data", "expected");
    set(&p, "n_blocks", "4");
    set(&p, "record_every", "25");
    if (!strcmp(model, "fc")) {
        set(&p, "tau_w2", "0.04");
        set(&p, "norm", "l2");
    }
    ntas_run_result r;
    if (run(&p, &r) == 0) {
        const int P = r.P, M = r.M, A = r.n_modes;
        CHECK(A == 3);
        int finite = 1;
        for (int64_t k = 0; k < r.n_records; k++)
            for (int q = 0; q < P; q++) {
                const double wn = r.weight_norm[k * P + q];
                finite &= isfinite(wn) && wn > 0;
                for (int m = 0; m < M; m++) {
                    double sq = 0.0;
                    for (int a = 0; a < A; a++) {
                        double v = r.sv_projection[((k * P + q) * M + m) * A + a];
                        finite &= isfinite(v);
                        sq += v * v;
                    }
                    CHECK_MSG(sq <= wn * wn * (1 + 1e-12), "%s record %lld path %d teacher %d: %g > %g", model,
                              (long long)k, q, m, sq, wn * wn);
                }
            }
        CHECK_MSG(finite, "%s: non-finite weight_norm or sv_projection", model);
        /* The final student norms follow the final students. */
        printf("%s: ||W_0|| first %.4f last %.4f\n", model, r.weight_norm[0], r.weight_norm[(r.n_records - 1) * P]);
    }
    ntas_run_result_free(&r);
}

/* The largest |dc/dt| of each block over every step (max_dc_dt) of one run
 * recorded every step: gates[k] is c before step k, so step k moves c by
 * gates[k + 1] - gates[k] (the last step: gates_final - gates[last]). */
static void expected_max_dc_dt(const ntas_params *p, const ntas_run_result *r, double *want)
{
    const int64_t spb = ntas_params_steps_per_block(p);
    for (int64_t b = 0; b < r->n_blocks; b++) want[b] = 0.0;
    for (int64_t k = 0; k < r->n_records; k++)
        for (int q = 0; q < r->P; q++) {
            const double after = k + 1 < r->n_records ? r->gates[(k + 1) * r->P + q] : r->gates_final[q];
            const double v = fabs(after - r->gates[k * r->P + q]) / p->dt;
            if (v > want[k / spb]) want[k / spb] = v;
        }
}

/* max_dc_dt is taken every step whatever record_every says: recorded every
 * step it equals the maximum of |delta c| / dt over the records, and the same
 * run (same key) recorded every 7th step gives the same bits; models without
 * a gate vector (fc) write NaN. */
static void test_max_dc_dt(const char *model)
{
    ntas_params p;
    ntas_params_defaults(&p);
    set(&p, "model", model);
    if (strcmp(model, "reduced") != 0) {
        set(&p, "d_in", "6");
        set(&p, "d_out", "3");
    } else {
        set(&p, "d_in", "1");
        set(&p, "d_out", "2");
        set(&p, "batch", "1");
    }
    set(&p, "n_blocks", "4");
    set(&p, "record_every", "1");
    if (!strcmp(model, "fc")) {
        set(&p, "tau_w2", "0.04");
        set(&p, "norm", "l2");
    }
    ntas_run_result every, sparse;
    memset(&sparse, 0, sizeof sparse);
    if (run(&p, &every) != 0) {
        ntas_run_result_free(&every);
        return;
    }
    const uint64_t key = ntas_params_run_key(&p);
    set(&p, "record_every", "7");
    char err[512];
    CHECK(ntas_run_result_init(&sparse, &p, err, sizeof err) == 0);
    CHECK(ntas_train_run(&p, key, &sparse, NULL, NULL, err, sizeof err) == 0 && sparse.status == NTAS_STATUS_DONE);
    CHECK(every.n_blocks == 4 && sparse.n_records < every.n_records);
    double want[4];
    expected_max_dc_dt(&p, &every, want);
    for (int64_t b = 0; b < every.n_blocks; b++) {
        const double got = every.max_dc_dt[b];
        if (!strcmp(model, "fc")) {
            CHECK_MSG(isnan(got) && isnan(sparse.max_dc_dt[b]), "fc block %lld: %g, expected NaN", (long long)b, got);
            continue;
        }
        CHECK_MSG(memcmp(&got, &sparse.max_dc_dt[b], sizeof got) == 0, "%s block %lld: %.17g every step, %.17g every 7th",
                  model, (long long)b, got, sparse.max_dc_dt[b]);
        CHECK_MSG(got > 0.0, "%s block %lld: %g", model, (long long)b, got);
        /* nta_neuron records the sorted mean gate; its max_dc_dt is over the
         * per-neuron gates, so only bounded from below by the records'. */
        if (!strcmp(model, "nta_neuron"))
            CHECK_MSG(got >= want[b] * (1 - 1e-12), "nta_neuron block %lld: %.17g < %.17g", (long long)b, got, want[b]);
        else
            CHECK_MSG(got == want[b], "%s block %lld: %.17g, records give %.17g", model, (long long)b, got, want[b]);
    }
    printf("%s: max |dc/dt| per block %.4g %.4g %.4g %.4g\n", model, every.max_dc_dt[0], every.max_dc_dt[1],
           every.max_dc_dt[2], every.max_dc_dt[3]);
    ntas_run_result_free(&every);
    ntas_run_result_free(&sparse);
}

int main(void)
{
    test_table();
    test_reduced_projection();
    test_nta_projection("nta");
    test_nta_projection("nta_neuron");
    test_nta_projection("fc");
    test_max_dc_dt("nta");
    test_max_dc_dt("reduced");
    test_max_dc_dt("nta_neuron");
    test_max_dc_dt("fc");
    return CHECK_DONE();
}
