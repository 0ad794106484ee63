/* rng — Philox4x32-10, stream keys, uniforms, normals and gammas (see rng.h).
 *
 * Every definition here is part of the reproducibility contract: a run's
 * numbers are a function of its key only, and a checkpoint of a stream needs
 * only (stream key, block, used, spare). Changing the output of any function
 * here changes every result, so it needs a results-format bump. The normal
 * transform was redefined twice for speed with machine independence: version
 * 2 (Box-Muller with own log/sin/cos) before any release, version 3 (the
 * ziggurat, see rng.h) with results format 4.
 */
#include "ntasweep/core/rng.h"

#include <math.h>
#include <string.h>


/* ---- Philox4x32-10 (Random123 reference constants) ----------------------- */

#define PHILOX_M0 UINT32_C(0xD2511F53)
#define PHILOX_M1 UINT32_C(0xCD9E8D57)
#define PHILOX_W0 UINT32_C(0x9E3779B9) /* golden ratio */
#define PHILOX_W1 UINT32_C(0xBB67AE85) /* sqrt(3) - 1 */

static inline void philox_round(uint32_t c[4], const uint32_t k[2])
{
    uint64_t p0 = (uint64_t)PHILOX_M0 * c[0];
    uint64_t p1 = (uint64_t)PHILOX_M1 * c[2];
    uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    uint32_t n0 = hi1 ^ c[1] ^ k[0];
    uint32_t n2 = hi0 ^ c[3] ^ k[1];
    c[0] = n0;
    c[1] = lo1;
    c[2] = n2;
    c[3] = lo0;
}

void ntas_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t c[4] = { ctr[0], ctr[1], ctr[2], ctr[3] };
    uint32_t k[2] = { key[0], key[1] };
    /* 10 rounds with the Weyl key schedule: the key is bumped between rounds,
     * so round r uses key + r*W (mod 2^32). Unrolled by the compiler. */
    for (int r = 0; r < 10; r++) {
        if (r > 0) {
            k[0] += PHILOX_W0;
            k[1] += PHILOX_W1;
        }
        philox_round(c, k);
    }
    out[0] = c[0];
    out[1] = c[1];
    out[2] = c[2];
    out[3] = c[3];
}

/* ---- hashing ---------------------------------------------------------------
 *
 * Exact definition (frozen; resume and every derived stream depend on it):
 *
 *   fmix(z)  = SplitMix64 finaliser (Steele, Lea & Flood 2014):
 *              z ^= z >> 30; z *= 0xBF58476D1CE4E5B9;
 *              z ^= z >> 27; z *= 0x94D049BB133111EB;
 *              z ^= z >> 31; return z;            (all mod 2^64)
 *   h        = 0xCBF29CE484222325 ^ fmix(seed + 0x9E3779B97F4A7C15)
 *   for each byte b of data, in order:
 *              h ^= b; h *= 0x00000100000001B3;   (FNV-1a 64 step)
 *   result   = fmix(h)
 *
 * The seed enters through a full SplitMix64 step so that nearby seeds (0, 1,
 * 2, ...) start FNV from unrelated states; the final fmix spreads FNV's weak
 * low-order avalanche over all 64 bits, because the two 32-bit halves become
 * the Philox key.
 */

#define FNV64_OFFSET UINT64_C(0xCBF29CE484222325)
#define FNV64_PRIME  UINT64_C(0x00000100000001B3)
#define SPLITMIX_GAMMA UINT64_C(0x9E3779B97F4A7C15)

static inline uint64_t fmix64(uint64_t z)
{
    z ^= z >> 30;
    z *= UINT64_C(0xBF58476D1CE4E5B9);
    z ^= z >> 27;
    z *= UINT64_C(0x94D049BB133111EB);
    z ^= z >> 31;
    return z;
}

uint64_t ntas_hash64(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = FNV64_OFFSET ^ fmix64(seed + SPLITMIX_GAMMA);
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= FNV64_PRIME;
    }
    return fmix64(h);
}

uint64_t ntas_stream_key(uint64_t run_key, const char *stream_name)
{
    return ntas_hash64(stream_name, strlen(stream_name), run_key);
}

/* ---- streams ---------------------------------------------------------------
 *
 * Stream with 64-bit key K: Philox key = {K mod 2^32, K >> 32}; block j is
 * Philox(ctr = {j mod 2^32, j >> 32, 0, 0}); words are consumed in order
 * out[0], out[1], out[2], out[3] of block 0, then block 1, ... The state
 * (block, used) names the position in the word sequence exactly:
 * position = 4*block - (4 - used); `spare` adds the one owed normal.
 */

void ntas_rng_init(ntas_rng *rng, uint64_t stream_key)
{
    rng->key[0] = (uint32_t)stream_key;
    rng->key[1] = (uint32_t)(stream_key >> 32);
    rng->block = 0;
    memset(rng->buf, 0, sizeof rng->buf);
    rng->used = 4;
    rng->spare = 0;
}

/* Generate block `rng->block` into `out` and advance the block index. */
static inline void next_block(ntas_rng *rng, uint32_t out[4])
{
    const uint32_t ctr[4] = { (uint32_t)rng->block, (uint32_t)(rng->block >> 32), 0, 0 };
    ntas_philox4x32_10(ctr, rng->key, out);
    rng->block++;
}

