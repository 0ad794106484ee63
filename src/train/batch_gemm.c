/* batch_gemm — E = X D^T and G = E^T X / B in a fixed order (batch_gemm.h).
 *
 * Why not BLAS: at the Fig. 2 shape (200 x 20 x 10) OpenBLAS spent ~4 us
 * per step on 160 kflop, in packing and in kernels shaped for larger
 * products, and its summation order (so the bits of every sampled result)
 * depended on the BLAS build and the CPU kernel it picked. The order here
 * is the one OpenBLAS 0.3.21's AVX-512 (SKYLAKEX) kernels use at these
 * shapes (one fma chain per output, k increasing, alpha applied last), so
 * results computed with them keep their bits; its Haswell kernels and other
 * BLAS libraries summed some shapes differently, and now agree with it. */
#include "ntasweep/train/batch_gemm.h"

#include <math.h>
#include <stddef.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define NTAS_X86_GEMM 1
#include <immintrin.h>
#else
#define NTAS_X86_GEMM 0
#endif

/* D^T on the stack up to this many entries (d_out 10 x d_in 200); larger
 * shapes run E one output at a time (the same chains, slower). */
#define DT_MAX 2048

/* Any shape, any instruction set: the inner loops run across independent
 * outputs (o for E, i for G), each output's chain in the order of
 * batch_gemm.h; the compiler vectorises them for the copy's target. */
static inline __attribute__((always_inline)) void gemm_any(const double *restrict D, const double *restrict X,
                                                          int B, int d_out, int d_in, double *restrict E,
                                                          double *restrict G)
{
    const size_t no = (size_t)d_out, ni = (size_t)d_in, nb = (size_t)B;
    if (no * ni <= DT_MAX) {
        double Dt[DT_MAX];
        for (size_t o = 0; o < no; o++)
            for (size_t i = 0; i < ni; i++) Dt[i * no + o] = D[o * ni + i];
        for (size_t b = 0; b < nb; b++) {
            double *restrict e = E + b * no;
            const double *restrict x = X + b * ni;
            for (size_t o = 0; o < no; o++) e[o] = 0.0;
            for (size_t i = 0; i < ni; i++) {
                const double xi = x[i];
                const double *restrict dt = Dt + i * no;
                for (size_t o = 0; o < no; o++) e[o] = fma(xi, dt[o], e[o]);
            }
        }
    } else {
        for (size_t b = 0; b < nb; b++)
            for (size_t o = 0; o < no; o++) {
                double acc = 0.0;
                for (size_t i = 0; i < ni; i++) acc = fma(X[b * ni + i], D[o * ni + i], acc);
                E[b * no + o] = acc;
            }
    }
    for (size_t k = 0; k < no * ni; k++) G[k] = 0.0;
    for (size_t b = 0; b < nb; b++) {
        const double *restrict x = X + b * ni;
        for (size_t o = 0; o < no; o++) {
            const double e = E[b * no + o];
            double *restrict g = G + o * ni;
            for (size_t i = 0; i < ni; i++) g[i] = fma(e, x[i], g[i]);
        }
    }
    const double inv_b = 1.0 / B;
    for (size_t k = 0; k < no * ni; k++) G[k] *= inv_b;
}

static void gemm_portable(const double *D, const double *X, int B, int d_out, int d_in, double *E, double *G)
{
    gemm_any(D, X, B, d_out, d_in, E, G);
}

#if NTAS_X86_GEMM
/* The vector copies, any shape whose D^T fits DT_MAX: E in chunks of W
 * outputs o (the last one masked) for RE rows b at a time, each row's chunk
 * in one register, i = 0 .. d_in - 1 with X_bi broadcast against the
 * chunk of row i of D^T (zero-padded to whole chunks); G in groups of up
 * to three chunks of W outputs i (the last one masked) for RG rows o at a
 * time, b = 0 .. B - 1 with E_bo broadcast against the chunks of row b of
 * X. At the Fig. 2 shape (d_out 10, d_in 20) the AVX-512 copy is one
 * masked pass-pair for E and two passes of 5 x 3 registers for G (the
 * AVX-512 copy has a hand-written one for that shape, below); the
 * always-inline bodies are instantiated with those sizes as constants. */
#define RE 8
#define RG 5

