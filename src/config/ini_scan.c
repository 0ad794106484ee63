/* ini_scan — sweep file scanner. See ini_scan.h.
 *
 * Two passes read each file. Our own line scanner comes first: it knows line
 * numbers (iniparser does not), rejects anything that is not plain INI
 * (binary junk, missing '=', keys outside sections, duplicates iniparser
 * would silently overwrite), and so guarantees iniparser only ever sees a
 * well-formed file, in the part of INI where both read the same: constructs
 * iniparser reads differently (quotes, a comment after a section header, a
 * trailing backslash, which iniparser takes as a line continuation even in a
 * comment) are refused with the line. iniparser then reads the values, and
 * any disagreement with the scanner is reported at the key's line. */
#include "ntasweep/config/ini_scan.h"
#include "ntasweep/core/err.h"

#include <ctype.h>
#include <errno.h>
#include <iniparser.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FILE_BYTES (1 << 20)
#define MAX_LINE 1000
#define MAX_INCLUDE_DEPTH 8

int ntas_ini_fail(ntas_ini_scan *sc, int loc, const char *key, const char *fmt, ...)
{
    size_t used;
    if (loc >= 0) {
        int f = loc >> NTAS_LOC_SHIFT, line = NTAS_LINE_OF(loc);
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

char *ntas_ini_trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

int ntas_ini_name_ok(const char *s, const char *extra)
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
        ntas_set_err(err, errlen, "%s: cannot open sweep file: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(MAX_FILE_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_FILE_BYTES + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        ntas_set_err(err, errlen, "%s: cannot read sweep file", path);
        return -1;
    }
    if (n > MAX_FILE_BYTES) {
        free(buf);
        ntas_set_err(err, errlen, "%s: sweep file larger than %d bytes", path, MAX_FILE_BYTES);
        return -1;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

static void free_entries(ntas_ini_entries *l)
{
    for (int i = 0; i < l->n; i++) free(l->e[i].value);
    free(l->e);
    memset(l, 0, sizeof *l);
}

/* Appends an ntas_ini_entry (section and key are already length-checked); takes value. */
static int push_entry(ntas_ini_entries *l, const char *section, const char *key, int loc, char *value)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        ntas_ini_entry *e = realloc(l->e, (size_t)cap * sizeof *e);
        if (!e) { free(value); return -1; }
        l->e = e;
        l->cap = cap;
    }
    ntas_ini_entry *e = &l->e[l->n++];
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
static int scan_lines(ntas_ini_scan *sc, int fi, ntas_ini_entries *out)
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
        const int loc = NTAS_LOC(fi, line);
        size_t end = pos;
        while (end < len && text[end] != '\n') end++;
        size_t n = end - pos;
        if (n > MAX_LINE) return ntas_ini_fail(sc, loc, NULL, "line longer than %d characters", MAX_LINE);
        char buf[MAX_LINE + 1];
        memcpy(buf, text + pos, n);
        buf[n] = '\0';
        pos = end + 1;
        if (n > 0 && buf[n - 1] == '\r') buf[--n] = '\0';
        if (strlen(buf) != n) return ntas_ini_fail(sc, loc, NULL, "binary data (NUL byte): not a sweep file");
        char *s = ntas_ini_trim(buf);
        /* iniparser joins a line ending in '\' with the next, even a comment. */
        const int continued = *s && s[strlen(s) - 1] == '\\';
        if (continued && (*s == ';' || *s == '#' || *s == '['))
            return ntas_ini_fail(sc, loc, NULL, "line ends in '\\': line continuation is not supported (not even in a comment)");
        if (*s == '\0' || *s == ';' || *s == '#') continue;
        /* Outside comments only printable ASCII is allowed. */
        for (char *q = s; *q; q++) {
            unsigned char ch = (unsigned char)*q;
            if ((ch < 0x20 && ch != '\t') || ch >= 0x7f) {
                char *comment = strpbrk(s, ";#");
                if (comment && comment < q) break;
                return ntas_ini_fail(sc, loc, NULL, "unexpected byte 0x%02x: not a plain-text sweep file", ch);
            }
        }
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (!close) return ntas_ini_fail(sc, loc, NULL, "section header without ']'");
            char *rest = ntas_ini_trim(close + 1);
            if (*rest)
                return ntas_ini_fail(sc, loc, NULL, "text after section header: '%s' (put a comment on its own line)", rest);
            *close = '\0';
            char *name = ntas_ini_trim(s + 1);
            for (char *q = name; *q; q++) *q = (char)tolower((unsigned char)*q);
            if (strlen(name) >= sizeof section || !ntas_ini_name_ok(name, ".-"))
                return ntas_ini_fail(sc, loc, NULL, "bad section name '[%s]'", name);
            if (!section_known(name))
                return ntas_ini_fail(sc, loc, NULL, "unknown section '[%s]' (expected [sweep], [params], [grid], [zip], "
                                           "[vars], [derived] or [case.NAME])", name);
            for (int i = 0; i < out->n; i++)
                if (!strcmp(out->e[i].section, name) && out->e[i].key[0] == '\0')
                    return ntas_ini_fail(sc, loc, NULL, "section '[%s]' appears twice (first at line %d)", name,
                                NTAS_LINE_OF(out->e[i].loc));
            strcpy(section, name);
            /* A marker ntas_ini_entry with an empty key remembers where the section is. */
            if (push_entry(out, name, "", loc, NULL) != 0) return ntas_ini_fail(sc, loc, NULL, "out of memory");
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) return ntas_ini_fail(sc, loc, NULL, "expected 'key = value', found '%.60s'", s);
        *eq = '\0';
        char *key = ntas_ini_trim(s);
        char *value = ntas_ini_trim(eq + 1);
        for (char *q = key; *q; q++) *q = (char)tolower((unsigned char)*q);
        if (!ntas_ini_name_ok(key, "") || strlen(key) >= NTAS_NAME_LEN)
            return ntas_ini_fail(sc, loc, NULL, "bad key name '%.60s'", key);
        if (section[0] == '\0') return ntas_ini_fail(sc, loc, key, "key outside any section");
        if (continued) return ntas_ini_fail(sc, loc, key, "line ends in '\\': line continuation is not supported");
        char *comment = strpbrk(value, ";#");
        if (comment) *comment = '\0';
        value = ntas_ini_trim(value);
        if (value[0] == '\0') return ntas_ini_fail(sc, loc, key, "missing value");
        if (strpbrk(value, "\"'"))
            return ntas_ini_fail(sc, loc, key, "quotes are not supported: write the value without them");
        for (int i = 0; i < out->n; i++)
            if (!strcmp(out->e[i].section, section) && !strcmp(out->e[i].key, key))
                return ntas_ini_fail(sc, loc, key, "duplicate key in [%s] (first at line %d)", section,
                            NTAS_LINE_OF(out->e[i].loc));
        char *v = strdup(value);
        if (!v || push_entry(out, section, key, loc, v) != 0) return ntas_ini_fail(sc, loc, key, "out of memory");
    }
    return 0;
}