uint32_t ntas_rng_u32(ntas_rng *rng)
{
    rng->spare = 0;
    if (rng->used >= 4) {
        next_block(rng, rng->buf);
        rng->used = 0;
    }
    return rng->buf[rng->used++];
}

/* Uniform from two words, a supplying the high half: ntas_rng_uniform_of_word
 * (rng.h) of the 64-bit word a:b. */
static inline double u01_from_words(uint32_t a, uint32_t b)
{
    return ntas_rng_uniform_of_word(((uint64_t)a << 32) | b);
}

double ntas_rng_uniform(ntas_rng *rng)
{
    uint32_t a = ntas_rng_u32(rng);
    uint32_t b = ntas_rng_u32(rng);
    return u01_from_words(a, b);
}

/* ---- log, for the ziggurat's rare slow path and the gamma test ------------
 *
 * libm's log is not used: glibc picks FMA or non-FMA variants at run time
 * (ifunc), which may differ in the last bit between machines. This is plain
 * IEEE double arithmetic, so it gives the same bits on any machine.
 *
 * Source (Sun fdlibm via FreeBSD msun; "Permission to use, copy, modify,
 * and distribute this software is freely granted, provided that this notice
 * is preserved", Copyright (C) 1993 by Sun Microsystems, Inc.): msun
 * src/e_log.c, in the branch-free form used by musl (2012-2017) for positive
 * normal x; error < 1 ulp.
 */

static const double
    LN2_HI = 6.93147180369123816490e-01, /* 3fe62e42 fee00000 */
    LN2_LO = 1.90821492927058770002e-10, /* 3dea39ef 35793c76 */
    LG1 = 6.666666666666735130e-01,      /* 3FE55555 55555593 */
    LG2 = 3.999999999940941908e-01,      /* 3FD99999 9997FA04 */
    LG3 = 2.857142874366239149e-01,      /* 3FD24924 94229359 */
    LG4 = 2.222219843214978396e-01,      /* 3FCC71C5 1D8E78AF */
    LG5 = 1.818357216161805012e-01,      /* 3FC74664 96CB03DE */
    LG6 = 1.531383769920937332e-01,      /* 3FC39A09 D078C69F */
    LG7 = 1.479819860511658591e-01;      /* 3FC2F112 DF3E5244 */

#define MANT52 ((UINT64_C(1) << 52) - 1)

