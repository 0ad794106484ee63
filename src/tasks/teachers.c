/* teachers — teacher families and composite tasks (SPEC-NOTES §2, see teachers.h). */
#include "ntasweep/tasks/teachers.h"

#include <cblas.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/core/err.h"
#include "ntasweep/core/rng.h"


static double dot(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* Stream of the teachers: a function of teacher_seed and the shape only (not
 * of the run key), so every replicate of a sweep point shares its teachers.
 * The names are part of the frozen contract, like ntas_hash64 itself. */
static uint64_t teacher_stream_key(const char *what, int d_in, int d_out, int n_teachers,
                                   int64_t teacher_seed)
{
    char name[160];
    snprintf(name, sizeof name, "teachers/%s/d_in=%d,d_out=%d,M=%d,seed=%" PRId64, what, d_in,
             d_out, n_teachers, teacher_seed);
    return ntas_stream_key(0, name);
}

/* K orthonormal rows of length n: the first K rows of a Haar-random n x n
 * orthogonal matrix, from the stream `key`. Returns 0, or the 1-based index
 * of a degenerate row. The first k rows do not depend on K (the Gaussian
 * fill and Gram-Schmidt both go row by row), which the low-rank family uses
 * to nest ranks. */
static size_t haar_rows(double *q, size_t K, size_t n, uint64_t key)
{
    ntas_rng rng;
    ntas_rng_init(&rng, key);
    ntas_rng_normal_fill(&rng, q, K * n);

    /* Gram-Schmidt of i.i.d. Gaussian rows = QR with positive R diagonal, so
     * the orthonormal rows are the first K rows of a Haar orthogonal matrix.
     * Modified Gram-Schmidt run twice per row ("twice is enough", Giraud et
     * al. 2005) brings orthogonality to machine precision even when a drawn
     * row happens to be nearly dependent on the previous ones. */
    for (size_t k = 0; k < K; k++) {
        double *r = q + k * n;
        for (int pass = 0; pass < 2; pass++) {
            for (size_t j = 0; j < k; j++) {
                const double *p = q + j * n;
                double c = dot(r, p, n);
                for (size_t i = 0; i < n; i++)
                    r[i] -= c * p[i];
            }
        }
        double norm = sqrt(dot(r, r, n));
        /* Probability zero for Gaussian rows, but never divide by ~0. */
        if (!(norm > 1e-150) || !isfinite(norm))
            return k + 1;
        double inv = 1.0 / norm;
        for (size_t i = 0; i < n; i++)
            r[i] *= inv;
    }
    return 0;
}

static int check_sizes(const char *family, int d_in, int d_out, int n_teachers, char *err,
                       size_t errlen)
{
    if (d_in <= 0 || d_out <= 0 || n_teachers <= 0) {
        ntas_set_err(err, errlen, "%s teachers: sizes must be positive (d_in=%d, d_out=%d, teachers=%d)",
                family, d_in, d_out, n_teachers);
        return -1;
    }
    return 0;
}

/* The orthogonal and correlated families both use K = M*d_out rows of R. */
static int check_rows_fit(const char *family, int d_in, int d_out, int n_teachers, char *err,
                          size_t errlen)
{
    if (check_sizes(family, d_in, d_out, n_teachers, err, errlen) != 0)
        return -1;
    /* int64 so that a huge M*d_out cannot overflow before the comparison. */
    int64_t k_rows = (int64_t)n_teachers * d_out;
    if (k_rows > d_in) {
        ntas_set_err(err, errlen,
                "%s teachers need d_in >= teachers*d_out, but d_in=%d < %d*%d=%" PRId64
                " (d_out=%d, teachers=%d)",
                family, d_in, n_teachers, d_out, k_rows, d_out, n_teachers);
        return -1;
    }
    return 0;
}

int ntas_teachers_orthogonal(int d_in, int d_out, int n_teachers, int64_t teacher_seed,
                             double *out, char *err, size_t errlen)
{
    if (check_rows_fit("orthogonal", d_in, d_out, n_teachers, err, errlen) != 0)
        return -1;
    if (!out) {
        ntas_set_err(err, errlen, "orthogonal teachers: output buffer is NULL");
        return -1;
    }
    const size_t n = (size_t)d_in, K = (size_t)n_teachers * (size_t)d_out;

    /* The output layout (M blocks of d_out x d_in, row-major) is exactly the
     * K x d_in stack of rows: row k is teacher k / d_out, row k % d_out. */
    size_t bad = haar_rows(out, K, n,
                           teacher_stream_key("orthogonal", d_in, d_out, n_teachers, teacher_seed));
    if (bad) {
        ntas_set_err(err, errlen,
                "orthogonal teachers: degenerate Gaussian draw at row %zu "
                "(d_in=%d, d_out=%d, teachers=%d, seed=%" PRId64 ")",
                bad - 1, d_in, d_out, n_teachers, teacher_seed);
        return -1;
    }
    /* Scale only after orthogonalisation, so the projections work on unit rows. */
    const double scale = 1.0 / sqrt((double)d_in);
    for (size_t i = 0; i < K * n; i++)
        out[i] *= scale;
    return 0;
}

int ntas_teachers_correlated(int d_in, int d_out, int n_teachers, double rho, int64_t teacher_seed,
                             double *out, char *err, size_t errlen)
{
    if (!(rho >= 0.0 && rho < 1.0)) {
        ntas_set_err(err, errlen, "correlated teachers need 0 <= rho < 1, but rho=%g", rho);
        return -1;
    }
    if (check_rows_fit("correlated", d_in, d_out, n_teachers, err, errlen) != 0)
        return -1;
    /* Same stream as the orthogonal teachers: a rho sweep at one teacher_seed
     * deforms one rotation, and rho = 0 reproduces the orthogonal teachers. */
    if (ntas_teachers_orthogonal(d_in, d_out, n_teachers, teacher_seed, out, err, errlen) != 0)
        return -1;
    if (rho == 0.0)
        return 0;

    const size_t n = (size_t)d_in, K = (size_t)n_teachers * (size_t)d_out;
    double *sum = calloc(n, sizeof *sum);
    if (!sum) {
        ntas_set_err(err, errlen, "correlated teachers: out of memory");
        return -1;
    }
    /* out holds q_k / sqrt(d_in); the map r = A q with A = a I + b 11^T is
     * linear, so applying it to the scaled rows gives the scaled result. */
    for (size_t k = 0; k < K; k++)
        for (size_t i = 0; i < n; i++)
            sum[i] += out[k * n + i];
    const double Kd = (double)K;
    const double a = sqrt(1.0 - rho), b = (sqrt(1.0 - rho + Kd * rho) - a) / Kd;
    for (size_t k = 0; k < K; k++)
        for (size_t i = 0; i < n; i++)
            out[k * n + i] = a * out[k * n + i] + b * sum[i];
    free(sum);
    return 0;
}

int ntas_teachers_correlated_random(int d_in, int d_out, int n_teachers, double rho,
                                    int64_t teacher_seed, double *out, char *err, size_t errlen)
{
    if (!(rho >= 0.0 && rho <= 1.0)) {
        ntas_set_err(err, errlen, "correlated_random teachers need 0 <= rho <= 1, but rho=%g", rho);
        return -1;
    }
    if (check_rows_fit("correlated_random", d_in, d_out, n_teachers, err, errlen) != 0)
        return -1;
    if (rho == 0.0)   /* their teacher_xx = 0: the plain orthogonal basis */
        return ntas_teachers_orthogonal(d_in, d_out, n_teachers, teacher_seed, out, err, errlen);
    if (!out) {
        ntas_set_err(err, errlen, "correlated_random teachers: output buffer is NULL");
        return -1;
    }
    const size_t n = (size_t)d_in, K = (size_t)n_teachers * (size_t)d_out;
    double *base = malloc(n * sizeof *base);
    if (!base) {
        ntas_set_err(err, errlen, "correlated_random teachers: out of memory");
        return -1;
    }
    ntas_rng rng;
    ntas_rng_init(&rng, teacher_stream_key("correlated_random", d_in, d_out, n_teachers, teacher_seed));
    ntas_rng_normal_fill(&rng, base, n);
    ntas_rng_normal_fill(&rng, out, K * n);
    const double bnorm = sqrt(dot(base, base, n));
    const double noise = sqrt((1.0 - rho) / rho / (double)d_in), scale = 1.0 / sqrt((double)d_in);
    int rc = 0;
    for (size_t k = 0; k < K && rc == 0; k++) {
        double *r = out + k * n;
        for (size_t i = 0; i < n; i++)
            r[i] = base[i] / bnorm + noise * r[i];
        double norm = sqrt(dot(r, r, n));
        if (!(norm > 1e-150) || !isfinite(norm)) {   /* probability zero, never divide by ~0 */
            ntas_set_err(err, errlen, "correlated_random teachers: degenerate draw at row %zu (seed=%" PRId64 ")",
                         k, teacher_seed);
            rc = -1;
            break;
        }
        for (size_t i = 0; i < n; i++)
            r[i] *= scale / norm;
    }
    free(base);
    return rc;
}

int ntas_teachers_lowrank(int d_in, int d_out, int n_teachers, int rank, int64_t teacher_seed,
                          double *out, char *err, size_t errlen)
{
    if (check_sizes("low-rank", d_in, d_out, n_teachers, err, errlen) != 0)
        return -1;
    int64_t modes = (int64_t)n_teachers * rank;
    if (rank < 1 || modes > d_out || modes > d_in) {
        ntas_set_err(err, errlen,
                "low-rank teachers need rank >= 1 and teachers*rank <= min(d_in, d_out) "
                "(disjoint singular vectors), but rank=%d, teachers=%d, d_in=%d, d_out=%d",
                rank, n_teachers, d_in, d_out);
        return -1;
    }
    if (!out) {
        ntas_set_err(err, errlen, "low-rank teachers: output buffer is NULL");
        return -1;
    }
    const size_t K = (size_t)modes;
    double *U = malloc(K * (size_t)d_out * sizeof *U), *V = malloc(K * (size_t)d_in * sizeof *V);
    double *Um = malloc((size_t)rank * (size_t)d_out * sizeof *Um);
    double *Vm = malloc((size_t)rank * (size_t)d_in * sizeof *Vm);
    int rc = -1;
    if (!U || !V || !Um || !Vm) {
        ntas_set_err(err, errlen, "low-rank teachers: out of memory");
        goto done;
    }
    /* The rank is not part of the stream names: see the nesting in teachers.h. */
    size_t bu = haar_rows(U, K, (size_t)d_out,
                          teacher_stream_key("lowrank/U", d_in, d_out, n_teachers, teacher_seed));
    size_t bv = haar_rows(V, K, (size_t)d_in,
                          teacher_stream_key("lowrank/V", d_in, d_out, n_teachers, teacher_seed));
    if (bu || bv) {
        ntas_set_err(err, errlen, "low-rank teachers: degenerate Gaussian draw (seed=%" PRId64 ")",
                teacher_seed);
        goto done;
    }
    const double s = 1.0 / sqrt((double)d_in);
    const size_t en = (size_t)d_out * (size_t)d_in;
    for (int m = 0; m < n_teachers; m++) {
        /* Mode a of teacher m is row a*M + m of U and of V. */
        for (int a = 0; a < rank; a++) {
            size_t row = (size_t)a * (size_t)n_teachers + (size_t)m;
            memcpy(Um + (size_t)a * d_out, U + row * d_out, (size_t)d_out * sizeof *Um);
            memcpy(Vm + (size_t)a * d_in, V + row * d_in, (size_t)d_in * sizeof *Vm);
        }
        /* W*^m = s * Um^T Vm: (d_out x r)(r x d_in). */
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d_out, d_in, rank, s, Um, d_out, Vm,
                    d_in, 0.0, out + (size_t)m * en, d_in);
    }
    rc = 0;
done:
    free(U);
    free(V);
    free(Um);
    free(Vm);
    return rc;
}

