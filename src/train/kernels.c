/* kernels — the task gradient of one step (see kernels.h). */
#include "ntasweep/train/kernels.h"

#include "ntasweep/core/err.h"
#include "ntasweep/train/batch_gemm.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

void ntas_task_grad_batch_g(const double *D, const double *X, int B, int d_out, int d_in, double *E, double *G)
{
    /* E = X D^T = Y - Y* (Y* = X T^T is never formed), then G = E^T X / B:
     * our own fixed-order kernels (batch_gemm.h), not BLAS. */
    ntas_batch_gemm(D, X, B, d_out, d_in, E, G);
}

double ntas_batch_loss(const double *E, int B, int d_out)
{
    const size_t n = (size_t)B * (size_t)d_out;
    double sq = 0.0;
    for (size_t i = 0; i < n; i++) sq += E[i] * E[i];
    return 0.5 * sq / B;
}

double ntas_batch_loss_approx(const double *E, int B, int d_out, double *rel_err)
{
    const size_t n = (size_t)B * (size_t)d_out;
    /* Any order of summing n products of nonnegative terms is within
     * gamma_n = n u / (1 - n u) of the exact sum (u = 2^-53, Higham 2002,
     * Sec. 3.1), so two orders differ by at most ~2 gamma_n relative; the
     * two divisions add an ulp each. Twice that again for slack. */
    *rel_err = 4.0 * ((double)n + 4.0) * 0x1p-53;
    return 0.5 * cblas_ddot((int)n, E, 1, E, 1) / B;
}

double ntas_task_grad_batch(const double *D, const double *X, int B, int d_out, int d_in, double *E,
                            double *G)
{
    ntas_task_grad_batch_g(D, X, B, d_out, d_in, E, G);
    return ntas_batch_loss(E, B, d_out);
}

/* sum_i a_i b_i over n values in 8 fixed lanes (lane i % 8), the lanes then
 * added in order: the same bits at any vector width, and no serial chain of
 * n dependent additions. */
static double dot_lanes(const double *a, const double *b, size_t n)
{
    double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) lane[l] += a[i + (size_t)l] * b[i + (size_t)l];
    for (int l = 0; i < n; i++, l++) lane[l] += a[i] * b[i];
    double s = 0.0;
    for (int l = 0; l < 8; l++) s += lane[l];
    return s;
}

/* G = D S: row o of G is sum_i D_oi S_i., i increasing; the inner loop runs
 * along a row of S (contiguous, independent outputs: it vectorises). The
 * constant sizes of the inline copy below let the compiler unroll it. */
static inline __attribute__((always_inline)) void moment_product(const double *D, const double *S,
                                                                 int d_out, int d_in, double *G)
{
    for (int o = 0; o < d_out; o++) {
        double *g = G + (size_t)o * (size_t)d_in;
        const double *dr = D + (size_t)o * (size_t)d_in;
        for (int j = 0; j < d_in; j++) g[j] = 0.0;
        for (int i = 0; i < d_in; i++) {
            const double a = dr[i];
            const double *s = S + (size_t)i * (size_t)d_in;
            for (int j = 0; j < d_in; j++) g[j] += a * s[j];
        }
    }
}

double ntas_task_grad_moment(const double *D, const double *S, int d_out, int d_in, double *G)
{
    const size_t en = (size_t)d_out * (size_t)d_in;
    if (!S)
        memcpy(G, D, en * sizeof *G);
    else if (d_out == 10 && d_in == 20)
        moment_product(D, S, 10, 20, G); /* the Fig. 2 shape */
    else
        moment_product(D, S, d_out, d_in, G);
    /* L = 1/2 tr(D S D^T) = 1/2 <D S, D> (S symmetric). */
    return 0.5 * dot_lanes(G, D, en);
}

/* The factor form. P = D L row by row of D: P_o. = sum_i D_oi L_i., i
 * increasing; G_o. = sum_k P_ok Lt_k. / B, k DECREASING (Lt = L^T); every
 * multiply-add fused (one rounding: C's fma() in the portable copy, the FMA
 * instructions in the vector copies, which compute the same correctly
 * rounded value). The vector copies run across the 20 columns and skip the
 * triangle a whole vector at a time, so some outputs also get exact zeros
 * L_ik = 0 (i < k) or Lt_kj = 0 (j < k) multiplied in: these come before
 * the output's first real term (that is why the second sum runs down),
 * while its sum is still +0, and fma(a, 0, +0) = +0 leaves it so; hence the
 * bits are those of the triangular sums written in kernels.h at any vector
 * width. No other contraction (-ffp-contract=off) and no reassociation. */

