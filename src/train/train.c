/* train — the one run loop, and the task of the models trained on linear
 * teachers. See train.h, model.h and run_task.h. */
#include "ntasweep/train/train.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/core/err.h"
#include "ntasweep/core/rng.h"
#include "ntasweep/models/gated_paths.h"
#include "ntasweep/models/model.h"
#include "ntasweep/tasks/curriculum.h"
#include "ntasweep/tasks/metrics.h"
#include "ntasweep/tasks/svd.h"
#include "ntasweep/tasks/teachers.h"
#include "ntasweep/tasks/wishart.h"
#include "ntasweep/train/features.h"
#include "ntasweep/train/kernels.h"
#include "ntasweep/train/model_registry.h"
#include "ntasweep/train/run_task.h"

#define POLL_EVERY 256

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

int ntas_train_data_path(const ntas_params *p)
{
    const ntas_model_ops *m = ntas_model_of(p);
    if (m && m->expected_only) return NTAS_DATA_EXPECTED; /* reduced: x = 1, S = 1 whatever data says */
    if (p->data == NTAS_DATA_WISHART && p->batch < p->d_in) return NTAS_DATA_SAMPLED;
    return (int)p->data;
}

/* ---- the task of the linear-teacher models ---------------------------------
 * The batch enters only through dL/dW_eff = G (teachers are linear, the loss
 * squared): D = W_eff - T, then G from a fresh Gaussian batch X (G = D X^T X
 * / B, fused: E = X D^T, G = E^T X / B), from S = X^T X / B drawn directly
 * (G = D S; drawn as its Bartlett factor A, B S = A A^T, and used as
 * G = (D A) A^T / B without forming S), or from S = I (G = D). Every buffer
 * is allocated at init, none per step. */
typedef struct {
    const ntas_params *p;
    int data, B, d_out, d_in, P, M, modes;
    size_t en;
    const double *teachers;
    ntas_rng data_rng;
    ntas_wishart ws;
    double *X, *E, *D;
    double *S; /* data = wishart: scratch of ntas_task_grad_factor */
    /* The singular vectors of each base teacher m, transposed: Ut
     * [d_out][M][modes], Vt [d_in][M][modes] (every mode of every teacher
     * a column: ntas_sv_projection), and its scratch. */
    double *Ut, *Vt, *svp_scratch;
} teacher_task;

static void teacher_free(void *state)
{
    teacher_task *t = state;
    if (!t) return;
    free(t->X);
    free(t->E);
    free(t->S);
    free(t->D);
    ntas_wishart_free(&t->ws);
    free(t->Ut);
    free(t->Vt);
    free(t->svp_scratch);
    free(t);
}

/* Each base teacher's singular vectors into t->Ut, t->Vt (the SVD's U
 * [M][modes][d_out] and V [M][modes][d_in] transposed; the singular values
 * are not kept: the records project on the vectors). */
static int teacher_modes(teacher_task *t, const double *teachers, char *err, size_t errlen)
{
    const size_t n = (size_t)t->M * (size_t)t->modes;
    double *U = malloc(n * (size_t)t->d_out * sizeof *U), *sv = malloc(n * sizeof *sv),
           *V = malloc(n * (size_t)t->d_in * sizeof *V);
    int rc = -1;
    if (!U || !sv || !V) {
        ntas_set_err(err, errlen, "out of memory for the teachers' SVD");
        goto done;
    }
    for (int k = 0; k < t->M; k++)
        if (ntas_svd(teachers + (size_t)k * t->en, t->d_out, t->d_in, U + (size_t)k * t->modes * t->d_out,
                     sv + (size_t)k * t->modes, V + (size_t)k * t->modes * t->d_in, err, errlen) != 0)
            goto done;
    for (size_t c = 0; c < n; c++) {
        for (int i = 0; i < t->d_out; i++) t->Ut[(size_t)i * n + c] = U[c * (size_t)t->d_out + (size_t)i];
        for (int j = 0; j < t->d_in; j++) t->Vt[(size_t)j * n + c] = V[c * (size_t)t->d_in + (size_t)j];
    }
    rc = 0;
done:
    free(U);
    free(sv);
    free(V);
    return rc;
}

/* The teachers of the run into r->teachers, and each base teacher's modes. */
static int teacher_build(teacher_task *t, const ntas_model_ops *m, ntas_run_result *r, char *err, size_t errlen)
{
    const ntas_params *p = t->p;
    if (m->own_teachers) {
        if (m->own_teachers(p, r->teachers, err, errlen) != 0) return -1;
    } else {
        ntas_teacher_opts topts;
        ntas_params_teacher_opts(p, &topts);
        if (ntas_teachers_build(&topts, r->teachers, err, errlen) != r->n_tasks) return -1;
    }
    return teacher_modes(t, r->teachers, err, errlen);
}

