/* sorted — helpers the model tables share (model.h): the row sorting of
 * App. B.4.1 for the models whose rows are matched to teachers after the
 * run (nta_neuron, fc), and a norm. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/models/model.h"
#include "ntasweep/core/err.h"
#include "ntasweep/tasks/metrics.h"

double ntas_norm2(const double *a, size_t n)
{
    double sq = 0.0;
    for (size_t i = 0; i < n; i++) sq += a[i] * a[i];
    return sqrt(sq);
}

void ntas_norm2_pair(const double *a, const double *b, size_t n, double *norm_a, double *norm_b)
{
    double sa = 0.0, sb = 0.0;
    for (size_t i = 0; i < n; i++) {
        sa += a[i] * a[i];
        sb += b[i] * b[i];
    }
    *norm_a = sqrt(sa);
    *norm_b = sqrt(sb);
}

/* Mean row cosines over the records decide src_row; every record's
 * cos_sim, gates and sorted alignment are then computed for the sorted
 * students from that record's row cosines and raw gates. */
int ntas_finish_sorted(ntas_run_result *r, const double *rowcos, int64_t n_rec, int *src_row,
                       ntas_sorted_gate_fn gate_of, char *err, size_t errlen)
{
    const int P = r->P, M = r->M, d_out = r->d_out;
    const size_t nrow = (size_t)P * (size_t)d_out, ntrow = (size_t)M * (size_t)d_out, cell = nrow * ntrow;
    double *mean = calloc(cell, sizeof *mean);
    if (!mean) {
        ntas_set_err(err, errlen, "out of memory");
        return -1;
    }
    for (int64_t k = 0; k < n_rec; k++)
        for (size_t i = 0; i < cell; i++) mean[i] += rowcos[(size_t)k * cell + i];
    for (size_t i = 0; i < cell; i++) mean[i] /= (double)(n_rec > 0 ? n_rec : 1);
    ntas_sort_rows(mean, (int)nrow, (int)ntrow, src_row);
    free(mean);
    for (size_t i = 0; i < ntrow; i++) r->row_source[i] = src_row[i];
    for (int64_t k = 0; k < n_rec; k++) {
        const double *rc = rowcos + (size_t)k * cell;
        double *cs = r->cos_sim + (size_t)k * (size_t)M * (size_t)P, *g = r->gates + (size_t)k * (size_t)P;
        double align = 0.0;
        for (int s = 0; s < M; s++) {
            for (int t = 0; t < M; t++) {
                double sum = 0.0;
                for (int row = 0; row < d_out; row++)
                    sum += rc[(size_t)src_row[s * d_out + row] * ntrow + (size_t)(t * d_out + row)];
                cs[t * P + s] = sum / d_out;
            }
            align += cs[s * P + s];
            g[s] = gate_of(r, k, src_row, s);
        }
        r->sorted_alignment[k] = align / M;
    }
    return 0;
}

int ntas_sorted_rows_init(ntas_sorted_rows *s, const ntas_params *p, int64_t n_records, char *err,
                          size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->P = (int)p->paths;
    s->M = (int)p->teachers;
    s->d_out = (int)p->d_out;
    s->d_in = (int)p->d_in;
    const size_t nrow = (size_t)s->P * (size_t)s->d_out, ntrow = (size_t)s->M * (size_t)s->d_out;
    s->rowcos = malloc((size_t)n_records * nrow * ntrow * sizeof *s->rowcos);
    s->src_row = malloc(ntrow * sizeof *s->src_row);
    s->sorted_w = malloc(ntrow * (size_t)s->d_in * sizeof *s->sorted_w);
    if (!s->rowcos || !s->src_row || !s->sorted_w) {
        ntas_sorted_rows_free(s);
        ntas_set_err(err, errlen, "out of memory for the row cosines of %lld records", (long long)n_records);
        return -1;
    }
    return 0;
}

void ntas_sorted_rows_free(ntas_sorted_rows *s)
{
    free(s->rowcos);
    free(s->src_row);
    free(s->sorted_w);
    memset(s, 0, sizeof *s);
}

void ntas_sorted_rows_record(ntas_sorted_rows *s, const double *rows, const double *teachers, int64_t rec)
{
    const size_t nrow = (size_t)s->P * (size_t)s->d_out, ntrow = (size_t)s->M * (size_t)s->d_out;
    ntas_row_cosines(rows, (int)nrow, teachers, (int)ntrow, s->d_in, s->rowcos + (size_t)rec * nrow * ntrow);
}

void ntas_sorted_rows_alignment(const ntas_sorted_rows *s, ntas_run_result *r)
{
    r->total_alignment = ntas_sorted_alignment(r->teachers, r->M, s->sorted_w, s->d_out, s->d_in);
    r->specialization = r->total_alignment;
}

int ntas_sorted_rows_diverged(const double *g, size_t n, ntas_run_result *r)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(g[i])) {
            r->status = NTAS_STATUS_FAILED;
            snprintf(r->message, sizeof r->message, "diverged: final gate %zu is %g", i, g[i]);
            return 1;
        }
    return 0;
}
