/* model_reduced — the reduced 2-D NTA of Sec. 5 (Fig. 4, A.1, A.9-A.11,
 * SPEC-NOTES §7): d_in = 1, input x = 1, d_out = 2, teachers e_1 and e_2.
 *
 * Owns the reduced model's state (an ntas_nta of 2 paths, 2 outputs, 1
 * input, so that forward, backward, regulariser and Euler step are exactly
 * model_nta's), its initial conditions, the coordinates the paper plots
 * (specialization subspace, error components) and the analytic curve of
 * Eq. (10) / Eq. (23).
 */
#ifndef NTASWEEP_MODEL_REDUCED_H
#define NTASWEEP_MODEL_REDUCED_H

#include <stddef.h>

#include "ntasweep/models/model_nta.h"
#include "ntasweep/config/params.h"
#include "ntasweep/core/rng.h"

/* With d_in = 1 and the batch {x = 1}, the NTA's batch gradient is the
 * exact expected gradient of Eqs. (15)-(16): tau_w dw^p/dt = c^p eps,
 * tau_c dc^p/dt = w^pT eps - dL_reg/dc^p, eps = y* - y (the authors run this
 * model the same way: input_size = 1, use_X = False). So the state is an
 * ntas_nta: nta.W[p * 2 + m] = w^{p+1}_{m+1}, the component of path p along
 * teacher m (= output m), and nta.c[p] = c^{p+1}. */
typedef struct {
    ntas_nta nta;
    double x;       /* the input, 1 */
    double y[2];    /* output of the last step */
    double dy[2];   /* dL_task/dy = y - y* of the last step */
} ntas_reduced;

int  ntas_reduced_init(ntas_reduced *r, char *err, size_t errlen);
void ntas_reduced_free(ntas_reduced *r);

/* Fig. 4E: complete specialization and separation, w^p_m = delta_pm,
 * c^p = delta_p1 (path 1 serves teacher 1 and is on). */
void ntas_reduced_init_specialized(ntas_reduced *r);
/* Both students on teacher 1, w^1 = w^2 = e_1, c = (1/2, 1/2): the symmetric
 * start of the authors' forgetful panel of Fig. 4. */
void ntas_reduced_init_collapsed(ntas_reduced *r);

/* The NTA's random init: w ~ N(0, sigma^2) (d_in = 1), c^p = gate0. */
void ntas_reduced_init_random(ntas_reduced *r, double sigma, double gate0, ntas_rng *rng);

/* Any state: w[p * 2 + m] = w^{p+1}_{m+1}, c[p] = c^{p+1}. */
void ntas_reduced_set(ntas_reduced *r, const double w[4], const double c[2]);

/* One explicit Euler step of the gradient flow towards teacher e_{task+1}
 * (task 0 or 1) with L_reg of p (norm, lambda_nonneg, lambda_norm; lambda_w
 * too if set). Returns the task loss 1/2 ||y* - y||^2 before the step. */
double ntas_reduced_step(ntas_reduced *r, int task, const ntas_params *p, double dt, double tau_w,
                         double tau_c);

/* What Fig. 4 and Figs. A.9-A.11 plot, for path p specialising to teacher
 * m = p (Sec. 5.2). */
typedef struct {
    double w[2][2];  /* w[p][m] = w^{p+1}_{m+1} (Fig. 4B, C, A.9A: w^p in the teacher plane) */
    double c[2];     /* c^1, c^2 */
    double y[2];     /* y = c^1 w^1 + c^2 w^2 */
    double eps[2];   /* error components eps_m = eps^T w*^m = (y* - y)_m (Eq. 5; Fig. A.10A,
                      * A.11A-B. The authors' notebook plots y - y*, i.e. -eps) */
    double wbar1;    /* w^1_1 - w^2_1: specialization for teacher 1 (Sec. 5.2) */
    double wbar2;    /* w^2_2 - w^1_2: specialization for teacher 2 */
    double wbar;     /* (wbar1 + wbar2) / 2 (Eq. 3; Fig. 4E, A.11C) */
    double wbarbar;  /* ((w^1_1 - w^1_2) + (w^2_1 - w^2_2)) / 2: the orthogonal,
                      * co-specializing component (Eq. 24; Fig. A.11D plots its negative
                      * after a switch to teacher 2, where it grows negative) */
    double cbar;     /* c^1 - c^2 (Eq. 4; Fig. 4E, A.11E) */
    double loss;     /* 1/2 ||eps||^2 */
} ntas_reduced_view;

/* Coordinates of the state w (w[p * 2 + m]), c with teacher e_{task+1} active. */
void ntas_reduced_coords_of(const double w[4], const double c[2], int task, ntas_reduced_view *out);
void ntas_reduced_coords(const ntas_reduced *r, int task, ntas_reduced_view *out);

/* Eq. (10): wbar = sqrt(1 - 0.5 (tau_c/tau_w)(1 - cbar^2)), the exact
 * trajectory under the symmetry wbar1 = wbar2 from cbar = wbar = 1. ratio =
 * tau_c / tau_w > 0. NaN where the radicand is negative (never for |cbar| <= 1
 * and ratio <= 2). */
double ntas_reduced_eq10_wbar(double cbar, double ratio);

/* Eq. (23) from any start (cbar0, wbar0): tau_c cbar^2 - 2 tau_w wbar^2 is
 * conserved, so wbar = sign(wbar0) sqrt(wbar0^2 + (ratio / 2)(cbar^2 - cbar0^2)).
 * Eq. (10) is the case cbar0 = wbar0 = 1. NaN for a negative radicand. */
double ntas_reduced_eq23_wbar(double cbar, double cbar0, double wbar0, double ratio);

/* Reduction of a full NTA with P = M = 2 onto the 2-D coordinates through
 * the teacher rows (App. A.1.1): w[p * 2 + m] = mean over rows b of
 * <W^p_b, W*^m_b> / ||W*^m_b||^2, the coefficient of student row b along
 * teacher m's row b (exact when the two teachers' rows b are orthogonal, as
 * for the orthogonal family). teachers and students: 2 blocks of d_out x d_in.
 * A zero teacher row contributes 0. */
void ntas_reduced_project_rows(const double *teachers, const double *students, int d_out, int d_in,
                               double w[4]);

#endif