/* memcpy is the defined way to reinterpret; GCC folds it to a register move. */
static inline uint64_t dbits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline double bitsd(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* log(x) for positive normal finite x (msun e_log.c). Reduce x = 2^k (1 + f)
 * with 1 + f in [sqrt(2)/2, sqrt(2)): adding 0x3ff00000 - 0x3fe6a09e to the
 * high word carries into the exponent exactly when the mantissa is at least
 * that of sqrt(2)/2's. Then log(1+f) = f - hfsq + s (hfsq + R(s^2)),
 * s = f / (2 + f). */
static inline double ntas_log(double x)
{
    uint64_t ix = dbits(x) + ((UINT64_C(0x3ff00000) - UINT64_C(0x3fe6a09e)) << 32);
    int64_t k = (int64_t)(ix >> 52) - 0x3ff;
    ix = (ix & MANT52) + (UINT64_C(0x3fe6a09e) << 32);
    double f = bitsd(ix) - 1.0;
    double hfsq = 0.5 * f * f;
    double s = f / (2.0 + f);
    double z = s * s;
    double w = z * z;
    double t1 = w * (LG2 + w * (LG4 + w * LG6));
    double t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    double R = t2 + t1;
    double dk = bitsd(UINT64_C(0x4338000000000000) + (uint64_t)k) - 0x1.8p52;
    return s * (hfsq + R) + dk * LN2_LO - hfsq + f + dk * LN2_HI;
}

/* ---- normals: a 1024-layer ziggurat ----------------------------------------
 *
 * The definition is in rng.h; the tables (ZIG_XS, ZIG_K, ZIG_F, ZIG_R) come
 * from tools/gen_ziggurat.py and are frozen here as exact doubles. 99.74 % of
 * normals take the fast path, which is integer operations, two table reads
 * and ONE double multiply: the same bits at any vector width, which is why a
 * ziggurat and not Box-Muller (whose log/sin/cos/sqrt would have to be
 * written out identically in scalar and vector code). The slow path is one
 * scalar function shared by every kernel, so it is bitwise the same too.
 *
 * Kernels: a portable one (plain C over Philox lanes, any machine), and on
 * x86-64 GCC/Clang an AVX2 and an AVX-512F one, compiled with target
 * attributes (no -mavx2 for the build) and chosen at run time with
 * __builtin_cpu_supports. rng.c is compiled with -ffp-contract=off as well,
 * so no multiply-add is ever fused in any of them.
 */

#include "rng_zig_tables.h"

#define ZIG_LAYER_MASK ((uint64_t)ZIG_N - 1) /* word bits 0..9: layer */
#define ZIG_SIGN_BIT 10                      /* word bit 10: sign */
#define ZIG_M_SHIFT 12                       /* word bits 12..63: 52-bit m */

static inline double zig_signed(double x, uint64_t w)
{
    return bitsd(dbits(x) ^ (((w >> ZIG_SIGN_BIT) & 1) << 63));
}

/* The wedge test of layer i >= 1: log(y) < -x^2/2, decided without the log
 * unless y is near the curve. The layer spans x in [a, b], a = x[i+1] (0
 * for the top layer), b = x[i], with F[i+1] = f(a); so f(x) = F[i+1] e^-t,
 * t = (x - a)(x + a)/2 in [0, ln(F[i+1]/F[i])] (at most 0.72, layer 1), and
 * Taylor's alternating remainders bound it for every t >= 0:
 *   F[i+1] (1 - t + t^2/2 - t^3/6) <= f(x) <= F[i+1] (1 - t + t^2/2).
 * Below the lower bound (less a relative 2^-30) the exact test must accept,
 * above the upper bound (plus 2^-30) it must reject: the exact test compares
 * within ~4e-15 absolute in log space (ntas_log within 1 ulp, -x^2/2 two
 * roundings), the bounds are evaluated within ~1e-15 relative, and F[i+1],
 * a are the tables' roundings of f(x[i+1]), x[i+1] (~1e-15 relative apart
 * in f); 2^-30 ~ 9e-10 is far beyond all of these. So the decisions, hence
 * the bits, are those of the exact test alone, which runs only in the band
 * between the bounds (t^3/6 + 2^-29 relative: 39 of 84 498 wedge draws in a
 * test stream of 2e7 blocks). */
#define ZIG_SQUEEZE_SLACK 0x1p-30
static inline int zig_wedge_below(uint64_t i, double x, double y)
{
    const double a = i + 1 < ZIG_N ? ZIG_XS[i + 1] * 0x1p52 : 0.0;
    const double t = 0.5 * (x - a) * (x + a);
    const double upper = ZIG_F[i + 1] * (1.0 - t + 0.5 * t * t);
    const double lower = upper - ZIG_F[i + 1] * (t * t * t * (1.0 / 6.0));
    if (y < lower * (1.0 - ZIG_SQUEEZE_SLACK))
        return 1;
    if (y > upper * (1.0 + ZIG_SQUEEZE_SLACK))
        return 0;
    return ntas_log(y) < -0.5 * x * x;
}

int ntas_rng_zig_wedge_test(int layer, uint64_t m, uint64_t uword, int exact)
{
    if (layer < 1 || layer >= ZIG_N || m >= (UINT64_C(1) << 52) || m < ZIG_K[layer])
        return -1;
    const uint64_t i = (uint64_t)layer;
    double x = (double)m * ZIG_XS[i];
    double y = ZIG_F[i] + ntas_rng_uniform_of_word(uword) * (ZIG_F[i + 1] - ZIG_F[i]);
    return exact ? ntas_log(y) < -0.5 * x * x : zig_wedge_below(i, x, y);
}

/* Normal h (0: words 0-1, 1: words 2-3) of block j whose candidate word w
 * failed the fast test. Attempt t draws the auxiliary Philox block with
 * counter {j lo, j hi, 1 + h, t}: disjoint from every stream block (counter
 * words 2, 3 = 0), and a function of (j, h) only, so the stream position
 * stays (block, used, spare). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static double zig_slow(const uint32_t key[2], uint64_t j, int h, uint64_t w)
{
    uint32_t ctr[4] = { (uint32_t)j, (uint32_t)(j >> 32), (uint32_t)(1 + h), 0 };
    for (;;) {
        const uint64_t i = w & ZIG_LAYER_MASK, m = w >> ZIG_M_SHIFT;
        if (m < ZIG_K[i])
            return zig_signed((double)m * ZIG_XS[i], w);
        uint32_t a[4];
        ntas_philox4x32_10(ctr, key, a);
        ctr[3]++;
        if (i == 0) {
            /* Base layer beyond R: the tail, by Marsaglia's (1964) method. */
            for (;;) {
                double x = -ntas_log(u01_from_words(a[0], a[1])) / ZIG_R;
                double y = -ntas_log(u01_from_words(a[2], a[3]));
                if (y + y > x * x)
                    return zig_signed(ZIG_R + x, w);
                ntas_philox4x32_10(ctr, key, a);
                ctr[3]++;
            }
        }
        /* Wedge: a uniform height in the layer against exp(-x^2/2). */
        double x = (double)m * ZIG_XS[i];
        double y = ZIG_F[i] + u01_from_words(a[0], a[1]) * (ZIG_F[i + 1] - ZIG_F[i]);
        if (zig_wedge_below(i, x, y))
            return zig_signed(x, w);
        w = ((uint64_t)a[2] << 32) | a[3];
    }
}

static inline double zig_normal(const uint32_t key[2], uint64_t j, int h, uint64_t w)
{
    const uint64_t i = w & ZIG_LAYER_MASK, m = w >> ZIG_M_SHIFT;
    if (m < ZIG_K[i])
        return zig_signed((double)m * ZIG_XS[i], w);
    return zig_slow(key, j, h, w);
}

#define NTAS_LANES 32

typedef struct {
    uint32_t w0[NTAS_LANES], w1[NTAS_LANES], w2[NTAS_LANES], w3[NTAS_LANES];
} lanes4;