static int teacher_init(void **state, const ntas_params *p, uint64_t run_key, const void *data,
                        const ntas_model_ops *m, ntas_run_result *r, char *err, size_t errlen)
{
    teacher_task *t = calloc(1, sizeof *t);
    if (!t) {
        ntas_set_err(err, errlen, "out of memory");
        return -1;
    }
    t->p = p;
    t->data = ntas_train_data_path(p);
    t->B = (int)p->batch;
    t->d_out = r->d_out;
    t->d_in = r->d_in;
    t->P = r->P;
    t->M = r->M;
    t->modes = r->n_modes;
    t->en = (size_t)r->d_out * (size_t)r->d_in;
    t->teachers = r->teachers;
    ntas_rng_init(&t->data_rng, ntas_stream_key(run_key, "data"));
    const int batch = t->data == NTAS_DATA_SAMPLED, wishart = t->data == NTAS_DATA_WISHART;
    const size_t B = (size_t)t->B, M = (size_t)t->M, modes = (size_t)t->modes;
    t->X = batch ? malloc(B * (size_t)t->d_in * sizeof *t->X) : NULL;
    t->E = batch ? malloc(B * (size_t)t->d_out * sizeof *t->E) : NULL;
    t->S = wishart ? malloc(t->en * sizeof *t->S) : NULL;
    t->D = malloc(t->en * sizeof *t->D);
    t->Ut = malloc(M * modes * (size_t)t->d_out * sizeof *t->Ut);
    t->Vt = malloc(M * modes * (size_t)t->d_in * sizeof *t->Vt);
    t->svp_scratch = malloc((M * modes > 0 ? M * modes : 1) * sizeof *t->svp_scratch);
    if ((batch && (!t->X || !t->E)) || (wishart && !t->S) || !t->D || !t->Ut || !t->Vt ||
        !t->svp_scratch) {
        teacher_free(t);
        ntas_set_err(err, errlen, "out of memory for a batch of %d", (int)p->batch);
        return -1;
    }
    if ((wishart && ntas_wishart_init(&t->ws, t->d_in, t->B, err, errlen) != 0) ||
        teacher_build(t, m, r, err, errlen) != 0) {
        teacher_free(t);
        return -1;
    }
    *state = t;
    return 0;
}

/* The loss of the sampled batch in E: the exact serial sum when need asks
 * for it or the fast approximation cannot stand in for it (run_task.h). */
static double teacher_batch_loss(const teacher_task *t, const ntas_loss_need *need)
{
    const int unit = t->p->scaling == NTAS_SCALING_UNIT;
    if (!need->exact) {
        double rel;
        double loss = ntas_batch_loss_approx(t->E, t->B, t->d_out, &rel);
        if (unit) loss /= t->d_out;
        const double thr = need->threshold, big = loss > thr ? loss : thr;
        /* Finite below DBL_MAX / 2: the exact sum cannot overflow either. */
        if (isfinite(loss) && loss < 0x1p1022 && (isnan(thr) || fabs(loss - thr) > rel * big + 0x1p-1000))
            return loss;
    }
    const double loss = ntas_batch_loss(t->E, t->B, t->d_out);
    return unit ? loss / t->d_out : loss;
}

/* D = W_eff - T: elementwise, so its vector clones give the same bits. */
NTAS_ELEMENTWISE_CLONES static void residual(const double *restrict W_eff, const double *restrict T, size_t n,
                                             double *restrict D)
{
    for (size_t i = 0; i < n; i++) D[i] = W_eff[i] - T[i];
}

static double teacher_loss_grad(void *state, const ntas_model_ops *m, void *model, int task,
                                const ntas_loss_need *need, ntas_task_grad *g)
{
    teacher_task *t = state;
    const double *T = t->teachers + (size_t)task * t->en;
    double *G;
    const double *W_eff = m->effective(model, &G);
    residual(W_eff, T, t->en, t->D);
    double loss;
    if (t->data == NTAS_DATA_SAMPLED) {
        ntas_rng_normal_fill(&t->data_rng, t->X, (size_t)t->B * (size_t)t->d_in);
        ntas_task_grad_batch_g(t->D, t->X, t->B, t->d_out, t->d_in, t->E, G);
        loss = teacher_batch_loss(t, need);
    } else if (t->data == NTAS_DATA_WISHART) {
        const double *A = ntas_wishart_factor(&t->ws, &t->data_rng);
        loss = ntas_task_grad_factor(t->D, A, t->ws.At, t->B, t->d_out, t->d_in, t->S, G);
    } else {
        loss = ntas_task_grad_moment(t->D, NULL, t->d_out, t->d_in, G);
    }
    if (t->p->scaling == NTAS_SCALING_UNIT) {
        /* L_task averaged, not summed, over the outputs: the loss and its
         * gradient shrink by 1/d_out (the authors' earlier runs). */
        if (t->data != NTAS_DATA_SAMPLED) loss /= t->d_out;
        cblas_dscal((int)t->en, 1.0 / t->d_out, G, 1);
    }
    g->X = NULL;
    return loss;
}

