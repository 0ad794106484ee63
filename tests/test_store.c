/* test_store — the results file (store.h) round trip, read back with the
 * HDF5 C API: a 2-run sweep is created, opened for parallel writes (MPI
 * with 1 rank: a singleton needs no mpirun), run 0 written with a distinct
 * value in every cell of every result it records, closed. Then:
 *   - every dataset of the result table (results.h) the run records holds
 *     exactly run 0's values, and every cell of the unwritten run 1 is NaN;
 *   - status is 1 (done) for run 0 and 0 (pending) for run 1, the message
 *     is stored;
 *   - status is written last: a run whose writes stop part-way (it needs a
 *     dataset the file lacks) keeps status pending although its first
 *     datasets were written.
 */
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ntasweep/config/spec.h"
#include "ntasweep/io/store.h"
#include "ntasweep/models/results.h"
#include "ntasweep/train/train.h"

static const char *SWEEP =
    "[sweep]\nname = store_test\nreplicates = 1\n"
    "[params]\nd_in = 4\nd_out = 2\nbatch = 10\ndt = 0.01\nblock_len = 0.5\nn_blocks = 3\nrecord_every = 10\n"
    "[grid]\ntau_w = 1.3, 1.0\n"
    "[case.flexible]\ntau_c = 0.03\n";

/* Under ASan (tests/sanitizer.sh) no leak check: it cannot run beside the
 * MPI singleton's helper process, and the MPI library's own allocations at
 * exit are not ours (as for the sanitized sweeps there). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=0";
}

/* Reads run `run`'s slab of dataset name ([run, ...] doubles) into buf (n values). */
static int read_row(hid_t file, const char *name, int run, double *buf, size_t n)
{
    int rc = -1;
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT), fs = H5I_INVALID_HID, ms = H5I_INVALID_HID;
    hsize_t dims[5] = {0}, start[5] = {0}, count[5];
    if (d < 0 || (fs = H5Dget_space(d)) < 0) goto out;
    int nd = H5Sget_simple_extent_dims(fs, dims, NULL);
    if (nd < 1) goto out;
    size_t cells = 1;
    for (int i = 1; i < nd; i++) cells *= dims[i];
    if (cells < n) goto out;
    start[0] = (hsize_t)run;
    count[0] = 1;
    for (int i = 1; i < nd; i++) count[i] = dims[i];
    hsize_t total = (hsize_t)cells;
    double *row = malloc(cells * sizeof *row);
    if (!row) goto out;
    if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
        (ms = H5Screate_simple(1, &total, NULL)) >= 0 && H5Dread(d, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, row) >= 0) {
        memcpy(buf, row, n * sizeof *buf);
        rc = 0;
    }
    free(row);
out:
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    if (d >= 0) H5Dclose(d);
    return rc;
}

static int read_status(hid_t file, int8_t st[2])
{
    hid_t d = H5Dopen2(file, "status", H5P_DEFAULT);
    int rc = d >= 0 && H5Dread(d, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, st) >= 0 ? 0 : -1;
    if (d >= 0) H5Dclose(d);
    return rc;
}

