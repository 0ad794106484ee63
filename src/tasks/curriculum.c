/* curriculum — block schedule (SPEC-NOTES §3, see curriculum.h). */
#include "ntasweep/tasks/curriculum.h"

#include <math.h>

int64_t ntas_steps_per_block(double block_len, double dt)
{
    /* Reject what llround cannot represent (NaN, inf, beyond int64) instead
     * of invoking its unspecified result. 0.3/0.1 = 2.9999999999999996 is why
     * this rounds rather than truncates. */
    if (!(dt > 0.0) || !(block_len >= 0.0) || !isfinite(block_len) || !isfinite(dt))
        return -1;
    double q = block_len / dt;
    if (!(q < 9.2e18))
        return -1;
    return (int64_t)llround(q);
}

int ntas_curriculum_task(ntas_curriculum_kind kind, int n_teachers, int block)
{
    if (n_teachers <= 0 || block < 0)
        return -1;
    if (kind == NTAS_CURRICULUM_ALTERNATING)
        return block % n_teachers;
    return -1;
}

int64_t ntas_curriculum_switch_block(int64_t n_blocks)
{
    if (n_blocks < 0)
        return -1;
    /* floor(3 n / 4) without overflowing 3 n. */
    return n_blocks / 4 * 3 + n_blocks % 4 * 3 / 4;
}

int ntas_curriculum_block_task(ntas_curriculum_kind kind, int n_base, int n_composite,
                               int64_t n_blocks, int64_t block)
{
    if (n_base <= 0 || n_composite < 0 || n_blocks < 0 || block < 0)
        return -1;
    switch (kind) {
    case NTAS_CURRICULUM_ALTERNATING:
        return (int)(block % n_base);
    case NTAS_CURRICULUM_COMPOSITION:
        if (n_composite == 0)
            return -1;
        if (block < ntas_curriculum_switch_block(n_blocks))
            return (int)(block % n_base);
        return n_base + (int)(block % n_composite);
    case NTAS_CURRICULUM_COMPOSITES_ONLY:
        if (n_composite == 0)
            return -1;
        return n_base + (int)(block % n_composite);
    }
    return -1;
}