int ntas_composite_count(int compose, int n_base)
{
    switch (compose) {
    case NTAS_COMPOSE_NONE:
        return 0;
    case NTAS_COMPOSE_TASK:
    case NTAS_COMPOSE_SUBTASK:
        /* The authors add composite t for t < M-1, and the wrap-around one
         * (M-1, 0) only when M > 2. */
        return n_base < 2 ? 0 : (n_base == 2 ? 1 : n_base);
    }
    return -1;
}

int ntas_teachers_compose(int compose, const double *base, int n_base, int d_out, int d_in,
                          double mix, double *out, char *err, size_t errlen)
{
    int n = ntas_composite_count(compose, n_base);
    if (n < 0) {
        ntas_set_err(err, errlen, "unknown composition kind %d", compose);
        return -1;
    }
    if (compose == NTAS_COMPOSE_TASK && !(mix >= 0.0 && mix <= 1.0)) {
        ntas_set_err(err, errlen, "task composition needs a mixing factor in [0, 1], but mix=%g", mix);
        return -1;
    }
    if (n > 0 && (!base || !out || d_out <= 0 || d_in <= 0)) {
        ntas_set_err(err, errlen, "composite teachers: bad arguments (d_out=%d, d_in=%d)", d_out, d_in);
        return -1;
    }
    const size_t en = (size_t)d_out * (size_t)d_in;
    for (int k = 0; k < n; k++) {
        const double *A = base + (size_t)k * en, *B = base + (size_t)((k + 1) % n_base) * en;
        double *C = out + (size_t)k * en;
        if (compose == NTAS_COMPOSE_TASK) {
            for (size_t i = 0; i < en; i++)
                C[i] = mix * A[i] + (1.0 - mix) * B[i];
        } else {
            for (int r = 0; r < d_out; r++)
                memcpy(C + (size_t)r * d_in, (r % 2 ? B : A) + (size_t)r * d_in,
                       (size_t)d_in * sizeof *C);
        }
    }
    return n;
}

