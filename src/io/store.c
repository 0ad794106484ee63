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

#include "ntasweep/tasks/curriculum.h"
#include "ntasweep/core/err.h"
#include "ntasweep/io/h5fapl.h"
#include "ntasweep/io/h5util.h"
#include "ntasweep/io/mpi_util.h"
#include "ntasweep/io/pretrain.h"
#include "ntasweep/train/model_registry.h"

enum { DIM_RUN = NTAS_DIM_RUN, DIM_TIME = NTAS_DIM_TIME, DIM_COUNT = NTAS_DIM_COUNT };

enum { T_F64, T_I8, T_STR };

/* The datasets of the results: status and message, then every row of
 * NTAS_RESULTS (results.h) in table order. */
enum { DS_STATUS, DS_MESSAGE, DS_FIRST_RESULT, DS_COUNT = DS_FIRST_RESULT + NTAS_R_COUNT };

typedef struct {
    const char *name;
    int type;
    int ndims;          /* with the run dimension */
    int dims[5];        /* ntas_result_dim */
    int axes[4];        /* ntas_result_axis of dims[1..] */
    const char *description;
    int group;          /* ntas_result_group */
} ds_desc;

static ds_desc desc_of(int k)
{
    if (k == DS_STATUS)
        return (ds_desc){"status", T_I8, 1, {DIM_RUN}, {0}, "0 pending, 1 done, 2 failed; written after the run's data",
                         NTAS_RG_ALL};
    if (k == DS_MESSAGE)
        return (ds_desc){"message", T_STR, 1, {DIM_RUN}, {0}, "why a run failed (empty otherwise)", NTAS_RG_ALL};
    const ntas_result_desc *r = &ntas_results[k - DS_FIRST_RESULT];
    ds_desc d = {r->dataset, T_F64, 1 + r->rank, {DIM_RUN}, {0}, r->description, r->group};
    for (int a = 0; a < r->rank; a++) {
        d.axes[a] = r->axes[a];
        d.dims[a + 1] = ntas_result_axis_dim(r->axes[a]);
    }
    return d;
}

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
 * never has to allocate anything. */
static hid_t create_ds(hid_t file, const char *name, hid_t ftype, int ndims, const hsize_t *shape,
                       const void *fill)
{
    hid_t sp = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, ds = H5I_INVALID_HID;
    if ((sp = H5Screate_simple(ndims, shape, NULL)) >= 0 && (dcpl = H5Pcreate(H5P_DATASET_CREATE)) >= 0 &&
        H5Pset_layout(dcpl, H5D_CONTIGUOUS) >= 0 && H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) >= 0 &&
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC) >= 0 && (!fill || H5Pset_fill_value(dcpl, ftype, fill) >= 0))
        ds = H5Dcreate2(file, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    /* The closes below must not clear the stack that says why. */
    hid_t stack = ds < 0 ? H5Eget_current_stack() : H5I_INVALID_HID;
    ntas_h5_close(&dcpl);
    ntas_h5_close(&sp);
    if (stack >= 0) H5Eset_current_stack(stack);
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
        ntas_set_err(err, errlen, "%s: cannot open to copy its results", from);
        return -1;
    }
    int ok = 1;
    void *buf = NULL;
    for (int k = 0; ok && k < DS_COUNT; k++) {
        const ds_desc dk = desc_of(k);
        /* A variant's dataset the old file lacks (its runs did not need it)
         * stays NaN for the copied runs; one the new sweep lacks is unused. */
        if (H5Lexists(src, dk.name, H5P_DEFAULT) <= 0 || H5Lexists(file, dk.name, H5P_DEFAULT) <= 0)
            continue;
        hid_t a = H5Dopen2(src, dk.name, H5P_DEFAULT), b = H5Dopen2(file, dk.name, H5P_DEFAULT);
        hid_t sa = a >= 0 ? H5Dget_space(a) : -1, sb = b >= 0 ? H5Dget_space(b) : -1;
        hsize_t da[5] = {0}, db[5] = {0};
        int nd = dk.ndims;
        ok = a >= 0 && b >= 0 && sa >= 0 && sb >= 0 && H5Sget_simple_extent_ndims(sa) == nd &&
             H5Sget_simple_extent_dims(sa, da, NULL) == nd && H5Sget_simple_extent_dims(sb, db, NULL) == nd;
        size_t row = 1;
        for (int d = 1; ok && d < nd; d++) {
            ok &= da[d] <= db[d];
            row *= (size_t)da[d];
        }
        ok &= da[0] >= (hsize_t)n_copy;
        hid_t mt = dk.type == T_F64 ? H5Tcopy(H5T_NATIVE_DOUBLE) : dk.type == T_I8 ? H5Tcopy(H5T_NATIVE_INT8)
                                                                                           : ntas_h5_str_type(NTAS_MESSAGE_LEN);
        size_t esize = H5Tget_size(mt);
        free(buf);
        buf = ok ? malloc(row * esize) : NULL;
        ok &= buf != NULL;
        for (int i = 0; ok && i < n_copy; i++) {
            hsize_t start[5] = {(hsize_t)i, 0, 0, 0, 0}, count[5] = {1, 1, 1, 1, 1};
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
        if (!ok) ntas_set_err(err, errlen, "%s: copying dataset '%s' failed", from, dk.name);
    }
    free(buf);
    H5Fclose(src);
    return ok ? 0 : -1;
}

