/* h5util — small HDF5 helpers that the results-file modules share.
 *
 * Owns the fixed-length string type every string dataset and attribute uses
 * (NUL-terminated; fixed length because the parallel file cannot hold
 * variable-length strings) and the scalar attribute writers.
 */
#ifndef NTASWEEP_H5UTIL_H
#define NTASWEEP_H5UTIL_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

/* A fixed-length string type of n bytes (close with H5Tclose), or -1. */
hid_t ntas_h5_str_type(size_t n);
/* A scalar string / int64 attribute `name` on obj. 0, or -1. */
int ntas_h5_set_str_attr(hid_t obj, const char *name, const char *value);
int ntas_h5_set_i64_attr(hid_t obj, const char *name, int64_t value);

#endif
