/* expand — the run table of a plan. See expand.h. */
#include "ntasweep/config/expand.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/config/expr.h"

static int find_var(const void *ctx, const char *name)
{
    return ntas_plan_find_var(ctx, name);
}

/* Evaluates d for one run; writes the canonical value text. */
static int eval_derived(ntas_ini_scan *sc, const ntas_plan *pl, const ntas_derived_def *d, const ntas_params *p, const double *vars,
                        long run, char *text, size_t len)
{
    ntas_expr_env env = {.params = p, .vars = vars, .find_var = find_var, .ctx = pl};
    char msg[160];
    double v = ntas_expr_eval(d->expr, &env, msg, sizeof msg);
    const char *key = ntas_plan_key_name(pl, d->target);
    if (msg[0]) return ntas_ini_fail(sc, d->loc, key, "bad expression '%.80s': %s", d->expr, msg);
    if (!isfinite(v)) return ntas_ini_fail(sc, d->loc, key, "'%.80s' is %g for run %ld", d->expr, v, run);
    if (d->target < NTAS_VAR_BASE && ntas_param_table[d->target].type == NTAS_PT_INT) {
        if (fabs(v - round(v)) > 1e-9 * fmax(1.0, fabs(v)))
            return ntas_ini_fail(sc, d->loc, key, "'%.80s' is %.17g for run %ld, not an integer (use round())", d->expr, v, run);
        if (fabs(v) > 9e15) return ntas_ini_fail(sc, d->loc, key, "'%.80s' is %g for run %ld: out of range", d->expr, v, run);
        snprintf(text, len, "%lld", (long long)round(v));
    } else {
        ntas_format_real(v, text, len);
    }
    return 0;
}

/* The sizes of the table: runs = cases x zip x grid x seeds. */
typedef struct {
    int n_cases, n_seeds, n_zip;
    int apply_zip;        /* the zip lists give values (not all replaced by --set) */
    long grid_total, total;
} shape;

static int table_shape(ntas_ini_scan *sc, const ntas_plan *pl, shape *sh)
{
    sh->n_cases = pl->n_cases ? pl->n_cases : 1;
    sh->n_seeds = pl->replicates ? pl->replicates : 1;
    int all_zip_overridden = pl->n_zip > 0;
    for (int z = 0; z < pl->n_zip; z++)
        all_zip_overridden &= ntas_plan_find_axis(pl->over, pl->n_over, pl->zip[z].param) != NULL;
    sh->n_zip = pl->n_zip && !all_zip_overridden ? pl->zip[0].n_values : 1;
    sh->apply_zip = pl->n_zip && !all_zip_overridden;
    long total = (long)sh->n_cases * sh->n_seeds;
    if (total > NTAS_MAX_RUNS / sh->n_zip)
        return ntas_ini_fail(sc, pl->replicates_loc, "replicates", "%d cases x %d replicates x %d zipped exceed %ld runs",
                             sh->n_cases, sh->n_seeds, sh->n_zip, NTAS_MAX_RUNS);
    total *= sh->n_zip;
    for (int g = 0; g < pl->n_grid; g++) {
        int nv = ntas_plan_find_axis(pl->over, pl->n_over, pl->grid[g].param) ? 1 : pl->grid[g].n_values;
        if (total > NTAS_MAX_RUNS / nv)
            return ntas_ini_fail(sc, pl->grid[g].loc, ntas_plan_key_name(pl, pl->grid[g].param), "the sweep expands to more than %ld runs", NTAS_MAX_RUNS);
        total *= nv;
    }
    sh->total = total;
    sh->grid_total = total / sh->n_cases / sh->n_seeds / sh->n_zip;
    return 0;
}

/* The values of the plan's axes, parsed once: each as the 8 bytes it takes
 * in ntas_params (a [vars] value: its double). Applying one is a copy, so a
 * run costs no text parsing (10^6-run sweeps; the bits are what
 * ntas_param_parse would write, so run keys are unchanged). */