/* Blocks block0 .. block0 + nb - 1 (nb <= NTAS_LANES) into L, lane l = block
 * block0 + l. Same words as ntas_philox4x32_10 on each counter; written in
 * structure-of-arrays form so compilers vectorise it (exact integer code). */
static void philox_lanes(const uint32_t key[2], uint64_t block0, int nb, lanes4 *restrict L)
{
    uint32_t *restrict c0 = L->w0, *restrict c1 = L->w1, *restrict c2 = L->w2,
             *restrict c3 = L->w3;
    for (int l = 0; l < nb; l++) {
        uint64_t b = block0 + (uint64_t)l;
        c0[l] = (uint32_t)b;
        c1[l] = (uint32_t)(b >> 32);
        c2[l] = 0;
        c3[l] = 0;
    }
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        for (int l = 0; l < nb; l++) {
            uint64_t p0 = (uint64_t)PHILOX_M0 * c0[l];
            uint64_t p1 = (uint64_t)PHILOX_M1 * c2[l];
            uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[l] ^ k0;
            uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3[l] ^ k1;
            c0[l] = n0;
            c1[l] = (uint32_t)p1;
            c2[l] = n2;
            c3[l] = (uint32_t)p0;
        }
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
}

/* The normal pairs of blocks block0 .. block0 + nb - 1 into out[0 .. 2 nb),
 * pair k at out[2k], out[2k + 1]; last = the words of the last block. */
static void normals_portable(const uint32_t key[2], uint64_t block0, size_t nb, double *out,
                             uint64_t *words, uint32_t last[4])
{
    lanes4 L;
    for (size_t done = 0; done < nb;) {
        int b = nb - done < NTAS_LANES ? (int)(nb - done) : NTAS_LANES;
        philox_lanes(key, block0 + done, b, &L);
        for (int l = 0; l < b; l++) {
            uint64_t j = block0 + done + (uint64_t)l;
            uint64_t wa = ((uint64_t)L.w0[l] << 32) | L.w1[l];
            uint64_t wb = ((uint64_t)L.w2[l] << 32) | L.w3[l];
            out[2 * (done + (size_t)l)] = zig_normal(key, j, 0, wa);
            out[2 * (done + (size_t)l) + 1] = zig_normal(key, j, 1, wb);
            if (words) {
                words[2 * (done + (size_t)l)] = wa;
                words[2 * (done + (size_t)l) + 1] = wb;
            }
        }
        done += (size_t)b;
        if (done == nb) {
            last[0] = L.w0[b - 1];
            last[1] = L.w1[b - 1];
            last[2] = L.w2[b - 1];
            last[3] = L.w3[b - 1];
        }
    }
}

/* The vector kernels finish the blocks that do not fill a vector with the
 * portable kernel, and take `last` from it or from one scalar block. */
static void vector_tail(const uint32_t key[2], uint64_t block0, size_t done, size_t nb,
                        double *out, uint64_t *words, uint32_t last[4])
{
    if (done < nb) {
        normals_portable(key, block0 + done, nb - done, out + 2 * done, words ? words + 2 * done : NULL, last);
    } else {
        uint64_t j = block0 + nb - 1;
        const uint32_t ctr[4] = { (uint32_t)j, (uint32_t)(j >> 32), 0, 0 };
        ntas_philox4x32_10(ctr, key, last);
    }
}

/* Candidates the fast test rejected in a vector: lane k of wa (normal 0) or
 * wb (normal 1) of block j0 + k, whose fast-path value in out is replaced. */
static void vector_fixup(const uint32_t key[2], uint64_t j0, int lanes, unsigned bad_a,
                         unsigned bad_b, const uint64_t *wa, const uint64_t *wb, double *out)
{
    for (int k = 0; k < lanes; k++) {
        if (bad_a >> k & 1)
            out[2 * k] = zig_slow(key, j0 + (uint64_t)k, 0, wa[k]);
        if (bad_b >> k & 1)
            out[2 * k + 1] = zig_slow(key, j0 + (uint64_t)k, 1, wb[k]);
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NTAS_X86_KERNELS 1
#include <immintrin.h>

#define ZIG_TWO52_BITS 0x4330000000000000LL /* the double 2^52 */

__attribute__((target("avx2"))) static inline __m256d
zig_fast_avx2(__m256i w, __m256i *accept)
{
    const __m256i idx = _mm256_and_si256(w, _mm256_set1_epi64x((long long)ZIG_LAYER_MASK));
    const __m256i m = _mm256_srli_epi64(w, ZIG_M_SHIFT);
    __m256d xs = _mm256_i64gather_pd(ZIG_XS, idx, 8);
    __m256i k = _mm256_i64gather_epi64((const long long *)ZIG_K, idx, 8);
    *accept = _mm256_cmpgt_epi64(k, m); /* both < 2^53: the signed compare is exact */
    /* (double)m, exactly: the bits of 2^52 + m minus 2^52. */
    __m256d md = _mm256_sub_pd(
        _mm256_castsi256_pd(_mm256_or_si256(m, _mm256_set1_epi64x(ZIG_TWO52_BITS))),
        _mm256_set1_pd(0x1p52));
    __m256i sign = _mm256_slli_epi64(
        _mm256_and_si256(w, _mm256_set1_epi64x(1LL << ZIG_SIGN_BIT)), 63 - ZIG_SIGN_BIT);
    return _mm256_castsi256_pd(
        _mm256_xor_si256(_mm256_castpd_si256(_mm256_mul_pd(md, xs)), sign));
}

/* Philox of the four blocks b .. b + 3, one block per 64-bit lane: the
 * words live in the low halves, and vpmuludq reads only those, so the high
 * halves may hold garbage until the words are combined (*wa = w0:w1,
 * *wb = w2:w3). */
__attribute__((target("avx2"))) static inline __attribute__((always_inline)) void
philox4_avx2(uint64_t b, const __m256i *k0, const __m256i *k1, __m256i *wa, __m256i *wb)
{
    const __m256i M0 = _mm256_set1_epi64x(PHILOX_M0), M1 = _mm256_set1_epi64x(PHILOX_M1);
    const __m256i LO = _mm256_set1_epi64x(0xffffffffLL);
    __m256i c0 = _mm256_set_epi64x((long long)(b + 3), (long long)(b + 2), (long long)(b + 1), (long long)b);
    __m256i c1 = _mm256_srli_epi64(c0, 32), c2 = _mm256_setzero_si256(), c3 = c2;
    for (int r = 0; r < 10; r++) {
        __m256i p0 = _mm256_mul_epu32(c0, M0), p1 = _mm256_mul_epu32(c2, M1);
        c0 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), c1), k0[r]);
        c2 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), c3), k1[r]);
        c1 = p1;
        c3 = p0;
    }
    *wa = _mm256_or_si256(_mm256_slli_epi64(c0, 32), _mm256_and_si256(c1, LO));
    *wb = _mm256_or_si256(_mm256_slli_epi64(c2, 32), _mm256_and_si256(c3, LO));
}

