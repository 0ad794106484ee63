/* coord — hands the runs of a sweep out to MPI ranks and records results.
 *
 * Owns the dynamic queue. Rank 0 keeps the queue and also computes: while it
 * trains, the training loop's poll hook answers other ranks' requests, so no
 * core is spent on coordination alone. Which rank runs which run never
 * changes the results (each run depends only on its parameters).
 */
#ifndef NTASWEEP_COORD_H
#define NTASWEEP_COORD_H

#include <mpi.h>
#include <stdint.h>

#include "ntasweep/spec.h"
#include "ntasweep/store.h"

typedef struct {
    int done, failed, skipped;   /* counted on rank 0 */
} ntas_sweep_summary;

/* Runs every run whose status[i] is not DONE (status is read on rank 0 only).
 * Collective over comm. Returns 0, or -1 with err if a rank hit an error. */
int ntas_coord_run(const ntas_spec *spec, const int8_t *status, ntas_store *store, MPI_Comm comm,
                   int quiet, ntas_sweep_summary *summary, char *err, size_t errlen);

#endif
