/* test_teachers — orthogonal teachers: orthonormality of all rows (scaled by
 * 1/sqrt(d_in)), determinism in the seed, input errors, and a Haar sanity
 * check on the entries' moments. Correlated teachers: exact pairwise row
 * cosines. Low-rank teachers: exact rank, singular values and disjointness.
 * Composites: every entry exactly as defined; the full task list. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "ntasweep/tasks/teachers.h"
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

/* Correlated: every pair of the K = M*d_out rows (within and across
 * teachers) has cosine rho, every row has norm 1/sqrt(d_in); rho = 0 is
 * bitwise the orthogonal family; the construction works at d_in = K. */
static void test_correlated(void)
{
    const int cfgs[][3] = { { 20, 10, 2 }, { 20, 6, 3 }, { 7, 1, 7 }, { 64, 10, 2 } };
    const double rhos[] = { 0.0, 0.1, 0.25, 0.5, 0.9, 0.999 };
    for (size_t c = 0; c < sizeof cfgs / sizeof cfgs[0]; c++) {
        const int d_in = cfgs[c][0], d_out = cfgs[c][1], M = cfgs[c][2], K = M * d_out;
        double *W = malloc((size_t)K * d_in * sizeof *W), *O = malloc((size_t)K * d_in * sizeof *O);
        char err[256] = "";
        CHECK(ntas_teachers_orthogonal(d_in, d_out, M, 5, O, err, sizeof err) == 0);
        for (size_t r = 0; r < sizeof rhos / sizeof rhos[0]; r++) {
            int rc = ntas_teachers_correlated(d_in, d_out, M, rhos[r], 5, W, err, sizeof err);
            CHECK_MSG(rc == 0, "%s", err);
            double worst_cos = 0.0, worst_norm = 0.0;
            for (int i = 0; i < K; i++) {
                const double *a = W + (size_t)i * d_in;
                worst_norm = fmax(worst_norm, fabs(d_in * dot(a, a, d_in) - 1.0));
                for (int j = 0; j < i; j++) {
                    const double *b = W + (size_t)j * d_in;
                    double cs = dot(a, b, d_in) / sqrt(dot(a, a, d_in) * dot(b, b, d_in));
                    worst_cos = fmax(worst_cos, fabs(cs - rhos[r]));
                }
            }
            CHECK_MSG(worst_cos < 1e-12 && worst_norm < 1e-12, "(%d,%d,%d) rho=%g: cos dev %g, norm dev %g",
                      d_in, d_out, M, rhos[r], worst_cos, worst_norm);
            if (rhos[r] == 0.0)
                CHECK(memcmp(W, O, (size_t)K * d_in * sizeof *W) == 0);
        }
        free(W);
        free(O);
    }
    double W[64];
    char err[256] = "";
    CHECK(ntas_teachers_correlated(20, 10, 2, 1.0, 1, W, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "rho") != NULL, "%s", err);
    CHECK(ntas_teachers_correlated(20, 10, 2, -0.1, 1, W, err, sizeof err) == -1);
    CHECK(ntas_teachers_correlated(20, 10, 2, NAN, 1, W, err, sizeof err) == -1);
    CHECK(ntas_teachers_correlated(19, 10, 2, 0.5, 1, W, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "d_in >= teachers*d_out") != NULL, "%s", err);
}

/* Low-rank: G = W W^T is s^2 times an orthogonal projector of rank r
 * (G^2 = s^2 G and tr G = r s^2), so the singular values are exactly r times
 * s = 1/sqrt(d_in) and the rest 0; the same for W^T W; across teachers both
 * W_m W_m'^T and W_m^T W_m' vanish (disjoint U and V). */
/* The authors' Fig. A.13 teachers: unit rows (before 1/sqrt(d_in)) whose
 * pairwise cosines are random with the mean and spread of their log (d_in 20,
 * 20 rows: rho 0.25 / 0.5 / 0.75 -> mean 0.274 / 0.486 / 0.737, sd 0.193 /
 * 0.143 / 0.086; one draw each). Averaged over 40 teacher seeds here, the
 * mean must come within 0.05 of rho and the sd within 0.05 of theirs; rho = 1
 * gives identical rows, rho = 0 the orthogonal teachers. */
