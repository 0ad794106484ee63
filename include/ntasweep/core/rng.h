/* rng — counter-based random numbers (Philox4x32-10) and stream derivation.
 *
 * Owns every source of randomness in ntasweep. A stream is fully named by a
 * 64-bit key derived from (run key, stream name); its output depends only on
 * that key and the draws made from it, never on rank, time, machine or order.
 * No global state: each ntas_rng belongs to the code that initialised it.
 */
#ifndef NTASWEEP_RNG_H
#define NTASWEEP_RNG_H

#include <stddef.h>
#include <stdint.h>

/* One Philox4x32-10 block (Salmon et al., SC'11; Random123 reference). */
void ntas_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* Stable 64-bit hash of bytes (FNV-1a folded through a SplitMix64 finaliser),
 * chained by `seed`; the exact definition is written out in rng.c. Used for
 * run keys and stream keys; never changes across versions without a format
 * bump, since resume relies on it. */
uint64_t ntas_hash64(const void *data, size_t len, uint64_t seed);

/* Key of the named stream of a run, e.g. ntas_stream_key(run_key, "init"):
 * ntas_hash64(name, strlen(name), run_key). */
uint64_t ntas_stream_key(uint64_t run_key, const char *stream_name);

/* Stream with key K: Philox key {K mod 2^32, K >> 32}; block j is Philox of
 * the counter {j mod 2^32, j >> 32, 0, 0}; its four words are consumed in
 * order. (block, used, spare) is the whole position, so it is what a
 * checkpoint stores: buf is always block - 1's output and can be recomputed.
 */
typedef struct {
    uint32_t key[2];
    uint64_t block;      /* index of the next Philox block to generate */
    uint32_t buf[4];     /* output of block `block - 1` (the last one generated) */
    int      used;       /* words of buf already consumed (4 = empty) */
    int      spare;      /* 1: buf's block gave a normal pair whose second
                          * value z1 is still owed to the next normal draw */
} ntas_rng;

void     ntas_rng_init(ntas_rng *rng, uint64_t stream_key);
/* Next word of the stream. Drops a pending spare normal. */
uint32_t ntas_rng_u32(ntas_rng *rng);
/* Uniform in the open interval (0, 1), 53 random bits: with a, b the next
 * two words, x = (a:b) >> 11 and u = (x + 0.5) * 2^-53 in double arithmetic,
 * except that x = 2^53 - 1 (which would round to 1.0) gives 1 - 2^-53.
 * Drops a pending spare normal. */
double   ntas_rng_uniform(ntas_rng *rng);
/* n uniforms: exactly the values and final state of n ntas_rng_uniform
 * calls, but whole blocks are generated in vectorised batches. */
void     ntas_rng_uniform_fill(ntas_rng *rng, double *out, size_t n);

