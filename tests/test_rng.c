/* test_rng — Philox known answers, hash/stream-key stability, uniforms, the
 * exact normal definition (frozen values from tests/ref_normals.py), the
 * vector kernels bitwise equal to the portable one, normal moments
 * and tails, the split-independence and position rules of the normal fill,
 * restoring a stream from its position, and gamma / chi-square moments.
 * Every sample comes from a fixed key, so the statistical checks are
 * deterministic: a failure is a real change, never bad luck. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/core/rng.h"
#include "check.h"

static int same_state(const ntas_rng *a, const ntas_rng *b)
{
    return a->key[0] == b->key[0] && a->key[1] == b->key[1] && a->block == b->block &&
           a->used == b->used && a->spare == b->spare &&
           memcmp(a->buf, b->buf, sizeof a->buf) == 0;
}

/* |estimate - expected| within 5 standard errors; prints the z-score so a
 * drift shows before it fails. */
static void check_z(const char *what, double est, double expected, double se)
{
    double z = (est - expected) / se;
    printf("  %-34s %12.6g  expected %12.6g  z = %+.2f\n", what, est, expected, z);
    CHECK_MSG(fabs(z) <= 5.0, "%s: %.9g vs %.9g (%.2f standard errors)", what, est, expected, z);
}

static void test_philox_kat(void)
{
    /* Random123 kat_vectors for philox4x32_10. */
    static const struct { uint32_t ctr[4], key[2], out[4]; } kat[3] = {
        { { 0x00000000, 0x00000000, 0x00000000, 0x00000000 }, { 0x00000000, 0x00000000 },
          { 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8 } },
        { { 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff }, { 0xffffffff, 0xffffffff },
          { 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd } },
        { { 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344 }, { 0xa4093822, 0x299f31d0 },
          { 0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1 } },
    };
    for (int t = 0; t < 3; t++) {
        uint32_t out[4];
        ntas_philox4x32_10(kat[t].ctr, kat[t].key, out);
        for (int i = 0; i < 4; i++)
            CHECK_MSG(out[i] == kat[t].out[i], "vector %d word %d: got %08x want %08x", t, i,
                      (unsigned)out[i], (unsigned)kat[t].out[i]);
    }
}

static void test_hash(void)
{
    const char *s = "init";
    uint64_t h1 = ntas_hash64(s, strlen(s), 42);
    uint64_t h2 = ntas_hash64(s, strlen(s), 42);
    CHECK(h1 == h2);
    CHECK(ntas_hash64(s, strlen(s), 43) != h1);   /* the seed chains */
    CHECK(ntas_stream_key(42, "init") == h1);      /* stream_key is the hash */
    CHECK(ntas_stream_key(42, "init") != ntas_stream_key(42, "data"));
    CHECK(ntas_stream_key(42, "data/0") != ntas_stream_key(42, "data/1"));
    CHECK(ntas_stream_key(42, "") != ntas_stream_key(43, ""));
    /* A trailing zero byte changes the hash (length matters). */
    CHECK(ntas_hash64("ab\0", 3, 0) != ntas_hash64("ab", 2, 0));

    /* Frozen values: resume relies on the hash never changing. These were
     * computed by an independent Python transcription of the definition in
     * rng.c; if this fails, the hash changed (needs a format bump). */
    CHECK_MSG(ntas_hash64("", 0, 0) == UINT64_C(0xaebe53f85cdc3c4c),
              "hash64(\"\",0) = %016llx", (unsigned long long)ntas_hash64("", 0, 0));
    CHECK_MSG(ntas_stream_key(1, "init") == UINT64_C(0x5f82868e3adf8fb4),
              "stream_key(1,\"init\") = %016llx",
              (unsigned long long)ntas_stream_key(1, "init"));

    /* No duplicate keys among many similar names (a weak avalanche check). */
    enum { N = 2000 };
    uint64_t *keys = malloc(N * sizeof *keys);
    char name[32];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "data/%d", i);
        keys[i] = ntas_stream_key(7, name);
    }
    int dup = 0;
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            dup += keys[i] == keys[j] || (uint32_t)keys[i] == (uint32_t)keys[j];
    CHECK_MSG(dup == 0, "%d duplicate keys (or low halves)", dup);
    free(keys);
}

