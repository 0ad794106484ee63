/* spec — sweep file scanner, checks and expansion. See spec.h.
 *
 * Two passes read each file. Our own line scanner comes first: it knows line
 * numbers (iniparser does not), rejects anything that is not plain INI
 * (binary junk, missing '=', keys outside sections, duplicates iniparser
 * would silently overwrite), and so guarantees iniparser only ever sees a
 * well-formed file, in the part of INI where both read the same: constructs
 * iniparser reads differently (quotes, a comment after a section header, a
 * trailing backslash, which iniparser takes as a line continuation even in a
 * comment) are refused with the line. iniparser then reads the values, and
 * any disagreement with the scanner is reported at the key's line.
 *
 * Locations: an `int loc` names a file and a line at once, (file << 24) |
 * line, so every error can name the included file it comes from. loc 0 is
 * the main file without a line, -1 a --set option. */
#include "ntasweep/config/spec.h"

#include <ctype.h>
#include <errno.h>
#include <iniparser.h>
#include <unistd.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/core/rng.h"

#define MAX_FILE_BYTES (1 << 20)
#define MAX_LINE 1000
#define MAX_RUNS 10000000L
#define MAX_LIST 100000
#define MAX_FILES 16          /* main file plus includes */
#define MAX_INCLUDE_DEPTH 8
#define MAX_AXES 64
#define MAX_VARS NTAS_MAX_VARS
#define VAR_BASE 1000         /* axis index of variable v is VAR_BASE + v */
#define LOC_SHIFT 24
#define LOC(file, line) (((file) << LOC_SHIFT) | (line))
#define LINE_OF(loc) ((loc) & ((1 << LOC_SHIFT) - 1))

typedef struct {
    char section[NTAS_NAME_LEN + 8];
    char key[NTAS_NAME_LEN];
    int loc;
    char *value;   /* the scanner's text of the value, owned here */
} entry;

typedef struct {
    entry *e;
    int n, cap;
} entry_list;

typedef struct {
    char *path;    /* as given (main) or resolved against the includer's directory */
    char *real;    /* realpath, for include-loop detection */
    char *text;
    size_t len;
} src_file;

typedef struct {
    src_file files[MAX_FILES];
    int n_files;
    entry_list entries;   /* merged over includes */
    char *err;
    size_t errlen;
} scan;

static int fail(scan *sc, int loc, const char *key, const char *fmt, ...)
{
    size_t used;
    if (loc >= 0) {
        int f = loc >> LOC_SHIFT, line = LINE_OF(loc);
        const char *path = f < sc->n_files ? sc->files[f].path : "?";
        if (line > 0 && key) used = (size_t)snprintf(sc->err, sc->errlen, "%s:%d: key '%s': ", path, line, key);
        else if (line > 0) used = (size_t)snprintf(sc->err, sc->errlen, "%s:%d: ", path, line);
        else if (key) used = (size_t)snprintf(sc->err, sc->errlen, "%s: key '%s': ", path, key);
        else used = (size_t)snprintf(sc->err, sc->errlen, "%s: ", path);
    } else if (key) used = (size_t)snprintf(sc->err, sc->errlen, "--set %s: ", key);
    else used = 0;
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

static void free_entries(entry_list *l)
{
    for (int i = 0; i < l->n; i++) free(l->e[i].value);
    free(l->e);
    memset(l, 0, sizeof *l);
}

/* Appends an entry (section and key are already length-checked); takes value. */
static int push_entry(entry_list *l, const char *section, const char *key, int loc, char *value)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        entry *e = realloc(l->e, (size_t)cap * sizeof *e);
        if (!e) { free(value); return -1; }
        l->e = e;
        l->cap = cap;
    }
    entry *e = &l->e[l->n++];
    memset(e, 0, sizeof *e);
    strcpy(e->section, section);
    strcpy(e->key, key);
    e->loc = loc;
    e->value = value;
    return 0;
}

static int section_known(const char *name)
{
    static const char *const plain[] = {"sweep", "params", "grid", "zip", "vars", "derived", NULL};
    for (int i = 0; plain[i]; i++)
        if (!strcmp(name, plain[i])) return 1;
    return !strncmp(name, "case.", 5) && name[5] != '\0';
}

/* Pass 1: structure and line numbers of file `fi` into out. */
static int scan_lines(scan *sc, int fi, entry_list *out)
{
    const char *text = sc->files[fi].text;
    const size_t len = sc->files[fi].len;
    char section[NTAS_NAME_LEN + 8] = "";
    int line = 0;
    size_t pos = 0;
    /* A UTF-8 byte-order mark (Windows editors write one) is not text. */
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) pos = 3;
    while (pos < len) {
        line++;
        const int loc = LOC(fi, line);
        size_t end = pos;
        while (end < len && text[end] != '\n') end++;
        size_t n = end - pos;
        if (n > MAX_LINE) return fail(sc, loc, NULL, "line longer than %d characters", MAX_LINE);
        char buf[MAX_LINE + 1];
        memcpy(buf, text + pos, n);
        buf[n] = '\0';
        pos = end + 1;
        if (n > 0 && buf[n - 1] == '\r') buf[--n] = '\0';
        if (strlen(buf) != n) return fail(sc, loc, NULL, "binary data (NUL byte): not a sweep file");
        char *s = trim(buf);
        /* iniparser joins a line ending in '\' with the next, even a comment. */
        const int continued = *s && s[strlen(s) - 1] == '\\';
        if (continued && (*s == ';' || *s == '#' || *s == '['))
            return fail(sc, loc, NULL, "line ends in '\\': line continuation is not supported (not even in a comment)");
        if (*s == '\0' || *s == ';' || *s == '#') continue;
        /* Outside comments only printable ASCII is allowed. */
        for (char *q = s; *q; q++) {
            unsigned char ch = (unsigned char)*q;
            if ((ch < 0x20 && ch != '\t') || ch >= 0x7f) {
                char *comment = strpbrk(s, ";#");
                if (comment && comment < q) break;
                return fail(sc, loc, NULL, "unexpected byte 0x%02x: not a plain-text sweep file", ch);
            }
        }
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (!close) return fail(sc, loc, NULL, "section header without ']'");
            char *rest = trim(close + 1);
            if (*rest)
                return fail(sc, loc, NULL, "text after section header: '%s' (put a comment on its own line)", rest);
            *close = '\0';
            char *name = trim(s + 1);
            for (char *q = name; *q; q++) *q = (char)tolower((unsigned char)*q);
            if (strlen(name) >= sizeof section || !name_ok(name, ".-"))
                return fail(sc, loc, NULL, "bad section name '[%s]'", name);
            if (!section_known(name))
                return fail(sc, loc, NULL, "unknown section '[%s]' (expected [sweep], [params], [grid], [zip], "
                                           "[vars], [derived] or [case.NAME])", name);
            for (int i = 0; i < out->n; i++)
                if (!strcmp(out->e[i].section, name) && out->e[i].key[0] == '\0')
                    return fail(sc, loc, NULL, "section '[%s]' appears twice (first at line %d)", name,
                                LINE_OF(out->e[i].loc));
            strcpy(section, name);
            /* A marker entry with an empty key remembers where the section is. */
            if (push_entry(out, name, "", loc, NULL) != 0) return fail(sc, loc, NULL, "out of memory");
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) return fail(sc, loc, NULL, "expected 'key = value', found '%.60s'", s);
        *eq = '\0';
        char *key = trim(s);
        char *value = trim(eq + 1);
        for (char *q = key; *q; q++) *q = (char)tolower((unsigned char)*q);
        if (!name_ok(key, "") || strlen(key) >= NTAS_NAME_LEN)
            return fail(sc, loc, NULL, "bad key name '%.60s'", key);
        if (section[0] == '\0') return fail(sc, loc, key, "key outside any section");
        if (continued) return fail(sc, loc, key, "line ends in '\\': line continuation is not supported");
        char *comment = strpbrk(value, ";#");
        if (comment) *comment = '\0';
        value = trim(value);
        if (value[0] == '\0') return fail(sc, loc, key, "missing value");
        if (strpbrk(value, "\"'"))
            return fail(sc, loc, key, "quotes are not supported: write the value without them");
        for (int i = 0; i < out->n; i++)
            if (!strcmp(out->e[i].section, section) && !strcmp(out->e[i].key, key))
                return fail(sc, loc, key, "duplicate key in [%s] (first at line %d)", section,
                            LINE_OF(out->e[i].loc));
        char *v = strdup(value);
        if (!v || push_entry(out, section, key, loc, v) != 0) return fail(sc, loc, key, "out of memory");
    }
    return 0;
}

