/* test_wishart — the Bartlett sampler against theory (E S = I, Var S_ij =
 * (1 + delta_ij) / B entry by entry), against the explicit X^T X / B route
 * (moments of entries and of log det S), exact symmetry and positive
 * definiteness, the B < d indicator, reproducibility and the cost formulas.
 * Fixed keys throughout: the statistical checks are deterministic. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/core/rng.h"
#include "ntasweep/tasks/wishart.h"
#include "check.h"

static int worst_z_fail;

/* |est - expected| <= 5 standard errors; keeps the worst z for a summary. */
static double zcheck(double est, double expected, double se, const char *what, int i, int j)
{
    double z = (est - expected) / se;
    if (fabs(z) > 5.0) {
        worst_z_fail++;
        fprintf(stderr, "%s[%d][%d] = %.9g, expected %.9g: %.2f standard errors\n", what, i, j,
                est, expected, z);
    }
    return fabs(z);
}

/* In-place Cholesky of a copy; returns log det, or NAN if a pivot is not
 * positive (not positive definite). */
static double chol_logdet(const double *S, int d, double *L)
{
    memcpy(L, S, (size_t)d * (size_t)d * sizeof *L);
    double ld = 0.0;
    for (int j = 0; j < d; j++) {
        double s = L[j * d + j];
        for (int k = 0; k < j; k++)
            s -= L[j * d + k] * L[j * d + k];
        if (!(s > 0.0))
            return NAN;
        double ljj = sqrt(s);
        L[j * d + j] = ljj;
        ld += 2.0 * log(ljj);
        for (int i = j + 1; i < d; i++) {
            double t = L[i * d + j];
            for (int k = 0; k < j; k++)
                t -= L[i * d + k] * L[j * d + k];
            L[i * d + j] = t / ljj;
        }
    }
    return ld;
}

static void test_init(void)
{
    ntas_wishart w;
    char err[256] = "";
    CHECK(ntas_wishart_init(&w, 0, 10, err, sizeof err) == -1 && err[0]);
    CHECK(ntas_wishart_init(&w, 3, 0, err, sizeof err) == -1);
    err[0] = '\0';
    CHECK(ntas_wishart_init(&w, 20, 19, err, sizeof err) == NTAS_WISHART_NEEDS_X);
    CHECK_MSG(strstr(err, "B=19") && strstr(err, "d=20"), "message: %s", err);
    ntas_wishart_free(&w);
    CHECK(ntas_wishart_init(&w, 20, 20, err, sizeof err) == 0);
    ntas_wishart_free(&w);
    CHECK(ntas_wishart_init(&w, 1, 1, err, sizeof err) == 0);
    ntas_wishart_free(&w);
}

/* 20000 draws of d = 20, B = 200: every entry's mean and variance. The
 * standard error of a sample variance is sqrt((mu4 - mu2^2) / N); for
 * S_ii = chi^2_B / B, mu4 - mu2^2 = (8 + 48/B) / B^2, and for S_ij, a mean
 * of B products of independent normals, (2 + 6/B) / B^2. */
static void test_moments(void)
{
    enum { D = 20, BATCH = 200, N = 20000 };
    ntas_wishart w;
    char err[256];
    CHECK(ntas_wishart_init(&w, D, BATCH, err, sizeof err) == 0);
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_stream_key(2024, "wishart-moments"));
    static double S[D * D], L[D * D], s1[D * D], s2[D * D];
    memset(s1, 0, sizeof s1);
    memset(s2, 0, sizeof s2);
    int symmetric = 1, pd = 1;
    for (int t = 0; t < N; t++) {
        ntas_wishart_sample(&w, &rng, S);
        for (int i = 0; i < D; i++)
            for (int j = 0; j < D; j++) {
                double e = S[i * D + j] - (i == j);
                s1[i * D + j] += e;
                s2[i * D + j] += e * e;
                symmetric &= S[i * D + j] == S[j * D + i];
            }
        if (t % 100 == 0)
            pd &= !isnan(chol_logdet(S, D, L));
    }
    CHECK(symmetric);
    CHECK(pd);
    double worst = 0.0;
    const double b = BATCH;
    for (int i = 0; i < D; i++)
        for (int j = 0; j <= i; j++) {
            double var = (1.0 + (i == j)) / b;
            double m = s1[i * D + j] / N;
            /* Central second moment about the known mean. */
            double v = s2[i * D + j] / N;
            double se_v = (i == j ? sqrt(8.0 + 48.0 / b) : sqrt(2.0 + 6.0 / b)) / b / sqrt(N);
            worst = fmax(worst, zcheck(m, 0.0, sqrt(var / N), "mean S - I", i, j));
            worst = fmax(worst, zcheck(v, var, se_v, "var S", i, j));
        }
    printf("d=%d B=%d, %d draws: worst |z| over %d entry means and variances = %.2f\n", D, BATCH,
           N, D * (D + 1), worst);
    CHECK_MSG(worst_z_fail == 0, "%d entries beyond 5 standard errors", worst_z_fail);
    ntas_wishart_free(&w);
}

