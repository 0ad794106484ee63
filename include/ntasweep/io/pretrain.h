/* pretrain — the pretrained CNN features of a sweep in the results file.
 *
 * Owns the group /pretrained/<key> of each pretraining setting in the
 * results file (layout, creation, copying on extend, raw writes and reads)
 * and the job-wide preparation of the feature cache: before any run starts,
 * each setting is pretrained by all ranks together (or read back from the file), then
 * broadcast to every rank. What a setting is, how it is computed and the
 * cache itself are train/features.h (no MPI or HDF5 there).
 */
#ifndef NTASWEEP_PRETRAIN_H
#define NTASWEEP_PRETRAIN_H

#include <hdf5.h>
#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "ntasweep/io/lock.h"
#include "ntasweep/train/features.h"

/* Results file, serial (store.c, while it creates OUT.tmp): creates group
 * /pretrained/<key> of every setting, every dataset allocated early with a
 * NaN or zero fill and status 0, so the parallel phase only writes raw data.
 * With copy_from, the groups that file holds with status 1 are copied. */
int ntas_pretrain_create_groups(hid_t file, const ntas_pretrain_setting *s, int n, const char *copy_from,
                                char *err, size_t errlen);

typedef struct {
    int quiet;
    ntas_lock *lock;          /* rank 0: heartbeat kept fresh while pretraining; may be NULL */
    int (*stop_requested)(void);   /* a stop signal arrived (may be NULL) */
} ntas_pretrain_options;

/* The exchange of cnn.h's shard gradients over the ranks of *comm (part =
 * rank): agree by MPI_Allreduce, scatter by MPI_Alltoallv, share by an
 * in-place MPI_Allgatherv, each in rank order.
 * comm must outlive ex. */
void ntas_cnn_exchange_mpi(ntas_cnn_exchange *ex, MPI_Comm *comm);

/* Collective over comm, before the runs are handed out. plan and n_plan
 * (from ntas_pretrain_plan) are read on rank 0 only; every rank gets them.
 * Setting i is read by rank i % size from the open results file `file` if
 * its group's status is 1, else pretrained by all ranks together (cnn.h's
 * shards; bitwise the same for any number of ranks) and written there by
 * rank i % size (data, then status); then broadcast to every rank, so every rank ends
 * with the same cache. Returns 0; 1 if a stop signal interrupted a
 * pretraining (nothing of it is kept; resumable); 2 if the file lacks a
 * setting (the data changed since it was created; err says what to do);
 * -1 on an error (err filled on the rank that saw it, "rank k failed" on
 * the others). */
int  ntas_feature_cache_prepare(ntas_feature_cache *c, const ntas_pretrain_setting *plan, int n_plan, hid_t file,
                                MPI_Comm comm, const ntas_pretrain_options *opt, char *err, size_t errlen);

#endif
