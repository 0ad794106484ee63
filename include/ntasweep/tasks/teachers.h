/* teachers — the target linear maps W*^m of the tasks (SPEC-NOTES §2).
 *
 * Owns teacher construction: the base families (orthogonal, correlated,
 * low-rank) and the composite tasks built from them (task and subtask
 * composition, paper Sec. 4 / App. A.8, A.9). Teachers are drawn from their
 * own streams keyed by teacher_seed and their shape only, so every replicate
 * seed of a sweep shares them (as the published runs did). Layout: blocks of
 * d_out x d_in, row-major, task k at out[k * d_out * d_in].
 */
#ifndef NTASWEEP_TEACHERS_H
#define NTASWEEP_TEACHERS_H

#include <stddef.h>
#include <stdint.h>

/* Base teacher families. The values are meant to be the ones of the
 * parameter table's "teacher" choice (params.h ntas_teacher_kind). */
typedef enum {
    NTAS_TEACHERS_ORTHOGONAL = 0,
    NTAS_TEACHERS_CORRELATED = 1,
    NTAS_TEACHERS_LOWRANK = 2,
    NTAS_TEACHERS_CORRELATED_RANDOM = 3,
} ntas_teacher_family;

/* Composite tasks appended after the M base teachers. */
typedef enum {
    NTAS_COMPOSE_NONE = 0,
    NTAS_COMPOSE_TASK = 1,    /* composite k = mix * base k + (1 - mix) * base (k+1) mod M */
    NTAS_COMPOSE_SUBTASK = 2, /* composite k: even rows of base k, odd rows of base (k+1) mod M */
} ntas_compose_kind;

typedef struct {
    int d_in, d_out;
    int n_base;      /* M: base teachers (the latent tasks that metrics align to) */
    int family;      /* ntas_teacher_family */
    double rho;      /* CORRELATED: pairwise cosine of all rows, in [0, 1);
                      * CORRELATED_RANDOM: mean row cosine, in [0, 1] */
    int rank;        /* LOWRANK: r >= 1 with M * r <= min(d_in, d_out) */
    int compose;     /* ntas_compose_kind */
    double mix;      /* TASK composition: weight of base k (paper: 0.5), in [0, 1] */
    int64_t seed;    /* teacher_seed */
    int unit_scale;  /* 1: every base teacher times sqrt(d_in), so its singular values are 1
                      * (the authors' 'unit' scale of their earlier runs) instead of 1/sqrt(d_in) */
} ntas_teacher_opts;

/* Orthogonal family, no composites, rho = 0, rank = 1, mix = 0.5. */
void ntas_teacher_opts_init(ntas_teacher_opts *o, int d_in, int d_out, int n_base, int64_t seed);

/* Orthogonal teachers: the first M*d_out rows of a Haar-random orthogonal
 * d_in x d_in matrix, scaled by 1/sqrt(d_in), split into M teachers.
 * Requires d_in >= M*d_out; returns 0, or -1 with a message in err. */
int ntas_teachers_orthogonal(int d_in, int d_out, int n_teachers, int64_t teacher_seed,
                             double *out, char *err, size_t errlen);

/* Correlated teachers (App. A.9, Fig. A.13): all K = M*d_out rows, within and
 * across teachers, are unit vectors with pairwise cosine exactly rho before
 * the 1/sqrt(d_in) scaling (the authors' teacher_xx correlates every row of
 * the basis with every other). Rows r_k = sqrt(1-rho) q_k + b sum_j q_j with
 * b = (sqrt(1-rho+K rho) - sqrt(1-rho)) / K, where q_k are the orthonormal
 * rows of the orthogonal teachers of the same seed: the symmetric square root
 * of the Gram matrix (1-rho) I + rho 11^T, so only d_in >= M*d_out is needed
 * (SPEC-NOTES' sqrt(rho) b_0 + sqrt(1-rho) b_k has the same Gram matrix, hence
 * the same distribution after the Haar rotation, but needs one dimension
 * more). rho = 0 gives bitwise the orthogonal teachers. 0, or -1 with err. */
int ntas_teachers_correlated(int d_in, int d_out, int n_teachers, double rho, int64_t teacher_seed,
                             double *out, char *err, size_t errlen);

/* The authors' correlated teachers of Fig. A.13 (their teacher_xx): a random
 * unit vector x_0, then every one of the K = M*d_out rows is
 * x_0 + sqrt((1-rho)/rho) xi_k with xi_k ~ N(0, I/d_in), normalised and
 * scaled by 1/sqrt(d_in). Row cosines are random, with mean ~rho (their log:
 * rho 0.25, 0.5, 0.75 give mean 0.27, 0.49, 0.74, sd 0.19, 0.14, 0.09 at
 * d_in 20); rho = 1 makes all rows x_0 (one rank-1 matrix for every
 * teacher); rho = 0 gives the orthogonal teachers of the same seed. Their
 * extra Haar rotation of all rows is left out: x_0 and xi_k are already
 * isotropic, so it does not change the distribution. Requires
 * d_in >= M*d_out (their basis has d_in rows). 0, or -1 with err. */
int ntas_teachers_correlated_random(int d_in, int d_out, int n_teachers, double rho,
                                    int64_t teacher_seed, double *out, char *err, size_t errlen);

/* Low-rank teachers (App. A.2, the authors' "svd" mode): W*^m = U_m S V_m^T
 * with r singular values all equal to 1/sqrt(d_in) (the value of every
 * singular value of an orthogonal teacher, the authors' default 'd_in' scale)
 * and the rest 0. U_m (d_out x r) and V_m (d_in x r) are orthonormal columns
 * of two Haar matrices, disjoint across teachers; teacher m takes mode a from
 * row a*M + m of each, so at a fixed seed a rank-(r+1) teacher contains the
 * modes of the rank-r one (the authors truncate one SVD for Fig. A.2).
 * Requires r >= 1 and M*r <= min(d_in, d_out). 0, or -1 with err. */
int ntas_teachers_lowrank(int d_in, int d_out, int n_teachers, int rank, int64_t teacher_seed,
                          double *out, char *err, size_t errlen);

/* Number of composites of M base tasks: M for M >= 3 (AB, BC, ..., the last
 * one mixes base M-1 and base 0), 1 for M = 2 (AB; BA would repeat it, as in
 * the authors' code), 0 for M < 2 or NTAS_COMPOSE_NONE; -1 for an unknown
 * kind. */
int ntas_composite_count(int compose, int n_base);

/* Writes the composites of the M base teachers `base` to out (count as
 * above) and returns their number, or -1 with err. Composite k mixes base k
 * and base (k+1) mod M: TASK: mix * A + (1 - mix) * B; SUBTASK: rows 0, 2, 4,
 * ... of A and rows 1, 3, ... of B (mix unused). */
int ntas_teachers_compose(int compose, const double *base, int n_base, int d_out, int d_in,
                          double mix, double *out, char *err, size_t errlen);

/* Validates o; returns the number of tasks it builds (M + composites), or -1
 * with err. */
int ntas_teachers_count(const ntas_teacher_opts *o, char *err, size_t errlen);

/* The full task list: M base teachers of o->family (times sqrt(d_in) if
 * o->unit_scale) followed by their composites. out holds ntas_teachers_count(o) blocks. Returns that number,
 * or -1 with err. The "non-orthogonal tasks" of Fig. A.14 are this list with
 * NTAS_COMPOSE_TASK and a curriculum that only visits the composites. */
int ntas_teachers_build(const ntas_teacher_opts *o, double *out, char *err, size_t errlen);

#endif