/* --- the run's parameters as coordinates along run ---------------------------
 * One 1-D dataset per parameter key, then case, run_key, record_interval and
 * every [vars] variable. tag_for_xarray names them all in the CF attribute
 * `coordinates` of every other dataset, so xarray (h5netcdf) shows them as
 * coordinates along run (ds.sel, ds.where, groupby work on them), and gives
 * fixed-length strings `_Encoding = "utf-8"`, so they decode to str. h5py sees
 * the same plain datasets as before. */

enum { COORD_CASE, COORD_RUN_KEY, COORD_RECORD_INTERVAL, COORD_EXTRA };

/* Name of coordinate k: parameter keys, then the extras, then the variables. */
static const char *coord_name(const ntas_spec *spec, int k)
{
    if (k < ntas_param_count) return ntas_param_table[k].key;
    k -= ntas_param_count;
    if (k == COORD_CASE) return "case";
    if (k == COORD_RUN_KEY) return "run_key";
    if (k == COORD_RECORD_INTERVAL) return "record_interval";
    return spec->var_names[k - COORD_EXTRA];
}

static int coord_count(const ntas_spec *spec) { return ntas_param_count + COORD_EXTRA + spec->n_vars; }

/* String width of coordinate k (0: numeric). */
static size_t coord_strlen(int k)
{
    if (k == ntas_param_count + COORD_CASE) return STR_CASE;
    if (k == ntas_param_count + COORD_RUN_KEY) return STR_KEY;
    if (k >= ntas_param_count) return 0;
    const ntas_param_desc *d = &ntas_param_table[k];
    size_t len = 0;
    if (d->type == NTAS_PT_CHOICE)
        for (int c = 0; d->choices[c]; c++)
            if (strlen(d->choices[c]) + 1 > len) len = strlen(d->choices[c]) + 1;
    return len;
}

/* Fills column (n doubles, int64s or strings of slen bytes) with coordinate k of every run. */
static void coord_column(const ntas_spec *spec, int k, size_t slen, void *column)
{
    const ntas_param_desc *d = k < ntas_param_count ? &ntas_param_table[k] : NULL;
    for (int i = 0; i < spec->n_runs; i++) {
        const ntas_run *run = &spec->runs[i];
        const ntas_params *p = &run->params;
        if (slen) {
            char *dst = (char *)column + (size_t)i * slen;
            if (d) snprintf(dst, slen, "%s", ntas_param_get_choice(d, p));
            else if (k == ntas_param_count + COORD_CASE) snprintf(dst, slen, "%s", run->case_name);
            else ntas_hex64(run->key, dst);
        } else if (d && d->type == NTAS_PT_INT) {
            ((int64_t *)column)[i] = ntas_param_get_int(d, p);
        } else {
            double *col = column;
            if (d) col[i] = ntas_param_get_real(d, p);
            else if (k == ntas_param_count + COORD_RECORD_INTERVAL) col[i] = p->dt * (double)p->record_every;
            else col[i] = run->vars[k - ntas_param_count - COORD_EXTRA];
        }
    }
}

