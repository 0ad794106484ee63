/* rng — counter-based random numbers (Philox4x32-10) and stream derivation.
 *
 * Owns every source of randomness in ntasweep. A stream is fully named by a
 * 64-bit key derived from (run key, stream name); its output depends only on
 * that key and on how many numbers were drawn, never on rank, time or order.
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
 * order. (block, used) is the whole position, so it is what a checkpoint
 * stores. */
typedef struct {
    uint32_t key[2];
    uint64_t block;      /* index of the next Philox block to generate */
    uint32_t buf[4];     /* current block's output */
    int      used;       /* words of buf already consumed (4 = empty) */
} ntas_rng;

void     ntas_rng_init(ntas_rng *rng, uint64_t stream_key);
uint32_t ntas_rng_u32(ntas_rng *rng);
/* Uniform in the open interval (0, 1), 53 random bits: with a, b the next
 * two words, x = (a:b) >> 11 and u = (x + 0.5) * 2^-53 in double arithmetic,
 * except that x = 2^53 - 1 (which would round to 1.0) gives 1 - 2^-53. */
double   ntas_rng_uniform(ntas_rng *rng);
/* n standard normal draws (Box-Muller on pairs of uniforms u1, u2:
 * r = sqrt(-2 log u1), z0 = r cos(2 pi u2), z1 = r sin(2 pi u2); an odd n
 * discards the last pair's z1). Always consumes 4*ceil(n/2) words, so the
 * stream position depends only on n: fill(7) ends where fill(8) would.
 * Allocation-free. */
void     ntas_rng_normal_fill(ntas_rng *rng, double *out, size_t n);

#endif