static void test_correlated_random(void)
{
    enum { D_IN = 20, D_OUT = 10, M = 2, K = M * D_OUT, SEEDS = 40 };
    const double rhos[3] = {0.25, 0.5, 0.75}, their_sd[3] = {0.193, 0.143, 0.086};
    double W[K * D_IN], O[K * D_IN];
    char err[256];
    for (int r = 0; r < 3; r++) {
        double sum = 0.0, sq = 0.0;
        long n = 0;
        for (int s = 0; s < SEEDS; s++) {
            CHECK(ntas_teachers_correlated_random(D_IN, D_OUT, M, rhos[r], s, W, err, sizeof err) == 0);
            for (int k = 0; k < K; k++) {
                CHECK_NEAR(dot(W + k * D_IN, W + k * D_IN, D_IN), 1.0 / D_IN, 1e-14);
                for (int l = k + 1; l < K; l++) {
                    double cs = dot(W + k * D_IN, W + l * D_IN, D_IN) * D_IN;
                    sum += cs;
                    sq += cs * cs;
                    n++;
                }
            }
        }
        double mean = sum / n, sd = sqrt(sq / n - mean * mean);
        CHECK_MSG(fabs(mean - rhos[r]) < 0.05, "rho %g: mean row cosine %g", rhos[r], mean);
        CHECK_MSG(fabs(sd - their_sd[r]) < 0.05, "rho %g: sd of row cosines %g, theirs %g", rhos[r], sd, their_sd[r]);
    }
    CHECK(ntas_teachers_correlated_random(D_IN, D_OUT, M, 1.0, 3, W, err, sizeof err) == 0);
    for (int k = 1; k < K; k++)
        for (int i = 0; i < D_IN; i++) CHECK(W[k * D_IN + i] == W[i]);
    CHECK(ntas_teachers_correlated_random(D_IN, D_OUT, M, 0.0, 3, W, err, sizeof err) == 0);
    CHECK(ntas_teachers_orthogonal(D_IN, D_OUT, M, 3, O, err, sizeof err) == 0);
    CHECK(memcmp(W, O, sizeof W) == 0);
    CHECK(ntas_teachers_correlated_random(D_IN, D_OUT, M, 1.01, 3, W, err, sizeof err) == -1);
    CHECK(ntas_teachers_correlated_random(D_IN, D_OUT, M, NAN, 3, W, err, sizeof err) == -1);
    CHECK(ntas_teachers_correlated_random(19, D_OUT, M, 0.5, 3, W, err, sizeof err) == -1);
    ntas_teacher_opts o;
    ntas_teacher_opts_init(&o, D_IN, D_OUT, M, 3);
    o.family = NTAS_TEACHERS_CORRELATED_RANDOM;
    o.rho = 1.0;
    CHECK(ntas_teachers_count(&o, err, sizeof err) == M);
    o.rho = 1.5;
    CHECK(ntas_teachers_count(&o, err, sizeof err) == -1);
}

static void check_lowrank(int d_in, int d_out, int M, int r)
{
    const size_t en = (size_t)d_out * d_in;
    double *W = malloc((size_t)M * en * sizeof *W);
    const size_t big = (size_t)(d_in > d_out ? d_in : d_out);
    double *G = malloc(big * big * sizeof *G), *G2 = malloc(big * big * sizeof *G2);
    char err[256] = "";
    int rc = ntas_teachers_lowrank(d_in, d_out, M, r, 3, W, err, sizeof err);
    CHECK_MSG(rc == 0, "(%d,%d,%d,%d): %s", d_in, d_out, M, r, err);
    if (rc != 0)
        goto done;
    const double s2 = 1.0 / d_in;
    double worst = 0.0;
    for (int m = 0; m < M; m++) {
        const double *A = W + m * en;
        for (int side = 0; side < 2; side++) {
            /* side 0: G = A A^T (d_out x d_out); side 1: G = A^T A (d_in x d_in). */
            int n = side ? d_in : d_out, k = side ? d_out : d_in;
            if (side)
                cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, n, k, 1.0, A, d_in, A, d_in, 0.0, G, n);
            else
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, k, 1.0, A, d_in, A, d_in, 0.0, G, n);
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, G, n, G, n, 0.0, G2, n);
            double tr = 0.0;
            for (int i = 0; i < n; i++) tr += G[i * n + i];
            for (int i = 0; i < n * n; i++) worst = fmax(worst, fabs(G2[i] - s2 * G[i]) / s2 / s2);
            CHECK_MSG(fabs(tr / s2 - r) < 1e-11, "(%d,%d,%d,%d) m=%d: trace/s^2 = %.15g", d_in, d_out, M, r, m, tr / s2);
        }
        for (int q = 0; q < M; q++) {
            if (q == m) continue;
            const double *B = W + q * en;
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d_out, d_out, d_in, 1.0, A, d_in, B, d_in, 0.0, G, d_out);
            for (int i = 0; i < d_out * d_out; i++) worst = fmax(worst, fabs(G[i]) / s2);
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d_in, d_in, d_out, 1.0, A, d_in, B, d_in, 0.0, G, d_in);
            for (int i = 0; i < d_in * d_in; i++) worst = fmax(worst, fabs(G[i]) / s2);
        }
    }
    CHECK_MSG(worst < 1e-12, "(%d,%d,%d,%d): projector / disjointness deviation %g", d_in, d_out, M, r, worst);