/* The normal pairs of blocks b .. b + 3 from their words into out (and the
 * words into words, when asked), the slow path for the lanes that need it. */
__attribute__((target("avx2"))) static inline __attribute__((always_inline)) void
zig4_avx2(const uint32_t key[2], uint64_t b, __m256i wa, __m256i wb, double *out, uint64_t *words)
{
    __m256i acc_a, acc_b;
    __m256d za = zig_fast_avx2(wa, &acc_a), zb = zig_fast_avx2(wb, &acc_b);
    __m256d lo = _mm256_unpacklo_pd(za, zb), hi = _mm256_unpackhi_pd(za, zb);
    _mm256_storeu_pd(out, _mm256_permute2f128_pd(lo, hi, 0x20));
    _mm256_storeu_pd(out + 4, _mm256_permute2f128_pd(lo, hi, 0x31));
    if (words) {
        __m256d wlo = _mm256_unpacklo_pd(_mm256_castsi256_pd(wa), _mm256_castsi256_pd(wb));
        __m256d whi = _mm256_unpackhi_pd(_mm256_castsi256_pd(wa), _mm256_castsi256_pd(wb));
        _mm256_storeu_pd((double *)words, _mm256_permute2f128_pd(wlo, whi, 0x20));
        _mm256_storeu_pd((double *)(words + 4), _mm256_permute2f128_pd(wlo, whi, 0x31));
    }
    unsigned bad_a = ~(unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(acc_a)) & 15u;
    unsigned bad_b = ~(unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(acc_b)) & 15u;
    if (bad_a | bad_b) {
        uint64_t va[4], vb[4];
        _mm256_storeu_si256((__m256i *)va, wa);
        _mm256_storeu_si256((__m256i *)vb, wb);
        vector_fixup(key, b, 4, bad_a, bad_b, va, vb, out);
    }
}

/* Four blocks per 256-bit vector, four vectors per step (then one), as the
 * AVX-512 kernel does for the same reason (independent multiply chains). */
__attribute__((target("avx2"))) static void
normals_avx2(const uint32_t key[2], uint64_t block0, size_t nb, double *out, uint64_t *words, uint32_t last[4])
{
    __m256i k0[10], k1[10];
    for (int r = 0; r < 10; r++) {
        k0[r] = _mm256_set1_epi64x((uint32_t)(key[0] + (uint32_t)r * PHILOX_W0));
        k1[r] = _mm256_set1_epi64x((uint32_t)(key[1] + (uint32_t)r * PHILOX_W1));
    }
    size_t l = 0;
    for (; l + 16 <= nb; l += 16) {
        __m256i wa[4], wb[4];
        for (int v = 0; v < 4; v++) philox4_avx2(block0 + l + 4 * (size_t)v, k0, k1, &wa[v], &wb[v]);
        for (int v = 0; v < 4; v++)
            zig4_avx2(key, block0 + l + 4 * (size_t)v, wa[v], wb[v], out + 2 * l + 8 * (size_t)v,
                      words ? words + 2 * l + 8 * (size_t)v : NULL);
    }
    for (; l + 4 <= nb; l += 4) {
        __m256i wa, wb;
        philox4_avx2(block0 + l, k0, k1, &wa, &wb);
        zig4_avx2(key, block0 + l, wa, wb, out + 2 * l, words ? words + 2 * l : NULL);
    }
    vector_tail(key, block0, l, nb, out, words, last);
}