/* Any shape, portable: the reference order, one output at a time. */
static double factor_any(const double *restrict D, const double *restrict L, int B, int d_out, int d_in,
                         double *restrict P, double *restrict G)
{
    const size_t no = (size_t)d_out, ni = (size_t)d_in;
    const double inv_b = 1.0 / B;
    double *restrict lane = G + (no - 1) * ni; /* ||P||^2 per column k, over o; G's last row, written last */
    for (size_t k = 0; k < ni; k++) lane[k] = 0.0;
    for (size_t o = 0; o < no; o++) {
        const double *restrict d = D + o * ni;
        double *restrict p = P + o * ni;
        for (size_t k = 0; k < ni; k++) p[k] = 0.0;
        for (size_t i = 0; i < ni; i++)
            for (size_t k = 0; k <= i; k++) p[k] = fma(d[i], L[i * ni + k], p[k]);
        for (size_t k = 0; k < ni; k++) lane[k] = fma(p[k], p[k], lane[k]);
    }
    double s = 0.0;
    for (size_t k = 0; k < ni; k++) s += lane[k];
    for (size_t o = 0; o < no; o++) {
        const double *restrict p = P + o * ni;
        double *restrict g = G + o * ni;
        for (size_t j = 0; j < ni; j++) {
            double sum = 0.0;
            for (size_t k = j + 1; k-- > 0;) sum = fma(p[k], L[j * ni + k], sum);
            g[j] = sum * inv_b;
        }
    }
    return 0.5 * s * inv_b;
}

#if defined(__GNUC__) && defined(__x86_64__)
#define NTAS_KERNELS_X86 1
#include <immintrin.h>

/* The Fig. 2 shape (d_out 10, d_in 20), AVX2: a row is 5 vectors of 4,
 * 2 rows of D at a time (independent chains hide the FMA latency; 1, 5
 * and 10 rows measured slower). 1200 4-lane FMAs per call. */
enum { FIG2_NO = 10, FIG2_NI = 20 };
__attribute__((target("avx2,fma"))) static double factor_fig2_avx2(const double *restrict D,
                                                                   const double *restrict L,
                                                                   const double *restrict Lt, int B,
                                                                   double *restrict G)
{
    enum { NO = FIG2_NO, NI = FIG2_NI, NV = NI / 4, R = 2 };
    const double inv_b = 1.0 / B;
    const __m256d vinv = _mm256_set1_pd(inv_b);
    __m256d sq[NV];
    for (int v = 0; v < NV; v++) sq[v] = _mm256_setzero_pd();
    for (int o0 = 0; o0 < NO; o0 += R) {
        __m256d p[R][NV], g[R][NV];
        double pm[R][NI];
        for (int r = 0; r < R; r++)
            for (int v = 0; v < NV; v++) p[r][v] = g[r][v] = _mm256_setzero_pd();
        _Pragma("GCC unroll 20") for (int i = 0; i < NI; i++) {
            for (int r = 0; r < R; r++) {
                const __m256d a = _mm256_set1_pd(D[(o0 + r) * NI + i]);
                for (int v = 0; v <= i / 4; v++) p[r][v] = _mm256_fmadd_pd(a, _mm256_loadu_pd(L + i * NI + 4 * v), p[r][v]);
            }
        }
        for (int r = 0; r < R; r++)
            for (int v = 0; v < NV; v++) {
                _mm256_storeu_pd(pm[r] + 4 * v, p[r][v]);
                sq[v] = _mm256_fmadd_pd(p[r][v], p[r][v], sq[v]);
            }
        _Pragma("GCC unroll 20") for (int k = NI - 1; k >= 0; k--) {
            for (int r = 0; r < R; r++) {
                const __m256d a = _mm256_broadcast_sd(&pm[r][k]);
                for (int v = k / 4; v < NV; v++) g[r][v] = _mm256_fmadd_pd(a, _mm256_loadu_pd(Lt + k * NI + 4 * v), g[r][v]);
            }
        }
        for (int r = 0; r < R; r++)
            for (int v = 0; v < NV; v++) _mm256_storeu_pd(G + (o0 + r) * NI + 4 * v, _mm256_mul_pd(g[r][v], vinv));
    }
    double lane[NI], s = 0.0;
    for (int v = 0; v < NV; v++) _mm256_storeu_pd(lane + 4 * v, sq[v]);
    for (int k = 0; k < NI; k++) s += lane[k];
    return 0.5 * s * inv_b;
}

