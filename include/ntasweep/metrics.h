/* metrics — student-teacher alignment measures of App. B.4 / SPEC-NOTES §4.
 *
 * Owns the definitions of cos_sim, specialization and total alignment so that
 * the training loop, the tests and the plots agree on one meaning. Students
 * and teachers are blocks of d_out x d_in row-major matrices.
 */
#ifndef NTASWEEP_METRICS_H
#define NTASWEEP_METRICS_H

/* Loss threshold of Fig. 2F ("time to L_task = 0.1"). */
#define NTAS_LOSS_THRESHOLD 0.1

/* Cosine of two vectors; 0 when either is the zero vector. */
double ntas_cosine(const double *a, const double *b, int n);

/* cos[m * P + p] = mean over rows i of cosine(row i of teacher m, row i of student p). */
void ntas_cos_sim(const double *teachers, int M, const double *students, int P, int d_out, int d_in,
                  double *cos);

/* One-to-one matching of paths to teachers: repeatedly take the largest
 * remaining cos[m][p] and remove its teacher and path, min(M, P) times.
 * teacher_of_path[p] is the matched teacher, or -1 for a path left over.
 * Equals the per-path argmax whenever that is already one-to-one; unlike it,
 * two paths copying the same teacher do not both count as matched. */
void ntas_match_paths(const double *cos, int M, int P, int *teacher_of_path);

/* Mean of cos[m][p] over the matched pairs: ~1 when every teacher has a
 * path of its own, ~0.7 when both paths hold the same mixture of teachers. */
double ntas_specialization(const double *cos, int M, int P);

/* Total alignment (Fig. 5, A.7): for each teacher m take its best-matching
 * path argmax_p cos[m][p], stack the M teachers' rows and those students'
 * rows, and return the mean row-wise cosine between the two stacks (as the
 * authors' concat_cossim). */
double ntas_total_alignment(const double *teachers, int M, const double *students, int P,
                            int d_out, int d_in, const double *cos);

#endif
