/* plan — which key of a sweep gets which value(s) from where (second stage
 * of spec.h, between ini_scan.h and expand.h).
 *
 * The scanner's entries become axes: [params] and [case.NAME] keys with one
 * value, [grid] and [zip] lists (ranges, logspace, linspace expanded and kept
 * as canonical text), [derived] expressions, [vars], [sweep] replicates and
 * --set overrides. Every value is checked here, and a key may get its value
 * in one place only; what is left for the expansion are per-run checks.
 */
#ifndef NTASWEEP_PLAN_H
#define NTASWEEP_PLAN_H

#include "ntasweep/config/ini_scan.h"
#include "ntasweep/config/spec.h"

#define NTAS_MAX_RUNS 10000000L
#define NTAS_MAX_LIST 100000
#define NTAS_MAX_AXES 64
#ifndef NTAS_MAX_VARS
#define NTAS_MAX_VARS 32   /* = spec.h's */
#endif
#define NTAS_VAR_BASE 1000   /* axis index of variable v is NTAS_VAR_BASE + v */

typedef struct {
    char name[NTAS_NAME_LEN];
    char value[64];   /* canonical text of the default */
    int loc;
} ntas_var_def;

/* One varying or fixed key (a parameter, or a variable at NTAS_VAR_BASE + v),
 * with where its value(s) came from. */
typedef struct {
    int param;
    int loc;            /* file and line; 0: default; -1: --set */
    char **values;      /* n_values strings */
    int n_values;
} ntas_axis;

typedef struct {
    int target;         /* parameter index or NTAS_VAR_BASE + variable */
    int loc;
    char *expr;
} ntas_derived_def;

typedef struct {
    char name[NTAS_NAME_LEN];
    ntas_axis *keys;    /* each with one value */
    int n_keys;
} ntas_case_def;

typedef struct {
    ntas_axis fixed[NTAS_MAX_AXES];    /* [params]: one value each */
    int n_fixed;
    ntas_axis grid[NTAS_MAX_AXES];
    int n_grid;
    ntas_axis zip[NTAS_MAX_AXES];      /* equally long lists that vary together */
    int n_zip;
    ntas_derived_def derived[NTAS_MAX_AXES];
    int n_derived;
    ntas_var_def vars[NTAS_MAX_VARS];
    int n_vars;
    ntas_case_def *cases;
    int n_cases;
    ntas_axis over[NTAS_MAX_AXES];     /* --set */
    int n_over;
    int replicates, replicates_loc;
} ntas_plan;

/* Builds pl from sc's entries and the "key=value" overrides; sets s->name
 * from [sweep] name. 0, or -1 with the message in sc->err. */
int  ntas_plan_build(ntas_ini_scan *sc, ntas_spec *s, ntas_plan *pl, const char *const *overrides, int n_overrides);
void ntas_plan_free(ntas_plan *pl);

const char *ntas_plan_key_name(const ntas_plan *pl, int param);
/* The axis of param in list[0..n-1], or NULL. */
const ntas_axis *ntas_plan_find_axis(const ntas_axis *list, int n, int param);
/* Index of a [vars] name, or -1. */
int ntas_plan_find_var(const ntas_plan *pl, const char *name);

/* Plain decimal number (no hex, inf, nan), whole string. 0, or -1. */
int  ntas_parse_plain_real(const char *text, double *v);
/* Shortest text that reads back to v (-0 written as 0). */
void ntas_format_real(double v, char *buf, size_t len);

#endif
