/* table — see table.h. */
#include "ntasweep/io/table.h"
#include "ntasweep/core/err.h"

#include <hdf5.h>
#include <hdf5_hl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/io/store.h"

typedef struct {
    ntas_table *t;
    char *err;
    size_t errlen;
    int ok;
} read_ctx;

static ntas_column *add_col(ntas_table *t, const char *name)
{
    ntas_column *c = realloc(t->cols, (size_t)(t->n_cols + 1) * sizeof *c);
    if (!c) return NULL;
    t->cols = c;
    c = &t->cols[t->n_cols++];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    return c;
}

/* Reads the whole of 1-D dataset name (n entries) into column c. */
static int read_1d(hid_t file, const char *name, int n, ntas_column *c)
{
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    hid_t ft = ds >= 0 ? H5Dget_type(ds) : -1;
    int rc = -1;
    if (ft < 0) goto out;
    size_t nn = (size_t)(n > 0 ? n : 1);
    H5T_class_t cls = H5Tget_class(ft);
    if (cls == H5T_STRING) {
        c->type = NTAS_COL_TEXT;
        c->width = H5Tget_size(ft) + 1;
        c->text = calloc(nn, c->width);
        hid_t mt = H5Tcopy(H5T_C_S1);
        if (!c->text || mt < 0 || H5Tset_size(mt, c->width) < 0 || H5Tset_strpad(mt, H5T_STR_NULLTERM) < 0 ||
            H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, c->text) < 0) {
            if (mt >= 0) H5Tclose(mt);
            goto out;
        }
        H5Tclose(mt);
    } else {
        c->type = cls == H5T_INTEGER ? NTAS_COL_INT : NTAS_COL_REAL;
        c->real = malloc(nn * sizeof *c->real);
        if (!c->real || H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, c->real) < 0) goto out;
    }
    rc = 0;
out:
    if (ft >= 0) H5Tclose(ft);
    if (ds >= 0) H5Dclose(ds);
    return rc;
}

/* A metric from a 2-D (run, x) dataset: per run the last finite value
 * (last = 1) or the mean of the finite values. */