typedef struct {
    const ntas_plan *pl;
    shape sh;
    ntas_params defaults;
    double vars[NTAS_MAX_VARS];
    uint64_t *fixed[NTAS_MAX_AXES], *zip[NTAS_MAX_AXES], *grid[NTAS_MAX_AXES], *over[NTAS_MAX_AXES];
    uint64_t ***cases;                /* [case][key][value] */
    int grid_over[NTAS_MAX_AXES];     /* grid axis replaced by --set */
    int derived_over[NTAS_MAX_AXES];  /* derived key given by --set */
    int seed_param;
    ntas_run_key_cache keys;
} expander;

static int prepare_axis(ntas_ini_scan *sc, const expander *ex, const ntas_axis *a, uint64_t **out)
{
    *out = malloc((size_t)(a->n_values > 0 ? a->n_values : 1) * sizeof **out);
    if (!*out) return ntas_ini_fail(sc, a->loc, ntas_plan_key_name(ex->pl, a->param), "out of memory");
    for (int v = 0; v < a->n_values; v++) {
        if (a->param >= NTAS_VAR_BASE) {
            double x = 0;
            ntas_parse_plain_real(a->values[v], &x);   /* checked when read */
            memcpy(&(*out)[v], &x, sizeof x);
            continue;
        }
        const ntas_param_desc *d = &ntas_param_table[a->param];
        ntas_params scratch = ex->defaults;
        char why[256];
        if (ntas_param_parse(d, a->values[v], &scratch, why, sizeof why) != 0)
            return ntas_ini_fail(sc, a->loc, ntas_plan_key_name(ex->pl, a->param), "%s", why);
        memcpy(&(*out)[v], (const char *)&scratch + d->offset, sizeof **out);
    }
    return 0;
}

static void expander_free(expander *ex)
{
    const ntas_plan *pl = ex->pl;
    for (int i = 0; i < NTAS_MAX_AXES; i++) {
        free(ex->fixed[i]);
        free(ex->zip[i]);
        free(ex->grid[i]);
        free(ex->over[i]);
    }
    for (int c = 0; ex->cases && c < pl->n_cases; c++) {
        for (int i = 0; i < pl->cases[c].n_keys; i++) free(ex->cases[c][i]);
        free(ex->cases[c]);
    }
    free(ex->cases);
}

static int expander_init(ntas_ini_scan *sc, expander *ex, const ntas_plan *pl)
{
    memset(ex, 0, sizeof *ex);
    ex->pl = pl;
    if (table_shape(sc, pl, &ex->sh)) return -1;
    ntas_params_defaults(&ex->defaults);
    ntas_run_key_cache_init(&ex->keys);
    ex->seed_param = ntas_param_find("seed");
    for (int v = 0; v < pl->n_vars; v++) ntas_parse_plain_real(pl->vars[v].value, &ex->vars[v]);
    for (int i = 0; i < pl->n_fixed; i++)
        if (prepare_axis(sc, ex, &pl->fixed[i], &ex->fixed[i])) return -1;
    if (pl->n_cases && !(ex->cases = calloc((size_t)pl->n_cases, sizeof *ex->cases)))
        return ntas_ini_fail(sc, 0, NULL, "out of memory");
    for (int c = 0; c < pl->n_cases; c++) {
        if (!(ex->cases[c] = calloc((size_t)(pl->cases[c].n_keys + 1), sizeof *ex->cases[c])))
            return ntas_ini_fail(sc, 0, NULL, "out of memory");
        for (int i = 0; i < pl->cases[c].n_keys; i++)
            if (prepare_axis(sc, ex, &pl->cases[c].keys[i], &ex->cases[c][i])) return -1;
    }
    for (int z = 0; z < pl->n_zip; z++)
        if (prepare_axis(sc, ex, &pl->zip[z], &ex->zip[z])) return -1;
    for (int g = 0; g < pl->n_grid; g++) {
        ex->grid_over[g] = ntas_plan_find_axis(pl->over, pl->n_over, pl->grid[g].param) != NULL;
        if (prepare_axis(sc, ex, &pl->grid[g], &ex->grid[g])) return -1;
    }
    for (int i = 0; i < pl->n_over; i++)
        if (prepare_axis(sc, ex, &pl->over[i], &ex->over[i])) return -1;
    for (int i = 0; i < pl->n_derived; i++)
        ex->derived_over[i] = ntas_plan_find_axis(pl->over, pl->n_over, pl->derived[i].target) != NULL;
    return 0;
}