/* sv_projection [rec][path][teacher][mode] = u_a^T W_p v_a (Sec. 5). */
static void teacher_record(void *state, const ntas_model_ops *m, void *model, int task, ntas_run_result *r,
                           int64_t rec)
{
    teacher_task *t = state;
    const int n = t->M * t->modes;
    double *out = r->sv_projection + (size_t)rec * (size_t)t->P * (size_t)n;
    for (int q = 0; q < t->P; q++) {
        const double *W = m->path_weights(model, q);
        double *o = out + (size_t)q * (size_t)n;
        if (W)
            ntas_sv_projection(W, t->Ut, t->Vt, t->d_out, t->d_in, n, o, t->svp_scratch);
        else
            for (int c = 0; c < n; c++) o[c] = NAN;
    }
}

const ntas_task_ops ntas_task_teachers = {
    .init = teacher_init,
    .free = teacher_free,
    .loss_grad = teacher_loss_grad,
    .record = teacher_record,
};

/* ---- the run loop ------------------------------------------------------------ */

int ntas_train_run(const ntas_params *p, uint64_t run_key, ntas_run_result *r,
                   ntas_poll_fn poll, void *poll_ctx, char *err, size_t errlen)
{
    return ntas_train_run_features(p, run_key, NULL, r, poll, poll_ctx, err, errlen);
}

/* The curriculum's task of every block into plan (and into r->block_task
 * when the run records it). */
static int plan_blocks(const ntas_params *p, ntas_run_result *r, int *plan, char *err, size_t errlen)
{
    for (int64_t b = 0; b < p->n_blocks; b++) {
        int task = ntas_curriculum_block_task((ntas_curriculum_kind)p->curriculum, r->M, r->n_tasks - r->M,
                                              p->n_blocks, b);
        if (task < 0 || task >= r->n_tasks) {
            ntas_set_err(err, errlen, "curriculum has no task for block %lld (run ntasweep validate)", (long long)b);
            return -1;
        }
        plan[b] = task;
        if (r->block_task) r->block_task[b] = task;
    }
    return 0;
}

/* The results every model records the same way: ||W_p|| of each path. */
static void record_weight_norms(const ntas_model_ops *m, void *model, ntas_run_result *r, int64_t rec)
{
    const size_t en = (size_t)r->d_out * (size_t)r->d_in;
    double *out = r->weight_norm + rec * r->P;
    for (int q = 0; q < r->P; q++) {
        const double *W = m->path_weights(model, q), *W2 = q + 1 < r->P ? m->path_weights(model, q + 1) : NULL;
        if (W && W2) {
            ntas_norm2_pair(W, W2, en, &out[q], &out[q + 1]);
            q++;
        } else {
            out[q] = W ? ntas_norm2(W, en) : NAN;
        }
    }
}

/* max_dc_dt[block] of one step: the largest |c_after - c_before| / dt over
 * the n gates (c_before: the copy taken before the step). Every step, not
 * only the recorded ones: the gates move fastest on a block's first steps,
 * which sparse records miss (Fig. A.2 needs the maximum over every step). */
static void track_max_dc_dt(const double *c_before, const double *c_after, int n, double dt, double *max_block)
{
    double big = 0.0;
    for (int k = 0; k < n; k++) {
        const double v = fabs(c_after[k] - c_before[k]) / dt;
        if (!(v <= big)) big = v;   /* NaN (a diverging step) wins, as in the records */
    }
    if (isnan(*max_block) || !(big <= *max_block)) *max_block = big;
}

/* The Euler steps of a run: the task's loss and gradient, the divergence
 * check, time to threshold and max |dc/dt| (every step), the records (every
 * record_every steps, the state before the step), backward, step, poll.
 * c_before: scratch for the model's gate vector (NULL: no gate_values).
 * Returns 0 when done or diverged (r->status), 1 when poll abandoned the run. */