static void test_stream_layout(void)
{
    /* Words are Philox(ctr={block lo, block hi, 0, 0}, key={K lo, K hi}) in order. */
    const uint64_t K = UINT64_C(0x0123456789abcdef);
    ntas_rng rng;
    ntas_rng_init(&rng, K);
    const uint32_t key[2] = { 0x89abcdefu, 0x01234567u };
    for (uint32_t b = 0; b < 3; b++) {
        uint32_t ctr[4] = { b, 0, 0, 0 }, want[4];
        ntas_philox4x32_10(ctr, key, want);
        for (int i = 0; i < 4; i++)
            CHECK(ntas_rng_u32(&rng) == want[i]);
    }
    /* The high counter word carries block >> 32. */
    rng.block = UINT64_C(0x500000007);
    rng.used = 4;
    uint32_t ctr[4] = { 7, 5, 0, 0 }, want[4];
    ntas_philox4x32_10(ctr, key, want);
    CHECK(ntas_rng_u32(&rng) == want[0]);

    /* Uniform: a = first word (high), b = second (low). */
    ntas_rng_init(&rng, K);
    uint32_t ctr0[4] = { 0, 0, 0, 0 };
    ntas_philox4x32_10(ctr0, key, want);
    uint64_t x = (((uint64_t)want[0] << 32) | want[1]) >> 11;
    CHECK(ntas_rng_uniform(&rng) == ((double)x + 0.5) * 0x1p-53);
}

static void test_uniform_range(void)
{
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_stream_key(3, "uniform"));
    double lo = 1.0, hi = 0.0, sum = 0.0;
    const int N = 1000000;
    for (int i = 0; i < N; i++) {
        double u = ntas_rng_uniform(&rng);
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
        sum += u;
    }
    CHECK(lo > 0.0 && hi < 1.0);
    CHECK_NEAR(sum / N, 0.5, 2e-3);
}

/* Frozen values of the normal definition in rng.h (version 3, ziggurat).
 * They come from tests/ref_normals.py, an independent transcription of that
 * definition in pure Python (IEEE doubles, correctly rounded arithmetic),
 * which parses the tables from src/core/rng_zig_tables.h. A failure means
 * the normals changed: a results-format change. */
static void test_normal_kat(void)
{
    static const struct { int i; double z; } kat[] = {
        {     0, 0x1.e643760140cabp+0 },  {     1, -0x1.7c950f0554c39p-6 },
        {     2, -0x1.30bff4bae504cp+0 }, {     3, 0x1.21eec4d21499ap-1 },
        {     4, 0x1.e306299199b5ap-1 },  {     5, -0x1.89c1bc6db6bf1p-2 },
        {    62, 0x1.da9418d06c961p-2 },  {    63, -0x1.e80dfbeb1d0a6p-3 },
        {    64, -0x1.8299e74deb7fcp-1 }, {    65, 0x1.c06c5672125aep-1 },
        {  1001, 0x1.29a45b5374d4bp-2 },  { 19998, -0x1.dc4f6ac216797p+0 },
        { 19999, -0x1.12da62fef7da8p-6 },
    };
    enum { N = 20000 };
    double *z = malloc(N * sizeof *z);
    ntas_rng rng;
    ntas_rng_init(&rng, UINT64_C(0x0123456789abcdef));
    ntas_rng_normal_fill(&rng, z, N);
    for (size_t k = 0; k < sizeof kat / sizeof kat[0]; k++)
        CHECK_MSG(z[kat[k].i] == kat[k].z, "normal %d = %a, want %a", kat[k].i, z[kat[k].i],
                  kat[k].z);
    free(z);

    /* Hand-made blocks, through the owed-z1 path (buf + spare), chosen to
     * take the slow path: the tail beyond R with either sign, the top layer
     * (all wedge) and the largest m of a middle layer. Same Python source. */
    static const struct { uint32_t w[4]; double z1; } blk[] = {
        { { 0x00000000, 0x00000000, 0xffffffff, 0xfffff000 }, 0x1.0419cde376e67p+2 },
        { { 0x00000000, 0x00000000, 0xffffffff, 0xfffff400 }, -0x1.0419cde376e67p+2 },
        { { 0x00000000, 0x00000000, 0x40000000, 0x000007ff }, -0x1.149c33f9c163dp-5 },
        { { 0x00000000, 0x00000000, 0xffffffff, 0xfffff200 }, -0x1.929cb587c8f37p-2 },
    };
    for (size_t k = 0; k < sizeof blk / sizeof blk[0]; k++) {
        ntas_rng_init(&rng, 1);
        memcpy(rng.buf, blk[k].w, sizeof rng.buf);
        rng.block = 1;
        rng.spare = 1;
        double v = ntas_rng_normal(&rng);
        CHECK_MSG(v == blk[k].z1, "block %zu: z1 = %a, want %a", k, v, blk[k].z1);
        CHECK(rng.spare == 0 && rng.block == 1);
    }
}

