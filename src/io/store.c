/* store — HDF5 results file. See store.h and README "Output layout".
 *
 * Why creation is serial and writes are parallel: metadata changes in a
 * parallel HDF5 file must be collective, and a kill in the middle of them can
 * leave a file that does not open. Creating everything in one serial pass
 * under a temporary name and renaming it means the parallel phase changes no
 * metadata at all: ranks only write raw data into preallocated space. */
#include "ntasweep/io/store.h"

#include <hdf5.h>
#include <hdf5_hl.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ntasweep/core/err.h"
#include "ntasweep/tasks/curriculum.h"
#include "ntasweep/io/h5util.h"
#include "ntasweep/io/mpi_util.h"
#include "ntasweep/io/pretrain.h"

enum { DIM_RUN, DIM_TIME, DIM_BLOCK, DIM_GATE, DIM_TASK, DIM_PATH, DIM_OUTPUT, DIM_INPUT, DIM_HIDDEN, DIM_COUNT };
static const char *const dim_names[DIM_COUNT] = {"run", "time", "block", "gate", "task", "path", "output", "input", "hidden"};

enum { T_F64, T_I8, T_STR };

enum {
    DS_STATUS, DS_MESSAGE, DS_LOSS, DS_GATES, DS_COS_SIM, DS_UPDATE_W, DS_UPDATE_C, DS_TTT,
    DS_SPECIALIZATION, DS_TOTAL_ALIGNMENT, DS_TEACHERS, DS_STUDENTS, DS_GATES_FINAL,
    /* Datasets of the model variants, created only when a run needs them
     * (group below), so files of nta-only sweeps keep the first layout and
     * files written before the variants still resume. */
    DS_BLOCK_TASK, DS_ROW_SOURCE, DS_SORTED_ALIGNMENT, DS_NEURON_GATES, DS_NEURON_GATES_FINAL,
    DS_FC_W2, DS_FC_W2_FINAL, DS_REDUCED_W, DS_REDUCED_EPS, DS_WBAR_TASK, DS_WBAR, DS_WBARBAR,
    DS_CBAR, DS_EQ10_WBAR, DS_ACCURACY, DS_COUNT
};

/* Which runs need a dataset. */
enum { G_ALL, G_TASKS, G_SORTED, G_NEURON, G_FC, G_REDUCED, G_CNN, G_LAST = G_CNN };

typedef struct {
    const char *name;
    int type;
    int ndims;
    int dims[4];
    const char *description;
    int group;
} ds_desc;

/* Does a run with params p write the datasets of group g? */
static int needs(int g, const ntas_params *p)
{
    switch (g) {
    case G_ALL: return 1;
    case G_TASKS: return p->curriculum != NTAS_CURRICULUM_ALTERNATING || p->composition != NTAS_COMPOSE_NONE;
    case G_SORTED: return ntas_params_sorted_model(p);
    case G_NEURON: return p->model == NTAS_MODEL_NTA_NEURON;
    case G_FC: return p->model == NTAS_MODEL_FC;
    case G_REDUCED: return p->model == NTAS_MODEL_REDUCED;
    case G_CNN: return ntas_params_cnn_model(p);
    }
    return 0;
}
static int needs_result(int g, const ntas_run_result *r)
{
    switch (g) {
    case G_ALL: return 1;
    case G_TASKS: return r->n_tasks > r->M;
    case G_SORTED: return r->model == NTAS_MODEL_NTA_NEURON || r->model == NTAS_MODEL_FC;
    case G_NEURON: return r->model == NTAS_MODEL_NTA_NEURON;
    case G_FC: return r->model == NTAS_MODEL_FC;
    case G_REDUCED: return r->model == NTAS_MODEL_REDUCED;
    case G_CNN: return r->model == NTAS_MODEL_CNN_NTA || r->model == NTAS_MODEL_CNN_ALONE;
    }
    return 0;
}

