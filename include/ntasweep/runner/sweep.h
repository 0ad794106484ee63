/* sweep — one `ntasweep run` (or `resume`) from start to finish.
 *
 * Owns the phases of a run, in order: start MPI; load the sweep on every rank
 * (from the command line, or for `resume` from the text and overrides stored
 * in the results file) and check that the ranks agree; rank 0 takes the lock
 * and decides create / resume / extend / refuse (resume.h); every rank takes
 * the file's run order; open the file for parallel writes and pretrain the
 * CNNs once; hand the runs out (coord.h); report and map the outcome to an
 * exit status (cli.h). MPI is initialised and finalised here.
 */
#ifndef NTASWEEP_SWEEP_H
#define NTASWEEP_SWEEP_H

#include "ntasweep/runner/cli.h"

#define NTAS_MAX_SETS 64

typedef struct {
    const char *spec;              /* sweep file; NULL with from_file */
    const char *out;               /* results file */
    const char *sets[NTAS_MAX_SETS];   /* "key=value" overrides */
    int n_sets;
    int from_file;                 /* resume: the sweep comes from `out` itself */
    int quiet, force_new;
    double grace, flush, progress; /* seconds (coord.h) */
} ntas_sweep_options;

/* Runs the sweep; collective over MPI_COMM_WORLD. Returns an NTAS_EXIT_* status. */
int ntas_sweep_run(const ntas_sweep_options *o);

#endif