void ntas_teacher_opts_init(ntas_teacher_opts *o, int d_in, int d_out, int n_base, int64_t seed)
{
    memset(o, 0, sizeof *o);
    o->d_in = d_in;
    o->d_out = d_out;
    o->n_base = n_base;
    o->family = NTAS_TEACHERS_ORTHOGONAL;
    o->rho = 0.0;
    o->rank = 1;
    o->compose = NTAS_COMPOSE_NONE;
    o->mix = 0.5;
    o->seed = seed;
}

int ntas_teachers_count(const ntas_teacher_opts *o, char *err, size_t errlen)
{
    if (check_sizes("base", o->d_in, o->d_out, o->n_base, err, errlen) != 0)
        return -1;
    switch (o->family) {
    case NTAS_TEACHERS_ORTHOGONAL:
        if (check_rows_fit("orthogonal", o->d_in, o->d_out, o->n_base, err, errlen) != 0)
            return -1;
        break;
    case NTAS_TEACHERS_CORRELATED:
        if (!(o->rho >= 0.0 && o->rho < 1.0)) {
            ntas_set_err(err, errlen, "correlated teachers need 0 <= rho < 1, but rho=%g", o->rho);
            return -1;
        }
        if (check_rows_fit("correlated", o->d_in, o->d_out, o->n_base, err, errlen) != 0)
            return -1;
        break;
    case NTAS_TEACHERS_CORRELATED_RANDOM:
        if (!(o->rho >= 0.0 && o->rho <= 1.0)) {
            ntas_set_err(err, errlen, "correlated_random teachers need 0 <= rho <= 1, but rho=%g", o->rho);
            return -1;
        }
        if (check_rows_fit("correlated_random", o->d_in, o->d_out, o->n_base, err, errlen) != 0)
            return -1;
        break;
    case NTAS_TEACHERS_LOWRANK: {
        int64_t modes = (int64_t)o->n_base * o->rank;
        if (o->rank < 1 || modes > o->d_out || modes > o->d_in) {
            ntas_set_err(err, errlen,
                    "low-rank teachers need rank >= 1 and teachers*rank <= min(d_in, d_out) "
                    "(disjoint singular vectors), but rank=%d, teachers=%d, d_in=%d, d_out=%d",
                    o->rank, o->n_base, o->d_in, o->d_out);
            return -1;
        }
        break;
    }
    default:
        ntas_set_err(err, errlen, "unknown teacher family %d", o->family);
        return -1;
    }
    int nc = ntas_composite_count(o->compose, o->n_base);
    if (nc < 0) {
        ntas_set_err(err, errlen, "unknown composition kind %d", o->compose);
        return -1;
    }
    if (o->compose != NTAS_COMPOSE_NONE && o->n_base < 2) {
        ntas_set_err(err, errlen, "composite tasks need at least 2 base teachers, but teachers=%d",
                o->n_base);
        return -1;
    }
    if (o->compose == NTAS_COMPOSE_TASK && !(o->mix >= 0.0 && o->mix <= 1.0)) {
        ntas_set_err(err, errlen, "task composition needs a mixing factor in [0, 1], but mix=%g", o->mix);
        return -1;
    }
    return o->n_base + nc;
}