done:
    free(W);
    free(G);
    free(G2);
}

static void test_lowrank(void)
{
    check_lowrank(20, 10, 2, 1);
    check_lowrank(20, 10, 2, 5);   /* the most modes that fit: M*r = d_out */
    check_lowrank(30, 30, 2, 15);  /* Fig. A.2 sizes, full rank per teacher */
    check_lowrank(30, 30, 2, 2);
    check_lowrank(10, 20, 3, 3);   /* d_in < d_out */
    check_lowrank(4, 4, 4, 1);

    /* Nested ranks at one seed: W(r=2) - W(r=1) is the second mode alone,
     * orthogonal to the first on both sides. */
    const int d_in = 20, d_out = 10, M = 2;
    const size_t en = (size_t)d_out * d_in;
    double *W1 = malloc(M * en * sizeof *W1), *W2 = malloc(M * en * sizeof *W2);
    double G[20 * 20];
    char err[256];
    CHECK(ntas_teachers_lowrank(d_in, d_out, M, 1, 9, W1, err, sizeof err) == 0);
    CHECK(ntas_teachers_lowrank(d_in, d_out, M, 2, 9, W2, err, sizeof err) == 0);
    double worst = 0.0;
    for (int m = 0; m < M; m++) {
        double *D = W2 + m * en;
        const double *A = W1 + m * en;
        for (size_t i = 0; i < en; i++) D[i] -= A[i];
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d_out, d_out, d_in, 1.0, A, d_in, D, d_in, 0.0, G, d_out);
        for (int i = 0; i < d_out * d_out; i++) worst = fmax(worst, fabs(G[i]) * d_in);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d_in, d_in, d_out, 1.0, A, d_in, D, d_in, 0.0, G, d_in);
        for (int i = 0; i < d_in * d_in; i++) worst = fmax(worst, fabs(G[i]) * d_in);
        double fro = 0.0;
        for (size_t i = 0; i < en; i++) fro += D[i] * D[i];
        CHECK_NEAR(fro * d_in, 1.0, 1e-12); /* one singular value s = 1/sqrt(d_in) */
    }
    CHECK_MSG(worst < 1e-12, "nested ranks: overlap %g", worst);
    free(W1);
    free(W2);

    double W[400];
    CHECK(ntas_teachers_lowrank(20, 10, 2, 6, 1, W, err, sizeof err) == -1); /* 12 > d_out */
    CHECK_MSG(strstr(err, "rank") && strstr(err, "min(d_in, d_out)"), "%s", err);
    CHECK(ntas_teachers_lowrank(20, 10, 2, 11, 1, W, err, sizeof err) == -1); /* r > d_out */
    CHECK(ntas_teachers_lowrank(5, 10, 2, 3, 1, W, err, sizeof err) == -1);  /* 6 > d_in */
    CHECK(ntas_teachers_lowrank(20, 10, 2, 0, 1, W, err, sizeof err) == -1);
}

