/* kernels — the task gradient of one step (see kernels.h). */
#include "ntasweep/train/kernels.h"

#include "ntasweep/train/batch_gemm.h"

#include <cblas.h>
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
 * increasing; G_o. = sum_k P_ok Lt_k. / B, k DECREASING (Lt = L^T). At the
 * Fig. 2 shape the rows are 5 vectors of 4 and the triangle is skipped a
 * whole vector at a time, so some outputs also get exact zeros L_ik = 0
 * (i < k) or Lt_kj = 0 (j < k) added: these come before the output's first
 * real term (that is why the second sum runs down), while its sum is still
 * +0, and leave it +0; so the bits are those of the triangular sums written
 * in kernels.h, whatever the vector width. No fused multiply-adds (ISO C
 * mode: -ffp-contract=off) and no reassociation: the AVX2 copy computes the
 * same bits as the baseline one. */
/* may_alias: the vectors are loaded from and stored to arrays of double. */
typedef double v2d __attribute__((vector_size(16), aligned(8), may_alias));
typedef double v4d __attribute__((vector_size(32), aligned(8), may_alias));

/* The Fig. 2 shape (d_out 10, d_in 20) with rows of NI / W vectors of W
 * lanes, R rows of D at a time: one copy per vector type (v2d baseline,
 * v4d AVX2). 1200 multiplies and 1200 adds of 4 lanes: the AVX2 copy is
 * bound by the two vector ports (~0.34 us; R = 2 and a 512-bit copy
 * measured no faster on this CPU, and fused multiply-adds would give other
 * bits than the baseline copy). */
