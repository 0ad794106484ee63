/* test_bench — the rate functions return positive finite numbers and reject
 * bad arguments, and the step cost model matches a hand count. No timing
 * assertions: rates depend on the machine and its load. */
#include <math.h>
#include <string.h>

#include <cblas.h>

#include "ntasweep/core/blas_threads.h"
#include "ntasweep/train/bench.h"
#include "ntasweep/train/kernels.h"
#include "ntasweep/config/params.h"
#include "check.h"

static void test_rates(void)
{
    char err[256];
    ntas_bench_gemm_rates g;
    CHECK(ntas_bench_gemm(200, 20, 10, 0.01, 1, &g, err, sizeof err) == 0);
    CHECK(g.forward > 0 && isfinite(g.forward));
    CHECK(g.backward > 0 && isfinite(g.backward));
    CHECK(g.step_mix > 0 && isfinite(g.step_mix));
    CHECK(g.own > 0 && isfinite(g.own));
    for (int isa = NTAS_KERNEL_BASELINE; isa <= NTAS_KERNEL_AVX512; isa++) /* timed exactly where the CPU runs it */
        CHECK((g.own_isa[isa] > 0 && isfinite(g.own_isa[isa])) == ntas_kernel_isa_supported((ntas_kernel_isa)isa));
    double normals = 0, wishart = 0;
    CHECK(ntas_bench_normals(4000, 0.01, 1, &normals, err, sizeof err) == 0);
    CHECK(normals > 0 && isfinite(normals));
    CHECK(ntas_bench_normals(7, 0.01, 2, &normals, err, sizeof err) == 0 && normals > 0);
    CHECK(ntas_bench_wishart(20, 200, 0.01, 1, &wishart, err, sizeof err) == 0);
    CHECK(wishart > 0 && isfinite(wishart));
    printf("rates (0.01 s, not a benchmark): GEMM fwd %.2f bwd %.2f mix %.2f GFLOP/s, "
           "%.3g normals/s, %.3g Wishart draws/s\n",
           g.forward, g.backward, g.step_mix, normals, wishart);

    /* Bad arguments fail with a message instead of running. */
    err[0] = '\0';
    CHECK(ntas_bench_gemm(0, 20, 10, 0.01, 1, &g, err, sizeof err) == -1 && err[0]);
    CHECK(ntas_bench_gemm(200, 20, 10, 0.0, 1, &g, err, sizeof err) == -1);
    CHECK(ntas_bench_gemm(200, 20, 10, NAN, 1, &g, err, sizeof err) == -1);
    CHECK(ntas_bench_normals(0, 0.01, 1, &normals, err, sizeof err) == -1);
    CHECK(ntas_bench_normals(10, 0.01, 0, &normals, err, sizeof err) == -1);
    err[0] = '\0';
    CHECK(ntas_bench_wishart(20, 10, 0.01, 1, &wishart, err, sizeof err) == -1 && err[0]);
}

static ntas_params shape(int model, int data, int B, int d_in, int d_out, int P)
{
    ntas_params p;
    ntas_params_defaults(&p);
    p.model = model;
    p.data = data;
    p.batch = B;
    p.d_in = d_in;
    p.d_out = d_out;
    p.paths = P;
    return p;
}

/* B = 2, d_in = 3, d_out = 1, P = 1 (en = 3), sampled, counted line by line
 * of train.c / model_nta.c:
 *   W_eff: one axpy of 3                          =  6
 *   D = W_eff - T                                 =  3
 *   E = X D^T: 2 outputs x 3 multiply-adds        = 12
 *   loss: 2 outputs x (mul, add)                  =  4
 *   G = E^T X / B: 3 outputs x 2 multiply-adds    = 12
 *   dW = c G (3 mul), dc = ddot of 3 (6)          =  9
 *   step: 3 x (mul, sub, mul, add) + gate 4       = 16
 * GEMMs 24, other 38, total 62; normals 6. */
