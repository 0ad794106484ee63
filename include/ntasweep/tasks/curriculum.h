/* curriculum — which task is active in which block (SPEC-NOTES §3).
 *
 * Owns the block schedule: steps per block and task per block, over a task
 * list of M base tasks followed by their composites (teachers.h). Models
 * never see the task identity; only the training loop asks for it to pick
 * the teacher that labels the block's data.
 */
#ifndef NTASWEEP_CURRICULUM_H
#define NTASWEEP_CURRICULUM_H

#include <stdint.h>

typedef enum {
    /* A_B...: block b uses base task b mod M. */
    NTAS_CURRICULUM_ALTERNATING = 0,
    /* Task / subtask composition (Fig. 3, A.12; the authors' "A_B_C__AB_BC_CA__"):
     * the first floor(0.75 n_blocks) blocks use base task b mod M, the later
     * ones composite M + (b mod n_composite). */
    NTAS_CURRICULUM_COMPOSITION = 1,
    /* Non-orthogonal tasks from the start (Fig. A.14, "AB_BC_CA__"): every
     * block uses composite M + (b mod n_composite). */
    NTAS_CURRICULUM_COMPOSITES_ONLY = 2,
} ntas_curriculum_kind;

/* Steps in a block of length block_len (time units) at Euler step dt:
 * round(block_len / dt) (rounded, not truncated: 0.3/0.1 is 2.9999999999999996
 * in doubles). Returns -1 if dt <= 0, block_len < 0, either is not finite, or
 * the quotient does not fit an int64. */
int64_t ntas_steps_per_block(double block_len, double dt);

/* Task index active during block `block` (0-based) among n_teachers tasks,
 * for the alternating curriculum: block b uses task b mod n_teachers.
 * Returns -1 for n_teachers <= 0, block < 0 or any other kind (the
 * composition kinds need ntas_curriculum_block_task). */
int ntas_curriculum_task(ntas_curriculum_kind kind, int n_teachers, int block);

/* First block of the composite phase of NTAS_CURRICULUM_COMPOSITION:
 * floor(0.75 n_blocks) (the authors' int(0.75 * num_blocks), computed in
 * integers). -1 for n_blocks < 0. */
int64_t ntas_curriculum_switch_block(int64_t n_blocks);

/* Index into the task list (M = n_base base tasks, then n_composite
 * composites) of the task active during block `block` of a run of n_blocks
 * blocks. The composite phase cycles with the global block index,
 * M + (block mod n_composite), as the authors' code does (with n_blocks = 30
 * and M = 3 the first composite block, 22, is BC). Blocks at or beyond
 * n_blocks are not an error (the schedule simply continues). Returns -1 for
 * an unknown kind, n_base <= 0, block < 0, n_blocks < 0, n_composite < 0, or
 * n_composite == 0 where the kind needs composites. */
int ntas_curriculum_block_task(ntas_curriculum_kind kind, int n_base, int n_composite,
                               int64_t n_blocks, int64_t block);

#endif
