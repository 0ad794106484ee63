/* spec — sweep file scanner, checks and expansion. See spec.h.
 *
 * Two passes read the file. Our own line scanner comes first: it knows line
 * numbers (iniparser does not), rejects anything that is not plain INI
 * (binary junk, missing '=', keys outside sections, duplicates iniparser
 * would silently overwrite), and so guarantees iniparser only ever sees a
 * well-formed file, in the part of INI where both read the same: constructs
 * iniparser reads differently (quotes, a comment after a section header, a
 * trailing backslash, which iniparser takes as a line continuation even in a
 * comment) are refused with the line. iniparser then reads the values, and
 * any disagreement with the scanner is reported at the key's line. */
#include "ntasweep/spec.h"

#include <ctype.h>
#include <errno.h>
#include <iniparser.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/rng.h"

#define MAX_FILE_BYTES (1 << 20)
#define MAX_LINE 1000
#define MAX_RUNS 10000000L
#define MAX_LIST 100000

typedef struct {
    char section[NTAS_NAME_LEN + 8];
    char key[NTAS_NAME_LEN];
    int line;
    char *value;   /* the scanner's text of the value, owned here */
} entry;

typedef struct {
    const char *path;
    entry *entries;
    int n_entries, cap;
    char *err;
    size_t errlen;
} scan;

