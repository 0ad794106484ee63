/* bench — machine rates and step cost model (see bench.h). */
#include "ntasweep/train/bench.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ntasweep/core/err.h"
#include "ntasweep/core/rng.h"
#include "ntasweep/train/model_registry.h"
#include "ntasweep/train/batch_gemm.h"
#include "ntasweep/train/kernels.h"
#include "ntasweep/train/train.h"
#include "ntasweep/tasks/wishart.h"


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
        ntas_set_err(err, errlen, "bench: need 0 < min_seconds <= 60 and reps >= 1 (got %g, %d)",
                min_seconds, reps);
        return -1;
    }
    return 0;
}

/* Best rate (work units per second) of `kernel`: repeated for reps windows
 * of at least min_seconds, and each call timed on its own; the rate is work
 * over the SHORTEST call. On a machine shared with other jobs a window's
 * average includes their time slices, while the fastest single call (a few
 * microseconds) is the machine's own speed. work = units done by one call. */
typedef void (*kernel_fn)(void *ctx);

static double best_rate(kernel_fn kernel, void *ctx, double work, double min_seconds, int reps)
{
    double fastest = 0.0;
    kernel(ctx); /* warm caches and any lazy initialisation (OpenBLAS buffers) */
    for (int r = 0; r < reps; r++) {
        double start = now_seconds(), t1 = start;
        do {
            double t0 = t1;
            kernel(ctx);
            t1 = now_seconds();
            if (fastest == 0.0 || t1 - t0 < fastest)
                fastest = t1 - t0;
        } while (t1 - start < min_seconds);
    }
    return fastest > 0.0 ? work / fastest : 0.0;
}

/* ---- GEMM ------------------------------------------------------------------ */

