/* spec — a sweep file's three stages, one after the other: the INI scanner
 * (ini_scan.h), the plan of which key gets which values (plan.h, with the
 * [derived] expressions of expr.h) and the expansion into runs (expand.h).
 * See spec.h. */
#include "ntasweep/config/spec.h"
#include "ntasweep/core/err.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/config/expand.h"
#include "ntasweep/config/ini_scan.h"
#include "ntasweep/config/plan.h"
#include "ntasweep/core/rng.h"

void ntas_hex64(uint64_t v, char *buf)
{
    snprintf(buf, 17, "%016llx", (unsigned long long)v);
}

/* Default name: the file's base name without extension, in the alphabet of
 * an explicit `name =`. */
static void default_name(ntas_spec *s, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strcspn(base, ".");
    if (n >= sizeof s->name) n = sizeof s->name - 1;
    memcpy(s->name, base, n);
    s->name[n] = '\0';
    for (char *q = s->name; *q; q++)
        if (!isalnum((unsigned char)*q) && *q != '_' && *q != '-') *q = '_';
    if (s->name[0] == '\0') strcpy(s->name, "sweep");
}

/* The text that identifies the sweep: file(s), then the --set options. */
static int set_text_and_hash(ntas_spec *s, const ntas_ini_scan *sc, const char *const *overrides, int n_overrides)
{
    size_t olen = 1;
    for (int i = 0; i < n_overrides; i++) olen += strlen(overrides[i]) + 8;
    if (!(s->overrides = malloc(olen)) || !(s->text = ntas_ini_joined_text(sc))) return -1;
    s->overrides[0] = '\0';
    for (int i = 0; i < n_overrides; i++) {
        strcat(s->overrides, "--set ");
        strcat(s->overrides, overrides[i]);
        if (i + 1 < n_overrides) strcat(s->overrides, "\n");
    }
    s->hash = ntas_hash64(s->text, strlen(s->text), 0);
    s->hash = ntas_hash64(s->overrides, strlen(s->overrides), s->hash);
    return 0;
}

static int load(ntas_spec *s, const char *path, const char *const *overrides, int n_overrides, int expand,
                char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    ntas_ini_scan sc = {.err = err, .errlen = errlen};
    ntas_plan pl;
    memset(&pl, 0, sizeof pl);
    int rc = -1;
    if (!(s->path = strdup(path))) { ntas_set_err(err, errlen, "out of memory"); goto out; }
    if (ntas_ini_read(&sc, path)) goto out;
    default_name(s, path);
    if (ntas_plan_build(&sc, s, &pl, overrides, n_overrides)) goto out;
    /* The variables go into the results file beside the parameters. */
    for (int v = 0; v < pl.n_vars; v++) snprintf(s->var_names[v], NTAS_NAME_LEN, "%s", pl.vars[v].name);
    s->n_vars = pl.n_vars;
    if (expand && ntas_expand(&sc, s, &pl)) goto out;
    if (set_text_and_hash(s, &sc, overrides, n_overrides) != 0) { ntas_set_err(err, errlen, "out of memory"); goto out; }
    rc = 0;
out:
    ntas_ini_scan_free(&sc);
    ntas_plan_free(&pl);
    if (rc) ntas_spec_free(s);
    return rc;
}

int ntas_spec_load(ntas_spec *s, const char *path, const char *const *overrides, int n_overrides,
                   char *err, size_t errlen)
{
    return load(s, path, overrides, n_overrides, 1, err, errlen);
}

int ntas_spec_load_text(ntas_spec *s, const char *path, const char *const *overrides, int n_overrides,
                        char *err, size_t errlen)
{
    return load(s, path, overrides, n_overrides, 0, err, errlen);
}

void ntas_spec_free(ntas_spec *s)
{
    free(s->path);
    free(s->text);
    free(s->overrides);
    free(s->runs);
    memset(s, 0, sizeof *s);
}

int ntas_spec_set_runs(ntas_spec *s, const int *order, int n, char *err, size_t errlen)
{
    ntas_run *runs = malloc((size_t)(n > 0 ? n : 1) * sizeof *runs);
    if (!runs) { ntas_set_err(err, errlen, "out of memory"); return -1; }
    for (int i = 0; i < n; i++) {
        if (order[i] < 0 || order[i] >= s->n_runs) {
            free(runs);
            ntas_set_err(err, errlen, "internal: run order names run %d of %d", order[i], s->n_runs);
            return -1;
        }
        runs[i] = s->runs[order[i]];
    }
    free(s->runs);
    s->runs = runs;
    s->n_runs = n;
    return 0;
}