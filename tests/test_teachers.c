/* test_teachers — orthogonal teachers: orthonormality of all rows (scaled by
 * 1/sqrt(d_in)), determinism in the seed, input errors, and a Haar sanity
 * check on the entries' moments. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/teachers.h"
#include "check.h"

static double dot(const double *a, const double *b, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* Every row of every teacher against every other: d_in * <r_i, r_j> = delta_ij.
 * This covers both within-teacher orthonormality and cross-teacher orthogonality,
 * since the M teachers are consecutive blocks of one K x d_in stack. */
static void check_orthonormal(int d_in, int d_out, int M)
{
    size_t K = (size_t)M * d_out;
    double *W = malloc(K * d_in * sizeof *W);
    char err[256] = "";
    int rc = ntas_teachers_orthogonal(d_in, d_out, M, 7, W, err, sizeof err);
    CHECK_MSG(rc == 0, "(%d,%d,%d): %s", d_in, d_out, M, err);
    if (rc == 0) {
        double worst = 0.0;
        for (size_t i = 0; i < K; i++)
            for (size_t j = 0; j <= i; j++) {
                double g = d_in * dot(W + i * d_in, W + j * d_in, d_in);
                double dev = fabs(g - (i == j ? 1.0 : 0.0));
                worst = dev > worst ? dev : worst;
            }
        CHECK_MSG(worst <= 1e-12, "(%d,%d,%d): max |d_in*G - I| = %g", d_in, d_out, M, worst);

        /* Explicitly across teachers: teacher m row i vs teacher p row j. */
        double cross = 0.0;
        for (int m = 0; m < M; m++)
            for (int p = m + 1; p < M; p++)
                for (int i = 0; i < d_out; i++)
                    for (int j = 0; j < d_out; j++) {
                        const double *a = W + ((size_t)m * d_out + i) * d_in;
                        const double *b = W + ((size_t)p * d_out + j) * d_in;
                        double c = fabs(d_in * dot(a, b, d_in));
                        cross = c > cross ? c : cross;
                    }
        CHECK_MSG(cross <= 1e-12, "(%d,%d,%d): max cross-teacher |cos| = %g", d_in, d_out, M,
                  cross);
    }
    free(W);
}

static void test_orthonormal(void)
{
    check_orthonormal(20, 10, 2); /* Fig. 2: square, every row of R used */
    check_orthonormal(20, 6, 3);
    check_orthonormal(64, 10, 2);
    check_orthonormal(1, 1, 1);   /* degenerate but valid: W = +-1 */
    check_orthonormal(10, 1, 10); /* many single-row teachers */
    check_orthonormal(200, 50, 4);
}

static void test_determinism(void)
{
    const int d_in = 20, d_out = 6, M = 3;
    size_t sz = (size_t)M * d_out * d_in;
    double *a = malloc(sz * sizeof *a), *b = malloc(sz * sizeof *b);
    char err[256];
    CHECK(ntas_teachers_orthogonal(d_in, d_out, M, 11, a, err, sizeof err) == 0);
    CHECK(ntas_teachers_orthogonal(d_in, d_out, M, 11, b, err, sizeof err) == 0);
    CHECK(memcmp(a, b, sz * sizeof *a) == 0);

    CHECK(ntas_teachers_orthogonal(d_in, d_out, M, 12, b, err, sizeof err) == 0);
    size_t same = 0;
    for (size_t i = 0; i < sz; i++)
        same += a[i] == b[i];
    CHECK_MSG(same == 0, "%zu of %zu entries equal across seeds", same, sz);

    /* Negative seeds are valid and distinct from their absolute value. */
    CHECK(ntas_teachers_orthogonal(d_in, d_out, M, -11, b, err, sizeof err) == 0);
    CHECK(memcmp(a, b, sz * sizeof *a) != 0);

    /* The stream depends on the shape: (M=2) is not a prefix of (M=3). */
    CHECK(ntas_teachers_orthogonal(d_in, d_out, 2, 11, b, err, sizeof err) == 0);
    CHECK(memcmp(a, b, 2 * (size_t)d_out * d_in * sizeof *a) != 0);
    free(a);
    free(b);
}

