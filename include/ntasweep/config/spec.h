/* spec — a sweep file (INI) and its expansion into the run table.
 *
 * Owns the sweep-file language (README "Sweep files"): [sweep] (name,
 * replicates, include of a base file), [params], [grid] (Cartesian product of
 * lists and ranges), [zip] (lists varying together), [case.NAME], [vars] and
 * [derived] (expressions), plus --set overrides. Every value is checked before
 * anything runs; errors name file:line:key. Run-table order: cases (file
 * order) x zip x grid (first key slowest) x replicate seeds.
 */
#ifndef NTASWEEP_SPEC_H
#define NTASWEEP_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "ntasweep/config/params.h"

#define NTAS_NAME_LEN 64
#define NTAS_MAX_VARS 32

typedef struct {
    char case_name[NTAS_NAME_LEN];   /* "" when the sweep has no cases */
    ntas_params params;
    uint64_t key;                    /* ntas_params_run_key(&params) */
    double vars[NTAS_MAX_VARS];      /* the run's [vars] values (spec.var_names), stored beside params */
} ntas_run;

typedef struct {
    char *path;          /* as given on the command line */
    char *text;          /* the file's bytes, then each included file's (NUL-terminated) */
    char *overrides;     /* "--set k=v" lines joined by '\n' ("" if none) */
    uint64_t hash;       /* of text and overrides: identifies the sweep */
    char name[NTAS_NAME_LEN];
    ntas_run *runs;
    int n_runs;
    char var_names[NTAS_MAX_VARS][NTAS_NAME_LEN];   /* [vars] in declaration order */
    int n_vars;
} ntas_spec;

/* Reads, checks and expands path with the given "key=value" overrides.
 * Returns 0, or -1 with "FILE:LINE: key 'K': what is wrong" in err. */
int  ntas_spec_load(ntas_spec *s, const char *path, const char *const *overrides, int n_overrides,
                    char *err, size_t errlen);
/* The same reading and checks of the file, its [sweep] name, text and hash,
 * but no run table (runs NULL, n_runs 0) and none of the per-run checks: what
 * a worker rank needs, in memory independent of the number of runs. */
int  ntas_spec_load_text(ntas_spec *s, const char *path, const char *const *overrides, int n_overrides,
                         char *err, size_t errlen);
void ntas_spec_free(ntas_spec *s);

/* Replaces the run table by runs[order[0]], runs[order[1]], ... (n entries,
 * each an index into the current table). Used to keep an existing results
 * file's order when a sweep is resumed or extended. 0, or -1 with err. */
int  ntas_spec_set_runs(ntas_spec *s, const int *order, int n, char *err, size_t errlen);

/* 16 lowercase hex digits of a 64-bit key (buf of at least 17 bytes). */
void ntas_hex64(uint64_t v, char *buf);

#endif
