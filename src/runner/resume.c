/* resume — create, resume, extend or refuse. See resume.h. */
#include "ntasweep/runner/resume.h"
#include "ntasweep/core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ntasweep/config/params.h"
#include "ntasweep/core/rng.h"
#include "ntasweep/io/store.h"
#include "ntasweep/train/train.h"

#define SHOWN 8          /* distinct values shown per key in a diff */
#define VALUE_WIDTH 64

typedef struct {
    uint64_t key;
    int index;
} key_index;

static int cmp_key_index(const void *a, const void *b)
{
    const key_index *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->index - y->index;
}

/* Index of key in the sorted table, or -1. */
static int find(const key_index *sorted, int n, uint64_t key)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (sorted[mid].key == key) return sorted[mid].index;
        if (sorted[mid].key < key) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* "v1, v2, ... (N values)" of the n texts: the first SHOWN distinct ones in
 * order and the exact distinct count (hashes, sorted). */
static void summarise(const char *texts, int n, char *out, size_t len)
{
    uint64_t *h = malloc((size_t)(n > 0 ? n : 1) * sizeof *h);
    out[0] = '\0';
    if (!h) return;
    size_t used = 0;
    int shown[SHOWN], n_shown = 0;
    for (int i = 0; i < n; i++) {
        const char *t = texts + (size_t)i * VALUE_WIDTH;
        h[i] = ntas_hash64(t, strlen(t), 0);
        if (n_shown == SHOWN) continue;
        int seen = 0;
        for (int j = 0; j < n_shown && !seen; j++) seen = !strcmp(texts + (size_t)shown[j] * VALUE_WIDTH, t);
        if (seen) continue;
        if (used < len) used += (size_t)snprintf(out + used, len - used, "%s%s", n_shown ? ", " : "", t);
        shown[n_shown++] = i;
    }
    qsort(h, (size_t)n, sizeof *h, cmp_u64);
    int distinct = n > 0;
    for (int i = 1; i < n; i++) distinct += h[i] != h[i - 1];
    if (distinct > n_shown && used < len) snprintf(out + used, len - used, ", ... (%d values)", distinct);
    free(h);
}

/* What differs between the file's runs and the sweep's, key by key. */
static void diff(const char *path, const ntas_store_info *info, const ntas_spec *spec, int n_lost,
                 char *err, size_t errlen)
{
    size_t used = (size_t)snprintf(err, errlen,
        "%s holds %d run%s that this sweep does not have (of %d in the file; file sweep '%s', this sweep '%s'): "
        "running it would mix two different sweeps in one file.\nWhat changed (file -> sweep):",
        path, n_lost, n_lost == 1 ? "" : "s", info->n_runs, info->spec_name, spec->name);
    int n_max = info->n_runs > spec->n_runs ? info->n_runs : spec->n_runs;
    char *texts = malloc((size_t)(n_max > 0 ? n_max : 1) * VALUE_WIDTH);
    int any = 0;
    for (int k = 0; texts && k < ntas_param_count && used < errlen; k++) {
        const ntas_param_desc *d = &ntas_param_table[k];
        char why[256], before[512], after[512];
        if (ntas_store_param_text(path, k, info->n_runs, texts, VALUE_WIDTH, why, sizeof why) != 0)
            snprintf(before, sizeof before, "(not in the file)");
        else
            summarise(texts, info->n_runs, before, sizeof before);
        for (int i = 0; i < spec->n_runs; i++)
            ntas_param_format(d, &spec->runs[i].params, texts + (size_t)i * VALUE_WIDTH, VALUE_WIDTH);
        summarise(texts, spec->n_runs, after, sizeof after);
        if (!strcmp(before, after)) continue;
        used += (size_t)snprintf(err + used, errlen - used, "\n  %s: %s -> %s", d->key, before, after);
        any = 1;
    }
    free(texts);
    if (!any && used < errlen)
        used += (size_t)snprintf(err + used, errlen - used, "\n  (every key takes the same set of values: the combinations differ)");
    if (used < errlen)
        snprintf(err + used, errlen - used,
                 "\nThe file was not modified. Use another -o, or --force-new to start a new file "
                 "(the old one is kept as %s.old-N).", path);
}

/* Moves path to the first free path.old-N. */
static int move_aside(const char *path, char *moved_to, size_t len, char *err, size_t errlen)
{
    for (int i = 1; i < 10000; i++) {
        snprintf(moved_to, len, "%s.old-%d", path, i);
        if (access(moved_to, F_OK) == 0) continue;
        if (rename(path, moved_to) == 0) return 0;
        ntas_set_err(err, errlen, "%s: cannot rename to %s", path, moved_to);
        return -1;
    }
    ntas_set_err(err, errlen, "%s: too many old copies beside it", path);
    return -1;
}