static void test_cost(void)
{
    ntas_params tiny = shape(NTAS_MODEL_NTA, NTAS_DATA_SAMPLED, 2, 3, 1, 1);
    ntas_step_cost c = ntas_step_cost_of(&tiny);
    CHECK_NEAR(c.gemm_flops, 24, 0);
    CHECK_NEAR(c.other_flops, 38, 0);
    CHECK_NEAR(c.flops, 62, 0);
    CHECK_NEAR(c.normals, 6, 0);
    /* 62 flops at 1 GFLOP/s + 6 normals at 6e6/s = 62 ns + 1 us. */
    CHECK_NEAR(ntas_step_floor_seconds(c, 1.0, 6e6), 62e-9 + 1e-6, 1e-18);

    /* The Fig. 2 shape (en = 200) on each path and model. */
    ntas_params p = shape(NTAS_MODEL_NTA, NTAS_DATA_SAMPLED, 200, 20, 10, 2);
    c = ntas_step_cost_of(&p);
    printf("step B=200 d_in=20 d_out=10 P=2: %.0f GEMM + %.0f other flops, %.0f normals\n",
           c.gemm_flops, c.other_flops, c.normals);
    CHECK_NEAR(c.gemm_flops, 4 * 200 * 20 * 10, 0);
    CHECK_NEAR(c.other_flops, 200 + 2 * 200 * 10 + 9 * 2 * 200 + 4 * 2, 0);
    CHECK_NEAR(c.normals, 4000, 0);
    /* Wishart: 190 + 20 normals, the factor only, G = (D A) A^T / B: two
     * triangular products of 10 * 20 * 21 / 2 multiply-adds, loss 2 en. */
    p.data = NTAS_DATA_WISHART;
    c = ntas_step_cost_of(&p);
    CHECK_NEAR(c.normals, 210, 0);
    CHECK_NEAR(c.gemm_flops, 0, 0);
    CHECK_NEAR(c.other_flops, 200 + 2 * 2 * 10 * 20 * 21 / 2 + 400 + 9 * 2 * 200 + 4 * 2, 0);
    /* ... which falls back to the sampled batch when B < d_in. */
    p.batch = 10;
    c = ntas_step_cost_of(&p);
    CHECK_NEAR(c.normals, 200, 0);
    CHECK_NEAR(c.gemm_flops, 4 * 10 * 20 * 10, 0);
    p.batch = 200;
    p.data = NTAS_DATA_EXPECTED;
    c = ntas_step_cost_of(&p);
    CHECK_NEAR(c.normals, 0, 0);
    CHECK_NEAR(c.gemm_flops, 0, 0);
    CHECK_NEAR(c.other_flops, 200 + 400 + 9 * 2 * 200 + 4 * 2, 0);
    /* Per-neuron gates: 20 gates in the Euler step. */
    p = shape(NTAS_MODEL_NTA_NEURON, NTAS_DATA_SAMPLED, 200, 20, 10, 2);
    c = ntas_step_cost_of(&p);
    CHECK_NEAR(c.other_flops, 200 + 4000 + 5 * 2 * 200 + 4 * (400 + 20), 0);
    /* fc, d_hid 20: W_eff and both layer gradients are GEMMs of 2*10*20*20. */
    p = shape(NTAS_MODEL_FC, NTAS_DATA_SAMPLED, 200, 20, 10, 2);
    c = ntas_step_cost_of(&p);
    CHECK_NEAR(c.gemm_flops, 160000 + 3 * 8000, 0);
    CHECK_NEAR(c.other_flops, 200 + 4000 + 4 * (400 + 200) + 3 * 400, 0);
    /* lambda_w adds 4 flops per weight of W (fc: of W1). */
    p.lambda_w = 0.1;
    CHECK_NEAR(ntas_step_cost_of(&p).other_flops, c.other_flops + 4 * 400, 0);
}

int main(void)
{
    /* As the ntasweep command does: one OpenBLAS thread. */
    ntas_blas_set_threads(1);
    test_rates();
    test_cost();
    return CHECK_DONE();
}
