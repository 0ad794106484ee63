/* svd — the singular value decomposition of a small teacher matrix.
 *
 * Owns a one-sided Jacobi SVD (Hestenes) of a row-major m x n matrix, used
 * to project students on their teachers' singular vectors (Sec. 5: w^p_ma =
 * u*_a^mT W_p v*_a^m; Fig. A.1 A3/B3). Plain loops, no LAPACK: the same bits
 * on every rank and thread count.
 */
#ifndef NTASWEEP_SVD_H
#define NTASWEEP_SVD_H

#include <stddef.h>

/* Thin SVD A = sum_a s_a u_a v_a^T of A (m x n, row-major), r = min(m, n)
 * modes sorted by decreasing s_a (ties keep their order): U (r x m, row a
 * is u_a), s (r), V (r x n, row a is v_a). A mode whose singular value is
 * below 1e-12 of the largest (zero: its vectors are not determined) gets
 * NaN vectors. Within equal singular values the vectors are one basis of
 * their subspace, chosen deterministically. Returns 0, or -1 when out of
 * memory (err filled). */
int ntas_svd(const double *A, int m, int n, double *U, double *s, double *V, char *err, size_t errlen);

#endif