static int write_run_coords(hid_t file, const ntas_spec *spec, hid_t run_scale)
{
    const int n = spec->n_runs;
    hsize_t nn = (hsize_t)n;
    void *column = malloc((size_t)(n > 0 ? n : 1) * (STR_CASE > 8 ? STR_CASE : 8));
    int ok = column != NULL;
    for (int k = 0; ok && k < coord_count(spec); k++) {
        const ntas_param_desc *d = k < ntas_param_count ? &ntas_param_table[k] : NULL;
        size_t slen = coord_strlen(k);
        int is_int = !slen && d && d->type == NTAS_PT_INT;
        hid_t ft = slen ? ntas_h5_str_type(slen) : H5Tcopy(is_int ? H5T_STD_I64LE : H5T_IEEE_F64LE);
        hid_t mt = slen ? H5Tcopy(ft) : H5Tcopy(is_int ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE);
        coord_column(spec, k, slen, column);
        hid_t ds = ft >= 0 && mt >= 0 ? create_ds(file, coord_name(spec, k), ft, 1, &nn, NULL) : -1;
        ok = ds >= 0 && H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, column) >= 0 &&
             H5DSattach_scale(ds, run_scale, 0) >= 0;
        if (ok && d) ok = ntas_h5_set_str_attr(ds, "description", d->meaning) == 0;
        if (ok && d && d->unit[0]) ok = ntas_h5_set_str_attr(ds, "units", d->unit) == 0;
        if (ok && k >= ntas_param_count + COORD_EXTRA) ok = ntas_h5_set_str_attr(ds, "description", "a [vars] variable of the sweep file") == 0;
        if (ds >= 0) H5Dclose(ds);
        if (ft >= 0) H5Tclose(ft);
        if (mt >= 0) H5Tclose(mt);
    }
    free(column);
    return ok ? 0 : -1;
}

typedef struct {
    const ntas_spec *spec;
    const char *coordinates;
    int ok;
} tag_ctx;

static int is_coord(const ntas_spec *spec, const char *name)
{
    for (int k = 0; k < coord_count(spec); k++)
        if (!strcmp(coord_name(spec, k), name)) return 1;
    return 0;
}

static herr_t tag_one(hid_t root, const char *name, const H5L_info_t *info, void *data)
{
    (void)info;
    tag_ctx *t = data;
    hid_t obj = H5Oopen(root, name, H5P_DEFAULT);
    if (obj < 0) { t->ok = 0; return -1; }
    if (H5Iget_type(obj) == H5I_DATASET) {
        hid_t type = H5Dget_type(obj);
        if (type < 0) t->ok = 0;
        else if (H5Tget_class(type) == H5T_STRING && H5Aexists(obj, "_Encoding") == 0)
            t->ok &= ntas_h5_set_str_attr(obj, "_Encoding", "utf-8") == 0;
        if (type >= 0) H5Tclose(type);
        htri_t scale = H5DSis_scale(obj);
        if (scale < 0) t->ok = 0;
        else if (!scale && !is_coord(t->spec, name))
            t->ok &= ntas_h5_set_str_attr(obj, "coordinates", t->coordinates) == 0;
    }
    H5Oclose(obj);
    return t->ok ? 0 : -1;
}

static int tag_for_xarray(hid_t file, const ntas_spec *spec)
{
    size_t len = 1;
    for (int k = 0; k < coord_count(spec); k++) len += strlen(coord_name(spec, k)) + 1;
    char *coordinates = malloc(len);
    if (!coordinates) return -1;
    coordinates[0] = '\0';
    for (int k = 0; k < coord_count(spec); k++) {
        if (k) strcat(coordinates, " ");
        strcat(coordinates, coord_name(spec, k));
    }
    tag_ctx t = {spec, coordinates, 1};
    herr_t rc = H5Literate(file, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, tag_one, &t);
    free(coordinates);
    return rc < 0 || !t.ok ? -1 : 0;
}

int ntas_store_check_names(const ntas_spec *spec, char *err, size_t errlen)
{
    for (int v = 0; v < spec->n_vars; v++) {
        const char *name = spec->var_names[v];
        int clash = !strcmp(name, "case") || !strcmp(name, "run_key") || !strcmp(name, "record_interval");
        for (int d = 0; d < DIM_COUNT; d++) clash |= !strcmp(name, ntas_result_dim_name(d));
        for (int k = 0; k < DS_COUNT; k++) clash |= !strcmp(name, desc_of(k).name);
        clash |= !strcmp(name, "pretrained");
        if (clash) {
            ntas_set_err(err, errlen, "%s: [vars] variable '%s' has the name of a dataset of the results file; rename it",
                     spec->path, name);
            return -1;
        }
    }
    return 0;
}

/* Closes a file whose creation failed and removes it, leaving no HDF5 id
 * behind: an id that outlived a failed H5Fclose would be closed again by
 * HDF5's MPI_Finalize hook and crash there (SIGSEGV in H5F__close_cb). On a
 * full disk H5Fclose fails to flush the metadata it still holds, so first
 * every object is closed and the file truncated to nothing: that frees its
 * preallocated data, and the few metadata blocks then fit. */
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

/* The file's extents, fixed at create: each dimension as large as the
 * largest extent along it of any run; which groups and dimensions appear. */