typedef struct {
    int B, d_in, d_out;
    const double *X, *W, *T, *dY;
    double *Y, *G;
    int isa; /* gemm_own_with: the instruction set (kernels.h) */
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

/* The pair a sampled step runs: E = X D^T, G = E^T X / B (batch_gemm.h). */
static void gemm_own(void *p)
{
    gemm_ctx *c = p;
    ntas_batch_gemm(c->W, c->X, c->B, c->d_out, c->d_in, c->Y, c->G);
}

/* The same pair on a chosen instruction set: the copies side by side. */
static void gemm_own_with(void *p)
{
    gemm_ctx *c = p;
    ntas_batch_gemm_with((ntas_kernel_isa)c->isa, c->W, c->X, c->B, c->d_out, c->d_in, c->Y, c->G);
}

int ntas_bench_gemm(int B, int d_in, int d_out, double min_seconds, int reps,
                    ntas_bench_gemm_rates *out, char *err, size_t errlen)
{
    if (B < 1 || d_in < 1 || d_out < 1) {
        ntas_set_err(err, errlen, "bench gemm: sizes must be positive (B=%d, d_in=%d, d_out=%d)", B,
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
        ntas_set_err(err, errlen, "bench gemm: out of memory");
        return -1;
    }
    gemm_ctx c = { B, d_in, d_out, mem, mem + nx, mem + nx + nw, mem + nx + 2 * nw,
                   mem + nx + 2 * nw + ny, mem + nx + 2 * nw + 2 * ny, NTAS_KERNEL_BASELINE };
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_stream_key(0, "bench/gemm"));
    ntas_rng_normal_fill(&rng, mem, nx + 2 * nw + ny);

    const double f = 2.0 * (double)B * (double)d_in * (double)d_out; /* every call */
    out->forward = 1e-9 * best_rate(gemm_forward, &c, f, min_seconds, reps);
    out->backward = 1e-9 * best_rate(gemm_backward, &c, f, min_seconds, reps);
    out->step_mix = 1e-9 * best_rate(gemm_step_mix, &c, 3.0 * f, min_seconds, reps);
    out->own = 1e-9 * best_rate(gemm_own, &c, 2.0 * f, min_seconds, reps);
    for (int isa = NTAS_KERNEL_BASELINE; isa <= NTAS_KERNEL_AVX512; isa++) {
        c.isa = isa;
        out->own_isa[isa] = ntas_kernel_isa_supported((ntas_kernel_isa)isa)
                                ? 1e-9 * best_rate(gemm_own_with, &c, 2.0 * f, min_seconds, reps)
                                : 0.0;
    }
    free(mem);
    return 0;
}

/* ---- normals and Wishart ----------------------------------------------------- */

typedef struct {
    ntas_rng rng;
    double *buf;
    size_t n;
    ntas_rng_kernel kernel;
} normal_ctx;

static void normal_kernel(void *p)
{
    normal_ctx *c = p;
    ntas_rng_normal_fill_with(&c->rng, c->buf, c->n, c->kernel);
}

int ntas_bench_normals_with(size_t n, ntas_rng_kernel kernel, double min_seconds, int reps,
                            double *per_second, char *err, size_t errlen)
{
    if (n < 1) {
        ntas_set_err(err, errlen, "bench normals: n must be positive");
        return -1;
    }
    if (!ntas_rng_kernel_supported(kernel)) {
        ntas_set_err(err, errlen, "bench normals: this CPU has no %s kernel",
                     ntas_rng_kernel_name(kernel));
        return -1;
    }
    if (check_timing(min_seconds, reps, err, errlen) != 0)
        return -1;
    normal_ctx c;
    c.buf = malloc(n * sizeof *c.buf);
    c.n = n;
    c.kernel = kernel;
    if (!c.buf) {
        ntas_set_err(err, errlen, "bench normals: out of memory for %zu values", n);
        return -1;
    }
    ntas_rng_init(&c.rng, ntas_stream_key(0, "bench/normals"));
    *per_second = best_rate(normal_kernel, &c, (double)n, min_seconds, reps);
    free(c.buf);
    return 0;
}

int ntas_bench_normals(size_t n, double min_seconds, int reps, double *per_second, char *err,
                       size_t errlen)
{
    return ntas_bench_normals_with(n, NTAS_RNG_AUTO, min_seconds, reps, per_second, err, errlen);
}

typedef struct {
    ntas_rng rng;
    ntas_wishart w;
    double *S;
} wishart_ctx;

/* What a data = wishart step draws: the Bartlett factor (S is never formed,
 * kernels.h). WISHART_DRAWS draws per call: the sampler fills its buffer
 * once every few draws (wishart.h), so one call alone would time either a
 * refill or none. */
enum { WISHART_DRAWS = 16 };
static void wishart_kernel(void *p)
{
    wishart_ctx *c = p;
    for (int i = 0; i < WISHART_DRAWS; i++) (void)ntas_wishart_factor(&c->w, &c->rng);
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
        ntas_set_err(err, errlen, "bench wishart: out of memory");
        return -1;
    }
    ntas_rng_init(&c.rng, ntas_stream_key(0, "bench/wishart"));
    *per_second = best_rate(wishart_kernel, &c, WISHART_DRAWS, min_seconds, reps);
    free(c.S);
    ntas_wishart_free(&c.w);
    return 0;
}

/* ---- the task gradient of a Wishart step ----------------------------------- */

typedef struct {
    ntas_rng rng;
    ntas_wishart w;
    int d_out, isa;
    double *D, *S, *G, *scratch;
} wgrad_ctx;

/* What a step computes (kernels.h): G = (D A) A^T / B from the factor. */
static void wgrad_factor(void *p)
{
    wgrad_ctx *c = p;
    (void)ntas_task_grad_factor_with((ntas_kernel_isa)c->isa, c->D, c->w.A, c->w.At, c->w.B, c->d_out, c->w.d,
                                     c->scratch, c->G);
}

/* The route it replaced: S = A A^T / B, then one BLAS call G = D S. */
static void wgrad_blas(void *p)
{
    wgrad_ctx *c = p;
    const int d = c->w.d;
    const double *A = c->w.A;
    for (int i = 0; i < d; i++)
        for (int j = 0; j <= i; j++) {
            double s = 0.0;
            for (int k = 0; k <= j; k++) s += A[i * d + k] * A[j * d + k];
            c->S[i * d + j] = c->S[j * d + i] = s / c->w.B;
        }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->d_out, d, d, 1.0, c->D, d, c->S, d, 0.0, c->G, d);
}

/* Fastest single call, in seconds, of the factor kernel on each instruction
 * set (0 where the CPU lacks it) and of the S + BLAS route. All copies fuse
 * the same multiply-adds (kernels.h); the portable one calls libm's fma()
 * for each, so it is the slow one (~7 us here: only CPUs without FMA run
 * it in a sweep). */
