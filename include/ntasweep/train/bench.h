/* bench — machine rates, the cost model of one training step, `ntasweep bench`.
 *
 * Owns the timing loops (CLOCK_MONOTONIC; each repetition runs at least
 * min_seconds, the best repetition counts), the flop/draw count of one step
 * of every model and data path, so that a floor on the step time follows
 * from measured rates, and the table of `ntasweep bench` (printed to the
 * FILE the caller gives). Measures with whatever OpenBLAS thread count the
 * process has set (ntasweep sets 1 per rank). No globals.
 */
#ifndef NTASWEEP_BENCH_H
#define NTASWEEP_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ntasweep/core/rng.h"

#include "ntasweep/config/params.h"

/* GEMM rates (GFLOP/s, 2 M N K flops per call) for the step's shapes. */
typedef struct {
    double forward;  /* Y = X W^T: (B x d_in)(d_in x d_out), RowMajor NoTrans/Trans */
    double backward; /* G = dY^T X: (d_out x B)(B x d_in), RowMajor Trans/NoTrans */
    double step_mix; /* the step's sequence: Y* and Y (forward shape), then G */
    double own;      /* ntasweep's own pair E = X D^T, G = E^T X / B (batch_gemm.h), what a step runs */
    double own_isa[3]; /* the same pair on each instruction set (ntas_kernel_isa), 0 where the CPU lacks it */
} ntas_bench_gemm_rates;

/* All return 0, or -1 with a message (bad arguments: sizes < 1, min_seconds
 * not in (0, 60], reps < 1; or no memory). Each repetition repeats the
 * kernel until min_seconds have passed, timing every call; the result is
 * the rate of the fastest single call (robust on a shared machine). Inputs
 * are Gaussian from a fixed key. */
int ntas_bench_gemm(int B, int d_in, int d_out, double min_seconds, int reps,
                    ntas_bench_gemm_rates *out, char *err, size_t errlen);
/* Standard normals per second of ntas_rng_normal_fill_with(kernel) in calls
 * of n (-1 if this CPU lacks the kernel); ntas_bench_normals: NTAS_RNG_AUTO. */
int ntas_bench_normals_with(size_t n, ntas_rng_kernel kernel, double min_seconds, int reps,
                            double *per_second, char *err, size_t errlen);
int ntas_bench_normals(size_t n, double min_seconds, int reps, double *per_second, char *err,
                       size_t errlen);
/* Draws per second of ntas_wishart_factor (what a data = wishart step draws)
 * for d x d, batch B (B >= d). */
int ntas_bench_wishart(int d, int B, double min_seconds, int reps, double *per_second, char *err,
                       size_t errlen);

/* Work of one step of train.c for run p, by its model and data path
 * (ntas_train_data_path), per step; the gate regularisers and the recorded
 * metrics are excluded (O(gates) per step, metrics every record_every
 * steps), the weight cost is included when lambda_w > 0. With en = d_out d_in,
 * a multiply-add = 2 flops. Common to every path:
 *   W_eff                     nta, nta_neuron: 2 P en (axpy); fc: 2 d_out d_hid d_in (GEMM)
 *   D = W_eff - T             en
 *   parameter gradients       nta, nta_neuron: 3 P en (dW = c G, dc = <W, G>);
 *                             fc: 4 d_out d_hid d_in (two GEMMs)
 *   Euler step and its norms  4 per weight and gate (u = k g, w -= u, |u|^2);
 *                             fc adds 3 d_hid d_in (train.c's per-block norms of W1)
 * and per data path (ntas_task_grad_batch / _moment):
 *   sampled   draw X: B d_in normals; E = X D^T and G = E^T X / B: 4 B d_in d_out
 *             (GEMM); loss 2 B d_out
 *   wishart   draw S (wishart.h): d_in (d_in + 1) / 2 normals (d_in of them prime
 *             the chi-squares) and the Bartlett product d_in (d_in + 1)(d_in + 2) / 3;
 *             G = D S: 2 d_out d_in^2 (GEMM); loss 2 en
 *   expected  G = D (a copy); loss 2 en
 * reduced: its 2 x 2 NTA with d_in = 1, on the expected path. */
typedef struct {
    double gemm_flops;  /* flops done by dgemm calls */
    double other_flops; /* everything else counted above */
    double flops;       /* gemm_flops + other_flops */
    double normals;     /* standard normals drawn */
} ntas_step_cost;

ntas_step_cost ntas_step_cost_of(const ntas_params *p);

/* Floor on the seconds per step: flops at the GEMM rate plus the normals at
 * the normal rate (everything else assumed free). gflops in GFLOP/s. */
double ntas_step_floor_seconds(ntas_step_cost cost, double gflops, double normals_per_second);

/* Seconds per Euler step of ntas_train_run on p (run key of p; no poll),
 * the best of reps whole runs. Fails (-1, message) if the run does not
 * finish as done: a diverged run stops early and would time too few steps. */
int ntas_bench_train(const ntas_params *p, int reps, double *seconds_per_step, char *err,
                     size_t errlen);

/* The parameters `ntasweep bench` times for one table row: the Fig. 2
 * flexible setting (the defaults: d_in 20, d_out 10, P 2, batch 200,
 * dt 0.001), with the given model and data path and steps Euler steps
 * (rounded up to whole blocks of 1000). fc takes Table 2's FC time
 * constants and regulariser (tau_w 0.06, tau_w2 0.01, l2, lambda_nonneg 0.2,
 * lambda_norm 0.1) so that it trains stably at this size. */
void ntas_bench_params(int model, int data, int64_t steps, ntas_params *p);

typedef struct {
    int64_t steps;      /* Euler steps per timed run (default 20000: one Fig. 2 run) */
    int reps;           /* timed runs per row, best counts (default 3) */
    double min_seconds; /* per repetition of a machine rate (default 0.2) */
} ntas_bench_options;

/* Defaults above; quick = 1 for a smoke test (2000 steps, 1 rep, 0.02 s). */
void ntas_bench_options_default(ntas_bench_options *o, int quick);

/* `ntasweep bench`: measures the machine rates, then times every model
 * (nta, nta_neuron, fc) on every data path (sampled, wishart, expected)
 * and prints one table row each to out:
 *   model data us_per_step gflops flops normals floor_us ratio
 * (achieved GFLOP/s = ntas_step_cost_of flops / time; floor from
 * ntas_step_floor_seconds at the best measured GEMM rate of the step's
 * shapes and the normal rate; ratio = time / floor), then the in-process
 * cost of one run's setup (a one-step run) and the command that measures
 * the coordinator's overhead per run. 0, or -1 with a message. */
int ntas_bench_report(const ntas_bench_options *o, FILE *out, char *err, size_t errlen);

#endif
