/* h5fapl — results-file access properties for parallel file systems. See h5fapl.h. */
#include "ntasweep/io/h5fapl.h"
#include "ntasweep/core/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENV_ALIGNMENT "NTASWEEP_H5_ALIGNMENT"
#define ENV_HINTS "NTASWEEP_MPIIO_HINTS"
#define ENV_COLL_METADATA "NTASWEEP_H5_COLL_METADATA"
#define DEFAULT_ALIGNMENT (1024L * 1024L)

/* NTASWEEP_MPIIO_HINTS as an MPI_Info (MPI_INFO_NULL when unset or empty). */
static int hints_from_env(MPI_Info *info, char *err, size_t errlen)
{
    *info = MPI_INFO_NULL;
    const char *text = getenv(ENV_HINTS);
    if (!text || !*text) return 0;
    char *copy = strdup(text);
    if (!copy) { ntas_set_err(err, errlen, "out of memory"); return -1; }
    int rc = MPI_Info_create(info) == MPI_SUCCESS ? 0 : -1;
    if (rc) ntas_set_err(err, errlen, "MPI_Info_create failed");
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); rc == 0 && item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq || eq == item || !eq[1]) {
            ntas_set_err(err, errlen, "%s: '%s' is not key=value (expected e.g. striping_factor=8,striping_unit=4194304)",
                     ENV_HINTS, item);
            rc = -1;
            break;
        }
        *eq = '\0';
        if (MPI_Info_set(*info, item, eq + 1) != MPI_SUCCESS) {
            ntas_set_err(err, errlen, "%s: MPI_Info_set(%s) failed", ENV_HINTS, item);
            rc = -1;
        }
    }
    free(copy);
    if (rc && *info != MPI_INFO_NULL) MPI_Info_free(info);
    return rc;
}

static int alignment_from_env(hsize_t *alignment, char *err, size_t errlen)
{
    *alignment = DEFAULT_ALIGNMENT;
    const char *text = getenv(ENV_ALIGNMENT);
    if (!text || !*text) return 0;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (*end || errno || v < 0 || v > (1LL << 40)) {
        ntas_set_err(err, errlen, "%s = '%s': expected a number of bytes (0 turns alignment off)", ENV_ALIGNMENT, text);
        return -1;
    }
    *alignment = (hsize_t)v;
    return 0;
}

int ntas_h5_fapl_for_create(hid_t fapl, char *err, size_t errlen)
{
    hsize_t alignment;
    if (alignment_from_env(&alignment, err, errlen) != 0) return -1;
    /* Threshold = alignment: small objects (and so small files) stay packed. */
    if (alignment > 1 && H5Pset_alignment(fapl, alignment, alignment) < 0) {
        ntas_set_err(err, errlen, "H5Pset_alignment(%llu) failed", (unsigned long long)alignment);
        return -1;
    }
    MPI_Info info;
    if (hints_from_env(&info, err, errlen) != 0) return -1;
    if (info == MPI_INFO_NULL) return 0;
    int mpi_up = 0;
    MPI_Initialized(&mpi_up);
    int rc = 0;
    if (mpi_up && H5Pset_fapl_mpio(fapl, MPI_COMM_SELF, info) < 0) {
        ntas_set_err(err, errlen, "H5Pset_fapl_mpio with %s failed", ENV_HINTS);
        rc = -1;
    }
    MPI_Info_free(&info);
    return rc;
}

int ntas_h5_fapl_for_parallel_open(hid_t fapl, MPI_Comm comm, char *err, size_t errlen)
{
    MPI_Info info;
    if (hints_from_env(&info, err, errlen) != 0) return -1;
    int rc = 0;
    if (H5Pset_fapl_mpio(fapl, comm, info) < 0) {
        ntas_set_err(err, errlen, "H5Pset_fapl_mpio failed");
        rc = -1;
    }
    if (info != MPI_INFO_NULL) MPI_Info_free(&info);
    const char *coll = getenv(ENV_COLL_METADATA);
    if (rc == 0 && !(coll && !strcmp(coll, "0"))) {
        /* Every metadata read of this file is then collective: the ranks open
         * the same objects in the same order (store.c, pretrain.c) and write
         * raw data of early-allocated contiguous datasets only. */
        if (H5Pset_all_coll_metadata_ops(fapl, 1) < 0 || H5Pset_coll_metadata_write(fapl, 1) < 0) {
            ntas_set_err(err, errlen, "H5Pset_all_coll_metadata_ops / H5Pset_coll_metadata_write failed");
            rc = -1;
        }
    }
    return rc;
}