typedef struct {
    hsize_t size[DIM_COUNT];
    int used_dim[DIM_COUNT];   /* a dimension scale is made for it */
    unsigned present;          /* NTAS_RG_BIT of every group some run records */
    double interval;           /* time between records, when uniform */
    int uniform_time;
    double cells;              /* of every dataset together */
} file_shape;

static void shape_of(const ntas_spec *spec, file_shape *fs)
{
    memset(fs, 0, sizeof *fs);
    hsize_t *size = fs->size;
    int *used_dim = fs->used_dim;
    const int n = spec->n_runs;
    /* Each file dimension as large as the largest extent along it of any run. */
    size[DIM_RUN] = (hsize_t)n;
    for (int d = 1; d < DIM_COUNT; d++) size[d] = 1;
    fs->interval = spec->runs[0].params.dt * (double)spec->runs[0].params.record_every;
    fs->uniform_time = 1;
    for (int i = 0; i < n; i++) {
        const ntas_params *p = &spec->runs[i].params;
        int64_t ext[NTAS_EXT_COUNT];
        ntas_result_extents(p, ext);   /* invalid teacher options: validate refused them already */
        for (int ax = 1; ax < NTAS_AX_COUNT; ax++) {
            hsize_t want = (hsize_t)ext[ntas_result_axis_extent(ax)];
            int d = ntas_result_axis_dim(ax);
            if (want > size[d]) size[d] = want;
        }
        if (p->dt * (double)p->record_every != fs->interval) fs->uniform_time = 0;
        fs->present |= ntas_result_groups(p);
    }
    /* Dimension scales of the dimensions some created dataset uses. */
    used_dim[DIM_RUN] = 1;
    for (int k = 0; k < DS_COUNT; k++) {
        const ds_desc dk = desc_of(k);
        if (!(fs->present & NTAS_RG_BIT(dk.group))) continue;
        double c = 1;
        for (int d = 0; d < dk.ndims; d++) {
            used_dim[dk.dims[d]] = 1;
            c *= (double)size[dk.dims[d]];
        }
        fs->cells += c;
    }
}

/* Stops a layout step list at its first failure (ok = 0), keeping why in herr. */
#define LAYOUT_STEP(expr, ...) \
    do { if (ok && !(expr)) { ok = 0; ntas_h5_fail(herr, herrlen, __VA_ARGS__); } } while (0)

/* The file's attributes: which sweep, version, format. 1, or 0 with herr. */
static int write_file_attrs(hid_t file, const ntas_spec *spec, char *herr, size_t herrlen)
{
    int ok = 1;
    const int n = spec->n_runs;
    char hex[17];
    ntas_hex64(spec->hash, hex);
    LAYOUT_STEP(ntas_h5_set_str_attr(file, "ntasweep_version", NTASWEEP_VERSION) == 0, "writing attribute ntasweep_version");
    LAYOUT_STEP(ntas_h5_set_i64_attr(file, "format_version", NTAS_FORMAT_VERSION) == 0, "writing attribute format_version");
    LAYOUT_STEP(ntas_h5_set_str_attr(file, "spec_file", spec->path) == 0, "writing attribute spec_file");
    LAYOUT_STEP(ntas_h5_set_str_attr(file, "spec_name", spec->name) == 0, "writing attribute spec_name");
    LAYOUT_STEP(ntas_h5_set_str_attr(file, "spec_text", spec->text) == 0, "writing attribute spec_text");
    LAYOUT_STEP(ntas_h5_set_str_attr(file, "spec_overrides", spec->overrides) == 0, "writing attribute spec_overrides");
    LAYOUT_STEP(ntas_h5_set_str_attr(file, "spec_hash", hex) == 0, "writing attribute spec_hash");
    LAYOUT_STEP(ntas_h5_set_i64_attr(file, "n_runs", n) == 0, "writing attribute n_runs");

    return ok;
}

/* A 1-D dimension scale per used dimension, into scale[] (-1 for the
 * others; the caller closes them). 1, or 0 with herr. */