__attribute__((target("avx512f,fma"))) static inline __attribute__((always_inline)) void
gemm512_body(const double *restrict D, const double *restrict X, int B, int d_out, int d_in, double *restrict E,
             double *restrict G)
{
    enum { W = 8 };
    const int P = (d_out + W - 1) / W * W;
    double Dt[DT_MAX];
    for (int i = 0; i < d_in; i++)
        for (int o = 0; o < P; o++) Dt[i * P + o] = o < d_out ? D[o * d_in + i] : 0.0;
    for (int c = 0; c < d_out; c += W) {
        const __mmask8 m = d_out - c >= W ? 0xff : (__mmask8)((1u << (d_out - c)) - 1);
        for (int b0 = 0; b0 < B; b0 += RE) {
            const int R = B - b0 < RE ? B - b0 : RE;
            const double *x = X + (size_t)b0 * (size_t)d_in;
            __m512d a[RE];
            for (int r = 0; r < RE; r++) a[r] = _mm512_setzero_pd();
            for (int i = 0; i < d_in; i++) {
                const __m512d d = _mm512_loadu_pd(Dt + i * P + c);
                for (int r = 0; r < RE; r++)
                    if (r < R) a[r] = _mm512_fmadd_pd(_mm512_set1_pd(x[r * d_in + i]), d, a[r]);
            }
            for (int r = 0; r < R; r++) _mm512_mask_storeu_pd(E + (size_t)(b0 + r) * (size_t)d_out + c, m, a[r]);
        }
    }
    const __m512d inv_b = _mm512_set1_pd(1.0 / B);
    for (int c0 = 0; c0 < d_in; c0 += 3 * W) {
        __mmask8 m[3];
        int nk = 0;
        for (int k = 0; k < 3; k++) {
            const int left = d_in - c0 - k * W;
            m[k] = left >= W ? 0xff : left > 0 ? (__mmask8)((1u << left) - 1) : 0;
            if (left > 0) nk = k + 1;
        }
        for (int o0 = 0; o0 < d_out; o0 += RG) {
            const int R = d_out - o0 < RG ? d_out - o0 : RG;
            __m512d g[RG][3];
            for (int r = 0; r < RG; r++)
                for (int k = 0; k < 3; k++) g[r][k] = _mm512_setzero_pd();
            for (int b = 0; b < B; b++) {
                const double *x = X + (size_t)b * (size_t)d_in + c0;
                const double *e = E + (size_t)b * (size_t)d_out + o0;
                __m512d xv[3];
                for (int k = 0; k < 3; k++) xv[k] = k < nk ? _mm512_maskz_loadu_pd(m[k], x + k * W) : _mm512_setzero_pd();
                for (int r = 0; r < RG; r++) {
                    if (r >= R) break;
                    const __m512d er = _mm512_set1_pd(e[r]);
                    for (int k = 0; k < 3; k++)
                        if (k < nk) g[r][k] = _mm512_fmadd_pd(er, xv[k], g[r][k]);
                }
            }
            for (int r = 0; r < R; r++)
                for (int k = 0; k < nk; k++)
                    _mm512_mask_storeu_pd(G + (size_t)(o0 + r) * (size_t)d_in + c0 + k * W, m[k],
                                          _mm512_mul_pd(g[r][k], inv_b));
        }
    }
}

__attribute__((target("avx2,fma"))) static inline __attribute__((always_inline)) __m256i mask256(int left)
{
    const __m256i lane = _mm256_set_epi64x(3, 2, 1, 0);
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(left), lane); /* lane < left: all ones */
}

