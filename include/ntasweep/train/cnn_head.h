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
#include "ntasweep/models/model.h"
#include "ntasweep/train/features.h"
#include "ntasweep/train/train.h"

/* The new label of each original label 0..9 under map kind
 * (ntas_label_map_kind): table[y]. */
const uint8_t *ntas_label_map_table(int kind);

/* The model tables of cnn_nta and cnn_alone (model.h). Both train through
 * the features task (ntas_task_features, run_task.h): batches of the
 * training features in the per-task order above, the batch cross-entropy as
 * loss (no regulariser), accuracy on the test images under the current
 * task's labels at each record. Streams: "init" (NTA weights) and "data"
 * (the batch permutations) of the run key. cos_sim, teachers,
 * specialization and total_alignment stay NaN (there are no teachers).
 * cnn_alone: its head W is student 0 (other paths NaN), gates NaN,
 * update_norm_w[0] is ||dW||. */
extern const ntas_model_ops ntas_model_cnn_nta;
extern const ntas_model_ops ntas_model_cnn_alone;

#endif
