/* svd — one-sided Jacobi SVD. See svd.h. */
#include "ntasweep/tasks/svd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/core/err.h"

enum { MAX_SWEEPS = 60 };

/* Rotates the k rows of B (length L each) pairwise until they are
 * orthogonal, applying the same rotations to the k x k rows of R (starting
 * at I): afterwards B = R A0 with orthogonal rows (Hestenes). */
static void orthogonalize_rows(double *B, int k, int L, double *R)
{
    for (int i = 0; i < k * k; i++) R[i] = 0.0;
    for (int i = 0; i < k; i++) R[i * k + i] = 1.0;
    for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
        int rotated = 0;
        for (int j = 0; j < k; j++)
            for (int l = j + 1; l < k; l++) {
                double *bj = B + (size_t)j * L, *bl = B + (size_t)l * L;
                double alpha = 0.0, beta = 0.0, gamma = 0.0;
                for (int i = 0; i < L; i++) {
                    alpha += bj[i] * bj[i];
                    beta += bl[i] * bl[i];
                    gamma += bj[i] * bl[i];
                }
                if (fabs(gamma) <= 1e-15 * sqrt(alpha * beta) || gamma == 0.0) continue;
                rotated = 1;
                double zeta = (beta - alpha) / (2.0 * gamma);
                double t = (zeta >= 0 ? 1.0 : -1.0) / (fabs(zeta) + sqrt(1.0 + zeta * zeta));
                double c = 1.0 / sqrt(1.0 + t * t), s = c * t;
                for (int i = 0; i < L; i++) {
                    double x = bj[i], y = bl[i];
                    bj[i] = c * x - s * y;
                    bl[i] = s * x + c * y;
                }
                double *rj = R + (size_t)j * k, *rl = R + (size_t)l * k;
                for (int i = 0; i < k; i++) {
                    double x = rj[i], y = rl[i];
                    rj[i] = c * x - s * y;
                    rl[i] = s * x + c * y;
                }
            }
        if (!rotated) break;
    }
}

int ntas_svd(const double *A, int m, int n, double *U, double *s, double *V, char *err, size_t errlen)
{
    /* m >= n: the n columns of A are the rows to orthogonalize (A^T);
     * m < n: the m rows of A (the SVD of A^T, then u and v swap). */
    const int tall = m >= n, k = tall ? n : m, L = tall ? m : n;
    double *B = malloc((size_t)k * (size_t)L * sizeof *B), *R = malloc((size_t)k * (size_t)k * sizeof *R);
    double *norm = malloc((size_t)k * sizeof *norm);
    int *order = malloc((size_t)k * sizeof *order);
    if (!B || !R || !norm || !order) {
        free(B);
        free(R);
        free(norm);
        free(order);
        ntas_set_err(err, errlen, "out of memory for the SVD of a %d x %d teacher", m, n);
        return -1;
    }
    for (int j = 0; j < k; j++)
        for (int i = 0; i < L; i++) B[(size_t)j * L + i] = tall ? A[(size_t)i * n + j] : A[(size_t)j * n + i];
    orthogonalize_rows(B, k, L, R);
    double top = 0.0;
    for (int j = 0; j < k; j++) {
        double sq = 0.0;
        for (int i = 0; i < L; i++) sq += B[(size_t)j * L + i] * B[(size_t)j * L + i];
        norm[j] = sqrt(sq);
        if (norm[j] > top) top = norm[j];
        order[j] = j;
    }
    /* Insertion sort, decreasing and stable. */
    for (int j = 1; j < k; j++)
        for (int i = j; i > 0 && norm[order[i]] > norm[order[i - 1]]; i--) {
            int t = order[i];
            order[i] = order[i - 1];
            order[i - 1] = t;
        }
    for (int a = 0; a < k; a++) {
        const int j = order[a];
        const double sv = norm[j], *b = B + (size_t)j * L, *rot = R + (size_t)j * k;
        const int zero = !(sv > 1e-12 * top);
        double *u = U + (size_t)a * m, *v = V + (size_t)a * n;
        s[a] = sv;
        /* B row j = s u_j (tall) or s v_j; R row j is the other vector. */
        for (int i = 0; i < L; i++) (tall ? u : v)[i] = zero ? NAN : b[i] / sv;
        for (int i = 0; i < k; i++) (tall ? v : u)[i] = zero ? NAN : rot[i];
    }
    free(B);
    free(R);
    free(norm);
    free(order);
    return 0;
}