static int create_scales(hid_t file, const file_shape *fs, hid_t scale[DIM_COUNT], char *herr, size_t herrlen)
{
    int ok = 1;
    const hsize_t *size = fs->size;
    const int *used_dim = fs->used_dim;
    const int uniform_time = fs->uniform_time;
    const double interval = fs->interval;
    for (int d = 0; d < DIM_COUNT; d++) {
        scale[d] = -1;
        if (!used_dim[d]) continue;
        int is_time = d == DIM_TIME;
        hid_t ft = is_time ? H5T_IEEE_F64LE : H5T_STD_I64LE;
        if (!ok) continue;
        scale[d] = create_ds(file, ntas_result_dim_name(d), ft, 1, &size[d], NULL);
        LAYOUT_STEP(scale[d] >= 0, "creating dimension scale %s", ntas_result_dim_name(d));
        double *v = ok ? malloc(size[d] * sizeof(double)) : NULL;
        int64_t *iv = (int64_t *)v;
        if (!v) { if (ok) ntas_set_err(herr, herrlen, "out of memory"); ok = 0; continue; }
        for (hsize_t i = 0; i < size[d]; i++) {
            if (is_time) v[i] = uniform_time ? (double)i * interval : (double)i;
            else iv[i] = (int64_t)i;
        }
        LAYOUT_STEP(H5Dwrite(scale[d], is_time ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0,
                    "writing dimension scale %s", ntas_result_dim_name(d));
        free(v);
        LAYOUT_STEP(H5DSset_scale(scale[d], ntas_result_dim_name(d)) >= 0, "making %s a dimension scale", ntas_result_dim_name(d));
        if (is_time)
            LAYOUT_STEP(ntas_h5_set_str_attr(scale[d], "units", uniform_time ? "time (same units as dt, tau_w, tau_c)" : "record") == 0,
                        "writing the units of %s", ntas_result_dim_name(d));
    }

    return ok;
}

/* Every result dataset some run records, NaN-filled (status 0 = pending,
 * message empty), with its scales attached. 1, or 0 with herr. */
static int create_result_datasets(hid_t file, const file_shape *fs, const hid_t scale[DIM_COUNT], char *herr,
                                  size_t herrlen)
{
    int ok = 1;
    const hsize_t *size = fs->size;
    const unsigned present = fs->present;
    const double nan = NAN;
    const int8_t zero = 0;
    char empty[NTAS_MESSAGE_LEN] = "";
    for (int k = 0; ok && k < DS_COUNT; k++) {
        const ds_desc dk = desc_of(k);
        if (!(present & NTAS_RG_BIT(dk.group))) continue;
        hsize_t shape[5];
        for (int d = 0; d < dk.ndims; d++) shape[d] = size[dk.dims[d]];
        hid_t ft = ftype_of(dk.type, NTAS_MESSAGE_LEN), ds = H5I_INVALID_HID;
        LAYOUT_STEP(ft >= 0, "the type of dataset %s", dk.name);
        const void *fill = dk.type == T_F64 ? (const void *)&nan : dk.type == T_I8 ? (const void *)&zero : (const void *)empty;
        if (ok) ds = create_ds(file, dk.name, ft, dk.ndims, shape, fill);
        LAYOUT_STEP(ds >= 0, "creating dataset %s", dk.name);
        ntas_h5_close(&ft);
        for (int d = 0; ok && d < dk.ndims; d++)
            LAYOUT_STEP(H5DSattach_scale(ds, scale[dk.dims[d]], (unsigned)d) >= 0, "attaching scale %d of dataset %s", d, dk.name);
        LAYOUT_STEP(ntas_h5_set_str_attr(ds, "description", dk.description) == 0, "describing dataset %s", dk.name);
        if (ds >= 0) LAYOUT_STEP(H5Dclose(ds) >= 0, "closing dataset %s", dk.name);
    }
    return ok;
}

/* The whole layout of a new file. 1, or 0 with herr. */
static int write_layout(hid_t file, const ntas_spec *spec, const file_shape *fs, char *herr, size_t herrlen)
{
    int ok = write_file_attrs(file, spec, herr, herrlen);
    hid_t scale[DIM_COUNT];
    for (int d = 0; d < DIM_COUNT; d++) scale[d] = H5I_INVALID_HID;
    ok = ok && create_scales(file, fs, scale, herr, herrlen);
    LAYOUT_STEP(write_run_coords(file, spec, scale[DIM_RUN]) == 0, "writing the run coordinates");
    ok = ok && create_result_datasets(file, fs, scale, herr, herrlen);
    for (int d = 0; d < DIM_COUNT; d++)
        if (scale[d] >= 0) LAYOUT_STEP(ntas_h5_close(&scale[d]) == 0, "closing dimension scale %s", ntas_result_dim_name(d));
    LAYOUT_STEP(tag_for_xarray(file, spec) == 0, "tagging the coordinates for xarray");
    return ok;
}
#undef LAYOUT_STEP

/* OUT.tmp, created with the access settings of the results file. The file
 * id, or H5I_INVALID_HID with err. */
static hid_t create_tmp(const char *tmp, char *err, size_t errlen)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), file = H5I_INVALID_HID;
    /* The 1.8 format stores large attributes (spec_text) densely. */
    if (fapl < 0 || H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) < 0) {
        ntas_h5_fail(err, errlen, "%s: the file access settings", tmp);
    } else if (ntas_h5_fapl_for_create(fapl, err, errlen) != 0) {
        /* alignment and MPI-IO hints for parallel file systems (h5fapl.h): err filled */
    } else if ((errno = 0, file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl)) < 0) {
        ntas_h5_fail_io(err, errlen, errno, tmp, "%s: cannot create the results file", tmp);
    }
    ntas_h5_close(&fapl);
    return file;
}