static int bench_wishart_grad(int d_out, int d, int B, double min_seconds, double factor_s[3], double *blas_s,
                              char *err, size_t errlen)
{
    wgrad_ctx c;
    if (ntas_wishart_init(&c.w, d, B, err, errlen) != 0) return -1;
    const size_t en = (size_t)d_out * (size_t)d;
    double *mem = malloc((2 * en + en + (size_t)d * (size_t)d) * sizeof *mem);
    if (!mem) {
        ntas_wishart_free(&c.w);
        ntas_set_err(err, errlen, "bench: out of memory");
        return -1;
    }
    c.D = mem, c.G = mem + en, c.scratch = mem + 2 * en, c.S = mem + 3 * en, c.d_out = d_out;
    ntas_rng_init(&c.rng, ntas_stream_key(0, "bench/wishart-grad"));
    ntas_rng_normal_fill(&c.rng, c.D, en);
    (void)ntas_wishart_factor(&c.w, &c.rng);
    for (int isa = NTAS_KERNEL_BASELINE; isa <= NTAS_KERNEL_AVX512; isa++) {
        c.isa = isa;
        factor_s[isa] = ntas_kernel_isa_supported((ntas_kernel_isa)isa)
                            ? 1.0 / best_rate(wgrad_factor, &c, 1.0, min_seconds, 3)
                            : 0.0;
    }
    *blas_s = 1.0 / best_rate(wgrad_blas, &c, 1.0, min_seconds, 3);
    free(mem);
    ntas_wishart_free(&c.w);
    return 0;
}

/* ---- cost model ------------------------------------------------------------- */

ntas_step_cost ntas_step_cost_of(const ntas_params *p)
{
    const double di = (double)p->d_in, dout = (double)p->d_out, b = (double)p->batch;
    const double en = dout * di;
    ntas_step_cost c = {0, 0, 0, 0};
    c.other_flops += en; /* D = W_eff - T */
    switch (ntas_train_data_path(p)) {
    case NTAS_DATA_SAMPLED:
        c.normals = b * di;
        c.gemm_flops += 4.0 * b * di * dout;
        c.other_flops += 2.0 * b * dout;
        break;
    case NTAS_DATA_WISHART: {
        /* The Bartlett factor A only, then G = (D A) A^T / B (kernels.h):
         * two triangular products of d_out d_in (d_in + 1) / 2 multiply-adds. */
        ntas_wishart_cost w = ntas_wishart_cost_bartlett((int)p->d_in, (int)p->batch);
        c.normals = w.normals + w.chisq; /* one priming normal per chi-square */
        c.other_flops += 2.0 * dout * di * (di + 1.0) + 2.0 * en;
        break;
    }
    default:
        c.other_flops += 2.0 * en;
        break;
    }
    const ntas_model_ops *m = ntas_model_of(p);
    if (m && m->step_cost) m->step_cost(p, &c.gemm_flops, &c.other_flops);
    c.flops = c.gemm_flops + c.other_flops;
    return c;
}

double ntas_step_floor_seconds(ntas_step_cost cost, double gflops, double normals_per_second)
{
    return cost.flops / (gflops * 1e9) + cost.normals / normals_per_second;
}

/* ---- whole runs and the `ntasweep bench` table ------------------------------- */

int ntas_bench_train(const ntas_params *p, int reps, double *seconds_per_step, char *err,
                     size_t errlen)
{
    if (reps < 1) {
        ntas_set_err(err, errlen, "bench: reps must be >= 1 (got %d)", reps);
        return -1;
    }
    const char *bad = NULL;
    if (ntas_params_validate(p, err, errlen, &bad) != 0) return -1;
    ntas_run_result r;
    if (ntas_run_result_init(&r, p, err, errlen) != 0) return -1;
    const uint64_t key = ntas_params_run_key(p);
    const double steps = (double)ntas_params_total_steps(p);
    double best = 0.0;
    int rc = 0;
    for (int i = 0; i < reps && rc == 0; i++) {
        double t0 = now_seconds();
        rc = ntas_train_run(p, key, &r, NULL, NULL, err, errlen);
        double t = now_seconds() - t0;
        if (rc == 0 && r.status != NTAS_STATUS_DONE) {
            ntas_set_err(err, errlen, "bench: the timed run did not finish (%s)", r.message);
            rc = -1;
        }
        if (i == 0 || t < best) best = t;
    }
    ntas_run_result_free(&r);
    if (rc != 0) return -1;
    *seconds_per_step = best / steps;
    return 0;
}

