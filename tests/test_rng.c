/* test_rng — Philox known answers, hash/stream-key stability, uniform and
 * normal definitions, and the stream-position rule of ntas_rng_normal_fill. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/rng.h"
#include "check.h"

#define TWO_PI 6.283185307179586476925286766559005768

/* Reference Box-Muller written straight from the documented definition, on
 * top of ntas_rng_uniform, to check the block-at-a-time fast path against. */
static void ref_normal_fill(ntas_rng *rng, double *out, size_t n)
{
    for (size_t i = 0; i < n; i += 2) {
        double u1 = ntas_rng_uniform(rng);
        double u2 = ntas_rng_uniform(rng);
        double r = sqrt(-2.0 * log(u1));
        out[i] = r * cos(TWO_PI * u2);
        if (i + 1 < n)
            out[i + 1] = r * sin(TWO_PI * u2);
    }
}

static int same_state(const ntas_rng *a, const ntas_rng *b)
{
    return a->key[0] == b->key[0] && a->key[1] == b->key[1] && a->block == b->block &&
           a->used == b->used && memcmp(a->buf, b->buf, sizeof a->buf) == 0;
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

static void test_normal_stats(void)
{
    enum { N = 1000000 };
    double *z = malloc(N * sizeof *z);
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_stream_key(12345, "normal-stats"));
    ntas_rng_normal_fill(&rng, z, N);
    double s = 0.0, s2 = 0.0;
    long tail = 0;
    int finite = 1;
    for (int i = 0; i < N; i++) {
        s += z[i];
        finite &= isfinite(z[i]);
        tail += fabs(z[i]) > 2.0;
    }
    double mean = s / N;
    for (int i = 0; i < N; i++)
        s2 += (z[i] - mean) * (z[i] - mean);
    CHECK(finite);
    CHECK_NEAR(mean, 0.0, 5e-3);
    CHECK_NEAR(s2 / (N - 1), 1.0, 1e-2);
    /* P(|z| > 2) = erfc(sqrt 2) = 0.0455003; binomial sd over 1e6 draws is 2.1e-4. */
    CHECK_NEAR((double)tail / N, erfc(sqrt(2.0)), 1e-3);
    /* Pairs (z0, z1) are independent: their correlation should vanish. */
    double c = 0.0;
    for (int i = 0; i + 1 < N; i += 2)
        c += z[i] * z[i + 1];
    CHECK_NEAR(c / (N / 2), 0.0, 1e-2);
    free(z);
}

/* The fast path must equal the documented word-by-word definition exactly,
 * both in the numbers and in the resulting stream state, from any starting
 * offset within a block. */
static void test_normal_matches_definition(void)
{
    const size_t lens[] = { 0, 1, 2, 3, 7, 8, 15, 16, 17, 18, 33, 101, 4000 };
    double a[4000], b[4000];
    for (int skip = 0; skip < 6; skip++) {
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            size_t n = lens[li];
            ntas_rng r1, r2;
            ntas_rng_init(&r1, ntas_stream_key(99, "def"));
            ntas_rng_init(&r2, ntas_stream_key(99, "def"));
            for (int k = 0; k < skip; k++) {
                ntas_rng_u32(&r1);
                ntas_rng_u32(&r2);
            }
            ntas_rng_normal_fill(&r1, a, n);
            ref_normal_fill(&r2, b, n);
            CHECK_MSG(n == 0 || memcmp(a, b, n * sizeof a[0]) == 0, "skip %d n %zu", skip, n);
            CHECK_MSG(same_state(&r1, &r2), "state after skip %d n %zu", skip, n);
            CHECK(ntas_rng_u32(&r1) == ntas_rng_u32(&r2));
        }
    }

    /* State with a generated but untouched block in buf (used == 0): the
     * public API never leaves this, but a state restored from a checkpoint
     * may; it is the same position as a fresh stream. */
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        size_t n = lens[li];
        ntas_rng r1, r2;
        ntas_rng_init(&r1, ntas_stream_key(99, "def"));
        ntas_rng_init(&r2, ntas_stream_key(99, "def"));
        const uint32_t ctr0[4] = { 0, 0, 0, 0 };
        ntas_philox4x32_10(ctr0, r1.key, r1.buf);
        r1.block = 1;
        r1.used = 0;
        ntas_rng_normal_fill(&r1, a, n);
        ref_normal_fill(&r2, b, n);
        CHECK_MSG(n == 0 || memcmp(a, b, n * sizeof a[0]) == 0, "used=0, n %zu", n);
        CHECK_MSG(n == 0 || same_state(&r1, &r2), "used=0 state, n %zu", n);
    }
}

/* Position rule: fill(n) consumes 4*ceil(n/2) words, so an odd n leaves the
 * stream where n+1 would: fill(7), fill(5) yields the first 7 of fill(8)
 * followed by the first 5 of the next fill(6), and ends where fill(8),
 * fill(6) ends (and where a single fill(14) ends). */
static void test_normal_position_rule(void)
{
    double a7[7], a5[5], b8[8], b6[6], c14[14];
    ntas_rng ra, rb, rc;
    uint64_t key = ntas_stream_key(5, "position");
    ntas_rng_init(&ra, key);
    ntas_rng_init(&rb, key);
    ntas_rng_init(&rc, key);
    ntas_rng_normal_fill(&ra, a7, 7);
    ntas_rng_normal_fill(&ra, a5, 5);
    ntas_rng_normal_fill(&rb, b8, 8);
    ntas_rng_normal_fill(&rb, b6, 6);
    ntas_rng_normal_fill(&rc, c14, 14);
    CHECK(memcmp(a7, b8, sizeof a7) == 0);
    CHECK(memcmp(a5, b6, sizeof a5) == 0);
    CHECK(memcmp(b8, c14, sizeof b8) == 0);
    CHECK(memcmp(b6, c14 + 8, sizeof b6) == 0);
    CHECK(same_state(&ra, &rb));
    CHECK(same_state(&ra, &rc));
    CHECK(ra.block == 7 && ra.used == 4); /* 7 pairs = 7 blocks */
    CHECK(ntas_rng_u32(&ra) == ntas_rng_u32(&rb));

    /* A uniform after an odd fill starts at the next block, not mid-pair. */
    ntas_rng rd, re;
    double one;
    ntas_rng_init(&rd, key);
    ntas_rng_init(&re, key);
    ntas_rng_normal_fill(&rd, &one, 1);
    for (int k = 0; k < 4; k++)
        ntas_rng_u32(&re);
    CHECK(ntas_rng_uniform(&rd) == ntas_rng_uniform(&re));
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
    test_normal_stats();
    test_normal_matches_definition();
    test_normal_position_rule();
    test_streams_differ();
    return CHECK_DONE();
}
