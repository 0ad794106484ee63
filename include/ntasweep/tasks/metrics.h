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

/* cos[m * P + p] = mean over rows i of cosine(row i of teacher m, row i of student p).
 * ntas_cos_sim_rows computes it row by row with ntas_cosine; ntas_cos_sim
 * gives the same bits with each row norm summed once (the records of every
 * run call it). */
void ntas_cos_sim(const double *teachers, int M, const double *students, int P, int d_out, int d_in,
                  double *cos);
void ntas_cos_sim_rows(const double *teachers, int M, const double *students, int P, int d_out, int d_in,
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

/* --- Row sorting of the per-neuron and fully-connected models (App. A.8,
 * B.4.1). Their units are rows, not whole paths: each base-teacher row is
 * given the student row that matches it best, and the sorted rows form M
 * students of d_out rows that the per-path metrics above then measure. */

/* cos[i * n_trows + k] = cosine(student row i, teacher row k) for n_rows
 * student rows and n_trows teacher rows of length d_in (signed, 0 for a zero
 * row). Teacher row k = m * d_out + r is row r of teacher m when the M base
 * teachers are passed as one stack. The authors sort once per run on these
 * cosines averaged over every recorded time: sum this matrix over records,
 * divide, and pass the mean to ntas_sort_rows. */
void ntas_row_cosines(const double *rows, int n_rows, const double *teacher_rows, int n_trows,
                      int d_in, double *cos);

/* src_row[k] = argmax_i cos[i * n_trows + k] (lowest i on ties), i.e. the
 * student row that best matches teacher row k (the authors' argmax of
 * row_cossim over student rows). A student row may serve several teacher
 * rows, and a row matching no teacher row best is left out, exactly as in
 * their compute_row_cossim. */
void ntas_sort_rows(const double *cos, int n_rows, int n_trows, int *src_row);

/* Total alignment of sorted students (App. B.4.1 "concat_cossim" after
 * sorting): sorted student m is compared with teacher m, so this is the mean
 * over m and r of cosine(teacher m row r, sorted student m row r). */
double ntas_sorted_alignment(const double *teachers, int M, const double *sorted, int d_out,
                             int d_in);

#endif
