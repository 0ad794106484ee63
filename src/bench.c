/* bench — machine rates and step cost model (see bench.h). */
#include "ntasweep/bench.h"

#include <cblas.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ntasweep/rng.h"
#include "ntasweep/wishart.h"

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int check_timing(double min_seconds, int reps, char *err, size_t errlen)
{
    /* The upper bound keeps a typo from turning a bench into an hour. */
    if (!(min_seconds > 0.0 && min_seconds <= 60.0) || reps < 1) {
        set_err(err, errlen, "bench: need 0 < min_seconds <= 60 and reps >= 1 (got %g, %d)",
                min_seconds, reps);
        return -1;
    }
    return 0;
}

/* Best rate (work units per second) over reps repetitions of `kernel`, each
 * repeated until min_seconds have passed. work = units done by one call. */
typedef void (*kernel_fn)(void *ctx);

static double best_rate(kernel_fn kernel, void *ctx, double work, double min_seconds, int reps)
{
    double best = 0.0;
    kernel(ctx); /* warm caches and any lazy initialisation (OpenBLAS buffers) */
    for (int r = 0; r < reps; r++) {
        long calls = 0;
        double t0 = now_seconds(), dt;
        do {
            kernel(ctx);
            calls++;
            dt = now_seconds() - t0;
        } while (dt < min_seconds);
        double rate = work * (double)calls / dt;
        if (rate > best)
            best = rate;
    }
    return best;
}

/* ---- GEMM ------------------------------------------------------------------ */

typedef struct {
    int B, d_in, d_out;
    const double *X, *W, *T, *dY;
    double *Y, *G;
} gemm_ctx;

static void gemm_forward(void *p)
{
    gemm_ctx *c = p;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c->B, c->d_out, c->d_in, 1.0, c->X,
                c->d_in, c->W, c->d_in, 0.0, c->Y, c->d_out);
}

static void gemm_backward(void *p)
{
    gemm_ctx *c = p;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, c->d_out, c->d_in, c->B, 1.0, c->dY,
                c->d_out, c->X, c->d_in, 0.0, c->G, c->d_in);
}

/* As train.c orders them: Y* = X T^T, Y = X W_eff^T, G = dY^T X. */
static void gemm_step_mix(void *p)
{
    gemm_ctx *c = p;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c->B, c->d_out, c->d_in, 1.0, c->X,
                c->d_in, c->T, c->d_in, 0.0, c->Y, c->d_out);
    gemm_forward(p);
    gemm_backward(p);
}

int ntas_bench_gemm(int B, int d_in, int d_out, double min_seconds, int reps,
                    ntas_bench_gemm_rates *out, char *err, size_t errlen)
{
    if (B < 1 || d_in < 1 || d_out < 1) {
        set_err(err, errlen, "bench gemm: sizes must be positive (B=%d, d_in=%d, d_out=%d)", B,
                d_in, d_out);
        return -1;
    }
    if (check_timing(min_seconds, reps, err, errlen) != 0)
        return -1;
    size_t nx = (size_t)B * (size_t)d_in, nw = (size_t)d_out * (size_t)d_in,
           ny = (size_t)B * (size_t)d_out;
    /* One block: X, W, T, dY, Y, G. */
    double *mem = malloc((nx + 2 * nw + 2 * ny + nw) * sizeof *mem);
    if (!mem) {
        set_err(err, errlen, "bench gemm: out of memory");
        return -1;
    }
    gemm_ctx c = { B, d_in, d_out, mem, mem + nx, mem + nx + nw, mem + nx + 2 * nw,
                   mem + nx + 2 * nw + ny, mem + nx + 2 * nw + 2 * ny };
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_stream_key(0, "bench/gemm"));
    ntas_rng_normal_fill(&rng, mem, nx + 2 * nw + ny);

    const double f = 2.0 * (double)B * (double)d_in * (double)d_out; /* every call */
    out->forward = 1e-9 * best_rate(gemm_forward, &c, f, min_seconds, reps);
    out->backward = 1e-9 * best_rate(gemm_backward, &c, f, min_seconds, reps);
    out->step_mix = 1e-9 * best_rate(gemm_step_mix, &c, 3.0 * f, min_seconds, reps);
    free(mem);
    return 0;
}

/* ---- normals and Wishart ----------------------------------------------------- */

typedef struct {
    ntas_rng rng;
    double *buf;
    size_t n;
} normal_ctx;

static void normal_kernel(void *p)
{
    normal_ctx *c = p;
    ntas_rng_normal_fill(&c->rng, c->buf, c->n);
}

int ntas_bench_normals(size_t n, double min_seconds, int reps, double *per_second, char *err,
                       size_t errlen)
{
    if (n < 1) {
        set_err(err, errlen, "bench normals: n must be positive");
        return -1;
    }
    if (check_timing(min_seconds, reps, err, errlen) != 0)
        return -1;
    normal_ctx c;
    c.buf = malloc(n * sizeof *c.buf);
    c.n = n;
    if (!c.buf) {
        set_err(err, errlen, "bench normals: out of memory for %zu values", n);
        return -1;
    }
    ntas_rng_init(&c.rng, ntas_stream_key(0, "bench/normals"));
    *per_second = best_rate(normal_kernel, &c, (double)n, min_seconds, reps);
    free(c.buf);
    return 0;
}

typedef struct {
    ntas_rng rng;
    ntas_wishart w;
    double *S;
} wishart_ctx;

static void wishart_kernel(void *p)
{
    wishart_ctx *c = p;
    ntas_wishart_sample(&c->w, &c->rng, c->S);
}

int ntas_bench_wishart(int d, int B, double min_seconds, int reps, double *per_second, char *err,
                       size_t errlen)
{
    if (check_timing(min_seconds, reps, err, errlen) != 0)
        return -1;
    wishart_ctx c;
    int rc = ntas_wishart_init(&c.w, d, B, err, errlen);
    if (rc != 0)
        return -1; /* B < d included: there is no Bartlett draw to time */
    c.S = malloc((size_t)d * (size_t)d * sizeof *c.S);
    if (!c.S) {
        ntas_wishart_free(&c.w);
        set_err(err, errlen, "bench wishart: out of memory");
        return -1;
    }
    ntas_rng_init(&c.rng, ntas_stream_key(0, "bench/wishart"));
    *per_second = best_rate(wishart_kernel, &c, 1.0, min_seconds, reps);
    free(c.S);
    ntas_wishart_free(&c.w);
    return 0;
}

/* ---- cost model ------------------------------------------------------------- */

ntas_step_cost ntas_step_cost_sampled(int B, int d_in, int d_out, int P)
{
    const double b = B, di = d_in, dout = d_out, p = P, en = dout * di;
    ntas_step_cost c;
    c.gemm_flops = 3.0 * 2.0 * b * di * dout;
    c.other_flops = 2.0 * p * en     /* W_eff */
                    + 4.0 * b * dout /* loss and dY */
                    + 3.0 * p * en   /* dW, dc */
                    + 4.0 * p * en + 4.0 * p; /* Euler step and norms */
    c.flops = c.gemm_flops + c.other_flops;
    c.normals = b * di;
    return c;
}

double ntas_step_floor_seconds(ntas_step_cost cost, double gflops, double normals_per_second)
{
    return cost.flops / (gflops * 1e9) + cost.normals / normals_per_second;
}