static void apply(ntas_params *p, double *vars, int *origin, const ntas_axis *a, uint64_t bits)
{
    if (a->param >= NTAS_VAR_BASE) {
        memcpy(&vars[a->param - NTAS_VAR_BASE], &bits, sizeof bits);
        return;
    }
    memcpy((char *)p + ntas_param_table[a->param].offset, &bits, sizeof bits);
    origin[a->param] = a->loc;
}

/* [derived] values see everything above, including --set, unless --set
 * gives the derived key itself. */
static int apply_derived(ntas_ini_scan *sc, const expander *ex, ntas_params *p, double *vars, int *origin, long r)
{
    const ntas_plan *pl = ex->pl;
    for (int i = 0; i < pl->n_derived; i++) {
        const ntas_derived_def *d = &pl->derived[i];
        if (ex->derived_over[i]) continue;
        char text[64];
        if (eval_derived(sc, pl, d, p, vars, r, text, sizeof text)) return -1;
        if (d->target >= NTAS_VAR_BASE) {
            vars[d->target - NTAS_VAR_BASE] = strtod(text, NULL);
            continue;
        }
        char why[256];
        if (ntas_param_parse(&ntas_param_table[d->target], text, p, why, sizeof why) != 0)
            return ntas_ini_fail(sc, d->loc, ntas_plan_key_name(pl, d->target), "'%.80s' gives %s for run %ld: %s", d->expr, text, r, why);
        origin[d->target] = d->loc;
    }
    return 0;
}

/* Run r = ((case * n_zip + zip) * grid_total + grid) * n_seeds + seed; the
 * values are applied in the order [params], case, zip, grid, seed, --set,
 * [derived] (a later one wins). */
static int expand_one(ntas_ini_scan *sc, expander *ex, long r, ntas_run *run)
{
    const ntas_plan *pl = ex->pl;
    const shape *sh = &ex->sh;
    const int si = (int)(r % sh->n_seeds);
    const long gi = r / sh->n_seeds % sh->grid_total;
    const int zi = (int)(r / sh->n_seeds / sh->grid_total % sh->n_zip);
    const int c = (int)(r / sh->n_seeds / sh->grid_total / sh->n_zip);
    int origin[128] = {0};
    double vars[NTAS_MAX_VARS];
    memcpy(vars, ex->vars, sizeof vars);
    memset(run->case_name, 0, sizeof run->case_name);
    run->params = ex->defaults;
    ntas_params *p = &run->params;
    for (int i = 0; i < pl->n_fixed; i++) apply(p, vars, origin, &pl->fixed[i], ex->fixed[i][0]);
    if (pl->n_cases) {
        strcpy(run->case_name, pl->cases[c].name);
        for (int i = 0; i < pl->cases[c].n_keys; i++) apply(p, vars, origin, &pl->cases[c].keys[i], ex->cases[c][i][0]);
    }
    if (sh->apply_zip)
        for (int z = 0; z < pl->n_zip; z++) apply(p, vars, origin, &pl->zip[z], ex->zip[z][zi]);
    /* Mixed-radix index over the grid, first axis slowest. */
    long rest = gi;
    for (int g = pl->n_grid - 1; g >= 0; g--) {
        if (ex->grid_over[g]) continue;
        int nv = pl->grid[g].n_values;
        apply(p, vars, origin, &pl->grid[g], ex->grid[g][rest % nv]);
        rest /= nv;
    }
    if (pl->replicates) {
        p->seed = si;
        origin[ex->seed_param] = pl->replicates_loc;
    }
    for (int i = 0; i < pl->n_over; i++) apply(p, vars, origin, &pl->over[i], ex->over[i][0]);
    if (apply_derived(sc, ex, p, vars, origin, r)) return -1;
    char why[512];
    const char *bad = NULL;
    if (ntas_params_validate(p, why, sizeof why, &bad) != 0) {
        int bi = ntas_param_find(bad);
        int loc = bi >= 0 ? origin[bi] : 0;
        char where[128] = "";
        if (run->case_name[0]) snprintf(where, sizeof where, " (run %ld, case %s)", r, run->case_name);
        else snprintf(where, sizeof where, " (run %ld)", r);
        if (loc == 0) return ntas_ini_fail(sc, 0, bad, "%s%s [default value]", why, where);
        return ntas_ini_fail(sc, loc, bad, "%s%s", why, where);
    }
    run->key = ntas_params_run_key_cached(&ex->keys, p);
    memcpy(run->vars, vars, sizeof run->vars);   /* stored beside the parameters */
    return 0;
}