/* Pass 2: iniparser reads the file; its values must be the scanner's. */
/* iniparser_load of file fi; a file that starts with a UTF-8 byte-order mark
 * is given to iniparser without it, through a private temporary copy
 * (iniparser reads only paths). */
static dictionary *load_with_iniparser(const scan *sc, int fi)
{
    const char *text = sc->files[fi].text;
    size_t len = sc->files[fi].len;
    if (len < 3 || memcmp(text, "\xEF\xBB\xBF", 3)) return iniparser_load(sc->files[fi].path);
    const char *dir = getenv("TMPDIR");
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s/ntasweep-bom-XXXXXX", dir && dir[0] ? dir : "/tmp");
    int fd = mkstemp(tmp);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "w");
    int ok = f && fwrite(text + 3, 1, len - 3, f) == len - 3;
    if (f ? fclose(f) != 0 : close(fd) != 0) ok = 0;
    dictionary *d = ok ? iniparser_load(tmp) : NULL;
    remove(tmp);
    return d;
}

static int check_with_iniparser(scan *sc, int fi, const entry_list *l)
{
    dictionary *d = load_with_iniparser(sc, fi);
    if (!d) return fail(sc, LOC(fi, 0), NULL, "iniparser could not parse the file");
    int rc = 0;
    for (int i = 0; i < l->n && rc == 0; i++) {
        const entry *e = &l->e[i];
        if (e->key[0] == '\0') continue;
        char lookup[2 * NTAS_NAME_LEN + 16];
        snprintf(lookup, sizeof lookup, "%s:%s", e->section, e->key);
        const char *v = iniparser_getstring(d, lookup, NULL);
        if (!v) rc = fail(sc, e->loc, e->key, "iniparser does not see this key: check the lines above it");
        else if (strcmp(v, e->value) != 0)
            rc = fail(sc, e->loc, e->key, "iniparser reads the value as '%.60s', not '%.60s'", v, e->value);
    }
    iniparser_freedict(d);
    return rc;
}

/* Sections whose keys give a parameter its value(s): a file that includes
 * another may move a key between them (e.g. vary in [grid] what the base
 * fixes in [params]). */
static int value_section(const char *s)
{
    return !strcmp(s, "params") || !strcmp(s, "grid") || !strcmp(s, "zip") || !strcmp(s, "derived");
}

/* Merges the including file's entries (own) over its base: same section and
 * key replaces in place, a value key moved to another value section drops the
 * base's, anything else is appended. Takes the values out of own. */
static int merge_over(entry_list *base, entry_list *own)
{
    int base_end = base->n;   /* only the base's entries can be overridden */
    for (int i = 0; i < own->n; i++) {
        entry *o = &own->e[i];
        if (!strcmp(o->section, "sweep") && !strcmp(o->key, "include")) continue;
        int same = -1;
        for (int j = 0; j < base_end; j++)
            if (!strcmp(base->e[j].section, o->section) && !strcmp(base->e[j].key, o->key)) same = j;
        if (same >= 0) {
            if (o->key[0] == '\0') continue;   /* section marker: keep the base's position */
            free(base->e[same].value);
            base->e[same].value = o->value;
            base->e[same].loc = o->loc;
            o->value = NULL;
            continue;
        }
        if (o->key[0] && value_section(o->section))
            for (int j = 0; j < base_end; j++)
                if (value_section(base->e[j].section) && !strcmp(base->e[j].key, o->key)) {
                    free(base->e[j].value);
                    memmove(&base->e[j], &base->e[j + 1], (size_t)(base->n - j - 1) * sizeof *base->e);
                    base->n--;
                    base_end--;
                    j--;
                }
        if (push_entry(base, o->section, o->key, o->loc, o->value) != 0) return -1;
        o->value = NULL;
    }
    return 0;
}

