/* train — the Euler loop of one run. See train.h. */
#include "ntasweep/train.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/curriculum.h"
#include "ntasweep/metrics.h"
#include "ntasweep/model_nta.h"
#include "ntasweep/rng.h"
#include "ntasweep/teachers.h"

#define POLL_EVERY 256

int ntas_run_result_init(ntas_run_result *r, const ntas_params *p, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->n_records = ntas_params_n_records(p);
    r->n_blocks = p->n_blocks;
    r->P = (int)p->paths;
    r->M = (int)p->teachers;
    r->d_out = (int)p->d_out;
    r->d_in = (int)p->d_in;
    size_t nr = (size_t)r->n_records, P = (size_t)r->P, M = (size_t)r->M;
    size_t en = (size_t)r->d_out * (size_t)r->d_in;
    r->loss = malloc(nr * sizeof(double));
    r->gates = malloc(nr * P * sizeof(double));
    r->cos_sim = malloc(nr * M * P * sizeof(double));
    r->update_norm_w = malloc(nr * P * sizeof(double));
    r->update_norm_c = malloc(nr * sizeof(double));
    r->time_to_threshold = malloc((size_t)r->n_blocks * sizeof(double));
    r->teachers = malloc(M * en * sizeof(double));
    r->students = malloc(P * en * sizeof(double));
    r->gates_final = malloc(P * sizeof(double));
    if (!r->loss || !r->gates || !r->cos_sim || !r->update_norm_w || !r->update_norm_c ||
        !r->time_to_threshold || !r->teachers || !r->students || !r->gates_final) {
        ntas_run_result_free(r);
        snprintf(err, errlen, "out of memory for the results of one run (%zu records)", nr);
        return -1;
    }
    return 0;
}

void ntas_run_result_free(ntas_run_result *r)
{
    free(r->loss);
    free(r->gates);
    free(r->cos_sim);
    free(r->update_norm_w);
    free(r->update_norm_c);
    free(r->time_to_threshold);
    free(r->teachers);
    free(r->students);
    free(r->gates_final);
    memset(r, 0, sizeof *r);
}

double ntas_mse(const double *Y, const double *Ystar, int B, int d_out, double *dY)
{
    size_t n = (size_t)B * (size_t)d_out;
    double sq = 0.0, inv_b = 1.0 / B;
    for (size_t i = 0; i < n; i++) {
        double e = Y[i] - Ystar[i];
        sq += e * e;
        dY[i] = e * inv_b;
    }
    return 0.5 * sq * inv_b;
}

/* Fill every slot a run may leave unwritten (a divergence stops it early),
 * so a failed run's arrays read as NaN rather than as stale numbers. */
static void fill_nan(ntas_run_result *r)
{
    size_t nr = (size_t)r->n_records, P = (size_t)r->P, M = (size_t)r->M;
    size_t en = (size_t)r->d_out * (size_t)r->d_in;
    struct { double *a; size_t n; } all[] = {
        {r->loss, nr}, {r->gates, nr * P}, {r->cos_sim, nr * M * P}, {r->update_norm_w, nr * P},
        {r->update_norm_c, nr}, {r->time_to_threshold, (size_t)r->n_blocks},
        {r->students, P * en}, {r->gates_final, P},
    };
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        for (size_t i = 0; i < all[k].n; i++) all[k].a[i] = NAN;
    r->specialization = NAN;
    r->total_alignment = NAN;
}

