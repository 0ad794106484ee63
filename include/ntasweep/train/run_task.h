/* run_task — what a model learns from, as seen by the one run loop (train.c).
 *
 * Owns the contract of a task: set up the run (teachers or labels), give
 * the loss of each step and leave its gradient for the model's backward
 * (model.h: ntas_task_grad), and record the task's own results. Two tasks:
 * linear teachers with the data paths of key `data` (train.c) and the
 * pretrained CNN features (cnn_head.c). A model names its task in its table.
 */
#ifndef NTASWEEP_RUN_TASK_H
#define NTASWEEP_RUN_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "ntasweep/config/params.h"
#include "ntasweep/models/model.h"
#include "ntasweep/models/results.h"

typedef struct {
    /* Allocates *state for a run of model m with params p; fills the
     * run's teachers in r (NaN where there are none). data: the run's
     * features (NTAS_TASK_FEATURES) or NULL. 0, or -1 with err. */
    int (*init)(void **state, const ntas_params *p, uint64_t run_key, const void *data, const ntas_model_ops *m,
                ntas_run_result *r, char *err, size_t errlen);
    void (*free)(void *state);
    /* The task loss of one step on the block's task (index into the run's
     * tasks), with the gradient left in the model or in *g for backward. */
    double (*loss_grad)(void *state, const ntas_model_ops *m, void *model, int task, ntas_task_grad *g);
    /* The task's own results of record rec (the state before the step). */
    void (*record)(void *state, const ntas_model_ops *m, void *model, int task, ntas_run_result *r, int64_t rec);
} ntas_task_ops;

extern const ntas_task_ops ntas_task_teachers; /* train.c */
extern const ntas_task_ops ntas_task_features; /* cnn_head.c */

#endif
