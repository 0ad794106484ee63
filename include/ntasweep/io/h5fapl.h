/* h5fapl — HDF5 file access properties of the results file, for parallel
 * file systems (docs/scale.md "What ntasweep sets").
 *
 * Creation (rank 0 alone, as NAME.tmp, then renamed): objects of at least
 * NTASWEEP_H5_ALIGNMENT bytes (default 1 MiB; 0: off) start on a multiple of
 * it, so a run's contiguous slab of a large dataset does not straddle more
 * file-system stripes or blocks than it must. With NTASWEEP_MPIIO_HINTS set
 * the file is created through MPI-IO on MPI_COMM_SELF with those hints, the
 * only moment striping hints (striping_factor, striping_unit) can act.
 *
 * Opening (every rank): the MPI-IO driver with the hints of
 * NTASWEEP_MPIIO_HINTS ("key=value,key=value"), and collective metadata
 * reads and writes (H5Pset_all_coll_metadata_ops, H5Pset_coll_metadata_write):
 * rank 0 reads the file's metadata once and broadcasts it instead of every
 * rank asking the metadata server. NTASWEEP_H5_COLL_METADATA=0 turns that off.
 */
#ifndef NTASWEEP_H5FAPL_H
#define NTASWEEP_H5FAPL_H

#include <hdf5.h>
#include <mpi.h>
#include <stddef.h>

/* Adds the creation settings to fapl. 0, or -1 with err (a bad variable). */
int ntas_h5_fapl_for_create(hid_t fapl, char *err, size_t errlen);
/* Sets the MPI-IO driver on comm and the parallel settings. 0, or -1 with err. */
int ntas_h5_fapl_for_parallel_open(hid_t fapl, MPI_Comm comm, char *err, size_t errlen);

#endif