/* Reads path (depth 0: the main file) and its includes into *out. */
static int scan_file(scan *sc, const char *path, int depth, int include_loc, entry_list *out)
{
    if (sc->n_files == MAX_FILES)
        return fail(sc, include_loc, "include", "more than %d files included", MAX_FILES - 1);
    const int fi = sc->n_files;
    src_file *f = &sc->files[fi];
    if (!(f->path = strdup(path))) return fail(sc, include_loc, "include", "out of memory");
    char rp[PATH_MAX];
    if (!realpath(path, rp)) {
        if (depth == 0) { snprintf(sc->err, sc->errlen, "%s: cannot open sweep file: %s", path, strerror(errno)); free(f->path); f->path = NULL; return -1; }
        int e = errno;
        free(f->path);
        f->path = NULL;
        return fail(sc, include_loc, "include", "cannot open '%s': %s", path, strerror(e));
    }
    for (int i = 0; i < sc->n_files; i++)
        if (sc->files[i].real && !strcmp(sc->files[i].real, rp) && depth > 0) {
            free(f->path);
            f->path = NULL;
            return fail(sc, include_loc, "include", "include loop: %s is already being read", path);
        }
    if (!(f->real = strdup(rp))) { free(f->path); f->path = NULL; return fail(sc, include_loc, "include", "out of memory"); }
    sc->n_files++;
    if (read_file(path, &f->text, &f->len, sc->err, sc->errlen)) {
        if (depth > 0) {
            char why[512];
            snprintf(why, sizeof why, "%s", sc->err);
            return fail(sc, include_loc, "include", "%s", why);
        }
        return -1;
    }
    if (f->len == 0) return fail(sc, LOC(fi, 0), NULL, "empty sweep file");

    entry_list own = {0};
    int rc = scan_lines(sc, fi, &own);
    if (rc == 0) rc = check_with_iniparser(sc, fi, &own);
    const entry *inc = NULL;
    for (int i = 0; rc == 0 && i < own.n; i++)
        if (!strcmp(own.e[i].section, "sweep") && !strcmp(own.e[i].key, "include")) inc = &own.e[i];
    if (rc == 0 && inc) {
        if (depth + 1 > MAX_INCLUDE_DEPTH) {
            rc = fail(sc, inc->loc, "include", "includes nested deeper than %d", MAX_INCLUDE_DEPTH);
        } else {
            /* Relative to the directory of the including file. */
            char full[PATH_MAX];
            const char *slash = strrchr(path, '/');
            int n = inc->value[0] == '/' || !slash
                        ? snprintf(full, sizeof full, "%s", inc->value)
                        : snprintf(full, sizeof full, "%.*s/%s", (int)(slash - path), path, inc->value);
            if (n < 0 || n >= (int)sizeof full) rc = fail(sc, inc->loc, "include", "path too long");
            else rc = scan_file(sc, full, depth + 1, inc->loc, out);
        }
    }
    if (rc == 0 && merge_over(out, &own) != 0) rc = fail(sc, LOC(fi, 0), NULL, "out of memory");
    free_entries(&own);
    return rc;
}

/* --- values ------------------------------------------------------------------ */

typedef struct {
    char name[NTAS_NAME_LEN];
    char value[64];   /* canonical text of the default */
    int loc;
} var_def;

/* One varying or fixed key (a parameter, or a variable at VAR_BASE + v),
 * with where its value(s) came from. */
typedef struct {
    int param;
    int loc;            /* file and line; 0: default; -1: --set */
    char **values;      /* n_values strings */
    int n_values;
} axis;

typedef struct {
    int target;         /* parameter index or VAR_BASE + variable */
    int loc;
    char *expr;
} derived_def;

typedef struct {
    char name[NTAS_NAME_LEN];
    axis *keys;        /* each with one value */
    int n_keys;
} case_def;

typedef struct {
    axis fixed[MAX_AXES];    /* [params]: one value each */
    int n_fixed;
    axis grid[MAX_AXES];
    int n_grid;
    axis zip[MAX_AXES];      /* equally long lists that vary together */
    int n_zip;
    derived_def derived[MAX_AXES];
    int n_derived;
    var_def vars[MAX_VARS];
    int n_vars;
    case_def *cases;
    int n_cases;
    axis over[MAX_AXES];     /* --set */
    int n_over;
    int replicates, replicates_loc;
} plan;

static const char *key_name(const plan *pl, int param)
{
    return param >= VAR_BASE ? pl->vars[param - VAR_BASE].name : ntas_param_table[param].key;
}

static void free_axis(axis *a)
{
    for (int i = 0; i < a->n_values; i++) free(a->values[i]);
    free(a->values);
    a->values = NULL;
    a->n_values = 0;
}

/* Plain decimal number (no hex, inf, nan), whole string. */
static int parse_plain_real(const char *text, double *v)
{
    if (!*text || text[strspn(text, "0123456789+-.eE")] != '\0') return -1;
    char *end;
    *v = strtod(text, &end);
    return *end == '\0' && isfinite(*v) ? 0 : -1;
}

static void format_real(double v, char *buf, size_t len)
{
    if (v == 0.0) v = 0.0;
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
}

/* Checks that text parses as key's type and range; reports at loc. With
 * canon, also gives the value's canonical text (equal values, equal text). */
static int check_value(scan *sc, const plan *pl, int param, const char *text, int loc, char *canon, size_t canon_len)
{
    if (param >= VAR_BASE) {
        double v;
        if (parse_plain_real(text, &v) != 0)
            return fail(sc, loc, key_name(pl, param), "'%s' is not a finite number (plain decimal notation)", text);
        if (canon) format_real(v, canon, canon_len);
        return 0;
    }
    ntas_params scratch;
    ntas_params_defaults(&scratch);
    char why[256];
    if (ntas_param_parse(&ntas_param_table[param], text, &scratch, why, sizeof why) != 0)
        return fail(sc, loc, ntas_param_table[param].key, "%s", why);
    if (canon) ntas_param_format(&ntas_param_table[param], &scratch, canon, canon_len);
    return 0;
}

static int find_var(const plan *pl, const char *name)
{
    for (int v = 0; v < pl->n_vars; v++)
        if (!strcmp(pl->vars[v].name, name)) return v;
    return -1;
}

static int lookup_key(scan *sc, const plan *pl, const char *key, int loc)
{
    int idx = ntas_param_find(key);
    if (idx >= 0) return idx;
    int v = find_var(pl, key);
    if (v >= 0) return VAR_BASE + v;
    const char *hint = ntas_param_suggest(key);
    if (hint) return fail(sc, loc, key, "unknown key (did you mean '%s'?)", hint), -1;
    return fail(sc, loc, key, "unknown key (run 'ntasweep params' for the list, or declare it in [vars])"), -1;
}

/* Adds one canonical value to a list axis, refusing repeats. */
static int add_value(scan *sc, const plan *pl, axis *a, const char *text, int capacity)
{
    char canon[128];
    if (check_value(sc, pl, a->param, text, a->loc, canon, sizeof canon)) return -1;
    if (a->n_values >= capacity) return fail(sc, a->loc, key_name(pl, a->param), "list longer than %d values", MAX_LIST);
    if (!(a->values[a->n_values] = strdup(canon))) return fail(sc, a->loc, key_name(pl, a->param), "out of memory");
    a->n_values++;
    return 0;
}

/* Generated values are rounded to 12 significant digits, so that
 * 0.1:0.3:0.1 gives 0.3 and not 0.30000000000000004. */
static int add_generated(scan *sc, const plan *pl, axis *a, double v, int capacity)
{
    char text[64];
    snprintf(text, sizeof text, "%.12g", v);
    return add_value(sc, pl, a, text, capacity);
}

/* One list item: a value, START:STOP:STEP (STOP included when the steps
 * land on it), logspace(A, B, N) = 10^A .. 10^B or linspace(A, B, N). */
