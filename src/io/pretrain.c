/* pretrain — pretrained CNN features, once per sweep. See pretrain.h.
 *
 * Why a setting's key holds the data's content hash but not its directory:
 * moving the images must not invalidate a results file, but other images
 * (e.g. a full MNIST copy where the 10k test set was) must not be mixed
 * with features computed from the old ones. The run keys hold neither (the
 * data is outside the sweep), so a file whose pretraining came from other
 * data is refused (status 2) rather than silently resumed.
 *
 * Why a broadcast rather than every rank reading the group back: the group
 * is written by one rank through MPI-IO during this job, and a read on
 * another rank could be served from a stale HDF5 sieve buffer. */
#include "ntasweep/io/pretrain.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ntasweep/tasks/idx.h"
#include "ntasweep/core/rng.h"
#include "ntasweep/core/err.h"
#include "ntasweep/io/h5util.h"
#include "ntasweep/io/mpi_util.h"

_Static_assert(sizeof(hid_t) == 8, "hid_t is 64-bit in HDF5 1.10+");

enum { N_FEAT = NTAS_CNN_FEATURES, N_CLASS = NTAS_CNN_CLASSES };


/* ---- the group in the results file --------------------------------------- */

enum { G_STATUS, G_ACCURACY, G_PARAMS, G_TRAIN_X, G_TEST_X, G_TRAIN_Y, G_TEST_Y, G_COUNT };
static const struct {
    const char *name;
    int is_u8;
    const char *description;
} group_ds[G_COUNT] = {
    {"status", 1, "1 once this pretraining is complete (written last), 0 before"},
    {"test_accuracy", 0, "the pretrained CNN's accuracy on the test images (original labels)"},
    {"cnn_params", 0, "every CNN parameter in cnn.h's order: conv_w [3][16], conv_b, fc1_w [512][1728], "
                      "fc1_b, fc2_w [64][512], fc2_b, fc3_w [10][64], fc3_b (the head cnn_alone starts from)"},
    {"train_features", 0, "the 64 ReLU features of every training image (what the heads learn from)"},
    {"test_features", 0, "the 64 ReLU features of every test image (accuracy is measured on them)"},
    {"train_labels", 1, "original labels 0..9 of the training images"},
    {"test_labels", 1, "original labels 0..9 of the test images"},
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}


static void group_shape(const ntas_pretrain_setting *s, int k, int *ndims, hsize_t dims[2])
{
    *ndims = 1;
    dims[1] = N_FEAT;
    switch (k) {
    case G_STATUS: case G_ACCURACY: dims[0] = 1; break;
    case G_PARAMS: dims[0] = NTAS_CNN_PARAMS; break;
    case G_TRAIN_X: *ndims = 2; dims[0] = (hsize_t)s->n_train; break;
    case G_TEST_X: *ndims = 2; dims[0] = (hsize_t)s->n_test; break;
    case G_TRAIN_Y: dims[0] = (hsize_t)s->n_train; break;
    default: dims[0] = (hsize_t)s->n_test; break;
    }
}

static void group_path(const ntas_pretrain_setting *s, char *buf, size_t len)
{
    char hex[17];
    ntas_hex64(s->key, hex);
    snprintf(buf, len, "/pretrained/%s", hex);
}

/* One dataset of a group: contiguous, allocated early, filled with NaN
 * (doubles), 0 (status) or 255 (labels not yet written). */