/* The wedge squeeze decides like the exact log test: in every layer, at
 * random points and at the words next to the curve. The decision is
 * monotone in the uniform word (y grows with it), so bisection on the
 * exact test finds the last accepted word; the squeeze must agree there,
 * at the words around it (where only the exact test can decide) and far
 * from it (where the bounds decide alone). */
static void test_zig_squeeze(void)
{
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_stream_key(5, "zig-squeeze"));
    long compared = 0, wedges = 0;
    for (int layer = 1; layer < 1024; layer++) {
        for (int s = 12; s <= 52; s += 4) {
            uint64_t m = ((UINT64_C(1) << 52) - 1) - (((uint64_t)ntas_rng_u32(&rng) << 20) >> (s - 12) >> 20);
            if (ntas_rng_zig_wedge_test(layer, m, 0, 1) < 0)
                continue;
            wedges++;
            for (int k = 0; k < 8; k++) {
                uint64_t u = ((uint64_t)ntas_rng_u32(&rng) << 32) | ntas_rng_u32(&rng);
                CHECK_MSG(ntas_rng_zig_wedge_test(layer, m, u, 0) == ntas_rng_zig_wedge_test(layer, m, u, 1),
                          "layer %d m %llu word %llx: squeeze and log differ", layer, (unsigned long long)m,
                          (unsigned long long)u);
                compared++;
            }
            /* Last accepted 53-bit uniform index (word = index << 11), if any. */
            uint64_t lo = 0, hi = (UINT64_C(1) << 53) - 1;
            if (!ntas_rng_zig_wedge_test(layer, m, 0, 1))
                continue;
            while (lo < hi) {
                uint64_t mid = lo + (hi - lo + 1) / 2;
                if (ntas_rng_zig_wedge_test(layer, m, mid << 11, 1)) lo = mid;
                else hi = mid - 1;
            }
            for (int64_t d = -40; d <= 40; d++) {
                int64_t q = (int64_t)lo + d * (d < -8 || d > 8 ? 4099 : 1);
                if (q < 0 || q >= (INT64_C(1) << 53))
                    continue;
                uint64_t u = (uint64_t)q << 11;
                int want = ntas_rng_zig_wedge_test(layer, m, u, 1);
                CHECK(want == (q <= (int64_t)lo));
                CHECK_MSG(ntas_rng_zig_wedge_test(layer, m, u, 0) == want,
                          "layer %d m %llu index %lld (boundary %llu): squeeze and log differ", layer,
                          (unsigned long long)m, (long long)q, (unsigned long long)lo);
                compared++;
            }
        }
    }
    CHECK(wedges > 5000);
    CHECK(ntas_rng_zig_wedge_test(1, 0, 0, 0) == -1 && ntas_rng_zig_wedge_test(0, UINT64_C(1) << 51, 0, 0) == -1);
    printf("  wedge squeeze = log test at %ld points (%ld wedge candidates in 1023 layers)\n", compared, wedges);
}

/* Every kernel this machine has gives the bits of the portable one: many
 * draws from several keys, odd and even counts, counts that leave a partial
 * vector, and fills that start with an owed z1 or after a used word. */
