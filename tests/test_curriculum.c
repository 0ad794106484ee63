/* test_curriculum — steps per block (rounded, not truncated) and the
 * alternating task sequence. */
#include <math.h>

#include "ntasweep/curriculum.h"
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

int main(void)
{
    test_steps_per_block();
    test_alternating();
    return CHECK_DONE();
}