/* Copies an extended file's results and creates the pretrained groups. 1,
 * or 0 with err. */
static int fill_from_old(hid_t file, const ntas_spec *spec, const char *copy_from, int n_copy, char *err, size_t errlen)
{
    if (copy_from && copy_results(file, copy_from, n_copy, err, errlen) != 0) return 0;
    /* The pretrained CNNs of the cnn runs (pretrain.h), copied when extending. */
    ntas_pretrain_setting *pre = NULL;
    int n_pre = 0;
    int ok = ntas_pretrain_plan(spec, &pre, &n_pre, err, errlen) == 0 &&
             ntas_pretrain_create_groups(file, pre, n_pre, copy_from, err, errlen) == 0;
    free(pre);
    return ok;
}

int ntas_store_create(const char *path, const ntas_spec *spec, const char *copy_from, int n_copy,
                      char *err, size_t errlen)
{
    ntas_h5_quiet();
    file_shape fs;
    shape_of(spec, &fs);
    if (fs.cells * 8 > 2e12) {
        ntas_set_err(err, errlen, "%s: the results would need %.3g GB; raise record_every or split the sweep", path, fs.cells * 8 / 1e9);
        return -1;
    }
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        ntas_set_err(err, errlen, "%s: path too long", path);
        return -1;
    }
    hid_t file = create_tmp(tmp, err, errlen);
    if (file < 0) return -1;
    char herr[1024] = "", cerr[1024] = "";   /* the first layout failure, with HDF5's words; a copy's */
    int ok = write_layout(file, spec, &fs, herr, sizeof herr);
    int copied = !ok || fill_from_old(file, spec, copy_from, n_copy, cerr, sizeof cerr);
    /* Flushed first, so the close has nothing left to write: a close that
     * fails leaves an id behind (see discard_created). */
    errno = 0;
    if (ok && copied && H5Fflush(file, H5F_SCOPE_LOCAL) < 0) {
        ok = 0;
        ntas_h5_fail_io(herr, sizeof herr, errno, tmp, "flushing");
    }
    if (!ok || !copied) {
        discard_created(&file, tmp);
        if (!copied) ntas_set_err(err, errlen, "%s (the existing file was not modified)", cerr);
        else ntas_set_err(err, errlen, "%s: writing the results file layout failed: %s%s", tmp, herr,
                          copy_from ? " (the existing file was not modified)" : "");
        return -1;
    }
    errno = 0;
    if (H5Fclose(file) < 0) {
        ntas_h5_fail_io(herr, sizeof herr, errno, tmp, "closing");
        remove(tmp);
        ntas_set_err(err, errlen, "%s: writing the results file failed at its close: %s", tmp, herr);
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

int ntas_store_check_results(const char *path, char *err, size_t errlen)
{
    ntas_h5_quiet();
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        ntas_set_err(err, errlen, "%s: exists but is not a readable HDF5 file; move it away or choose another -o", path);
        return -1;
    }
    int rc = 0;
    for (int id = 0; rc == 0 && id < NTAS_R_COUNT; id++) {
        const ntas_result_desc *d = &ntas_results[id];
        if (d->group != NTAS_RG_ALL || H5Lexists(file, d->dataset, H5P_DEFAULT) > 0) continue;
        ntas_set_err(err, errlen,
                     "%s lacks dataset '%s', which this ntasweep writes for every run: the file was written by an "
                     "earlier ntasweep of the same format (see its ntasweep_version attribute). Finish it with that "
                     "version, or start a new file with --force-new (the old one is kept) or another -o",
                     path, d->dataset);
        rc = -1;
    }
    H5Fclose(file);
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
        ntas_set_err(err, errlen, "%s has results format %lld (written by ntasweep %s); this ntasweep reads and writes "
                 "format %d. Finish or read it with ntasweep %s, or start a new file with --force-new (the old one is kept)",
                 path, (long long)info->format_version, info->version, NTAS_FORMAT_VERSION, info->version);
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

/* A whole string attribute, malloc'ed (NULL if absent). */
static char *read_str_attr_alloc(hid_t obj, const char *name)
{
    if (H5Aexists(obj, name) <= 0) return NULL;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t t = a >= 0 ? H5Aget_type(a) : -1;
    size_t n = t >= 0 ? H5Tget_size(t) : 0;
    char *buf = n ? calloc(n + 1, 1) : NULL;
    if (buf && H5Aread(a, t, buf) < 0) {
        free(buf);
        buf = NULL;
    }
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return buf;
}

int ntas_store_read_sweep(const char *path, ntas_stored_sweep *s, char *err, size_t errlen)
{
    ntas_h5_quiet();
    memset(s, 0, sizeof *s);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        ntas_set_err(err, errlen, "%s: not a readable HDF5 file", path);
        return -1;
    }
    read_str_attr(file, "ntasweep_version", s->version, sizeof s->version);
    read_str_attr(file, "spec_file", s->spec_file, sizeof s->spec_file);
    read_str_attr(file, "spec_hash", s->spec_hash, sizeof s->spec_hash);
    s->format_version = -1;
    if (H5Aexists(file, "format_version") > 0) {
        hid_t fv = H5Aopen(file, "format_version", H5P_DEFAULT);
        if (fv < 0 || H5Aread(fv, H5T_NATIVE_INT64, &s->format_version) < 0) s->format_version = -1;
        if (fv >= 0) H5Aclose(fv);
    }
    s->spec_text = read_str_attr_alloc(file, "spec_text");
    s->spec_overrides = read_str_attr_alloc(file, "spec_overrides");
    H5Fclose(file);
    if (!s->spec_text || !s->spec_overrides) {
        ntas_set_err(err, errlen, "%s: not an ntasweep results file (no spec_text or spec_overrides)", path);
        ntas_stored_sweep_free(s);
        return -1;
    }
    return 0;
}

