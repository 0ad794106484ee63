/* rng — Philox4x32-10, stream keys, uniforms, normals and gammas (see rng.h).
 *
 * Every definition here is part of the reproducibility contract: a run's
 * numbers are a function of its key only, and a checkpoint of a stream needs
 * only (stream key, block, used, spare). Changing the output of any function
 * here changes every result, so it needs a results-format bump. The normal
 * transform was redefined (version 2, see rng.h) before any release, for
 * speed and machine independence.
 */
#include "ntasweep/core/rng.h"

#include <math.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

/* 1 - 2^-53: the largest double below 1. */
#define U01_MAX 0x1.fffffffffffffp-1

/* Uniform from two words, a supplying the high half: x = top 53 bits of
 * (a:b), u = (x + 0.5) * 2^-53 evaluated in IEEE double (round to nearest).
 * The +0.5 keeps u away from 0 so log(u) is finite. In double arithmetic the
 * single value x = 2^53 - 1 would round up to exactly 1.0 (x + 0.5 needs 54
 * bits), so it is clamped to 1 - 2^-53 to keep the interval open; every other
 * x gives (x + 0.5) * 2^-53 rounded to nearest. */
static inline double u01_from_words(uint32_t a, uint32_t b)
{
    uint64_t x = (((uint64_t)a << 32) | b) >> 11;
    double u = ((double)x + 0.5) * 0x1p-53;
    return u < U01_MAX ? u : U01_MAX;
}

double ntas_rng_uniform(ntas_rng *rng)
{
    uint32_t a = ntas_rng_u32(rng);
    uint32_t b = ntas_rng_u32(rng);
    return u01_from_words(a, b);
}

/* ---- elementary functions for the normal transform -------------------------
 *
 * Box-Muller needs log, sin and cos. libm's are not used: glibc picks FMA or
 * non-FMA variants of log/sin/cos at run time (ifunc), which may differ in
 * the last bit between machines, and scalar calls block vectorisation. The
 * kernels below are plain IEEE double expressions, so they give the same
 * bits on any machine and compile to SSE2/AVX vector code unchanged.
 *
 * Sources (Sun fdlibm via FreeBSD msun; "Permission to use, copy, modify,
 * and distribute this software is freely granted, provided that this notice
 * is preserved", Copyright (C) 1993 by Sun Microsystems, Inc.):
 *   log:  msun src/e_log.c, in the branch-free form used by musl (2012-2017)
 *         for positive normal x; error < 1 ulp.
 *   sin:  msun src/k_sin.c __kernel_sin(x, 0, 0) on |x| <= pi/4, |err| < 2^-58.
 *   cos:  msun src/k_cos.c __kernel_cos(x, 0) on |x| <= pi/4, the 2008
 *         branch-free form with w = 1 - z/2 and its rounding error added back.
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

static const double
    S1 = -1.66666666666666324348e-01, /* BFC55555 55555549 */
    S2 = 8.33333333332248946124e-03,  /* 3F811111 1110F8A6 */
    S3 = -1.98412698298579493134e-04, /* BF2A01A0 19C161D5 */
    S4 = 2.75573137070700676789e-06,  /* 3EC71DE3 57B1FE7D */
    S5 = -2.50507602534068634195e-08, /* BE5AE5E6 8A2B9CEB */
    S6 = 1.58969099521155010221e-10;  /* 3DE5D93A 5ACFD57C */

static const double
    C1 = 4.16666666666666019037e-02,  /* 3FA55555 5555554C */
    C2 = -1.38888888888741095749e-03, /* BF56C16C 16C15177 */
    C3 = 2.48015872894767294178e-05,  /* 3EFA01A0 19CB1590 */
    C4 = -2.75573143513906633035e-07, /* BE927E4F 809C52AD */
    C5 = 2.08757232129817482790e-09,  /* 3E21EE9E BDB4B1C4 */
    C6 = -1.13596475577881948265e-11; /* BDA8FAE9 BE8838D4 */

