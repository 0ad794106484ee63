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

/* ntas_cos_sim's fast form, for the shapes it fits (small matrices: every
 * model of the paper). The rows go 8 at a time into lanes: each matrix is
 * copied transposed, in chunks of 8 rows ([chunk][j][lane]), so one
 * vector operation advances 8 rows' sums by one column. Every sum is the
 * one ntas_cosine computes (j increasing, multiply then add: no fused
 * multiply-add, -ffp-contract=off), and each teacher's and student's row
 * norm is summed once instead of once per pair: the same bits, about a
 * quarter of the operations. */
enum { COS_LANES = 8, COS_MAX_D_IN = 64, COS_MAX_CHUNKS = 16 };

static int cos_sim_lanes_fit(int M, int P, int d_out, int d_in)
{
    const int chunks = (d_out + COS_LANES - 1) / COS_LANES;
    return d_in <= COS_MAX_D_IN && (M + P) * chunks <= COS_MAX_CHUNKS;
}

/* rows (n x d_in, row-major) into t ([chunk][j][lane], unused lanes 0). */
static inline __attribute__((always_inline)) void cos_transpose(const double *restrict rows, int n, int d_in,
                                                                double *restrict t)
{
    const int chunks = (n + COS_LANES - 1) / COS_LANES;
    for (int c = 0; c < chunks; c++) {
        const int lanes = n - c * COS_LANES < COS_LANES ? n - c * COS_LANES : COS_LANES;
        double *restrict tc = t + (size_t)c * d_in * COS_LANES;
        for (int l = 0; l < lanes; l++) {
            const double *restrict row = rows + (size_t)(c * COS_LANES + l) * d_in;
            for (int j = 0; j < d_in; j++) tc[j * COS_LANES + l] = row[j];
        }
        for (int l = lanes; l < COS_LANES; l++)
            for (int j = 0; j < d_in; j++) tc[j * COS_LANES + l] = 0.0;
    }
}

/* out[lane] = sum_j a[j][lane] * b[j][lane], j increasing. */
static inline __attribute__((always_inline)) void cos_lane_dots(const double *restrict a, const double *restrict b,
                                                                int d_in, double *restrict out)
{
    double s[COS_LANES] = {0};
    for (int j = 0; j < d_in; j++)
        for (int l = 0; l < COS_LANES; l++) s[l] += a[j * COS_LANES + l] * b[j * COS_LANES + l];
    for (int l = 0; l < COS_LANES; l++) out[l] = s[l];
}

static inline __attribute__((always_inline)) void cos_sim_lanes_body(const double *teachers, int M,
                                                                     const double *students, int P, int d_out,
                                                                     int d_in, double *cos)
{
    const int chunks = (d_out + COS_LANES - 1) / COS_LANES;
    const size_t en = (size_t)d_out * (size_t)d_in, cm = (size_t)chunks * (size_t)d_in * COS_LANES;
    double t[COS_MAX_CHUNKS * COS_MAX_D_IN * COS_LANES];
    double sq[COS_MAX_CHUNKS * COS_LANES], ab[COS_LANES];
    double *tt = t, *ts = t + (size_t)M * cm; /* teachers, then students */
    for (int m = 0; m < M; m++) cos_transpose(teachers + m * en, d_out, d_in, tt + m * cm);
    for (int p = 0; p < P; p++) cos_transpose(students + p * en, d_out, d_in, ts + p * cm);
    for (int q = 0; q < (M + P) * chunks; q++) {
        const double *x = t + (size_t)q * (size_t)d_in * COS_LANES;
        cos_lane_dots(x, x, d_in, sq + q * COS_LANES);
    }
    const double *sq_t = sq, *sq_s = sq + (size_t)M * chunks * COS_LANES;
    for (int m = 0; m < M; m++)
        for (int p = 0; p < P; p++) {
            double s = 0.0;
            for (int c = 0; c < chunks; c++) {
                const size_t off = (size_t)c * d_in * COS_LANES;
                cos_lane_dots(tt + m * cm + off, ts + p * cm + off, d_in, ab);
                const int lanes = d_out - c * COS_LANES < COS_LANES ? d_out - c * COS_LANES : COS_LANES;
                for (int l = 0; l < lanes; l++) {
                    const double aa = sq_t[(m * chunks + c) * COS_LANES + l], bb = sq_s[(p * chunks + c) * COS_LANES + l];
                    s += aa > 0.0 && bb > 0.0 ? ab[l] / sqrt(aa * bb) : 0.0; /* as ntas_cosine */
                }
            }
            cos[m * P + p] = s / d_out;
        }
}

#if defined(__GNUC__) && defined(__x86_64__)
__attribute__((target("avx512f,avx512vl,avx2"))) static void cos_sim_lanes_avx512(const double *teachers, int M,
                                                                                  const double *students, int P,
                                                                                  int d_out, int d_in, double *cos)
{
    if (M == 2 && P == 2 && d_out == 10 && d_in == 20)
        cos_sim_lanes_body(teachers, 2, students, 2, 10, 20, cos); /* Fig. 2: constant sizes */
    else
        cos_sim_lanes_body(teachers, M, students, P, d_out, d_in, cos);
}

__attribute__((target("avx2"))) static void cos_sim_lanes_avx2(const double *teachers, int M, const double *students,
                                                                int P, int d_out, int d_in, double *cos)
{
    cos_sim_lanes_body(teachers, M, students, P, d_out, d_in, cos);
}
#endif

static void cos_sim_lanes_portable(const double *teachers, int M, const double *students, int P, int d_out,
                                   int d_in, double *cos)
{
    cos_sim_lanes_body(teachers, M, students, P, d_out, d_in, cos);
}

void ntas_cos_sim(const double *teachers, int M, const double *students, int P, int d_out, int d_in,
                  double *cos)
{
    if (cos_sim_lanes_fit(M, P, d_out, d_in)) {
#if defined(__GNUC__) && defined(__x86_64__)
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) {
            cos_sim_lanes_avx512(teachers, M, students, P, d_out, d_in, cos);
            return;
        }
        if (__builtin_cpu_supports("avx2")) {
            cos_sim_lanes_avx2(teachers, M, students, P, d_out, d_in, cos);
            return;
        }
#endif
        cos_sim_lanes_portable(teachers, M, students, P, d_out, d_in, cos);
        return;
    }
    ntas_cos_sim_rows(teachers, M, students, P, d_out, d_in, cos);
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