static const ds_desc results[DS_COUNT] = {
    {"status", T_I8, 1, {DIM_RUN}, "0 pending, 1 done, 2 failed; written after the run's data", G_ALL},
    {"message", T_STR, 1, {DIM_RUN}, "why a run failed (empty otherwise)", G_ALL},
    {"loss", T_F64, 2, {DIM_RUN, DIM_TIME}, "task loss 1/2 mean_batch sum_i (y*_i - y_i)^2 (no regulariser)", G_ALL},
    {"gates", T_F64, 3, {DIM_RUN, DIM_TIME, DIM_GATE}, "gates c_p before the recorded step's update "
     "(nta_neuron, fc: mean gate of sorted student p < teachers: its per-neuron gates, its W2 column block; App. B.4.1)", G_ALL},
    {"cos_sim", T_F64, 4, {DIM_RUN, DIM_TIME, DIM_TASK, DIM_PATH}, "mean row-wise cosine of base teacher m and student p "
     "(nta_neuron, fc: sorted student p < teachers; reduced: NaN)", G_ALL},
    {"update_norm_w", T_F64, 3, {DIM_RUN, DIM_TIME, DIM_PATH}, "Frobenius norm of the Euler update of W_p (fc: of W1's rows p*d_out .. (p+1)*d_out-1)", G_ALL},
    {"update_norm_c", T_F64, 2, {DIM_RUN, DIM_TIME}, "norm of the Euler update of c (fc: of W2)", G_ALL},
    {"time_to_threshold", T_F64, 2, {DIM_RUN, DIM_BLOCK}, "time from block start until task loss < 0.1 (every step); NaN if never", G_ALL},
    {"specialization", T_F64, 1, {DIM_RUN}, "final mean over paths of the best-matching teacher's cos_sim "
     "(nta_neuron, fc: final sorted alignment; reduced: NaN)", G_ALL},
    {"total_alignment", T_F64, 1, {DIM_RUN}, "final row-wise cosine of stacked teachers and their best students "
     "(nta_neuron, fc: of the sorted students, App. B.4.1; reduced: NaN)", G_ALL},
    {"teacher_weights", T_F64, 4, {DIM_RUN, DIM_TASK, DIM_OUTPUT, DIM_INPUT}, "teachers W*^m: the base tasks, then "
     "their composites (composition key)", G_ALL},
    {"student_weights", T_F64, 4, {DIM_RUN, DIM_PATH, DIM_OUTPUT, DIM_INPUT}, "final students W_p (fc: W1 as paths "
     "blocks of d_out rows; unsorted, see row_source)", G_ALL},
    {"gates_final", T_F64, 2, {DIM_RUN, DIM_GATE}, "final gates c_p (nta_neuron, fc: of sorted student p, as gates)", G_ALL},
    {"block_task", T_F64, 2, {DIM_RUN, DIM_BLOCK}, "task of each block: index into teacher_weights' task "
     "(base tasks 0..teachers-1, then composites)", G_TASKS},
    {"row_source", T_F64, 3, {DIM_RUN, DIM_TASK, DIM_OUTPUT}, "nta_neuron, fc: row of W (p*d_out + i) or W1 "
     "(hidden unit) that is row r of sorted student m, by the row cosines averaged over records", G_SORTED},
    {"sorted_alignment", T_F64, 2, {DIM_RUN, DIM_TIME}, "nta_neuron, fc: mean over m, r of cosine(teacher m row r, "
     "sorted student m row r), the total alignment of App. B.4.1", G_SORTED},
    {"neuron_gates", T_F64, 4, {DIM_RUN, DIM_TIME, DIM_PATH, DIM_OUTPUT}, "nta_neuron: per-neuron gates c_pi "
     "(unsorted) before the recorded step's update", G_NEURON},
    {"neuron_gates_final", T_F64, 3, {DIM_RUN, DIM_PATH, DIM_OUTPUT}, "nta_neuron: final per-neuron gates c_pi", G_NEURON},
    {"fc_w2", T_F64, 4, {DIM_RUN, DIM_TIME, DIM_OUTPUT, DIM_HIDDEN}, "fc: second layer W2 (every entry a gate) "
     "before the recorded step's update", G_FC},
    {"fc_w2_final", T_F64, 3, {DIM_RUN, DIM_OUTPUT, DIM_HIDDEN}, "fc: final second layer W2", G_FC},
    {"reduced_w", T_F64, 4, {DIM_RUN, DIM_TIME, DIM_PATH, DIM_TASK}, "reduced: w^p_m, component of student p "
     "along teacher e_m (Fig. 4B, C)", G_REDUCED},
    {"reduced_eps", T_F64, 3, {DIM_RUN, DIM_TIME, DIM_TASK}, "reduced: error components eps_m = (y* - y)_m", G_REDUCED},
    {"wbar_task", T_F64, 3, {DIM_RUN, DIM_TIME, DIM_TASK}, "reduced: specialization for teacher m, "
     "wbar_1 = w^1_1 - w^2_1, wbar_2 = w^2_2 - w^1_2", G_REDUCED},
    {"wbar", T_F64, 2, {DIM_RUN, DIM_TIME}, "reduced: wbar = (wbar_1 + wbar_2) / 2 (Eq. 3)", G_REDUCED},
    {"wbarbar", T_F64, 2, {DIM_RUN, DIM_TIME}, "reduced: unspecialized component "
     "((w^1_1 - w^1_2) + (w^2_1 - w^2_2)) / 2 (Eq. 24)", G_REDUCED},
    {"cbar", T_F64, 2, {DIM_RUN, DIM_TIME}, "reduced: gate separation c^1 - c^2 (Eq. 4)", G_REDUCED},
    {"eq10_wbar", T_F64, 2, {DIM_RUN, DIM_TIME}, "reduced: Eq. (10) sqrt(1 - 0.5 (tau_c/tau_w)(1 - cbar^2)) "
     "at the recorded cbar", G_REDUCED},
    {"accuracy", T_F64, 2, {DIM_RUN, DIM_TIME}, "cnn_nta, cnn_alone: accuracy on the test images under the "
     "current block's task labels (Fig. 7C, A.15)", G_CNN},
};

#define STR_CASE NTAS_NAME_LEN
#define STR_KEY 17

struct ntas_store {
    char path[4096];
    dev_t dev;    /* the file opened, to notice it vanishing */
    ino_t ino;
    hid_t file;
    hid_t ds[DS_COUNT];
    hid_t str_message;
};

/* Contiguous, allocated at creation, with a fill value: the parallel phase
 * never has to allocate anything. H5I_INVALID_HID with err on a failure. */