#define PI4 0x1.921fb54442d18p-1 /* double nearest pi/4 */
#define MANT52 ((UINT64_C(1) << 52) - 1)
#define ONE_BITS UINT64_C(0x3ff0000000000000)

/* memcpy is the defined way to reinterpret; GCC folds it to a register move
 * (and to nothing in vector code). */
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

/* (2m + 1) 2^-53 for a 52-bit m: 1 + m 2^-52 minus (1 - 2^-53), both exact
 * doubles with an exactly representable difference, so the result is exact. */
static inline double odd_over_2_53(uint64_t m)
{
    return bitsd(ONE_BITS | m) - U01_MAX;
}

/* log(x) for positive normal finite x (msun e_log.c). Reduce x = 2^k (1 + f)
 * with 1 + f in [sqrt(2)/2, sqrt(2)): adding 0x3ff00000 - 0x3fe6a09e to the
 * high word carries into the exponent exactly when the mantissa is at least
 * that of sqrt(2)/2's. Then log(1+f) = f - hfsq + s (hfsq + R(s^2)),
 * s = f / (2 + f). k is turned into a double by the 2^52 + 2^51 trick so the
 * whole function stays in 64-bit lanes (no int64 -> double conversion). */
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

static inline double ntas_ksin(double x)
{
    double z = x * x;
    double w = z * z;
    double r = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
    double v = z * x;
    return x + v * (S1 + z * r);
}

static inline double ntas_kcos(double x)
{
    double z = x * x;
    double w = z * z;
    double r = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6));
    double hz = 0.5 * z;
    w = 1.0 - hz;
    return w + (((1.0 - w) - hz) + z * r);
}

/* ---- normals ---------------------------------------------------------------
 *
 * Speed comes from working on NTAS_LANES blocks at a time in structure-of-
 * arrays form: Philox's rounds for different blocks are independent, and
 * with 32-bit lanes GCC turns the 32x32->64 multiplies into pmuludq (4
 * blocks per SSE2 register pair); the transform is branch-free (octant
 * selection by bit masks) so it vectorises too. Every operation is an exact
 * integer operation or a correctly rounded IEEE one, so the vector body and
 * the scalar remainder loop the compiler emits give identical bits.
 */

#define NTAS_LANES 32

/* The two kernels are also compiled for AVX2 and picked at load time (GCC
 * function multiversioning): about 1.3x the normals/s of the SSE2 baseline.
 * The clones compute the same bits: integer operations are exact, the
 * double ones (+ - * / sqrt) are correctly rounded at any vector width, and
 * nothing is fused: GCC contracts a*b+c into an FMA only in GNU modes, and
 * the project builds with -std=c11 (CMAKE_C_EXTENSIONS OFF), which means
 * -ffp-contract=off; "avx2" does not enable FMA instructions anyway. The
 * frozen known answers in test_rng catch any drift on the machine at hand. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define NTAS_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define NTAS_VECTOR_CLONES
#endif

typedef struct {
    uint32_t w0[NTAS_LANES], w1[NTAS_LANES], w2[NTAS_LANES], w3[NTAS_LANES];
} lanes4;

/* Blocks block0 .. block0 + nb - 1 (nb <= NTAS_LANES) into L, lane l = block
 * block0 + l. Same words as ntas_philox4x32_10 on each counter. */
NTAS_VECTOR_CLONES
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