/* Standard normals. Exact definition (version 3, "ziggurat", results
 * format 4; the Box-Muller version 2 of format 3 is gone):
 *
 * Normal pair of block j with words (w0, w1, w2, w3): z0 from the 64-bit
 * word (w0 << 32) | w1 (h = 0), z1 from (w2 << 32) | w3 (h = 1). A word W
 * gives a normal by the 1024-layer ziggurat of Marsaglia & Tsang (J. Stat.
 * Softw. 5(8), 2000), with tables ZIG_XS, ZIG_K, ZIG_F, ZIG_R computed in
 * 80-digit arithmetic by tools/gen_ziggurat.py and frozen in rng.c:
 *   i = W mod 1024 (layer),  sign = bit 10 of W,  m = W >> 12 (52 bits)
 *   if m < ZIG_K[i]:  z = +-fl(m * ZIG_XS[i])                  (99.74 %)
 *   else the slow path, with auxiliary blocks A_t = Philox of the counter
 *   {j mod 2^32, j >> 32, 1 + h, t}, t = 0, 1, ... (never a stream block):
 *     i = 0 (tail):  repeat x = -log(u(A_t words 0,1)) / ZIG_R,
 *                    y = -log(u(A_t words 2,3)) until 2y > x^2; z = +-(ZIG_R + x)
 *     i > 0 (wedge): x = fl(m ZIG_XS[i]); y = F[i] + u(A_t words 0,1) (F[i+1] - F[i]);
 *                    z = +-x if log(y) < -x^2/2, else W = A_t words 2,3
 *                    as a new candidate (fast test first again)
 *   u(a, b) is the uniform of ntas_rng_uniform; log is msun's e_log.c in
 *   plain IEEE double operations (no libm, no FMA), so the numbers are the
 *   same on every IEEE-754 machine, whatever libm or vector width.
 *
 * Order: normal pair k of a fill comes from one whole block; normals are
 * returned z0, z1, z0, z1, ... A draw starts with the owed z1 if `spare`;
 * otherwise, if words of the current block were already used by u32/uniform,
 * the rest of that block is skipped (normals never straddle blocks). When n
 * is odd at the end, the last block's z1 is kept owed (spare = 1), so a
 * sequence of fills of n1, n2, ... values returns exactly the values, and
 * leaves exactly the state, of one fill of n1 + n2 + ...: the split of a
 * fill into calls never matters. A u32/uniform draw drops an owed z1.
 * Allocation-free; runs the fastest kernel this CPU has (see below). */
void     ntas_rng_normal_fill(ntas_rng *rng, double *out, size_t n);
/* Whole blocks without moving rng, for a caller that buffers the draws of
 * several fills ahead (wishart.c): z[2k], z[2k+1] the normal pair of block
 * block0 + k (what a fill from a block boundary returns for that block) and
 * words[2k], words[2k+1] its words (w0:w1, w2:w3) as 64-bit values, from
 * which ntas_rng_uniform_of_word gives the uniform that ntas_rng_uniform
 * draws from those two words. ntas_rng_at_block_boundary: no word of the
 * current block used and no normal owed (a fill of an even count of
 * normals, or of uniforms, from a boundary ends at one).
 * ntas_rng_set_after_block: the state after every word of block `block`
 * (words wa, wb) was consumed, which is where such fills leave it. */
void     ntas_rng_blocks_at(const ntas_rng *rng, uint64_t block0, size_t nb, double *z, uint64_t *words);
/* x = top 53 bits of w, u = (x + 0.5) * 2^-53 in IEEE double (round to
 * nearest). The +0.5 keeps u away from 0 so log(u) is finite. In double
 * arithmetic the single value x = 2^53 - 1 would round up to exactly 1.0
 * (x + 0.5 needs 54 bits), so it is clamped to 1 - 2^-53, the largest
 * double below 1, to keep the interval open. Inline: the Wishart draw
 * converts 20 words a step. */
static inline double ntas_rng_uniform_of_word(uint64_t w)
{
    const double u = ((double)(w >> 11) + 0.5) * 0x1p-53;
    return u < 0x1.fffffffffffffp-1 ? u : 0x1.fffffffffffffp-1;
}
int      ntas_rng_at_block_boundary(const ntas_rng *rng);
void     ntas_rng_set_after_block(ntas_rng *rng, uint64_t block, uint64_t wa, uint64_t wb);
/* The ziggurat's wedge test for layer 1..1023, with x = m ZIG_XS[layer]
 * and y from the uniform of the 64-bit word uword, exactly as the slow
 * path computes them: 1 accept, 0 reject, -1 when m is inside the layer's
 * box (m < ZIG_K[layer]: no wedge) or layer is out of range. exact = 1
 * decides by log(y) < -x^2/2 alone; exact = 0 as the generator does, by
 * the squeeze first (rng.c). For test_rng, which checks they never differ. */
int      ntas_rng_zig_wedge_test(int layer, uint64_t m, uint64_t uword, int exact);

/* ntas_rng_normal_fill, then every value times scale: the weight init
 * W_ij ~ N(0, sigma^2 / d_in) of every model (SPEC-NOTES §1) is
 * ntas_rng_normal_fill_scaled(rng, W, n, sigma / sqrt(d_in)). */