/* The same, AVX-512: a row is columns 0-7 and 8-15 in 8-lane vectors and
 * 16-19 in a 4-lane one, so the triangle is skipped 8 columns at a time:
 * 360 + 360 vector FMAs per call instead of 600 + 600, 5 rows of D at a
 * time (1 row measured slower, 2 and 10 the same). On this project's Xeon
 * a single call is no faster than the AVX2 copy (~0.22 us each, `ntasweep
 * bench`), but whole Wishart runs are ~6 % faster with it (1.35 against
 * 1.44 us of CPU per step, best of 10 runs, four alternations): half the
 * instructions leave more room for the step's other work. */
__attribute__((target("avx512f,avx512vl,avx2,fma"))) static double factor_fig2_avx512(const double *restrict D,
                                                                                    const double *restrict L,
                                                                                    const double *restrict Lt,
                                                                                    int B, double *restrict G)
{
    enum { NO = FIG2_NO, NI = FIG2_NI, R = 5 };
    const double inv_b = 1.0 / B;
    __m512d sq0 = _mm512_setzero_pd(), sq1 = _mm512_setzero_pd();
    __m256d sq2 = _mm256_setzero_pd();
    for (int o0 = 0; o0 < NO; o0 += R) {
        __m512d p0[R], p1[R], g0[R], g1[R];
        __m256d p2[R], g2[R];
        double pm[R][NI];
        for (int r = 0; r < R; r++) {
            p0[r] = p1[r] = g0[r] = g1[r] = _mm512_setzero_pd();
            p2[r] = g2[r] = _mm256_setzero_pd();
        }
        _Pragma("GCC unroll 20") for (int i = 0; i < NI; i++) {
            const double *li = L + i * NI; /* nonzero in columns 0 .. i */
            for (int r = 0; r < R; r++) {
                const double a = D[(o0 + r) * NI + i];
                p0[r] = _mm512_fmadd_pd(_mm512_set1_pd(a), _mm512_loadu_pd(li), p0[r]);
                if (i >= 8) p1[r] = _mm512_fmadd_pd(_mm512_set1_pd(a), _mm512_loadu_pd(li + 8), p1[r]);
                if (i >= 16) p2[r] = _mm256_fmadd_pd(_mm256_set1_pd(a), _mm256_loadu_pd(li + 16), p2[r]);
            }
        }
        for (int r = 0; r < R; r++) {
            _mm512_storeu_pd(pm[r], p0[r]);
            _mm512_storeu_pd(pm[r] + 8, p1[r]);
            _mm256_storeu_pd(pm[r] + 16, p2[r]);
            sq0 = _mm512_fmadd_pd(p0[r], p0[r], sq0);
            sq1 = _mm512_fmadd_pd(p1[r], p1[r], sq1);
            sq2 = _mm256_fmadd_pd(p2[r], p2[r], sq2);
        }
        _Pragma("GCC unroll 20") for (int k = NI - 1; k >= 0; k--) {
            const double *lk = Lt + k * NI; /* nonzero in columns k .. NI-1 */
            for (int r = 0; r < R; r++) {
                const double a = pm[r][k];
                g2[r] = _mm256_fmadd_pd(_mm256_set1_pd(a), _mm256_loadu_pd(lk + 16), g2[r]);
                if (k < 16) g1[r] = _mm512_fmadd_pd(_mm512_set1_pd(a), _mm512_loadu_pd(lk + 8), g1[r]);
                if (k < 8) g0[r] = _mm512_fmadd_pd(_mm512_set1_pd(a), _mm512_loadu_pd(lk), g0[r]);
            }
        }
        for (int r = 0; r < R; r++) {
            double *gr = G + (o0 + r) * NI;
            _mm512_storeu_pd(gr, _mm512_mul_pd(g0[r], _mm512_set1_pd(inv_b)));
            _mm512_storeu_pd(gr + 8, _mm512_mul_pd(g1[r], _mm512_set1_pd(inv_b)));
            _mm256_storeu_pd(gr + 16, _mm256_mul_pd(g2[r], _mm256_set1_pd(inv_b)));
        }
    }
    double lane[NI], s = 0.0;
    _mm512_storeu_pd(lane, sq0);
    _mm512_storeu_pd(lane + 8, sq1);
    _mm256_storeu_pd(lane + 16, sq2);
    for (int k = 0; k < NI; k++) s += lane[k];
    return 0.5 * s * inv_b;
}
#endif

