/* bench — machine rates and the cost model of one training step.
 *
 * Owns the timing loops behind `ntasweep bench` (CLOCK_MONOTONIC; each
 * repetition runs at least min_seconds, the best repetition counts) and the
 * flop/draw count of one NTA step, so that a floor on the step time follows
 * from measured rates. Measures with whatever OpenBLAS thread count the
 * process has set (ntasweep sets 1 per rank). No printing, no globals.
 */
#ifndef NTASWEEP_BENCH_H
#define NTASWEEP_BENCH_H

#include <stddef.h>

/* GEMM rates (GFLOP/s, 2 M N K flops per call) for the step's shapes. */
typedef struct {
    double forward;  /* Y = X W^T: (B x d_in)(d_in x d_out), RowMajor NoTrans/Trans */
    double backward; /* G = dY^T X: (d_out x B)(B x d_in), RowMajor Trans/NoTrans */
    double step_mix; /* the step's sequence: Y* and Y (forward shape), then G */
} ntas_bench_gemm_rates;

/* All return 0, or -1 with a message (bad arguments: sizes < 1, min_seconds
 * not in (0, 60], reps < 1; or no memory). Each repetition repeats the
 * kernel until min_seconds have passed; the result is the best repetition's
 * rate. Inputs are Gaussian from a fixed key. */
int ntas_bench_gemm(int B, int d_in, int d_out, double min_seconds, int reps,
                    ntas_bench_gemm_rates *out, char *err, size_t errlen);
/* Standard normals per second of ntas_rng_normal_fill in calls of n. */
int ntas_bench_normals(size_t n, double min_seconds, int reps, double *per_second, char *err,
                       size_t errlen);
/* Draws per second of ntas_wishart_sample for d x d, batch B (B >= d). */
int ntas_bench_wishart(int d, int B, double min_seconds, int reps, double *per_second, char *err,
                       size_t errlen);

/* Work of one step of the sampled path of train.c (regularisers and the
 * recorded metrics excluded: O(P) gate terms, plus 4 P d_out d_in flops when
 * lambda_w > 0). With en = d_out d_in, a multiply-add = 2 flops:
 *   draw X                    B d_in normals
 *   Y* = X T^T                2 B d_in d_out   (GEMM)
 *   W_eff = sum_p c_p W_p     2 P en
 *   Y = X W_eff^T             2 B d_in d_out   (GEMM)
 *   loss and dY               4 B d_out        (e = Y - Y*, e^2 summed, e / B)
 *   G = dY^T X                2 B d_in d_out   (GEMM)
 *   dW_p = c_p G, dc_p = <W_p, G>   3 P en
 *   Euler step and its norms  4 P en + 4 P     (u = k dW, W -= u, |u|^2)
 */
typedef struct {
    double gemm_flops;  /* the three GEMMs: 6 B d_in d_out */
    double other_flops; /* 9 P en + 4 B d_out + 4 P */
    double flops;       /* gemm_flops + other_flops */
    double normals;     /* B d_in */
} ntas_step_cost;

ntas_step_cost ntas_step_cost_sampled(int B, int d_in, int d_out, int P);

/* Floor on the seconds per step: flops at the GEMM rate plus the normals at
 * the normal rate (everything else assumed free). gflops in GFLOP/s. */
double ntas_step_floor_seconds(ntas_step_cost cost, double gflops, double normals_per_second);

#endif