static int create_group_dataset(hid_t g, const ntas_pretrain_setting *s, int k)
{
    const double nan = NAN;
    const uint8_t zero = 0, no_label = 255;
    int nd, rc = -1;
    hsize_t dims[2];
    group_shape(s, k, &nd, dims);
    hid_t ft = group_ds[k].is_u8 ? H5T_STD_U8LE : H5T_IEEE_F64LE;
    const void *fill = !group_ds[k].is_u8 ? (const void *)&nan : k == G_STATUS ? (const void *)&zero : (const void *)&no_label;
    hid_t sp = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, ds = H5I_INVALID_HID;
    if ((sp = H5Screate_simple(nd, dims, NULL)) < 0 || (dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0 ||
        H5Pset_layout(dcpl, H5D_CONTIGUOUS) < 0 || H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) < 0 ||
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC) < 0 || H5Pset_fill_value(dcpl, ft, fill) < 0 ||
        (ds = H5Dcreate2(g, group_ds[k].name, ft, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0 ||
        ntas_h5_set_str_attr(ds, "description", group_ds[k].description) != 0)
        goto cleanup;
    rc = 0;
cleanup:;
    hid_t stack = rc < 0 ? H5Eget_current_stack() : H5I_INVALID_HID;   /* the closes would clear it */
    if (ntas_h5_close(&ds) < 0) rc = -1;
    ntas_h5_close(&dcpl);
    ntas_h5_close(&sp);
    if (stack >= 0) H5Eset_current_stack(stack);
    return rc;
}

/* Group /pretrained/<key> of setting s with its attributes and datasets.
 * 0, or -1 with err (HDF5's reason). */
static int create_group(hid_t file, const ntas_pretrain_setting *s, char *err, size_t errlen)
{
    char path[64], hex[17];
    group_path(s, path, sizeof path);
    ntas_cnn_train_opts o;
    ntas_cnn_train_opts_defaults(&o);
    ntas_hex64(s->data_hash, hex);
    int rc = -1;
    hid_t g = H5Gcreate2(file, path, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0 || ntas_h5_set_str_attr(g, "dataset", ntas_dataset_name(s->dataset)) != 0 ||
        ntas_h5_set_i64_attr(g, "cnn_steps", s->steps) != 0 || ntas_h5_set_i64_attr(g, "cnn_seed", s->seed) != 0 ||
        ntas_h5_set_i64_attr(g, "cnn_batch", o.batch) != 0 ||
        ntas_h5_set_str_attr(g, "cnn_precision", s->float32 ? "float32" : "float64") != 0 ||
        ntas_h5_set_str_attr(g, "optimizer", "AdamW lr 0.001, betas (0.9, 0.999), eps 1e-8, weight decay 0.01") != 0 ||
        ntas_h5_set_str_attr(g, "data_hash", hex) != 0 || ntas_h5_set_str_attr(g, "data_dir", s->dir) != 0 ||
        ntas_h5_set_i64_attr(g, "held_out_split", s->held_out) != 0 || ntas_h5_set_i64_attr(g, "n_train", s->n_train) != 0 ||
        ntas_h5_set_i64_attr(g, "n_test", s->n_test) != 0)
        goto cleanup;
    for (int k = 0; k < G_COUNT; k++)
        if (create_group_dataset(g, s, k) != 0) goto cleanup;
    rc = 0;
cleanup:
    if (rc != 0) ntas_h5_fail(err, errlen, "creating %s (dataset = %s)", path, ntas_dataset_name(s->dataset));
    if (ntas_h5_close(&g) < 0 && rc == 0) {
        ntas_set_err(err, errlen, "closing %s failed", path);
        rc = -1;
    }
    return rc;
}

/* Copies a complete group of `src` into the freshly created one of `dst`.
 * 0, or -1 with err. */
static int copy_group(hid_t dst, hid_t src, const ntas_pretrain_setting *s, char *err, size_t errlen)
{
    char path[64];
    group_path(s, path, sizeof path);
    for (int k = 0; k < G_COUNT; k++) {
        char name[96];
        snprintf(name, sizeof name, "%s/%s", path, group_ds[k].name);
        int nd, rc = -1;
        hsize_t dims[2];
        group_shape(s, k, &nd, dims);
        size_t n = (size_t)dims[0] * (nd == 2 ? (size_t)dims[1] : 1);
        hid_t mt = group_ds[k].is_u8 ? H5T_NATIVE_UINT8 : H5T_NATIVE_DOUBLE;
        void *buf = malloc(n * (group_ds[k].is_u8 ? 1 : sizeof(double)));
        hid_t a = H5I_INVALID_HID, b = H5I_INVALID_HID, sa = H5I_INVALID_HID;
        if (!buf) {
            ntas_set_err(err, errlen, "out of memory copying %s", name);
            goto next;
        }
        if ((a = H5Dopen2(src, name, H5P_DEFAULT)) < 0 || (b = H5Dopen2(dst, name, H5P_DEFAULT)) < 0 ||
            (sa = H5Dget_space(a)) < 0) {
            ntas_h5_fail(err, errlen, "opening %s to copy it", name);
            goto next;
        }
        if (H5Sget_simple_extent_npoints(sa) != (hssize_t)n) {
            ntas_set_err(err, errlen, "%s has another size than its setting says", name);
            goto next;
        }
        if (H5Dread(a, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0 || H5Dwrite(b, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
            ntas_h5_fail(err, errlen, "copying %s", name);
            goto next;
        }
        rc = 0;
    next:
        ntas_h5_close(&sa);
        ntas_h5_close(&a);
        if (ntas_h5_close(&b) < 0 && rc == 0) {
            ntas_set_err(err, errlen, "closing %s failed", name);
            rc = -1;
        }
        free(buf);
        if (rc != 0) return -1;
    }
    return 0;
}

static int read_status(hid_t file, const char *group, int8_t *status)
{
    char name[96];
    snprintf(name, sizeof name, "%s/status", group);
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    uint8_t v = 0;
    int rc = ds >= 0 && H5Dread(ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) >= 0 ? 0 : -1;
    hid_t stack = rc < 0 ? H5Eget_current_stack() : H5I_INVALID_HID;   /* for the caller's ntas_h5_fail */
    if (ntas_h5_close(&ds) < 0) rc = -1;
    if (stack >= 0) H5Eset_current_stack(stack);
    *status = (int8_t)v;
    return rc;
}

typedef struct { hid_t file; int n; const ntas_pretrain_setting *s; int stray; char name[32]; } stray_ctx;

static herr_t find_stray(hid_t g, const char *name, const H5L_info_t *info, void *op)
{
    (void)g;
    (void)info;
    stray_ctx *c = op;
    for (int i = 0; i < c->n; i++) {
        char hex[17];
        ntas_hex64(c->s[i].key, hex);
        if (!strcmp(hex, name)) return 0;
    }
    c->stray = 1;
    snprintf(c->name, sizeof c->name, "%.20s", name);
    return 1;
}

/* A pretraining of copy_from (open as src) that the new sweep would not
 * reproduce (its data changed) must not vanish silently with the old file's
 * runs still using it. 0, or -1 with err. */
static int refuse_stray_groups(hid_t src, const char *copy_from, const ntas_pretrain_setting *s, int n, char *err,
                               size_t errlen)
{
    htri_t has = H5Lexists(src, "pretrained", H5P_DEFAULT);
    if (has < 0) {
        ntas_h5_fail(err, errlen, "%s: looking for its pretrained features", copy_from);
        return -1;
    }
    if (has == 0) return 0;
    stray_ctx c = {.n = n, .s = s};
    if (H5Literate_by_name(src, "pretrained", H5_INDEX_NAME, H5_ITER_NATIVE, NULL, find_stray, &c, H5P_DEFAULT) < 0) {
        ntas_h5_fail(err, errlen, "%s: listing its pretrained features", copy_from);
        return -1;
    }
    if (!c.stray) return 0;
    ntas_set_err(err, errlen, "%s holds pretrained features /pretrained/%s that the data now found would not "
                 "reproduce (the images changed since it was written): point %s or %s back at its data "
                 "(see the group's data_dir attribute), or start a new file with --force-new",
                 copy_from, c.name, NTAS_ENV_MNIST_DIR, NTAS_ENV_FASHION_DIR);
    return -1;
}

/* Is group path of src complete (status 1)? 1, 0, or -1 with err. */
static int complete_in(hid_t src, const char *copy_from, const char *path, char *err, size_t errlen)
{
    htri_t has = H5Lexists(src, "pretrained", H5P_DEFAULT);
    if (has > 0) has = H5Lexists(src, path, H5P_DEFAULT);
    if (has <= 0) {
        if (has < 0) ntas_h5_fail(err, errlen, "%s: looking for %s", copy_from, path);
        return has < 0 ? -1 : 0;
    }
    int8_t st = 0;
    if (read_status(src, path, &st) != 0) {
        ntas_h5_fail(err, errlen, "%s: reading the status of %s", copy_from, path);
        return -1;
    }
    return st == 1;
}

int ntas_pretrain_create_groups(hid_t file, const ntas_pretrain_setting *s, int n, const char *copy_from,
                                char *err, size_t errlen)
{
    if (n == 0 && !copy_from) return 0;
    int rc = -1;
    hid_t src = H5I_INVALID_HID, g = H5I_INVALID_HID;
    if (copy_from) {
        if ((src = H5Fopen(copy_from, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) {
            ntas_h5_fail(err, errlen, "%s: cannot open to copy its pretrained features", copy_from);
            goto cleanup;
        }
        if (refuse_stray_groups(src, copy_from, s, n, err, errlen) != 0) goto cleanup;
    }
    if (n > 0) {
        if ((g = H5Gcreate2(file, "pretrained", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
            ntas_h5_set_str_attr(g, "description", "pretrained CNNs and their features, one group per setting "
                                 "(dataset, cnn_steps, cnn_seed, data content), computed once per sweep") != 0) {
            ntas_h5_fail(err, errlen, "creating /pretrained");
            goto cleanup;
        }
        if (ntas_h5_close(&g) < 0) {
            ntas_set_err(err, errlen, "closing /pretrained failed");
            goto cleanup;
        }
    }
    for (int i = 0; i < n; i++) {
        if (create_group(file, &s[i], err, errlen) != 0) goto cleanup;
        char path[64];
        group_path(&s[i], path, sizeof path);
        int complete = src >= 0 ? complete_in(src, copy_from, path, err, errlen) : 0;
        if (complete < 0 || (complete == 1 && copy_group(file, src, &s[i], err, errlen) != 0)) goto cleanup;
    }
    rc = 0;
cleanup:
    ntas_h5_close(&g);
    ntas_h5_close(&src);
    return rc;
}

/* ---- raw reads and writes of a group (parallel file, one rank) ------------ */

static void *group_buffer(ntas_features *f, int k, double *status_or_acc)
{
    switch (k) {
    case G_STATUS: case G_ACCURACY: return status_or_acc;
    case G_PARAMS: return f->cnn_params;
    case G_TRAIN_X: return f->train_x;
    case G_TEST_X: return f->test_x;
    case G_TRAIN_Y: return f->train_y;
    default: return f->test_y;
    }
}

/* Every rank opens every dataset of a group, in the same order, as
 * store.c does for the runs' datasets; one rank then reads or writes raw
 * data through them. */
static int open_group(hid_t file, const ntas_pretrain_setting *s, hid_t *ds)
{
    char path[64];
    group_path(s, path, sizeof path);
    for (int k = 0; k < G_COUNT; k++) {
        char name[96];
        snprintf(name, sizeof name, "%s/%s", path, group_ds[k].name);
        if ((ds[k] = H5Dopen2(file, name, H5P_DEFAULT)) < 0) return -1;   /* the caller closes ds */
    }
    return 0;
}

/* Writes every dataset, the status flag last: a group with status 1 is complete. */
/* Writes the computed features of setting s into its group (status last),
 * then drops the CNN parameters they no longer need. 0, or -1 with err. */
static int write_group(const hid_t *ds, ntas_features *f, const ntas_pretrain_setting *s, char *err, size_t errlen)
{
    int ok = 1;
    errno = 0;   /* the system's reason the MPI-IO driver drops (h5util.h) */
    for (int pass = 0; pass < 2 && ok; pass++)
        for (int k = 0; ok && k < G_COUNT; k++) {
            if ((k == G_STATUS) != (pass == 1)) continue;
            uint8_t one = 1;
            const void *buf = k == G_STATUS ? (const void *)&one : k == G_ACCURACY ? (const void *)&f->test_accuracy
                                                                  : group_buffer(f, k, NULL);
            ok = H5Dwrite(ds[k], group_ds[k].is_u8 ? H5T_NATIVE_UINT8 : H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL,
                          H5P_DEFAULT, buf) >= 0;
        }
    if (!ok) {
        ntas_h5_fail_io(err, errlen, errno, NULL, "writing the pretrained %s features into the results file",
                        ntas_dataset_name(s->dataset));
        return -1;
    }
    free(f->cnn_params);
    f->cnn_params = NULL;
    return 0;
}

static int read_group(const hid_t *ds, ntas_features *f)
{
    if (ntas_features_alloc(f, 1) != 0) return -1;
    int ok = 1;
    for (int k = G_ACCURACY; ok && k < G_COUNT; k++) {
        void *buf = k == G_ACCURACY ? (void *)&f->test_accuracy : group_buffer(f, k, NULL);
        ok = H5Dread(ds[k], group_ds[k].is_u8 ? H5T_NATIVE_UINT8 : H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL,
                     H5P_DEFAULT, buf) >= 0;
    }
    if (ok) {
        memcpy(f->head_w, f->cnn_params + NTAS_CNN_HEAD_OFFSET, sizeof f->head_w);
        memcpy(f->head_b, f->cnn_params + NTAS_CNN_HEAD_OFFSET + (size_t)N_CLASS * N_FEAT, sizeof f->head_b);
    }
    free(f->cnn_params);
    f->cnn_params = NULL;
    return ok ? 0 : -1;
}

/* ---- the per-job phase ------------------------------------------------------- */

typedef struct {
    const ntas_pretrain_options *opt;
    const ntas_pretrain_setting *s;
    int rank;
    double t0;
} progress_ctx;

/* Called after every step (a stop signal is honoured within one step);
 * prints every tenth of the way. */
static int on_progress(void *ctx, int step, double loss)
{
    progress_ctx *p = ctx;
    if (p->opt->lock) ntas_lock_heartbeat(p->opt->lock);
    const int64_t every = p->s->steps >= 10 ? p->s->steps / 10 : 1;
    if (!p->opt->quiet && (step % every == 0 || step == p->s->steps))
        fprintf(stderr, "ntasweep: pretraining the %s CNN (rank %d): step %d/%lld, batch loss %.4f, %.1f s\n",
                ntas_dataset_name(p->s->dataset), p->rank, step, (long long)p->s->steps, loss, now() - p->t0);
    return p->opt->stop_requested && p->opt->stop_requested();
}

/* Waits for a broadcast without spinning a core (the rank that pretrains
 * may share it), keeping the lock fresh. */
static int bcast_wait(void *buf, int count, MPI_Datatype type, int root, MPI_Comm comm, const ntas_pretrain_options *opt)
{
    MPI_Request req;
    if (MPI_Ibcast(buf, count, type, root, comm, &req) != MPI_SUCCESS) return -1;
    for (;;) {
        int done = 0;
        if (MPI_Test(&req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) return -1;
        if (done) return 0;
        if (opt->lock) ntas_lock_heartbeat(opt->lock);
        nanosleep(&(struct timespec){0, 2000000}, NULL);
    }
}

/* Broadcasts a long array in pieces that fit an int count. 0, or 1 if a
 * piece failed. */
static int bcast_big(void *buf, size_t n, MPI_Datatype type, size_t esize, int root, MPI_Comm comm)
{
    const size_t piece = (size_t)1 << 26;
    for (size_t off = 0; off < n; off += piece) {
        size_t m = n - off < piece ? n - off : piece;
        if (MPI_Bcast((char *)buf + off * esize, (int)m, type, root, comm) != MPI_SUCCESS) return 1;
    }
    return 0;
}

enum { GOT_OK = 0, GOT_STOPPED = 1, GOT_MISSING = 2, GOT_ERROR = -1 };

/* The owner's part for setting s: read the group back, or pretrain and write it. */
static int obtain(ntas_features *f, const ntas_pretrain_setting *s, const hid_t *ds, int8_t status, int rank,
                  const ntas_pretrain_options *opt, char *err, size_t errlen)
{
    double t0 = now();
    if (status == 1) {
        f->s = *s;
        if (read_group(ds, f) != 0) {
            ntas_h5_fail(err, errlen, "reading the pretrained %s features from the results file", ntas_dataset_name(s->dataset));
            return GOT_ERROR;
        }
        if (!opt->quiet)
            fprintf(stderr, "ntasweep: %s CNN (%lld steps, seed %lld) read from the results file: test accuracy %.4f\n",
                    ntas_dataset_name(s->dataset), (long long)s->steps, (long long)s->seed, f->test_accuracy);
        return GOT_OK;
    }
    if (!opt->quiet)
        fprintf(stderr, "ntasweep: pretraining the %s CNN on rank %d: %lld steps, seed %lld, %d training images "
                "from %s%s\n", ntas_dataset_name(s->dataset), rank, (long long)s->steps, (long long)s->seed, s->n_train,
                s->dir, s->held_out ? " (the 10k test set split 4:1)" : "");
    progress_ctx pc = {.opt = opt, .s = s, .rank = rank, .t0 = t0};
    int rc = ntas_pretrain_compute(s, f, on_progress, &pc, err, errlen);
    if (rc == 1) return GOT_STOPPED;
    if (rc != 0) return GOT_ERROR;
    if (write_group(ds, f, s, err, errlen) != 0) return GOT_ERROR;
    if (!opt->quiet)
        fprintf(stderr, "ntasweep: pretrained the %s CNN in %.0f s: test accuracy %.4f on %d test images\n",
                ntas_dataset_name(s->dataset), now() - t0, f->test_accuracy, s->n_test);
    return GOT_OK;
}

/* ---- one pretraining shared by every rank ---------------------------------- */

/* Completes a non-blocking collective without spinning: a rank that
 * finished its shards first sleeps in naps, leaving the core to the rank
 * still computing (they may share it) rather than polling on it. The naps
 * grow from 50 us to 400 us: on a loaded machine a rank may wait tens of
 * ms, and each wake-up costs CPU time the other rank could use; a balanced
 * wait on an idle machine stays within the first naps. */
static int wait_napping(MPI_Request *req)
{
    long nap_ns = 50000;
    for (;;) {
        int done = 0;
        if (MPI_Test(req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) return -1;
        if (done) return 0;
        nanosleep(&(struct timespec){0, nap_ns}, NULL);
        if (nap_ns < 400000) nap_ns *= 2;
    }
}

static int mpi_agree(void *ctx, int status)
{
    /* Worst first: failed (2) over stop (1) over go on (0). */
    int mine = status < 0 ? 2 : status > 0 ? 1 : 0, worst = 2;
    MPI_Request req;
    if (MPI_Iallreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, *(MPI_Comm *)ctx, &req) != MPI_SUCCESS ||
        wait_napping(&req) != 0)
        return -1;
    return worst == 2 ? -1 : worst;
}

/* Counts and offsets of n doubles per rank as MPI ints; -1 past INT_MAX. */
static int int_counts(const size_t *n, const size_t *off, int size, int *counts, int *displs)
{
    size_t run = 0;
    for (int p = 0; p < size; p++) {
        const size_t at = off ? off[p] : run;
        if (n[p] > INT_MAX || at > INT_MAX) return -1;
        counts[p] = (int)n[p];
        displs[p] = (int)at;
        run += n[p];
    }
    return 0;
}

/* Each rank's slices of the node sums to the rank that owns them
 * (MPI_Alltoallv: where each block lands is fixed, so the tree that follows
 * adds in a fixed order, unlike an MPI_Allreduce whose order depends on the
 * number of ranks). */
static int mpi_scatter(void *ctx, const double *send, const size_t *send_n, const size_t *send_off, double *recv,
                       const size_t *recv_n)
{
    MPI_Comm comm = *(MPI_Comm *)ctx;
    int size;
    if (MPI_Comm_size(comm, &size) != MPI_SUCCESS) return -1;
    int *buf = malloc(4 * (size_t)size * sizeof *buf);
    int rc = buf ? 0 : -1;
    if (rc == 0) {
        int *sc = buf, *sd = buf + size, *rcnt = buf + 2 * size, *rd = buf + 3 * size;
        MPI_Request req;
        if (int_counts(send_n, send_off, size, sc, sd) != 0 || int_counts(recv_n, NULL, size, rcnt, rd) != 0 ||
            MPI_Ialltoallv(send, sc, sd, MPI_DOUBLE, recv, rcnt, rd, MPI_DOUBLE, comm, &req) != MPI_SUCCESS ||
            wait_napping(&req) != 0)
            rc = -1;
    }
    free(buf);
    return rc;
}

/* Every rank's slice of the parameters to every rank, in place. */
static int mpi_share(void *ctx, double *data, const size_t *counts)
{
    MPI_Comm comm = *(MPI_Comm *)ctx;
    int size;
    if (MPI_Comm_size(comm, &size) != MPI_SUCCESS) return -1;
    int *buf = malloc(2 * (size_t)size * sizeof *buf);
    int rc = buf ? 0 : -1;
    MPI_Request req;
    if (rc == 0 && (int_counts(counts, NULL, size, buf, buf + size) != 0 ||
                    MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, data, buf, buf + size, MPI_DOUBLE, comm,
                                    &req) != MPI_SUCCESS ||
                    wait_napping(&req) != 0))
        rc = -1;
    free(buf);
    return rc;
}

/* The shared regions: an MPI-3 shared-memory window over the ranks, kept
 * locked for passive access so that MPI_Win_sync orders the plain loads
 * and stores around each barrier. */
typedef struct {
    MPI_Comm host;
    MPI_Win win;
} shared_map;

static int mpi_map_shared(void *ctx, size_t mine, void **bases, void **handle)
{
    MPI_Comm comm = *(MPI_Comm *)ctx;
    *handle = NULL;
    int rank, size, host_size = 0;
    if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS || MPI_Comm_size(comm, &size) != MPI_SUCCESS) return -1;
    shared_map *m = malloc(sizeof *m);
    MPI_Comm host = MPI_COMM_NULL;
    /* 2: shared memory for every rank (all on this host), 1: not, 0: a
     * rank failed; the least of them is every rank's answer. */
    int mine_state = 0, state = 0;
    if (MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &host) == MPI_SUCCESS &&
        MPI_Comm_size(host, &host_size) == MPI_SUCCESS && m && mine <= (size_t)PTRDIFF_MAX)
        mine_state = host_size == size ? 2 : 1;
    if (MPI_Allreduce(&mine_state, &state, 1, MPI_INT, MPI_MIN, comm) != MPI_SUCCESS) state = 0;
    if (state != 2) {
        if (host != MPI_COMM_NULL) MPI_Comm_free(&host);
        free(m);
        return state == 1 ? 1 : -1;
    }
    m->host = host;   /* it keeps comm's rank order (key = rank) */
    m->win = MPI_WIN_NULL;
    void *base = NULL;
    /* Window errors abort the job (MPI_ERRORS_ARE_FATAL), so no rank is
     * left waiting in a collective the others skipped. */
    if (MPI_Win_allocate_shared((MPI_Aint)mine, 1, MPI_INFO_NULL, m->host, &base, &m->win) != MPI_SUCCESS)
        goto fail;
    for (int p = 0; p < size; p++) {
        MPI_Aint bytes;
        int unit;
        if (MPI_Win_shared_query(m->win, p, &bytes, &unit, &bases[p]) != MPI_SUCCESS) goto fail;
    }
    if (MPI_Win_lock_all(MPI_MODE_NOCHECK, m->win) != MPI_SUCCESS) goto fail;
    *handle = m;
    return 0;
fail:
    if (m->win != MPI_WIN_NULL) MPI_Win_free(&m->win);
    MPI_Comm_free(&m->host);
    free(m);
    return -1;
}

static int mpi_sync_shared(void *ctx, void *handle)
{
    (void)ctx;
    shared_map *m = handle;
    MPI_Request req;
    if (MPI_Win_sync(m->win) != MPI_SUCCESS || MPI_Ibarrier(m->host, &req) != MPI_SUCCESS ||
        wait_napping(&req) != 0 || MPI_Win_sync(m->win) != MPI_SUCCESS)
        return -1;
    return 0;
}

static void mpi_unmap_shared(void *ctx, void *handle)
{
    (void)ctx;
    shared_map *m = handle;
    if (!m) return;
    /* No rank frees the memory while another still reads it. */
    MPI_Barrier(m->host);
    MPI_Win_unlock_all(m->win);
    MPI_Win_free(&m->win);
    MPI_Comm_free(&m->host);
    free(m);
}

void ntas_cnn_exchange_mpi(ntas_cnn_exchange *ex, MPI_Comm *comm)
{
    memset(ex, 0, sizeof *ex);
    MPI_Comm_rank(*comm, &ex->part);
    MPI_Comm_size(*comm, &ex->parts);
    ex->agree = mpi_agree;
    ex->scatter = mpi_scatter;
    ex->share = mpi_share;
    ex->map_shared = mpi_map_shared;
    ex->sync_shared = mpi_sync_shared;
    ex->unmap_shared = mpi_unmap_shared;
    ex->ctx = comm;
}

/* Setting s pretrained by every rank together (each computes its shards of
 * every batch); the owner alone then computes the features and writes the
 * group, which the broadcast that follows hands to the others. Collective. */
static int obtain_shared(ntas_features *f, const ntas_pretrain_setting *s, const hid_t *ds, int owner, MPI_Comm comm,
                         const ntas_pretrain_options *opt, char *err, size_t errlen)
{
    int rank = 0, size = 1;
    if (ntas_mpi_check(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank", err, errlen) != 0 ||
        ntas_mpi_check(MPI_Comm_size(comm, &size), "MPI_Comm_size", err, errlen) != 0)
        return GOT_ERROR;
    ntas_pretrain_options mine = *opt;
    mine.quiet = opt->quiet || !owner;   /* one rank reports */
    double t0 = now();
    if (!mine.quiet)
        fprintf(stderr, "ntasweep: pretraining the %s CNN on %d rank%s: %lld steps, seed %lld, %d training images "
                "from %s%s\n", ntas_dataset_name(s->dataset), size, size == 1 ? "" : "s", (long long)s->steps,
                (long long)s->seed, s->n_train, s->dir, s->held_out ? " (the 10k test set split 4:1)" : "");
    ntas_cnn_exchange ex;
    ntas_cnn_exchange_mpi(&ex, &comm);
    progress_ctx pc = {.opt = &mine, .s = s, .rank = rank, .t0 = t0};
    int rc = ntas_pretrain_compute_parts(s, f, &ex, owner, on_progress, &pc, err, errlen);
    if (rc == 1) return GOT_STOPPED;
    if (rc != 0) return GOT_ERROR;
    if (!owner) return GOT_OK;
    if (write_group(ds, f, s, err, errlen) != 0) return GOT_ERROR;
    if (!mine.quiet)
        fprintf(stderr, "ntasweep: pretrained the %s CNN in %.1f s on %d rank%s: test accuracy %.4f on %d test images\n",
                ntas_dataset_name(s->dataset), now() - t0, size, size == 1 ? "" : "s", f->test_accuracy, s->n_test);
    return GOT_OK;
}

/* Phase 1: rank 0 planned (it alone read the data); every rank gets the
 * plan and room for the cache. *n = 0 when the sweep has no cnn runs. */
static int share_plan(ntas_feature_cache *c, const ntas_pretrain_setting *plan, int n_plan, int rank, MPI_Comm comm,
                      ntas_pretrain_setting **out, int *n_out, char *err, size_t errlen)
{
    int n = rank == 0 ? n_plan : 0;
    *out = NULL;
    *n_out = 0;
    if (ntas_mpi_check(MPI_Bcast(&n, 1, MPI_INT, 0, comm), "MPI_Bcast(pretraining count)", err, errlen) != 0)
        return GOT_ERROR;
    if (n == 0) return GOT_OK;
    ntas_pretrain_setting *s = malloc((size_t)n * sizeof *s);
    if (s && rank == 0) memcpy(s, plan, (size_t)n * sizeof *s);
    c->sets = calloc((size_t)n, sizeof *c->sets);
    int ok = s && c->sets, all_ok = 0;
    if (ntas_mpi_check(MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm), "MPI_Allreduce(pretraining memory)", err,
                       errlen) != 0)
        all_ok = ok = 0;
    else if (!all_ok) ntas_set_err(err, errlen, "out of memory for the pretraining plan on %s rank", ok ? "another" : "this");
    if (all_ok && ntas_mpi_check(MPI_Bcast(s, n * (int)sizeof *s, MPI_BYTE, 0, comm), "MPI_Bcast(pretraining plan)", err,
                                 errlen) != 0)
        all_ok = 0;
    if (!all_ok) {
        free(s);
        free(c->sets);
        c->sets = NULL;
        return GOT_ERROR;
    }
    c->n = n;
    *out = s;
    *n_out = n;
    return GOT_OK;
}

/* Phase 2: every rank opens every setting's group and reads its status
 * (the same metadata on every rank: a missing group is seen by all). */
static int open_groups(hid_t file, const ntas_pretrain_setting *s, int n, hid_t (*ds)[G_COUNT], int8_t *status,
                       char *err, size_t errlen)
{
    for (int i = 0; i < n; i++) {
        char path[64];
        group_path(&s[i], path, sizeof path);
        htri_t has = H5Lexists(file, "pretrained", H5P_DEFAULT);
        if (has > 0) has = H5Lexists(file, path, H5P_DEFAULT);
        if (has < 0) {
            ntas_h5_fail(err, errlen, "looking for %s in the results file", path);
            return GOT_ERROR;
        }
        if (has == 0) {
            char hex[17];
            ntas_hex64(s[i].data_hash, hex);
            ntas_set_err(err, errlen, "the results file has no pretraining of dataset = %s, cnn_steps = %lld, cnn_seed = %lld, "
                     "cnn_precision = %s on the images now found in %s (content hash %s): they differ from the ones its "
                     "runs used. Point %s back at those (the data_dir attribute of its /pretrained groups says where "
                     "they were), or start a new file with --force-new", ntas_dataset_name(s[i].dataset),
                     (long long)s[i].steps, (long long)s[i].seed, s[i].float32 ? "float32" : "float64", s[i].dir, hex,
                     s[i].dataset == NTAS_DATASET_MNIST ? NTAS_ENV_MNIST_DIR : NTAS_ENV_FASHION_DIR);
            return GOT_MISSING;
        }
        if (open_group(file, &s[i], ds[i]) != 0 || read_status(file, path, &status[i]) != 0) {
            ntas_h5_fail(err, errlen, "cannot open %s of the results file", path);
            return GOT_ERROR;
        }
    }
    return GOT_OK;
}

/* Phase 4: the owner (root) of setting i hands its outcome, then its
 * features, to every rank. Returns the outcome (GOT_*). */
static int broadcast_setting(ntas_features *f, const ntas_pretrain_setting *s, int got, int root, int rank,
                             MPI_Comm comm, const ntas_pretrain_options *opt, char *err, size_t errlen)
{
    int head = root == rank ? got : GOT_OK;
    if (bcast_wait(&head, 1, MPI_INT, root, comm, opt) != 0) {
        ntas_set_err(err, errlen, "MPI_Ibcast of rank %d's pretraining outcome failed", root);
        return GOT_ERROR;
    }
    if (head != GOT_OK) {
        if (root != rank && head == GOT_ERROR) ntas_set_err(err, errlen, "rank %d failed to pretrain (see its message)", root);
        return head;
    }
    int mem = 1, all_mem = 0;
    if (root != rank) {
        f->s = *s;
        mem = ntas_features_alloc(f, 0) == 0;
    }
    if (ntas_mpi_check(MPI_Allreduce(&mem, &all_mem, 1, MPI_INT, MPI_MIN, comm), "MPI_Allreduce(features memory)", err,
                       errlen) != 0)
        return GOT_ERROR;
    if (!all_mem) {
        ntas_set_err(err, errlen, "out of memory for the %s features on %s rank", ntas_dataset_name(s->dataset),
                     mem ? "another" : "this");
        return GOT_ERROR;
    }
    int rc = bcast_big(f->train_x, (size_t)s->n_train * N_FEAT, MPI_DOUBLE, sizeof(double), root, comm);
    rc |= bcast_big(f->test_x, (size_t)s->n_test * N_FEAT, MPI_DOUBLE, sizeof(double), root, comm);
    rc |= bcast_big(f->train_y, (size_t)s->n_train, MPI_UINT8_T, 1, root, comm);
    rc |= bcast_big(f->test_y, (size_t)s->n_test, MPI_UINT8_T, 1, root, comm);
    rc |= MPI_Bcast(f->head_w, N_CLASS * N_FEAT, MPI_DOUBLE, root, comm) != MPI_SUCCESS;
    rc |= MPI_Bcast(f->head_b, N_CLASS, MPI_DOUBLE, root, comm) != MPI_SUCCESS;
    rc |= MPI_Bcast(&f->test_accuracy, 1, MPI_DOUBLE, root, comm) != MPI_SUCCESS;
    if (rc) {
        ntas_set_err(err, errlen, "MPI_Bcast of the pretrained %s features failed", ntas_dataset_name(s->dataset));
        return GOT_ERROR;
    }
    return GOT_OK;
}

int ntas_feature_cache_prepare(ntas_feature_cache *c, const ntas_pretrain_setting *plan, int n_plan, hid_t file,
                               MPI_Comm comm, const ntas_pretrain_options *opt, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    int rank = 0, size = 1, n = 0;
    if (ntas_mpi_check(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank", err, errlen) != 0 ||
        ntas_mpi_check(MPI_Comm_size(comm, &size), "MPI_Comm_size", err, errlen) != 0)
        return GOT_ERROR;
    ntas_pretrain_setting *s = NULL;
    int rc = share_plan(c, plan, n_plan, rank, comm, &s, &n, err, errlen);
    if (rc != GOT_OK || n == 0) return rc;

    int8_t *status = calloc((size_t)n, 1);
    hid_t (*ds)[G_COUNT] = malloc((size_t)n * sizeof *ds);
    int *got = calloc((size_t)n, sizeof *got);
    for (int i = 0; ds && i < n; i++)
        for (int k = 0; k < G_COUNT; k++) ds[i][k] = H5I_INVALID_HID;
    if (!status || !ds || !got) {
        ntas_set_err(err, errlen, "out of memory");
        rc = GOT_ERROR;
    }
    if (rc == GOT_OK) rc = open_groups(file, s, n, ds, status, err, errlen);
    int worst = rc;
    if (ntas_mpi_check(MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MIN, comm), "MPI_Allreduce(pretrained groups)", err,
                       errlen) != 0)
        rc = worst = GOT_ERROR;
    if (worst != GOT_OK) {
        if (rc == GOT_OK) ntas_set_err(err, errlen, "another rank failed");
        if (rc == GOT_OK) rc = GOT_ERROR;
        goto cleanup;
    }
    /* Phase 3: a pretraining is shared by all ranks, a read-back is the
     * owner's; phase 4: the owners broadcast in setting order. */
    for (int i = 0; i < n; i++)
        if (status[i] != 1) got[i] = obtain_shared(&c->sets[i], &s[i], ds[i], i % size == rank, comm, opt, err, errlen);
        else if (i % size == rank) got[i] = obtain(&c->sets[i], &s[i], ds[i], status[i], rank, opt, err, errlen);
    for (int i = 0; i < n; i++) {
        int head = broadcast_setting(&c->sets[i], &s[i], got[i], i % size, rank, comm, opt, err, errlen);
        if (head != GOT_OK && (rc == GOT_OK || head == GOT_ERROR)) rc = head;
    }
cleanup:
    for (int i = 0; ds && i < n; i++)
        for (int k = 0; k < G_COUNT; k++) ntas_h5_close(&ds[i][k]);
    /* The new groups reach the disk before any run starts (collective: every rank). */
    errno = 0;
    if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0 && rc == GOT_OK) {
        ntas_h5_fail_io(err, errlen, errno, NULL, "flushing the pretrained features");
        rc = GOT_ERROR;
    }
    free(got);
    free(ds);
    free(status);
    free(s);
    if (rc != GOT_OK) ntas_feature_cache_free(c);
    return rc;
}