static int reduce_2d(hid_t file, const char *name, int n, int last, ntas_column *c)
{
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
    hsize_t dims[2] = {0, 0};
    int rc = -1;
    double *buf = NULL;
    if (sp < 0 || H5Sget_simple_extent_ndims(sp) != 2 || H5Sget_simple_extent_dims(sp, dims, NULL) != 2 ||
        dims[0] != (hsize_t)n)
        goto out;
    c->type = NTAS_COL_REAL;
    c->real = malloc((size_t)(n > 0 ? n : 1) * sizeof *c->real);
    buf = malloc((size_t)(dims[1] > 0 ? dims[1] : 1) * sizeof *buf);
    if (!c->real || !buf) goto out;
    for (int i = 0; i < n; i++) {
        hsize_t start[2] = {(hsize_t)i, 0}, count[2] = {1, dims[1]};
        hid_t ms = H5Screate_simple(1, &dims[1], NULL);
        int ok = ms >= 0 && H5Sselect_hyperslab(sp, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
                 H5Dread(ds, H5T_NATIVE_DOUBLE, ms, sp, H5P_DEFAULT, buf) >= 0;
        if (ms >= 0) H5Sclose(ms);
        if (!ok) goto out;
        double v = NAN, sum = 0;
        long cnt = 0;
        for (hsize_t k = 0; k < dims[1]; k++) {
            if (!isfinite(buf[k])) continue;
            v = buf[k];
            sum += buf[k];
            cnt++;
        }
        c->real[i] = last ? v : cnt ? sum / (double)cnt : NAN;
    }
    rc = 0;
out:
    free(buf);
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    return rc;
}

/* The names in the `coordinates` attribute of status, space-separated. */
static char *coordinate_names(hid_t file)
{
    hid_t ds = H5Dopen2(file, "status", H5P_DEFAULT);
    if (ds < 0) return NULL;
    char *names = NULL;
    if (H5Aexists(ds, "coordinates") > 0) {
        hid_t a = H5Aopen(ds, "coordinates", H5P_DEFAULT);
        hid_t t = a >= 0 ? H5Aget_type(a) : -1;
        size_t len = t >= 0 ? H5Tget_size(t) : 0;
        names = len ? calloc(len + 1, 1) : NULL;
        if (names && H5Aread(a, t, names) < 0) {
            free(names);
            names = NULL;
        }
        if (t >= 0) H5Tclose(t);
        if (a >= 0) H5Aclose(a);
    }
    H5Dclose(ds);
    return names;
}

/* Every other 1-D numeric dataset along run is a scalar metric. */
static herr_t add_metric(hid_t file, const char *name, const H5L_info_t *info, void *data)
{
    (void)info;
    read_ctx *r = data;
    if (ntas_table_col(r->t, name) || !strcmp(name, "run")) return 0;
    hid_t obj = H5Oopen(file, name, H5P_DEFAULT);
    if (obj < 0) return 0;
    int take = 0;
    if (H5Iget_type(obj) == H5I_DATASET && H5DSis_scale(obj) == 0) {
        hid_t sp = H5Dget_space(obj), ft = H5Dget_type(obj);
        hsize_t d = 0;
        take = sp >= 0 && ft >= 0 && H5Sget_simple_extent_ndims(sp) == 1 && H5Sget_simple_extent_dims(sp, &d, NULL) == 1 &&
               d == (hsize_t)r->t->n_runs && H5Tget_class(ft) == H5T_FLOAT;
        if (sp >= 0) H5Sclose(sp);
        if (ft >= 0) H5Tclose(ft);
    }
    H5Oclose(obj);
    if (!take) return 0;
    ntas_column *c = add_col(r->t, name);
    if (!c || read_1d(file, name, r->t->n_runs, c) != 0) {
        snprintf(r->err, r->errlen, "cannot read dataset '%s'", name);
        r->ok = 0;
        return -1;
    }
    return 0;
}

static int read_columns(hid_t file, ntas_table *t, char *err, size_t errlen)
{
    char *names = coordinate_names(file);
    if (!names) {
        ntas_set_err(err, errlen, "no 'coordinates' attribute on status (written before format 4?)");
        return -1;
    }
    int rc = -1;
    static const char *const fixed[] = {"status", "message"};
    ntas_column *c = add_col(t, "run");
    if (!c) goto out;
    c->type = NTAS_COL_INT;
    if (!(c->real = malloc((size_t)(t->n_runs > 0 ? t->n_runs : 1) * sizeof *c->real))) goto out;
    for (int i = 0; i < t->n_runs; i++) c->real[i] = i;
    for (char *tok = strtok(names, " "); tok; tok = strtok(NULL, " ")) {
        if (!(c = add_col(t, tok)) || read_1d(file, tok, t->n_runs, c) != 0) {
            ntas_set_err(err, errlen, "cannot read coordinate '%s'", tok);
            goto out;
        }
        c->is_param = 1;
    }
    for (int k = 0; k < 2; k++)
        if (!(c = add_col(t, fixed[k])) || read_1d(file, fixed[k], t->n_runs, c) != 0) {
            ntas_set_err(err, errlen, "cannot read '%s'", fixed[k]);
            goto out;
        }
    read_ctx r = {t, err, errlen, 1};
    if (H5Literate(file, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, add_metric, &r) < 0 || !r.ok) goto out;
    static const struct { const char *from, *name; int last; } derived[] = {
        {"loss", "final_loss", 1}, {"time_to_threshold", "mean_time_to_threshold", 0}, {"accuracy", "final_accuracy", 1}};
    for (int k = 0; k < 3; k++) {
        if (H5Lexists(file, derived[k].from, H5P_DEFAULT) <= 0) continue;
        if (!(c = add_col(t, derived[k].name)) || reduce_2d(file, derived[k].from, t->n_runs, derived[k].last, c) != 0) {
            ntas_set_err(err, errlen, "cannot read '%s'", derived[k].from);
            goto out;
        }
    }
    rc = 0;
out:
    free(names);
    return rc;
}

int ntas_table_read(const char *path, ntas_table *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    ntas_store_info info;
    if (ntas_store_inspect(path, &info, err, errlen) != 0) return -1;
    t->n_runs = info.n_runs;
    ntas_store_info_free(&info);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    char why[512] = "";
    int rc = file >= 0 ? read_columns(file, t, why, sizeof why) : -1;
    if (file >= 0) H5Fclose(file);
    if (rc != 0) {
        ntas_set_err(err, errlen, "%s: %s", path, why[0] ? why : "cannot open");
        ntas_table_free(t);
    }
    return rc;
}

void ntas_table_free(ntas_table *t)
{
    for (int k = 0; k < t->n_cols; k++) {
        free(t->cols[k].real);
        free(t->cols[k].text);
    }
    free(t->cols);
    memset(t, 0, sizeof *t);
}

const ntas_column *ntas_table_col(const ntas_table *t, const char *name)
{
    for (int k = 0; k < t->n_cols; k++)
        if (!strcmp(t->cols[k].name, name)) return &t->cols[k];
    return NULL;
}

int ntas_table_varies(const ntas_table *t, const ntas_column *c)
{
    for (int i = 1; i < t->n_runs; i++) {
        if (c->type == NTAS_COL_TEXT) {
            if (strcmp(c->text + (size_t)i * c->width, c->text)) return 1;
        } else if (memcmp(&c->real[i], &c->real[0], sizeof(double))) {
            return 1;
        }
    }
    return 0;
}

void ntas_table_cell(const ntas_column *c, int i, char *buf, size_t len)
{
    if (c->type == NTAS_COL_TEXT) snprintf(buf, len, "%s", c->text + (size_t)i * c->width);
    else if (isnan(c->real[i])) buf[0] = '\0';
    else if (c->type == NTAS_COL_INT) snprintf(buf, len, "%lld", (long long)c->real[i]);
    else {
        /* The shortest text that reads back as the same double. */
        for (int digits = 12; digits <= 17; digits++) {
            snprintf(buf, len, "%.*g", digits, c->real[i]);
            if (strtod(buf, NULL) == c->real[i]) break;
        }
    }
}

void ntas_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch == '\n') fputs("\\n", f);
        else if (ch == '\t') fputs("\\t", f);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

