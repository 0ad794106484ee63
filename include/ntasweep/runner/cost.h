/* cost — the scheduler's cost model: how long a run or a pretraining takes.
 *
 * Owns the one calibration of run costs: the coordinator hands out runs
 * longest first by ntas_run_cost, and `ntasweep plan` (then tools/submit and
 * tools/reproduce) turns the same units into seconds. The per-step flop and
 * normal counts come from train/bench.h (what a step computes); the weights
 * here are what `ntasweep bench` measured on the 2-core machine.
 */
#ifndef NTASWEEP_COST_H
#define NTASWEEP_COST_H

#include "ntasweep/config/params.h"

/* Estimated cost of a run, in units of ~0.085 ns of one core. */
double ntas_run_cost(const ntas_params *p);
/* Seconds of one core per unit of ntas_run_cost, calibrated on the Fig. 2
 * sweep. An estimate for planning, not a promise. */
double ntas_cost_seconds_per_unit(void);
/* Estimated wall seconds of one CNN pretraining of `steps` AdamW steps
 * shared by `ranks` ranks (cnn.h's shards: more than NTAS_CNN_SHARDS ranks
 * help no further), in float32 GEMMs if `float32` (cnn_precision); data
 * loading and feature extraction folded in. */
double ntas_pretrain_seconds(int64_t steps, int ranks, int float32);

#endif
