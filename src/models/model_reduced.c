/* model_reduced — the reduced 2-D NTA. See model_reduced.h. */
#include "ntasweep/models/model_reduced.h"
#include "ntasweep/core/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/models/model.h"

int ntas_reduced_init(ntas_reduced *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->x = 1.0;
    return ntas_nta_init(&r->nta, 1, 2, 2, err, errlen);
}

void ntas_reduced_free(ntas_reduced *r)
{
    ntas_gated_paths_free(&r->nta);
    memset(r, 0, sizeof *r);
}

void ntas_reduced_set(ntas_reduced *r, const double w[4], const double c[2])
{
    memcpy(r->nta.W, w, 4 * sizeof *w);
    memcpy(r->nta.c, c, 2 * sizeof *c);
}

void ntas_reduced_init_specialized(ntas_reduced *r)
{
    const double w[4] = {1.0, 0.0, 0.0, 1.0}, c[2] = {1.0, 0.0};
    ntas_reduced_set(r, w, c);
}

void ntas_reduced_init_collapsed(ntas_reduced *r)
{
    const double w[4] = {1.0, 0.0, 1.0, 0.0}, c[2] = {0.5, 0.5};
    ntas_reduced_set(r, w, c);
}

void ntas_reduced_init_random(ntas_reduced *r, double sigma, double gate0, ntas_rng *rng)
{
    ntas_gated_paths_init_params(&r->nta, sigma, gate0, rng);
}

double ntas_reduced_step(ntas_reduced *r, int task, const ntas_params *p, double dt, double tau_w,
                         double tau_c)
{
    /* The teacher e_{task+1} maps x = 1 to y* = e_{task+1}. */
    const double ystar[2] = {task == 0 ? 1.0 : 0.0, task == 0 ? 0.0 : 1.0};
    ntas_nta_forward(&r->nta, &r->x, 1, r->y);
    double loss = 0.0;
    for (int i = 0; i < 2; i++) {
        r->dy[i] = r->y[i] - ystar[i];
        loss += 0.5 * r->dy[i] * r->dy[i];
    }
    ntas_nta_backward(&r->nta, &r->x, r->dy, 1);
    ntas_gated_paths_reg_backward(&r->nta, p);
    ntas_gated_paths_step(&r->nta, dt, tau_w, tau_c, NULL, NULL);
    return loss;
}

void ntas_reduced_coords_of(const double w[4], const double c[2], int task, ntas_reduced_view *o)
{
    const double ystar[2] = {task == 0 ? 1.0 : 0.0, task == 0 ? 0.0 : 1.0};
    for (int p = 0; p < 2; p++)
        for (int m = 0; m < 2; m++) o->w[p][m] = w[p * 2 + m];
    o->c[0] = c[0];
    o->c[1] = c[1];
    o->loss = 0.0;
    for (int m = 0; m < 2; m++) {
        o->y[m] = c[0] * o->w[0][m] + c[1] * o->w[1][m];
        o->eps[m] = ystar[m] - o->y[m];
        o->loss += 0.5 * o->eps[m] * o->eps[m];
    }
    o->wbar1 = o->w[0][0] - o->w[1][0];
    o->wbar2 = o->w[1][1] - o->w[0][1];
    o->wbar = 0.5 * (o->wbar1 + o->wbar2);
    o->wbarbar = 0.5 * ((o->w[0][0] - o->w[0][1]) + (o->w[1][0] - o->w[1][1]));
    o->cbar = c[0] - c[1];
}

void ntas_reduced_coords(const ntas_reduced *r, int task, ntas_reduced_view *out)
{
    ntas_reduced_coords_of(r->nta.W, r->nta.c, task, out);
}

double ntas_reduced_eq23_wbar(double cbar, double cbar0, double wbar0, double ratio)
{
    double rad = wbar0 * wbar0 + 0.5 * ratio * (cbar * cbar - cbar0 * cbar0);
    if (rad < 0.0) return NAN;
    return copysign(sqrt(rad), wbar0);
}

double ntas_reduced_eq10_wbar(double cbar, double ratio)
{
    double rad = 1.0 - 0.5 * ratio * (1.0 - cbar * cbar);
    return rad < 0.0 ? NAN : sqrt(rad);
}

void ntas_reduced_project_rows(const double *teachers, const double *students, int d_out, int d_in,
                               double w[4])
{
    const size_t en = (size_t)d_out * (size_t)d_in;
    for (int p = 0; p < 2; p++)
        for (int m = 0; m < 2; m++) {
            double s = 0.0;
            for (int b = 0; b < d_out; b++) {
                const double *t = teachers + m * en + (size_t)b * d_in;
                const double *u = students + p * en + (size_t)b * d_in;
                double tu = 0.0, tt = 0.0;
                for (int j = 0; j < d_in; j++) {
                    tu += t[j] * u[j];
                    tt += t[j] * t[j];
                }
                s += tt > 0.0 ? tu / tt : 0.0;
            }
            w[p * 2 + m] = s / d_out;
        }
}

/* ---- the model interface (model.h) ----------------------------------------
 * The run loop's expected flow (S = 1, G = W_eff - T) with the teachers e_1,
 * e_2 is exactly ntas_reduced_step: forward at x = 1 gives y = W_eff. */

typedef struct {
    ntas_reduced red;
    double ratio;          /* tau_c / tau_w, for Eq. (10) */
} reduced_state;

static int reduced_teachers(const ntas_params *p, double *teachers, char *err, size_t errlen)
{
    /* Teachers e_1, e_2: blocks of d_out = 2 rows, d_in = 1. */
    const double eye[4] = {1, 0, 0, 1};
    memcpy(teachers, eye, sizeof eye);
    return 0;
}

