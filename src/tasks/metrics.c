/* metrics — alignment measures. See metrics.h. */
#include "ntasweep/tasks/metrics.h"

#include <math.h>
#include <stddef.h>

double ntas_cosine(const double *a, const double *b, int n)
{
    double ab = 0.0, aa = 0.0, bb = 0.0;
    for (int i = 0; i < n; i++) {
        ab += a[i] * b[i];
        aa += a[i] * a[i];
        bb += b[i] * b[i];
    }
    return aa > 0.0 && bb > 0.0 ? ab / sqrt(aa * bb) : 0.0;
}

static double mean_row_cosine(const double *A, const double *Bm, int d_out, int d_in)
{
    double s = 0.0;
    for (int i = 0; i < d_out; i++)
        s += ntas_cosine(A + (size_t)i * d_in, Bm + (size_t)i * d_in, d_in);
    return s / d_out;
}

/* ntas_cos_sim sums each teacher's and each student's row norm once, not
 * once per (teacher, student) pair as ntas_cosine would: the same sums
 * (j increasing, multiply then add), so the same bits, with a third fewer
 * operations. (Rows in vector lanes measured no faster at Fig. 2's size:
 * the transposed copies cost what the lanes save.) Norms of up to 256 rows
 * a side fit the stack; more take the row-by-row form. */
enum { COS_MAX_ROWS = 256 };

static double row_sq(const double *a, int n)
{
    double s = 0.0;
    for (int j = 0; j < n; j++) s += a[j] * a[j];
    return s;
}

void ntas_cos_sim(const double *teachers, int M, const double *students, int P, int d_out, int d_in,
                  double *cos)
{
    if (M * d_out > COS_MAX_ROWS || P * d_out > COS_MAX_ROWS) {
        ntas_cos_sim_rows(teachers, M, students, P, d_out, d_in, cos);
        return;
    }
    const size_t en = (size_t)d_out * (size_t)d_in;
    double sq_t[COS_MAX_ROWS], sq_s[COS_MAX_ROWS];
    for (int r = 0; r < M * d_out; r++) sq_t[r] = row_sq(teachers + (size_t)r * d_in, d_in);
    for (int r = 0; r < P * d_out; r++) sq_s[r] = row_sq(students + (size_t)r * d_in, d_in);
    for (int m = 0; m < M; m++)
        for (int p = 0; p < P; p++) {
            double s = 0.0;
            for (int i = 0; i < d_out; i++) {
                const double *a = teachers + m * en + (size_t)i * d_in, *b = students + p * en + (size_t)i * d_in;
                double ab = 0.0;
                for (int j = 0; j < d_in; j++) ab += a[j] * b[j];
                const double aa = sq_t[m * d_out + i], bb = sq_s[p * d_out + i];
                s += aa > 0.0 && bb > 0.0 ? ab / sqrt(aa * bb) : 0.0; /* as ntas_cosine */
            }
            cos[m * P + p] = s / d_out;
        }
}

void ntas_cos_sim_rows(const double *teachers, int M, const double *students, int P, int d_out, int d_in,
                       double *cos)
{
    size_t en = (size_t)d_out * (size_t)d_in;
    for (int m = 0; m < M; m++)
        for (int p = 0; p < P; p++)
            cos[m * P + p] = mean_row_cosine(teachers + m * en, students + p * en, d_out, d_in);
}

void ntas_match_paths(const double *cos, int M, int P, int *teacher_of_path)
{
    for (int p = 0; p < P; p++) teacher_of_path[p] = -1;
    int pairs = M < P ? M : P;
    for (int k = 0; k < pairs; k++) {
        int bm = -1, bp = -1;
        for (int m = 0; m < M; m++) {
            int taken = 0;
            for (int p = 0; p < P; p++) taken |= teacher_of_path[p] == m;
            if (taken) continue;
            for (int p = 0; p < P; p++)
                if (teacher_of_path[p] < 0 && (bm < 0 || cos[m * P + p] > cos[bm * P + bp])) {
                    bm = m;
                    bp = p;
                }
        }
        teacher_of_path[bp] = bm;
    }
}

double ntas_specialization(const double *cos, int M, int P)
{
    int match[4096];
    if (P > 4096) return NAN;
    ntas_match_paths(cos, M, P, match);
    double s = 0.0;
    int n = 0;
    for (int p = 0; p < P; p++)
        if (match[p] >= 0) {
            s += cos[match[p] * P + p];
            n++;
        }
    return s / n;
}

double ntas_total_alignment(const double *teachers, int M, const double *students, int P,
                            int d_out, int d_in, const double *cos)
{
    size_t en = (size_t)d_out * (size_t)d_in;
    double s = 0.0;
    for (int m = 0; m < M; m++) {
        int best = 0;
        for (int p = 1; p < P; p++)
            if (cos[m * P + p] > cos[m * P + best]) best = p;
        /* Every row of the stacks counts once, so the mean over the stack is
         * the mean over teachers of their mean row cosine. */
        s += mean_row_cosine(teachers + m * en, students + best * en, d_out, d_in);
    }
    return s / M;
}

void ntas_row_cosines(const double *rows, int n_rows, const double *teacher_rows, int n_trows,
                      int d_in, double *cos)
{
    for (int i = 0; i < n_rows; i++)
        for (int k = 0; k < n_trows; k++)
            cos[(size_t)i * n_trows + k] =
                ntas_cosine(rows + (size_t)i * d_in, teacher_rows + (size_t)k * d_in, d_in);
}

void ntas_sort_rows(const double *cos, int n_rows, int n_trows, int *src_row)
{
    for (int k = 0; k < n_trows; k++) {
        int best = 0;
        for (int i = 1; i < n_rows; i++)
            if (cos[(size_t)i * n_trows + k] > cos[(size_t)best * n_trows + k]) best = i;
        src_row[k] = best;
    }
}

double ntas_sorted_alignment(const double *teachers, int M, const double *sorted, int d_out,
                             int d_in)
{
    size_t en = (size_t)d_out * (size_t)d_in;
    double s = 0.0;
    for (int m = 0; m < M; m++)
        s += mean_row_cosine(teachers + m * en, sorted + m * en, d_out, d_in);
    return s / M;
}
