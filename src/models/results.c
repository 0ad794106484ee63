/* results — the run-result table as data. See results.h. */
#include "ntasweep/models/results.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/core/err.h"

#define NTAS_RESULT_DESC(field, form, h5, group, rank, a0, a1, a2, a3, desc)                                  \
    {#field, h5, NTAS_RESULT_SCALAR_##form, group, rank, {a0, a1, a2, a3}, desc},
#define NTAS_RESULT_SCALAR_array 0
#define NTAS_RESULT_SCALAR_scalar 1
const ntas_result_desc ntas_results[NTAS_R_COUNT] = {NTAS_RESULTS(NTAS_RESULT_DESC)};

static const struct {
    int extent, dim;
} axes[NTAS_AX_COUNT] = {
    [NTAS_AX_NONE] = {-1, -1},
    [NTAS_AX_TIME] = {NTAS_EXT_RECORDS, NTAS_DIM_TIME},
    [NTAS_AX_BLOCK] = {NTAS_EXT_BLOCKS, NTAS_DIM_BLOCK},
    [NTAS_AX_GATE] = {NTAS_EXT_PATHS, NTAS_DIM_GATE},
    [NTAS_AX_PATH] = {NTAS_EXT_PATHS, NTAS_DIM_PATH},
    [NTAS_AX_TEACHER] = {NTAS_EXT_TEACHERS, NTAS_DIM_TASK},
    [NTAS_AX_TASK] = {NTAS_EXT_TASKS, NTAS_DIM_TASK},
    [NTAS_AX_OUT] = {NTAS_EXT_OUT, NTAS_DIM_OUTPUT},
    [NTAS_AX_IN] = {NTAS_EXT_IN, NTAS_DIM_INPUT},
    [NTAS_AX_HIDDEN] = {NTAS_EXT_HIDDEN, NTAS_DIM_HIDDEN},
    [NTAS_AX_MODE] = {NTAS_EXT_MODES, NTAS_DIM_MODE},
};

static const char *const dim_names[NTAS_DIM_COUNT] = {"run",    "time",  "block",  "gate",  "task",
                                                      "path",   "output", "input", "hidden", "mode"};

int ntas_result_axis_extent(int axis)
{
    return axis > 0 && axis < NTAS_AX_COUNT ? axes[axis].extent : -1;
}

int ntas_result_axis_dim(int axis)
{
    return axis > 0 && axis < NTAS_AX_COUNT ? axes[axis].dim : -1;
}

const char *ntas_result_dim_name(int dim)
{
    return dim >= 0 && dim < NTAS_DIM_COUNT ? dim_names[dim] : "?";
}

void ntas_run_result_extents(const ntas_run_result *r, int64_t ext[NTAS_EXT_COUNT])
{
    ext[NTAS_EXT_RECORDS] = r->n_records;
    ext[NTAS_EXT_BLOCKS] = r->n_blocks;
    ext[NTAS_EXT_PATHS] = r->P;
    ext[NTAS_EXT_TEACHERS] = r->M;
    ext[NTAS_EXT_TASKS] = r->n_tasks;
    ext[NTAS_EXT_OUT] = r->d_out;
    ext[NTAS_EXT_IN] = r->d_in;
    ext[NTAS_EXT_HIDDEN] = r->d_hid;
    ext[NTAS_EXT_MODES] = r->n_modes;
}

size_t ntas_result_length(const ntas_run_result *r, int id)
{
    const ntas_result_desc *d = &ntas_results[id];
    if (!(r->groups & NTAS_RG_BIT(d->group))) return 0;
    int64_t ext[NTAS_EXT_COUNT];
    ntas_run_result_extents(r, ext);
    size_t n = 1;
    for (int a = 0; a < d->rank; a++) n *= (size_t)ext[ntas_result_axis_extent(d->axes[a])];
    return n;
}

#define NTAS_RESULT_PTR_array(r, field) (r)->field
#define NTAS_RESULT_PTR_scalar(r, field) &(r)->field
#define NTAS_RESULT_CASE(field, form, h5, group, rank, a0, a1, a2, a3, desc)                                  \
    case NTAS_R_##field: return NTAS_RESULT_PTR_##form(r, field);

double *ntas_result_data(ntas_run_result *r, int id)
{
    switch (id) {
        NTAS_RESULTS(NTAS_RESULT_CASE)
    }
    return NULL;
}

/* The address of an array result's pointer field (NULL for a scalar). */
#define NTAS_RESULT_SLOT_array(r, field) &(r)->field
#define NTAS_RESULT_SLOT_scalar(r, field) NULL
#define NTAS_RESULT_SLOT_CASE(field, form, h5, group, rank, a0, a1, a2, a3, desc)                             \
    case NTAS_R_##field: return NTAS_RESULT_SLOT_##form(r, field);

static double **slot(ntas_run_result *r, int id)
{
    switch (id) {
        NTAS_RESULTS(NTAS_RESULT_SLOT_CASE)
    }
    return NULL;
}

int ntas_run_result_alloc(ntas_run_result *r, char *err, size_t errlen)
{
    for (int id = 0; id < NTAS_R_COUNT; id++) {
        double **a = slot(r, id);
        size_t n = ntas_result_length(r, id);
        if (!a || n == 0) continue;
        *a = malloc(n * sizeof(double));
        if (!*a) {
            ntas_run_result_free(r);
            ntas_set_err(err, errlen, "out of memory for the results of one run (%lld records)",
                         (long long)r->n_records);
            return -1;
        }
    }
    return 0;
}

void ntas_run_result_free(ntas_run_result *r)
{
    for (int id = 0; id < NTAS_R_COUNT; id++) {
        double **a = slot(r, id);
        if (a) free(*a);
    }
    memset(r, 0, sizeof *r);
}

void ntas_run_result_fill_nan(ntas_run_result *r, int keep_id)
{
    for (int id = 0; id < NTAS_R_COUNT; id++) {
        if (id == keep_id) continue;
        double *a = ntas_result_data(r, id);
        size_t n = ntas_results[id].scalar ? 1 : ntas_result_length(r, id);
        if (!a) continue;
        for (size_t i = 0; i < n; i++) a[i] = NAN;
    }
}
