/* Alignment metrics of SPEC-NOTES §4 and the row sorting of App. B.4.1 on
 * hand-made students and teachers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ntasweep/tasks/metrics.h"

enum { D_OUT = 2, D_IN = 4 };

/* ntas_cos_sim (each row norm summed once) gives the bits of
 * ntas_cos_sim_rows (row by row with ntas_cosine), on random matrices with
 * some zero rows (cosine 0). */
static void check_cos_sim_norms_once(int M, int P, int d_out, int d_in, unsigned seed)
{
    const size_t en = (size_t)d_out * (size_t)d_in;
    double *T = malloc((size_t)M * en * sizeof *T), *S = malloc((size_t)P * en * sizeof *S);
    double *fast = malloc((size_t)M * (size_t)P * sizeof *fast), *rows = malloc((size_t)M * (size_t)P * sizeof *rows);
    CHECK(T && S && fast && rows);
    srand(seed);
    for (size_t i = 0; i < (size_t)M * en; i++) T[i] = rand() / (double)RAND_MAX - 0.5;
    for (size_t i = 0; i < (size_t)P * en; i++) S[i] = (rand() / (double)RAND_MAX - 0.5) * 1e-3;
    memset(S + (size_t)(d_out - 1) * d_in, 0, (size_t)d_in * sizeof *S); /* path 0's last row */
    if (M > 1) memset(T + en, 0, (size_t)d_in * sizeof *T);              /* teacher 1's first row */
    ntas_cos_sim(T, M, S, P, d_out, d_in, fast);
    ntas_cos_sim_rows(T, M, S, P, d_out, d_in, rows);
    CHECK_MSG(memcmp(fast, rows, (size_t)M * (size_t)P * sizeof *fast) == 0,
              "cos_sim M %d P %d %d x %d: not the bits of the row-by-row form", M, P, d_out, d_in);
    free(T), free(S), free(fast), free(rows);
}