int ntas_teachers_build(const ntas_teacher_opts *o, double *out, char *err, size_t errlen)
{
    int total = ntas_teachers_count(o, err, errlen);
    if (total < 0)
        return -1;
    if (!out) {
        ntas_set_err(err, errlen, "teachers: output buffer is NULL");
        return -1;
    }
    int rc = -1;
    switch (o->family) {
    case NTAS_TEACHERS_ORTHOGONAL:
        rc = ntas_teachers_orthogonal(o->d_in, o->d_out, o->n_base, o->seed, out, err, errlen);
        break;
    case NTAS_TEACHERS_CORRELATED:
        rc = ntas_teachers_correlated(o->d_in, o->d_out, o->n_base, o->rho, o->seed, out, err,
                                      errlen);
        break;
    case NTAS_TEACHERS_CORRELATED_RANDOM:
        rc = ntas_teachers_correlated_random(o->d_in, o->d_out, o->n_base, o->rho, o->seed, out, err,
                                             errlen);
        break;
    case NTAS_TEACHERS_LOWRANK:
        rc = ntas_teachers_lowrank(o->d_in, o->d_out, o->n_base, o->rank, o->seed, out, err,
                                   errlen);
        break;
    }
    if (rc != 0)
        return -1;
    const size_t en = (size_t)o->d_out * (size_t)o->d_in;
    if (o->unit_scale) {
        /* Composites are linear in the base teachers, so scaling the base
         * ones scales every task. */
        const double up = sqrt((double)o->d_in);
        for (size_t i = 0; i < (size_t)o->n_base * en; i++)
            out[i] *= up;
    }
    if (ntas_teachers_compose(o->compose, out, o->n_base, o->d_out, o->d_in, o->mix,
                              out + (size_t)o->n_base * en, err, errlen) < 0)
        return -1;
    return total;
}
