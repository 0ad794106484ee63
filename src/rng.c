/* rng — Philox4x32-10, stream keys, uniforms and normals (see rng.h).
 *
 * Every definition here is part of the on-disk contract: checkpoints store
 * only (stream key, block, used), so a resumed run reproduces the same draws
 * only if these functions never change their output. Change nothing here
 * without a format bump.
 */
#include "ntasweep/rng.h"

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
 * (block, used) therefore names the position in the word sequence exactly:
 * position = 4*block - (4 - used).
 */

void ntas_rng_init(ntas_rng *rng, uint64_t stream_key)
{
    rng->key[0] = (uint32_t)stream_key;
    rng->key[1] = (uint32_t)(stream_key >> 32);
    rng->block = 0;
    memset(rng->buf, 0, sizeof rng->buf);
    rng->used = 4;
}

/* Generate block `rng->block` into `out` and advance the block index. */
static inline void next_block(ntas_rng *rng, uint32_t out[4])
{
    const uint32_t ctr[4] = { (uint32_t)rng->block, (uint32_t)(rng->block >> 32), 0, 0 };
    ntas_philox4x32_10(ctr, rng->key, out);
    rng->block++;
}

/* Generate NTAS_BATCH consecutive blocks starting at rng->block into w[] and
 * advance the block index. Same numbers as NTAS_BATCH calls of next_block,
 * but the blocks' round chains are independent, so laying them out as lanes
 * lets the CPU overlap them (and the compiler vectorise the 32x32->64
 * multiplies); one Philox block on its own is bound by multiply latency. */
#define NTAS_BATCH 8
static void next_blocks(ntas_rng *rng, uint32_t w[NTAS_BATCH][4])
{
    uint32_t c0[NTAS_BATCH], c1[NTAS_BATCH], c2[NTAS_BATCH], c3[NTAS_BATCH];
    for (int l = 0; l < NTAS_BATCH; l++) {
        uint64_t b = rng->block + (uint64_t)l;
        c0[l] = (uint32_t)b;
        c1[l] = (uint32_t)(b >> 32);
        c2[l] = 0;
        c3[l] = 0;
    }
    uint32_t k0 = rng->key[0], k1 = rng->key[1];
    for (int r = 0; r < 10; r++) {
        for (int l = 0; l < NTAS_BATCH; l++) {
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
    for (int l = 0; l < NTAS_BATCH; l++) {
        w[l][0] = c0[l];
        w[l][1] = c1[l];
        w[l][2] = c2[l];
        w[l][3] = c3[l];
    }
    rng->block += NTAS_BATCH;
}

uint32_t ntas_rng_u32(ntas_rng *rng)
{
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

#define NTAS_TWO_PI 6.283185307179586476925286766559005768

/* Box-Muller on one pair of uniforms (u1 then u2, as drawn). */
static inline void box_muller(double u1, double u2, double *z0, double *z1)
{
    double r = sqrt(-2.0 * log(u1));
    double t = NTAS_TWO_PI * u2;
    *z0 = r * cos(t);
    *z1 = r * sin(t);
}

/* Definition: for k = 0 .. ceil(n/2)-1: u1 = uniform, u2 = uniform,
 * out[2k] = z0, out[2k+1] = z1 (dropped when 2k+1 == n). Each pair consumes
 * exactly four words, so filling n normals advances the stream by
 * 4*ceil(n/2) words whatever n's parity: fill(7) leaves the stream where
 * fill(8) would.
 *
 * When the stream sits on a block boundary (the usual case: normals are all
 * the training loop draws), a pair is exactly one Philox block, so blocks are
 * generated straight into locals instead of going word by word through buf.
 * The result, and the final (block, used, buf) state, equal the word-by-word
 * path bit for bit. */
void ntas_rng_normal_fill(ntas_rng *rng, double *out, size_t n)
{
    size_t i = 0;
    double z0, z1;

    if (rng->used % 4 != 0) {
        /* Misaligned (someone drew an odd number of u32 or uniforms before):
         * pairs straddle blocks, so go word by word. */
        for (; i < n; i += 2) {
            double u1 = ntas_rng_uniform(rng);
            double u2 = ntas_rng_uniform(rng);
            box_muller(u1, u2, &z0, &z1);
            out[i] = z0;
            if (i + 1 < n)
                out[i + 1] = z1;
        }
        return;
    }

    if (n == 0)
        return;

    if (rng->used == 0) {
        /* A full, untouched block is waiting in buf: it is the first pair. */
        box_muller(u01_from_words(rng->buf[0], rng->buf[1]),
                   u01_from_words(rng->buf[2], rng->buf[3]), &z0, &z1);
        rng->used = 4;
        out[i] = z0;
        if (i + 1 < n)
            out[i + 1] = z1;
        i += 2;
    }

    uint32_t w[4] = { 0, 0, 0, 0 };
    int generated = 0;
    /* i may exceed n by one here (n == 1 served from buf), so compare sums,
     * never n - i. */
    if (i + 2 * (size_t)NTAS_BATCH <= n) {
        uint32_t wb[NTAS_BATCH][4];
        for (; i + 2 * (size_t)NTAS_BATCH <= n; i += 2 * (size_t)NTAS_BATCH) {
            next_blocks(rng, wb);
            for (int l = 0; l < NTAS_BATCH; l++) {
                box_muller(u01_from_words(wb[l][0], wb[l][1]),
                           u01_from_words(wb[l][2], wb[l][3]), &z0, &z1);
                out[i + 2 * (size_t)l] = z0;
                out[i + 2 * (size_t)l + 1] = z1;
            }
        }
        memcpy(w, wb[NTAS_BATCH - 1], sizeof w);
        generated = 1;
    }
    for (; i + 1 < n; i += 2) {
        next_block(rng, w);
        box_muller(u01_from_words(w[0], w[1]), u01_from_words(w[2], w[3]), &z0, &z1);
        out[i] = z0;
        out[i + 1] = z1;
        generated = 1;
    }
    if (i < n) {
        /* Odd tail: the pair's second value is discarded. */
        next_block(rng, w);
        box_muller(u01_from_words(w[0], w[1]), u01_from_words(w[2], w[3]), &z0, &z1);
        out[i] = z0;
        generated = 1;
    }
    if (generated) {
        /* Leave buf holding the last block, fully consumed, exactly as the
         * word-by-word path would. */
        memcpy(rng->buf, w, sizeof w);
        rng->used = 4;
    }
}
