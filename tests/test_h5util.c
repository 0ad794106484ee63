/* test_h5util — the HDF5 error messages and the checked helpers.
 *
 * A failing HDF5 call must leave a message that carries HDF5's own words
 * (the API function and the innermost, most specific description), not a
 * guess; the attribute writers keep that stack through their cleanup; and
 * ntas_h5_close closes any kind of id once and marks it invalid.
 * ntas_h5_fail_io adds the system's reason the stack lacks (errno, or a
 * checked fact about the directory), once, and nothing it did not see.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "ntasweep/io/h5util.h"

int main(void)
{
    ntas_h5_quiet();
    char err[1024];

    /* A missing directory: the message names the call and the system error. */
    hid_t f = H5Fcreate("/nonexistent-ntasweep-dir/x.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(f < 0);
    ntas_h5_fail(err, sizeof err, "creating %s", "x.h5");
    CHECK_MSG(!strncmp(err, "creating x.h5: H5Fcreate: ", 26), "%s", err);
    CHECK_MSG(strstr(err, "No such file or directory") != NULL, "%s", err);
    /* The driver's long "time = ..., buf = ..." text is cut to its message. */
    CHECK_MSG(strstr(err, "buf = ") == NULL && strstr(err, "time = ") == NULL, "%s", err);

    /* A small buffer is filled, truncated and terminated. */
    f = H5Fcreate("/nonexistent-ntasweep-dir/x.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    char small[16];
    ntas_h5_fail(small, sizeof small, "creating %s", "a-long-file-name.h5");
    CHECK(strlen(small) == sizeof small - 1);
    ntas_h5_fail(NULL, 0, "ignored");   /* accepted, as ntas_set_err */

    /* An empty stack: just the caller's words. */
    H5Eclear2(H5E_DEFAULT);
    ntas_h5_fail(err, sizeof err, "plain");
    CHECK_MSG(!strcmp(err, "plain"), "%s", err);

    /* A failed write's errno where the stack has none (the MPI-IO driver's case). */
    H5Eclear2(H5E_DEFAULT);
    ntas_h5_fail_io(err, sizeof err, EIO, NULL, "writing %s", "x");
    CHECK_MSG(!strcmp(err, "writing x; system error: Input/output error"), "%s", err);
    ntas_h5_fail_io(err, sizeof err, 0, NULL, "writing %s", "x");   /* nothing seen: nothing said */
    CHECK_MSG(!strcmp(err, "writing x"), "%s", err);
    /* The sec2 driver's text has the reason already: not repeated. */
    f = H5Fcreate("/nonexistent-ntasweep-dir/x.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ntas_h5_fail_io(err, sizeof err, ENOENT, "/nonexistent-ntasweep-dir/x.h5", "creating");
    const char *first = strstr(err, "No such file or directory");
    CHECK_MSG(first && !strstr(first + 1, "No such file or directory") && !strstr(err, "system error"), "%s", err);

    char dir[] = "/tmp/ntas-h5util.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/a.h5", dir);
    f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(f >= 0);
    CHECK(ntas_h5_set_str_attr(f, "s", "value") == 0);
    CHECK(ntas_h5_set_i64_attr(f, "i", -7) == 0);
    /* A second attribute of the same name fails, and the message still
     * names H5Acreate2 after the helper closed its ids. */
    CHECK(ntas_h5_set_str_attr(f, "s", "again") != 0);
    ntas_h5_fail(err, sizeof err, "attribute s");
    CHECK_MSG(strstr(err, "H5Acreate2") != NULL, "%s", err);
    CHECK(ntas_h5_set_i64_attr(f, "i", 1) != 0);
    ntas_h5_fail(err, sizeof err, "attribute i");
    CHECK_MSG(strstr(err, "H5Acreate2") != NULL, "%s", err);

    hid_t t = ntas_h5_str_type(12), sp = H5Screate(H5S_SCALAR), pl = H5Pcreate(H5P_DATASET_CREATE);
    CHECK(t >= 0 && H5Tget_size(t) == 12);
    CHECK(ntas_h5_close(&t) == 0 && t == H5I_INVALID_HID);
    CHECK(ntas_h5_close(&t) == 0);   /* already closed: nothing to do */
    CHECK(ntas_h5_close(&sp) == 0 && sp == H5I_INVALID_HID);
    CHECK(ntas_h5_close(&pl) == 0 && pl == H5I_INVALID_HID);
    CHECK(ntas_h5_close(&f) == 0 && f == H5I_INVALID_HID);

    /* Read back what the writers wrote. */
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    int64_t v = 0;
    hid_t a = H5Aopen(f, "i", H5P_DEFAULT);
    CHECK(a >= 0 && H5Aread(a, H5T_NATIVE_INT64, &v) >= 0 && v == -7);
    ntas_h5_close(&a);
    ntas_h5_close(&f);
    CHECK(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0);
    /* No errno: a writable directory with space left is no reason. */
    H5Eclear2(H5E_DEFAULT);
    ntas_h5_fail_io(err, sizeof err, 0, path, "flushing");
    CHECK_MSG(!strcmp(err, "flushing"), "%s", err);
    unlink(path);
    /* ... an unwritable one is, checked with access() (root may write anywhere). */
    if (geteuid() != 0) {
        CHECK(chmod(dir, 0500) == 0);
        ntas_h5_fail_io(err, sizeof err, 0, path, "flushing");
        CHECK_MSG(strstr(err, "is not writable (Permission denied)") != NULL, "%s", err);
        chmod(dir, 0700);
    } else {
        printf("note: running as root, the unwritable-directory case is not checked here\n");
    }
    rmdir(dir);
    return CHECK_DONE();
}