int ntas_resume_prepare(ntas_resume *r, const char *path, const ntas_spec *spec, int force_new,
                        char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    const int n = spec->n_runs;
    r->n = n;
    r->order = malloc((size_t)(n > 0 ? n : 1) * sizeof *r->order);
    r->status = calloc((size_t)(n > 0 ? n : 1), 1);
    key_index *sorted = malloc((size_t)(n > 0 ? n : 1) * sizeof *sorted);
    int *taken = calloc((size_t)(n > 0 ? n : 1), sizeof *taken);
    ntas_store_info info;
    memset(&info, 0, sizeof info);
    int rc = -1;
    if (!r->order || !r->status || !sorted || !taken) {
        ntas_set_err(err, errlen, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) r->order[i] = i;

    if (access(path, F_OK) != 0) {
        r->kind = NTAS_RESUME_CREATED;
        rc = ntas_store_create(path, spec, NULL, 0, err, errlen);
        goto out;
    }
    if (ntas_store_inspect(path, &info, err, errlen) != 0) {
        if (!force_new) {
            size_t used = strlen(err);
            snprintf(err + used, errlen - used, "\nThe file was not modified. Use another -o, or --force-new to start a new file (the old one is kept as %s.old-N).", path);
            rc = 1;
            goto out;
        }
        info.n_runs = 0;
    }

    /* Match the file's runs to the sweep's by run key. */
    for (int i = 0; i < n; i++) sorted[i] = (key_index){spec->runs[i].key, i};
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_key_index);
    int lost = 0;
    for (int i = 0; i < info.n_runs; i++) {
        int j = find(sorted, n, info.keys[i]);
        if (j < 0 || taken[j]) lost++;
        else {
            taken[j] = 1;
            r->order[i] = j;
        }
    }
    if (lost > 0 || force_new) {
        if (!force_new) {
            diff(path, &info, spec, lost, err, errlen);
            rc = 1;
            goto out;
        }
        if (move_aside(path, r->moved_to, sizeof r->moved_to, err, errlen) != 0) goto out;
        r->kind = NTAS_RESUME_REPLACED;
        for (int i = 0; i < n; i++) r->order[i] = i;
        rc = ntas_store_create(path, spec, NULL, 0, err, errlen);
        goto out;
    }

    /* The file's runs keep their indices; new points are appended in the
     * sweep's order. */
    r->n_old = info.n_runs;
    int next = info.n_runs;
    for (int j = 0; j < n; j++)
        if (!taken[j]) r->order[next++] = j;
    for (int i = 0; i < info.n_runs; i++) r->status[i] = info.status[i];
    char hex[17];
    ntas_hex64(spec->hash, hex);
    r->spec_changed = strcmp(hex, info.spec_hash) != 0;
    if (info.n_runs == n) {
        r->kind = NTAS_RESUME_IN_PLACE;
        /* Extending copies what the file has (a result it lacks stays NaN);
         * resuming in place writes into it, so it needs every result. */
        rc = ntas_store_check_results(path, err, errlen) == 0 ? 0 : 1;
        goto out;
    }
    r->kind = NTAS_RESUME_EXTENDED;
    {
        ntas_spec merged = *spec;
        merged.runs = malloc((size_t)n * sizeof *merged.runs);
        if (!merged.runs) {
            ntas_set_err(err, errlen, "out of memory");
            goto out;
        }
        for (int i = 0; i < n; i++) merged.runs[i] = spec->runs[r->order[i]];
        rc = ntas_store_create(path, &merged, path, info.n_runs, err, errlen);
        free(merged.runs);
    }
out:
    free(sorted);
    free(taken);
    ntas_store_info_free(&info);
    if (rc != 0) {
        free(r->order);
        free(r->status);
        r->order = NULL;
        r->status = NULL;
    }
    return rc;
}

void ntas_resume_free(ntas_resume *r)
{
    free(r->order);
    free(r->status);
    memset(r, 0, sizeof *r);
}

/* --- resume from the file alone ------------------------------------------- */

#define INCLUDE_MARK "\n; ---- include: "

void ntas_resume_command(const ntas_stored_sweep *s, const char *out, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "ntasweep run %s -o %s", s->spec_file, out);
    const char *o = s->spec_overrides ? s->spec_overrides : "";
    while (*o && used < len) {
        size_t n = strcspn(o, "\n");
        used += (size_t)snprintf(buf + used, len - used, " %.*s", (int)n, o);
        o += n + (o[n] == '\n');
    }
}