/* The two routes to S must agree in distribution. Small B (12 for d = 8)
 * is where S is least Gaussian. Compared: every entry's mean and variance,
 * and the mean and variance of log det S, each as a difference of two
 * independent estimates within 5 combined standard errors. */
static void test_against_explicit(void)
{
    enum { D = 8, BATCH = 12, N = 40000 };
    ntas_wishart w;
    char err[256];
    CHECK(ntas_wishart_init(&w, D, BATCH, err, sizeof err) == 0);
    ntas_rng rw, rx;
    ntas_rng_init(&rw, ntas_stream_key(7, "wishart-bartlett"));
    ntas_rng_init(&rx, ntas_stream_key(7, "wishart-explicit"));
    static double S[D * D], X[BATCH * D], L[D * D];
    static double m[2][D * D], m2[2][D * D], m4[2][D * D], logdet[2][N];
    memset(m, 0, sizeof m);
    memset(m2, 0, sizeof m2);
    memset(m4, 0, sizeof m4);
    int pd = 1;
    for (int route = 0; route < 2; route++) {
        for (int t = 0; t < N; t++) {
            if (route == 0) {
                ntas_wishart_sample(&w, &rw, S);
            } else {
                ntas_rng_normal_fill(&rx, X, BATCH * D);
                for (int i = 0; i < D; i++)
                    for (int j = 0; j < D; j++) {
                        double s = 0.0;
                        for (int b = 0; b < BATCH; b++)
                            s += X[b * D + i] * X[b * D + j];
                        S[i * D + j] = s / BATCH;
                    }
            }
            for (int k = 0; k < D * D; k++) {
                double e = S[k] - (k % (D + 1) == 0);
                m[route][k] += e;
                m2[route][k] += e * e;
                m4[route][k] += e * e * e * e;
            }
            logdet[route][t] = chol_logdet(S, D, L);
            pd &= !isnan(logdet[route][t]);
        }
    }
    CHECK(pd);
    double worst = 0.0;
    for (int k = 0; k < D * D; k++) {
        double mean[2], var[2], se_m[2], se_v[2];
        for (int r = 0; r < 2; r++) {
            mean[r] = m[r][k] / N;
            var[r] = m2[r][k] / N; /* about the known mean (E S = I) */
            se_m[r] = sqrt(var[r] / N);
            se_v[r] = sqrt(fmax(m4[r][k] / N - var[r] * var[r], 0.0) / N);
        }
        worst = fmax(worst, zcheck(mean[0] - mean[1], 0.0, hypot(se_m[0], se_m[1]),
                                   "Bartlett - explicit mean", k / D, k % D));
        worst = fmax(worst, zcheck(var[0] - var[1], 0.0, hypot(se_v[0], se_v[1]),
                                   "Bartlett - explicit var", k / D, k % D));
    }
    double lm[2], lv[2], lse[2], lvse[2];
    for (int r = 0; r < 2; r++) {
        double s1 = 0, c2 = 0, c4 = 0;
        for (int t = 0; t < N; t++)
            s1 += logdet[r][t];
        lm[r] = s1 / N;
        for (int t = 0; t < N; t++) {
            double e = logdet[r][t] - lm[r];
            c2 += e * e;
            c4 += e * e * e * e;
        }
        lv[r] = c2 / N;
        lse[r] = sqrt(lv[r] / N);
        lvse[r] = sqrt((c4 / N - lv[r] * lv[r]) / N);
    }
    double zl = zcheck(lm[0] - lm[1], 0.0, hypot(lse[0], lse[1]), "log det mean", 0, 0);
    double zv = zcheck(lv[0] - lv[1], 0.0, hypot(lvse[0], lvse[1]), "log det var", 0, 0);
    /* And both against theory: log det(B S) is a sum of independent
     * log chi^2_{B-i}, so E log det S = sum_i (psi((B-i)/2) + log 2) - d log B
     * and Var log det S = sum_i psi'((B-i)/2). Values for d = 8, B = 12 from
     * digamma/trigamma series (asymptotic expansion after recurrence to x >= 8). */
    const double E_LOGDET = -4.136661057200527, VAR_LOGDET = 2.3501859362378026;
    for (int r = 0; r < 2; r++) {
        zcheck(lm[r], E_LOGDET, lse[r], r ? "explicit log det mean" : "Bartlett log det mean", 0, 0);
        zcheck(lv[r], VAR_LOGDET, lvse[r], r ? "explicit log det var" : "Bartlett log det var", 0, 0);
    }
    printf("d=%d B=%d, %d draws per route: E log det %.5f vs %.5f (theory %.5f), Var %.5f vs "
           "%.5f (theory %.5f); worst |z| entries %.2f, log det %.2f / %.2f\n",
           D, BATCH, N, lm[0], lm[1], E_LOGDET, lv[0], lv[1], VAR_LOGDET, worst, zl, zv);
    CHECK_MSG(worst_z_fail == 0, "%d comparisons beyond 5 standard errors", worst_z_fail);
    ntas_wishart_free(&w);
}

