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

#include "ntasweep/config/spec.h"
#include "ntasweep/train/train.h"

#define NTAS_FORMAT_VERSION 5   /* 2: the counter-based normal generator of rng.h v2; 3: the fused step (other last bits);
                                   4: the ziggurat normals of rng.h v3 (every sampled value changes); the results
                                   weight_norm, sv_projection with the mode dimension (results.h); [vars] stored
                                   per run, parameters tagged as xarray coordinates, strings utf-8;
                                   5: data = wishart's task gradient with fused multiply-adds (kernels.h), so
                                   wishart results differ in the last bits; and the sampled step's products
                                   E = X D^T, G = E^T X / B in ntasweep's own fixed order (batch_gemm.h)
                                   instead of BLAS: the bits OpenBLAS 0.3.21's AVX-512 kernels gave (so
                                   sampled results computed with them are unchanged; with other BLAS
                                   kernels they differed in the last bits, and no longer depend on the BLAS);
                                   expected results do not change */

/* Creates path for spec's run table (serial; call on one rank). With
 * copy_from, the table's first n_copy runs are copy_from's runs 0..n_copy-1
 * in the same order, and their results and status are copied over: how a
 * sweep is extended. The new file appears under path only when complete
 * (written as path.tmp, then renamed over path). 0, or -1 with err. */
int ntas_store_create(const char *path, const ntas_spec *spec, const char *copy_from, int n_copy,
                      char *err, size_t errlen);

/* 0 when every [vars] variable of spec can be stored beside the parameters;
 * -1 with err when one has the name of a dataset of the file (bad input). */
int ntas_store_check_names(const ntas_spec *spec, char *err, size_t errlen);

/* What an existing results file holds (read serially, without MPI-IO). */
typedef struct {
    int n_runs;
    int64_t format_version;
    char version[32], spec_name[NTAS_NAME_LEN], spec_hash[17], spec_file[256];
    uint64_t *keys;          /* [n_runs] run keys */
    int8_t *status;          /* [n_runs] */
    char *messages;          /* [n_runs][NTAS_MESSAGE_LEN] */
    char *case_names;        /* [n_runs][NTAS_NAME_LEN] */
} ntas_store_info;

/* Reads path's run table. 0, or -1 with err (not HDF5, not ntasweep's, or
 * another format version). */
int  ntas_store_inspect(const char *path, ntas_store_info *info, char *err, size_t errlen);
/* Whether path has every result dataset that all runs write (results.h group
 * NTAS_RG_ALL): a file of this format written before one was added (e.g.
 * max_dc_dt) cannot be resumed in place. 0, or -1 with err naming the file,
 * the dataset and what to do. */
int  ntas_store_check_results(const char *path, char *err, size_t errlen);
void ntas_store_info_free(ntas_store_info *info);
/* The canonical text (as ntas_param_format) of parameter k for each of the
 * file's n runs, into texts[n][width]. 0, or -1 with err (e.g. the file
 * predates the key). */
int  ntas_store_param_text(const char *path, int k, int n, char *texts, size_t width, char *err, size_t errlen);

/* The sweep a results file was written for, read whatever its format. */
typedef struct {
    int64_t format_version;      /* -1 if absent */
    char version[32], spec_hash[17], spec_file[256];
    char *spec_text;             /* the sweep file, then each included file after a "; ---- include: PATH ----" line */
    char *spec_overrides;        /* "--set k=v" lines joined by '\n' */
} ntas_stored_sweep;

/* 0, or -1 with err (not an HDF5 file, or no stored sweep). */
int  ntas_store_read_sweep(const char *path, ntas_stored_sweep *s, char *err, size_t errlen);
void ntas_stored_sweep_free(ntas_stored_sweep *s);

typedef struct ntas_store ntas_store;

/* Collective over comm: opens path for parallel raw-data writes. */
int  ntas_store_open(ntas_store **st, const char *path, MPI_Comm comm, char *err, size_t errlen);
/* Independent: writes run `index`'s results, then its status and message. */
int  ntas_store_write_run(ntas_store *st, int index, const ntas_run_result *r, char *err, size_t errlen);
/* The open file's HDF5 id (hid_t), for the /pretrained groups (pretrain.h). */
int64_t ntas_store_hdf5_file(const ntas_store *st);
/* Collective: flushes buffers and syncs the file to disk. */
int  ntas_store_flush(ntas_store *st, char *err, size_t errlen);
/* Collective: flushes and closes. */
int  ntas_store_close(ntas_store *st, char *err, size_t errlen);
/* After a failed write or sync on some rank: frees st but leaves its HDF5
 * ids open, on purpose. The close is collective, and HDF5 leaves it at a
 * rank's first failed write while the others wait in it for ever; the file
 * is then as after a kill -9, which the layout survives (runs flagged done
 * have their data). ntas_h5_finish (h5util.h) sees the open file and leaves
 * HDF5 alone; MPI_Finalize closes the MPI-IO file on every rank together. */
void ntas_store_abandon(ntas_store *st);

#endif