void     ntas_rng_normal_fill_scaled(ntas_rng *rng, double *out, size_t n, double scale);
/* One normal: the same as ntas_rng_normal_fill(rng, &z, 1). */
double   ntas_rng_normal(ntas_rng *rng);

/* Implementations of the normal fill. All give the same bits (the fast path
 * is integer work and one correctly rounded multiply; the slow path is one
 * scalar function); they differ only in speed. AUTO is the fastest this CPU
 * supports (checked at run time), PORTABLE plain C for any machine. */
typedef enum {
    NTAS_RNG_AUTO = 0,
    NTAS_RNG_PORTABLE,
    NTAS_RNG_AVX2,
    NTAS_RNG_AVX512
} ntas_rng_kernel;

int            ntas_rng_kernel_supported(ntas_rng_kernel k);
const char    *ntas_rng_kernel_name(ntas_rng_kernel k);
ntas_rng_kernel ntas_rng_kernel_best(void);
/* ntas_rng_normal_fill with kernel k; -1 (and nothing drawn) if this CPU or
 * build does not have k. */
int            ntas_rng_normal_fill_with(ntas_rng *rng, double *out, size_t n,
                                         ntas_rng_kernel k);

/* Gamma(shape, 1) variate, shape > 0 (NaN otherwise). Marsaglia & Tsang,
 * "A simple method for generating gamma variables", ACM TOMS 26(3), 2000:
 * for shape >= 1, d = shape - 1/3, c = 1/sqrt(9d); repeat { x = normal;
 * v = 1 + c x; if v <= 0 retry; v = v^3; u = uniform; accept d v if
 * u < 1 - 0.0331 x^4 or ntas_log(u) < x^2/2 + d (1 - v + ntas_log(v)) }.
 * For shape < 1: g = gamma(shape + 1), then u = uniform and g u^(1/shape)
 * (libm pow; the only libm-dependent draw here). */
double   ntas_rng_gamma(ntas_rng *rng, double shape);
/* The same Marsaglia-Tsang loop for shape >= 1 (NaN otherwise), but its
 * first attempt uses the given normal x and uniform u (drawn by the caller,
 * e.g. in bulk); u is unused if that attempt has v <= 0. Later attempts
 * draw x = normal, then u = uniform, from rng as ntas_rng_gamma does. Any
 * independent N(0,1) and U(0,1) make the first attempt valid. */
double   ntas_rng_gamma_primed(ntas_rng *rng, double shape, double x, double u);
/* The same with the constants d = shape - 1/3, c = 1/sqrt(9 d) of
 * ntas_rng_gamma_constants computed once by a caller that draws the same
 * shape many times (shape >= 1 assumed). */
void     ntas_rng_gamma_constants(double shape, double *d, double *c);
double   ntas_rng_gamma_primed_dc(ntas_rng *rng, double shape, double d, double c, double x, double u);
/* A Marsaglia-Tsang attempt from (x, u) with c of ntas_rng_gamma_constants:
 * *v = (1 + c x)^3, and 1 when the attempt is valid (1 + c x > 0, v a
 * normal double) and passes the squeeze u < 1 - 0.0331 x^4, which accepts
 * d v without a log; 0 otherwise (then the log test of rng.c decides).
 * Branch-free, so a caller can run it over many attempts at once (the
 * Wishart diagonal); ntas_rng_gamma_primed_dc tests the same way, so the
 * two agree bit for bit. */
static inline int ntas_rng_mt_squeeze(double x, double u, double c, double *v)
{
    const double s = 1.0 + c * x, x2 = x * x;
    *v = s * s * s;
    return (s > 0.0) & (*v >= 0x1p-1022) & (u < 1.0 - 0.0331 * x2 * x2);
}
/* Chi-square variate with k >= 1 degrees of freedom: z^2 (z normal) for
 * k = 1, else 2 gamma(k/2), so integer k never needs the shape < 1 boost. */
double   ntas_rng_chisq(ntas_rng *rng, int k);

#endif