static hid_t create_ds(hid_t file, const char *name, hid_t ftype, int ndims, const hsize_t *shape,
                       const void *fill, char *err, size_t errlen)
{
    hid_t sp = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, ds = H5I_INVALID_HID;
    if ((sp = H5Screate_simple(ndims, shape, NULL)) < 0 || (dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0 ||
        H5Pset_layout(dcpl, H5D_CONTIGUOUS) < 0 || H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) < 0 ||
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC) < 0 || (fill && H5Pset_fill_value(dcpl, ftype, fill) < 0) ||
        (ds = H5Dcreate2(file, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0)
        ntas_h5_fail(err, errlen, "creating dataset %s", name);
    ntas_h5_close(&dcpl);
    ntas_h5_close(&sp);
    return ds;
}

static hid_t ftype_of(int t, size_t strlen_)
{
    return t == T_F64 ? H5Tcopy(H5T_IEEE_F64LE) : t == T_I8 ? H5Tcopy(H5T_STD_I8LE) : ntas_h5_str_type(strlen_);
}

/* Copies run rows 0..n_copy-1 of dataset k from src into dst (same layout,
 * dims no larger), one run's row at a time. */
static int copy_dataset(hid_t dst, hid_t src, int k, int n_copy, const char *from, char *err, size_t errlen)
{
    const char *name = results[k].name;
    int nd = results[k].ndims, rc = -1;
    hid_t a = H5I_INVALID_HID, b = H5I_INVALID_HID, sa = H5I_INVALID_HID, sb = H5I_INVALID_HID;
    hid_t mt = H5I_INVALID_HID, ms = H5I_INVALID_HID;
    void *buf = NULL;
    hsize_t da[4] = {0}, db[4] = {0};
    if ((a = H5Dopen2(src, name, H5P_DEFAULT)) < 0 || (b = H5Dopen2(dst, name, H5P_DEFAULT)) < 0 ||
        (sa = H5Dget_space(a)) < 0 || (sb = H5Dget_space(b)) < 0 ||
        H5Sget_simple_extent_dims(sa, da, NULL) != nd || H5Sget_simple_extent_dims(sb, db, NULL) != nd) {
        ntas_h5_fail(err, errlen, "%s: opening dataset '%s' to copy it (a layout of %d dimensions)", from, name, nd);
        goto cleanup;
    }
    size_t row = 1;
    for (int d = 1; d < nd; d++) {
        if (da[d] > db[d]) {
            ntas_set_err(err, errlen, "%s: dataset '%s' is larger than the new sweep's", from, name);
            goto cleanup;
        }
        row *= (size_t)da[d];
    }
    if (da[0] < (hsize_t)n_copy) {
        ntas_set_err(err, errlen, "%s: dataset '%s' has %llu runs, not %d", from, name, (unsigned long long)da[0], n_copy);
        goto cleanup;
    }
    mt = results[k].type == T_F64 ? H5Tcopy(H5T_NATIVE_DOUBLE) : results[k].type == T_I8 ? H5Tcopy(H5T_NATIVE_INT8)
                                                                               : ntas_h5_str_type(NTAS_MESSAGE_LEN);
    size_t esize = mt >= 0 ? H5Tget_size(mt) : 0;
    hsize_t start[4] = {0, 0, 0, 0}, count[4] = {1, 1, 1, 1};
    for (int d = 1; d < nd; d++) count[d] = da[d];
    if (esize == 0 || (ms = H5Screate_simple(nd, count, NULL)) < 0) {
        ntas_h5_fail(err, errlen, "%s: copying dataset '%s'", from, name);
        goto cleanup;
    }
    if (!(buf = malloc(row * esize))) {
        ntas_set_err(err, errlen, "out of memory copying dataset '%s'", name);
        goto cleanup;
    }
    for (int i = 0; i < n_copy; i++) {
        start[0] = (hsize_t)i;
        if (H5Sselect_hyperslab(sa, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
            H5Sselect_hyperslab(sb, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
            H5Dread(a, mt, ms, sa, H5P_DEFAULT, buf) < 0 || H5Dwrite(b, mt, ms, sb, H5P_DEFAULT, buf) < 0) {
            ntas_h5_fail(err, errlen, "%s: copying run %d of dataset '%s'", from, i, name);
            goto cleanup;
        }
    }
    rc = 0;
cleanup:
    free(buf);
    ntas_h5_close(&ms);
    ntas_h5_close(&mt);
    ntas_h5_close(&sa);
    ntas_h5_close(&sb);
    ntas_h5_close(&a);
    ntas_h5_close(&b);
    return rc;
}

/* Copies the results of runs 0..n_copy-1 of file `from` into the freshly
 * created `file`. */
static int copy_results(hid_t file, const char *from, int n_copy, char *err, size_t errlen)
{
    hid_t src = H5Fopen(from, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (src < 0) {
        ntas_h5_fail(err, errlen, "%s: cannot open to copy its results", from);
        return -1;
    }
    int rc = 0;
    for (int k = 0; rc == 0 && k < DS_COUNT; k++) {
        /* A variant's dataset the old file lacks (its runs did not need it)
         * stays NaN for the copied runs; one the new sweep lacks is unused. */
        htri_t in_src = H5Lexists(src, results[k].name, H5P_DEFAULT);
        htri_t in_dst = in_src > 0 ? H5Lexists(file, results[k].name, H5P_DEFAULT) : 0;
        if (in_src < 0 || in_dst < 0) {
            ntas_h5_fail(err, errlen, "%s: looking for dataset '%s'", from, results[k].name);
            rc = -1;
        } else if (in_src > 0 && in_dst > 0) {
            rc = copy_dataset(file, src, k, n_copy, from, err, errlen);
        }
    }
    if (H5Fclose(src) < 0 && rc == 0) {
        ntas_h5_fail(err, errlen, "%s: closing after copying its results", from);
        rc = -1;
    }
    return rc;
}

/* The shape of a sweep's file: the size of every dimension, which groups
 * of datasets exist, which dimension scales they use. */
typedef struct {
    hsize_t size[DIM_COUNT];
    int present[G_LAST + 1], used_dim[DIM_COUNT], uniform_time;
    double interval, bytes;
} layout;

static void plan_layout(const ntas_spec *spec, layout *L)
{
    memset(L, 0, sizeof *L);
    const int n = spec->n_runs;
    for (int d = 0; d < DIM_COUNT; d++) L->size[d] = 1;
    L->size[DIM_RUN] = (hsize_t)n;
    L->interval = spec->runs[0].params.dt * (double)spec->runs[0].params.record_every;
    L->uniform_time = 1;
    for (int i = 0; i < n; i++) {
        const ntas_params *p = &spec->runs[i].params;
        int64_t n_tasks = ntas_params_n_tasks(p);
        if (p->model == NTAS_MODEL_REDUCED || n_tasks < p->teachers) n_tasks = p->teachers;
        hsize_t want[DIM_COUNT] = {0, (hsize_t)ntas_params_n_records(p), (hsize_t)p->n_blocks,
                                   (hsize_t)p->paths, (hsize_t)n_tasks, (hsize_t)p->paths,
                                   (hsize_t)p->d_out, (hsize_t)p->d_in,
                                   p->model == NTAS_MODEL_FC ? (hsize_t)(p->paths * p->d_out) : 1};
        for (int d = 1; d < DIM_COUNT; d++)
            if (want[d] > L->size[d]) L->size[d] = want[d];
        if (p->dt * (double)p->record_every != L->interval) L->uniform_time = 0;
        for (int g = 0; g <= G_LAST; g++) L->present[g] |= needs(g, p);
    }
    /* Dimension scales of the dimensions some created dataset uses. */
    L->used_dim[DIM_RUN] = 1;
    for (int k = 0; k < DS_COUNT; k++) {
        if (!L->present[results[k].group]) continue;
        double c = 8;
        for (int d = 0; d < results[k].ndims; d++) {
            L->used_dim[results[k].dims[d]] = 1;
            c *= (double)L->size[results[k].dims[d]];
        }
        L->bytes += c;
    }
}

static int write_file_attrs(hid_t file, const ntas_spec *spec, char *err, size_t errlen)
{
    char hex[17];
    ntas_hex64(spec->hash, hex);
    const char *fail = NULL;
    if (ntas_h5_set_str_attr(file, "ntasweep_version", NTASWEEP_VERSION) != 0) fail = "ntasweep_version";
    else if (ntas_h5_set_i64_attr(file, "format_version", NTAS_FORMAT_VERSION) != 0) fail = "format_version";
    else if (ntas_h5_set_str_attr(file, "spec_file", spec->path) != 0) fail = "spec_file";
    else if (ntas_h5_set_str_attr(file, "spec_name", spec->name) != 0) fail = "spec_name";
    else if (ntas_h5_set_str_attr(file, "spec_text", spec->text) != 0) fail = "spec_text";
    else if (ntas_h5_set_str_attr(file, "spec_overrides", spec->overrides) != 0) fail = "spec_overrides";
    else if (ntas_h5_set_str_attr(file, "spec_hash", hex) != 0) fail = "spec_hash";
    else if (ntas_h5_set_i64_attr(file, "n_runs", spec->n_runs) != 0) fail = "n_runs";
    if (fail) ntas_h5_fail(err, errlen, "writing attribute %s", fail);
    return fail ? -1 : 0;
}

/* One dimension-scale dataset per used dimension: 0..size-1, or the time
 * of each record. scale[d] stays open for attaching (closed by the caller). */
static int write_scales(hid_t file, const layout *L, hid_t scale[DIM_COUNT], char *err, size_t errlen)
{
    for (int d = 0; d < DIM_COUNT; d++) {
        if (!L->used_dim[d]) continue;
        int is_time = d == DIM_TIME;
        scale[d] = create_ds(file, dim_names[d], is_time ? H5T_IEEE_F64LE : H5T_STD_I64LE, 1, &L->size[d], NULL,
                             err, errlen);
        if (scale[d] < 0) return -1;
        double *v = malloc(L->size[d] * sizeof(double));
        int64_t *iv = (int64_t *)v;
        if (!v) {
            ntas_set_err(err, errlen, "out of memory for dimension %s", dim_names[d]);
            return -1;
        }
        for (hsize_t i = 0; i < L->size[d]; i++) {
            if (is_time) v[i] = L->uniform_time ? (double)i * L->interval : (double)i;
            else iv[i] = (int64_t)i;
        }
        int bad = H5Dwrite(scale[d], is_time ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0 ||
                  H5DSset_scale(scale[d], dim_names[d]) < 0 ||
                  (is_time && ntas_h5_set_str_attr(scale[d], "units", L->uniform_time
                                                   ? "time (same units as dt, tau_w, tau_c)" : "record") != 0);
        free(v);
        if (bad) {
            ntas_h5_fail(err, errlen, "writing dimension scale %s", dim_names[d]);
            return -1;
        }
    }
    return 0;
}

/* Column k of the parameter table: key k < ntas_param_count, then case,
 * run_key, record_interval; one 1-D dataset along run. */
static int write_param_column(hid_t file, const ntas_spec *spec, int k, hid_t run_scale, double *col, char *scol,
                              char *err, size_t errlen)
{
    const int n = spec->n_runs;
    const ntas_param_desc *d = k < ntas_param_count ? &ntas_param_table[k] : NULL;
    const char *name = d ? d->key : k == ntas_param_count ? "case" : k == ntas_param_count + 1 ? "run_key" : "record_interval";
    hid_t ft, mt, ds = H5I_INVALID_HID;
    size_t slen = 0;
    if (d && d->type == NTAS_PT_CHOICE) {
        for (int c = 0; d->choices[c]; c++) if (strlen(d->choices[c]) + 1 > slen) slen = strlen(d->choices[c]) + 1;
    } else if (!d && k == ntas_param_count) slen = STR_CASE;
    else if (!d && k == ntas_param_count + 1) slen = STR_KEY;
    if (slen) { ft = ntas_h5_str_type(slen); mt = ntas_h5_str_type(slen); }
    else if ((d && d->type == NTAS_PT_REAL) || !d) { ft = H5Tcopy(H5T_IEEE_F64LE); mt = H5Tcopy(H5T_NATIVE_DOUBLE); }
    else { ft = H5Tcopy(H5T_STD_I64LE); mt = H5Tcopy(H5T_NATIVE_INT64); }
    for (int i = 0; i < n; i++) {
        const ntas_params *p = &spec->runs[i].params;
        if (slen) {
            char *dst = scol + (size_t)i * slen;
            if (d) snprintf(dst, slen, "%s", ntas_param_get_choice(d, p));
            else if (k == ntas_param_count) snprintf(dst, slen, "%s", spec->runs[i].case_name);
            else ntas_hex64(spec->runs[i].key, dst);
        } else if (!d) col[i] = p->dt * (double)p->record_every;
        else if (d->type == NTAS_PT_REAL) col[i] = ntas_param_get_real(d, p);
        else ((int64_t *)col)[i] = ntas_param_get_int(d, p);
    }
    int rc = -1;
    hsize_t nn = (hsize_t)n;
    if (ft < 0 || mt < 0) {
        ntas_h5_fail(err, errlen, "the type of parameter dataset %s", name);
        goto cleanup;
    }
    if ((ds = create_ds(file, name, ft, 1, &nn, NULL, err, errlen)) < 0) goto cleanup;
    if (H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, slen ? (void *)scol : (void *)col) < 0 ||
        H5DSattach_scale(ds, run_scale, 0) < 0 ||
        (d && ntas_h5_set_str_attr(ds, "description", d->meaning) != 0) ||
        (d && d->unit[0] && ntas_h5_set_str_attr(ds, "units", d->unit) != 0)) {
        ntas_h5_fail(err, errlen, "writing parameter dataset %s", name);
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (ntas_h5_close(&ds) < 0 && rc == 0) {
        ntas_h5_fail(err, errlen, "closing parameter dataset %s", name);
        rc = -1;
    }
    ntas_h5_close(&ft);
    ntas_h5_close(&mt);
    return rc;
}

static int write_param_columns(hid_t file, const ntas_spec *spec, hid_t run_scale, char *err, size_t errlen)
{
    double *col = malloc((size_t)spec->n_runs * sizeof(double));
    char *scol = malloc((size_t)spec->n_runs * STR_CASE);
    int rc = col && scol ? 0 : -1;
    if (rc) ntas_set_err(err, errlen, "out of memory for the parameter table");
    for (int k = 0; rc == 0 && k < ntas_param_count + 3; k++)
        rc = write_param_column(file, spec, k, run_scale, col, scol, err, errlen);
    free(col);
    free(scol);
    return rc;
}

/* Results, NaN-filled (status 0 = pending, message empty). */
static int create_results(hid_t file, const layout *L, const hid_t scale[DIM_COUNT], char *err, size_t errlen)
{
    const double nan = NAN;
    const int8_t zero = 0;
    char empty[NTAS_MESSAGE_LEN] = "";
    for (int k = 0; k < DS_COUNT; k++) {
        if (!L->present[results[k].group]) continue;
        hsize_t shape[4];
        for (int d = 0; d < results[k].ndims; d++) shape[d] = L->size[results[k].dims[d]];
        hid_t ft = ftype_of(results[k].type, NTAS_MESSAGE_LEN);
        if (ft < 0) {
            ntas_h5_fail(err, errlen, "the type of dataset %s", results[k].name);
            return -1;
        }
        const void *fill = results[k].type == T_F64 ? (const void *)&nan : results[k].type == T_I8 ? (const void *)&zero : (const void *)empty;
        hid_t ds = create_ds(file, results[k].name, ft, results[k].ndims, shape, fill, err, errlen);
        ntas_h5_close(&ft);
        if (ds < 0) return -1;
        int bad = 0;
        for (int d = 0; !bad && d < results[k].ndims; d++)
            bad = H5DSattach_scale(ds, scale[results[k].dims[d]], (unsigned)d) < 0;
        bad = bad || ntas_h5_set_str_attr(ds, "description", results[k].description) != 0;
        if (bad) ntas_h5_fail(err, errlen, "writing the dimension scales or description of dataset %s", results[k].name);
        if (ntas_h5_close(&ds) < 0 && !bad) {
            ntas_h5_fail(err, errlen, "closing dataset %s", results[k].name);
            bad = 1;
        }
        if (bad) return -1;
    }
    return 0;
}

/* Everything inside the new file: attributes, scales, parameters, results,
 * copied runs and the pretrained groups. */
static int write_layout(hid_t file, const ntas_spec *spec, const layout *L, const char *copy_from, int n_copy,
                        char *err, size_t errlen)
{
    hid_t scale[DIM_COUNT];
    for (int d = 0; d < DIM_COUNT; d++) scale[d] = H5I_INVALID_HID;
    int rc = -1;
    ntas_pretrain_setting *pre = NULL;
    int n_pre = 0;
    if (write_file_attrs(file, spec, err, errlen) != 0 || write_scales(file, L, scale, err, errlen) != 0 ||
        write_param_columns(file, spec, scale[DIM_RUN], err, errlen) != 0 ||
        create_results(file, L, scale, err, errlen) != 0)
        goto cleanup;
    for (int d = 0; d < DIM_COUNT; d++)
        if (ntas_h5_close(&scale[d]) < 0) {
            ntas_h5_fail(err, errlen, "closing dimension scale %s", dim_names[d]);
            goto cleanup;
        }
    if (copy_from && copy_results(file, copy_from, n_copy, err, errlen) != 0) goto cleanup;
    /* The pretrained CNNs of the cnn runs (pretrain.h), copied when extending. */
    if (ntas_pretrain_plan(spec, &pre, &n_pre, err, errlen) != 0 ||
        ntas_pretrain_create_groups(file, pre, n_pre, copy_from, err, errlen) != 0)
        goto cleanup;
    rc = 0;
cleanup:
    free(pre);
    for (int d = 0; d < DIM_COUNT; d++) ntas_h5_close(&scale[d]);
    return rc;
}

/* Closes a file whose creation failed and removes it, leaving no HDF5 id
 * behind: an id that outlived a failed H5Fclose would be closed again by
 * HDF5's MPI_Finalize hook and crash there. On a full disk H5Fclose fails
 * to flush the metadata it still holds, so first every object is closed and
 * the file truncated to nothing: that frees its preallocated data, and the
 * few metadata blocks then fit. */
static void discard_created(hid_t *file, const char *tmp)
{
    hid_t ids[64];
    ssize_t n;
    while ((n = H5Fget_obj_ids(*file, H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR | H5F_OBJ_LOCAL,
                               64, ids)) > 0) {
        ssize_t closed = 0;
        for (ssize_t i = 0; i < n; i++) closed += ntas_h5_close(&ids[i]) == 0;
        if (closed == 0) break;
    }
    int fd = open(tmp, O_WRONLY);
    if (fd >= 0) {
        if (ftruncate(fd, 0) != 0) { /* the close below may still fit */ }
        close(fd);
    }
    ntas_h5_close(file);
    remove(tmp);
}

int ntas_store_create(const char *path, const ntas_spec *spec, const char *copy_from, int n_copy,
                      char *err, size_t errlen)
{
    ntas_h5_quiet();
    layout L;
    plan_layout(spec, &L);
    if (L.bytes > 2e12) {
        ntas_set_err(err, errlen, "%s: the results would need %.3g GB; raise record_every or split the sweep", path, L.bytes / 1e9);
        return -1;
    }
    char tmp[4096], what[1024] = "";
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        ntas_set_err(err, errlen, "%s: path too long", path);
        return -1;
    }
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), file = H5I_INVALID_HID;
    /* The 1.8 format stores large attributes (spec_text) densely. */
    if (fapl < 0 || H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) < 0 ||
        (file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl)) < 0) {
        ntas_h5_fail(err, errlen, "%s: cannot create the results file", tmp);
        ntas_h5_close(&fapl);
        return -1;
    }
    ntas_h5_close(&fapl);
    if (write_layout(file, spec, &L, copy_from, n_copy, what, sizeof what) != 0) {
        discard_created(&file, tmp);
        ntas_set_err(err, errlen, "%s: writing the results file layout failed: %s%s", tmp, what,
                     copy_from ? " (the existing file was not modified)" : "");
        return -1;
    }
    /* Flushed first, so that the close has nothing left to write: a close
     * that fails leaves an id behind (see discard_created). */
    if (H5Fflush(file, H5F_SCOPE_LOCAL) < 0) {
        ntas_h5_fail(what, sizeof what, "flushing");
        discard_created(&file, tmp);
        ntas_set_err(err, errlen, "%s: writing the results file failed: %s%s", tmp, what,
                     copy_from ? " (the existing file was not modified)" : "");
        return -1;
    }
    if (H5Fclose(file) < 0) {
        ntas_h5_fail(what, sizeof what, "closing");
        remove(tmp);
        ntas_set_err(err, errlen, "%s: writing the results file failed at its close: %s%s", tmp, what,
                     copy_from ? " (the existing file was not modified)" : "");
        return -1;
    }
    if (rename(tmp, path) != 0) {
        ntas_set_err(err, errlen, "%s: cannot rename %s into place: %s", path, tmp, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

static int read_str_attr(hid_t obj, const char *name, char *buf, size_t len)
{
    buf[0] = '\0';
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return -1;
    hid_t t = H5Aget_type(a);
    size_t n = H5Tget_size(t);
    char *tmp = calloc(n + 1, 1);
    herr_t rc = tmp ? H5Aread(a, t, tmp) : -1;
    if (rc >= 0) snprintf(buf, len, "%s", tmp);
    free(tmp);
    H5Tclose(t);
    H5Aclose(a);
    return rc < 0 ? -1 : 0;
}

/* Reads a whole 1-D string dataset of n entries into n * width bytes. */
static int read_str_column(hid_t file, const char *name, int n, size_t width, char *out)
{
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    if (ds < 0) return -1;
    hid_t t = ntas_h5_str_type(width);
    herr_t rc = H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
    H5Tclose(t);
    H5Dclose(ds);
    for (int i = 0; i < n; i++) out[(size_t)i * width + width - 1] = '\0';
    return rc < 0 ? -1 : 0;
}

int ntas_store_param_text(const char *path, int k, int n, char *texts, size_t width, char *err, size_t errlen)
{
    ntas_h5_quiet();
    const ntas_param_desc *d = &ntas_param_table[k];
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = file >= 0 ? H5Dopen2(file, d->key, H5P_DEFAULT) : -1;
    hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
    int rc = -1;
    void *col = NULL;
    if (sp < 0 || H5Sget_simple_extent_npoints(sp) != n) {
        ntas_set_err(err, errlen, "%s: no dataset '%s' of %d runs", path, d->key, n);
        goto out;
    }
    size_t fwidth = 8;
    hid_t mt;
    if (d->type == NTAS_PT_CHOICE) {
        /* The file's own width: the list of choices may have grown since. */
        hid_t ft = H5Dget_type(ds);
        fwidth = H5Tget_size(ft);
        H5Tclose(ft);
        mt = ntas_h5_str_type(fwidth);
    } else {
        mt = H5Tcopy(d->type == NTAS_PT_REAL ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64);
    }
    col = malloc((size_t)(n > 0 ? n : 1) * fwidth);
    herr_t r = col ? H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, col) : -1;
    H5Tclose(mt);
    if (r < 0) {
        ntas_set_err(err, errlen, "%s: cannot read '%s'", path, d->key);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        char *dst = texts + (size_t)i * width;
        if (d->type == NTAS_PT_CHOICE) {
            snprintf(dst, width, "%.*s", (int)fwidth, (char *)col + (size_t)i * fwidth);
            continue;
        }
        ntas_params scratch;
        ntas_params_defaults(&scratch);
        if (d->type == NTAS_PT_REAL) *(double *)((char *)&scratch + d->offset) = ((double *)col)[i];
        else *(int64_t *)((char *)&scratch + d->offset) = ((int64_t *)col)[i];
        ntas_param_format(d, &scratch, dst, width);
    }
    rc = 0;
out:
    free(col);
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    if (file >= 0) H5Fclose(file);
    return rc;
}

int ntas_store_inspect(const char *path, ntas_store_info *info, char *err, size_t errlen)
{
    ntas_h5_quiet();
    memset(info, 0, sizeof *info);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        ntas_set_err(err, errlen, "%s: exists but is not a readable HDF5 file; move it away or choose another -o", path);
        return -1;
    }
    int rc = -1;
    hid_t keys = H5Dopen2(file, "run_key", H5P_DEFAULT), st = H5Dopen2(file, "status", H5P_DEFAULT);
    char *buf = NULL;
    if (keys < 0 || st < 0 || read_str_attr(file, "spec_hash", info->spec_hash, sizeof info->spec_hash) != 0) {
        ntas_set_err(err, errlen, "%s: not an ntasweep results file (no run_key, status or spec_hash)", path);
        goto out;
    }
    read_str_attr(file, "ntasweep_version", info->version, sizeof info->version);
    read_str_attr(file, "spec_name", info->spec_name, sizeof info->spec_name);
    read_str_attr(file, "spec_file", info->spec_file, sizeof info->spec_file);
    hid_t fv = H5Aopen(file, "format_version", H5P_DEFAULT);
    if (fv < 0 || H5Aread(fv, H5T_NATIVE_INT64, &info->format_version) < 0) info->format_version = -1;
    if (fv >= 0) H5Aclose(fv);
    if (info->format_version != NTAS_FORMAT_VERSION) {
        ntas_set_err(err, errlen, "%s has results format %lld (ntasweep %s); this ntasweep writes format %d", path,
                 (long long)info->format_version, info->version, NTAS_FORMAT_VERSION);
        goto out;
    }
    hid_t sp = H5Dget_space(keys);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    if (n < 0 || n > 100000000) {
        ntas_set_err(err, errlen, "%s: bad run count", path);
        goto out;
    }
    info->n_runs = (int)n;
    size_t nn = (size_t)(n > 0 ? n : 1);
    info->keys = malloc(nn * sizeof *info->keys);
    info->status = malloc(nn);
    info->messages = calloc(nn, NTAS_MESSAGE_LEN);
    info->case_names = calloc(nn, NTAS_NAME_LEN);
    buf = malloc(nn * STR_KEY);
    if (!info->keys || !info->status || !info->messages || !info->case_names || !buf) {
        ntas_set_err(err, errlen, "out of memory reading %s", path);
        goto out;
    }
    if (read_str_column(file, "run_key", info->n_runs, STR_KEY, buf) != 0 ||
        H5Dread(st, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, info->status) < 0 ||
        read_str_column(file, "message", info->n_runs, NTAS_MESSAGE_LEN, info->messages) != 0 ||
        read_str_column(file, "case", info->n_runs, STR_CASE, info->case_names) != 0) {
        ntas_set_err(err, errlen, "%s: cannot read run_key, status, message or case", path);
        goto out;
    }
    for (int i = 0; i < info->n_runs; i++) info->keys[i] = strtoull(buf + (size_t)i * STR_KEY, NULL, 16);
    rc = 0;
out:
    free(buf);
    if (keys >= 0) H5Dclose(keys);
    if (st >= 0) H5Dclose(st);
    H5Fclose(file);
    if (rc) ntas_store_info_free(info);
    return rc;
}

void ntas_store_info_free(ntas_store_info *info)
{
    free(info->keys);
    free(info->status);
    free(info->messages);
    free(info->case_names);
    memset(info, 0, sizeof *info);
}

/* Opens every dataset, in the same order on every rank (collective-safe);
 * a variant's dataset the file lacks stays invalid. */
static int open_datasets(ntas_store *st, const char *path, MPI_Comm comm, char *err, size_t errlen)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0 ||
        (st->file = H5Fopen(path, H5F_ACC_RDWR, fapl)) < 0) {
        ntas_h5_fail(err, errlen, "%s: cannot open the results file for parallel writing", path);
        ntas_h5_close(&fapl);
        return -1;
    }
    ntas_h5_close(&fapl);
    struct stat sb;
    if (stat(path, &sb) == 0) {
        st->dev = sb.st_dev;
        st->ino = sb.st_ino;
    }
    snprintf(st->path, sizeof st->path, "%s", path);
    for (int k = 0; k < DS_COUNT; k++) {
        if (results[k].group != G_ALL) {
            htri_t there = H5Lexists(st->file, results[k].name, H5P_DEFAULT);
            if (there < 0) {
                ntas_h5_fail(err, errlen, "%s: looking for dataset '%s'", path, results[k].name);
                return -1;
            }
            if (!there) continue;   /* no run of this sweep needs it */
        }
        if ((st->ds[k] = H5Dopen2(st->file, results[k].name, H5P_DEFAULT)) < 0) {
            ntas_h5_fail(err, errlen, "%s: cannot open dataset '%s'", path, results[k].name);
            return -1;
        }
    }
    if ((st->str_message = ntas_h5_str_type(NTAS_MESSAGE_LEN)) < 0) {
        ntas_h5_fail(err, errlen, "%s: the message type", path);
        return -1;
    }
    return 0;
}