static void test_normal_kernels_equal(void)
{
    static const size_t counts[] = { 1, 2, 3, 7, 15, 16, 17, 31, 33, 63, 129, 1001, 4000, 100001 };
    enum { MAXN = 100001 };
    double *ref = malloc(MAXN * sizeof *ref), *got = malloc(MAXN * sizeof *got);
    int kernels = 0;
    for (int k = NTAS_RNG_AVX2; k <= NTAS_RNG_AVX512; k++) {
        if (!ntas_rng_kernel_supported((ntas_rng_kernel)k)) {
            printf("  kernel %s: not on this CPU\n", ntas_rng_kernel_name((ntas_rng_kernel)k));
            continue;
        }
        kernels++;
        long compared = 0;
        for (uint64_t seed = 0; seed < 4; seed++)
            for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
                for (int start = 0; start < 3; start++) {
                    ntas_rng a, b;
                    ntas_rng_init(&a, ntas_stream_key(seed, "kernels"));
                    if (start == 1)
                        ntas_rng_normal_fill(&a, ref, 1); /* owes a z1 */
                    else if (start == 2)
                        ntas_rng_u32(&a);
                    b = a;
                    CHECK(ntas_rng_normal_fill_with(&a, ref, counts[c], NTAS_RNG_PORTABLE) == 0);
                    CHECK(ntas_rng_normal_fill_with(&b, got, counts[c], (ntas_rng_kernel)k) == 0);
                    CHECK_MSG(memcmp(ref, got, counts[c] * sizeof *ref) == 0,
                              "kernel %s differs: key %d, %zu normals, start %d",
                              ntas_rng_kernel_name((ntas_rng_kernel)k), (int)seed, counts[c], start);
                    CHECK(same_state(&a, &b));
                    compared += (long)counts[c];
                }
        /* A long stream: ~2.6e3 slow-path normals among 10^6. */
        ntas_rng a, b;
        ntas_rng_init(&a, ntas_stream_key(99, "kernels/long"));
        b = a;
        double *big_a = malloc(1000000 * sizeof *big_a), *big_b = malloc(1000000 * sizeof *big_b);
        ntas_rng_normal_fill_with(&a, big_a, 1000000, NTAS_RNG_PORTABLE);
        ntas_rng_normal_fill_with(&b, big_b, 1000000, (ntas_rng_kernel)k);
        CHECK_MSG(memcmp(big_a, big_b, 1000000 * sizeof *big_a) == 0, "kernel %s: 10^6 draws differ",
                  ntas_rng_kernel_name((ntas_rng_kernel)k));
        compared += 1000000;
        free(big_a);
        free(big_b);
        printf("  kernel %s = portable over %ld normals\n", ntas_rng_kernel_name((ntas_rng_kernel)k),
               compared);
    }
    printf("  best kernel here: %s (%d vector kernels checked)\n",
           ntas_rng_kernel_name(ntas_rng_kernel_best()), kernels);
    CHECK(ntas_rng_kernel_supported(NTAS_RNG_PORTABLE) && ntas_rng_kernel_supported(NTAS_RNG_AUTO));
    free(ref);
    free(got);
}

