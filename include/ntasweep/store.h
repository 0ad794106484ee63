/* store — the one HDF5 results file of a sweep.
 *
 * Owns the file layout (README "Output layout"): every dataset is created up
 * front, contiguous, allocated early and NaN-filled, in OUT.tmp which is then
 * renamed, so a file under its real name is always complete. Afterwards ranks
 * only write raw data of their own runs (independent MPI-IO writes) and set a
 * run's status after its data. Dimension scales name the dims for xarray.
 */
#ifndef NTASWEEP_STORE_H
#define NTASWEEP_STORE_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "ntasweep/spec.h"
#include "ntasweep/train.h"

#define NTAS_FORMAT_VERSION 1

/* Creates path for spec (serial; call on one rank). 0, or -1 with err. */
int ntas_store_create(const char *path, const ntas_spec *spec, char *err, size_t errlen);

/* For resume: if path holds exactly this run table (same run keys in the same
 * order), fills status[n_runs] and returns 0; returns 1 if it holds another
 * sweep (err says how it differs), -1 if it cannot be read. Serial. */
int ntas_store_read_status(const char *path, const ntas_spec *spec, int8_t *status,
                           char *err, size_t errlen);

typedef struct ntas_store ntas_store;

/* Collective over comm: opens path for parallel raw-data writes. */
int  ntas_store_open(ntas_store **st, const char *path, MPI_Comm comm, char *err, size_t errlen);
/* Independent: writes run `index`'s results, then its status and message. */
int  ntas_store_write_run(ntas_store *st, int index, const ntas_run_result *r, char *err, size_t errlen);
/* Collective: flushes and closes. */
int  ntas_store_close(ntas_store *st, char *err, size_t errlen);

#endif
