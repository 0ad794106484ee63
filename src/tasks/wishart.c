/* wishart — Bartlett sampler of S = X^T X / B (see wishart.h). */
#include "ntasweep/tasks/wishart.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/core/err.h"

int ntas_wishart_init(ntas_wishart *w, int d, int B, char *err, size_t errlen)
{
    memset(w, 0, sizeof *w);
    if (d < 1 || B < 1) {
        ntas_set_err(err, errlen, "wishart: need d >= 1 and B >= 1 (d=%d, B=%d)", d, B);
        return -1;
    }
    if (B < d) {
        ntas_set_err(err, errlen,
                "wishart: batch B=%d < d=%d makes X^T X / B singular; the Bartlett "
                "sampler needs B >= d, so sample X instead",
                B, d);
        return NTAS_WISHART_NEEDS_X;
    }
    size_t dd = (size_t)d * (size_t)d, nz = (size_t)d * (size_t)(d - 1) / 2 + (size_t)d;
    w->A = calloc(dd, sizeof *w->A);
    w->At = calloc(dd, sizeof *w->At);
    w->z = malloc(nz * sizeof *w->z);
    w->u = malloc((size_t)d * sizeof *w->u);
    w->gd = malloc((size_t)d * sizeof *w->gd);
    w->gc = malloc((size_t)d * sizeof *w->gc);
    w->diag = malloc((size_t)d * sizeof *w->diag);
    w->pass = malloc((size_t)d * sizeof *w->pass);
    /* Blocks per draw: nz / 2 of normal pairs, d / 2 of uniform pairs;
     * ~1000 blocks buffered (the Fig. 2 shape: 8 draws of 115). */
    const int even = nz % 2 == 0 && d % 2 == 0;
    w->per_step = (int)(nz / 2) + d / 2;
    w->buf_steps = even ? (w->per_step < 960 ? 960 / w->per_step : 1) : 0;
    const size_t nbuf = 2 * (size_t)w->per_step * (size_t)w->buf_steps;
    w->zbuf = even ? malloc(nbuf * sizeof *w->zbuf) : NULL;
    w->wbuf = even ? malloc(nbuf * sizeof *w->wbuf) : NULL;
    if (!w->A || !w->At || !w->z || !w->u || !w->gd || !w->gc || !w->diag || !w->pass || (even && (!w->zbuf || !w->wbuf))) {
        ntas_wishart_free(w);
        ntas_set_err(err, errlen, "wishart: out of memory for d=%d", d);
        return -1;
    }
    for (int i = 0; i < d; i++) ntas_rng_gamma_constants(0.5 * (B - i), &w->gd[i], &w->gc[i]);
    w->d = d;
    w->B = B;
    return 0;
}

void ntas_wishart_free(ntas_wishart *w)
{
    free(w->A);
    free(w->At);
    free(w->z);
    free(w->u);
    free(w->gd);
    free(w->gc);
    free(w->diag);
    free(w->pass);
    free(w->zbuf);
    free(w->wbuf);
    memset(w, 0, sizeof *w);
}

/* The normals (into *z) and uniforms (into w->u) of one draw from the
 * buffer, refilled when the stream is not where the buffer continues; the
 * stream is left after the draw's last block. 0 when the stream is not at
 * a block boundary (the caller then fills as usual). */
static int buffered_draw(ntas_wishart *w, ntas_rng *rng, const double **z)
{
    if (w->buf_steps == 0 || !ntas_rng_at_block_boundary(rng)) return 0;
    const size_t per = (size_t)w->per_step;
    if (!w->buf_valid || w->buf_next == w->buf_steps || rng->key[0] != w->buf_key[0] ||
        rng->key[1] != w->buf_key[1] || rng->block != w->buf_block + (uint64_t)w->buf_next * per) {
        ntas_rng_blocks_at(rng, rng->block, per * (size_t)w->buf_steps, w->zbuf, w->wbuf);
        w->buf_block = rng->block;
        w->buf_key[0] = rng->key[0];
        w->buf_key[1] = rng->key[1];
        w->buf_next = 0;
        w->buf_valid = 1;
    }
    const size_t first = (size_t)w->buf_next * per, nz_blocks = per - (size_t)w->d / 2;
    *z = w->zbuf + 2 * first;
    const uint64_t *words = w->wbuf + 2 * (first + nz_blocks);
    for (int i = 0; i < w->d; i++) w->u[i] = ntas_rng_uniform_of_word(words[i]);
    const size_t last = first + per - 1;
    ntas_rng_set_after_block(rng, w->buf_block + last, w->wbuf[2 * last], w->wbuf[2 * last + 1]);
    w->buf_next++;
    return 1;
}

/* The first attempts of the d diagonals at once: pass_i = the attempt is
 * valid and passes the squeeze, val_i = its sqrt(2 (d v)). A loop without
 * branches (it vectorises: an AVX2 copy where the CPU has it; no fused
 * multiply-adds in either, so both give the same bits). */
static inline __attribute__((always_inline)) void squeeze_body(int n, const double *restrict gd,
                                                               const double *restrict gc, const double *restrict x,
                                                               const double *restrict u, double *restrict val,
                                                               long long *restrict pass)
{
    for (int i = 0; i < n; i++) {
        double v;
        pass[i] = ntas_rng_mt_squeeze(x[i], u[i], gc[i], &v); /* as ntas_rng_gamma_primed_dc tests */
        val[i] = sqrt(2.0 * (gd[i] * v)); /* also where it fails: no branch */
    }
}