static void test_normal_stats(void)
{
    enum { N = 1000000 };
    double *z = malloc(N * sizeof *z);
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_stream_key(12345, "normal-stats"));
    ntas_rng_normal_fill(&rng, z, N);
    double s1 = 0, s2 = 0, s3 = 0, s4 = 0;
    long tail[5] = { 0 };
    int finite = 1;
    for (int i = 0; i < N; i++) {
        double x = z[i], x2 = x * x;
        finite &= isfinite(x);
        s1 += x;
        s2 += x2;
        s3 += x2 * x;
        s4 += x2 * x2;
        for (int t = 1; t <= 4; t++)
            tail[t] += fabs(x) > t;
    }
    CHECK(finite);
    printf("normal moments over %d draws:\n", N);
    /* Standard errors from the normal's moments: Var z = 1, Var z^2 = 2,
     * Var z^3 = 15, Var z^4 = 96. */
    check_z("mean", s1 / N, 0.0, sqrt(1.0 / N));
    check_z("E z^2", s2 / N, 1.0, sqrt(2.0 / N));
    check_z("E z^3", s3 / N, 0.0, sqrt(15.0 / N));
    check_z("E z^4", s4 / N, 3.0, sqrt(96.0 / N));
    for (int t = 1; t <= 4; t++) {
        double p = erfc(t / sqrt(2.0));
        char what[32];
        snprintf(what, sizeof what, "P(|z| > %d)", t);
        check_z(what, (double)tail[t] / N, p, sqrt(p * (1 - p) / N));
    }
    /* Independence: within a pair (same block) and across pairs. */
    double c_in = 0, c_across = 0;
    for (int i = 0; i + 3 < N; i += 2) {
        c_in += z[i] * z[i + 1];
        c_across += z[i + 1] * z[i + 2];
    }
    check_z("E z0 z1 (same block)", c_in / (N / 2 - 1), 0.0, sqrt(1.0 / (N / 2 - 1)));
    check_z("E z1 z0' (next block)", c_across / (N / 2 - 1), 0.0, sqrt(1.0 / (N / 2 - 1)));
    /* Shape: chi-square of a 42-bin histogram (width 0.2 on [-4, 4] plus the
     * two tails) against the normal cdf. 41 degrees of freedom: mean 41,
     * sd 9; the bound is 5 sd above the mean. */
    enum { NB = 42 };
    long h[NB] = { 0 };
    for (int i = 0; i < N; i++) {
        double x = z[i];
        int k;
        if (x < -4.0)
            k = 0;
        else if (x >= 4.0)
            k = NB - 1;
        else {
            k = 1 + (int)floor((x + 4.0) / 0.2);
            k = k > NB - 2 ? NB - 2 : k; /* (x + 4) / 0.2 may round up to 40 */
        }
        h[k]++;
    }
    double chi2 = 0.0;
    for (int k = 0; k < NB; k++) {
        double lo = k == 0 ? -INFINITY : -4.0 + 0.2 * (k - 1);
        double hi = k == NB - 1 ? INFINITY : -4.0 + 0.2 * k;
        double p = 0.5 * (erfc(-hi / sqrt(2.0)) - erfc(-lo / sqrt(2.0)));
        double e = p * N;
        chi2 += (h[k] - e) * (h[k] - e) / e;
    }
    printf("  histogram chi-square (41 dof)     %12.6g\n", chi2);
    CHECK_MSG(chi2 < 41.0 + 5.0 * 9.06, "chi2 = %g", chi2);
    free(z);
}

/* The far tail, which only the ziggurat's slow path produces (beyond
 * R = 4.04): P(|z| > 4.5) over 10^7 draws (about 68 expected). */
static void test_normal_far_tail(void)
{
    enum { N = 10000000, CHUNK = 100000 };
    double *z = malloc(CHUNK * sizeof *z);
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_stream_key(2024, "normal-tail"));
    long beyond = 0, beyond_r = 0;
    for (int c = 0; c < N / CHUNK; c++) {
        ntas_rng_normal_fill(&rng, z, CHUNK);
        for (int i = 0; i < CHUNK; i++) {
            beyond += fabs(z[i]) > 4.5;
            beyond_r += fabs(z[i]) > 4.0388498461095045;
        }
    }
    double p = erfc(4.5 / sqrt(2.0)), pr = erfc(4.0388498461095045 / sqrt(2.0));
    check_z("P(|z| > 4.5), 10^7 draws", (double)beyond / N, p, sqrt(p * (1 - p) / N));
    check_z("P(|z| > R), 10^7 draws", (double)beyond_r / N, pr, sqrt(pr * (1 - pr) / N));
    free(z);
}

/* The promise that makes the fill convenient: how a count is split into
 * calls (and single ntas_rng_normal draws) never changes the values or the
 * final state. Split sizes are pseudo-random, including 0, 1, odd sizes and
 * sizes beyond one internal batch of 32 blocks. */