__attribute__((target("avx2,fma"))) static inline __attribute__((always_inline)) void
gemm256_body(const double *restrict D, const double *restrict X, int B, int d_out, int d_in, double *restrict E,
             double *restrict G)
{
    enum { W = 4 };
    const int P = (d_out + W - 1) / W * W;
    double Dt[DT_MAX];
    for (int i = 0; i < d_in; i++)
        for (int o = 0; o < P; o++) Dt[i * P + o] = o < d_out ? D[o * d_in + i] : 0.0;
    for (int c = 0; c < d_out; c += W) {
        const __m256i m = mask256(d_out - c);
        for (int b0 = 0; b0 < B; b0 += RE) {
            const int R = B - b0 < RE ? B - b0 : RE;
            const double *x = X + (size_t)b0 * (size_t)d_in;
            __m256d a[RE];
            for (int r = 0; r < RE; r++) a[r] = _mm256_setzero_pd();
            for (int i = 0; i < d_in; i++) {
                const __m256d d = _mm256_loadu_pd(Dt + i * P + c);
                for (int r = 0; r < RE; r++)
                    if (r < R) a[r] = _mm256_fmadd_pd(_mm256_set1_pd(x[r * d_in + i]), d, a[r]);
            }
            for (int r = 0; r < R; r++) _mm256_maskstore_pd(E + (size_t)(b0 + r) * (size_t)d_out + c, m, a[r]);
        }
    }
    const __m256d inv_b = _mm256_set1_pd(1.0 / B);
    for (int c0 = 0; c0 < d_in; c0 += 3 * W) {
        __m256i m[3];
        int nk = 0;
        for (int k = 0; k < 3; k++) {
            const int left = d_in - c0 - k * W;
            m[k] = mask256(left);
            if (left > 0) nk = k + 1;
        }
        for (int o0 = 0; o0 < d_out; o0 += RG) {
            const int R = d_out - o0 < RG ? d_out - o0 : RG;
            __m256d g[RG][3];
            for (int r = 0; r < RG; r++)
                for (int k = 0; k < 3; k++) g[r][k] = _mm256_setzero_pd();
            for (int b = 0; b < B; b++) {
                const double *x = X + (size_t)b * (size_t)d_in + c0;
                const double *e = E + (size_t)b * (size_t)d_out + o0;
                __m256d xv[3];
                for (int k = 0; k < 3; k++) xv[k] = k < nk ? _mm256_maskload_pd(x + k * W, m[k]) : _mm256_setzero_pd();
                for (int r = 0; r < RG; r++) {
                    if (r >= R) break;
                    const __m256d er = _mm256_set1_pd(e[r]);
                    for (int k = 0; k < 3; k++)
                        if (k < nk) g[r][k] = _mm256_fmadd_pd(er, xv[k], g[r][k]);
                }
            }
            for (int r = 0; r < R; r++)
                for (int k = 0; k < nk; k++)
                    _mm256_maskstore_pd(G + (size_t)(o0 + r) * (size_t)d_in + c0 + k * W, m[k],
                                        _mm256_mul_pd(g[r][k], inv_b));
        }
    }
}

/* The Fig. 2 shape (d_out 10, d_in 20) by hand in AVX-512: E for 8 rows b
 * at a time, each row's 10 outputs in a zmm (o 0..7) and an xmm (o 8, 9)
 * that share the broadcast of X_bi, so X is read once; G as in the
 * generic body, with the last chunk of i (16..19) in a ymm. */
__attribute__((target("avx512f,fma"))) static inline void f2_e_rows(const double *restrict Dt8,
                                                                     const double *restrict Dt2,
                                                                     const double *restrict X, int R,
                                                                     double *restrict E)
{
    __m512d a[8];
    __m128d t[8];
    for (int r = 0; r < 8; r++) {
        a[r] = _mm512_setzero_pd();
        t[r] = _mm_setzero_pd();
    }
    for (int i = 0; i < 20; i++) {
        const __m512d d8 = _mm512_loadu_pd(Dt8 + 8 * i);
        const __m128d d2 = _mm_loadu_pd(Dt2 + 2 * i);
        for (int r = 0; r < 8; r++) {
            if (r >= R) break;
            const double x = X[r * 20 + i];
            a[r] = _mm512_fmadd_pd(_mm512_set1_pd(x), d8, a[r]);
            t[r] = _mm_fmadd_pd(_mm_set1_pd(x), d2, t[r]);
        }
    }
    for (int r = 0; r < R; r++) {
        _mm512_storeu_pd(E + r * 10, a[r]);
        _mm_storeu_pd(E + r * 10 + 8, t[r]);
    }
}