/* Pass 2: iniparser reads the file; its values must be the scanner's. */
/* iniparser_load of file fi; a file that starts with a UTF-8 byte-order mark
 * is given to iniparser without it, through a private temporary copy
 * (iniparser reads only paths). */
static dictionary *load_with_iniparser(const ntas_ini_scan *sc, int fi)
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

static int check_with_iniparser(ntas_ini_scan *sc, int fi, const ntas_ini_entries *l)
{
    dictionary *d = load_with_iniparser(sc, fi);
    if (!d) return ntas_ini_fail(sc, NTAS_LOC(fi, 0), NULL, "iniparser could not parse the file");
    int rc = 0;
    for (int i = 0; i < l->n && rc == 0; i++) {
        const ntas_ini_entry *e = &l->e[i];
        if (e->key[0] == '\0') continue;
        char lookup[2 * NTAS_NAME_LEN + 16];
        snprintf(lookup, sizeof lookup, "%s:%s", e->section, e->key);
        const char *v = iniparser_getstring(d, lookup, NULL);
        if (!v) rc = ntas_ini_fail(sc, e->loc, e->key, "iniparser does not see this key: check the lines above it");
        else if (strcmp(v, e->value) != 0)
            rc = ntas_ini_fail(sc, e->loc, e->key, "iniparser reads the value as '%.60s', not '%.60s'", v, e->value);
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
static int merge_over(ntas_ini_entries *base, ntas_ini_entries *own)
{
    int base_end = base->n;   /* only the base's entries can be overridden */
    for (int i = 0; i < own->n; i++) {
        ntas_ini_entry *o = &own->e[i];
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
static int scan_file(ntas_ini_scan *sc, const char *path, int depth, int include_loc, ntas_ini_entries *out)
{
    if (sc->n_files == NTAS_INI_MAX_FILES)
        return ntas_ini_fail(sc, include_loc, "include", "more than %d files included", NTAS_INI_MAX_FILES - 1);
    const int fi = sc->n_files;
    ntas_ini_file *f = &sc->files[fi];
    if (!(f->path = strdup(path))) return ntas_ini_fail(sc, include_loc, "include", "out of memory");
    char rp[PATH_MAX];
    if (!realpath(path, rp)) {
        if (depth == 0) { snprintf(sc->err, sc->errlen, "%s: cannot open sweep file: %s", path, strerror(errno)); free(f->path); f->path = NULL; return -1; }
        int e = errno;
        free(f->path);
        f->path = NULL;
        return ntas_ini_fail(sc, include_loc, "include", "cannot open '%s': %s", path, strerror(e));
    }
    for (int i = 0; i < sc->n_files; i++)
        if (sc->files[i].real && !strcmp(sc->files[i].real, rp) && depth > 0) {
            free(f->path);
            f->path = NULL;
            return ntas_ini_fail(sc, include_loc, "include", "include loop: %s is already being read", path);
        }
    if (!(f->real = strdup(rp))) { free(f->path); f->path = NULL; return ntas_ini_fail(sc, include_loc, "include", "out of memory"); }
    sc->n_files++;
    if (read_file(path, &f->text, &f->len, sc->err, sc->errlen)) {
        if (depth > 0) {
            char why[512];
            snprintf(why, sizeof why, "%s", sc->err);
            return ntas_ini_fail(sc, include_loc, "include", "%s", why);
        }
        return -1;
    }
    if (f->len == 0) return ntas_ini_fail(sc, NTAS_LOC(fi, 0), NULL, "empty sweep file");

    ntas_ini_entries own = {0};
    int rc = scan_lines(sc, fi, &own);
    if (rc == 0) rc = check_with_iniparser(sc, fi, &own);
    const ntas_ini_entry *inc = NULL;
    for (int i = 0; rc == 0 && i < own.n; i++)
        if (!strcmp(own.e[i].section, "sweep") && !strcmp(own.e[i].key, "include")) inc = &own.e[i];
    if (rc == 0 && inc) {
        if (depth + 1 > MAX_INCLUDE_DEPTH) {
            rc = ntas_ini_fail(sc, inc->loc, "include", "includes nested deeper than %d", MAX_INCLUDE_DEPTH);
        } else {
            /* Relative to the directory of the including file. */
            char full[PATH_MAX];
            const char *slash = strrchr(path, '/');
            int n = inc->value[0] == '/' || !slash
                        ? snprintf(full, sizeof full, "%s", inc->value)
                        : snprintf(full, sizeof full, "%.*s/%s", (int)(slash - path), path, inc->value);
            if (n < 0 || n >= (int)sizeof full) rc = ntas_ini_fail(sc, inc->loc, "include", "path too long");
            else rc = scan_file(sc, full, depth + 1, inc->loc, out);
        }
    }
    if (rc == 0 && merge_over(out, &own) != 0) rc = ntas_ini_fail(sc, NTAS_LOC(fi, 0), NULL, "out of memory");
    free_entries(&own);
    return rc;
}

int ntas_ini_read(ntas_ini_scan *sc, const char *path)
{
    return scan_file(sc, path, 0, 0, &sc->entries);
}

void ntas_ini_scan_free(ntas_ini_scan *sc)
{
    free_entries(&sc->entries);
    for (int i = 0; i < sc->n_files; i++) {
        free(sc->files[i].path);
        free(sc->files[i].real);
        free(sc->files[i].text);
    }
    sc->n_files = 0;
}

char *ntas_ini_joined_text(const ntas_ini_scan *sc)
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
