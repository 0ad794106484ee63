/* cost — see cost.h. */
#include "ntasweep/runner/cost.h"

#include "ntasweep/models/cnn.h"
#include "ntasweep/train/bench.h"

double ntas_run_cost(const ntas_params *p)
{
    if (ntas_params_cnn_model(p)) {
        /* Per step: the batch through the head and its gradient; per record:
         * the 10 000 test features through it (Fashion; fewer for MNIST-10k). */
        double head = 64.0 * 10.0 * (p->model == NTAS_MODEL_CNN_NTA ? (double)p->paths : 1.0);
        double steps = (double)ntas_params_total_steps(p);
        return steps * (3.0 * (double)p->batch * head + 2000.0) +
               (double)ntas_params_n_records(p) * 10000.0 * head;
    }
    /* Per step: the flops and standard normals that bench.h counts for this
     * model and data path, weighted as `ntasweep bench` measured them on the
     * 2-core machine (docs "Speed": ~0.08 ns per flop, GEMMs and small
     * loops together; ~4.4 ns per normal; ~1 us of regulariser, metrics and
     * calls), so the cheap wishart and expected paths are planned as such.
     * In cost units of ~0.085 ns, the scale of the CNN branch above. */
    ntas_step_cost c = ntas_step_cost_of(p);
    double per_step_ns = 0.08 * c.flops + 4.4 * c.normals + 1000.0;
    return per_step_ns / 0.085 * (double)ntas_params_total_steps(p);
}

/* Calibrated on the Fig. 2 sweep: 7.5 s for 20 runs of 20 000 steps on 2
 * ranks, 0.8 s of it MPI start-up, i.e. about 34 us per step of batch 200,
 * 20 -> 10, two paths. */
double ntas_cost_seconds_per_unit(void)
{
    ntas_params p;
    ntas_params_defaults(&p);
    return 34e-6 * (double)ntas_params_total_steps(&p) / ntas_run_cost(&p);
}

/* One rank: 3000 steps (batch 512) took 259 s on MNIST-10k and 261 s on
 * Fashion-MNIST in `tools/reproduce` on the idle 2-core machine with the
 * whole batch in one pass (0.087 s/step); the batch in NTAS_CNN_SHARDS
 * shards costs about 1.19x that on one rank (78 -> 86..93 ms of CPU per
 * step, docs/speed.md), so 0.104 s/step. r ranks split the shards,
 * ceil(S / r) each; the rest of a step (the tree's last additions, AdamW on
 * every rank, the exchange) is not split. Measured: the busiest of 2 ranks
 * used 0.47..0.62x the CPU time of 1 rank per step (three runs, on a machine
 * too loaded to measure wall time, docs/speed.md): 0.6x is assumed, i.e.
 * 20 % of a step not split. cnn_precision = float32 took 0.58..0.68x the
 * double time per step on one rank (docs/speed.md, "float32 GEMMs"): 0.65x. */
double ntas_pretrain_seconds(int64_t steps, int ranks, int float32)
{
    const int r = ranks < 1 ? 1 : ranks > NTAS_CNN_SHARDS ? NTAS_CNN_SHARDS : ranks;
    const double split = (double)((NTAS_CNN_SHARDS + r - 1) / r) / NTAS_CNN_SHARDS;
    const double step_s = float32 ? 0.65 * 0.104 : 0.104;
    return step_s * (0.2 + 0.8 * split) * (double)steps;
}