static void test_normal_split(void)
{
    enum { N = 5000 };
    double *one = malloc(N * sizeof *one), *many = malloc(N * sizeof *many);
    const uint64_t K = ntas_stream_key(5, "split");
    ntas_rng ref;
    ntas_rng_init(&ref, K);
    ntas_rng_normal_fill(&ref, one, N);
    ntas_rng sizes;
    ntas_rng_init(&sizes, ntas_stream_key(5, "split sizes"));
    for (int trial = 0; trial < 50; trial++) {
        ntas_rng r;
        ntas_rng_init(&r, K);
        size_t i = 0;
        while (i < N) {
            uint32_t x = ntas_rng_u32(&sizes);
            size_t len = trial < 25 ? x % 8 : x % 150;
            if (x % 7 == 0) {
                many[i++] = ntas_rng_normal(&r);
                continue;
            }
            if (len > N - i)
                len = N - i;
            ntas_rng_normal_fill(&r, many + i, len);
            i += len;
        }
        CHECK_MSG(memcmp(one, many, N * sizeof *one) == 0, "trial %d: values differ", trial);
        CHECK_MSG(same_state(&r, &ref), "trial %d: final state differs", trial);
    }
    /* An odd total owes the last z1; an even one does not. */
    ntas_rng r;
    ntas_rng_init(&r, K);
    ntas_rng_normal_fill(&r, many, 7);
    CHECK(r.spare == 1 && r.block == 4 && r.used == 4);
    ntas_rng_normal_fill(&r, many + 7, 1);
    CHECK(r.spare == 0 && r.block == 4);
    CHECK(memcmp(one, many, 8 * sizeof *one) == 0);
    free(one);
    free(many);
}

/* Mixing words and normals: u32/uniform drop an owed z1, and normals after
 * words start at the next whole block. */
static void test_normal_position_rule(void)
{
    const uint64_t K = ntas_stream_key(5, "position");
    double all[16], z[4];
    ntas_rng ref;
    ntas_rng_init(&ref, K);
    ntas_rng_normal_fill(&ref, all, 16); /* pair k = block k */

    /* fill(1), then a uniform: the uniform is block 1's words 0, 1. */
    ntas_rng a, w;
    ntas_rng_init(&a, K);
    ntas_rng_init(&w, K);
    ntas_rng_normal_fill(&a, z, 1);
    CHECK(z[0] == all[0] && a.spare == 1);
    for (int k = 0; k < 4; k++)
        ntas_rng_u32(&w);
    CHECK(ntas_rng_uniform(&a) == ntas_rng_uniform(&w));
    CHECK(a.spare == 0);
    /* ...and the next normals skip the rest of block 1: pair of block 2. */
    ntas_rng_normal_fill(&a, z, 3);
    CHECK(z[0] == all[4] && z[1] == all[5] && z[2] == all[6]);

    /* One to three words drawn: the block is abandoned. */
    for (int skip = 1; skip <= 3; skip++) {
        ntas_rng b;
        ntas_rng_init(&b, K);
        for (int k = 0; k < skip; k++)
            ntas_rng_u32(&b);
        ntas_rng_normal_fill(&b, z, 4);
        CHECK_MSG(memcmp(z, all + 2, 4 * sizeof z[0]) == 0, "skip %d", skip);
        /* Four words: exactly block 0 used up, same place. */
    }
    ntas_rng c;
    ntas_rng_init(&c, K);
    for (int k = 0; k < 4; k++)
        ntas_rng_u32(&c);
    ntas_rng_normal_fill(&c, z, 4);
    CHECK(memcmp(z, all + 2, 4 * sizeof z[0]) == 0);
}

/* A checkpoint needs only (key, block, used, spare): buf is block - 1's
 * output. Restore at many points of a mixed draw sequence and continue. */