int ntas_resume_overrides(ntas_stored_sweep *s, const char **sets, int max)
{
    int n = 0;
    char *o = s->spec_overrides;
    while (o && *o && n < max) {
        char *end = o + strcspn(o, "\n");
        int last = *end == '\0';
        *end = '\0';
        if (!strncmp(o, "--set ", 6)) sets[n++] = o + 6;
        if (last) break;
        o = end + 1;
    }
    return n;
}

/* The directory part of path ("" for none), into buf. */
static void dir_of(const char *path, char *buf, size_t len)
{
    const char *slash = strrchr(path, '/');
    snprintf(buf, len, "%.*s", slash ? (int)(slash - path) : 0, path);
}

/* Each stored file in turn: *name (the main file's base name, or an include's
 * path relative to the main file's directory), *text and *n. Returns the
 * position after it, or NULL at the end. -1 in *bad for an include outside. */
static const char *next_file(const ntas_stored_sweep *s, const char *at, char *name, size_t len, const char **text,
                             size_t *n, int *bad)
{
    char main_dir[256];
    dir_of(s->spec_file, main_dir, sizeof main_dir);
    *bad = 0;
    if (at == s->spec_text) {
        const char *base = strrchr(s->spec_file, '/');
        snprintf(name, len, "%s", base ? base + 1 : s->spec_file);
    } else {
        at += strlen(INCLUDE_MARK);
        const char *end = strstr(at, " ----\n");
        if (!end) return NULL;
        char path[1024];
        snprintf(path, sizeof path, "%.*s", (int)(end - at), at);
        size_t dl = strlen(main_dir);
        const char *rel = dl == 0 ? path : !strncmp(path, main_dir, dl) && path[dl] == '/' ? path + dl + 1 : NULL;
        if (!rel || rel[0] == '/' || strstr(rel, "..")) {
            snprintf(name, len, "%s", path);
            *bad = 1;
            return NULL;
        }
        snprintf(name, len, "%s", rel);
        at = end + strlen(" ----\n");
    }
    const char *next = strstr(at, INCLUDE_MARK);
    *text = at;
    *n = next ? (size_t)(next - at) : strlen(at);
    return next ? next : at + *n;
}

int ntas_resume_write_spec(const ntas_stored_sweep *s, const char *dir, char *main_path, size_t len,
                           char *err, size_t errlen)
{
    if (mkdir(dir, 0700) != 0) {
        ntas_set_err(err, errlen, "%s: cannot create a directory for the stored sweep text", dir);
        return -1;
    }
    const char *at = s->spec_text;
    int first = 1;
    while (at && *at) {
        char name[1024], path[2048];
        const char *text = NULL;
        size_t n = 0;
        int bad;
        const char *next = next_file(s, at, name, sizeof name, &text, &n, &bad);
        if (bad) {
            ntas_set_err(err, errlen, "the stored sweep includes %s, outside the directory of %s", name, s->spec_file);
            ntas_resume_remove_spec(s, dir);
            return -1;
        }
        if (!next) break;
        snprintf(path, sizeof path, "%s/%s", dir, name);
        for (char *q = path + strlen(dir) + 1; *q; q++)   /* subdirectories of includes */
            if (*q == '/') { *q = '\0'; mkdir(path, 0700); *q = '/'; }
        FILE *f = fopen(path, "wb");
        int ok = f && fwrite(text, 1, n, f) == n;
        if (f && fclose(f) != 0) ok = 0;
        if (!ok) {
            ntas_set_err(err, errlen, "%s: cannot write the stored sweep text", path);
            ntas_resume_remove_spec(s, dir);
            return -1;
        }
        if (first) snprintf(main_path, len, "%s", path);
        first = 0;
        at = next;
    }
    return 0;
}

void ntas_resume_remove_spec(const ntas_stored_sweep *s, const char *dir)
{
    const char *at = s->spec_text;
    while (at && *at) {
        char name[1024], path[2048];
        const char *text;
        size_t n;
        int bad;
        const char *next = next_file(s, at, name, sizeof name, &text, &n, &bad);
        if (!next) break;
        snprintf(path, sizeof path, "%s/%s", dir, name);
        remove(path);
        /* Empty subdirectories of includes, deepest first. */
        for (char *q = strrchr(path, '/'); q && q > path + strlen(dir); q = strrchr(path, '/')) {
            *q = '\0';
            rmdir(path);
        }
        at = next;
    }
    rmdir(dir);
}
