/* test_svd — the teacher SVD (svd.h): A = sum_a s_a u_a v_a^T for tall, wide
 * and square matrices, orthonormal u and v, decreasing singular values, and
 * NaN vectors for the zero modes of a rank-deficient matrix. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ntasweep/core/rng.h"
#include "ntasweep/tasks/svd.h"
#include "check.h"

static void check_svd(const double *A, int m, int n, int rank, const char *what)
{
    const int r = m < n ? m : n;
    double *U = malloc((size_t)r * m * sizeof *U), *s = malloc((size_t)r * sizeof *s);
    double *V = malloc((size_t)r * n * sizeof *V);
    char err[128];
    CHECK_MSG(ntas_svd(A, m, n, U, s, V, err, sizeof err) == 0, "%s: %s", what, err);
    double worst = 0.0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double sum = 0.0;
            for (int a = 0; a < rank; a++) sum += s[a] * U[a * m + i] * V[a * n + j];
            worst = fmax(worst, fabs(sum - A[i * n + j]));
        }
    CHECK_MSG(worst < 1e-12, "%s: reconstruction error %g", what, worst);
    for (int a = 0; a + 1 < r; a++) CHECK_MSG(s[a] >= s[a + 1], "%s: s[%d] %g < s[%d] %g", what, a, s[a], a + 1, s[a + 1]);
    double ortho = 0.0;
    for (int a = 0; a < rank; a++)
        for (int b = 0; b < rank; b++) {
            double uu = 0.0, vv = 0.0;
            for (int i = 0; i < m; i++) uu += U[a * m + i] * U[b * m + i];
            for (int j = 0; j < n; j++) vv += V[a * n + j] * V[b * n + j];
            ortho = fmax(ortho, fmax(fabs(uu - (a == b)), fabs(vv - (a == b))));
        }
    CHECK_MSG(ortho < 1e-12, "%s: orthonormality error %g", what, ortho);
    for (int a = rank; a < r; a++) CHECK_MSG(isnan(U[a * m]) && isnan(V[a * n]), "%s: zero mode %d has vectors", what, a);
    printf("%-28s s_max %.6f, reconstruction %.1e, orthonormality %.1e\n", what, s[0], worst, ortho);
    free(U);
    free(s);
    free(V);
}

int main(void)
{
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_stream_key(7, "test-svd"));
    const int shapes[][2] = {{5, 3}, {3, 5}, {4, 4}, {10, 20}, {2, 1}, {1, 3}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const int m = shapes[k][0], n = shapes[k][1];
        double *A = malloc((size_t)m * n * sizeof *A);
        ntas_rng_normal_fill(&rng, A, (size_t)m * n);
        char what[64];
        snprintf(what, sizeof what, "random %d x %d", m, n);
        check_svd(A, m, n, m < n ? m : n, what);
        free(A);
    }
    /* Rank 2 in 4 x 6: the outer products of two random pairs. */
    double A[24] = {0}, x[8], y[12];
    ntas_rng_normal_fill(&rng, x, 8);
    ntas_rng_normal_fill(&rng, y, 12);
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 6; j++) A[i * 6 + j] += x[k * 4 + i] * y[k * 6 + j];
    check_svd(A, 4, 6, 2, "rank 2 of 4 x 6");
    /* A scaled orthogonal matrix: every singular value equal. */
    const double Q[4] = {0.6, -0.8, 0.8, 0.6};
    double S[4];
    for (int i = 0; i < 4; i++) S[i] = 3.0 * Q[i];
    check_svd(S, 2, 2, 2, "3 x orthogonal 2 x 2");
    return CHECK_DONE();
}
