/* coord — hands the runs of a sweep out to MPI ranks and records results.
 *
 * Owns the dynamic queue (longest estimated run first), the stop protocol
 * (SIGTERM/SIGINT/SIGUSR1: no new runs, running ones get a grace time, then
 * are abandoned as pending), periodic collective flush rounds, and progress
 * reports. Rank 0 keeps the queue; with at most NTAS_COORD_RANK0_COMPUTES
 * ranks it also computes (the training loop's poll hook answers the others
 * between steps), with more it only serves. Workers get each run's
 * parameters with its assignment and never hold the run table. Which rank
 * runs which run, and in what order, never changes the results.
 *
 * MPI errors: the queue's calls are checked (MPI_ERRORS_RETURN on its own
 * duplicate communicator); a failed call is reported with MPI_Error_string
 * and the job ends with MPI_Abort, since the ranks can no longer agree.
 */
#ifndef NTASWEEP_COORD_H
#define NTASWEEP_COORD_H

#include <mpi.h>
#include <stdint.h>

#include "ntasweep/io/lock.h"
#include "ntasweep/io/pretrain.h"
#include "ntasweep/config/spec.h"
#include "ntasweep/io/store.h"

/* Up to this many ranks (rank 0 included) rank 0 computes as well as
 * serving; measured with tools/bench-overhead --ranks (docs/scale.md). */
#define NTAS_COORD_RANK0_COMPUTES 4

/* Trains run `index` (the file's row) into r, which comes sized for run's
 * params (ntas_run_result_init), calling poll(poll_ctx, ...) between steps.
 * The contract of ntas_train_run_features: 0 when the run finished
 * (r->status DONE, or FAILED with r->message), 1 when poll asked to abandon
 * it, -1 with err on an error. */
typedef int (*ntas_coord_run_fn)(void *ctx, int index, const ntas_run *run, ntas_run_result *r,
                                 ntas_poll_fn poll, void *poll_ctx, char *err, size_t errlen);

typedef struct {
    int quiet;
    double grace;               /* s a running run may go on after a stop signal */
    double flush_interval;      /* s between collective flushes; <= 0: only at the end */
    double progress_interval;   /* s between progress lines when stderr is not a terminal */
    ntas_lock *lock;            /* rank 0: its heartbeat is kept fresh; may be NULL */
    const ntas_feature_cache *features;   /* cnn runs' pretrained features; may be NULL */
    const char *activity_path;  /* rank 0 keeps here what each rank runs (JSON, for `status`); may be NULL */
    /* The training of one run; NULL: the real one (ntas_train_run_features
     * with the run's features). Set per rank, never sent: a test's fake
     * training (tests/test_coord.c) drives the queue through the same poll. */
    ntas_coord_run_fn run_fn;
    void *run_fn_ctx;
} ntas_coord_options;

typedef struct {               /* counted on rank 0 */
    int done, failed;          /* finished in this job */
    int skipped;               /* done before this job */
    int abandoned;             /* stopped mid-run by a signal, left pending */
    int not_started;           /* left pending because of a signal */
    int stopped;               /* a stop signal arrived (its number), 0 if none */
    int flushes;               /* collective flush rounds */
} ntas_sweep_summary;

/* Installs the SIGTERM/SIGINT/SIGUSR1 handlers that ask the sweep to stop. */
void ntas_coord_install_signal_handlers(void);
/* Whether one of them has fired (for work before the queue, e.g. pretraining). */
int  ntas_coord_stop_requested(void);

/* Runs every run whose status[i] is not DONE (spec->runs and status are
 * read on rank 0 only: other ranks may pass a spec without runs).
 * Collective over comm. Returns 0, or -1 with err if a rank hit an error. */
int ntas_coord_run(const ntas_spec *spec, const int8_t *status, ntas_store *store, MPI_Comm comm,
                   const ntas_coord_options *opt, ntas_sweep_summary *summary, char *err, size_t errlen);

#endif
