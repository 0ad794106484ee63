/* check — the few assertion macros every C unit test uses.
 * A failed CHECK prints file:line and the expression, counts the failure and
 * lets the test go on; CHECK_DONE() prints "N passed, N failed" and returns
 * the process status (non-zero if anything failed). */
#ifndef NTASWEEP_TEST_CHECK_H
#define NTASWEEP_TEST_CHECK_H

#include <math.h>
#include <stdio.h>

static int check_passed_, check_failed_;

#define CHECK(cond) do { if (cond) { check_passed_++; } else { check_failed_++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)

#define CHECK_MSG(cond, ...) do { if (cond) { check_passed_++; } else { check_failed_++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

#define CHECK_NEAR(a, b, tol) do { double a_ = (a), b_ = (b); \
    CHECK_MSG(fabs(a_ - b_) <= (tol), "%s = %.17g, %s = %.17g, tol %g", #a, a_, #b, b_, (double)(tol)); } while (0)

#define CHECK_DONE() (printf("%d passed, %d failed\n", check_passed_, check_failed_), check_failed_ != 0)

#endif