/* One CSV field: quoted when it holds a separator, a quote or a line break. */
static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void json_value(FILE *f, const ntas_column *c, const char *cell)
{
    if (c->type == NTAS_COL_TEXT) ntas_json_string(f, cell);
    else fputs(cell[0] ? cell : "null", f);
}

int ntas_table_write(const ntas_table *t, FILE *f, ntas_table_format fmt, int done_only)
{
    const ntas_column *status = ntas_table_col(t, "status");
    char cell[1024];
    if (fmt == NTAS_TABLE_JSON) fputs("[", f);
    else
        for (int k = 0; k < t->n_cols; k++) fprintf(f, "%s%s", k ? (fmt == NTAS_TABLE_CSV ? "," : "\t") : "", t->cols[k].name);
    if (fmt != NTAS_TABLE_JSON) fputc('\n', f);
    int first = 1;
    for (int i = 0; i < t->n_runs; i++) {
        if (done_only && status && status->real[i] != 1) continue;
        if (fmt == NTAS_TABLE_JSON) fputs(first ? "\n  {" : ",\n  {", f);
        first = 0;
        for (int k = 0; k < t->n_cols; k++) {
            const ntas_column *c = &t->cols[k];
            ntas_table_cell(c, i, cell, sizeof cell);
            if (fmt == NTAS_TABLE_JSON) {
                fprintf(f, "%s\"%s\": ", k ? ", " : "", c->name);
                json_value(f, c, cell);
            } else if (fmt == NTAS_TABLE_CSV) {
                if (k) fputc(',', f);
                csv_field(f, cell);
            } else {
                for (char *q = cell; *q; q++) if (*q == '\t' || *q == '\n' || *q == '\r') *q = ' ';
                fprintf(f, "%s%s", k ? "\t" : "", cell);
            }
        }
        fputs(fmt == NTAS_TABLE_JSON ? "}" : "\n", f);
    }
    if (fmt == NTAS_TABLE_JSON) fputs(first ? "]\n" : "\n]\n", f);
    return ferror(f) ? -1 : 0;
}