static void test_restore(void)
{
    const uint64_t K = ntas_stream_key(9, "restore");
    ntas_rng live;
    ntas_rng_init(&live, K);
    ntas_rng ops;
    ntas_rng_init(&ops, ntas_stream_key(9, "ops"));
    int ok = 1;
    for (int step = 0; step < 300; step++) {
        uint32_t x = ntas_rng_u32(&ops);
        double buf[40];
        switch (x % 4) {
        case 0: ntas_rng_normal_fill(&live, buf, (x >> 8) % 40); break;
        case 1: ntas_rng_u32(&live); break;
        case 2: ntas_rng_uniform(&live); break;
        default: ntas_rng_normal(&live); break;
        }
        ntas_rng back;
        ntas_rng_init(&back, K);
        back.block = live.block;
        back.used = live.used;
        back.spare = live.spare;
        if (back.block > 0) {
            uint64_t j = back.block - 1;
            uint32_t ctr[4] = { (uint32_t)j, (uint32_t)(j >> 32), 0, 0 };
            ntas_philox4x32_10(ctr, back.key, back.buf);
        }
        ok &= same_state(&back, &live);
        ntas_rng l2 = live;
        double p[5], q[5];
        ntas_rng_normal_fill(&l2, p, 5);
        ntas_rng_normal_fill(&back, q, 5);
        ok &= memcmp(p, q, sizeof p) == 0;
    }
    CHECK_MSG(ok, "a restored stream diverged");

    /* A restored state may hold an untouched block (used == 0): the next
     * normals start with it, as if it had not been generated. */
    double a[6], b[6];
    ntas_rng r1, r2;
    ntas_rng_init(&r1, K);
    ntas_rng_init(&r2, K);
    const uint32_t ctr0[4] = { 0, 0, 0, 0 };
    ntas_philox4x32_10(ctr0, r1.key, r1.buf);
    r1.block = 1;
    r1.used = 0;
    ntas_rng_normal_fill(&r1, a, 6);
    ntas_rng_normal_fill(&r2, b, 6);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(same_state(&r1, &r2));
}

/* uniform_fill is n uniform calls, from every word offset (and with a
 * normal owed), for lengths around the batch size. */
static void test_uniform_fill(void)
{
    const size_t lens[] = { 0, 1, 2, 3, 63, 64, 65, 130, 1001 };
    double a[1001], b[1001];
    int ok = 1;
    for (int start = 0; start < 6; start++)
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            size_t n = lens[li];
            ntas_rng r1, r2;
            ntas_rng_init(&r1, ntas_stream_key(4, "uniform-fill"));
            if (start < 4) {
                for (int k = 0; k < start; k++)
                    ntas_rng_u32(&r1);
            } else {
                double z[3];
                ntas_rng_normal_fill(&r1, z, start == 4 ? 1 : 3); /* leaves a spare */
            }
            r2 = r1;
            ntas_rng_uniform_fill(&r1, a, n);
            for (size_t i = 0; i < n; i++)
                b[i] = ntas_rng_uniform(&r2);
            ok &= (n == 0 || memcmp(a, b, n * sizeof a[0]) == 0) && same_state(&r1, &r2);
            ok &= ntas_rng_u32(&r1) == ntas_rng_u32(&r2);
        }
    CHECK_MSG(ok, "uniform_fill differs from repeated ntas_rng_uniform");
}

/* Gamma(a) has mean a, variance a and fourth central moment 3a^2 + 6a, so
 * the sample variance has standard error sqrt((2a^2 + 6a) / N). Shapes
 * below 1 exercise the boost; 99.5 is the Wishart's chi^2_199 / 2. */