/* Normal pairs of the nb blocks in L: z0[l], z1[l] as defined in rng.h. */
NTAS_VECTOR_CLONES
static void normal_lanes(const lanes4 *restrict L, int nb, double *restrict z0,
                         double *restrict z1)
{
    double rsq[NTAS_LANES];
    for (int l = 0; l < nb; l++) {
        uint64_t a = (((uint64_t)L->w0[l] << 32) | L->w1[l]) >> 12;
        rsq[l] = -2.0 * ntas_log(odd_over_2_53(a));

        uint64_t v = ((uint64_t)L->w2[l] << 32) | L->w3[l];
        uint64_t o = v >> 61;
        uint64_t b = ((v >> 9) & MANT52) ^ ((UINT64_C(0) - (o & 1)) & MANT52);
        double t = odd_over_2_53(b) * PI4;
        double s = ntas_ksin(t), c = ntas_kcos(t);
        /* Octants 1, 2, 5, 6 swap the roles of sin and cos; cos is negative
         * in octants 2..5, sin in 4..7. All as masks on the bit patterns. */
        uint64_t swap = UINT64_C(0) - (((o + 1) >> 1) & 1);
        uint64_t cb = (dbits(s) & swap) | (dbits(c) & ~swap);
        uint64_t sb = (dbits(c) & swap) | (dbits(s) & ~swap);
        z0[l] = bitsd(cb ^ (((o + 2) & 4) << 61));
        z1[l] = bitsd(sb ^ ((o & 4) << 61));
    }
    /* sqrt in its own pass: with errno-setting libm semantics (the default,
     * and not ours to change) GCC will not vectorise a sqrt call, so SSE2's
     * sqrtpd is used directly. Both it and the scalar sqrt are correctly
     * rounded, so the result does not depend on which one runs. */
    int l = 0;
#if defined(__SSE2__)
    for (; l + 2 <= nb; l += 2)
        _mm_storeu_pd(rsq + l, _mm_sqrt_pd(_mm_loadu_pd(rsq + l)));
#endif
    for (; l < nb; l++)
        rsq[l] = sqrt(rsq[l]);
    for (l = 0; l < nb; l++) {
        z0[l] *= rsq[l];
        z1[l] *= rsq[l];
    }
}

void ntas_rng_normal_fill(ntas_rng *rng, double *out, size_t n)
{
    if (n == 0)
        return;
    lanes4 L;
    double z0[NTAS_LANES], z1[NTAS_LANES];
    size_t i = 0;

    if (rng->spare) {
        /* The owed z1 of buf's block: recomputed, with the same code, rather
         * than stored, so the position stays three integers. */
        L.w0[0] = rng->buf[0];
        L.w1[0] = rng->buf[1];
        L.w2[0] = rng->buf[2];
        L.w3[0] = rng->buf[3];
        normal_lanes(&L, 1, z0, z1);
        out[i++] = z1[0];
        rng->spare = 0;
        if (i == n)
            return;
    } else if (rng->used == 0 && rng->block > 0) {
        /* An untouched block in buf (a restored state): it is the next pair. */
        rng->block--;
    }
    /* 0 < used < 4: the rest of the current block is skipped; rng->block
     * already points past it. */

    size_t pairs = (n - i + 1) / 2;
    while (pairs > 0) {
        int nb = pairs < NTAS_LANES ? (int)pairs : NTAS_LANES;
        philox_lanes(rng->key, rng->block, nb, &L);
        normal_lanes(&L, nb, z0, z1);
        if (n - i >= 2 * (size_t)nb) {
            for (int l = 0; l < nb; l++) {
                out[i + 2 * (size_t)l] = z0[l];
                out[i + 2 * (size_t)l + 1] = z1[l];
            }
            i += 2 * (size_t)nb;
        } else {
            /* Last batch of an odd count: its last z1 is owed. */
            for (int l = 0; l < nb; l++) {
                out[i++] = z0[l];
                if (i < n)
                    out[i++] = z1[l];
                else
                    rng->spare = 1;
            }
        }
        rng->block += (uint64_t)nb;
        pairs -= (size_t)nb;
        if (pairs == 0) {
            rng->buf[0] = L.w0[nb - 1];
            rng->buf[1] = L.w1[nb - 1];
            rng->buf[2] = L.w2[nb - 1];
            rng->buf[3] = L.w3[nb - 1];
        }
    }
    rng->used = 4;
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

double ntas_rng_gamma_primed(ntas_rng *rng, double shape, double x, double u)
{
    if (!(shape >= 1.0) || !isfinite(shape))
        return NAN;
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / sqrt(9.0 * d);
    double v = mt_v(x, c);
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