static void test_errors(void)
{
    double W[64];
    char err[256] = "";
    CHECK(ntas_teachers_orthogonal(19, 10, 2, 1, W, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "d_in") && strstr(err, "d_out") && strstr(err, "teachers") &&
              strstr(err, "d_in >= teachers*d_out") && strstr(err, "19"), "message: %s", err);

    err[0] = '\0';
    CHECK(ntas_teachers_orthogonal(0, 1, 1, 1, W, err, sizeof err) == -1);
    CHECK(err[0] != '\0');
    CHECK(ntas_teachers_orthogonal(4, -1, 1, 1, W, err, sizeof err) == -1);
    CHECK(ntas_teachers_orthogonal(4, 1, 0, 1, W, err, sizeof err) == -1);
    /* M*d_out overflowing int must still be rejected, not wrap around. */
    CHECK(ntas_teachers_orthogonal(8, 65536, 65536, 1, W, err, sizeof err) == -1);
    /* A NULL or tiny err buffer is tolerated (message truncated). */
    CHECK(ntas_teachers_orthogonal(3, 2, 2, 1, W, NULL, 0) == -1);
    char small[8];
    CHECK(ntas_teachers_orthogonal(3, 2, 2, 1, W, small, sizeof small) == -1);
    CHECK(strlen(small) < sizeof small);
}

/* Haar sanity: an entry of a Haar orthogonal n x n matrix is a coordinate of a
 * uniform unit vector: mean 0, E[x^2] = 1/n, E[x^4] = 3/(n(n+2)). Check them
 * on [0][0] and, since later Gram-Schmidt rows are where a bias would show, on
 * entries of the last row too. Deterministic (fixed seeds); tolerances are
 * ~4 standard errors for 4000 seeds. */
static void test_haar_moments(void)
{
    enum { NSEED = 4000 };
    const int d_in = 20, d_out = 10, M = 2, K = M * d_out;
    double *W = malloc((size_t)K * d_in * sizeof *W);
    char err[256];
    const int idx[3][2] = { { 0, 0 }, { K - 1, d_in - 1 }, { K - 1, 0 } };
    double s1[3] = { 0 }, s2[3] = { 0 }, s4[3] = { 0 };
    const double scale = sqrt((double)d_in); /* undo the 1/sqrt(d_in) */
    for (int seed = 0; seed < NSEED; seed++) {
        if (ntas_teachers_orthogonal(d_in, d_out, M, seed, W, err, sizeof err) != 0) {
            CHECK_MSG(0, "seed %d: %s", seed, err);
            break;
        }
        for (int e = 0; e < 3; e++) {
            double x = scale * W[idx[e][0] * d_in + idx[e][1]];
            s1[e] += x;
            s2[e] += x * x;
            s4[e] += x * x * x * x;
        }
    }
    const double n = d_in;
    for (int e = 0; e < 3; e++) {
        double mean = s1[e] / NSEED, m2 = s2[e] / NSEED, m4 = s4[e] / NSEED;
        CHECK_MSG(fabs(mean) < 0.015, "entry %d: mean %g", e, mean);   /* se 0.0035 */
        CHECK_MSG(fabs(m2 - 1.0 / n) < 0.005, "entry %d: E[x^2] %g vs %g", e, m2, 1.0 / n);
        CHECK_MSG(fabs(m4 - 3.0 / (n * (n + 2))) < 0.0025, "entry %d: E[x^4] %g vs %g", e, m4,
                  3.0 / (n * (n + 2)));
    }
    free(W);
}

int main(void)
{
    test_orthonormal();
    test_determinism();
    test_errors();
    test_haar_moments();
    return CHECK_DONE();
}