/* B = d (the diagonal reaches chi^2_1) and d = 1 (S = chi^2_B / B) still
 * give symmetric positive definite draws; same key, same draws. */
static void test_edges_and_reproducibility(void)
{
    enum { D = 6 };
    ntas_wishart w;
    char err[256];
    double S[D * D], S2[D * D], L[D * D];
    CHECK(ntas_wishart_init(&w, D, D, err, sizeof err) == 0);
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_stream_key(1, "edge"));
    int ok = 1;
    for (int t = 0; t < 2000; t++) {
        ntas_wishart_sample(&w, &rng, S);
        ok &= !isnan(chol_logdet(S, D, L));
        for (int i = 0; i < D; i++)
            for (int j = 0; j < D; j++)
                ok &= S[i * D + j] == S[j * D + i] && isfinite(S[i * D + j]);
    }
    CHECK_MSG(ok, "B = d: a draw was not symmetric positive definite");

    ntas_rng a, b;
    ntas_rng_init(&a, 99);
    ntas_rng_init(&b, 99);
    ntas_wishart_sample(&w, &a, S);
    ntas_wishart_sample(&w, &b, S2);
    CHECK(memcmp(S, S2, sizeof S) == 0);
    ntas_wishart_sample(&w, &a, S2);
    CHECK(memcmp(S, S2, sizeof S) != 0);
    ntas_wishart_free(&w);

    /* d = 1: S = chi^2_B / B, mean 1, variance 2/B. */
    CHECK(ntas_wishart_init(&w, 1, 5, err, sizeof err) == 0);
    double s1 = 0, s2 = 0;
    enum { N = 100000 };
    for (int t = 0; t < N; t++) {
        ntas_wishart_sample(&w, &rng, S);
        s1 += S[0];
        s2 += (S[0] - 1) * (S[0] - 1);
    }
    zcheck(s1 / N, 1.0, sqrt(0.4 / N), "d=1 mean", 0, 0);
    zcheck(s2 / N, 0.4, sqrt((8.0 + 48.0 / 5) / 25.0 / N), "d=1 var", 0, 0);
    CHECK(worst_z_fail == 0);
    ntas_wishart_free(&w);
}

/* The factor as the header defines it, one fill at a time (no buffer). */
static void factor_reference(int d, int B, ntas_rng *rng, double *A)
{
    const size_t ud = (size_t)d, noff = ud * (ud - 1) / 2;
    double z[64 * 63 / 2 + 64], u[64];
    ntas_rng_normal_fill(rng, z, noff + ud);
    ntas_rng_uniform_fill(rng, u, ud);
    memset(A, 0, ud * ud * sizeof *A);
    const double *zi = z;
    for (size_t i = 1; i < ud; i++)
        for (size_t j = 0; j < i; j++) A[i * ud + j] = *zi++;
    for (int i = 0; i < d; i++) {
        const int k = B - i;
        const double x = z[noff + (size_t)i];
        A[(size_t)i * ud + (size_t)i] = k == 1 ? fabs(x) : sqrt(2.0 * ntas_rng_gamma_primed(rng, 0.5 * k, x, u[i]));
    }
}