__attribute__((target("avx512f,fma"))) static void gemm_fig2_avx512(const double *restrict D,
                                                                     const double *restrict X, int B,
                                                                     double *restrict E, double *restrict G)
{
    double Dt8[8 * 20], Dt2[2 * 20];
    for (int i = 0; i < 20; i++) {
        for (int o = 0; o < 8; o++) Dt8[8 * i + o] = D[o * 20 + i];
        for (int o = 0; o < 2; o++) Dt2[2 * i + o] = D[(8 + o) * 20 + i];
    }
    int b = 0;
    for (; b + 8 <= B; b += 8) f2_e_rows(Dt8, Dt2, X + (size_t)b * 20, 8, E + (size_t)b * 10);
    if (b < B) f2_e_rows(Dt8, Dt2, X + (size_t)b * 20, B - b, E + (size_t)b * 10);

    const __m512d inv_b = _mm512_set1_pd(1.0 / B);
    for (int o0 = 0; o0 < 10; o0 += 5) {
        __m512d g0[5], g1[5];
        __m256d g2[5];
        for (int r = 0; r < 5; r++) {
            g0[r] = g1[r] = _mm512_setzero_pd();
            g2[r] = _mm256_setzero_pd();
        }
        for (int bb = 0; bb < B; bb++) {
            const double *x = X + (size_t)bb * 20;
            const __m512d x0 = _mm512_loadu_pd(x), x1 = _mm512_loadu_pd(x + 8);
            const __m256d x2 = _mm256_loadu_pd(x + 16);
            const double *e = E + (size_t)bb * 10 + o0;
            for (int r = 0; r < 5; r++) {
                const __m512d er = _mm512_set1_pd(e[r]);
                g0[r] = _mm512_fmadd_pd(er, x0, g0[r]);
                g1[r] = _mm512_fmadd_pd(er, x1, g1[r]);
                g2[r] = _mm256_fmadd_pd(_mm512_castpd512_pd256(er), x2, g2[r]);
            }
        }
        for (int r = 0; r < 5; r++) {
            double *g = G + (size_t)(o0 + r) * 20;
            _mm512_storeu_pd(g, _mm512_mul_pd(g0[r], inv_b));
            _mm512_storeu_pd(g + 8, _mm512_mul_pd(g1[r], inv_b));
            _mm256_storeu_pd(g + 16, _mm256_mul_pd(g2[r], _mm512_castpd512_pd256(inv_b)));
        }
    }
}

/* The Fig. 2 shape by hand in AVX2 (4 doubles a register, 16 registers):
 * every FMA instruction fills all four lanes, 10 000 for E and 10 000 for G
 * where the generic body issues 12 000 and 15 000, so the pair is bound by
 * the two FMA ports (~10 000 cycles) rather than by half-empty registers.
 * E: 4 rows b at a time; a row's o 0..7 in two ymm, and the o 8, 9 of two
 * rows share one ymm (lanes b0:8, b0:9, b1:8, b1:9) against D^T's rows 8, 9
 * repeated, X_b0i and X_b1i blended into the halves. 10 accumulators and
 * 3 rows of D^T in registers: one chain per output, i increasing. */
__attribute__((target("avx2,fma"))) static inline void f2_e_rows4(const double *restrict Dt8,
                                                                   const double *restrict Dt22,
                                                                   const double *restrict X, double *restrict E)
{
    __m256d a[4][2], t[2];
    for (int r = 0; r < 4; r++) a[r][0] = a[r][1] = _mm256_setzero_pd();
    t[0] = t[1] = _mm256_setzero_pd();
    for (int i = 0; i < 20; i++) {
        const __m256d d0 = _mm256_loadu_pd(Dt8 + 8 * i), d1 = _mm256_loadu_pd(Dt8 + 8 * i + 4);
        const __m256d d2 = _mm256_loadu_pd(Dt22 + 4 * i);
        for (int q = 0; q < 2; q++) {
            const __m256d x0 = _mm256_broadcast_sd(X + 2 * q * 20 + i);
            const __m256d x1 = _mm256_broadcast_sd(X + (2 * q + 1) * 20 + i);
            a[2 * q][0] = _mm256_fmadd_pd(x0, d0, a[2 * q][0]);
            a[2 * q][1] = _mm256_fmadd_pd(x0, d1, a[2 * q][1]);
            a[2 * q + 1][0] = _mm256_fmadd_pd(x1, d0, a[2 * q + 1][0]);
            a[2 * q + 1][1] = _mm256_fmadd_pd(x1, d1, a[2 * q + 1][1]);
            /* Lanes 0, 1 from row 2q, 2, 3 from row 2q + 1: a blend, no load. */
            t[q] = _mm256_fmadd_pd(_mm256_blend_pd(x0, x1, 0xc), d2, t[q]);
        }
    }
    for (int r = 0; r < 4; r++) {
        _mm256_storeu_pd(E + r * 10, a[r][0]);
        _mm256_storeu_pd(E + r * 10 + 4, a[r][1]);
    }
    for (int q = 0; q < 2; q++) {
        _mm_storeu_pd(E + 2 * q * 10 + 8, _mm256_castpd256_pd128(t[q]));
        _mm_storeu_pd(E + (2 * q + 1) * 10 + 8, _mm256_extractf128_pd(t[q], 1));
    }
}

/* G: 2 rows o at a time, each row's 20 outputs i in five ymm (all lanes
 * used), b = 0 .. B - 1: per b five loads of X's row, two broadcasts of E
 * and 10 FMAs into 10 independent chains (enough to cover the FMA latency
 * on both ports). */
