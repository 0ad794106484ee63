/* curriculum — which task is active in which block (SPEC-NOTES §3).
 *
 * Owns the block schedule: steps per block and task per block. Models never
 * see the task identity; only the training loop asks for it to pick the
 * teacher that labels the block's data.
 */
#ifndef NTASWEEP_CURRICULUM_H
#define NTASWEEP_CURRICULUM_H

#include <stdint.h>

typedef enum { NTAS_CURRICULUM_ALTERNATING = 0 } ntas_curriculum_kind;

/* Steps in a block of length block_len (time units) at Euler step dt:
 * round(block_len / dt) (rounded, not truncated: 0.3/0.1 is 2.9999999999999996
 * in doubles). Returns -1 if dt <= 0, block_len < 0, either is not finite, or
 * the quotient does not fit an int64. */
int64_t ntas_steps_per_block(double block_len, double dt);

/* Task index active during block `block` (0-based) among n_teachers tasks.
 * Alternating (A_B...): block b uses task b mod n_teachers.
 * Returns -1 for n_teachers <= 0, block < 0 or an unknown kind. */
int ntas_curriculum_task(ntas_curriculum_kind kind, int n_teachers, int block);

#endif