__attribute__((target("avx512f,avx512dq"))) static inline __m512d
zig_fast_avx512(__m512i w, __mmask8 *accept)
{
    const __m512i idx = _mm512_and_si512(w, _mm512_set1_epi64((long long)ZIG_LAYER_MASK));
    const __m512i m = _mm512_srli_epi64(w, ZIG_M_SHIFT);
    __m512d xs = _mm512_i64gather_pd(idx, ZIG_XS, 8);
    __m512i k = _mm512_i64gather_epi64(idx, (const long long *)ZIG_K, 8);
    *accept = _mm512_cmplt_epu64_mask(m, k);
    __m512i x = _mm512_castpd_si512(_mm512_mul_pd(_mm512_cvtepu64_pd(m), xs));
    /* x ^ (sign bit of w moved to bit 63), in one ternary-logic op. */
    return _mm512_castsi512_pd(_mm512_ternarylogic_epi64(
        x, _mm512_slli_epi64(w, 63 - ZIG_SIGN_BIT), _mm512_set1_epi64((long long)(UINT64_C(1) << 63)),
        0x78)); /* A ^ (B & C) */
}

/* Philox of the eight blocks b .. b + 7 into their words (w0:w1 in *wa,
 * w2:w3 in *wb), with three-way XORs in one instruction. */
__attribute__((target("avx512f,avx512dq"))) static inline __attribute__((always_inline)) void
philox8_avx512(uint64_t b, const __m512i *k0, const __m512i *k1, __m512i *wa, __m512i *wb)
{
    const __m512i M0 = _mm512_set1_epi64(PHILOX_M0), M1 = _mm512_set1_epi64(PHILOX_M1);
    const __m512i LO = _mm512_set1_epi64(0xffffffffLL);
    const __m512i IOTA = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    __m512i c0 = _mm512_add_epi64(_mm512_set1_epi64((long long)b), IOTA);
    /* Round 0 with c2 = c3 = 0 written out: its second product is 0. */
    __m512i c3 = _mm512_mul_epu32(c0, M0), c1 = _mm512_setzero_si512();
    __m512i c2 = _mm512_xor_si512(_mm512_srli_epi64(c3, 32), k1[0]);
    c0 = _mm512_xor_si512(_mm512_srli_epi64(c0, 32), k0[0]);
    for (int r = 1; r < 10; r++) {
        __m512i p0 = _mm512_mul_epu32(c0, M0), p1 = _mm512_mul_epu32(c2, M1);
        c0 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p1, 32), c1, k0[r], 0x96);
        c2 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p0, 32), c3, k1[r], 0x96);
        c1 = p1;
        c3 = p0;
    }
    *wa = _mm512_or_si512(_mm512_slli_epi64(c0, 32), _mm512_and_si512(c1, LO));
    *wb = _mm512_or_si512(_mm512_slli_epi64(c2, 32), _mm512_and_si512(c3, LO));
}

/* The normal pairs of blocks b .. b + 7 from their words into out (and the
 * words into words, when asked), the slow path for the lanes that need it. */
__attribute__((target("avx512f,avx512dq"))) static inline __attribute__((always_inline)) void
zig8_avx512(const uint32_t key[2], uint64_t b, __m512i wa, __m512i wb, double *out, uint64_t *words)
{
    const __m512i LOW_PAIRS = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0);
    const __m512i HIGH_PAIRS = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);
    __mmask8 acc_a, acc_b;
    __m512d za = zig_fast_avx512(wa, &acc_a), zb = zig_fast_avx512(wb, &acc_b);
    _mm512_storeu_pd(out, _mm512_permutex2var_pd(za, LOW_PAIRS, zb));
    _mm512_storeu_pd(out + 8, _mm512_permutex2var_pd(za, HIGH_PAIRS, zb));
    if (words) {
        _mm512_storeu_si512(words, _mm512_permutex2var_epi64(wa, LOW_PAIRS, wb));
        _mm512_storeu_si512(words + 8, _mm512_permutex2var_epi64(wa, HIGH_PAIRS, wb));
    }
    unsigned bad_a = ~(unsigned)acc_a & 255u, bad_b = ~(unsigned)acc_b & 255u;
    if (bad_a | bad_b) {
        uint64_t va[8], vb[8];
        _mm512_storeu_si512(va, wa);
        _mm512_storeu_si512(vb, wb);
        vector_fixup(key, b, 8, bad_a, bad_b, va, vb, out);
    }
}

/* The AVX2 kernel at eight blocks per vector, four vectors per step (then
 * two, one for what is left): the ten Philox rounds are a chain of
 * dependent multiplies, and independent chains side by side keep the
 * multiplier and the table gathers busy (a fill of 4000 normals: 1.50 ns
 * per normal with one vector per step, 1.39 with two, 1.17 with four, 1.24
 * with eight, which spills registers). */