#define DEFINE_FACTOR_FIG2(name, vec, W, R)                                                       \
    static inline __attribute__((always_inline)) double name(                                     \
        const double *restrict D, const double *restrict L, const double *restrict Lt, int B,    \
        double *restrict G)                                                                       \
    {                                                                                             \
        enum { NO = 10, NI = 20, NV = NI / W };                                                   \
        const double inv_b = 1.0 / B;                                                             \
        vec sq[NV], zero = {0};                                                                   \
        for (int v = 0; v < NV; v++) sq[v] = zero;                                                \
        for (int o0 = 0; o0 < NO; o0 += R) {                                                      \
            vec p[R][NV], g[R][NV];                                                               \
            for (int r = 0; r < R; r++)                                                           \
                for (int v = 0; v < NV; v++) p[r][v] = g[r][v] = zero;                            \
            _Pragma("GCC unroll 20") for (int i = 0; i < NI; i++)                                 \
            {                                                                                     \
                const double *restrict li = L + i * NI; /* nonzero in columns 0 .. i */           \
                for (int r = 0; r < R; r++)                               \
                {                                                                                 \
                    const double a = D[(o0 + r) * NI + i];                                        \
                    for (int v = 0; v <= i / W; v++)                                                \
                    {                                                                             \
                        p[r][v] += a * *(const vec *)(li + W * v);                                \
                    }                                                                             \
                }                                                                                 \
            }                                                                                     \
            _Pragma("GCC unroll 20") for (int k = NI - 1; k >= 0; k--)                            \
            {                                                                                     \
                const double *restrict lk = Lt + k * NI; /* nonzero in columns k .. NI-1 */       \
                for (int r = 0; r < R; r++)                               \
                {                                                                                 \
                    const double a = p[r][k / W][k % W];                                          \
                    _Pragma("GCC unroll 10") for (int v = k / W; v < NV; v++)                     \
                    {                                                                             \
                        g[r][v] += a * *(const vec *)(lk + W * v);                                \
                    }                                                                             \
                }                                                                                 \
            }                                                                                     \
            for (int r = 0; r < R; r++)                                   \
            {                                                                                     \
                _Pragma("GCC unroll 10") for (int v = 0; v < NV; v++)                             \
                {                                                                                 \
                    sq[v] += p[r][v] * p[r][v];                                                   \
                    *(vec *)(G + (o0 + r) * NI + W * v) = g[r][v] * inv_b;                        \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
        double s = 0.0;                                                                           \
        for (int k = 0; k < NI; k++) s += sq[k / W][k % W];                                       \
        return 0.5 * s * inv_b;                                                                   \
    }

DEFINE_FACTOR_FIG2(factor_fig2_v2, v2d, 2, 1)
DEFINE_FACTOR_FIG2(factor_fig2_v4, v4d, 4, 1)

/* Any shape: the same sums, one output at a time. */
static inline __attribute__((always_inline)) double factor_any(const double *restrict D, const double *restrict L,
                                                             int B, int d_out, int d_in, double *restrict P,
                                                             double *restrict G)
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
            for (size_t k = 0; k <= i; k++) p[k] += d[i] * L[i * ni + k];
        for (size_t k = 0; k < ni; k++) lane[k] += p[k] * p[k];
    }
    double s = 0.0;
    for (size_t k = 0; k < ni; k++) s += lane[k];
    for (size_t o = 0; o < no; o++) {
        const double *restrict p = P + o * ni;
        double *restrict g = G + o * ni;
        for (size_t j = 0; j < ni; j++) {
            double sum = 0.0;
            for (size_t k = j + 1; k-- > 0;) sum += p[k] * L[j * ni + k];
            g[j] = sum * inv_b;
        }
    }
    return 0.5 * s * inv_b;
}

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

/* The Fig. 2 shape (2 teachers of 10 modes, 10 x 20) with constant sizes,
 * so the 20 partial sums stay in registers; else the generic loops. */
static inline __attribute__((always_inline)) void svp_any(const double *W, const double *Ut, const double *Vt,
                                                         int d_out, int d_in, int n, double *out, double *wv)
{
    if (d_out == 10 && d_in == 20 && n == 20) {
        double reg[20];
        svp_body(W, Ut, Vt, 10, 20, 20, out, reg);
    } else {
        svp_body(W, Ut, Vt, d_out, d_in, n, out, wv);
    }
}

static void svp_baseline(const double *W, const double *Ut, const double *Vt, int d_out, int d_in, int n,
                         double *out, double *wv)
{
    svp_any(W, Ut, Vt, d_out, d_in, n, out, wv);
}

/* One copy per instruction set. */
static double factor_baseline(const double *D, const double *L_f, const double *Lt_f, int B, int d_out, int d_in,
                              double *scratch, double *G)
{
    if (d_out == 10 && d_in == 20) return factor_fig2_v2(D, L_f, Lt_f, B, G);
    return factor_any(D, L_f, B, d_out, d_in, scratch, G);
}

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define NTAS_KERNELS_X86 1
__attribute__((target("avx2"))) static double factor_avx2(const double *D, const double *L_f, const double *Lt_f,
                                                           int B, int d_out, int d_in, double *scratch, double *G)
{
    if (d_out == 10 && d_in == 20) return factor_fig2_v4(D, L_f, Lt_f, B, G);
    return factor_any(D, L_f, B, d_out, d_in, scratch, G);
}

__attribute__((target("avx2"))) static void svp_avx2(const double *W, const double *Ut, const double *Vt, int d_out,
                                                      int d_in, int n, double *out, double *wv)
{
    svp_any(W, Ut, Vt, d_out, d_in, n, out, wv);
}

#endif

int ntas_kernel_isa_supported(ntas_kernel_isa isa)
{
    switch (isa) {
    case NTAS_KERNEL_BASELINE:
        return 1;
    case NTAS_KERNEL_AVX2:
#ifdef NTAS_KERNELS_X86
        return __builtin_cpu_supports("avx2");
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
    return ntas_kernel_isa_supported(NTAS_KERNEL_AVX2) ? NTAS_KERNEL_AVX2 : NTAS_KERNEL_BASELINE;
}

double ntas_task_grad_factor_with(ntas_kernel_isa isa, const double *D, const double *L_f, const double *Lt_f,
                                  int B, int d_out, int d_in, double *scratch, double *G)
{
#ifdef NTAS_KERNELS_X86
    if (isa == NTAS_KERNEL_AVX2 && ntas_kernel_isa_supported(NTAS_KERNEL_AVX2))
        return factor_avx2(D, L_f, Lt_f, B, d_out, d_in, scratch, G);
#endif
    (void)isa;
    return factor_baseline(D, L_f, Lt_f, B, d_out, d_in, scratch, G);
}

double ntas_task_grad_factor(const double *D, const double *L_f, const double *Lt_f, int B, int d_out, int d_in,
                             double *scratch, double *G)
{
    return ntas_task_grad_factor_with(ntas_kernel_isa_best(), D, L_f, Lt_f, B, d_out, d_in, scratch, G);
}

void ntas_sv_projection_with(ntas_kernel_isa isa, const double *W, const double *Ut, const double *Vt, int d_out,
                             int d_in, int n, double *out, double *scratch)
{
#ifdef NTAS_KERNELS_X86
    if (isa == NTAS_KERNEL_AVX2 && ntas_kernel_isa_supported(NTAS_KERNEL_AVX2)) {
        svp_avx2(W, Ut, Vt, d_out, d_in, n, out, scratch);
        return;
    }
#endif
    (void)isa;
    svp_baseline(W, Ut, Vt, d_out, d_in, n, out, scratch);
}

void ntas_sv_projection(const double *W, const double *Ut, const double *Vt, int d_out, int d_in, int n,
                        double *out, double *scratch)
{
    ntas_sv_projection_with(ntas_kernel_isa_best(), W, Ut, Vt, d_out, d_in, n, out, scratch);
}