/* sv_projection: out_c = sum_i Ut_ic (sum_j W_ij Vt_jc), j and i increasing,
 * each output on its own (kernels.h); the loops over c are across
 * independent outputs, so they vectorise without changing any output's
 * order. */
static inline __attribute__((always_inline)) void svp_body(const double *restrict W, const double *restrict Ut,
                                                          const double *restrict Vt, int d_out, int d_in, int n,
                                                          double *restrict out, double *restrict wv)
{
    for (int c = 0; c < n; c++) out[c] = 0.0;
    for (int i = 0; i < d_out; i++) {
        for (int c = 0; c < n; c++) wv[c] = 0.0;
        for (int j = 0; j < d_in; j++) {
            const double w = W[(size_t)i * (size_t)d_in + (size_t)j];
            const double *restrict vt = Vt + (size_t)j * (size_t)n;
            for (int c = 0; c < n; c++) wv[c] += w * vt[c];
        }
        const double *restrict ut = Ut + (size_t)i * (size_t)n;
        for (int c = 0; c < n; c++) out[c] += ut[c] * wv[c];
    }
}

/* The Fig. 2 shape (2 teachers of 10 modes, 10 x 20): in the vector copies
 * R rows of W at a time, their R x 20 partial sums W_i. Vt held in
 * registers, so R independent chains hide the add latency (one row at a
 * time is latency-bound). Multiply, then add: no fused multiply-add, so
 * each output keeps the plain order of svp_body (j increasing inside a
 * row, rows i increasing into out) and its bits. */
enum { SVP_NO = 10, SVP_NI = 20, SVP_N = 20 };

static inline __attribute__((always_inline)) int svp_is_fig2(int d_out, int d_in, int n)
{
    return d_out == SVP_NO && d_in == SVP_NI && n == SVP_N;
}

static void svp_baseline(const double *W, const double *Ut, const double *Vt, int d_out, int d_in, int n,
                         double *out, double *wv)
{
    svp_body(W, Ut, Vt, d_out, d_in, n, out, wv);
}

#ifdef NTAS_KERNELS_X86
/* AVX2: a row of sums is 5 ymm, 2 rows at a time (10 of 16 registers). */
__attribute__((target("avx2"))) static void svp_fig2_avx2(const double *restrict W, const double *restrict Ut,
                                                           const double *restrict Vt, double *restrict out)
{
    enum { R = 2, NV = SVP_N / 4 };
    __m256d o[NV];
    for (int v = 0; v < NV; v++) o[v] = _mm256_setzero_pd();
    for (int i0 = 0; i0 < SVP_NO; i0 += R) {
        __m256d s[R][NV];
        for (int r = 0; r < R; r++)
            for (int v = 0; v < NV; v++) s[r][v] = _mm256_setzero_pd();
        for (int j = 0; j < SVP_NI; j++) {
            const double *vt = Vt + j * SVP_N;
            for (int r = 0; r < R; r++) {
                const __m256d w = _mm256_set1_pd(W[(i0 + r) * SVP_NI + j]);
                for (int v = 0; v < NV; v++)
                    s[r][v] = _mm256_add_pd(s[r][v], _mm256_mul_pd(w, _mm256_loadu_pd(vt + 4 * v)));
            }
        }
        for (int r = 0; r < R; r++)
            for (int v = 0; v < NV; v++)
                o[v] = _mm256_add_pd(o[v], _mm256_mul_pd(_mm256_loadu_pd(Ut + (i0 + r) * SVP_N + 4 * v), s[r][v]));
    }
    for (int v = 0; v < NV; v++) _mm256_storeu_pd(out + 4 * v, o[v]);
}