void ntas_stored_sweep_free(ntas_stored_sweep *s)
{
    free(s->spec_text);
    free(s->spec_overrides);
    memset(s, 0, sizeof *s);
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
    ntas_h5_quiet();
    ntas_store *st = calloc(1, sizeof *st);
    if (!st) { ntas_set_err(err, errlen, "out of memory"); return -1; }
    st->str_message = H5I_INVALID_HID;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    /* MPI-IO with the user's hints, collective metadata (h5fapl.h). */
    char why[1024] = "H5Pcreate(file access) failed";
    int fapl_ok = fapl >= 0 && ntas_h5_fapl_for_parallel_open(fapl, comm, why, sizeof why) == 0, all_fapl_ok = 0;
    if (ntas_mpi_check(MPI_Allreduce(&fapl_ok, &all_fapl_ok, 1, MPI_INT, MPI_MIN, comm),
                       "MPI_Allreduce (file access settings)", why, sizeof why) != 0)
        all_fapl_ok = fapl_ok = 0;
    if (!all_fapl_ok) {
        ntas_set_err(err, errlen, "%s: %s", path, fapl_ok ? "the file access settings failed on another rank" : why);
        ntas_h5_close(&fapl);
        free(st);
        return -1;
    }
    st->file = H5Fopen(path, H5F_ACC_RDWR, fapl);
    if (st->file < 0) ntas_h5_fail(why, sizeof why, "%s: cannot open the results file for parallel writing", path);
    ntas_h5_close(&fapl);
    int ok = st->file >= 0;
    struct stat sb;
    if (ok && stat(path, &sb) == 0) {
        st->dev = sb.st_dev;
        st->ino = sb.st_ino;
        snprintf(st->path, sizeof st->path, "%s", path);
    }
    /* Every rank opens every dataset, in the same order (collective-safe). */
    for (int k = 0; k < DS_COUNT; k++) {
        const ds_desc dk = desc_of(k);
        int optional = dk.group != NTAS_RG_ALL;
        if (optional && (!ok || H5Lexists(st->file, dk.name, H5P_DEFAULT) <= 0)) {
            st->ds[k] = -1;   /* no run of this sweep needs it */
            continue;
        }
        if (ok && H5Lexists(st->file, dk.name, H5P_DEFAULT) <= 0) {
            /* A result every run writes, added within this format (max_dc_dt). */
            snprintf(why, sizeof why,
                     "%s lacks dataset '%s', which this ntasweep writes for every run: the file was written by "
                     "an earlier ntasweep of the same format (see its ntasweep_version attribute). Finish it "
                     "with that version, or start a new file with --force-new or another -o",
                     path, dk.name);
            ok = 0;
        }
        st->ds[k] = ok ? H5Dopen2(st->file, dk.name, H5P_DEFAULT) : -1;
        if (ok && st->ds[k] < 0) {
            ntas_h5_fail(why, sizeof why, "%s: cannot open dataset '%s'", path, dk.name);
            ok = 0;
        }
    }
    if (ok && (st->str_message = ntas_h5_str_type(NTAS_MESSAGE_LEN)) < 0) {
        ntas_h5_fail(why, sizeof why, "%s: the message type", path);
        ok = 0;
    }
    int all_ok = 0;
    if (ntas_mpi_check(MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm), "MPI_Allreduce (opening the results file)",
                       why, sizeof why) != 0)
        all_ok = ok = 0;
    if (!all_ok) {
        if (ok) ntas_set_err(err, errlen, "%s: another rank could not open the results file (see its message)", path);
        else ntas_set_err(err, errlen, "%s", why);
        char ignore[64];
        ntas_store_close(st, ignore, sizeof ignore);
        return -1;
    }
    *out = st;
    return 0;
}

