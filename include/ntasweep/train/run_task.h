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

/* What the loop needs of a step's loss. exact: the loss is recorded, so
 * its bits must be the exact ones. Otherwise a task may return a cheaper
 * approximation, provided it is finite exactly when the exact loss is and,
 * when threshold is not NaN (time to threshold still unknown in the
 * block), lies on the same side of threshold (< or not) as the exact loss. */
typedef struct {
    int exact;
    double threshold;
} ntas_loss_need;

typedef struct {
    /* Allocates *state for a run of model m with params p; fills the
     * run's teachers in r (NaN where there are none). data: the run's
     * features (NTAS_TASK_FEATURES) or NULL. 0, or -1 with err. */
    int (*init)(void **state, const ntas_params *p, uint64_t run_key, const void *data, const ntas_model_ops *m,
                ntas_run_result *r, char *err, size_t errlen);
    void (*free)(void *state);
    /* The task loss of one step on the block's task (index into the run's
     * tasks), with the gradient left in the model or in *g for backward;
     * the loss as exact as need asks. */
    double (*loss_grad)(void *state, const ntas_model_ops *m, void *model, int task, const ntas_loss_need *need,
                        ntas_task_grad *g);
    /* The task's own results of record rec (the state before the step). */
    void (*record)(void *state, const ntas_model_ops *m, void *model, int task, ntas_run_result *r, int64_t rec);
} ntas_task_ops;

extern const ntas_task_ops ntas_task_teachers; /* train.c */
extern const ntas_task_ops ntas_task_features; /* cnn_head.c */

#endif