static int expand_item(scan *sc, const plan *pl, axis *a, char *item, int capacity)
{
    const char *key = key_name(pl, a->param);
    const int numeric = a->param >= VAR_BASE || ntas_param_table[a->param].type != NTAS_PT_CHOICE;
    int is_log = !strncmp(item, "logspace", 8), is_lin = !strncmp(item, "linspace", 8);
    if (is_log || is_lin) {
        if (!numeric) return fail(sc, a->loc, key, "%s needs a numeric key", is_log ? "logspace" : "linspace");
        char *open = trim(item + 8);
        size_t n = strlen(open);
        if (open[0] != '(' || n < 2 || open[n - 1] != ')')
            return fail(sc, a->loc, key, "expected %s(A, B, N), found '%.60s'", is_log ? "logspace" : "linspace", item);
        open[n - 1] = '\0';
        char *parts[3];
        int np = 0;
        for (char *q = open + 1, *tok; np < 4; q = NULL) {
            if (!(tok = strtok(q, ","))) break;
            if (np < 3) parts[np] = trim(tok);
            np++;
        }
        double x[3];
        if (np != 3 || parse_plain_real(parts[0], &x[0]) || parse_plain_real(parts[1], &x[1]) ||
            parse_plain_real(parts[2], &x[2]))
            return fail(sc, a->loc, key, "expected %s(A, B, N) with three numbers", is_log ? "logspace" : "linspace");
        if (x[2] != floor(x[2]) || x[2] < 1 || x[2] > MAX_LIST)
            return fail(sc, a->loc, key, "N = %g in %s must be an integer in [1, %d]", x[2], is_log ? "logspace" : "linspace", MAX_LIST);
        if (is_log && (fabs(x[0]) > 300 || fabs(x[1]) > 300))
            return fail(sc, a->loc, key, "logspace exponents must be within [-300, 300]");
        int count = (int)x[2];
        for (int i = 0; i < count; i++) {
            double t = count == 1 ? x[0] : x[0] + (x[1] - x[0]) * i / (count - 1);
            if (add_generated(sc, pl, a, is_log ? pow(10.0, t) : t, capacity)) return -1;
        }
        return 0;
    }
    char *c1 = strchr(item, ':');
    if (!c1) return add_value(sc, pl, a, item, capacity);
    if (!numeric) return fail(sc, a->loc, key, "a range START:STOP:STEP needs a numeric key");
    char *c2 = strchr(c1 + 1, ':');
    if (!c2 || strchr(c2 + 1, ':'))
        return fail(sc, a->loc, key, "expected a range START:STOP:STEP, found '%.60s'", item);
    *c1 = *c2 = '\0';
    double start, stop, step;
    if (parse_plain_real(trim(item), &start) || parse_plain_real(trim(c1 + 1), &stop) ||
        parse_plain_real(trim(c2 + 1), &step))
        return fail(sc, a->loc, key, "range START:STOP:STEP needs three plain numbers");
    if (step == 0 || (stop - start) / step < -1e-9)
        return fail(sc, a->loc, key, "range %g:%g:%g never reaches its stop (check the sign of the step)", start, stop, step);
    double steps = (stop - start) / step;
    if (steps > MAX_LIST) return fail(sc, a->loc, key, "range has more than %d values", MAX_LIST);
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
static int split_list(scan *sc, const plan *pl, axis *a, const char *text)
{
    const char *key = key_name(pl, a->param);
    char *copy = strdup(text);
    if (!copy) return fail(sc, a->loc, key, "out of memory");
    a->values = calloc(MAX_LIST, sizeof *a->values);
    int rc = a->values ? 0 : fail(sc, a->loc, key, "out of memory");
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
        char *v = trim(item);
        if (depth != 0) rc = fail(sc, a->loc, key, "unbalanced parentheses in '%.60s'", v);
        else if (*v == '\0') rc = fail(sc, a->loc, key, "empty item in list");
        else rc = expand_item(sc, pl, a, v, MAX_LIST);
        if (last) break;
        item = q + 1;
    }
    free(copy);
    if (rc == 0 && a->n_values > 1) {
        /* Repeated values (sorted copy: ranges can make long lists). */
        char **sorted = malloc((size_t)a->n_values * sizeof *sorted);
        if (!sorted) return fail(sc, a->loc, key, "out of memory");
        memcpy(sorted, a->values, (size_t)a->n_values * sizeof *sorted);
        qsort(sorted, (size_t)a->n_values, sizeof *sorted, cmp_str_ptr);
        for (int i = 1; i < a->n_values && rc == 0; i++)
            if (!strcmp(sorted[i], sorted[i - 1])) rc = fail(sc, a->loc, key, "value %s listed twice", sorted[i]);
        free(sorted);
    }
    return rc;
}

static int set_one(axis *a, int param, int loc, const char *value)
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

static void free_plan(plan *pl)
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

static axis *find_axis(axis *list, int n, int param)
{
    for (int i = 0; i < n; i++)
        if (list[i].param == param) return &list[i];
    return NULL;
}

/* --- derived values: a small expression language ---------------------------- */

/* expr := term (('+'|'-') term)*; term := power (('*'|'/') power)*;
 * power := unary ('^' power)?; unary := '-' unary | primary;
 * primary := number | name | name '(' expr (',' expr)* ')' | '(' expr ')'.
 * Names are parameter keys and [vars]; functions round (half away from
 * zero), floor, ceil, abs, sqrt, exp, log, log10, min, max, pow. */
typedef struct {
    const char *s;
    const plan *pl;
    const ntas_params *p;
    const double *vars;
    char msg[160];
} expr_ctx;

static double ex_expr(expr_ctx *e);

static void ex_space(expr_ctx *e)
{
    while (isspace((unsigned char)*e->s)) e->s++;
}

static double ex_error(expr_ctx *e, const char *fmt, const char *arg)
{
    if (!e->msg[0]) snprintf(e->msg, sizeof e->msg, fmt, arg);
    return NAN;
}