int ntas_train_run(const ntas_params *p, uint64_t run_key, ntas_run_result *r,
                   ntas_poll_fn poll, void *poll_ctx, char *err, size_t errlen)
{
    const int B = (int)p->batch, d_in = r->d_in, d_out = r->d_out, P = r->P, M = r->M;
    const size_t en = (size_t)d_out * (size_t)d_in;
    fill_nan(r);
    r->status = NTAS_STATUS_DONE;
    r->message[0] = '\0';

    if (ntas_teachers_orthogonal(d_in, d_out, M, p->teacher_seed, r->teachers, err, errlen) != 0)
        return -1;

    ntas_nta model;
    if (ntas_nta_init(&model, d_in, d_out, P, err, errlen) != 0) return -1;
    double *X = malloc((size_t)B * (size_t)d_in * sizeof *X);
    double *Y = malloc((size_t)B * (size_t)d_out * sizeof *Y);
    double *Ystar = malloc((size_t)B * (size_t)d_out * sizeof *Ystar);
    double *dY = malloc((size_t)B * (size_t)d_out * sizeof *dY);
    double *norm_dW = malloc((size_t)P * sizeof *norm_dW);
    int rc = 0;
    if (!X || !Y || !Ystar || !dY || !norm_dW) {
        snprintf(err, errlen, "out of memory for a batch of %d", B);
        rc = -1;
        goto done;
    }

    ntas_rng init_rng, data_rng;
    ntas_rng_init(&init_rng, ntas_stream_key(run_key, "init"));
    ntas_rng_init(&data_rng, ntas_stream_key(run_key, "data"));
    ntas_nta_init_params(&model, p->init_sigma, 0.5, &init_rng);

    const int64_t steps_per_block = ntas_params_steps_per_block(p);
    const int64_t total = steps_per_block * p->n_blocks;
    for (int64_t k = 0; k < total; k++) {
        const int64_t block = k / steps_per_block, in_block = k % steps_per_block;
        const int task = ntas_curriculum_task((ntas_curriculum_kind)p->curriculum, M, (int)block);
        const double *T = r->teachers + (size_t)task * en;

        /* A fresh Gaussian batch every step, labelled by the block's teacher. */
        ntas_rng_normal_fill(&data_rng, X, (size_t)B * (size_t)d_in);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, d_out, d_in, 1.0, X, d_in, T, d_in,
                    0.0, Ystar, d_out);
        ntas_nta_forward(&model, X, B, Y);
        double loss = ntas_mse(Y, Ystar, B, d_out, dY);
        if (!isfinite(loss)) {
            r->status = NTAS_STATUS_FAILED;
            snprintf(r->message, sizeof r->message, "diverged: task loss is %g at step %lld (t = %g)",
                     loss, (long long)k, (double)k * p->dt);
            goto done;
        }
        ntas_nta_backward(&model, X, dY, B);
        ntas_nta_reg_backward(&model, p);

        /* Time to threshold uses every step, not the down-sampled record. */
        if (loss < NTAS_LOSS_THRESHOLD && isnan(r->time_to_threshold[block]))
            r->time_to_threshold[block] = (double)in_block * p->dt;

        const int record = k % p->record_every == 0;
        const int64_t rec = k / p->record_every;
        if (record) {
            r->loss[rec] = loss;
            memcpy(r->gates + rec * P, model.c, (size_t)P * sizeof(double));
            ntas_cos_sim(r->teachers, M, model.W, P, d_out, d_in, r->cos_sim + rec * M * P);
        }
        double norm_dc;
        ntas_nta_step(&model, p->dt, p->tau_w, p->tau_c, norm_dW, &norm_dc);
        if (record) {
            memcpy(r->update_norm_w + rec * P, norm_dW, (size_t)P * sizeof(double));
            r->update_norm_c[rec] = norm_dc;
        }
        if (poll && (k + 1) % POLL_EVERY == 0 && poll(poll_ctx)) {
            rc = 1;
            goto done;
        }
    }

    for (int i = 0; i < P; i++)
        if (!isfinite(model.c[i])) {
            r->status = NTAS_STATUS_FAILED;
            snprintf(r->message, sizeof r->message, "diverged: final gate %d is %g", i, model.c[i]);
            goto done;
        }
    memcpy(r->students, model.W, (size_t)P * en * sizeof(double));
    memcpy(r->gates_final, model.c, (size_t)P * sizeof(double));
    {
        double cos[4096];
        double *cs = (size_t)M * (size_t)P <= sizeof cos / sizeof cos[0] ? cos : malloc((size_t)M * P * sizeof *cs);
        if (!cs) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            goto done;
        }
        ntas_cos_sim(r->teachers, M, model.W, P, d_out, d_in, cs);
        r->specialization = ntas_specialization(cs, M, P);
        r->total_alignment = ntas_total_alignment(r->teachers, M, model.W, P, d_out, d_in, cs);
        if (cs != cos) free(cs);
    }

done:
    free(X);
    free(Y);
    free(Ystar);
    free(dY);
    free(norm_dW);
    ntas_nta_free(&model);
    return rc;
}