int main(void)
{
    check_cos_sim_norms_once(2, 2, 10, 20, 1); /* Fig. 2 */
    check_cos_sim_norms_once(3, 3, 6, 20, 2);  /* Fig. 3 */
    check_cos_sim_norms_once(2, 4, 17, 7, 3);
    check_cos_sim_norms_once(1, 1, 1, 1, 4);
    check_cos_sim_norms_once(1, 2, 300, 3, 5); /* beyond the norms' buffer: the rows form */
    /* Two orthogonal teachers: rows e0,e1 and e2,e3. */
    double T[2 * D_OUT * D_IN] = {1, 0, 0, 0, 0, 1, 0, 0,
                                  0, 0, 1, 0, 0, 0, 0, 1};
    double S[2 * D_OUT * D_IN], cos[4];
    int match[2];

    /* Specialised, in swapped order, with scale: path 0 = 3 * B, path 1 = 0.5 * A. */
    memset(S, 0, sizeof S);
    S[0 * 8 + 2] = 3; S[0 * 8 + 7] = 3;
    S[1 * 8 + 0] = 0.5; S[1 * 8 + 5] = 0.5;
    ntas_cos_sim(T, 2, S, 2, D_OUT, D_IN, cos);
    CHECK_NEAR(cos[0 * 2 + 0], 0.0, 1e-15);
    CHECK_NEAR(cos[0 * 2 + 1], 1.0, 1e-15);
    CHECK_NEAR(cos[1 * 2 + 0], 1.0, 1e-15);
    ntas_match_paths(cos, 2, 2, match);
    CHECK(match[0] == 1 && match[1] == 0);
    CHECK_NEAR(ntas_specialization(cos, 2, 2), 1.0, 1e-15);
    CHECK_NEAR(ntas_total_alignment(T, 2, S, 2, D_OUT, D_IN, cos), 1.0, 1e-15);

    /* Both paths the same mixture 0.8 A + 0.6 B: cosines 0.8 and 0.6. One-to-one
     * matching gives (0.8 + 0.6)/2; a per-path argmax would claim 0.8. */
    for (int p = 0; p < 2; p++)
        for (int i = 0; i < D_OUT * D_IN; i++) S[p * 8 + i] = 0.8 * T[i] + 0.6 * T[8 + i];
    ntas_cos_sim(T, 2, S, 2, D_OUT, D_IN, cos);
    CHECK_NEAR(cos[0], 0.8, 1e-15);
    CHECK_NEAR(cos[2], 0.6, 1e-15);
    CHECK_NEAR(ntas_specialization(cos, 2, 2), 0.7, 1e-15);
    ntas_match_paths(cos, 2, 2, match);
    CHECK(match[0] != match[1] && match[0] >= 0 && match[1] >= 0);
    /* Total alignment: each teacher's best path, duplicates allowed (authors' concat_cossim). */
    CHECK_NEAR(ntas_total_alignment(T, 2, S, 2, D_OUT, D_IN, cos), 0.7, 1e-15);

    /* Zero student: cosine defined as 0, not NaN. */
    memset(S, 0, sizeof S);
    ntas_cos_sim(T, 2, S, 2, D_OUT, D_IN, cos);
    CHECK(cos[0] == 0.0 && cos[3] == 0.0);

    /* Redundant paths (P = 3 > M = 2): the leftover path is unmatched. */
    double cos3[6] = {0.9, 0.2, 0.95, 0.1, 0.8, 0.3};   /* [m][p] */
    int match3[3];
    ntas_match_paths(cos3, 2, 3, match3);
    CHECK(match3[2] == 0 && match3[1] == 1 && match3[0] == -1);
    CHECK_NEAR(ntas_specialization(cos3, 2, 3), (0.95 + 0.8) / 2, 1e-15);

    /* Row sorting (App. B.4.1): 3 student rows against the 4 teacher rows. */
    const double rows[3 * D_IN] = {0, 2, 0, 0,    /* e1 */
                                   1, 0, 1, 0,    /* (e0 + e2) / sqrt 2 */
                                   0, 0, 0, -1};  /* -e3 */
    double rc[3 * 4];
    int src[4];
    ntas_row_cosines(rows, 3, T, 4, D_IN, rc);
    CHECK_NEAR(rc[0 * 4 + 1], 1.0, 1e-15);
    CHECK_NEAR(rc[1 * 4 + 0], 1 / sqrt(2.0), 1e-15);
    CHECK_NEAR(rc[1 * 4 + 2], 1 / sqrt(2.0), 1e-15);
    CHECK_NEAR(rc[2 * 4 + 3], -1.0, 1e-15);
    ntas_sort_rows(rc, 3, 4, src);
    /* e0 and e2 both go to row 1 (a row may serve two teacher rows); e3 has
     * no positive match, and the zero cosines of rows 0 and 1 tie: lowest row wins. */
    CHECK(src[0] == 1 && src[1] == 0 && src[2] == 1 && src[3] == 0);
    /* Time averaging is the caller's sum of matrices: averaging a record where
     * row 2 is +e3 with this one leaves e3's cosines at 0, still a tie. */
    double rc2[12], avg[12];
    const double rows2[3 * D_IN] = {0, 2, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1};
    ntas_row_cosines(rows2, 3, T, 4, D_IN, rc2);
    for (int k = 0; k < 12; k++) avg[k] = 0.5 * (rc[k] + rc2[k]);
    ntas_sort_rows(avg, 3, 4, src);
    CHECK(src[3] == 0);
    ntas_sort_rows(rc2, 3, 4, src);
    CHECK(src[3] == 2);
    /* Sorted alignment equals ntas_total_alignment when each teacher's best
     * path is its own sorted student. */
    memset(S, 0, sizeof S);
    S[0 * 8 + 0] = 1; S[0 * 8 + 5] = 2; S[0 * 8 + 6] = 1;  /* A-like */
    S[1 * 8 + 2] = 1; S[1 * 8 + 7] = 1;                    /* B */
    ntas_cos_sim(T, 2, S, 2, D_OUT, D_IN, cos);
    CHECK_NEAR(ntas_sorted_alignment(T, 2, S, D_OUT, D_IN), ntas_total_alignment(T, 2, S, 2, D_OUT, D_IN, cos), 1e-15);
    CHECK_NEAR(ntas_sorted_alignment(T, 2, S, D_OUT, D_IN), (1 + 2 / sqrt(5.0) + 2) / 4, 1e-15);
    return CHECK_DONE();
}
