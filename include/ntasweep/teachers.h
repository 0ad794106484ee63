/* teachers — the target linear maps W*^m of the tasks (SPEC-NOTES §2).
 *
 * Owns teacher construction. Teachers are drawn from their own stream keyed
 * by teacher_seed and their shape only, so every replicate seed of a sweep
 * shares them (as the published runs did). Layout: M blocks of d_out x d_in,
 * row-major, teacher m at out[m * d_out * d_in].
 */
#ifndef NTASWEEP_TEACHERS_H
#define NTASWEEP_TEACHERS_H

#include <stddef.h>
#include <stdint.h>

/* Orthogonal teachers: the first M*d_out rows of a Haar-random orthogonal
 * d_in x d_in matrix, scaled by 1/sqrt(d_in), split into M teachers.
 * Requires d_in >= M*d_out; returns 0, or -1 with a message in err. */
int ntas_teachers_orthogonal(int d_in, int d_out, int n_teachers, int64_t teacher_seed,
                             double *out, char *err, size_t errlen);

#endif
