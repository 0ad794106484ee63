/* plan — sweep-file entries to axes, every value checked. See plan.h. */
#include "ntasweep/config/plan.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ntas_plan_key_name(const ntas_plan *pl, int param)
{
    return param >= NTAS_VAR_BASE ? pl->vars[param - NTAS_VAR_BASE].name : ntas_param_table[param].key;
}

static void free_axis(ntas_axis *a)
{
    for (int i = 0; i < a->n_values; i++) free(a->values[i]);
    free(a->values);
    a->values = NULL;
    a->n_values = 0;
}

/* Plain decimal number (no hex, inf, nan), whole string. */
int ntas_parse_plain_real(const char *text, double *v)
{
    if (!*text || text[strspn(text, "0123456789+-.eE")] != '\0') return -1;
    char *end;
    *v = strtod(text, &end);
    return *end == '\0' && isfinite(*v) ? 0 : -1;
}

void ntas_format_real(double v, char *buf, size_t len)
{
    if (v == 0.0) v = 0.0;
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
}

/* Checks that text parses as key's type and range; reports at loc. With
 * canon, also gives the value's canonical text (equal values, equal text). */
static int check_value(ntas_ini_scan *sc, const ntas_plan *pl, int param, const char *text, int loc, char *canon, size_t canon_len)
{
    if (param >= NTAS_VAR_BASE) {
        double v;
        if (ntas_parse_plain_real(text, &v) != 0)
            return ntas_ini_fail(sc, loc, ntas_plan_key_name(pl, param), "'%s' is not a finite number (plain decimal notation)", text);
        if (canon) ntas_format_real(v, canon, canon_len);
        return 0;
    }
    ntas_params scratch;
    ntas_params_defaults(&scratch);
    char why[256];
    if (ntas_param_parse(&ntas_param_table[param], text, &scratch, why, sizeof why) != 0)
        return ntas_ini_fail(sc, loc, ntas_param_table[param].key, "%s", why);
    if (canon) ntas_param_format(&ntas_param_table[param], &scratch, canon, canon_len);
    return 0;
}

int ntas_plan_find_var(const ntas_plan *pl, const char *name)
{
    for (int v = 0; v < pl->n_vars; v++)
        if (!strcmp(pl->vars[v].name, name)) return v;
    return -1;
}

static int lookup_key(ntas_ini_scan *sc, const ntas_plan *pl, const char *key, int loc)
{
    int idx = ntas_param_find(key);
    if (idx >= 0) return idx;
    int v = ntas_plan_find_var(pl, key);
    if (v >= 0) return NTAS_VAR_BASE + v;
    const char *hint = ntas_param_suggest(key);
    if (hint) return ntas_ini_fail(sc, loc, key, "unknown key (did you mean '%s'?)", hint), -1;
    return ntas_ini_fail(sc, loc, key, "unknown key (run 'ntasweep params' for the list, or declare it in [vars])"), -1;
}

/* Adds one canonical value to a list axis, refusing repeats. */
static int add_value(ntas_ini_scan *sc, const ntas_plan *pl, ntas_axis *a, const char *text, int capacity)
{
    char canon[128];
    if (check_value(sc, pl, a->param, text, a->loc, canon, sizeof canon)) return -1;
    if (a->n_values >= capacity) return ntas_ini_fail(sc, a->loc, ntas_plan_key_name(pl, a->param), "list longer than %d values", NTAS_MAX_LIST);
    if (!(a->values[a->n_values] = strdup(canon))) return ntas_ini_fail(sc, a->loc, ntas_plan_key_name(pl, a->param), "out of memory");
    a->n_values++;
    return 0;
}

/* Generated values are rounded to 12 significant digits, so that
 * 0.1:0.3:0.1 gives 0.3 and not 0.30000000000000004. */
static int add_generated(ntas_ini_scan *sc, const ntas_plan *pl, ntas_axis *a, double v, int capacity)
{
    char text[64];
    snprintf(text, sizeof text, "%.12g", v);
    return add_value(sc, pl, a, text, capacity);
}

/* One list item: a value, START:STOP:STEP (STOP included when the steps
 * land on it), logspace(A, B, N) = 10^A .. 10^B or linspace(A, B, N). */