typedef struct {
    uint64_t key;
    long index;
} key_index;

/* Sorts by key, ties by index: LSD radix sort, 8 bits a pass (qsort took
 * a third of expanding 10^6 runs). */
static int sort_keys(key_index *a, long n)
{
    key_index *tmp = malloc((size_t)(n > 0 ? n : 1) * sizeof *tmp);
    if (!tmp) return -1;
    key_index *src = a, *dst = tmp;
    for (int shift = 0; shift < 64; shift += 8) {   /* stable: ties keep index order */
        long count[257] = {0};
        for (long i = 0; i < n; i++) count[((src[i].key >> shift) & 0xff) + 1]++;
        for (int b = 0; b < 256; b++) count[b + 1] += count[b];
        for (long i = 0; i < n; i++) dst[count[(src[i].key >> shift) & 0xff]++] = src[i];
        key_index *t = src;
        src = dst;
        dst = t;
    }
    free(tmp);   /* eight passes: the result is back in a */
    return 0;
}

/* Two runs computing the same thing would be one result stored twice. */
static int check_unique(ntas_ini_scan *sc, const ntas_spec *s)
{
    const long total = s->n_runs;
    key_index *sorted = malloc((size_t)(total > 0 ? total : 1) * sizeof *sorted);
    if (!sorted) return ntas_ini_fail(sc, 0, NULL, "out of memory");
    for (long i = 0; i < total; i++) sorted[i] = (key_index){s->runs[i].key, i};
    if (sort_keys(sorted, total) != 0) {
        free(sorted);
        return ntas_ini_fail(sc, 0, NULL, "out of memory");
    }
    for (long i = 1; i < total; i++)
        if (sorted[i].key == sorted[i - 1].key) {
            long a = sorted[i - 1].index, b = sorted[i].index;
            free(sorted);
            return ntas_ini_fail(sc, 0, NULL, "runs %ld%s%s and %ld%s%s have identical parameters (a case, a derived value or --set repeats another)",
                        a, s->runs[a].case_name[0] ? " case " : "", s->runs[a].case_name,
                        b, s->runs[b].case_name[0] ? " case " : "", s->runs[b].case_name);
        }
    free(sorted);
    return 0;
}

int ntas_expand(ntas_ini_scan *sc, ntas_spec *s, const ntas_plan *pl)
{
    expander ex;
    int rc = expander_init(sc, &ex, pl);
    if (rc == 0 && !(s->runs = calloc((size_t)ex.sh.total, sizeof *s->runs)))
        rc = ntas_ini_fail(sc, 0, NULL, "out of memory for %ld runs", ex.sh.total);
    for (long r = 0; rc == 0 && r < ex.sh.total; r++) rc = expand_one(sc, &ex, r, &s->runs[r]);
    expander_free(&ex);
    if (rc) return -1;
    s->n_runs = (int)ex.sh.total;
    return check_unique(sc, s);
}