static int run_steps(const ntas_params *p, const ntas_model_ops *m, void *model, const ntas_task_ops *t,
                     void *task_state, const int *plan, double *norm_dW, double *c_before, ntas_run_result *r,
                     ntas_poll_fn poll, void *poll_ctx)
{
    const int64_t steps_per_block = ntas_params_steps_per_block(p), total = steps_per_block * p->n_blocks;
    /* block = k / steps_per_block, in_block = k % steps_per_block and the
     * record countdown k % record_every and rec = k / record_every kept as
     * counters: four 64-bit divisions a step cost ~2 % of a Wishart step. */
    int64_t block = 0, in_block = 0, to_record = 0, rec = -1;
    for (int64_t k = 0; k < total; k++, in_block++, to_record--) {
        if (in_block == steps_per_block) {
            block++;
            in_block = 0;
        }
        const int record = to_record == 0;
        if (record) {
            to_record = p->record_every;
            rec++; /* = k / record_every */
        }
        const int task = plan[block];
        ntas_task_grad g = {NULL, NULL, 0};
        const ntas_loss_need need = {record, isnan(r->time_to_threshold[block]) ? NTAS_LOSS_THRESHOLD : NAN};
        const double loss = t->loss_grad(task_state, m, model, task, &need, &g);
        if (!isfinite(loss)) {
            r->status = NTAS_STATUS_FAILED;
            snprintf(r->message, sizeof r->message, "diverged: task loss is %g at step %lld (t = %g)", loss,
                     (long long)k, (double)k * p->dt);
            return 0;
        }
        if (loss < NTAS_LOSS_THRESHOLD && isnan(r->time_to_threshold[block]))
            r->time_to_threshold[block] = (double)in_block * p->dt;
        if (record) {
            r->loss[rec] = loss;
            record_weight_norms(m, model, r, rec);
            m->record(model, r, rec, task);
            if (t->record) t->record(task_state, m, model, task, r, rec);
        }
        m->backward(model, p, &g);
        int n_gates = 0;
        const double *gates = c_before ? m->gate_values(model, &n_gates) : NULL;
        if (gates) memcpy(c_before, gates, (size_t)n_gates * sizeof *c_before);
        double norm_dc;
        m->step(model, p, record ? norm_dW : NULL, record ? &norm_dc : NULL);
        if (gates) track_max_dc_dt(c_before, gates, n_gates, p->dt, &r->max_dc_dt[block]);
        if (record) {
            memcpy(r->update_norm_w + rec * r->P, norm_dW, (size_t)r->P * sizeof(double));
            r->update_norm_c[rec] = norm_dc;
        }
        if (poll && (k + 1) % POLL_EVERY == 0 && poll(poll_ctx, k + 1, total)) return 1;
    }
    return 0;
}

int ntas_train_run_features(const ntas_params *p, uint64_t run_key, const ntas_features *features,
                            ntas_run_result *r, ntas_poll_fn poll, void *poll_ctx, char *err, size_t errlen)
{
    const ntas_model_ops *m = ntas_model_of(p);
    if (!m) {
        ntas_set_err(err, errlen, "model %lld has no entry in the model registry", (long long)p->model);
        return -1;
    }
    ntas_run_result_fill_nan(r, NTAS_R_teachers);
    r->status = NTAS_STATUS_DONE;
    r->message[0] = '\0';
    const ntas_task_ops *t = m->task == NTAS_TASK_FEATURES ? &ntas_task_features : &ntas_task_teachers;
    if (m->task == NTAS_TASK_FEATURES && !features) {
        ntas_set_err(err, errlen, "model=%s needs the pretrained features of its dataset (pretrain.h)", m->name);
        return -1;
    }
    const ntas_model_ctx ctx = {p, run_key, r->n_records, features};
    void *task_state = NULL, *model = NULL;
    double *norm_dW = malloc((size_t)r->P * sizeof *norm_dW), *c_before = NULL;
    int *plan = malloc((size_t)(p->n_blocks > 0 ? p->n_blocks : 1) * sizeof *plan);
    int rc = -1;
    if (!norm_dW || !plan) {
        ntas_set_err(err, errlen, "out of memory");
        goto done;
    }
    if (plan_blocks(p, r, plan, err, errlen) != 0) goto done;
    if (t->init(&task_state, p, run_key, features, m, r, err, errlen) != 0) goto done;
    if (m->init(&model, &ctx, err, errlen) != 0) goto done;
    if (m->gate_values && r->max_dc_dt) {
        int n_gates = 0;
        m->gate_values(model, &n_gates);
        if (n_gates > 0 && !(c_before = malloc((size_t)n_gates * sizeof *c_before))) {
            ntas_set_err(err, errlen, "out of memory");
            goto done;
        }
    }
    rc = run_steps(p, m, model, t, task_state, plan, norm_dW, c_before, r, poll, poll_ctx);
    if (rc == 0 && r->status == NTAS_STATUS_DONE && m->finish(model, p, r, err, errlen) != 0) rc = -1;
done:
    if (model) m->free(model);
    if (task_state) t->free(task_state);
    free(norm_dW);
    free(c_before);
    free(plan);
    return rc;
}