void ntas_bench_params(int model, int data, int64_t steps, ntas_params *p)
{
    ntas_params_defaults(p);
    p->model = model;
    p->data = data;
    const ntas_model_ops *m = ntas_model_of(p);
    if (m && m->bench_params) m->bench_params(p);
    const int64_t per_block = ntas_params_steps_per_block(p);
    p->n_blocks = steps < 1 ? 1 : (steps + per_block - 1) / per_block;
}

void ntas_bench_options_default(ntas_bench_options *o, int quick)
{
    o->steps = quick ? 2000 : 20000;
    o->reps = quick ? 1 : 3;
    o->min_seconds = quick ? 0.02 : 0.2;
}

/* Wall time of one whole one-step run in-process (result arrays, teachers,
 * model init, one step, metrics, free): what a run costs besides its steps
 * before the coordinator's queue and HDF5 writes. Best of as many as fit in
 * min_seconds, at least 20. */
static int run_setup_seconds(double min_seconds, double *out, char *err, size_t errlen)
{
    ntas_params p;
    ntas_params_defaults(&p);
    p.block_len = p.dt;
    p.n_blocks = 1;
    double best = 0.0, start = now_seconds();
    for (int i = 0; i < 20 || now_seconds() - start < min_seconds; i++) {
        p.seed = i; /* a new run key each time, as in a sweep */
        double t0 = now_seconds();
        ntas_run_result r;
        if (ntas_run_result_init(&r, &p, err, errlen) != 0) return -1;
        int rc = ntas_train_run(&p, ntas_params_run_key(&p), &r, NULL, NULL, err, errlen);
        ntas_run_result_free(&r);
        if (rc != 0) return -1;
        double t = now_seconds() - t0;
        if (i == 0 || t < best) best = t;
    }
    *out = best;
    return 0;
}