static void reduced_free(void *state)
{
    reduced_state *s = state;
    if (!s) return;
    ntas_reduced_free(&s->red);
    free(s);
}

static int reduced_init(void **state, const ntas_model_ctx *ctx, char *err, size_t errlen)
{
    const ntas_params *p = ctx->p;
    reduced_state *s = calloc(1, sizeof *s);
    if (!s) {
        ntas_set_err(err, errlen, "out of memory");
        return -1;
    }
    if (ntas_reduced_init(&s->red, err, errlen) != 0) {
        free(s);
        return -1;
    }
    if (p->reduced_init == NTAS_REDUCED_SPECIALIZED) {
        ntas_reduced_init_specialized(&s->red);
    } else if (p->reduced_init == NTAS_REDUCED_COLLAPSED) {
        ntas_reduced_init_collapsed(&s->red);   /* Fig. 4C: w1 = w2 = e1, c = 1/2 */
    } else if (p->reduced_init == NTAS_REDUCED_GIVEN) {
        /* The authors' explicit starts (Figs. A.1, A.9); W is path-major. */
        const double w[4] = {p->reduced_w11, p->reduced_w12, p->reduced_w21, p->reduced_w22};
        const double c[2] = {p->reduced_c1, p->reduced_c2};
        ntas_reduced_set(&s->red, w, c);
    } else {
        ntas_rng rng;
        ntas_rng_init(&rng, ntas_params_init_stream(p, ctx->run_key));
        ntas_reduced_init_random(&s->red, p->init_sigma, 0.5, &rng);
    }
    s->ratio = p->tau_c / p->tau_w;
    *state = s;
    return 0;
}

static const double *reduced_effective(void *state, double **G)
{
    ntas_nta *m = &((reduced_state *)state)->red.nta;
    ntas_nta_effective(m);
    *G = m->G;
    return m->W_eff;
}

static void reduced_backward(void *state, const ntas_params *p, const ntas_task_grad *g)
{
    ntas_nta *m = &((reduced_state *)state)->red.nta;
    ntas_nta_backward_G(m);
    ntas_gated_paths_reg_backward(m, p);
}

/* The norms are of the state's change (w^p, c), as Fig. 4 reads them. */
static void reduced_step(void *state, const ntas_params *p, double *norm_dW, double *norm_dc)
{
    ntas_nta *m = &((reduced_state *)state)->red.nta;
    double w0[4], c0[2];
    memcpy(w0, m->W, sizeof w0);
    memcpy(c0, m->c, sizeof c0);
    ntas_gated_paths_step(m, p->dt, p->tau_w, p->tau_c, NULL, NULL);
    for (int q = 0; norm_dW && q < 2; q++) {
        double sq = 0.0;
        for (int k = 0; k < 2; k++) {
            double u = m->W[q * 2 + k] - w0[q * 2 + k];
            sq += u * u;
        }
        norm_dW[q] = sqrt(sq);
    }
    if (norm_dc) *norm_dc = hypot(m->c[0] - c0[0], m->c[1] - c0[1]);
}

static const double *reduced_path_weights(void *state, int path)
{
    return path < 2 ? ((reduced_state *)state)->red.nta.W + path * 2 : NULL;
}

static void reduced_record(void *state, ntas_run_result *r, int64_t rec, int task)
{
    reduced_state *s = state;
    ntas_reduced_view v;
    ntas_reduced_coords(&s->red, task, &v);
    r->gates[rec * 2] = v.c[0];
    r->gates[rec * 2 + 1] = v.c[1];
    for (int q = 0; q < 2; q++)
        for (int k = 0; k < 2; k++) r->reduced_w[rec * 4 + q * 2 + k] = v.w[q][k];
    r->reduced_eps[rec * 2] = v.eps[0];
    r->reduced_eps[rec * 2 + 1] = v.eps[1];
    r->wbar_task[rec * 2] = v.wbar1;
    r->wbar_task[rec * 2 + 1] = v.wbar2;
    r->wbar[rec] = v.wbar;
    r->wbarbar[rec] = v.wbarbar;
    r->cbar[rec] = v.cbar;
    r->eq10_wbar[rec] = ntas_reduced_eq10_wbar(v.cbar, s->ratio);
}

static const double *reduced_gate_values(void *state, int *n)
{
    const ntas_nta *m = &((reduced_state *)state)->red.nta;
    *n = m->n_gates;
    return m->c;
}

static int reduced_finish(void *state, const ntas_params *p, ntas_run_result *r, char *err, size_t errlen)
{
    const ntas_nta *m = &((reduced_state *)state)->red.nta;
    memcpy(r->students, m->W, 4 * sizeof(double));
    memcpy(r->gates_final, m->c, 2 * sizeof(double));
    return 0;
}

const ntas_model_ops ntas_model_reduced = {
    .name = "reduced",
    .kind = NTAS_MODEL_REDUCED,
    .task = NTAS_TASK_TEACHERS,
    .groups = NTAS_RG_BIT(NTAS_RG_REDUCED),
    .expected_only = 1,
    .own_teachers = reduced_teachers,
    .init = reduced_init,
    .free = reduced_free,
    .effective = reduced_effective,
    .backward = reduced_backward,
    .step = reduced_step,
    .gate_values = reduced_gate_values,
    .path_weights = reduced_path_weights,
    .record = reduced_record,
    .finish = reduced_finish,
    .step_cost = ntas_nta_step_cost,
};