int ntas_store_open(ntas_store **out, const char *path, MPI_Comm comm, char *err, size_t errlen)
{
    ntas_h5_quiet();
    *out = NULL;
    ntas_store *st = calloc(1, sizeof *st);
    int ok = st != NULL, all_ok = 0;
    if (!st) ntas_set_err(err, errlen, "out of memory");
    else {
        st->file = st->str_message = H5I_INVALID_HID;
        for (int k = 0; k < DS_COUNT; k++) st->ds[k] = H5I_INVALID_HID;
        ok = open_datasets(st, path, comm, err, errlen) == 0;
    }
    if (ntas_mpi_check(MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm), "MPI_Allreduce (opening the results file)",
                       ok ? err : NULL, ok ? errlen : 0) != 0)
        all_ok = 0;
    if (!all_ok) {
        if (ok) ntas_set_err(err, errlen, "%s: another rank could not open the results file (see its message)", path);
        if (st) {
            char ignore[64];
            ntas_store_close(st, ignore, sizeof ignore);
        }
        return -1;
    }
    *out = st;
    return 0;
}

/* Writes a [1, counts...] slab at run `index` from contiguous memory. */
static int write_slab(ntas_store *st, int k, int index, const void *data, const hsize_t *counts, char *err, size_t errlen)
{
    int nd = results[k].ndims;
    hsize_t start[4] = {(hsize_t)index, 0, 0, 0}, count[4] = {1, 1, 1, 1};
    for (int d = 1; d < nd; d++) count[d] = counts[d - 1];
    hid_t fsp = H5I_INVALID_HID, msp = H5I_INVALID_HID;
    hid_t mt = results[k].type == T_F64 ? H5T_NATIVE_DOUBLE : results[k].type == T_I8 ? H5T_NATIVE_INT8 : st->str_message;
    int rc = -1;
    if ((fsp = H5Dget_space(st->ds[k])) < 0 || H5Sselect_hyperslab(fsp, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
        (msp = H5Screate_simple(nd, count, NULL)) < 0 || H5Dwrite(st->ds[k], mt, msp, fsp, H5P_DEFAULT, data) < 0)
        ntas_h5_fail(err, errlen, "writing run %d of dataset '%s'", index, results[k].name);
    else
        rc = 0;
    ntas_h5_close(&msp);
    ntas_h5_close(&fsp);
    return rc;
}

int ntas_store_write_run(ntas_store *st, int index, const ntas_run_result *r, char *err, size_t errlen)
{
    hsize_t nr = (hsize_t)r->n_records, P = (hsize_t)r->P, M = (hsize_t)r->M;
    hsize_t dO = (hsize_t)r->d_out, dI = (hsize_t)r->d_in, nb = (hsize_t)r->n_blocks;
    /* The first failure ends the run's writes: its status stays pending. */
    if (write_slab(st, DS_LOSS, index, r->loss, (hsize_t[]){nr}, err, errlen) != 0 ||
        write_slab(st, DS_GATES, index, r->gates, (hsize_t[]){nr, P}, err, errlen) != 0 ||
        write_slab(st, DS_COS_SIM, index, r->cos_sim, (hsize_t[]){nr, M, P}, err, errlen) != 0 ||
        write_slab(st, DS_UPDATE_W, index, r->update_norm_w, (hsize_t[]){nr, P}, err, errlen) != 0 ||
        write_slab(st, DS_UPDATE_C, index, r->update_norm_c, (hsize_t[]){nr}, err, errlen) != 0 ||
        write_slab(st, DS_TTT, index, r->time_to_threshold, (hsize_t[]){nb}, err, errlen) != 0 ||
        write_slab(st, DS_SPECIALIZATION, index, &r->specialization, NULL, err, errlen) != 0 ||
        write_slab(st, DS_TOTAL_ALIGNMENT, index, &r->total_alignment, NULL, err, errlen) != 0 ||
        write_slab(st, DS_TEACHERS, index, r->teachers, (hsize_t[]){(hsize_t)r->n_tasks, dO, dI}, err, errlen) != 0 ||
        write_slab(st, DS_STUDENTS, index, r->students, (hsize_t[]){P, dO, dI}, err, errlen) != 0 ||
        write_slab(st, DS_GATES_FINAL, index, r->gates_final, (hsize_t[]){P}, err, errlen) != 0)
        return -1;
    hsize_t H = (hsize_t)r->d_hid;
    struct { int k; const double *a; hsize_t c[3]; } variant[] = {
        {DS_BLOCK_TASK, r->block_task, {nb}},
        {DS_ROW_SOURCE, r->row_source, {M, dO}},
        {DS_SORTED_ALIGNMENT, r->sorted_alignment, {nr}},
        {DS_NEURON_GATES, r->neuron_gates, {nr, P, dO}},
        {DS_NEURON_GATES_FINAL, r->neuron_gates_final, {P, dO}},
        {DS_FC_W2, r->fc_w2, {nr, dO, H}},
        {DS_FC_W2_FINAL, r->fc_w2_final, {dO, H}},
        {DS_REDUCED_W, r->reduced_w, {nr, 2, 2}},
        {DS_REDUCED_EPS, r->reduced_eps, {nr, 2}},
        {DS_WBAR_TASK, r->wbar_task, {nr, 2}},
        {DS_WBAR, r->wbar, {nr}},
        {DS_WBARBAR, r->wbarbar, {nr}},
        {DS_CBAR, r->cbar, {nr}},
        {DS_EQ10_WBAR, r->eq10_wbar, {nr}},
        {DS_ACCURACY, r->accuracy, {nr}},
    };
    for (size_t v = 0; v < sizeof variant / sizeof variant[0]; v++) {
        int k = variant[v].k;
        if (!needs_result(results[k].group, r)) continue;
        if (st->ds[k] < 0 || !variant[v].a) {
            ntas_set_err(err, errlen, "run %d needs dataset '%s', which the results file lacks", index, results[k].name);
            return -1;
        }
        if (write_slab(st, k, index, variant[v].a, variant[v].c, err, errlen) != 0) return -1;
    }
    char msg[NTAS_MESSAGE_LEN] = {0};
    snprintf(msg, sizeof msg, "%s", r->message);
    if (write_slab(st, DS_MESSAGE, index, msg, NULL, err, errlen) != 0) return -1;
    /* The status flag goes last: a run marked done always has its data. */
    int8_t status = (int8_t)r->status;
    return write_slab(st, DS_STATUS, index, &status, NULL, err, errlen);
}

int64_t ntas_store_hdf5_file(const ntas_store *st)
{
    return st->file;
}

int ntas_store_flush(ntas_store *st, char *err, size_t errlen)
{
    if (H5Fflush(st->file, H5F_SCOPE_GLOBAL) < 0) {
        ntas_h5_fail(err, errlen, "flushing the results file");
        return -1;
    }
    return 0;
}

int ntas_store_close(ntas_store *st, char *err, size_t errlen)
{
    int rc = 0;
    for (int k = 0; k < DS_COUNT; k++)
        if (ntas_h5_close(&st->ds[k]) < 0 && rc == 0) {
            ntas_set_err(err, errlen, "closing dataset '%s' of the results file failed", results[k].name);
            rc = -1;
        }
    ntas_h5_close(&st->str_message);
    if (st->file >= 0 && H5Fclose(st->file) < 0 && rc == 0) {
        ntas_h5_fail(err, errlen, "closing the results file");
        rc = -1;
    }
    st->file = H5I_INVALID_HID;
    /* Results written into a file whose directory was removed or renamed
     * meanwhile are lost with it: say so rather than report success. */
    struct stat sb;
    if (rc == 0 && st->path[0] && (stat(st->path, &sb) != 0 || sb.st_dev != st->dev || sb.st_ino != st->ino)) {
        ntas_set_err(err, errlen, "%s is no longer there (its directory was removed or renamed while the sweep ran): "
                     "the results written since are lost", st->path);
        rc = -1;
    }
    free(st);
    return rc;
}
