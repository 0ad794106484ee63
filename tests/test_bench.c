/* test_bench — the rate functions return positive finite numbers and reject
 * bad arguments, and the step cost model matches a hand count. No timing
 * assertions: rates depend on the machine and its load. */
#include <math.h>
#include <string.h>

#include <cblas.h>

#include "ntasweep/bench.h"
#include "check.h"

static void test_rates(void)
{
    char err[256];
    ntas_bench_gemm_rates g;
    CHECK(ntas_bench_gemm(200, 20, 10, 0.01, 1, &g, err, sizeof err) == 0);
    CHECK(g.forward > 0 && isfinite(g.forward));
    CHECK(g.backward > 0 && isfinite(g.backward));
    CHECK(g.step_mix > 0 && isfinite(g.step_mix));
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

/* B = 2, d_in = 3, d_out = 1, P = 1 (en = 3), counted line by line of
 * train.c / model_nta.c:
 *   Y* = X T^T: 2 outputs x 3 multiply-adds      = 12
 *   W_eff: one axpy of 3                          =  6
 *   Y = X W_eff^T                                 = 12
 *   loss/dY: 2 outputs x (sub, mul, add, mul)     =  8
 *   G = dY^T X: 3 outputs x 2 multiply-adds       = 12
 *   dW = c G (3 mul), dc = ddot of 3 (6)          =  9
 *   step: 3 x (mul, sub, mul, add) + gate 4       = 16
 * GEMMs 36, other 39, total 75; normals 6. */
static void test_cost(void)
{
    ntas_step_cost c = ntas_step_cost_sampled(2, 3, 1, 1);
    CHECK_NEAR(c.gemm_flops, 36, 0);
    CHECK_NEAR(c.other_flops, 39, 0);
    CHECK_NEAR(c.flops, 75, 0);
    CHECK_NEAR(c.normals, 6, 0);
    /* 75 flops at 1 GFLOP/s + 6 normals at 6e6/s = 75 ns + 1 us. */
    CHECK_NEAR(ntas_step_floor_seconds(c, 1.0, 6e6), 75e-9 + 1e-6, 1e-18);

    ntas_step_cost paper = ntas_step_cost_sampled(200, 20, 10, 2);
    printf("step B=200 d_in=20 d_out=10 P=2: %.0f GEMM + %.0f other flops, %.0f normals\n",
           paper.gemm_flops, paper.other_flops, paper.normals);
    CHECK_NEAR(paper.gemm_flops, 240000, 0);
    CHECK_NEAR(paper.other_flops, 9 * 2 * 200 + 4 * 200 * 10 + 8, 0);
}

int main(void)
{
    /* As the ntasweep command does: one OpenBLAS thread. */
    openblas_set_num_threads(1);
    test_rates();
    test_cost();
    return CHECK_DONE();
}