/* AVX-512: a row of sums is columns 0-7, 8-15 (zmm) and 16-19 (ymm), 5 rows
 * at a time (15 of 32 registers). */
__attribute__((target("avx512f,avx512vl,avx2"))) static void svp_fig2_avx512(const double *restrict W,
                                                                              const double *restrict Ut,
                                                                              const double *restrict Vt,
                                                                              double *restrict out)
{
    enum { R = 5 };
    __m512d o0 = _mm512_setzero_pd(), o1 = _mm512_setzero_pd();
    __m256d o2 = _mm256_setzero_pd();
    for (int i0 = 0; i0 < SVP_NO; i0 += R) {
        __m512d s0[R], s1[R];
        __m256d s2[R];
        for (int r = 0; r < R; r++) {
            s0[r] = s1[r] = _mm512_setzero_pd();
            s2[r] = _mm256_setzero_pd();
        }
        for (int j = 0; j < SVP_NI; j++) {
            const double *vt = Vt + j * SVP_N;
            const __m512d v0 = _mm512_loadu_pd(vt), v1 = _mm512_loadu_pd(vt + 8);
            const __m256d v2 = _mm256_loadu_pd(vt + 16);
            for (int r = 0; r < R; r++) {
                const double w = W[(i0 + r) * SVP_NI + j];
                s0[r] = _mm512_add_pd(s0[r], _mm512_mul_pd(_mm512_set1_pd(w), v0));
                s1[r] = _mm512_add_pd(s1[r], _mm512_mul_pd(_mm512_set1_pd(w), v1));
                s2[r] = _mm256_add_pd(s2[r], _mm256_mul_pd(_mm256_set1_pd(w), v2));
            }
        }
        for (int r = 0; r < R; r++) {
            const double *ut = Ut + (i0 + r) * SVP_N;
            o0 = _mm512_add_pd(o0, _mm512_mul_pd(_mm512_loadu_pd(ut), s0[r]));
            o1 = _mm512_add_pd(o1, _mm512_mul_pd(_mm512_loadu_pd(ut + 8), s1[r]));
            o2 = _mm256_add_pd(o2, _mm256_mul_pd(_mm256_loadu_pd(ut + 16), s2[r]));
        }
    }
    _mm512_storeu_pd(out, o0);
    _mm512_storeu_pd(out + 8, o1);
    _mm256_storeu_pd(out + 16, o2);
}

__attribute__((target("avx2"))) static void svp_avx2(const double *W, const double *Ut, const double *Vt, int d_out,
                                                      int d_in, int n, double *out, double *wv)
{
    svp_body(W, Ut, Vt, d_out, d_in, n, out, wv);
}
#endif

int ntas_kernel_isa_supported(ntas_kernel_isa isa)
{
    switch (isa) {
    case NTAS_KERNEL_BASELINE:
        return 1;
    case NTAS_KERNEL_AVX2:
#ifdef NTAS_KERNELS_X86
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
        return 0;
#endif
    case NTAS_KERNEL_AVX512:
#ifdef NTAS_KERNELS_X86
        return ntas_kernel_isa_supported(NTAS_KERNEL_AVX2) && __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512vl");
#else
        return 0;
#endif
    }
    return 0;
}

ntas_kernel_isa ntas_kernel_isa_best(void)
{
    /* __builtin_cpu_supports reads a word libgcc fills at start-up: cheap
     * enough to ask every step. */
    if (ntas_kernel_isa_supported(NTAS_KERNEL_AVX512)) return NTAS_KERNEL_AVX512;
    return ntas_kernel_isa_supported(NTAS_KERNEL_AVX2) ? NTAS_KERNEL_AVX2 : NTAS_KERNEL_BASELINE;
}

