/* table — a results file as one row per run (`ntasweep export`, `status`).
 *
 * Owns the tidy view of a results file: the columns are the run index, then
 * every coordinate along run (the parameters, case, run_key, record_interval
 * and the sweep's [vars], in the order of the file's CF `coordinates`
 * attribute), status, message, then the scalar metrics: every other 1-D
 * dataset along run (specialization, total_alignment) and, from the arrays,
 * final_loss, mean_time_to_threshold and (CNN runs) final_accuracy.
 * tools/ntaframe.py builds the same table in pandas.
 */
#ifndef NTASWEEP_TABLE_H
#define NTASWEEP_TABLE_H

#include <stddef.h>
#include <stdio.h>

typedef enum { NTAS_COL_REAL, NTAS_COL_INT, NTAS_COL_TEXT } ntas_col_type;

typedef struct {
    char name[64];
    ntas_col_type type;
    int is_param;        /* a coordinate along run (parameter, case, run_key, [vars] ...) */
    double *real;        /* [n_runs] for REAL and INT (ints exactly representable) */
    char *text;          /* [n_runs][width] for TEXT */
    size_t width;
} ntas_column;

typedef struct {
    int n_runs, n_cols;
    ntas_column *cols;
} ntas_table;

/* Reads path (format NTAS_FORMAT_VERSION) into t. 0, or -1 with err. */
int  ntas_table_read(const char *path, ntas_table *t, char *err, size_t errlen);
void ntas_table_free(ntas_table *t);
/* The column called name, or NULL. */
const ntas_column *ntas_table_col(const ntas_table *t, const char *name);
/* Whether column c takes more than one value over the runs. */
int  ntas_table_varies(const ntas_table *t, const ntas_column *c);
/* Value of column c in run i as text ("" for NaN), into buf. */
void ntas_table_cell(const ntas_column *c, int i, char *buf, size_t len);

typedef enum { NTAS_TABLE_CSV, NTAS_TABLE_TSV, NTAS_TABLE_JSON } ntas_table_format;
/* Writes the rows (only done runs with done_only) to f. 0, or -1 on a write error. */
int  ntas_table_write(const ntas_table *t, FILE *f, ntas_table_format fmt, int done_only);
/* A JSON string literal of s into f. */
void ntas_json_string(FILE *f, const char *s);

#endif