static double ex_primary(expr_ctx *e)
{
    ex_space(e);
    const char *s = e->s;
    if (*s == '(') {
        e->s++;
        double v = ex_expr(e);
        ex_space(e);
        if (*e->s != ')') return ex_error(e, "expected ')' at '%.20s'", e->s);
        e->s++;
        return v;
    }
    if (isdigit((unsigned char)*s) || *s == '.') {
        size_t n = strspn(s, "0123456789.");
        if ((s[n] == 'e' || s[n] == 'E') && (isdigit((unsigned char)s[n + 1]) ||
            ((s[n + 1] == '+' || s[n + 1] == '-') && isdigit((unsigned char)s[n + 2])))) {
            n += 2;
            n += strspn(s + n, "0123456789");
        }
        char buf[64];
        if (n >= sizeof buf) return ex_error(e, "number too long at '%.20s'", s);
        memcpy(buf, s, n);
        buf[n] = '\0';
        char *end;
        double v = strtod(buf, &end);
        if (*end) return ex_error(e, "bad number '%s'", buf);
        e->s += n;
        return v;
    }
    if (isalpha((unsigned char)*s) || *s == '_') {
        char name[NTAS_NAME_LEN];
        size_t n = 0;
        while ((isalnum((unsigned char)s[n]) || s[n] == '_') && n + 1 < sizeof name) { name[n] = s[n]; n++; }
        name[n] = '\0';
        e->s += n;
        ex_space(e);
        if (*e->s == '(') {
            e->s++;
            double arg[2];
            int na = 0;
            for (;;) {
                double v = ex_expr(e);
                if (na < 2) arg[na] = v;
                na++;
                ex_space(e);
                if (*e->s == ',') { e->s++; continue; }
                if (*e->s == ')') { e->s++; break; }
                return ex_error(e, "expected ',' or ')' at '%.20s'", e->s);
            }
            static const struct { const char *name; int args; } fns[] = {
                {"round", 1}, {"floor", 1}, {"ceil", 1}, {"abs", 1}, {"sqrt", 1}, {"exp", 1},
                {"log", 1}, {"log10", 1}, {"min", 2}, {"max", 2}, {"pow", 2}};
            for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
                if (strcmp(name, fns[i].name)) continue;
                if (na != fns[i].args) return ex_error(e, "wrong number of arguments to %s()", name);
                switch (i) {
                case 0: return round(arg[0]);
                case 1: return floor(arg[0]);
                case 2: return ceil(arg[0]);
                case 3: return fabs(arg[0]);
                case 4: return sqrt(arg[0]);
                case 5: return exp(arg[0]);
                case 6: return log(arg[0]);
                case 7: return log10(arg[0]);
                case 8: return fmin(arg[0], arg[1]);
                case 9: return fmax(arg[0], arg[1]);
                default: return pow(arg[0], arg[1]);
                }
            }
            return ex_error(e, "unknown function '%s' (round, floor, ceil, abs, sqrt, exp, log, log10, min, max, pow)", name);
        }
        int v = find_var(e->pl, name);
        if (v >= 0) return e->vars[v];
        int k = ntas_param_find(name);
        if (k < 0) {
            const char *hint = ntas_param_suggest(name);
            char m[128];
            snprintf(m, sizeof m, "unknown name '%s'%s%s%s", name, hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
            return ex_error(e, "%s", m);
        }
        const ntas_param_desc *d = &ntas_param_table[k];
        if (d->type == NTAS_PT_CHOICE) return ex_error(e, "'%s' is not numeric", name);
        return d->type == NTAS_PT_INT ? (double)ntas_param_get_int(d, e->p) : ntas_param_get_real(d, e->p);
    }
    if (!*s) return ex_error(e, "%sexpression ends too early", "");
    return ex_error(e, "unexpected '%.20s'", s);
}

static double ex_unary(expr_ctx *e)
{
    ex_space(e);
    if (*e->s == '-') { e->s++; return -ex_unary(e); }
    if (*e->s == '+') { e->s++; return ex_unary(e); }
    return ex_primary(e);
}

static double ex_power(expr_ctx *e)
{
    double b = ex_unary(e);
    ex_space(e);
    if (*e->s == '^') { e->s++; return pow(b, ex_power(e)); }
    return b;
}

static double ex_term(expr_ctx *e)
{
    double v = ex_power(e);
    for (;;) {
        ex_space(e);
        if (*e->s == '*') { e->s++; v *= ex_power(e); }
        else if (*e->s == '/') { e->s++; v /= ex_power(e); }
        else return v;
    }
}

static double ex_expr(expr_ctx *e)
{
    double v = ex_term(e);
    for (;;) {
        ex_space(e);
        if (*e->s == '+') { e->s++; v += ex_term(e); }
        else if (*e->s == '-') { e->s++; v -= ex_term(e); }
        else return v;
    }
}

/* Evaluates d for one run; writes the canonical value text. */
static int eval_derived(scan *sc, const plan *pl, const derived_def *d, const ntas_params *p, const double *vars,
                        long run, char *text, size_t len)
{
    expr_ctx e = {.s = d->expr, .pl = pl, .p = p, .vars = vars};
    double v = ex_expr(&e);
    ex_space(&e);
    const char *key = key_name(pl, d->target);
    if (!e.msg[0] && *e.s) snprintf(e.msg, sizeof e.msg, "unexpected '%.20s'", e.s);
    if (e.msg[0]) return fail(sc, d->loc, key, "bad expression '%.80s': %s", d->expr, e.msg);
    if (!isfinite(v)) return fail(sc, d->loc, key, "'%.80s' is %g for run %ld", d->expr, v, run);
    if (d->target < VAR_BASE && ntas_param_table[d->target].type == NTAS_PT_INT) {
        if (fabs(v - round(v)) > 1e-9 * fmax(1.0, fabs(v)))
            return fail(sc, d->loc, key, "'%.80s' is %.17g for run %ld, not an integer (use round())", d->expr, v, run);
        if (fabs(v) > 9e15) return fail(sc, d->loc, key, "'%.80s' is %g for run %ld: out of range", d->expr, v, run);
        snprintf(text, len, "%lld", (long long)round(v));
    } else {
        format_real(v, text, len);
    }
    return 0;
}

/* --- the plan: which key comes from where ------------------------------------ */

/* --set KEY=A,B,C (or a range): a grid axis of its own, replacing the key's
 * values in [params], [grid] or a case (a grid axis outranks a case). Keys
 * varied in [zip] or computed in [derived] take one value only. */
static int override_axis(scan *sc, plan *pl, int param, const char *key, const char *values)
{
    if (find_axis(pl->zip, pl->n_zip, param))
        return fail(sc, -1, key, "%s is varied in [zip]; give one value or edit the file", values);
    for (int i = 0; i < pl->n_derived; i++)
        if (pl->derived[i].target == param)
            return fail(sc, -1, key, "%s: the key is computed in [derived]; give one value", values);
    if (param == ntas_param_find("seed") && pl->replicates)
        return fail(sc, -1, key, "%s: seeds come from replicates; use --set replicates=N", values);
    axis *fixed = find_axis(pl->fixed, pl->n_fixed, param);
    if (fixed) {
        free_axis(fixed);
        *fixed = pl->fixed[--pl->n_fixed];
    }
    axis *a = find_axis(pl->grid, pl->n_grid, param);
    if (a) free_axis(a);
    else if (pl->n_grid == MAX_AXES) return fail(sc, -1, key, "too many grid axes");
    else a = &pl->grid[pl->n_grid++];
    memset(a, 0, sizeof *a);
    a->param = param;
    a->loc = -1;
    return split_list(sc, pl, a, values);
}

/* --set replicates=N: seeds 0..N-1 for every point. */
static int override_replicates(scan *sc, plan *pl, const char *value)
{
    char *end;
    long n = strtol(value, &end, 10);
    if (*value == '\0' || *end || n < 1 || n > 1000000)
        return fail(sc, -1, "replicates", "%s: expected a whole number from 1 to 1000000", value);
    int seed = ntas_param_find("seed");
    if (find_axis(pl->fixed, pl->n_fixed, seed) || find_axis(pl->grid, pl->n_grid, seed) ||
        find_axis(pl->zip, pl->n_zip, seed))
        return fail(sc, -1, "replicates", "%s: the sweep file gives seed itself", value);
    pl->replicates = (int)n;
    pl->replicates_loc = -1;
    return 0;
}