/* Run 0's value of cell i of result id: distinct across results and cells. */
static double value(int id, size_t i)
{
    return 1000.0 * (id + 1) + (double)i + 0.25;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    char dir[64] = "/tmp/ntasweep-store.XXXXXX", ini[128], out[128], err[4096];
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    snprintf(ini, sizeof ini, "%s/s.ini", dir);
    snprintf(out, sizeof out, "%s/s.h5", dir);
    FILE *f = fopen(ini, "w");
    if (!f) return 1;
    fputs(SWEEP, f);
    fclose(f);
    ntas_spec spec;
    CHECK_MSG(ntas_spec_load(&spec, ini, NULL, 0, err, sizeof err) == 0, "%s", err);
    if (check_failed_) return CHECK_DONE();
    CHECK(spec.n_runs == 2);
    CHECK_MSG(ntas_store_create(out, &spec, NULL, 0, err, sizeof err) == 0, "%s", err);

    ntas_run_result r;
    memset(&r, 0, sizeof r);
    CHECK_MSG(ntas_run_result_init(&r, &spec.runs[0].params, err, sizeof err) == 0, "%s", err);
    int recorded = 0;
    for (int id = 0; id < NTAS_R_COUNT; id++) {
        size_t n = ntas_result_length(&r, id);
        double *d = ntas_result_data(&r, id);
        if (!n || !d) continue;
        recorded++;
        for (size_t i = 0; i < n; i++) d[i] = value(id, i);
    }
    CHECK(recorded > 10);
    r.status = NTAS_STATUS_DONE;
    snprintf(r.message, sizeof r.message, "round trip");

    ntas_store *st = NULL;
    CHECK_MSG(ntas_store_open(&st, out, MPI_COMM_WORLD, err, sizeof err) == 0, "%s", err);
    if (st) {
        CHECK_MSG(ntas_store_write_run(st, 0, &r, err, sizeof err) == 0, "%s", err);
        CHECK_MSG(ntas_store_close(st, err, sizeof err) == 0, "%s", err);
    }

    hid_t file = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(file >= 0);
    for (int id = 0; file >= 0 && id < NTAS_R_COUNT; id++) {
        size_t n = ntas_result_length(&r, id);
        if (!n) continue;
        double *got = malloc(n * sizeof *got);
        if (!got) break;
        int ok0 = read_row(file, ntas_results[id].dataset, 0, got, n) == 0, same = ok0;
        for (size_t i = 0; ok0 && i < n; i++) same &= got[i] == value(id, i);
        CHECK_MSG(same, "dataset %s: run 0 does not read back", ntas_results[id].dataset);
        int ok1 = read_row(file, ntas_results[id].dataset, 1, got, n) == 0, nan = ok1;
        for (size_t i = 0; ok1 && i < n; i++) nan &= isnan(got[i]);
        CHECK_MSG(nan, "dataset %s: the unwritten run 1 is not NaN", ntas_results[id].dataset);
        free(got);
    }
    int8_t status[2] = {-1, -1};
    CHECK(file >= 0 && read_status(file, status) == 0);
    CHECK(status[0] == NTAS_STATUS_DONE && status[1] == NTAS_STATUS_PENDING);
    if (file >= 0) H5Fclose(file);
    ntas_store_info info;
    CHECK_MSG(ntas_store_inspect(out, &info, err, sizeof err) == 0, "%s", err);
    if (!check_failed_) {
        CHECK(info.n_runs == 2 && !strcmp(info.messages, "round trip"));
        CHECK(info.keys[0] == spec.runs[0].key && info.keys[1] == spec.runs[1].key);
        ntas_store_info_free(&info);
    }

    /* Status last: run 1 claims a group (fc) the file has no datasets for,
     * so its writes stop after the first datasets; it must stay pending. */
    r.groups |= NTAS_RG_BIT(NTAS_RG_FC);
    CHECK(ntas_store_open(&st, out, MPI_COMM_WORLD, err, sizeof err) == 0);
    if (st) {
        CHECK(ntas_store_write_run(st, 1, &r, err, sizeof err) != 0);
        CHECK_MSG(strstr(err, "lacks") != NULL, "%s", err);
        char cerr[1024];
        CHECK_MSG(ntas_store_close(st, cerr, sizeof cerr) == 0, "%s", cerr);
    }
    r.groups &= ~NTAS_RG_BIT(NTAS_RG_FC);
    file = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
    double loss1 = NAN;
    CHECK(file >= 0 && read_row(file, "loss", 1, &loss1, 1) == 0);
    CHECK_MSG(loss1 == value(NTAS_R_loss, 0), "loss of run 1 = %g: the first datasets were not written", loss1);
    CHECK(file >= 0 && read_status(file, status) == 0);
    CHECK(status[1] == NTAS_STATUS_PENDING);
    if (file >= 0) H5Fclose(file);

    ntas_run_result_free(&r);
    ntas_spec_free(&spec);
    remove(out);
    remove(ini);
    remove(dir);
    int rc = CHECK_DONE();
    MPI_Finalize();
    return rc;
}