static int fail(scan *sc, int line, const char *key, const char *fmt, ...)
{
    size_t used;
    if (line > 0 && key) used = (size_t)snprintf(sc->err, sc->errlen, "%s:%d: key '%s': ", sc->path, line, key);
    else if (line > 0) used = (size_t)snprintf(sc->err, sc->errlen, "%s:%d: ", sc->path, line);
    else if (line == 0 && key) used = (size_t)snprintf(sc->err, sc->errlen, "%s: key '%s': ", sc->path, key);
    else if (key) used = (size_t)snprintf(sc->err, sc->errlen, "--set %s: ", key);
    else used = (size_t)snprintf(sc->err, sc->errlen, "%s: ", sc->path);
    if (used < sc->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(sc->err + used, sc->errlen - used, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void ntas_hex64(uint64_t v, char *buf)
{
    snprintf(buf, 17, "%016llx", (unsigned long long)v);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

static int name_ok(const char *s, const char *extra)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && !strchr(extra, *s)) return 0;
    return 1;
}

static int read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open sweep file: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(MAX_FILE_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_FILE_BYTES + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        snprintf(err, errlen, "%s: cannot read sweep file", path);
        return -1;
    }
    if (n > MAX_FILE_BYTES) {
        free(buf);
        snprintf(err, errlen, "%s: sweep file larger than %d bytes", path, MAX_FILE_BYTES);
        return -1;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

/* Appends an entry (section and key are already length-checked). */
static int push_entry(scan *sc, const char *section, const char *key, int line)
{
    if (sc->n_entries == sc->cap) {
        int cap = sc->cap ? 2 * sc->cap : 64;
        entry *e = realloc(sc->entries, (size_t)cap * sizeof *e);
        if (!e) return -1;
        sc->entries = e;
        sc->cap = cap;
    }
    entry *e = &sc->entries[sc->n_entries++];
    memset(e, 0, sizeof *e);
    strcpy(e->section, section);
    strcpy(e->key, key);
    e->line = line;
    return 0;
}

/* Pass 1: structure and line numbers. Fills sc->entries (without values). */
static int scan_lines(scan *sc, const char *text, size_t len)
{
    char section[NTAS_NAME_LEN + 8] = "";
    int line = 0;
    size_t pos = 0;
    while (pos < len) {
        line++;
        size_t end = pos;
        while (end < len && text[end] != '\n') end++;
        size_t n = end - pos;
        if (n > MAX_LINE) return fail(sc, line, NULL, "line longer than %d characters", MAX_LINE);
        char buf[MAX_LINE + 1];
        memcpy(buf, text + pos, n);
        buf[n] = '\0';
        pos = end + 1;
        if (n > 0 && buf[n - 1] == '\r') buf[--n] = '\0';
        if (strlen(buf) != n) return fail(sc, line, NULL, "binary data (NUL byte): not a sweep file");
        char *s = trim(buf);
        /* iniparser joins a line ending in '\' with the next, even a comment. */
        const int continued = *s && s[strlen(s) - 1] == '\\';
        if (continued && (*s == ';' || *s == '#' || *s == '['))
            return fail(sc, line, NULL, "line ends in '\\': line continuation is not supported (not even in a comment)");
        if (*s == '\0' || *s == ';' || *s == '#') continue;
        /* Outside comments only printable ASCII is allowed. */
        for (char *q = s; *q; q++) {
            unsigned char ch = (unsigned char)*q;
            if ((ch < 0x20 && ch != '\t') || ch >= 0x7f) {
                char *comment = strpbrk(s, ";#");
                if (comment && comment < q) break;
                return fail(sc, line, NULL, "unexpected byte 0x%02x: not a plain-text sweep file", ch);
            }
        }
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (!close) return fail(sc, line, NULL, "section header without ']'");
            char *rest = trim(close + 1);
            if (*rest)
                return fail(sc, line, NULL, "text after section header: '%s' (put a comment on its own line)", rest);
            *close = '\0';
            char *name = trim(s + 1);
            for (char *q = name; *q; q++) *q = (char)tolower((unsigned char)*q);
            if (strlen(name) >= sizeof section || !name_ok(name, ".-"))
                return fail(sc, line, NULL, "bad section name '[%s]'", name);
            int known = !strcmp(name, "sweep") || !strcmp(name, "params") || !strcmp(name, "grid") ||
                        (!strncmp(name, "case.", 5) && name[5] != '\0');
            if (!known)
                return fail(sc, line, NULL, "unknown section '[%s]' (expected [sweep], [params], [grid] or [case.NAME])", name);
            for (int i = 0; i < sc->n_entries; i++)
                if (!strcmp(sc->entries[i].section, name) && sc->entries[i].key[0] == '\0')
                    return fail(sc, line, NULL, "section '[%s]' appears twice (first at line %d)", name, sc->entries[i].line);
            strcpy(section, name);
            /* A marker entry with an empty key remembers where the section is. */
            if (push_entry(sc, name, "", line) != 0) return fail(sc, line, NULL, "out of memory");
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) return fail(sc, line, NULL, "expected 'key = value', found '%.60s'", s);
        *eq = '\0';
        char *key = trim(s);
        char *value = trim(eq + 1);
        for (char *q = key; *q; q++) *q = (char)tolower((unsigned char)*q);
        if (!name_ok(key, "") || strlen(key) >= NTAS_NAME_LEN)
            return fail(sc, line, NULL, "bad key name '%.60s'", key);
        if (section[0] == '\0') return fail(sc, line, key, "key outside any section");
        if (continued) return fail(sc, line, key, "line ends in '\\': line continuation is not supported");
        char *comment = strpbrk(value, ";#");
        if (comment) *comment = '\0';
        value = trim(value);
        if (value[0] == '\0') return fail(sc, line, key, "missing value");
        if (strpbrk(value, "\"'"))
            return fail(sc, line, key, "quotes are not supported: write the value without them");
        for (int i = 0; i < sc->n_entries; i++)
            if (!strcmp(sc->entries[i].section, section) && !strcmp(sc->entries[i].key, key))
                return fail(sc, line, key, "duplicate key in [%s] (first at line %d)", section, sc->entries[i].line);
        if (push_entry(sc, section, key, line) != 0 ||
            !(sc->entries[sc->n_entries - 1].value = strdup(value)))
            return fail(sc, line, key, "out of memory");
    }
    return 0;
}

/* Pass 2: iniparser reads the file; its values must be the scanner's. */
static int load_values(scan *sc)
{
    dictionary *d = iniparser_load(sc->path);
    if (!d) return fail(sc, 0, NULL, "iniparser could not parse the file");
    int rc = 0;
    for (int i = 0; i < sc->n_entries && rc == 0; i++) {
        entry *e = &sc->entries[i];
        if (e->key[0] == '\0') continue;
        char lookup[2 * NTAS_NAME_LEN + 16];
        snprintf(lookup, sizeof lookup, "%s:%s", e->section, e->key);
        const char *v = iniparser_getstring(d, lookup, NULL);
        if (!v) rc = fail(sc, e->line, e->key, "iniparser does not see this key: check the lines above it");
        else if (strcmp(v, e->value) != 0)
            rc = fail(sc, e->line, e->key, "iniparser reads the value as '%.60s', not '%.60s'", v, e->value);
    }
    iniparser_freedict(d);
    return rc;
}

/* One varying or fixed key, with where its value(s) came from. */
typedef struct {
    int param;          /* index into ntas_param_table */
    int line;           /* > 0: file line; 0: default; -1: --set */
    char **values;      /* n_values strings */
    int n_values;
} axis;

static void free_axis(axis *a)
{
    for (int i = 0; i < a->n_values; i++) free(a->values[i]);
    free(a->values);
    a->values = NULL;
    a->n_values = 0;
}

/* Checks that text parses as key's type and range; reports at line. With
 * canon, also gives the value's canonical text (equal values, equal text). */
static int check_value(scan *sc, int param, const char *text, int line, char *canon, size_t canon_len)
{
    ntas_params scratch;
    ntas_params_defaults(&scratch);
    char why[256];
    if (ntas_param_parse(&ntas_param_table[param], text, &scratch, why, sizeof why) != 0)
        return fail(sc, line, ntas_param_table[param].key, "%s", why);
    if (canon) ntas_param_format(&ntas_param_table[param], &scratch, canon, canon_len);
    return 0;
}

static int lookup_key(scan *sc, const char *key, int line)
{
    int idx = ntas_param_find(key);
    if (idx >= 0) return idx;
    const char *hint = ntas_param_suggest(key);
    if (hint) return fail(sc, line, key, "unknown key (did you mean '%s'?)", hint), -1;
    return fail(sc, line, key, "unknown key (run 'ntasweep --help' for the list)"), -1;
}

/* Splits a comma-separated list into a's values, checking each. Values are
 * kept in canonical text, so 1.3 and 1.30 (or 0 and -0) are one point. */
static int split_list(scan *sc, axis *a, const char *text)
{
    char *copy = strdup(text);
    if (!copy) return fail(sc, a->line, ntas_param_table[a->param].key, "out of memory");
    int rc = 0;
    int commas = 0;
    for (const char *q = text; *q; q++) commas += *q == ',';
    if (commas + 1 > MAX_LIST) rc = fail(sc, a->line, ntas_param_table[a->param].key, "list longer than %d values", MAX_LIST);
    a->values = rc ? NULL : calloc((size_t)commas + 1, sizeof *a->values);
    if (!rc && !a->values) rc = fail(sc, a->line, ntas_param_table[a->param].key, "out of memory");
    /* strtok_r would merge empty items; walk by hand so "1,,2" is an error. */
    char *item = copy;
    while (rc == 0) {
        char *comma = strchr(item, ',');
        if (comma) *comma = '\0';
        char *v = trim(item);
        if (*v == '\0') {
            rc = fail(sc, a->line, ntas_param_table[a->param].key, "empty item in list");
            break;
        }
        char canon[128];
        if ((rc = check_value(sc, a->param, v, a->line, canon, sizeof canon)) != 0) break;
        for (int i = 0; i < a->n_values && rc == 0; i++)
            if (!strcmp(a->values[i], canon))
                rc = fail(sc, a->line, ntas_param_table[a->param].key, "value %s listed twice", canon);
        if (rc) break;
        if (!(a->values[a->n_values] = strdup(canon))) {
            rc = fail(sc, a->line, ntas_param_table[a->param].key, "out of memory");
            break;
        }
        a->n_values++;
        if (!comma) break;
        item = comma + 1;
    }
    free(copy);
    return rc;
}

typedef struct {
    char name[NTAS_NAME_LEN];
    axis *keys;        /* each with one value */
    int n_keys;
} case_def;

static int set_one(axis *a, int param, int line, const char *value)
{
    a->param = param;
    a->line = line;
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

typedef struct {
    axis fixed[64];    /* [params]: one value each */
    int n_fixed;
    axis grid[64];
    int n_grid;
    case_def *cases;
    int n_cases;
    axis over[64];     /* --set */
    int n_over;
    int replicates, replicates_line;
} plan;

static void free_plan(plan *pl)
{
    for (int i = 0; i < pl->n_fixed; i++) free_axis(&pl->fixed[i]);
    for (int i = 0; i < pl->n_grid; i++) free_axis(&pl->grid[i]);
    for (int i = 0; i < pl->n_over; i++) free_axis(&pl->over[i]);
    for (int c = 0; c < pl->n_cases; c++) {
        for (int i = 0; i < pl->cases[c].n_keys; i++) free_axis(&pl->cases[c].keys[i]);
        free(pl->cases[c].keys);
    }
    free(pl->cases);
}

static axis *find_axis(axis *list, int n, int param)
{
    for (int i = 0; i < n; i++)
        if (list[i].param == param) return &list[i];
    return NULL;
}

static int build_plan(scan *sc, ntas_spec *s, plan *pl, const char *const *overrides, int n_overrides)
{
    memset(pl, 0, sizeof *pl);
    int have_runs_section = 0;
    for (int i = 0; i < sc->n_entries; i++) {
        entry *e = &sc->entries[i];
        const char *sec = e->section;
        if (!strncmp(sec, "case.", 5) && e->key[0] == '\0') {
            case_def *nc = realloc(pl->cases, (size_t)(pl->n_cases + 1) * sizeof *nc);
            if (!nc) return fail(sc, e->line, NULL, "out of memory");
            pl->cases = nc;
            memset(&nc[pl->n_cases], 0, sizeof *nc);
            if (strlen(sec + 5) >= NTAS_NAME_LEN) return fail(sc, e->line, NULL, "case name too long");
            strcpy(nc[pl->n_cases].name, sec + 5);
            pl->n_cases++;
            have_runs_section = 1;
            continue;
        }
        if (e->key[0] == '\0') {
            have_runs_section |= strcmp(sec, "sweep") != 0;
            continue;
        }
        if (!strcmp(sec, "sweep")) {
            if (!strcmp(e->key, "name")) {
                if (strlen(e->value) >= sizeof s->name || !name_ok(e->value, ".-"))
                    return fail(sc, e->line, e->key, "name must be letters, digits, '_', '.', '-' (at most %d)", NTAS_NAME_LEN - 1);
                strcpy(s->name, e->value);
            } else if (!strcmp(e->key, "description")) {
                /* free text for humans; kept in spec_text */
            } else if (!strcmp(e->key, "replicates")) {
                char *end;
                errno = 0;
                long v = strtol(e->value, &end, 10);
                if (*end || errno || v < 1 || v > 1000000)
                    return fail(sc, e->line, e->key, "'%s' must be an integer in [1, 1000000]", e->value);
                pl->replicates = (int)v;
                pl->replicates_line = e->line;
            } else {
                return fail(sc, e->line, e->key, "unknown key in [sweep] (expected name, description, replicates)");
            }
            continue;
        }
        int param = lookup_key(sc, e->key, e->line);
        if (param < 0) return -1;
        if (!strcmp(sec, "params")) {
            if (pl->n_fixed == 64) return fail(sc, e->line, e->key, "too many keys");
            axis *a = &pl->fixed[pl->n_fixed++];
            if (set_one(a, param, e->line, e->value)) return fail(sc, e->line, e->key, "out of memory");
            if (check_value(sc, param, e->value, e->line, NULL, 0)) return -1;
        } else if (!strcmp(sec, "grid")) {
            if (pl->n_grid == 64) return fail(sc, e->line, e->key, "too many keys");
            axis *a = &pl->grid[pl->n_grid++];
            a->param = param;
            a->line = e->line;
            if (split_list(sc, a, e->value)) return -1;
        } else { /* case.NAME: the most recent case */
            case_def *c = &pl->cases[pl->n_cases - 1];
            axis *na = realloc(c->keys, (size_t)(c->n_keys + 1) * sizeof *na);
            if (!na) return fail(sc, e->line, e->key, "out of memory");
            c->keys = na;
            memset(&na[c->n_keys], 0, sizeof *na);
            if (set_one(&na[c->n_keys++], param, e->line, e->value)) return fail(sc, e->line, e->key, "out of memory");
            if (check_value(sc, param, e->value, e->line, NULL, 0)) return -1;
        }
    }
    if (!have_runs_section)
        return fail(sc, 0, NULL, "no [params], [grid] or [case.NAME] section: nothing to run");

    /* A key varies in one place only; cases may refine [params]. */
    for (int g = 0; g < pl->n_grid; g++) {
        const char *key = ntas_param_table[pl->grid[g].param].key;
        axis *f = find_axis(pl->fixed, pl->n_fixed, pl->grid[g].param);
        if (f) return fail(sc, pl->grid[g].line, key, "set in [params] (line %d) and varied in [grid]", f->line);
        for (int c = 0; c < pl->n_cases; c++) {
            axis *k = find_axis(pl->cases[c].keys, pl->cases[c].n_keys, pl->grid[g].param);
            if (k) return fail(sc, k->line, key, "set in [case.%s] and varied in [grid] (line %d)", pl->cases[c].name, pl->grid[g].line);
        }
        if (!strcmp(key, "seed") && pl->replicates)
            return fail(sc, pl->grid[g].line, key, "seed is varied in [grid] and by [sweep] replicates (line %d): use one", pl->replicates_line);
    }
    if (pl->replicates) {
        int seed = ntas_param_find("seed");
        if (find_axis(pl->fixed, pl->n_fixed, seed))
            return fail(sc, find_axis(pl->fixed, pl->n_fixed, seed)->line, "seed", "set in [params] and by [sweep] replicates (line %d): use one", pl->replicates_line);
        for (int c = 0; c < pl->n_cases; c++)
            if (find_axis(pl->cases[c].keys, pl->cases[c].n_keys, seed))
                return fail(sc, find_axis(pl->cases[c].keys, pl->cases[c].n_keys, seed)->line, "seed", "set in [case.%s] and by [sweep] replicates: use one", pl->cases[c].name);
    }

    /* --set key=value applies to every run: it replaces the key wherever the
     * file sets or varies it (a varied key collapses to the one value). */
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
        char *k = trim(key);
        int param = ntas_param_find(k);
        if (param < 0) {
            const char *hint = ntas_param_suggest(k);
            snprintf(sc->err, sc->errlen, "--set %s: key '%s': unknown key%s%s%s", overrides[i], k,
                     hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
            return -1;
        }
        if (pl->n_over == 64) return fail(sc, -1, k, "too many --set");
        ntas_params scratch;
        ntas_params_defaults(&scratch);
        char why[256];
        if (ntas_param_parse(&ntas_param_table[param], eqs + 1, &scratch, why, sizeof why) != 0) {
            snprintf(sc->err, sc->errlen, "--set %s: key '%s': %s", overrides[i], k, why);
            return -1;
        }
        axis *prev = find_axis(pl->over, pl->n_over, param);
        if (prev) free_axis(prev);
        axis *a = prev ? prev : &pl->over[pl->n_over++];
        char *v = trim((char *)eqs + 1);
        if (set_one(a, param, -1, v)) return fail(sc, -1, k, "out of memory");
        if (!strcmp(k, "seed")) pl->replicates = 0;
    }
    return 0;
}

static int apply(scan *sc, ntas_params *p, int *origin, const axis *a, int value_index)
{
    char why[256];
    if (ntas_param_parse(&ntas_param_table[a->param], a->values[value_index], p, why, sizeof why) != 0)
        return fail(sc, a->line, ntas_param_table[a->param].key, "%s", why);
    origin[a->param] = a->line;
    return 0;
}

static int cmp_key(const void *a, const void *b)
{
    const ntas_run *x = *(ntas_run *const *)a, *y = *(ntas_run *const *)b;
    return x->key < y->key ? -1 : x->key > y->key;
}

static int expand(scan *sc, ntas_spec *s, plan *pl)
{
    int n_cases = pl->n_cases ? pl->n_cases : 1;
    int n_seeds = pl->replicates ? pl->replicates : 1;
    long total = (long)n_cases * n_seeds;
    if (total > MAX_RUNS)
        return fail(sc, pl->replicates_line, "replicates", "%d cases x %d replicates exceed %ld runs", n_cases, n_seeds, MAX_RUNS);
    for (int g = 0; g < pl->n_grid; g++) {
        int nv = find_axis(pl->over, pl->n_over, pl->grid[g].param) ? 1 : pl->grid[g].n_values;
        if (total > MAX_RUNS / nv)
            return fail(sc, pl->grid[g].line, ntas_param_table[pl->grid[g].param].key, "the sweep expands to more than %ld runs", MAX_RUNS);
        total *= nv;
    }
    s->runs = calloc((size_t)total, sizeof *s->runs);
    if (!s->runs) return fail(sc, 0, NULL, "out of memory for %ld runs", total);
    int seed_param = ntas_param_find("seed");
    long r = 0;
    for (int c = 0; c < n_cases; c++) {
        long grid_total = total / n_cases / n_seeds;
        for (long gi = 0; gi < grid_total; gi++) {
            for (int si = 0; si < n_seeds; si++, r++) {
                ntas_run *run = &s->runs[r];
                int origin[128] = {0};
                ntas_params_defaults(&run->params);
                for (int i = 0; i < pl->n_fixed; i++)
                    if (apply(sc, &run->params, origin, &pl->fixed[i], 0)) return -1;
                if (pl->n_cases) {
                    strcpy(run->case_name, pl->cases[c].name);
                    for (int i = 0; i < pl->cases[c].n_keys; i++)
                        if (apply(sc, &run->params, origin, &pl->cases[c].keys[i], 0)) return -1;
                }
                /* Mixed-radix index over the grid, first axis slowest. */
                long rest = gi;
                for (int g = pl->n_grid - 1; g >= 0; g--) {
                    if (find_axis(pl->over, pl->n_over, pl->grid[g].param)) continue;
                    int nv = pl->grid[g].n_values;
                    if (apply(sc, &run->params, origin, &pl->grid[g], (int)(rest % nv))) return -1;
                    rest /= nv;
                }
                if (pl->replicates) {
                    run->params.seed = si;
                    origin[seed_param] = pl->replicates_line;
                }
                for (int i = 0; i < pl->n_over; i++)
                    if (apply(sc, &run->params, origin, &pl->over[i], 0)) return -1;
                char why[512];
                const char *bad = NULL;
                if (ntas_params_validate(&run->params, why, sizeof why, &bad) != 0) {
                    int bi = ntas_param_find(bad);
                    int line = bi >= 0 ? origin[bi] : 0;
                    char where[128] = "";
                    if (run->case_name[0]) snprintf(where, sizeof where, " (run %ld, case %s)", r, run->case_name);
                    else snprintf(where, sizeof where, " (run %ld)", r);
                    if (line == 0) return fail(sc, 0, bad, "%s%s [default value]", why, where);
                    return fail(sc, line, bad, "%s%s", why, where);
                }
                run->key = ntas_params_run_key(&run->params);
            }
        }
    }
    s->n_runs = (int)total;

    /* Two runs computing the same thing would be one result stored twice. */
    ntas_run **sorted = malloc((size_t)total * sizeof *sorted);
    if (!sorted) return fail(sc, 0, NULL, "out of memory");
    for (long i = 0; i < total; i++) sorted[i] = &s->runs[i];
    qsort(sorted, (size_t)total, sizeof *sorted, cmp_key);
    for (long i = 1; i < total; i++)
        if (sorted[i]->key == sorted[i - 1]->key) {
            long a = sorted[i - 1] - s->runs, b = sorted[i] - s->runs;
            if (a > b) { long t = a; a = b; b = t; }
            free(sorted);
            return fail(sc, 0, NULL, "runs %ld%s%s and %ld%s%s have identical parameters (a case or --set repeats another)",
                        a, s->runs[a].case_name[0] ? " case " : "", s->runs[a].case_name,
                        b, s->runs[b].case_name[0] ? " case " : "", s->runs[b].case_name);
        }
    free(sorted);
    return 0;
}

int ntas_spec_load(ntas_spec *s, const char *path, const char *const *overrides, int n_overrides,
                   char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    scan sc = {.path = path, .err = err, .errlen = errlen};
    plan pl;
    memset(&pl, 0, sizeof pl);
    size_t len = 0;
    int rc = -1;
    if (!(s->path = strdup(path))) { snprintf(err, errlen, "out of memory"); goto out; }
    if (read_file(path, &s->text, &len, err, errlen)) goto out;
    if (len == 0) { fail(&sc, 0, NULL, "empty sweep file"); goto out; }
    if (scan_lines(&sc, s->text, len) || load_values(&sc)) goto out;
    {
        /* Default name: the file's base name without extension. */
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        size_t n = strcspn(base, ".");
        if (n >= sizeof s->name) n = sizeof s->name - 1;
        memcpy(s->name, base, n);
        s->name[n] = '\0';
        /* Same alphabet as an explicit `name =`. */
        for (char *q = s->name; *q; q++)
            if (!isalnum((unsigned char)*q) && *q != '_' && *q != '-') *q = '_';
        if (s->name[0] == '\0') strcpy(s->name, "sweep");
    }
    if (build_plan(&sc, s, &pl, overrides, n_overrides) || expand(&sc, s, &pl)) goto out;
    {
        size_t olen = 1;
        for (int i = 0; i < n_overrides; i++) olen += strlen(overrides[i]) + 8;
        if (!(s->overrides = malloc(olen))) { snprintf(err, errlen, "out of memory"); goto out; }
        s->overrides[0] = '\0';
        for (int i = 0; i < n_overrides; i++) {
            strcat(s->overrides, "--set ");
            strcat(s->overrides, overrides[i]);
            if (i + 1 < n_overrides) strcat(s->overrides, "\n");
        }
        s->hash = ntas_hash64(s->text, len, 0);
        s->hash = ntas_hash64(s->overrides, strlen(s->overrides), s->hash);
    }
    rc = 0;
out:
    for (int i = 0; i < sc.n_entries; i++) free(sc.entries[i].value);
    free(sc.entries);
    free_plan(&pl);
    if (rc) ntas_spec_free(s);
    return rc;
}

void ntas_spec_free(ntas_spec *s)
{
    free(s->path);
    free(s->text);
    free(s->overrides);
    free(s->runs);
    memset(s, 0, sizeof *s);
}