static void squeeze_baseline(int n, const double *gd, const double *gc, const double *x, const double *u,
                             double *val, long long *pass)
{
    squeeze_body(n, gd, gc, x, u, val, pass);
}

#if defined(__GNUC__) && defined(__x86_64__)
__attribute__((target("avx2"))) static void squeeze_avx2(int n, const double *gd, const double *gc, const double *x,
                                                          const double *u, double *val, long long *pass)
{
    squeeze_body(n, gd, gc, x, u, val, pass);
}
#endif

/* The diagonal: A_ii = sqrt(2 gamma) of the first Marsaglia-Tsang attempt
 * (x_i, u_i), exactly as ntas_rng_gamma_primed_dc computes it. Most first
 * attempts pass the squeeze u < 1 - 0.0331 x^4 (rng.c's mt_accept), which
 * needs no log and draws nothing: that test and its value sqrt(2 (d v))
 * are computed for all i at once (squeeze_body), and only the other
 * diagonals (k = 1, or the squeeze failed) go through
 * ntas_rng_gamma_primed_dc, in order of i, so the stream moves as before.
 * The same operations per value: the same bits. */
static void diagonal(ntas_wishart *w, ntas_rng *rng, const double *restrict x, double *restrict A,
                     double *restrict At)
{
    const int d = w->d;
    const size_t ud = (size_t)d;
    double *restrict val = w->diag;
    long long *restrict pass = w->pass;
    const double *restrict gd = w->gd, *restrict gc = w->gc, *restrict u = w->u;
#if defined(__GNUC__) && defined(__x86_64__)
    if (__builtin_cpu_supports("avx2"))
        squeeze_avx2(d, gd, gc, x, u, val, pass);
    else
#endif
        squeeze_baseline(d, gd, gc, x, u, val, pass);
    for (int i = 0; i < d; i++) {
        const int k = w->B - i; /* >= B - d + 1 >= 1 */
        if (k == 1)
            val[i] = fabs(x[i]);
        else if (!pass[i])
            val[i] = sqrt(2.0 * ntas_rng_gamma_primed_dc(rng, 0.5 * k, gd[i], gc[i], x[i], u[i]));
        A[(size_t)i * ud + (size_t)i] = At[(size_t)i * ud + (size_t)i] = val[i];
    }
}

/* z (row-major strict lower triangle) into A's strict lower triangle and
 * At's strict upper one. */
static inline __attribute__((always_inline)) void scatter_normals(const double *restrict z, size_t ud,
                                                                  double *restrict A, double *restrict At)
{
    _Pragma("GCC unroll 20") for (size_t i = 1; i < ud; i++)
    {
        _Pragma("GCC unroll 20") for (size_t j = 0; j < i; j++)
        {
            A[i * ud + j] = *z;
            At[j * ud + i] = *z++;
        }
    }
}

const double *ntas_wishart_factor(ntas_wishart *w, ntas_rng *rng)
{
    const int d = w->d;
    const size_t ud = (size_t)d, noff = ud * (ud - 1) / 2;
    double *A = w->A, *At = w->At;

    const double *zs;
    if (!buffered_draw(w, rng, &zs)) {
        ntas_rng_normal_fill(rng, w->z, noff + ud);
        ntas_rng_uniform_fill(rng, w->u, ud);
        zs = w->z;
    }
    if (d == 20)
        scatter_normals(zs, 20, A, At); /* the Fig. 2 shape: constant indices, no loop branches */
    else
        scatter_normals(zs, ud, A, At);
    diagonal(w, rng, zs + noff, A, At);

    return A;
}

void ntas_wishart_sample(ntas_wishart *w, ntas_rng *rng, double *S)
{
    const size_t ud = (size_t)w->d;
    const double *A = ntas_wishart_factor(w, rng);
    /* S = A A^T / B on the lower triangle (A is lower triangular, so the
     * sum stops at k = j), mirrored so S is exactly symmetric. For d = 20
     * this is ~0.7 us; an outer-product ordering that vectorises measured
     * no faster at this size, so the plain dot products stay. */
    const double B = (double)w->B;
    for (size_t i = 0; i < ud; i++) {
        const double *ai = A + i * ud;
        for (size_t j = 0; j <= i; j++) {
            const double *aj = A + j * ud;
            double s = 0.0;
            for (size_t k = 0; k <= j; k++)
                s += ai[k] * aj[k];
            s /= B;
            S[i * ud + j] = s;
            S[j * ud + i] = s;
        }
    }
}

ntas_wishart_cost ntas_wishart_cost_bartlett(int d, int B)
{
    (void)B;
    double dd = d;
    ntas_wishart_cost c = { dd * (dd - 1) / 2, dd, dd * (dd + 1) * (dd + 2) / 3 };
    return c;
}

ntas_wishart_cost ntas_wishart_cost_explicit(int d, int B)
{
    double dd = d, b = B;
    ntas_wishart_cost c = { b * dd, 0.0, b * dd * (dd + 1) };
    return c;
}