/* Composites: exact entries, counts, and the wrap-around of the last one. */
static void test_composites(void)
{
    CHECK(ntas_composite_count(NTAS_COMPOSE_NONE, 3) == 0);
    CHECK(ntas_composite_count(NTAS_COMPOSE_TASK, 1) == 0);
    CHECK(ntas_composite_count(NTAS_COMPOSE_TASK, 2) == 1);
    CHECK(ntas_composite_count(NTAS_COMPOSE_TASK, 3) == 3);
    CHECK(ntas_composite_count(NTAS_COMPOSE_SUBTASK, 4) == 4);
    CHECK(ntas_composite_count(7, 4) == -1);

    const int d_in = 20, d_out = 5, M = 3;
    const size_t en = (size_t)d_out * d_in;
    double base[3 * 100], comp[3 * 100];
    char err[256];
    CHECK(ntas_teachers_orthogonal(d_in, d_out, M, 2, base, err, sizeof err) == 0);
    CHECK(ntas_teachers_compose(NTAS_COMPOSE_TASK, base, M, d_out, d_in, 0.5, comp, err, sizeof err) == 3);
    int bad = 0;
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < en; i++)
            bad += comp[k * en + i] != 0.5 * base[k * en + i] + 0.5 * base[((k + 1) % 3) * en + i];
    CHECK_MSG(bad == 0, "%d task-composite entries differ", bad);
    /* AB with mix 0.3: 0.3 A + 0.7 B. */
    CHECK(ntas_teachers_compose(NTAS_COMPOSE_TASK, base, 2, d_out, d_in, 0.3, comp, err, sizeof err) == 1);
    bad = 0;
    for (size_t i = 0; i < en; i++) bad += comp[i] != 0.3 * base[i] + (1.0 - 0.3) * base[en + i];
    CHECK(bad == 0);

    CHECK(ntas_teachers_compose(NTAS_COMPOSE_SUBTASK, base, M, d_out, d_in, 0.5, comp, err, sizeof err) == 3);
    bad = 0;
    for (int k = 0; k < 3; k++)
        for (int r = 0; r < d_out; r++) {
            const double *src = base + (r % 2 ? (k + 1) % 3 : k) * en + r * d_in;
            bad += memcmp(comp + k * en + r * d_in, src, d_in * sizeof(double)) != 0;
        }
    CHECK_MSG(bad == 0, "%d subtask-composite rows differ", bad);
    /* Subtask composites of orthogonal teachers keep orthonormal rows. */
    for (int r = 0; r < d_out; r++)
        CHECK_NEAR(d_in * dot(comp + r * d_in, comp + r * d_in, d_in), 1.0, 1e-12);

    CHECK(ntas_teachers_compose(NTAS_COMPOSE_TASK, base, M, d_out, d_in, 1.5, comp, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "mix") != NULL, "%s", err);
    CHECK(ntas_teachers_compose(9, base, M, d_out, d_in, 0.5, comp, err, sizeof err) == -1);
}

