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

static int apply(ntas_ini_scan *sc, const ntas_plan *pl, ntas_params *p, double *vars, int *origin, const ntas_axis *a, int value_index)
{
    if (a->param >= NTAS_VAR_BASE) {
        double x = 0;
        ntas_parse_plain_real(a->values[value_index], &x);   /* checked when read */
        vars[a->param - NTAS_VAR_BASE] = x;
        return 0;
    }
    char why[256];
    if (ntas_param_parse(&ntas_param_table[a->param], a->values[value_index], p, why, sizeof why) != 0)
        return ntas_ini_fail(sc, a->loc, ntas_plan_key_name(pl, a->param), "%s", why);
    origin[a->param] = a->loc;
    return 0;
}

static int cmp_key(const void *a, const void *b)
{
    const ntas_run *x = *(ntas_run *const *)a, *y = *(ntas_run *const *)b;
    return x->key < y->key ? -1 : x->key > y->key;
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

/* [derived] values see everything above, including --set, unless --set
 * gives the derived key itself. */
static int apply_derived(ntas_ini_scan *sc, const ntas_plan *pl, ntas_params *p, double *vars, int *origin, long r)
{
    for (int i = 0; i < pl->n_derived; i++) {
        const ntas_derived_def *d = &pl->derived[i];
        if (ntas_plan_find_axis(pl->over, pl->n_over, d->target)) continue;
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

/* Run r = ((case * n_zip + zip) * grid_total + grid) * n_seeds + seed. */
static int expand_one(ntas_ini_scan *sc, const ntas_plan *pl, const shape *sh, long r, ntas_run *run)
{
    const int si = (int)(r % sh->n_seeds);
    const long gi = r / sh->n_seeds % sh->grid_total;
    const int zi = (int)(r / sh->n_seeds / sh->grid_total % sh->n_zip);
    const int c = (int)(r / sh->n_seeds / sh->grid_total / sh->n_zip);
    int origin[128] = {0};
    double vars[NTAS_MAX_VARS];
    for (int v = 0; v < pl->n_vars; v++) ntas_parse_plain_real(pl->vars[v].value, &vars[v]);
    memset(run, 0, sizeof *run);
    ntas_params_defaults(&run->params);
    for (int i = 0; i < pl->n_fixed; i++)
        if (apply(sc, pl, &run->params, vars, origin, &pl->fixed[i], 0)) return -1;
    if (pl->n_cases) {
        strcpy(run->case_name, pl->cases[c].name);
        for (int i = 0; i < pl->cases[c].n_keys; i++)
            if (apply(sc, pl, &run->params, vars, origin, &pl->cases[c].keys[i], 0)) return -1;
    }
    if (sh->apply_zip)
        for (int z = 0; z < pl->n_zip; z++)
            if (apply(sc, pl, &run->params, vars, origin, &pl->zip[z], zi)) return -1;
    /* Mixed-radix index over the grid, first axis slowest. */
    long rest = gi;
    for (int g = pl->n_grid - 1; g >= 0; g--) {
        if (ntas_plan_find_axis(pl->over, pl->n_over, pl->grid[g].param)) continue;
        int nv = pl->grid[g].n_values;
        if (apply(sc, pl, &run->params, vars, origin, &pl->grid[g], (int)(rest % nv))) return -1;
        rest /= nv;
    }
    if (pl->replicates) {
        run->params.seed = si;
        origin[ntas_param_find("seed")] = pl->replicates_loc;
    }
    for (int i = 0; i < pl->n_over; i++)
        if (apply(sc, pl, &run->params, vars, origin, &pl->over[i], 0)) return -1;
    if (apply_derived(sc, pl, &run->params, vars, origin, r)) return -1;
    char why[512];
    const char *bad = NULL;
    if (ntas_params_validate(&run->params, why, sizeof why, &bad) != 0) {
        int bi = ntas_param_find(bad);
        int loc = bi >= 0 ? origin[bi] : 0;
        char where[128] = "";
        if (run->case_name[0]) snprintf(where, sizeof where, " (run %ld, case %s)", r, run->case_name);
        else snprintf(where, sizeof where, " (run %ld)", r);
        if (loc == 0) return ntas_ini_fail(sc, 0, bad, "%s%s [default value]", why, where);
        return ntas_ini_fail(sc, loc, bad, "%s%s", why, where);
    }
    run->key = ntas_params_run_key(&run->params);
    return 0;
}

/* Two runs computing the same thing would be one result stored twice. */
static int check_unique(ntas_ini_scan *sc, const ntas_spec *s)
{
    const long total = s->n_runs;
    ntas_run **sorted = malloc((size_t)(total > 0 ? total : 1) * sizeof *sorted);
    if (!sorted) return ntas_ini_fail(sc, 0, NULL, "out of memory");
    for (long i = 0; i < total; i++) sorted[i] = &s->runs[i];
    qsort(sorted, (size_t)total, sizeof *sorted, cmp_key);
    for (long i = 1; i < total; i++)
        if (sorted[i]->key == sorted[i - 1]->key) {
            long a = sorted[i - 1] - s->runs, b = sorted[i] - s->runs;
            if (a > b) { long t = a; a = b; b = t; }
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
    shape sh = {0};
    if (table_shape(sc, pl, &sh)) return -1;
    s->runs = calloc((size_t)sh.total, sizeof *s->runs);
    if (!s->runs) return ntas_ini_fail(sc, 0, NULL, "out of memory for %ld runs", sh.total);
    for (long r = 0; r < sh.total; r++)
        if (expand_one(sc, pl, &sh, r, &s->runs[r])) return -1;
    s->n_runs = (int)sh.total;
    return check_unique(sc, s);
}