/* The buffered draws of ntas_wishart_factor: every factor (and its
 * transpose At) and the stream's state after it bitwise those of separate fills, over draws with rejected
 * gammas (small B: shapes down to 1), a stream moved in between by other
 * draws, another stream on the same sampler, and odd counts (no buffer). */
static void test_buffered_factor(int d, int B, int draws)
{
    ntas_wishart w;
    char err[256];
    CHECK(ntas_wishart_init(&w, d, B, err, sizeof err) == 0);
    double *ref = malloc((size_t)d * (size_t)d * sizeof *ref);
    CHECK(ref != NULL && d <= 64);
    ntas_rng a, b, other_a, other_b;
    ntas_rng_init(&a, ntas_stream_key(5, "buffered"));
    ntas_rng_init(&b, ntas_stream_key(5, "buffered"));
    ntas_rng_init(&other_a, ntas_stream_key(6, "buffered"));
    ntas_rng_init(&other_b, ntas_stream_key(6, "buffered"));
    int same = 1, moved = 0;
    for (int t = 0; t < draws; t++) {
        const int use_other = t % 97 == 50;
        ntas_rng *ra = use_other ? &other_a : &a, *rb = use_other ? &other_b : &b;
        const uint64_t before = ra->block;
        const double *A = ntas_wishart_factor(&w, ra);
        factor_reference(d, B, rb, ref);
        moved += ra->block - before != (uint64_t)w.per_step;
        for (int i = 0; i < d; i++)
            for (int j = 0; j <= i; j++) same &= memcmp(&A[i * d + j], &ref[i * d + j], sizeof *ref) == 0;
        for (int i = 0; i < d; i++) /* At is A's transpose, zeros included (the kernels read both) */
            for (int j = 0; j < d; j++)
                same &= memcmp(&A[i * d + j], &w.At[j * d + i], sizeof *A) == 0 && (j <= i || A[i * d + j] == 0.0);
        same &= memcmp(ra, rb, sizeof *ra) == 0;
        if (t % 61 == 30) { /* other draws move both streams alike */
            same &= ntas_rng_u32(&a) == ntas_rng_u32(&b);
            double za, zb;
            ntas_rng_normal_fill(&a, &za, 1);
            ntas_rng_normal_fill(&b, &zb, 1);
            same &= memcmp(&za, &zb, sizeof za) == 0;
        }
    }
    CHECK_MSG(same, "d %d, B %d: a buffered factor or stream state differs from separate fills", d, B);
    if (B < 3 * d) CHECK_MSG(moved > 0, "d %d, B %d: no draw rejected a gamma (the test misses that case)", d, B);
    free(ref);
    ntas_wishart_free(&w);
}

/* Cost formulas against a hand count for d = 3, B = 5: Bartlett makes 3
 * normals, 3 chi-squares and sum_{i>=j} (j+1) = 1+1+2+1+2+3 = 10
 * multiply-adds; explicit makes 15 normals and 6 entries x 5 = 30. */
static void test_cost(void)
{
    ntas_wishart_cost c = ntas_wishart_cost_bartlett(3, 5);
    CHECK(c.normals == 3 && c.chisq == 3 && c.flops == 20);
    c = ntas_wishart_cost_explicit(3, 5);
    CHECK(c.normals == 15 && c.chisq == 0 && c.flops == 60);
    ntas_wishart_cost b = ntas_wishart_cost_bartlett(20, 200), x = ntas_wishart_cost_explicit(20, 200);
    printf("d=20 B=200 per draw: Bartlett %.0f normals + %.0f chi-squares + %.0f flops; "
           "explicit %.0f normals + %.0f flops\n",
           b.normals, b.chisq, b.flops, x.normals, x.flops);
}

int main(void)
{
    test_buffered_factor(20, 200, 3000); /* Fig. 2 */
    test_buffered_factor(20, 20, 3000);
    test_buffered_factor(6, 7, 3000);
    test_buffered_factor(3, 5, 500); /* odd counts: no buffer */
    test_buffered_factor(1, 1, 100);
    test_init();
    test_moments();
    test_against_explicit();
    test_edges_and_reproducibility();
    test_cost();
    return CHECK_DONE();
}