/* The options API: counts, base-then-composites layout, validation. */
static void test_build(void)
{
    ntas_teacher_opts o;
    char err[256] = "";
    const int d_in = 20, d_out = 6, M = 3;
    const size_t en = (size_t)d_out * d_in;
    double all[6 * 120], base[3 * 120], comp[3 * 120];

    ntas_teacher_opts_init(&o, d_in, d_out, M, 4);
    CHECK(ntas_teachers_count(&o, err, sizeof err) == 3);
    CHECK(ntas_teachers_build(&o, all, err, sizeof err) == 3);
    CHECK(ntas_teachers_orthogonal(d_in, d_out, M, 4, base, err, sizeof err) == 0);
    CHECK(memcmp(all, base, 3 * en * sizeof(double)) == 0);

    const int families[] = { NTAS_TEACHERS_ORTHOGONAL, NTAS_TEACHERS_CORRELATED, NTAS_TEACHERS_LOWRANK };
    for (int f = 0; f < 3; f++)
        for (int compose = 1; compose <= 2; compose++) {
            ntas_teacher_opts_init(&o, d_in, d_out, M, 4);
            o.family = families[f];
            o.rho = 0.3;
            o.rank = 2;
            o.compose = compose;
            int n = ntas_teachers_build(&o, all, err, sizeof err);
            CHECK_MSG(n == 6, "family %d compose %d: %d (%s)", f, compose, n, err);
            int rc = f == 0 ? ntas_teachers_orthogonal(d_in, d_out, M, 4, base, err, sizeof err)
                   : f == 1 ? ntas_teachers_correlated(d_in, d_out, M, 0.3, 4, base, err, sizeof err)
                            : ntas_teachers_lowrank(d_in, d_out, M, 2, 4, base, err, sizeof err);
            CHECK(rc == 0);
            CHECK(ntas_teachers_compose(compose, base, M, d_out, d_in, 0.5, comp, err, sizeof err) == 3);
            CHECK(memcmp(all, base, 3 * en * sizeof(double)) == 0);
            CHECK(memcmp(all + 3 * en, comp, 3 * en * sizeof(double)) == 0);
            /* Same options, same teachers. */
            double again[6 * 120];
            CHECK(ntas_teachers_build(&o, again, err, sizeof err) == 6);
            CHECK(memcmp(all, again, 6 * en * sizeof(double)) == 0);
        }

    /* unit_scale: every task sqrt(d_in) times the fan_in one (composites
     * included), so the orthogonal teachers' singular values are 1. */
    for (int f = 0; f < 3; f++) {
        double unit[6 * 120];
        ntas_teacher_opts_init(&o, d_in, d_out, M, 4);
        o.family = families[f];
        o.rho = 0.3;
        o.rank = 2;
        o.compose = NTAS_COMPOSE_TASK;
        CHECK(ntas_teachers_build(&o, all, err, sizeof err) == 6);
        o.unit_scale = 1;
        CHECK(ntas_teachers_build(&o, unit, err, sizeof err) == 6);
        double worst = 0.0;
        for (size_t i = 0; i < 6 * en; i++)
            worst = fmax(worst, fabs(unit[i] - sqrt((double)d_in) * all[i]));
        CHECK_MSG(worst < 1e-12, "family %d: unit vs sqrt(d_in) * fan_in differ by %g", f, worst);
    }
    ntas_teacher_opts_init(&o, d_in, d_out, M, 4);
    o.unit_scale = 1;
    CHECK(ntas_teachers_build(&o, all, err, sizeof err) == 3);
    for (int r = 0; r < 3 * d_out; r++) {
        double sq = 0.0;
        for (int j = 0; j < d_in; j++) sq += all[(size_t)r * d_in + j] * all[(size_t)r * d_in + j];
        CHECK_MSG(fabs(sq - 1.0) < 1e-12, "unit orthogonal row %d has norm^2 %g", r, sq);
    }

    /* Validation. */
    ntas_teacher_opts_init(&o, d_in, d_out, 1, 0);
    o.compose = NTAS_COMPOSE_TASK;
    CHECK(ntas_teachers_count(&o, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "at least 2") != NULL, "%s", err);
    ntas_teacher_opts_init(&o, 10, 6, 2, 0);
    CHECK(ntas_teachers_count(&o, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "d_in >= teachers*d_out") != NULL, "%s", err);
    o.family = NTAS_TEACHERS_LOWRANK;
    o.rank = 3;
    CHECK(ntas_teachers_count(&o, err, sizeof err) == 2); /* 2*3 <= min(10, 6) */
    o.rank = 4;
    CHECK(ntas_teachers_count(&o, err, sizeof err) == -1);
    o.family = NTAS_TEACHERS_CORRELATED;
    o.d_in = 20;
    o.rho = 1.0;
    CHECK(ntas_teachers_count(&o, err, sizeof err) == -1);
    o.family = 17;
    CHECK(ntas_teachers_count(&o, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "family") != NULL, "%s", err);
    ntas_teacher_opts_init(&o, 20, 6, 3, 0);
    o.compose = NTAS_COMPOSE_TASK;
    o.mix = -0.5;
    CHECK(ntas_teachers_build(&o, all, err, sizeof err) == -1);
    o.compose = 5;
    CHECK(ntas_teachers_build(&o, all, err, sizeof err) == -1);
}

int main(void)
{
    test_orthonormal();
    test_determinism();
    test_errors();
    test_haar_moments();
    test_correlated();
    test_correlated_random();
    test_lowrank();
    test_composites();
    test_build();
    return CHECK_DONE();
}