__attribute__((target("avx2,fma"))) static void f2_g_avx2(const double *restrict E, const double *restrict X,
                                                          int B, double *restrict G)
{
    const __m256d inv_b = _mm256_set1_pd(1.0 / B);
    for (int o0 = 0; o0 < 10; o0 += 2) {
        __m256d g[2][5];
        for (int r = 0; r < 2; r++)
            for (int k = 0; k < 5; k++) g[r][k] = _mm256_setzero_pd();
        for (int b = 0; b < B; b++) {
            const double *x = X + (size_t)b * 20;
            __m256d xv[5];
            for (int k = 0; k < 5; k++) xv[k] = _mm256_loadu_pd(x + 4 * k);
            for (int r = 0; r < 2; r++) {
                const __m256d er = _mm256_broadcast_sd(E + (size_t)b * 10 + o0 + r);
                for (int k = 0; k < 5; k++) g[r][k] = _mm256_fmadd_pd(er, xv[k], g[r][k]);
            }
        }
        for (int r = 0; r < 2; r++)
            for (int k = 0; k < 5; k++)
                _mm256_storeu_pd(G + (size_t)(o0 + r) * 20 + 4 * k, _mm256_mul_pd(g[r][k], inv_b));
    }
}

__attribute__((target("avx2,fma"))) static void gemm_fig2_avx2(const double *restrict D, const double *restrict X,
                                                               int B, double *restrict E, double *restrict G)
{
    double Dt8[8 * 20], Dt22[4 * 20];
    for (int i = 0; i < 20; i++) {
        for (int o = 0; o < 8; o++) Dt8[8 * i + o] = D[o * 20 + i];
        for (int q = 0; q < 4; q++) Dt22[4 * i + q] = D[(8 + q % 2) * 20 + i];
    }
    int b = 0;
    for (; b + 4 <= B; b += 4) f2_e_rows4(Dt8, Dt22, X + (size_t)b * 20, E + (size_t)b * 10);
    /* The last B mod 4 rows one output at a time: the same chains. */
    for (; b < B; b++)
        for (int o = 0; o < 10; o++) {
            double acc = 0.0;
            for (int i = 0; i < 20; i++) acc = fma(X[(size_t)b * 20 + i], D[o * 20 + i], acc);
            E[(size_t)b * 10 + o] = acc;
        }
    f2_g_avx2(E, X, B, G);
}

/* D^T padded to whole chunks of 8 must fit the stack copy. */
static int fits_vector(int d_out, int d_in)
{
    return (size_t)((d_out + 7) / 8 * 8) * (size_t)d_in <= DT_MAX;
}

__attribute__((target("avx512f,fma"))) static void gemm_avx512(const double *D, const double *X, int B, int d_out,
                                                               int d_in, double *E, double *G)
{
    if (d_out == 10 && d_in == 20)
        gemm_fig2_avx512(D, X, B, E, G);
    else if (fits_vector(d_out, d_in))
        gemm512_body(D, X, B, d_out, d_in, E, G);
    else
        gemm_any(D, X, B, d_out, d_in, E, G);
}

__attribute__((target("avx2,fma"))) static void gemm_avx2(const double *D, const double *X, int B, int d_out,
                                                          int d_in, double *E, double *G)
{
    if (d_out == 10 && d_in == 20)
        gemm_fig2_avx2(D, X, B, E, G);
    else if (fits_vector(d_out, d_in))
        gemm256_body(D, X, B, d_out, d_in, E, G);
    else
        gemm_any(D, X, B, d_out, d_in, E, G);
}
#endif

void ntas_batch_gemm_with(ntas_kernel_isa isa, const double *D, const double *X, int B, int d_out, int d_in,
                          double *E, double *G)
{
    if (!ntas_kernel_isa_supported(isa)) isa = NTAS_KERNEL_BASELINE;
    switch (isa) {
#if NTAS_X86_GEMM
    case NTAS_KERNEL_AVX512: gemm_avx512(D, X, B, d_out, d_in, E, G); return;
    case NTAS_KERNEL_AVX2: gemm_avx2(D, X, B, d_out, d_in, E, G); return;
#endif
    default: gemm_portable(D, X, B, d_out, d_in, E, G); return;
    }
}

void ntas_batch_gemm(const double *D, const double *X, int B, int d_out, int d_in, double *E, double *G)
{
    ntas_batch_gemm_with(ntas_kernel_isa_active(), D, X, B, d_out, d_in, E, G);
}