int ntas_bench_report(const ntas_bench_options *o, FILE *out, char *err, size_t errlen)
{
    if (o->steps < 1 || o->steps > 100000000) {
        ntas_set_err(err, errlen, "bench: steps must be in [1, 1e8] (got %lld)", (long long)o->steps);
        return -1;
    }
    if (check_timing(o->min_seconds, o->reps, err, errlen) != 0) return -1;
    ntas_params base;
    ntas_bench_params(NTAS_MODEL_NTA, NTAS_DATA_SAMPLED, o->steps, &base);
    const int B = (int)base.batch, d_in = (int)base.d_in, d_out = (int)base.d_out;

    /* Machine rates at the step's shapes. The floor takes the best GEMM rate
     * measured: a lower bound should not be slowed by the worst shape. */
    ntas_bench_gemm_rates g;
    double normals = 0.0, wishart = 0.0;
    if (ntas_bench_gemm(B, d_in, d_out, o->min_seconds, 3, &g, err, errlen) != 0) return -1;
    /* The floor's generator rate is the fastest kernel this CPU runs (all
     * give the same bits), each measured alone at the step's draw count. */
    double kernel_rate[4] = {0, 0, 0, 0};
    for (int k = NTAS_RNG_PORTABLE; k <= NTAS_RNG_AVX512; k++) {
        if (!ntas_rng_kernel_supported((ntas_rng_kernel)k)) continue;
        if (ntas_bench_normals_with((size_t)B * (size_t)d_in, (ntas_rng_kernel)k, o->min_seconds, 3,
                                    &kernel_rate[k], err, errlen) != 0)
            return -1;
        if (kernel_rate[k] > normals) normals = kernel_rate[k];
    }
    if (ntas_bench_wishart(d_in, B, o->min_seconds, 3, &wishart, err, errlen) != 0) return -1;
    double gemm = g.forward > g.backward ? g.forward : g.backward;
    if (g.step_mix > gemm) gemm = g.step_mix;
    if (g.own > gemm) gemm = g.own;

    fprintf(out, "ntasweep bench: Fig. 2 setting (d_in %d, d_out %d, paths %lld, batch %d, dt %g), "
                 "%lld steps per row, best of %d, 1 process\n",
            d_in, d_out, (long long)base.paths, B, base.dt, (long long)ntas_params_total_steps(&base),
            o->reps);
    fprintf(out, "machine: GEMM %.2f GFLOP/s (best of BLAS X W^T %.2f, dY^T X %.2f, step mix %.2f, own E,G pair %.2f "
                 "(%s) at %dx%dx%d), normals %.3g/s, Wishart %.3g draws/s (d %d, B %d)\n",
            gemm, g.forward, g.backward, g.step_mix, g.own, ntas_kernel_isa_name(ntas_kernel_isa_active()), B, d_in, d_out,
            normals, wishart, d_in, B);
    fprintf(out, "own E,G pair, ns per call (fastest single call):");
    for (int k = NTAS_KERNEL_BASELINE; k <= NTAS_KERNEL_AVX512; k++)
        if (g.own_isa[k] > 0)
            fprintf(out, " %s %.0f", ntas_kernel_isa_name((ntas_kernel_isa)k), 4.0 * B * d_in * d_out / g.own_isa[k]);
    fprintf(out, "; ntasweep uses %s (NTASWEEP_KERNELS)\n", ntas_kernel_isa_name(ntas_kernel_isa_active()));
    fprintf(out, "normal generator, ns per normal (fastest single fill of %d):", B * d_in);
    for (int k = NTAS_RNG_PORTABLE; k <= NTAS_RNG_AVX512; k++)
        if (kernel_rate[k] > 0)
            fprintf(out, " %s %.2f", ntas_rng_kernel_name((ntas_rng_kernel)k), 1e9 / kernel_rate[k]);
    fprintf(out, "; ntasweep uses %s\n", ntas_rng_kernel_name(ntas_rng_kernel_best()));
    double factor_s[3], blas_s;
    if (bench_wishart_grad(d_out, d_in, B, o->min_seconds, factor_s, &blas_s, err, errlen) != 0) return -1;
    fprintf(out, "Wishart step, ns per call (fastest single call): factor draw %.0f (per draw of 16 in a call); "
                 "G = (D A) A^T / B (fused) "
                 "portable %.0f",
            1e9 / wishart, factor_s[0] * 1e9);
    if (factor_s[1] > 0) fprintf(out, " avx2 %.0f", factor_s[1] * 1e9);
    if (factor_s[2] > 0) fprintf(out, " avx512 %.0f", factor_s[2] * 1e9);
    fprintf(out, "; S = A A^T / B + BLAS D S %.0f\n", blas_s * 1e9);
    fprintf(out, "floor = step flops / best GEMM rate + step normals / fastest generator rate "
                 "(both the fastest single call measured); ratio = us_per_step / floor_us\n");
    fprintf(out, "%-11s %-9s %11s %8s %11s %8s %9s %7s\n", "model", "data", "us_per_step", "gflops",
            "flops", "normals", "floor_us", "ratio");
    static const char *const data_names[] = {"sampled", "wishart", "expected"};
    for (int mi = 0; mi < ntas_model_count(); mi++)
        for (int di = 0; di < 3 && ntas_model_at(mi)->in_bench; di++) {
            const ntas_model_ops *m = ntas_model_at(mi);
            ntas_params p;
            ntas_bench_params(m->kind, di, o->steps, &p);
            double sec;
            if (ntas_bench_train(&p, o->reps, &sec, err, errlen) != 0) return -1;
            ntas_step_cost c = ntas_step_cost_of(&p);
            double floor_s = ntas_step_floor_seconds(c, gemm, normals);
            fprintf(out, "%-11s %-9s %11.3f %8.3f %11.0f %8.0f %9.3f %7.2f\n", m->name,
                    data_names[di], sec * 1e6, c.flops / sec * 1e-9, c.flops, c.normals, floor_s * 1e6,
                    sec / floor_s);
            fflush(out);
        }
    double setup;
    if (run_setup_seconds(o->min_seconds, &setup, err, errlen) != 0) return -1;
    fprintf(out, "run setup in-process (result arrays, teachers, model init, one step, free): %.3f ms per run\n",
            setup * 1e3);
    fprintf(out, "coordinator overhead per run (MPI queue, HDF5 writes): measure with "
                 "tools/bench-overhead --runs 10000 --ranks 2\n");
    return 0;
}