static int build_plan(scan *sc, ntas_spec *s, plan *pl, const char *const *overrides, int n_overrides)
{
    memset(pl, 0, sizeof *pl);
    entry_list *l = &sc->entries;
    int have_runs_section = 0;
    /* Variables first: any section may use them. */
    for (int i = 0; i < l->n; i++) {
        entry *e = &l->e[i];
        if (strcmp(e->section, "vars") || e->key[0] == '\0') continue;
        if (ntas_param_find(e->key) >= 0)
            return fail(sc, e->loc, e->key, "is a parameter: [vars] declares new names for [derived] expressions");
        if (pl->n_vars == MAX_VARS) return fail(sc, e->loc, e->key, "more than %d variables", MAX_VARS);
        var_def *v = &pl->vars[pl->n_vars];
        double x;
        if (parse_plain_real(e->value, &x) != 0)
            return fail(sc, e->loc, e->key, "'%s' is not a finite number (plain decimal notation)", e->value);
        format_real(x, v->value, sizeof v->value);
        snprintf(v->name, sizeof v->name, "%s", e->key);
        v->loc = e->loc;
        pl->n_vars++;
    }
    for (int i = 0; i < l->n; i++) {
        entry *e = &l->e[i];
        const char *sec = e->section;
        if (!strncmp(sec, "case.", 5) && e->key[0] == '\0') {
            case_def *nc = realloc(pl->cases, (size_t)(pl->n_cases + 1) * sizeof *nc);
            if (!nc) return fail(sc, e->loc, NULL, "out of memory");
            pl->cases = nc;
            memset(&nc[pl->n_cases], 0, sizeof *nc);
            if (strlen(sec + 5) >= NTAS_NAME_LEN) return fail(sc, e->loc, NULL, "case name too long");
            strcpy(nc[pl->n_cases].name, sec + 5);
            pl->n_cases++;
            have_runs_section = 1;
            continue;
        }
        if (e->key[0] == '\0') {
            have_runs_section |= strcmp(sec, "sweep") != 0 && strcmp(sec, "vars") != 0;
            continue;
        }
        if (!strcmp(sec, "vars")) continue;
        if (!strcmp(sec, "sweep")) {
            if (!strcmp(e->key, "name")) {
                if (strlen(e->value) >= sizeof s->name || !name_ok(e->value, ".-"))
                    return fail(sc, e->loc, e->key, "name must be letters, digits, '_', '.', '-' (at most %d)", NTAS_NAME_LEN - 1);
                strcpy(s->name, e->value);
            } else if (!strcmp(e->key, "description")) {
                /* free text for humans; kept in spec_text */
            } else if (!strcmp(e->key, "replicates")) {
                char *end;
                errno = 0;
                long v = strtol(e->value, &end, 10);
                if (*end || errno || v < 1 || v > 1000000)
                    return fail(sc, e->loc, e->key, "'%s' must be an integer in [1, 1000000]", e->value);
                pl->replicates = (int)v;
                pl->replicates_loc = e->loc;
            } else {
                return fail(sc, e->loc, e->key, "unknown key in [sweep] (expected name, description, replicates, include)");
            }
            continue;
        }
        int param = lookup_key(sc, pl, e->key, e->loc);
        if (param < 0) return -1;
        if (!strcmp(sec, "params")) {
            if (pl->n_fixed == MAX_AXES) return fail(sc, e->loc, e->key, "too many keys");
            axis *a = &pl->fixed[pl->n_fixed++];
            if (set_one(a, param, e->loc, e->value)) return fail(sc, e->loc, e->key, "out of memory");
            if (check_value(sc, pl, param, e->value, e->loc, NULL, 0)) return -1;
        } else if (!strcmp(sec, "grid") || !strcmp(sec, "zip")) {
            int is_grid = !strcmp(sec, "grid");
            int *n = is_grid ? &pl->n_grid : &pl->n_zip;
            if (*n == MAX_AXES) return fail(sc, e->loc, e->key, "too many keys");
            axis *a = is_grid ? &pl->grid[(*n)++] : &pl->zip[(*n)++];
            a->param = param;
            a->loc = e->loc;
            if (split_list(sc, pl, a, e->value)) return -1;
        } else if (!strcmp(sec, "derived")) {
            if (param < VAR_BASE && ntas_param_table[param].type == NTAS_PT_CHOICE)
                return fail(sc, e->loc, e->key, "is a choice key: [derived] computes numbers only");
            if (pl->n_derived == MAX_AXES) return fail(sc, e->loc, e->key, "too many keys");
            derived_def *d = &pl->derived[pl->n_derived++];
            d->target = param;
            d->loc = e->loc;
            if (!(d->expr = strdup(e->value))) return fail(sc, e->loc, e->key, "out of memory");
        } else { /* case.NAME */
            case_def *c = NULL;
            for (int k = 0; k < pl->n_cases; k++)
                if (!strcmp(pl->cases[k].name, sec + 5)) c = &pl->cases[k];
            if (!c) return fail(sc, e->loc, e->key, "internal: case [%s] has no header", sec);
            axis *na = realloc(c->keys, (size_t)(c->n_keys + 1) * sizeof *na);
            if (!na) return fail(sc, e->loc, e->key, "out of memory");
            c->keys = na;
            memset(&na[c->n_keys], 0, sizeof *na);
            if (set_one(&na[c->n_keys++], param, e->loc, e->value)) return fail(sc, e->loc, e->key, "out of memory");
            if (check_value(sc, pl, param, e->value, e->loc, NULL, 0)) return -1;
        }
    }
    if (!have_runs_section)
        return fail(sc, 0, NULL, "no [params], [grid], [zip] or [case.NAME] section: nothing to run");

    /* [zip] lists vary together: all as long as the first. */
    for (int z = 1; z < pl->n_zip; z++)
        if (pl->zip[z].n_values != pl->zip[0].n_values)
            return fail(sc, pl->zip[z].loc, key_name(pl, pl->zip[z].param),
                        "has %d values but '%s' has %d: [zip] lists vary together and must be equally long",
                        pl->zip[z].n_values, key_name(pl, pl->zip[0].param), pl->zip[0].n_values);

    /* A key gets its value(s) in one place only; cases may refine [params]. */
    struct { axis *list; int n; const char *name; } varying[] = {{pl->grid, pl->n_grid, "grid"}, {pl->zip, pl->n_zip, "zip"}};
    for (int v = 0; v < 2; v++)
        for (int g = 0; g < varying[v].n; g++) {
            axis *a = &varying[v].list[g];
            const char *key = key_name(pl, a->param);
            axis *f = find_axis(pl->fixed, pl->n_fixed, a->param);
            if (f) return fail(sc, a->loc, key, "set in [params] (line %d) and varied in [%s]", LINE_OF(f->loc), varying[v].name);
            if (v == 1 && find_axis(pl->grid, pl->n_grid, a->param))
                return fail(sc, a->loc, key, "varied in both [grid] and [zip]");
            for (int c = 0; c < pl->n_cases; c++) {
                axis *k = find_axis(pl->cases[c].keys, pl->cases[c].n_keys, a->param);
                if (k) return fail(sc, k->loc, key, "set in [case.%s] and varied in [%s] (line %d)", pl->cases[c].name,
                                   varying[v].name, LINE_OF(a->loc));
            }
            if (!strcmp(key, "seed") && pl->replicates)
                return fail(sc, a->loc, key, "seed is varied in [%s] and by [sweep] replicates (line %d): use one",
                            varying[v].name, LINE_OF(pl->replicates_loc));
        }
    for (int i = 0; i < pl->n_derived; i++) {
        derived_def *d = &pl->derived[i];
        const char *key = key_name(pl, d->target);
        for (int j = 0; j < i; j++)
            if (pl->derived[j].target == d->target) return fail(sc, d->loc, key, "derived twice");
        axis *clash = find_axis(pl->fixed, pl->n_fixed, d->target);
        if (!clash) clash = find_axis(pl->grid, pl->n_grid, d->target);
        if (!clash) clash = find_axis(pl->zip, pl->n_zip, d->target);
        for (int c = 0; !clash && c < pl->n_cases; c++) clash = find_axis(pl->cases[c].keys, pl->cases[c].n_keys, d->target);
        if (clash) return fail(sc, d->loc, key, "is set elsewhere too (line %d): a derived key gets its value only from [derived]",
                               LINE_OF(clash->loc));
        if (!strcmp(key, "seed") && pl->replicates) return fail(sc, d->loc, key, "seed comes from [sweep] replicates");
    }
    if (pl->replicates) {
        int seed = ntas_param_find("seed");
        if (find_axis(pl->fixed, pl->n_fixed, seed))
            return fail(sc, find_axis(pl->fixed, pl->n_fixed, seed)->loc, "seed", "set in [params] and by [sweep] replicates (line %d): use one",
                        LINE_OF(pl->replicates_loc));
        for (int c = 0; c < pl->n_cases; c++)
            if (find_axis(pl->cases[c].keys, pl->cases[c].n_keys, seed))
                return fail(sc, find_axis(pl->cases[c].keys, pl->cases[c].n_keys, seed)->loc, "seed",
                            "set in [case.%s] and by [sweep] replicates: use one", pl->cases[c].name);
    }

    /* --set key=value applies to every run: it replaces the key wherever the
     * file sets, varies or derives it (a varied key collapses to one value). */
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
        if (!strcmp(k, "replicates")) {
            if (override_replicates(sc, pl, trim((char *)eqs + 1))) return -1;
            continue;
        }
        int param = ntas_param_find(k);
        if (param < 0 && find_var(pl, k) >= 0) param = VAR_BASE + find_var(pl, k);
        if (param < 0) {
            const char *hint = ntas_param_suggest(k);
            snprintf(sc->err, sc->errlen, "--set %s: key '%s': unknown key%s%s%s", overrides[i], k,
                     hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
            return -1;
        }
        if (pl->n_over == MAX_AXES) return fail(sc, -1, k, "too many --set");
        char *v = trim((char *)eqs + 1);
        if (strchr(v, ',') || strchr(v, ':') || strstr(v, "space(")) {
            axis *prev = find_axis(pl->over, pl->n_over, param);   /* a later --set wins */
            if (prev) { free_axis(prev); *prev = pl->over[--pl->n_over]; }
            if (override_axis(sc, pl, param, k, v)) return -1;
            continue;
        }
        if (param >= VAR_BASE) {
            double x;
            if (parse_plain_real(v, &x) != 0) {
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
        axis *prev = find_axis(pl->over, pl->n_over, param);
        if (prev) free_axis(prev);
        axis *a = prev ? prev : &pl->over[pl->n_over++];
        if (set_one(a, param, -1, v)) return fail(sc, -1, k, "out of memory");
        if (!strcmp(k, "seed")) pl->replicates = 0;
    }
    return 0;
}

static int apply(scan *sc, const plan *pl, ntas_params *p, double *vars, int *origin, const axis *a, int value_index)
{
    if (a->param >= VAR_BASE) {
        double x = 0;
        parse_plain_real(a->values[value_index], &x);   /* checked when read */
        vars[a->param - VAR_BASE] = x;
        return 0;
    }
    char why[256];
    if (ntas_param_parse(&ntas_param_table[a->param], a->values[value_index], p, why, sizeof why) != 0)
        return fail(sc, a->loc, key_name(pl, a->param), "%s", why);
    origin[a->param] = a->loc;
    return 0;
}

static int cmp_key(const void *a, const void *b)
{
    const ntas_run *x = *(ntas_run *const *)a, *y = *(ntas_run *const *)b;
    return x->key < y->key ? -1 : x->key > y->key;
}

/* Run-table order: cases (file order) x zip x grid (first key slowest) x seeds. */
static int expand(scan *sc, ntas_spec *s, plan *pl)
{
    int n_cases = pl->n_cases ? pl->n_cases : 1;
    int n_seeds = pl->replicates ? pl->replicates : 1;
    int all_zip_overridden = pl->n_zip > 0;
    for (int z = 0; z < pl->n_zip; z++)
        all_zip_overridden &= find_axis(pl->over, pl->n_over, pl->zip[z].param) != NULL;
    int n_zip = pl->n_zip && !all_zip_overridden ? pl->zip[0].n_values : 1;
    long total = (long)n_cases * n_seeds;
    if (total > MAX_RUNS / n_zip)
        return fail(sc, pl->replicates_loc, "replicates", "%d cases x %d replicates x %d zipped exceed %ld runs", n_cases, n_seeds, n_zip, MAX_RUNS);
    total *= n_zip;
    for (int g = 0; g < pl->n_grid; g++) {
        int nv = find_axis(pl->over, pl->n_over, pl->grid[g].param) ? 1 : pl->grid[g].n_values;
        if (total > MAX_RUNS / nv)
            return fail(sc, pl->grid[g].loc, key_name(pl, pl->grid[g].param), "the sweep expands to more than %ld runs", MAX_RUNS);
        total *= nv;
    }
    s->runs = calloc((size_t)total, sizeof *s->runs);
    if (!s->runs) return fail(sc, 0, NULL, "out of memory for %ld runs", total);
    int seed_param = ntas_param_find("seed");
    const long grid_total = total / n_cases / n_seeds / n_zip;
    long r = 0;
    for (int c = 0; c < n_cases; c++)
        for (int zi = 0; zi < n_zip; zi++)
            for (long gi = 0; gi < grid_total; gi++)
                for (int si = 0; si < n_seeds; si++, r++) {
                    ntas_run *run = &s->runs[r];
                    int origin[128] = {0};
                    double vars[MAX_VARS] = {0};
                    for (int v = 0; v < pl->n_vars; v++) parse_plain_real(pl->vars[v].value, &vars[v]);
                    ntas_params_defaults(&run->params);
                    for (int i = 0; i < pl->n_fixed; i++)
                        if (apply(sc, pl, &run->params, vars, origin, &pl->fixed[i], 0)) return -1;
                    if (pl->n_cases) {
                        strcpy(run->case_name, pl->cases[c].name);
                        for (int i = 0; i < pl->cases[c].n_keys; i++)
                            if (apply(sc, pl, &run->params, vars, origin, &pl->cases[c].keys[i], 0)) return -1;
                    }
                    if (n_zip > 1 || (pl->n_zip && !all_zip_overridden))
                        for (int z = 0; z < pl->n_zip; z++)
                            if (apply(sc, pl, &run->params, vars, origin, &pl->zip[z], zi)) return -1;
                    /* Mixed-radix index over the grid, first axis slowest. */
                    long rest = gi;
                    for (int g = pl->n_grid - 1; g >= 0; g--) {
                        if (find_axis(pl->over, pl->n_over, pl->grid[g].param)) continue;
                        int nv = pl->grid[g].n_values;
                        if (apply(sc, pl, &run->params, vars, origin, &pl->grid[g], (int)(rest % nv))) return -1;
                        rest /= nv;
                    }
                    if (pl->replicates) {
                        run->params.seed = si;
                        origin[seed_param] = pl->replicates_loc;
                    }
                    for (int i = 0; i < pl->n_over; i++)
                        if (apply(sc, pl, &run->params, vars, origin, &pl->over[i], 0)) return -1;
                    /* Derived values see everything above, including --set,
                     * unless --set gives the derived key itself. */
                    for (int i = 0; i < pl->n_derived; i++) {
                        const derived_def *d = &pl->derived[i];
                        if (find_axis(pl->over, pl->n_over, d->target)) continue;
                        char text[64];
                        if (eval_derived(sc, pl, d, &run->params, vars, r, text, sizeof text)) return -1;
                        if (d->target >= VAR_BASE) {
                            vars[d->target - VAR_BASE] = strtod(text, NULL);
                            continue;
                        }
                        char why[256];
                        if (ntas_param_parse(&ntas_param_table[d->target], text, &run->params, why, sizeof why) != 0)
                            return fail(sc, d->loc, key_name(pl, d->target), "'%.80s' gives %s for run %ld: %s", d->expr, text, r, why);
                        origin[d->target] = d->loc;
                    }
                    char why[512];
                    const char *bad = NULL;
                    if (ntas_params_validate(&run->params, why, sizeof why, &bad) != 0) {
                        int bi = ntas_param_find(bad);
                        int loc = bi >= 0 ? origin[bi] : 0;
                        char where[128] = "";
                        if (run->case_name[0]) snprintf(where, sizeof where, " (run %ld, case %s)", r, run->case_name);
                        else snprintf(where, sizeof where, " (run %ld)", r);
                        if (loc == 0) return fail(sc, 0, bad, "%s%s [default value]", why, where);
                        return fail(sc, loc, bad, "%s%s", why, where);
                    }
                    run->key = ntas_params_run_key(&run->params);
                    memcpy(run->vars, vars, sizeof run->vars);
                }
    s->n_runs = (int)total;
    /* The variables go into the results file beside the parameters. */
    for (int v = 0; v < pl->n_vars; v++) snprintf(s->var_names[v], NTAS_NAME_LEN, "%s", pl->vars[v].name);
    s->n_vars = pl->n_vars;

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
            return fail(sc, 0, NULL, "runs %ld%s%s and %ld%s%s have identical parameters (a case, a derived value or --set repeats another)",
                        a, s->runs[a].case_name[0] ? " case " : "", s->runs[a].case_name,
                        b, s->runs[b].case_name[0] ? " case " : "", s->runs[b].case_name);
        }
    free(sorted);
    return 0;
}

/* The sweep's full text: the main file, then each included file after a
 * comment line naming it (what is stored in the results file and hashed). */
static char *joined_text(const scan *sc)
{
    size_t n = 1;
    for (int i = 0; i < sc->n_files; i++) n += sc->files[i].len + strlen(sc->files[i].path) + 64;
    char *t = malloc(n);
    if (!t) return NULL;
    size_t used = 0;
    for (int i = 0; i < sc->n_files; i++) {
        if (i > 0) used += (size_t)snprintf(t + used, n - used, "\n; ---- include: %s ----\n", sc->files[i].path);
        memcpy(t + used, sc->files[i].text, sc->files[i].len);
        used += sc->files[i].len;
    }
    t[used] = '\0';
    return t;
}

int ntas_spec_load(ntas_spec *s, const char *path, const char *const *overrides, int n_overrides,
                   char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    scan sc = {.err = err, .errlen = errlen};
    plan pl;
    memset(&pl, 0, sizeof pl);
    int rc = -1;
    if (!(s->path = strdup(path))) { snprintf(err, errlen, "out of memory"); goto out; }
    if (scan_file(&sc, path, 0, 0, &sc.entries)) goto out;
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
        if (!(s->overrides = malloc(olen)) || !(s->text = joined_text(&sc))) { snprintf(err, errlen, "out of memory"); goto out; }
        s->overrides[0] = '\0';
        for (int i = 0; i < n_overrides; i++) {
            strcat(s->overrides, "--set ");
            strcat(s->overrides, overrides[i]);
            if (i + 1 < n_overrides) strcat(s->overrides, "\n");
        }
        s->hash = ntas_hash64(s->text, strlen(s->text), 0);
        s->hash = ntas_hash64(s->overrides, strlen(s->overrides), s->hash);
    }
    rc = 0;
out:
    free_entries(&sc.entries);
    for (int i = 0; i < sc.n_files; i++) {
        free(sc.files[i].path);
        free(sc.files[i].real);
        free(sc.files[i].text);
    }
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

int ntas_spec_set_runs(ntas_spec *s, const int *order, int n, char *err, size_t errlen)
{
    ntas_run *runs = malloc((size_t)(n > 0 ? n : 1) * sizeof *runs);
    if (!runs) { snprintf(err, errlen, "out of memory"); return -1; }
    for (int i = 0; i < n; i++) {
        if (order[i] < 0 || order[i] >= s->n_runs) {
            free(runs);
            snprintf(err, errlen, "internal: run order names run %d of %d", order[i], s->n_runs);
            return -1;
        }
        runs[i] = s->runs[order[i]];
    }
    free(s->runs);
    s->runs = runs;
    s->n_runs = n;
    return 0;
}
