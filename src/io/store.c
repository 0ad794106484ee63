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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/tasks/curriculum.h"
#include "ntasweep/io/h5fapl.h"
#include "ntasweep/io/h5util.h"
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
    hid_t file;
    hid_t ds[DS_COUNT];
    hid_t str_message;
};

static void silence_hdf5(void)
{
    /* We report errors ourselves, with the file and the dataset. */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/* Contiguous, allocated at creation, with a fill value: the parallel phase
 * never has to allocate anything. */
static hid_t create_ds(hid_t file, const char *name, hid_t ftype, int ndims, const hsize_t *shape,
                       const void *fill)
{
    hid_t sp = H5Screate_simple(ndims, shape, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_layout(dcpl, H5D_CONTIGUOUS);
    H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
    H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC);
    if (fill) H5Pset_fill_value(dcpl, ftype, fill);
    hid_t ds = H5Dcreate2(file, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(sp);
    return ds;
}

static hid_t ftype_of(int t, size_t strlen_)
{
    return t == T_F64 ? H5Tcopy(H5T_IEEE_F64LE) : t == T_I8 ? H5Tcopy(H5T_STD_I8LE) : ntas_h5_str_type(strlen_);
}

/* Copies the results of runs 0..n_copy-1 of file `from` (same layout, dims no
 * larger) into the freshly created `file`, one run's row at a time. */
static int copy_results(hid_t file, const char *from, int n_copy, char *err, size_t errlen)
{
    hid_t src = H5Fopen(from, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (src < 0) {
        snprintf(err, errlen, "%s: cannot open to copy its results", from);
        return -1;
    }
    int ok = 1;
    void *buf = NULL;
    for (int k = 0; ok && k < DS_COUNT; k++) {
        /* A variant's dataset the old file lacks (its runs did not need it)
         * stays NaN for the copied runs; one the new sweep lacks is unused. */
        if (H5Lexists(src, results[k].name, H5P_DEFAULT) <= 0 || H5Lexists(file, results[k].name, H5P_DEFAULT) <= 0)
            continue;
        hid_t a = H5Dopen2(src, results[k].name, H5P_DEFAULT), b = H5Dopen2(file, results[k].name, H5P_DEFAULT);
        hid_t sa = a >= 0 ? H5Dget_space(a) : -1, sb = b >= 0 ? H5Dget_space(b) : -1;
        hsize_t da[4] = {0}, db[4] = {0};
        int nd = results[k].ndims;
        ok = a >= 0 && b >= 0 && sa >= 0 && sb >= 0 && H5Sget_simple_extent_ndims(sa) == nd &&
             H5Sget_simple_extent_dims(sa, da, NULL) == nd && H5Sget_simple_extent_dims(sb, db, NULL) == nd;
        size_t row = 1;
        for (int d = 1; ok && d < nd; d++) {
            ok &= da[d] <= db[d];
            row *= (size_t)da[d];
        }
        ok &= da[0] >= (hsize_t)n_copy;
        hid_t mt = results[k].type == T_F64 ? H5Tcopy(H5T_NATIVE_DOUBLE) : results[k].type == T_I8 ? H5Tcopy(H5T_NATIVE_INT8)
                                                                                           : ntas_h5_str_type(NTAS_MESSAGE_LEN);
        size_t esize = H5Tget_size(mt);
        free(buf);
        buf = ok ? malloc(row * esize) : NULL;
        ok &= buf != NULL;
        for (int i = 0; ok && i < n_copy; i++) {
            hsize_t start[4] = {(hsize_t)i, 0, 0, 0}, count[4] = {1, 1, 1, 1};
            for (int d = 1; d < nd; d++) count[d] = da[d];
            hid_t ms = H5Screate_simple(nd, count, NULL);
            H5Sselect_hyperslab(sa, H5S_SELECT_SET, start, NULL, count, NULL);
            H5Sselect_hyperslab(sb, H5S_SELECT_SET, start, NULL, count, NULL);
            ok &= H5Dread(a, mt, ms, sa, H5P_DEFAULT, buf) >= 0;
            ok &= H5Dwrite(b, mt, ms, sb, H5P_DEFAULT, buf) >= 0;
            H5Sclose(ms);
        }
        H5Tclose(mt);
        if (sa >= 0) H5Sclose(sa);
        if (sb >= 0) H5Sclose(sb);
        if (a >= 0) H5Dclose(a);
        if (b >= 0) H5Dclose(b);
        if (!ok) snprintf(err, errlen, "%s: copying dataset '%s' failed", from, results[k].name);
    }
    free(buf);
    H5Fclose(src);
    return ok ? 0 : -1;
}

int ntas_store_create(const char *path, const ntas_spec *spec, const char *copy_from, int n_copy,
                      char *err, size_t errlen)
{
    silence_hdf5();
    const int n = spec->n_runs;
    hsize_t size[DIM_COUNT] = {(hsize_t)n, 1, 1, 1, 1, 1, 1, 1, 1};
    double interval = spec->runs[0].params.dt * (double)spec->runs[0].params.record_every;
    int uniform_time = 1;
    int present[G_LAST + 1] = {0};
    for (int i = 0; i < n; i++) {
        const ntas_params *p = &spec->runs[i].params;
        int64_t n_tasks = ntas_params_n_tasks(p);
        if (p->model == NTAS_MODEL_REDUCED || n_tasks < p->teachers) n_tasks = p->teachers;
        hsize_t want[DIM_COUNT] = {0, (hsize_t)ntas_params_n_records(p), (hsize_t)p->n_blocks,
                                   (hsize_t)p->paths, (hsize_t)n_tasks, (hsize_t)p->paths,
                                   (hsize_t)p->d_out, (hsize_t)p->d_in,
                                   p->model == NTAS_MODEL_FC ? (hsize_t)(p->paths * p->d_out) : 1};
        for (int d = 1; d < DIM_COUNT; d++)
            if (want[d] > size[d]) size[d] = want[d];
        if (p->dt * (double)p->record_every != interval) uniform_time = 0;
        for (int g = 0; g <= G_LAST; g++) present[g] |= needs(g, p);
    }
    /* Dimension scales of the dimensions some created dataset uses. */
    int used_dim[DIM_COUNT] = {0};
    used_dim[DIM_RUN] = 1;
    for (int k = 0; k < DS_COUNT; k++)
        if (present[results[k].group])
            for (int d = 0; d < results[k].ndims; d++) used_dim[results[k].dims[d]] = 1;
    double cells = 0;
    for (int k = 0; k < DS_COUNT; k++) {
        if (!present[results[k].group]) continue;
        double c = 1;
        for (int d = 0; d < results[k].ndims; d++) c *= (double)size[results[k].dims[d]];
        cells += c;
    }
    if (cells * 8 > 2e12) {
        snprintf(err, errlen, "%s: the results would need %.3g GB; raise record_every or split the sweep", path, cells * 8 / 1e9);
        return -1;
    }

    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    /* The 1.8 format stores large attributes (spec_text) densely. */
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST);
    /* Alignment and MPI-IO hints for parallel file systems (h5fapl.h). */
    if (fapl < 0 || ntas_h5_fapl_for_create(fapl, err, errlen) != 0) {
        if (fapl >= 0) H5Pclose(fapl);
        else snprintf(err, errlen, "H5Pcreate(file access) failed");
        return -1;
    }
    hid_t file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (file < 0) {
        snprintf(err, errlen, "%s: cannot create the results file (directory missing or not writable?)", tmp);
        return -1;
    }
    int ok = 1;
    char hex[17];
    ntas_hex64(spec->hash, hex);
    ok &= ntas_h5_set_str_attr(file, "ntasweep_version", NTASWEEP_VERSION) == 0;
    ok &= ntas_h5_set_i64_attr(file, "format_version", NTAS_FORMAT_VERSION) == 0;
    ok &= ntas_h5_set_str_attr(file, "spec_file", spec->path) == 0;
    ok &= ntas_h5_set_str_attr(file, "spec_name", spec->name) == 0;
    ok &= ntas_h5_set_str_attr(file, "spec_text", spec->text) == 0;
    ok &= ntas_h5_set_str_attr(file, "spec_overrides", spec->overrides) == 0;
    ok &= ntas_h5_set_str_attr(file, "spec_hash", hex) == 0;
    ok &= ntas_h5_set_i64_attr(file, "n_runs", n) == 0;

    /* Dimension scales. */
    hid_t scale[DIM_COUNT];
    for (int d = 0; d < DIM_COUNT; d++) {
        scale[d] = -1;
        if (!used_dim[d]) continue;
        int is_time = d == DIM_TIME;
        hid_t ft = is_time ? H5T_IEEE_F64LE : H5T_STD_I64LE;
        scale[d] = create_ds(file, dim_names[d], ft, 1, &size[d], NULL);
        double *v = malloc(size[d] * sizeof(double));
        int64_t *iv = (int64_t *)v;
        if (!v || scale[d] < 0) { ok = 0; free(v); continue; }
        for (hsize_t i = 0; i < size[d]; i++) {
            if (is_time) v[i] = uniform_time ? (double)i * interval : (double)i;
            else iv[i] = (int64_t)i;
        }
        ok &= H5Dwrite(scale[d], is_time ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0;
        free(v);
        ok &= H5DSset_scale(scale[d], dim_names[d]) >= 0;
        if (is_time) ok &= ntas_h5_set_str_attr(scale[d], "units", uniform_time ? "time (same units as dt, tau_w, tau_c)" : "record") == 0;
    }

    /* Parameters: one 1-D dataset per key along run, plus case and run_key. */
    double *col = malloc((size_t)n * sizeof(double));
    char *scol = malloc((size_t)n * STR_CASE);
    if (!col || !scol) ok = 0;
    for (int k = 0; ok && k < ntas_param_count + 3; k++) {
        const ntas_param_desc *d = k < ntas_param_count ? &ntas_param_table[k] : NULL;
        const char *name = d ? d->key : k == ntas_param_count ? "case" : k == ntas_param_count + 1 ? "run_key" : "record_interval";
        hid_t ft, mt;
        size_t slen = 0;
        if (d && d->type == NTAS_PT_CHOICE) {
            for (int c = 0; d->choices[c]; c++) if (strlen(d->choices[c]) + 1 > slen) slen = strlen(d->choices[c]) + 1;
        } else if (!d && k == ntas_param_count) slen = STR_CASE;
        else if (!d && k == ntas_param_count + 1) slen = STR_KEY;
        if (slen) { ft = ntas_h5_str_type(slen); mt = H5Tcopy(ft); }
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
        hsize_t nn = (hsize_t)n;
        hid_t ds = create_ds(file, name, ft, 1, &nn, NULL);
        ok &= ds >= 0 && H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, slen ? (void *)scol : (void *)col) >= 0;
        if (ds >= 0) {
            ok &= H5DSattach_scale(ds, scale[DIM_RUN], 0) >= 0;
            if (d) ok &= ntas_h5_set_str_attr(ds, "description", d->meaning) == 0;
            if (d && d->unit[0]) ok &= ntas_h5_set_str_attr(ds, "units", d->unit) == 0;
            H5Dclose(ds);
        }
        H5Tclose(ft);
        H5Tclose(mt);
    }
    free(col);
    free(scol);

    /* Results, NaN-filled (status 0 = pending, message empty). */
    const double nan = NAN;
    const int8_t zero = 0;
    char empty[NTAS_MESSAGE_LEN] = "";
    for (int k = 0; ok && k < DS_COUNT; k++) {
        if (!present[results[k].group]) continue;
        hsize_t shape[4];
        for (int d = 0; d < results[k].ndims; d++) shape[d] = size[results[k].dims[d]];
        hid_t ft = ftype_of(results[k].type, NTAS_MESSAGE_LEN);
        const void *fill = results[k].type == T_F64 ? (const void *)&nan : results[k].type == T_I8 ? (const void *)&zero : (const void *)empty;
        hid_t ds = create_ds(file, results[k].name, ft, results[k].ndims, shape, fill);
        H5Tclose(ft);
        if (ds < 0) { ok = 0; break; }
        for (int d = 0; d < results[k].ndims; d++)
            ok &= H5DSattach_scale(ds, scale[results[k].dims[d]], (unsigned)d) >= 0;
        ok &= ntas_h5_set_str_attr(ds, "description", results[k].description) == 0;
        H5Dclose(ds);
    }
    for (int d = 0; d < DIM_COUNT; d++) if (scale[d] >= 0) H5Dclose(scale[d]);
    char cerr[1024] = "";
    int copied = !ok || !copy_from || copy_results(file, copy_from, n_copy, cerr, sizeof cerr) == 0;
    /* The pretrained CNNs of the cnn runs (pretrain.h), copied when extending. */
    ntas_pretrain_setting *pre = NULL;
    int n_pre = 0;
    if (ok && copied && (ntas_pretrain_plan(spec, &pre, &n_pre, cerr, sizeof cerr) != 0 ||
                         ntas_pretrain_create_groups(file, pre, n_pre, copy_from, cerr, sizeof cerr) != 0))
        copied = 0;
    free(pre);
    if (H5Fclose(file) < 0) ok = 0;
    if (!ok || !copied) {
        remove(tmp);
        if (!copied) snprintf(err, errlen, "%s (the existing file was not modified)", cerr);
        else snprintf(err, errlen, "%s: writing the results file layout failed (disk full?)", tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        remove(tmp);
        snprintf(err, errlen, "%s: cannot rename %s into place", path, tmp);
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
    silence_hdf5();
    const ntas_param_desc *d = &ntas_param_table[k];
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = file >= 0 ? H5Dopen2(file, d->key, H5P_DEFAULT) : -1;
    hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
    int rc = -1;
    void *col = NULL;
    if (sp < 0 || H5Sget_simple_extent_npoints(sp) != n) {
        snprintf(err, errlen, "%s: no dataset '%s' of %d runs", path, d->key, n);
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
        snprintf(err, errlen, "%s: cannot read '%s'", path, d->key);
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
    silence_hdf5();
    memset(info, 0, sizeof *info);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        snprintf(err, errlen, "%s: exists but is not a readable HDF5 file; move it away or choose another -o", path);
        return -1;
    }
    int rc = -1;
    hid_t keys = H5Dopen2(file, "run_key", H5P_DEFAULT), st = H5Dopen2(file, "status", H5P_DEFAULT);
    char *buf = NULL;
    if (keys < 0 || st < 0 || read_str_attr(file, "spec_hash", info->spec_hash, sizeof info->spec_hash) != 0) {
        snprintf(err, errlen, "%s: not an ntasweep results file (no run_key, status or spec_hash)", path);
        goto out;
    }
    read_str_attr(file, "ntasweep_version", info->version, sizeof info->version);
    read_str_attr(file, "spec_name", info->spec_name, sizeof info->spec_name);
    read_str_attr(file, "spec_file", info->spec_file, sizeof info->spec_file);
    hid_t fv = H5Aopen(file, "format_version", H5P_DEFAULT);
    if (fv < 0 || H5Aread(fv, H5T_NATIVE_INT64, &info->format_version) < 0) info->format_version = -1;
    if (fv >= 0) H5Aclose(fv);
    if (info->format_version != NTAS_FORMAT_VERSION) {
        snprintf(err, errlen,
                 "%s has results format %lld (ntasweep %s); this ntasweep writes format %d: extend or "
                 "resume it with the ntasweep that wrote it, or start a new results file", path,
                 (long long)info->format_version, info->version, NTAS_FORMAT_VERSION);
        goto out;
    }
    hid_t sp = H5Dget_space(keys);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    if (n < 0 || n > 100000000) {
        snprintf(err, errlen, "%s: bad run count", path);
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
        snprintf(err, errlen, "out of memory reading %s", path);
        goto out;
    }
    if (read_str_column(file, "run_key", info->n_runs, STR_KEY, buf) != 0 ||
        H5Dread(st, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, info->status) < 0 ||
        read_str_column(file, "message", info->n_runs, NTAS_MESSAGE_LEN, info->messages) != 0 ||
        read_str_column(file, "case", info->n_runs, STR_CASE, info->case_names) != 0) {
        snprintf(err, errlen, "%s: cannot read run_key, status, message or case", path);
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

int ntas_store_open(ntas_store **out, const char *path, MPI_Comm comm, char *err, size_t errlen)
{
    silence_hdf5();
    ntas_store *st = calloc(1, sizeof *st);
    if (!st) { snprintf(err, errlen, "out of memory"); return -1; }
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    /* MPI-IO with the user's hints, collective metadata (h5fapl.h). */
    char why[512] = "H5Pcreate(file access) failed";
    int fapl_ok = fapl >= 0 && ntas_h5_fapl_for_parallel_open(fapl, comm, why, sizeof why) == 0, all_fapl_ok = 0;
    MPI_Allreduce(&fapl_ok, &all_fapl_ok, 1, MPI_INT, MPI_MIN, comm);
    if (!all_fapl_ok) {
        snprintf(err, errlen, "%s: %s", path, fapl_ok ? "the file access settings failed on another rank" : why);
        if (fapl >= 0) H5Pclose(fapl);
        free(st);
        return -1;
    }
    st->file = H5Fopen(path, H5F_ACC_RDWR, fapl);
    H5Pclose(fapl);
    int ok = st->file >= 0;
    /* Every rank opens every dataset, in the same order (collective-safe). */
    for (int k = 0; k < DS_COUNT; k++) {
        int optional = results[k].group != G_ALL;
        if (optional && (!ok || H5Lexists(st->file, results[k].name, H5P_DEFAULT) <= 0)) {
            st->ds[k] = -1;   /* no run of this sweep needs it */
            continue;
        }
        st->ds[k] = ok ? H5Dopen2(st->file, results[k].name, H5P_DEFAULT) : -1;
        ok &= st->ds[k] >= 0;
    }
    st->str_message = ntas_h5_str_type(NTAS_MESSAGE_LEN);
    int all_ok = 0;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm);
    if (!all_ok) {
        snprintf(err, errlen, "%s: cannot open the results file for parallel writing", path);
        char ignore[64];
        ntas_store_close(st, ignore, sizeof ignore);
        return -1;
    }
    *out = st;
    return 0;
}

/* Writes a [1, counts...] slab at run `index` from contiguous memory. */
static int write_slab(ntas_store *st, int k, int index, const void *data, const hsize_t *counts)
{
    int nd = results[k].ndims;
    hsize_t start[4] = {(hsize_t)index, 0, 0, 0}, count[4] = {1, 1, 1, 1};
    for (int d = 1; d < nd; d++) count[d] = counts[d - 1];
    hid_t fsp = H5Dget_space(st->ds[k]);
    H5Sselect_hyperslab(fsp, H5S_SELECT_SET, start, NULL, count, NULL);
    hid_t msp = H5Screate_simple(nd, count, NULL);
    hid_t mt = results[k].type == T_F64 ? H5T_NATIVE_DOUBLE : results[k].type == T_I8 ? H5T_NATIVE_INT8 : st->str_message;
    herr_t rc = H5Dwrite(st->ds[k], mt, msp, fsp, H5P_DEFAULT, data);
    H5Sclose(msp);
    H5Sclose(fsp);
    return rc < 0 ? -1 : 0;
}

int ntas_store_write_run(ntas_store *st, int index, const ntas_run_result *r, char *err, size_t errlen)
{
    hsize_t nr = (hsize_t)r->n_records, P = (hsize_t)r->P, M = (hsize_t)r->M;
    hsize_t dO = (hsize_t)r->d_out, dI = (hsize_t)r->d_in, nb = (hsize_t)r->n_blocks;
    int ok = 1;
    ok &= write_slab(st, DS_LOSS, index, r->loss, (hsize_t[]){nr}) == 0;
    ok &= write_slab(st, DS_GATES, index, r->gates, (hsize_t[]){nr, P}) == 0;
    ok &= write_slab(st, DS_COS_SIM, index, r->cos_sim, (hsize_t[]){nr, M, P}) == 0;
    ok &= write_slab(st, DS_UPDATE_W, index, r->update_norm_w, (hsize_t[]){nr, P}) == 0;
    ok &= write_slab(st, DS_UPDATE_C, index, r->update_norm_c, (hsize_t[]){nr}) == 0;
    ok &= write_slab(st, DS_TTT, index, r->time_to_threshold, (hsize_t[]){nb}) == 0;
    ok &= write_slab(st, DS_SPECIALIZATION, index, &r->specialization, NULL) == 0;
    ok &= write_slab(st, DS_TOTAL_ALIGNMENT, index, &r->total_alignment, NULL) == 0;
    ok &= write_slab(st, DS_TEACHERS, index, r->teachers, (hsize_t[]){(hsize_t)r->n_tasks, dO, dI}) == 0;
    ok &= write_slab(st, DS_STUDENTS, index, r->students, (hsize_t[]){P, dO, dI}) == 0;
    ok &= write_slab(st, DS_GATES_FINAL, index, r->gates_final, (hsize_t[]){P}) == 0;
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
    for (size_t v = 0; ok && v < sizeof variant / sizeof variant[0]; v++) {
        int k = variant[v].k;
        if (!needs_result(results[k].group, r)) continue;
        if (st->ds[k] < 0 || !variant[v].a) {
            snprintf(err, errlen, "run %d needs dataset '%s', which the results file lacks", index, results[k].name);
            return -1;
        }
        ok &= write_slab(st, k, index, variant[v].a, variant[v].c) == 0;
    }
    char msg[NTAS_MESSAGE_LEN] = {0};
    snprintf(msg, sizeof msg, "%s", r->message);
    ok &= write_slab(st, DS_MESSAGE, index, msg, NULL) == 0;
    /* The status flag goes last: a run marked done always has its data. */
    int8_t status = (int8_t)r->status;
    if (ok) ok &= write_slab(st, DS_STATUS, index, &status, NULL) == 0;
    if (!ok) {
        snprintf(err, errlen, "writing the results of run %d failed", index);
        return -1;
    }
    return 0;
}

int64_t ntas_store_hdf5_file(const ntas_store *st)
{
    return st->file;
}

int ntas_store_flush(ntas_store *st, char *err, size_t errlen)
{
    if (H5Fflush(st->file, H5F_SCOPE_GLOBAL) < 0) {
        snprintf(err, errlen, "flushing the results file failed");
        return -1;
    }
    return 0;
}

int ntas_store_close(ntas_store *st, char *err, size_t errlen)
{
    int ok = 1;
    for (int k = 0; k < DS_COUNT; k++)
        if (st->ds[k] >= 0) ok &= H5Dclose(st->ds[k]) >= 0;
    if (st->str_message >= 0) H5Tclose(st->str_message);
    if (st->file >= 0) ok &= H5Fclose(st->file) >= 0;
    free(st);
    if (!ok) snprintf(err, errlen, "closing the results file failed");
    return ok ? 0 : -1;
}