__attribute__((target("avx512f,avx512dq"))) static void
normals_avx512(const uint32_t key[2], uint64_t block0, size_t nb, double *out, uint64_t *words, uint32_t last[4])
{
    __m512i k0[10], k1[10];
    for (int r = 0; r < 10; r++) {
        k0[r] = _mm512_set1_epi64((uint32_t)(key[0] + (uint32_t)r * PHILOX_W0));
        k1[r] = _mm512_set1_epi64((uint32_t)(key[1] + (uint32_t)r * PHILOX_W1));
    }
    size_t l = 0;
    for (; l + 32 <= nb; l += 32) {
        __m512i wa[4], wb[4];
        for (int v = 0; v < 4; v++) philox8_avx512(block0 + l + 8 * (size_t)v, k0, k1, &wa[v], &wb[v]);
        for (int v = 0; v < 4; v++)
            zig8_avx512(key, block0 + l + 8 * (size_t)v, wa[v], wb[v], out + 2 * l + 16 * (size_t)v,
                        words ? words + 2 * l + 16 * (size_t)v : NULL);
    }
    for (; l + 16 <= nb; l += 16) {
        __m512i wa0, wb0, wa1, wb1;
        philox8_avx512(block0 + l, k0, k1, &wa0, &wb0);
        philox8_avx512(block0 + l + 8, k0, k1, &wa1, &wb1);
        zig8_avx512(key, block0 + l, wa0, wb0, out + 2 * l, words ? words + 2 * l : NULL);
        zig8_avx512(key, block0 + l + 8, wa1, wb1, out + 2 * l + 16, words ? words + 2 * l + 16 : NULL);
    }
    for (; l + 8 <= nb; l += 8) {
        __m512i wa, wb;
        philox8_avx512(block0 + l, k0, k1, &wa, &wb);
        zig8_avx512(key, block0 + l, wa, wb, out + 2 * l, words ? words + 2 * l : NULL);
    }
    vector_tail(key, block0, l, nb, out, words, last);
}
#endif

int ntas_rng_kernel_supported(ntas_rng_kernel k)
{
    switch (k) {
    case NTAS_RNG_AUTO:
    case NTAS_RNG_PORTABLE:
        return 1;
#if NTAS_X86_KERNELS
    case NTAS_RNG_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2");
    case NTAS_RNG_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
#endif
    default:
        return 0;
    }
}

const char *ntas_rng_kernel_name(ntas_rng_kernel k)
{
    switch (k) {
    case NTAS_RNG_AUTO: return "auto";
    case NTAS_RNG_PORTABLE: return "portable";
    case NTAS_RNG_AVX2: return "avx2";
    case NTAS_RNG_AVX512: return "avx512";
    }
    return "unknown";
}

ntas_rng_kernel ntas_rng_kernel_best(void)
{
    if (ntas_rng_kernel_supported(NTAS_RNG_AVX512))
        return NTAS_RNG_AVX512;
    if (ntas_rng_kernel_supported(NTAS_RNG_AVX2))
        return NTAS_RNG_AVX2;
    return NTAS_RNG_PORTABLE;
}

/* Fewer pairs than this go to the portable kernel: a vector would not fill. */
#define VECTOR_MIN_PAIRS 8

static void normal_pairs(ntas_rng_kernel k, const uint32_t key[2], uint64_t block0, size_t nb,
                         double *out, uint64_t *words, uint32_t last[4])
{
    if (k == NTAS_RNG_AUTO)
        k = nb < VECTOR_MIN_PAIRS ? NTAS_RNG_PORTABLE : ntas_rng_kernel_best();
    switch (k) {
#if NTAS_X86_KERNELS
    case NTAS_RNG_AVX2: normals_avx2(key, block0, nb, out, words, last); return;
    case NTAS_RNG_AVX512: normals_avx512(key, block0, nb, out, words, last); return;
#endif
    default: normals_portable(key, block0, nb, out, words, last); return;
    }
}

int ntas_rng_normal_fill_with(ntas_rng *rng, double *out, size_t n, ntas_rng_kernel k)
{
    if (!ntas_rng_kernel_supported(k))
        return -1;
    if (n == 0)
        return 0;
    size_t i = 0;
    uint32_t last[4];
    double pair[2];
    if (rng->spare) {
        /* The owed z1 of buf's block: recomputed rather than stored, so the
         * position stays three integers. */
        out[i++] = zig_normal(rng->key, rng->block - 1, 1,
                              ((uint64_t)rng->buf[2] << 32) | rng->buf[3]);
        rng->spare = 0;
        if (i == n)
            return 0;
    } else if (rng->used == 0 && rng->block > 0) {
        /* An untouched block in buf (a restored state): it is the next pair. */
        rng->block--;
    }
    /* 0 < used < 4: the rest of the current block is skipped; rng->block
     * already points past it. */
    size_t full = (n - i) / 2;
    if (full > 0) {
        normal_pairs(k, rng->key, rng->block, full, out + i, NULL, last);
        rng->block += full;
        i += 2 * full;
    }
    if (i < n) {
        /* Odd count: the last block's z1 is owed. */
        normals_portable(rng->key, rng->block, 1, pair, NULL, last);
        out[i++] = pair[0];
        rng->block++;
        rng->spare = 1;
    }
    memcpy(rng->buf, last, sizeof last);
    rng->used = 4;
    return 0;
}

void ntas_rng_normal_fill(ntas_rng *rng, double *out, size_t n)
{
    (void)ntas_rng_normal_fill_with(rng, out, n, NTAS_RNG_AUTO);
}

void ntas_rng_blocks_at(const ntas_rng *rng, uint64_t block0, size_t nb, double *z, uint64_t *words)
{
    uint32_t last[4];
    if (nb > 0) normal_pairs(NTAS_RNG_AUTO, rng->key, block0, nb, z, words, last);
}