/* Writes a [1, counts...] slab at run `index` from contiguous memory. */
static int write_slab(ntas_store *st, int k, int index, const void *data, const hsize_t *counts, char *err, size_t errlen)
{
    const ds_desc dk = desc_of(k);
    int nd = dk.ndims;
    hsize_t start[5] = {(hsize_t)index, 0, 0, 0, 0}, count[5] = {1, 1, 1, 1, 1};
    for (int d = 1; d < nd; d++) count[d] = counts[d - 1];
    hid_t fsp = H5I_INVALID_HID, msp = H5I_INVALID_HID;
    hid_t mt = dk.type == T_F64 ? H5T_NATIVE_DOUBLE : dk.type == T_I8 ? H5T_NATIVE_INT8 : st->str_message;
    int rc = 0;
    /* errno: the reason of a failed system call the MPI-IO driver does not report (h5util.h) */
    errno = 0;
    if ((fsp = H5Dget_space(st->ds[k])) < 0 || H5Sselect_hyperslab(fsp, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
        (msp = H5Screate_simple(nd, count, NULL)) < 0 || H5Dwrite(st->ds[k], mt, msp, fsp, H5P_DEFAULT, data) < 0) {
        ntas_h5_fail_io(err, errlen, errno, st->path, "writing run %d of dataset '%s'", index, dk.name);
        rc = -1;
    }
    ntas_h5_close(&msp);
    ntas_h5_close(&fsp);
    return rc;
}

/* Every result the run records (results.h), each its own slab of the run. */
int ntas_store_write_run(ntas_store *st, int index, const ntas_run_result *r, char *err, size_t errlen)
{
    int64_t ext[NTAS_EXT_COUNT];
    ntas_run_result_extents(r, ext);
    /* The first failure ends the run's writes: its status stays pending. */
    for (int id = 0; id < NTAS_R_COUNT; id++) {
        const ntas_result_desc *d = &ntas_results[id];
        const int k = DS_FIRST_RESULT + id;
        if (!(r->groups & NTAS_RG_BIT(d->group))) continue;
        const double *data = ntas_result_data((ntas_run_result *)r, id);
        if (st->ds[k] < 0 || !data) {
            ntas_set_err(err, errlen, "run %d needs dataset '%s', which the results file lacks", index, d->dataset);
            return -1;
        }
        hsize_t counts[4];
        for (int a = 0; a < d->rank; a++) counts[a] = (hsize_t)ext[ntas_result_axis_extent(d->axes[a])];
        if (write_slab(st, k, index, data, counts, err, errlen) != 0) return -1;
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
    /* MPI-IO reports a failed fsync as MPI_ERR_OTHER only: the system's
     * reason is errno, set by the failing call (cleared first, so it is not
     * an older error's). */
    errno = 0;
    if (H5Fflush(st->file, H5F_SCOPE_GLOBAL) < 0) {
        ntas_h5_fail_io(err, errlen, errno, st->path, "flushing the results file");
        return -1;
    }
    return 0;
}

void ntas_store_abandon(ntas_store *st)
{
    free(st);
}

int ntas_store_close(ntas_store *st, char *err, size_t errlen)
{
    int rc = 0;
    for (int k = 0; k < DS_COUNT; k++)
        if (ntas_h5_close(&st->ds[k]) < 0 && rc == 0) {
            ntas_set_err(err, errlen, "closing dataset %d of the results file failed", k);
            rc = -1;
        }
    ntas_h5_close(&st->str_message);
    errno = 0;
    if (st->file >= 0 && H5Fclose(st->file) < 0 && rc == 0) {
        ntas_h5_fail_io(err, errlen, errno, st->path, "closing the results file");
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
