/* teachers — orthogonal teacher construction (SPEC-NOTES §2, see teachers.h). */
#include "ntasweep/teachers.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "ntasweep/rng.h"

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* Stream of the teachers: a function of teacher_seed and the shape only (not
 * of the run key), so every replicate of a sweep point shares its teachers.
 * The name is part of the frozen contract, like ntas_hash64 itself. */
static uint64_t teacher_stream_key(int d_in, int d_out, int n_teachers, int64_t teacher_seed)
{
    char name[128];
    snprintf(name, sizeof name, "teachers/orthogonal/d_in=%d,d_out=%d,M=%d,seed=%" PRId64,
             d_in, d_out, n_teachers, teacher_seed);
    return ntas_stream_key(0, name);
}

int ntas_teachers_orthogonal(int d_in, int d_out, int n_teachers, int64_t teacher_seed,
                             double *out, char *err, size_t errlen)
{
    if (d_in <= 0 || d_out <= 0 || n_teachers <= 0) {
        set_err(err, errlen,
                "orthogonal teachers: sizes must be positive (d_in=%d, d_out=%d, teachers=%d)",
                d_in, d_out, n_teachers);
        return -1;
    }
    /* int64 so that a huge M*d_out cannot overflow before the comparison. */
    int64_t k_rows = (int64_t)n_teachers * d_out;
    if (k_rows > d_in) {
        set_err(err, errlen,
                "orthogonal teachers need d_in >= teachers*d_out, but d_in=%d < %d*%d=%" PRId64
                " (d_out=%d, teachers=%d)",
                d_in, n_teachers, d_out, k_rows, d_out, n_teachers);
        return -1;
    }
    if (!out) {
        set_err(err, errlen, "orthogonal teachers: output buffer is NULL");
        return -1;
    }

    const size_t n = (size_t)d_in, K = (size_t)k_rows;

    /* The output layout (M blocks of d_out x d_in, row-major) is exactly the
     * K x d_in stack of rows, so draw the Gaussian rows in place: row k is
     * teacher k / d_out, row k % d_out. Rows are filled in one call, i.e.
     * row-major order of the stacked matrix. */
    ntas_rng rng;
    ntas_rng_init(&rng, teacher_stream_key(d_in, d_out, n_teachers, teacher_seed));
    ntas_rng_normal_fill(&rng, out, K * n);

    /* Gram-Schmidt of i.i.d. Gaussian rows = QR with positive R diagonal, so
     * the orthonormal rows are the first K rows of a Haar orthogonal matrix.
     * Modified Gram-Schmidt run twice per row ("twice is enough", Giraud et
     * al. 2005) brings orthogonality to machine precision even when a drawn
     * row happens to be nearly dependent on the previous ones. */
    for (size_t k = 0; k < K; k++) {
        double *q = out + k * n;
        for (int pass = 0; pass < 2; pass++) {
            for (size_t j = 0; j < k; j++) {
                const double *p = out + j * n;
                double r = dot(q, p, n);
                for (size_t i = 0; i < n; i++)
                    q[i] -= r * p[i];
            }
        }
        double norm = sqrt(dot(q, q, n));
        /* Probability zero for Gaussian rows, but never divide by ~0. */
        if (!(norm > 1e-150) || !isfinite(norm)) {
            set_err(err, errlen,
                    "orthogonal teachers: degenerate Gaussian draw at row %zu "
                    "(d_in=%d, d_out=%d, teachers=%d, seed=%" PRId64 ")",
                    k, d_in, d_out, n_teachers, teacher_seed);
            return -1;
        }
        double inv = 1.0 / norm;
        for (size_t i = 0; i < n; i++)
            q[i] *= inv;
    }

    /* Scale only after orthogonalisation, so the projections above work on
     * unit rows. */
    const double scale = 1.0 / sqrt((double)d_in);
    for (size_t i = 0; i < K * n; i++)
        out[i] *= scale;
    return 0;
}