const char *ntas_kernel_isa_name(ntas_kernel_isa isa)
{
    switch (isa) {
    case NTAS_KERNEL_BASELINE: return "portable";
    case NTAS_KERNEL_AVX2: return "avx2";
    case NTAS_KERNEL_AVX512: return "avx512";
    }
    return "unknown";
}

int ntas_kernel_isa_request(const char *name, ntas_kernel_isa *isa, char *err, size_t errlen)
{
    const ntas_kernel_isa best = ntas_kernel_isa_best();
    *isa = best;
    if (!name || !name[0]) return 0;
    for (int k = NTAS_KERNEL_BASELINE; k <= NTAS_KERNEL_AVX512; k++) {
        if (strcmp(name, ntas_kernel_isa_name((ntas_kernel_isa)k)) != 0) continue;
        if (!ntas_kernel_isa_supported((ntas_kernel_isa)k)) {
            ntas_set_err(err, errlen, "NTASWEEP_KERNELS=%s: this CPU lacks %s; using %s", name, name,
                         ntas_kernel_isa_name(best));
            return -1;
        }
        *isa = (ntas_kernel_isa)k;
        return 0;
    }
    ntas_set_err(err, errlen, "NTASWEEP_KERNELS=%s: unknown (portable, avx2 or avx512); using %s", name,
                 ntas_kernel_isa_name(best));
    return -1;
}

/* The process's choice: -1 (the best) until ntas_kernel_isa_use. The one
 * piece of state of the numeric layer; it cannot change a bit (kernels.h). */
static int kernel_isa_chosen = -1;

void ntas_kernel_isa_use(ntas_kernel_isa isa)
{
    kernel_isa_chosen = ntas_kernel_isa_supported(isa) ? (int)isa : -1;
}

ntas_kernel_isa ntas_kernel_isa_active(void)
{
    return kernel_isa_chosen < 0 ? ntas_kernel_isa_best() : (ntas_kernel_isa)kernel_isa_chosen;
}

double ntas_task_grad_factor_with(ntas_kernel_isa isa, const double *D, const double *L_f, const double *Lt_f,
                                  int B, int d_out, int d_in, double *scratch, double *G)
{
#ifdef NTAS_KERNELS_X86
    if (d_out == FIG2_NO && d_in == FIG2_NI && ntas_kernel_isa_supported(isa)) {
        if (isa == NTAS_KERNEL_AVX512) return factor_fig2_avx512(D, L_f, Lt_f, B, G);
        if (isa == NTAS_KERNEL_AVX2) return factor_fig2_avx2(D, L_f, Lt_f, B, G);
    }
#endif
    (void)isa;
    (void)Lt_f;
    return factor_any(D, L_f, B, d_out, d_in, scratch, G);
}

double ntas_task_grad_factor(const double *D, const double *L_f, const double *Lt_f, int B, int d_out, int d_in,
                             double *scratch, double *G)
{
    return ntas_task_grad_factor_with(ntas_kernel_isa_active(), D, L_f, Lt_f, B, d_out, d_in, scratch, G);
}

void ntas_sv_projection_with(ntas_kernel_isa isa, const double *W, const double *Ut, const double *Vt, int d_out,
                             int d_in, int n, double *out, double *scratch)
{
#ifdef NTAS_KERNELS_X86
    if (isa != NTAS_KERNEL_BASELINE && ntas_kernel_isa_supported(NTAS_KERNEL_AVX2)) {
        if (!svp_is_fig2(d_out, d_in, n))
            svp_avx2(W, Ut, Vt, d_out, d_in, n, out, scratch);
        else if (isa == NTAS_KERNEL_AVX512 && ntas_kernel_isa_supported(NTAS_KERNEL_AVX512))
            svp_fig2_avx512(W, Ut, Vt, out);
        else
            svp_fig2_avx2(W, Ut, Vt, out);
        return;
    }
#endif
    (void)isa;
    svp_baseline(W, Ut, Vt, d_out, d_in, n, out, scratch);
}

void ntas_sv_projection(const double *W, const double *Ut, const double *Vt, int d_out, int d_in, int n,
                        double *out, double *scratch)
{
    ntas_sv_projection_with(ntas_kernel_isa_active(), W, Ut, Vt, d_out, d_in, n, out, scratch);
}
