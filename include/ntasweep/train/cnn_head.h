/* cnn_head — the heads trained on pretrained CNN features (Sec. 8, Fig. 7, A.15).
 *
 * Owns the two tasks' labels (task 1 the original ones, task 2 a label map
 * of SPEC-NOTES §8), the batch order (per task, a permutation of the
 * training images reshuffled every epoch, consumed in order across blocks)
 * and the training loops of model=cnn_nta (NTA head y = sum_p c_p W_p x on
 * the 64 features, log-softmax cross-entropy, explicit Euler) and
 * model=cnn_alone (the CNN's own pretrained 64 -> 10 head, trained by AdamW
 * on the same batches), recording test accuracy under the current task.
 */
#ifndef NTASWEEP_CNN_HEAD_H
#define NTASWEEP_CNN_HEAD_H

#include <stddef.h>
#include <stdint.h>

#include "ntasweep/config/params.h"
#include "ntasweep/train/features.h"
#include "ntasweep/train/train.h"

/* The new label of each original label 0..9 under map kind
 * (ntas_label_map_kind): table[y]. */
const uint8_t *ntas_label_map_table(int kind);

/* One run of a cnn model on features f (p->model cnn_nta or cnn_alone;
 * r initialised for p, r->block_task filled). Streams: "init" (NTA weights)
 * and "data" (the batch permutations) of run_key. Fills loss (batch
 * cross-entropy, no regulariser), accuracy (test images, current task's
 * labels), gates, update norms, time_to_threshold (batch loss < 0.1),
 * students and gates_final; cos_sim, teachers, specialization and
 * total_alignment stay NaN (there are no teachers). cnn_alone: its head W
 * is student 0 (other paths NaN), gates NaN, update_norm_w[0] is ||dW||.
 * Returns as ntas_train_run. */
int ntas_cnn_head_run(const ntas_params *p, uint64_t run_key, const ntas_features *f, ntas_run_result *r,
                      ntas_poll_fn poll, void *poll_ctx, char *err, size_t errlen);

#endif