static void test_gamma(void)
{
    const double shapes[] = { 0.3, 0.5, 1.0, 2.5, 10.0, 99.5 };
    enum { N = 200000 };
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_stream_key(31, "gamma"));
    printf("gamma / chi-square moments over %d draws:\n", N);
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        double a = shapes[k], s1 = 0, s2 = 0;
        int pos = 1;
        for (int i = 0; i < N; i++) {
            double g = ntas_rng_gamma(&rng, a);
            pos &= g > 0 && isfinite(g);
            s1 += g;
            s2 += (g - a) * (g - a);
        }
        char what[48];
        CHECK_MSG(pos, "shape %g: a draw <= 0 or not finite", a);
        snprintf(what, sizeof what, "gamma(%g) mean", a);
        check_z(what, s1 / N, a, sqrt(a / N));
        snprintf(what, sizeof what, "gamma(%g) variance", a);
        check_z(what, s2 / N, a, sqrt((2 * a * a + 6 * a) / N));
    }
    /* chi^2_k = 2 gamma(k/2) (z^2 for k = 1): mean k, variance 2k, and the
     * sample variance's standard error sqrt((8k^2 + 48k) / N). */
    const int dofs[] = { 1, 2, 7, 200 };
    for (size_t k = 0; k < sizeof dofs / sizeof dofs[0]; k++) {
        double d = dofs[k], s1 = 0, s2 = 0;
        for (int i = 0; i < N; i++) {
            double c = ntas_rng_chisq(&rng, dofs[k]);
            s1 += c;
            s2 += (c - d) * (c - d);
        }
        char what[48];
        snprintf(what, sizeof what, "chisq(%d) mean", dofs[k]);
        check_z(what, s1 / N, d, sqrt(2 * d / N));
        snprintf(what, sizeof what, "chisq(%d) variance", dofs[k]);
        check_z(what, s2 / N, 2 * d, sqrt((8 * d * d + 48 * d) / N));
    }
    /* Primed with the first attempt's (x, u) drawn in bulk: same law. */
    for (size_t k = 3; k < sizeof shapes / sizeof shapes[0]; k++) {
        double a = shapes[k], s1 = 0, s2 = 0;
        enum { M = 2000 };
        double x[M], u[M];
        for (int i = 0; i < N; i += M) {
            ntas_rng_normal_fill(&rng, x, M);
            ntas_rng_uniform_fill(&rng, u, M);
            for (int j = 0; j < M; j++) {
                double g = ntas_rng_gamma_primed(&rng, a, x[j], u[j]);
                s1 += g;
                s2 += (g - a) * (g - a);
            }
        }
        char what[48];
        snprintf(what, sizeof what, "primed gamma(%g) mean", a);
        check_z(what, s1 / N, a, sqrt(a / N));
        snprintf(what, sizeof what, "primed gamma(%g) variance", a);
        check_z(what, s2 / N, a, sqrt((2 * a * a + 6 * a) / N));
    }
    /* An accepted first attempt is d v with no draw from the stream. */
    {
        ntas_rng r0 = rng;
        double d = 2.5 - 1.0 / 3.0, v = pow(1.0 + 0.1 / sqrt(9.0 * d), 3.0);
        CHECK_NEAR(ntas_rng_gamma_primed(&rng, 2.5, 0.1, 0.5), d * v, 1e-14);
        CHECK(same_state(&r0, &rng));
    }
    CHECK(isnan(ntas_rng_gamma_primed(&rng, 0.5, 0.0, 0.5)));
    CHECK(isnan(ntas_rng_gamma(&rng, 0.0)) && isnan(ntas_rng_gamma(&rng, -1.0)));
    CHECK(isnan(ntas_rng_chisq(&rng, 0)));
    /* Reproducible: same key, same variates. */
    ntas_rng g1, g2;
    ntas_rng_init(&g1, 3);
    ntas_rng_init(&g2, 3);
    int same = 1;
    for (int i = 0; i < 100; i++)
        same &= ntas_rng_gamma(&g1, 2.5) == ntas_rng_gamma(&g2, 2.5);
    CHECK(same);
}

static void test_streams_differ(void)
{
    double a[64], b[64];
    ntas_rng r1, r2;
    ntas_rng_init(&r1, ntas_stream_key(1, "x"));
    ntas_rng_init(&r2, ntas_stream_key(1, "y"));
    ntas_rng_normal_fill(&r1, a, 64);
    ntas_rng_normal_fill(&r2, b, 64);
    int equal = 0;
    for (int i = 0; i < 64; i++)
        equal += a[i] == b[i];
    CHECK_MSG(equal == 0, "%d equal values", equal);

    /* Keys differing only in the high half give different streams too. */
    ntas_rng_init(&r1, UINT64_C(0x0000000100000000));
    ntas_rng_init(&r2, UINT64_C(0x0000000000000000));
    CHECK(ntas_rng_u32(&r1) != ntas_rng_u32(&r2));

    /* Same key, same numbers. */
    ntas_rng_init(&r1, ntas_stream_key(1, "x"));
    ntas_rng_normal_fill(&r1, b, 64);
    CHECK(memcmp(a, b, sizeof a) == 0);
}

int main(void)
{
    test_philox_kat();
    test_hash();
    test_stream_layout();
    test_uniform_range();
    test_normal_kat();
    test_normal_kernels_equal();
    test_normal_stats();
    test_normal_far_tail();
    test_zig_squeeze();
    test_normal_split();
    test_normal_position_rule();
    test_restore();
    test_uniform_fill();
    test_gamma();
    test_streams_differ();
    return CHECK_DONE();
}
