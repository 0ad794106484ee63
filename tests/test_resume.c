/* test_resume — every decision of ntas_resume_prepare (resume.h) on real
 * results files in a temporary directory, serially (no MPI needed):
 *   created    no file yet: one is made, its table in the sweep's order;
 *   same       the same sweep again: resumed in place, done runs stay done,
 *              the file's bytes untouched;
 *   same runs, other text   in place, spec_changed set;
 *   extend     more grid points: the old runs keep their indices and their
 *              status, the new ones are appended pending;
 *   refuse     a sweep that lost runs the file holds: 1 with the diff, file
 *              unchanged; also a file that is not a results file;
 *   force-new  the old file moved aside to OUT.old-N, a new one started.
 */
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ntasweep/config/spec.h"
#include "ntasweep/io/store.h"
#include "ntasweep/runner/resume.h"

static char dir[64];

static const char *SWEEP =
    "[sweep]\nname = resume_test\nreplicates = 1\n"
    "[params]\nd_in = 4\nd_out = 2\nbatch = 10\ndt = 0.01\nblock_len = 0.5\nn_blocks = 2\nrecord_every = 5\n"
    "[grid]\ntau_w = %s\n"
    "[case.flexible]\ntau_c = 0.03\n%s";

/* Writes the sweep with grid tau_w = `grid` (and an extra line) to dir/NAME and loads it. */
static int load(ntas_spec *s, const char *name, const char *grid, const char *extra)
{
    char path[128], err[2048];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, SWEEP, grid, extra);
    fclose(f);
    if (ntas_spec_load(s, path, NULL, 0, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

/* The whole file as bytes (for "unchanged"); caller frees. */
static char *slurp(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)*len + 1);
    if (b && fread(b, 1, (size_t)*len, f) != (size_t)*len) { free(b); b = NULL; }
    fclose(f);
    return b;
}

static int same_bytes(const char *path, const char *before, long len)
{
    long n = 0;
    char *now = slurp(path, &n);
    int same = now && n == len && memcmp(now, before, (size_t)len) == 0;
    free(now);
    return same;
}

/* Marks run i of the file done, as a finished run would (status is int8). */
static int mark_done(const char *path, int i)
{
    int rc = -1;
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT), d = H5I_INVALID_HID, fs = H5I_INVALID_HID, ms = H5I_INVALID_HID;
    hsize_t start = (hsize_t)i, one = 1;
    int8_t v = NTAS_STATUS_DONE;
    if (f < 0 || (d = H5Dopen2(f, "status", H5P_DEFAULT)) < 0 || (fs = H5Dget_space(d)) < 0 ||
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &one, NULL) < 0 || (ms = H5Screate_simple(1, &one, NULL)) < 0 ||
        H5Dwrite(d, H5T_NATIVE_INT8, ms, fs, H5P_DEFAULT, &v) < 0)
        goto out;
    rc = 0;