int ntas_rng_at_block_boundary(const ntas_rng *rng)
{
    return rng->used == 4 && !rng->spare;
}

void ntas_rng_set_after_block(ntas_rng *rng, uint64_t block, uint64_t wa, uint64_t wb)
{
    rng->block = block + 1;
    rng->buf[0] = (uint32_t)(wa >> 32);
    rng->buf[1] = (uint32_t)wa;
    rng->buf[2] = (uint32_t)(wb >> 32);
    rng->buf[3] = (uint32_t)wb;
    rng->used = 4;
    rng->spare = 0;
}

void ntas_rng_normal_fill_scaled(ntas_rng *rng, double *out, size_t n, double scale)
{
    ntas_rng_normal_fill(rng, out, n);
    for (size_t i = 0; i < n; i++) out[i] *= scale;
}

double ntas_rng_normal(ntas_rng *rng)
{
    double z;
    ntas_rng_normal_fill(rng, &z, 1);
    return z;
}

void ntas_rng_uniform_fill(ntas_rng *rng, double *out, size_t n)
{
    size_t i = 0;
    if (rng->used % 2 != 0) {
        /* Odd word offset: every uniform straddles two words of different
         * parity for good, so there is no block alignment to exploit. */
        for (; i < n; i++)
            out[i] = ntas_rng_uniform(rng);
        return;
    }
    /* used = 0 or 2: finish the current block word by word. */
    for (; i < n && rng->used != 4; i++)
        out[i] = ntas_rng_uniform(rng);
    if (i == n)
        return;
    rng->spare = 0;
    lanes4 L;
    while (n - i >= 2) {
        size_t want = (n - i) / 2;
        int nb = want < NTAS_LANES ? (int)want : NTAS_LANES;
        philox_lanes(rng->key, rng->block, nb, &L);
        for (int l = 0; l < nb; l++) {
            out[i++] = u01_from_words(L.w0[l], L.w1[l]);
            out[i++] = u01_from_words(L.w2[l], L.w3[l]);
        }
        rng->block += (uint64_t)nb;
        rng->buf[0] = L.w0[nb - 1];
        rng->buf[1] = L.w1[nb - 1];
        rng->buf[2] = L.w2[nb - 1];
        rng->buf[3] = L.w3[nb - 1];
    }
    if (i < n)
        out[i] = ntas_rng_uniform(rng); /* leaves used = 2, as one call would */
}

/* ---- gamma and chi-square ------------------------------------------------- */

/* One Marsaglia-Tsang test of (x, u) for d = shape - 1/3, c = 1/sqrt(9d),
 * with v = (1 + c x)^3 > 0 already checked. */
static inline int mt_accept(double x, double u, double v, double d)
{
    double x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2)
        return 1;
    return ntas_log(u) < 0.5 * x2 + d * (1.0 - v + ntas_log(v));
}

/* v = (1 + c x)^3, or 0 when the attempt must be retried: 1 + c x <= 0, or
 * v below the smallest normal double (needs x < -1/c by a relative 1e-100:
 * unreachable, but ntas_log's domain is the positive normals). */
static inline double mt_v(double x, double c)
{
    double v = 1.0 + c * x;
    if (v <= 0.0)
        return 0.0;
    v = v * v * v;
    return v < 0x1p-1022 ? 0.0 : v;
}

double ntas_rng_gamma(ntas_rng *rng, double shape)
{
    if (!(shape > 0.0) || !isfinite(shape))
        return NAN;
    if (shape < 1.0) {
        /* Marsaglia & Tsang (2000), section 6: Gamma(a) = Gamma(a+1) U^(1/a). */
        double g = ntas_rng_gamma(rng, shape + 1.0);
        double u = ntas_rng_uniform(rng);
        return g * pow(u, 1.0 / shape);
    }
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x = ntas_rng_normal(rng);
        double v = mt_v(x, c);
        if (v == 0.0)
            continue;
        double u = ntas_rng_uniform(rng);
        if (mt_accept(x, u, v, d))
            return d * v;
    }
}

void ntas_rng_gamma_constants(double shape, double *d, double *c)
{
    *d = shape - 1.0 / 3.0;
    *c = 1.0 / sqrt(9.0 * *d);
}

double ntas_rng_gamma_primed(ntas_rng *rng, double shape, double x, double u)
{
    if (!(shape >= 1.0) || !isfinite(shape))
        return NAN;
    double d, c;
    ntas_rng_gamma_constants(shape, &d, &c);
    return ntas_rng_gamma_primed_dc(rng, shape, d, c, x, u);
}

double ntas_rng_gamma_primed_dc(ntas_rng *rng, double shape, double d, double c, double x, double u)
{
    double v;
    if (ntas_rng_mt_squeeze(x, u, c, &v)) /* the same v and squeeze as mt_v, mt_accept */
        return d * v;
    v = mt_v(x, c);
    if (v != 0.0 && mt_accept(x, u, v, d))
        return d * v;
    return ntas_rng_gamma(rng, shape);
}

double ntas_rng_chisq(ntas_rng *rng, int k)
{
    if (k < 1)
        return NAN;
    if (k == 1) {
        double z = ntas_rng_normal(rng);
        return z * z;
    }
    return 2.0 * ntas_rng_gamma(rng, 0.5 * k);
}
