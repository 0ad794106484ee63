/* resume — what happens to an existing results file when a sweep starts.
 *
 * Owns the decision, made by run key and never by position: create the file;
 * resume it in place (done runs are kept, the rest run); extend it (new grid
 * points are appended to the run table, the file is rewritten with every
 * result copied, then renamed into place); or refuse a sweep that has lost
 * runs the file holds, with a diff of what changed, unless force_new (the old
 * file is then kept as OUT.old-N and a new one is started).
 */
#ifndef NTASWEEP_RESUME_H
#define NTASWEEP_RESUME_H

#include <stddef.h>
#include <stdint.h>

#include "ntasweep/config/spec.h"
#include "ntasweep/io/store.h"

typedef enum { NTAS_RESUME_CREATED, NTAS_RESUME_IN_PLACE, NTAS_RESUME_EXTENDED, NTAS_RESUME_REPLACED } ntas_resume_kind;

typedef struct {
    ntas_resume_kind kind;
    int n;             /* runs in the table (= spec->n_runs) */
    int n_old;         /* runs the file held before */
    int *order;        /* [n]: the spec's run index of the file's run i */
    int8_t *status;    /* [n]: status of each run of the file */
    char moved_to[4200];   /* NTAS_RESUME_REPLACED: where the old file went */
    int spec_changed;  /* the sweep text differs from the file's but every run is the same */
} ntas_resume;

/* Serial (one rank). Returns 0 with r filled and the file ready for parallel
 * writes, 1 if the sweep is refused (err holds the diff and what to do), -1
 * on an error (err filled; the existing file is never modified). */
int  ntas_resume_prepare(ntas_resume *r, const char *path, const ntas_spec *spec, int force_new,
                         char *err, size_t errlen);
void ntas_resume_free(ntas_resume *r);

/* `ntasweep resume OUT.h5`: the sweep comes from the file. */

/* The command line that started the sweep stored in s, for results file out
 * ("ntasweep run SPEC -o OUT --set k=v ..."). */
void ntas_resume_command(const ntas_stored_sweep *s, const char *out, char *buf, size_t len);
/* Splits s's stored overrides into "key=value" pointers into s->spec_overrides
 * (which it edits); at most max. Returns the count. */
int  ntas_resume_overrides(ntas_stored_sweep *s, const char **sets, int max);
/* Writes s's stored sweep text back as files under the new directory dir:
 * the main file as dir/BASENAME, each included file at its path relative to
 * the main file's directory. Fills main_path. 0, or -1 with err (e.g. an
 * include outside the main file's directory). ntas_resume_remove_spec undoes it. */
int  ntas_resume_write_spec(const ntas_stored_sweep *s, const char *dir, char *main_path, size_t len,
                            char *err, size_t errlen);
void ntas_resume_remove_spec(const ntas_stored_sweep *s, const char *dir);

#endif