out:
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    if (d >= 0) H5Dclose(d);
    if (f >= 0 && H5Fclose(f) < 0) rc = -1;
    return rc;
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/ntasweep-resume.XXXXXX");
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    char out[128], err[8192];
    snprintf(out, sizeof out, "%s/r.h5", dir);
    ntas_spec two, same_runs, three, lost;
    CHECK(load(&two, "two.ini", "1.3, 1.0", "") == 0);
    CHECK(load(&same_runs, "two_comment.ini", "1.3, 1.0", "; the same runs, another text\n") == 0);
    CHECK(load(&three, "three.ini", "1.3, 1.0, 0.8", "") == 0);
    CHECK(load(&lost, "lost.ini", "1.3", "") == 0);
    if (check_failed_) return CHECK_DONE();
    CHECK(two.n_runs == 2 && three.n_runs == 3 && lost.n_runs == 1);

    /* created */
    ntas_resume r;
    CHECK(ntas_resume_prepare(&r, out, &two, 0, err, sizeof err) == 0);
    CHECK(r.kind == NTAS_RESUME_CREATED && r.n == 2 && r.n_old == 0);
    CHECK(r.order[0] == 0 && r.order[1] == 1 && r.status[0] == 0 && r.status[1] == 0);
    CHECK(access(out, F_OK) == 0);
    ntas_resume_free(&r);
    CHECK(mark_done(out, 1) == 0);

    /* same: in place, run 1 done, bytes untouched */
    long len = 0;
    char *before = slurp(out, &len);
    CHECK(before != NULL);
    CHECK(ntas_resume_prepare(&r, out, &two, 0, err, sizeof err) == 0);
    CHECK(r.kind == NTAS_RESUME_IN_PLACE && r.n_old == 2 && !r.spec_changed);
    CHECK(r.status[0] == NTAS_STATUS_PENDING && r.status[1] == NTAS_STATUS_DONE);
    CHECK(before && same_bytes(out, before, len));
    ntas_resume_free(&r);

    /* the same runs from another text: in place, noted */
    CHECK(ntas_resume_prepare(&r, out, &same_runs, 0, err, sizeof err) == 0);
    CHECK(r.kind == NTAS_RESUME_IN_PLACE && r.spec_changed);
    ntas_resume_free(&r);

    /* refuse: the sweep lost a run; the diff names the file; nothing changes */
    int rc = ntas_resume_prepare(&r, out, &lost, 0, err, sizeof err);
    CHECK_MSG(rc == 1, "rc %d: %s", rc, err);
    CHECK_MSG(strstr(err, out) != NULL, "%s", err);
    CHECK(before && same_bytes(out, before, len));

    /* refuse: not a results file */
    char junk[128];
    snprintf(junk, sizeof junk, "%s/junk.h5", dir);
    FILE *f = fopen(junk, "w");
    if (f) { fputs("not hdf5\n", f); fclose(f); }
    rc = ntas_resume_prepare(&r, junk, &two, 0, err, sizeof err);
    CHECK_MSG(rc == 1 && strstr(err, "--force-new"), "rc %d: %s", rc, err);

    /* extend: the old runs keep indices and status, the new one is appended */
    CHECK(ntas_resume_prepare(&r, out, &three, 0, err, sizeof err) == 0);
    CHECK(r.kind == NTAS_RESUME_EXTENDED && r.n == 3 && r.n_old == 2);
    CHECK(r.status[1] == NTAS_STATUS_DONE && r.status[0] == NTAS_STATUS_PENDING && r.status[2] == NTAS_STATUS_PENDING);
    CHECK(three.runs[r.order[0]].key == two.runs[0].key && three.runs[r.order[1]].key == two.runs[1].key);
    ntas_resume_free(&r);
    ntas_store_info info;
    CHECK(ntas_store_inspect(out, &info, err, sizeof err) == 0);
    CHECK(info.n_runs == 3 && info.status[1] == NTAS_STATUS_DONE && info.status[2] == NTAS_STATUS_PENDING);
    ntas_store_info_free(&info);

    /* force-new: the old file kept as OUT.old-N, a new one with nothing done */
    CHECK(ntas_resume_prepare(&r, out, &lost, 1, err, sizeof err) == 0);
    CHECK(r.kind == NTAS_RESUME_REPLACED && r.n == 1 && r.status[0] == NTAS_STATUS_PENDING);
    CHECK_MSG(strncmp(r.moved_to, out, strlen(out)) == 0 && strstr(r.moved_to, ".old-") && access(r.moved_to, F_OK) == 0,
              "moved to '%s'", r.moved_to);
    char moved[4200];
    snprintf(moved, sizeof moved, "%s", r.moved_to);
    ntas_resume_free(&r);
    CHECK(ntas_store_inspect(moved, &info, err, sizeof err) == 0 && info.n_runs == 3);
    ntas_store_info_free(&info);
    CHECK(ntas_store_inspect(out, &info, err, sizeof err) == 0 && info.n_runs == 1);
    ntas_store_info_free(&info);

    free(before);
    ntas_spec_free(&two);
    ntas_spec_free(&same_runs);
    ntas_spec_free(&three);
    ntas_spec_free(&lost);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return CHECK_DONE();
}