static int expand_item(ntas_ini_scan *sc, const ntas_plan *pl, ntas_axis *a, char *item, int capacity)
{
    const char *key = ntas_plan_key_name(pl, a->param);
    const int numeric = a->param >= NTAS_VAR_BASE || ntas_param_table[a->param].type != NTAS_PT_CHOICE;
    int is_log = !strncmp(item, "logspace", 8), is_lin = !strncmp(item, "linspace", 8);
    if (is_log || is_lin) {
        if (!numeric) return ntas_ini_fail(sc, a->loc, key, "%s needs a numeric key", is_log ? "logspace" : "linspace");
        char *open = ntas_ini_trim(item + 8);
        size_t n = strlen(open);
        if (open[0] != '(' || n < 2 || open[n - 1] != ')')
            return ntas_ini_fail(sc, a->loc, key, "expected %s(A, B, N), found '%.60s'", is_log ? "logspace" : "linspace", item);
        open[n - 1] = '\0';
        char *parts[3];
        int np = 0;
        for (char *q = open + 1, *tok; np < 4; q = NULL) {
            if (!(tok = strtok(q, ","))) break;
            if (np < 3) parts[np] = ntas_ini_trim(tok);
            np++;
        }
        double x[3];
        if (np != 3 || ntas_parse_plain_real(parts[0], &x[0]) || ntas_parse_plain_real(parts[1], &x[1]) ||
            ntas_parse_plain_real(parts[2], &x[2]))
            return ntas_ini_fail(sc, a->loc, key, "expected %s(A, B, N) with three numbers", is_log ? "logspace" : "linspace");
        if (x[2] != floor(x[2]) || x[2] < 1 || x[2] > NTAS_MAX_LIST)
            return ntas_ini_fail(sc, a->loc, key, "N = %g in %s must be an integer in [1, %d]", x[2], is_log ? "logspace" : "linspace", NTAS_MAX_LIST);
        if (is_log && (fabs(x[0]) > 300 || fabs(x[1]) > 300))
            return ntas_ini_fail(sc, a->loc, key, "logspace exponents must be within [-300, 300]");
        int count = (int)x[2];
        for (int i = 0; i < count; i++) {
            double t = count == 1 ? x[0] : x[0] + (x[1] - x[0]) * i / (count - 1);
            if (add_generated(sc, pl, a, is_log ? pow(10.0, t) : t, capacity)) return -1;
        }
        return 0;
    }
    char *c1 = strchr(item, ':');
    if (!c1) return add_value(sc, pl, a, item, capacity);
    if (!numeric) return ntas_ini_fail(sc, a->loc, key, "a range START:STOP:STEP needs a numeric key");
    char *c2 = strchr(c1 + 1, ':');
    if (!c2 || strchr(c2 + 1, ':'))
        return ntas_ini_fail(sc, a->loc, key, "expected a range START:STOP:STEP, found '%.60s'", item);
    *c1 = *c2 = '\0';
    double start, stop, step;
    if (ntas_parse_plain_real(ntas_ini_trim(item), &start) || ntas_parse_plain_real(ntas_ini_trim(c1 + 1), &stop) ||
        ntas_parse_plain_real(ntas_ini_trim(c2 + 1), &step))
        return ntas_ini_fail(sc, a->loc, key, "range START:STOP:STEP needs three plain numbers");
    if (step == 0 || (stop - start) / step < -1e-9)
        return ntas_ini_fail(sc, a->loc, key, "range %g:%g:%g never reaches its stop (check the sign of the step)", start, stop, step);
    double steps = (stop - start) / step;
    if (steps > NTAS_MAX_LIST) return ntas_ini_fail(sc, a->loc, key, "range has more than %d values", NTAS_MAX_LIST);
    int count = (int)floor(steps + 1e-9) + 1;
    for (int i = 0; i < count; i++)
        if (add_generated(sc, pl, a, start + i * step, capacity)) return -1;
    return 0;
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Splits a list at commas outside parentheses and expands each item. Values
 * are kept in canonical text, so 1.3 and 1.30 (or 0 and -0) are one point. */
static int split_list(ntas_ini_scan *sc, const ntas_plan *pl, ntas_axis *a, const char *text)
{
    const char *key = ntas_plan_key_name(pl, a->param);
    char *copy = strdup(text);
    if (!copy) return ntas_ini_fail(sc, a->loc, key, "out of memory");
    a->values = calloc(NTAS_MAX_LIST, sizeof *a->values);
    int rc = a->values ? 0 : ntas_ini_fail(sc, a->loc, key, "out of memory");
    char *item = copy;
    while (rc == 0) {
        int depth = 0;
        char *q = item;
        for (; *q && !(*q == ',' && depth == 0); q++) {
            if (*q == '(') depth++;
            if (*q == ')') depth--;
        }
        const int last = *q == '\0';
        *q = '\0';
        char *v = ntas_ini_trim(item);
        if (depth != 0) rc = ntas_ini_fail(sc, a->loc, key, "unbalanced parentheses in '%.60s'", v);
        else if (*v == '\0') rc = ntas_ini_fail(sc, a->loc, key, "empty item in list");
        else rc = expand_item(sc, pl, a, v, NTAS_MAX_LIST);
        if (last) break;
        item = q + 1;
    }
    free(copy);
    if (rc == 0 && a->n_values > 1) {
        /* Repeated values (sorted copy: ranges can make long lists). */
        char **sorted = malloc((size_t)a->n_values * sizeof *sorted);
        if (!sorted) return ntas_ini_fail(sc, a->loc, key, "out of memory");
        memcpy(sorted, a->values, (size_t)a->n_values * sizeof *sorted);
        qsort(sorted, (size_t)a->n_values, sizeof *sorted, cmp_str_ptr);
        for (int i = 1; i < a->n_values && rc == 0; i++)
            if (!strcmp(sorted[i], sorted[i - 1])) rc = ntas_ini_fail(sc, a->loc, key, "value %s listed twice", sorted[i]);
        free(sorted);
    }
    return rc;
}

static int set_one(ntas_axis *a, int param, int loc, const char *value)
{
    a->param = param;
    a->loc = loc;
    a->n_values = 1;
    a->values = malloc(sizeof *a->values);
    if (!a->values || !(a->values[0] = strdup(value))) {
        free(a->values);
        a->values = NULL;
        a->n_values = 0;
        return -1;
    }
    return 0;
}

void ntas_plan_free(ntas_plan *pl)
{
    for (int i = 0; i < pl->n_fixed; i++) free_axis(&pl->fixed[i]);
    for (int i = 0; i < pl->n_grid; i++) free_axis(&pl->grid[i]);
    for (int i = 0; i < pl->n_zip; i++) free_axis(&pl->zip[i]);
    for (int i = 0; i < pl->n_over; i++) free_axis(&pl->over[i]);
    for (int i = 0; i < pl->n_derived; i++) free(pl->derived[i].expr);
    for (int c = 0; c < pl->n_cases; c++) {
        for (int i = 0; i < pl->cases[c].n_keys; i++) free_axis(&pl->cases[c].keys[i]);
        free(pl->cases[c].keys);
    }
    free(pl->cases);
}

static ntas_axis *find_axis(ntas_axis *list, int n, int param)
{
    for (int i = 0; i < n; i++)
        if (list[i].param == param) return &list[i];
    return NULL;
}

/* --- the plan: which key comes from where ------------------------------------ */

/* [vars] first: any section may use them. */
static int plan_vars(ntas_ini_scan *sc, ntas_plan *pl)
{
    const ntas_ini_entries *l = &sc->entries;
    for (int i = 0; i < l->n; i++) {
        const ntas_ini_entry *e = &l->e[i];
        if (strcmp(e->section, "vars") || e->key[0] == '\0') continue;
        if (ntas_param_find(e->key) >= 0)
            return ntas_ini_fail(sc, e->loc, e->key, "is a parameter: [vars] declares new names for [derived] expressions");
        if (pl->n_vars == NTAS_MAX_VARS) return ntas_ini_fail(sc, e->loc, e->key, "more than %d variables", NTAS_MAX_VARS);
        ntas_var_def *v = &pl->vars[pl->n_vars];
        double x;
        if (ntas_parse_plain_real(e->value, &x) != 0)
            return ntas_ini_fail(sc, e->loc, e->key, "'%s' is not a finite number (plain decimal notation)", e->value);
        ntas_format_real(x, v->value, sizeof v->value);
        snprintf(v->name, sizeof v->name, "%s", e->key);
        v->loc = e->loc;
        pl->n_vars++;
    }
    return 0;
}

/* A [case.NAME] header: a new case, its keys follow. */
static int plan_case_header(ntas_ini_scan *sc, ntas_plan *pl, const ntas_ini_entry *e)
{
    const char *sec = e->section;
    ntas_case_def *nc = realloc(pl->cases, (size_t)(pl->n_cases + 1) * sizeof *nc);
    if (!nc) return ntas_ini_fail(sc, e->loc, NULL, "out of memory");
    pl->cases = nc;
    memset(&nc[pl->n_cases], 0, sizeof *nc);
    if (strlen(sec + 5) >= NTAS_NAME_LEN) return ntas_ini_fail(sc, e->loc, NULL, "case name too long");
    strcpy(nc[pl->n_cases].name, sec + 5);
    pl->n_cases++;
    return 0;
}

static int plan_sweep_key(ntas_ini_scan *sc, ntas_spec *s, ntas_plan *pl, const ntas_ini_entry *e)
{
    if (!strcmp(e->key, "name")) {
        if (strlen(e->value) >= sizeof s->name || !ntas_ini_name_ok(e->value, ".-"))
            return ntas_ini_fail(sc, e->loc, e->key, "name must be letters, digits, '_', '.', '-' (at most %d)", NTAS_NAME_LEN - 1);
        strcpy(s->name, e->value);
    } else if (!strcmp(e->key, "description")) {
        /* free text for humans; kept in spec_text */
    } else if (!strcmp(e->key, "replicates")) {
        char *end;
        errno = 0;
        long v = strtol(e->value, &end, 10);
        if (*end || errno || v < 1 || v > 1000000)
            return ntas_ini_fail(sc, e->loc, e->key, "'%s' must be an integer in [1, 1000000]", e->value);
        pl->replicates = (int)v;
        pl->replicates_loc = e->loc;
    } else {
        return ntas_ini_fail(sc, e->loc, e->key, "unknown key in [sweep] (expected name, description, replicates, include)");
    }
    return 0;
}

/* A key of [params], [grid], [zip], [derived] or [case.NAME]. */
static int plan_value_key(ntas_ini_scan *sc, ntas_plan *pl, const ntas_ini_entry *e)
{
    const char *sec = e->section;
    int param = lookup_key(sc, pl, e->key, e->loc);
    if (param < 0) return -1;
    if (!strcmp(sec, "params")) {
        if (pl->n_fixed == NTAS_MAX_AXES) return ntas_ini_fail(sc, e->loc, e->key, "too many keys");
        ntas_axis *a = &pl->fixed[pl->n_fixed++];
        if (set_one(a, param, e->loc, e->value)) return ntas_ini_fail(sc, e->loc, e->key, "out of memory");
        return check_value(sc, pl, param, e->value, e->loc, NULL, 0);
    }
    if (!strcmp(sec, "grid") || !strcmp(sec, "zip")) {
        int is_grid = !strcmp(sec, "grid");
        int *n = is_grid ? &pl->n_grid : &pl->n_zip;
        if (*n == NTAS_MAX_AXES) return ntas_ini_fail(sc, e->loc, e->key, "too many keys");
        ntas_axis *a = is_grid ? &pl->grid[(*n)++] : &pl->zip[(*n)++];
        a->param = param;
        a->loc = e->loc;
        return split_list(sc, pl, a, e->value);
    }
    if (!strcmp(sec, "derived")) {
        if (param < NTAS_VAR_BASE && ntas_param_table[param].type == NTAS_PT_CHOICE)
            return ntas_ini_fail(sc, e->loc, e->key, "is a choice key: [derived] computes numbers only");
        if (pl->n_derived == NTAS_MAX_AXES) return ntas_ini_fail(sc, e->loc, e->key, "too many keys");
        ntas_derived_def *d = &pl->derived[pl->n_derived++];
        d->target = param;
        d->loc = e->loc;
        if (!(d->expr = strdup(e->value))) return ntas_ini_fail(sc, e->loc, e->key, "out of memory");
        return 0;
    }
    /* case.NAME */
    ntas_case_def *c = NULL;
    for (int k = 0; k < pl->n_cases; k++)
        if (!strcmp(pl->cases[k].name, sec + 5)) c = &pl->cases[k];
    if (!c) return ntas_ini_fail(sc, e->loc, e->key, "internal: case [%s] has no header", sec);
    ntas_axis *na = realloc(c->keys, (size_t)(c->n_keys + 1) * sizeof *na);
    if (!na) return ntas_ini_fail(sc, e->loc, e->key, "out of memory");
    c->keys = na;
    memset(&na[c->n_keys], 0, sizeof *na);
    if (set_one(&na[c->n_keys++], param, e->loc, e->value)) return ntas_ini_fail(sc, e->loc, e->key, "out of memory");
    return check_value(sc, pl, param, e->value, e->loc, NULL, 0);
}

/* Every entry in file order (the order of cases and grid axes). */
static int plan_entries(ntas_ini_scan *sc, ntas_spec *s, ntas_plan *pl)
{
    const ntas_ini_entries *l = &sc->entries;
    int have_runs_section = 0;
    for (int i = 0; i < l->n; i++) {
        const ntas_ini_entry *e = &l->e[i];
        const char *sec = e->section;
        if (!strncmp(sec, "case.", 5) && e->key[0] == '\0') {
            if (plan_case_header(sc, pl, e)) return -1;
            have_runs_section = 1;
            continue;
        }
        if (e->key[0] == '\0') {
            have_runs_section |= strcmp(sec, "sweep") != 0 && strcmp(sec, "vars") != 0;
            continue;
        }
        if (!strcmp(sec, "vars")) continue;
        if (!strcmp(sec, "sweep") ? plan_sweep_key(sc, s, pl, e) : plan_value_key(sc, pl, e)) return -1;
    }
    if (!have_runs_section)
        return ntas_ini_fail(sc, 0, NULL, "no [params], [grid], [zip] or [case.NAME] section: nothing to run");
    return 0;
}

/* A key gets its value(s) in one place only; cases may refine [params];
 * [zip] lists vary together. */
static int check_sources(ntas_ini_scan *sc, ntas_plan *pl)
{
    /* [zip] lists vary together: all as long as the first. */
    for (int z = 1; z < pl->n_zip; z++)
        if (pl->zip[z].n_values != pl->zip[0].n_values)
            return ntas_ini_fail(sc, pl->zip[z].loc, ntas_plan_key_name(pl, pl->zip[z].param),
                        "has %d values but '%s' has %d: [zip] lists vary together and must be equally long",
                        pl->zip[z].n_values, ntas_plan_key_name(pl, pl->zip[0].param), pl->zip[0].n_values);

    /* A key gets its value(s) in one place only; cases may refine [params]. */
    struct { ntas_axis *list; int n; const char *name; } varying[] = {{pl->grid, pl->n_grid, "grid"}, {pl->zip, pl->n_zip, "zip"}};
    for (int v = 0; v < 2; v++)
        for (int g = 0; g < varying[v].n; g++) {
            ntas_axis *a = &varying[v].list[g];
            const char *key = ntas_plan_key_name(pl, a->param);
            ntas_axis *f = find_axis(pl->fixed, pl->n_fixed, a->param);
            if (f) return ntas_ini_fail(sc, a->loc, key, "set in [params] (line %d) and varied in [%s]", NTAS_LINE_OF(f->loc), varying[v].name);
            if (v == 1 && find_axis(pl->grid, pl->n_grid, a->param))
                return ntas_ini_fail(sc, a->loc, key, "varied in both [grid] and [zip]");
            for (int c = 0; c < pl->n_cases; c++) {
                ntas_axis *k = find_axis(pl->cases[c].keys, pl->cases[c].n_keys, a->param);
                if (k) return ntas_ini_fail(sc, k->loc, key, "set in [case.%s] and varied in [%s] (line %d)", pl->cases[c].name,
                                   varying[v].name, NTAS_LINE_OF(a->loc));
            }
            if (!strcmp(key, "seed") && pl->replicates)
                return ntas_ini_fail(sc, a->loc, key, "seed is varied in [%s] and by [sweep] replicates (line %d): use one",
                            varying[v].name, NTAS_LINE_OF(pl->replicates_loc));
        }
    for (int i = 0; i < pl->n_derived; i++) {
        ntas_derived_def *d = &pl->derived[i];
        const char *key = ntas_plan_key_name(pl, d->target);
        for (int j = 0; j < i; j++)
            if (pl->derived[j].target == d->target) return ntas_ini_fail(sc, d->loc, key, "derived twice");
        ntas_axis *clash = find_axis(pl->fixed, pl->n_fixed, d->target);
        if (!clash) clash = find_axis(pl->grid, pl->n_grid, d->target);
        if (!clash) clash = find_axis(pl->zip, pl->n_zip, d->target);
        for (int c = 0; !clash && c < pl->n_cases; c++) clash = find_axis(pl->cases[c].keys, pl->cases[c].n_keys, d->target);
        if (clash) return ntas_ini_fail(sc, d->loc, key, "is set elsewhere too (line %d): a derived key gets its value only from [derived]",
                               NTAS_LINE_OF(clash->loc));
        if (!strcmp(key, "seed") && pl->replicates) return ntas_ini_fail(sc, d->loc, key, "seed comes from [sweep] replicates");
    }
    if (pl->replicates) {
        int seed = ntas_param_find("seed");
        if (find_axis(pl->fixed, pl->n_fixed, seed))
            return ntas_ini_fail(sc, find_axis(pl->fixed, pl->n_fixed, seed)->loc, "seed", "set in [params] and by [sweep] replicates (line %d): use one",
                        NTAS_LINE_OF(pl->replicates_loc));
        for (int c = 0; c < pl->n_cases; c++)
            if (find_axis(pl->cases[c].keys, pl->cases[c].n_keys, seed))
                return ntas_ini_fail(sc, find_axis(pl->cases[c].keys, pl->cases[c].n_keys, seed)->loc, "seed",
                            "set in [case.%s] and by [sweep] replicates: use one", pl->cases[c].name);
    }
    return 0;
}

/* --set key=value applies to every run: it replaces the key wherever the
 * file sets, varies or derives it (a varied key collapses to one value). */
/* --set KEY=A,B,C (or a range): a grid axis of its own, replacing the key's
 * values in [params], [grid] or a case (a grid axis outranks a case). Keys
 * varied in [zip] or computed in [derived] take one value only. */
static int override_axis(ntas_ini_scan *sc, ntas_plan *pl, int param, const char *key, const char *values)
{
    if (find_axis(pl->zip, pl->n_zip, param))
        return ntas_ini_fail(sc, -1, key, "%s: the key is varied in [zip]; give one value or edit the file", values);
    for (int i = 0; i < pl->n_derived; i++)
        if (pl->derived[i].target == param)
            return ntas_ini_fail(sc, -1, key, "%s: the key is computed in [derived]; give one value", values);
    if (param == ntas_param_find("seed") && pl->replicates)
        return ntas_ini_fail(sc, -1, key, "%s: seeds come from replicates; use --set replicates=N", values);
    ntas_axis *fixed = find_axis(pl->fixed, pl->n_fixed, param);
    if (fixed) {
        free_axis(fixed);
        *fixed = pl->fixed[--pl->n_fixed];
    }
    ntas_axis *a = find_axis(pl->grid, pl->n_grid, param);
    if (a) free_axis(a);
    else if (pl->n_grid == NTAS_MAX_AXES) return ntas_ini_fail(sc, -1, key, "too many grid axes");
    else a = &pl->grid[pl->n_grid++];
    memset(a, 0, sizeof *a);
    a->param = param;
    a->loc = -1;
    return split_list(sc, pl, a, values);
}

/* --set replicates=N: seeds 0..N-1 for every point. */
static int override_replicates(ntas_ini_scan *sc, ntas_plan *pl, const char *value)
{
    char *end;
    long n = strtol(value, &end, 10);
    if (*value == '\0' || *end || n < 1 || n > 1000000)
        return ntas_ini_fail(sc, -1, "replicates", "%s: expected a whole number from 1 to 1000000", value);
    int seed = ntas_param_find("seed");
    if (find_axis(pl->fixed, pl->n_fixed, seed) || find_axis(pl->grid, pl->n_grid, seed) ||
        find_axis(pl->zip, pl->n_zip, seed))
        return ntas_ini_fail(sc, -1, "replicates", "%s: the sweep file gives seed itself", value);
    pl->replicates = (int)n;
    pl->replicates_loc = -1;
    return 0;
}

static int plan_overrides(ntas_ini_scan *sc, ntas_plan *pl, const char *const *overrides, int n_overrides)
{
    for (int i = 0; i < n_overrides; i++) {
        const char *eqs = strchr(overrides[i], '=');
        char key[NTAS_NAME_LEN];
        size_t kl = eqs ? (size_t)(eqs - overrides[i]) : 0;
        if (!eqs || kl == 0 || kl >= sizeof key) {
            snprintf(sc->err, sc->errlen, "--set %s: expected key=value", overrides[i]);
            return -1;
        }
        memcpy(key, overrides[i], kl);
        key[kl] = '\0';
        char *k = ntas_ini_trim(key);
        if (!strcmp(k, "replicates")) {
            if (override_replicates(sc, pl, ntas_ini_trim((char *)eqs + 1))) return -1;
            continue;
        }
        int param = ntas_param_find(k);
        if (param < 0 && ntas_plan_find_var(pl, k) >= 0) param = NTAS_VAR_BASE + ntas_plan_find_var(pl, k);
        if (param < 0) {
            const char *hint = ntas_param_suggest(k);
            snprintf(sc->err, sc->errlen, "--set %s: key '%s': unknown key%s%s%s", overrides[i], k,
                     hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
            return -1;
        }
        if (pl->n_over == NTAS_MAX_AXES) return ntas_ini_fail(sc, -1, k, "too many --set");
        char *v = ntas_ini_trim((char *)eqs + 1);
        if (strchr(v, ',') || strchr(v, ':') || strstr(v, "space(")) {
            ntas_axis *prev = find_axis(pl->over, pl->n_over, param);   /* a later --set wins */
            if (prev) { free_axis(prev); *prev = pl->over[--pl->n_over]; }
            if (override_axis(sc, pl, param, k, v)) return -1;
            continue;
        }
        if (param >= NTAS_VAR_BASE) {
            double x;
            if (ntas_parse_plain_real(v, &x) != 0) {
                snprintf(sc->err, sc->errlen, "--set %s: key '%s': '%s' is not a finite number", overrides[i], k, v);
                return -1;
            }
        } else {
            ntas_params scratch;
            ntas_params_defaults(&scratch);
            char why[256];
            if (ntas_param_parse(&ntas_param_table[param], v, &scratch, why, sizeof why) != 0) {
                snprintf(sc->err, sc->errlen, "--set %s: key '%s': %s", overrides[i], k, why);
                return -1;
            }
        }
        ntas_axis *prev = find_axis(pl->over, pl->n_over, param);
        if (prev) free_axis(prev);
        ntas_axis *a = prev ? prev : &pl->over[pl->n_over++];
        if (set_one(a, param, -1, v)) return ntas_ini_fail(sc, -1, k, "out of memory");
        if (!strcmp(k, "seed")) pl->replicates = 0;
    }
    return 0;
}

int ntas_plan_build(ntas_ini_scan *sc, ntas_spec *s, ntas_plan *pl, const char *const *overrides, int n_overrides)
{
    memset(pl, 0, sizeof *pl);
    if (plan_vars(sc, pl) || plan_entries(sc, s, pl) || check_sources(sc, pl)) return -1;
    return plan_overrides(sc, pl, overrides, n_overrides);
}

const ntas_axis *ntas_plan_find_axis(const ntas_axis *list, int n, int param)
{
    for (int i = 0; i < n; i++)
        if (list[i].param == param) return &list[i];
    return NULL;
}
