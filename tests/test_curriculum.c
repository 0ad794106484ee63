/* test_curriculum — steps per block (rounded, not truncated), the
 * alternating task sequence, and the composition curricula (switch block at
 * floor(0.75 n_blocks), composites cycling with the global block index). */
#include <math.h>
#include <stdint.h>

#include "ntasweep/tasks/curriculum.h"
#include "check.h"

static void test_steps_per_block(void)
{
    CHECK(ntas_steps_per_block(1.0, 0.001) == 1000);
    CHECK(ntas_steps_per_block(1.0, 0.01) == 100);
    /* 0.3/0.1 == 2.9999999999999996: truncation would give 2. */
    CHECK(ntas_steps_per_block(0.3, 0.1) == 3);
    CHECK(ntas_steps_per_block(10.0, 0.1) == 100);
    CHECK(ntas_steps_per_block(0.0, 0.1) == 0);
    CHECK(ntas_steps_per_block(1.0, 0.0) == -1);
    CHECK(ntas_steps_per_block(1.0, -0.1) == -1);
    CHECK(ntas_steps_per_block(-1.0, 0.1) == -1);
    CHECK(ntas_steps_per_block(NAN, 0.1) == -1);
    CHECK(ntas_steps_per_block(INFINITY, 0.1) == -1);
    CHECK(ntas_steps_per_block(1e300, 1e-300) == -1);
}

static void test_alternating(void)
{
    const int want2[] = { 0, 1, 0, 1 }, want3[] = { 0, 1, 2, 0 };
    for (int b = 0; b < 4; b++) {
        CHECK(ntas_curriculum_task(NTAS_CURRICULUM_ALTERNATING, 2, b) == want2[b]);
        CHECK(ntas_curriculum_task(NTAS_CURRICULUM_ALTERNATING, 3, b) == want3[b]);
        CHECK(ntas_curriculum_task(NTAS_CURRICULUM_ALTERNATING, 1, b) == 0);
    }
    CHECK(ntas_curriculum_task(NTAS_CURRICULUM_ALTERNATING, 2, 1001) == 1);
    CHECK(ntas_curriculum_task(NTAS_CURRICULUM_ALTERNATING, 0, 3) == -1);
    CHECK(ntas_curriculum_task(NTAS_CURRICULUM_ALTERNATING, 2, -1) == -1);
}

static void test_switch_block(void)
{
    CHECK(ntas_curriculum_switch_block(30) == 22);  /* Fig. 3: int(0.75 * 30) */
    CHECK(ntas_curriculum_switch_block(20) == 15);
    CHECK(ntas_curriculum_switch_block(50) == 37);
    CHECK(ntas_curriculum_switch_block(1) == 0);
    CHECK(ntas_curriculum_switch_block(0) == 0);
    CHECK(ntas_curriculum_switch_block(-1) == -1);
    CHECK(ntas_curriculum_switch_block(INT64_MAX) == INT64_MAX / 4 * 3 + 2);
    for (int64_t n = 0; n < 2000; n++)
        CHECK(ntas_curriculum_switch_block(n) == (int64_t)floor(0.75 * (double)n));
}

static void test_composition(void)
{
    /* Fig. 3 / A.12: M = 3, 30 blocks: A B C A B C ... for blocks 0..21,
     * then AB BC CA (tasks 3, 4, 5) by block mod 3, so block 22 is BC. */
    for (int64_t b = 0; b < 30; b++) {
        int t = ntas_curriculum_block_task(NTAS_CURRICULUM_COMPOSITION, 3, 3, 30, b);
        int want = b < 22 ? (int)(b % 3) : 3 + (int)(b % 3);
        CHECK_MSG(t == want, "block %lld: %d, want %d", (long long)b, t, want);
    }
    CHECK(ntas_curriculum_block_task(NTAS_CURRICULUM_COMPOSITION, 3, 3, 30, 22) == 4);
    /* M = 2 has the single composite AB (task 2): "A_B__AB__". */
    const int want2[10] = { 0, 1, 0, 1, 0, 1, 0, 2, 2, 2 };
    for (int b = 0; b < 10; b++)
        CHECK(ntas_curriculum_block_task(NTAS_CURRICULUM_COMPOSITION, 2, 1, 10, b) == want2[b]);
    /* Blocks past n_blocks continue the schedule (the authors run n+1 blocks). */
    CHECK(ntas_curriculum_block_task(NTAS_CURRICULUM_COMPOSITION, 3, 3, 30, 30) == 3);

    /* Fig. A.14: only composites from the start. */
    for (int b = 0; b < 50; b++)
        CHECK(ntas_curriculum_block_task(NTAS_CURRICULUM_COMPOSITES_ONLY, 3, 3, 50, b) == 3 + b % 3);

    /* Alternating through the general entry point agrees with the old one
     * and ignores the composites. */
    for (int b = 0; b < 12; b++) {
        CHECK(ntas_curriculum_block_task(NTAS_CURRICULUM_ALTERNATING, 3, 3, 12, b) ==
              ntas_curriculum_task(NTAS_CURRICULUM_ALTERNATING, 3, b));
        CHECK(ntas_curriculum_block_task(NTAS_CURRICULUM_ALTERNATING, 2, 0, 12, b) == b % 2);
    }

    /* Errors. */
    CHECK(ntas_curriculum_block_task(NTAS_CURRICULUM_COMPOSITION, 3, 0, 30, 25) == -1);
    CHECK(ntas_curriculum_block_task(NTAS_CURRICULUM_COMPOSITES_ONLY, 3, 0, 30, 0) == -1);
    CHECK(ntas_curriculum_block_task(NTAS_CURRICULUM_COMPOSITION, 0, 3, 30, 0) == -1);
    CHECK(ntas_curriculum_block_task(NTAS_CURRICULUM_COMPOSITION, 3, 3, 30, -1) == -1);
    CHECK(ntas_curriculum_block_task(NTAS_CURRICULUM_COMPOSITION, 3, 3, -1, 0) == -1);
    CHECK(ntas_curriculum_block_task(NTAS_CURRICULUM_COMPOSITION, 3, -1, 30, 0) == -1);
    CHECK(ntas_curriculum_block_task((ntas_curriculum_kind)9, 3, 3, 30, 0) == -1);
    /* The old entry point cannot place the switch and refuses the new kinds. */
    CHECK(ntas_curriculum_task(NTAS_CURRICULUM_COMPOSITION, 3, 0) == -1);
    CHECK(ntas_curriculum_task(NTAS_CURRICULUM_COMPOSITES_ONLY, 3, 0) == -1);
}

int main(void)
{
    test_steps_per_block();
    test_alternating();
    test_switch_block();
    test_composition();
    return CHECK_DONE();
}
