/* test_spec — the sweep-file language and the parameter table.
 *
 * Run-table order (cases in file order x grid, first key slowest x replicate
 * seeds innermost), value precedence (defaults < [params] < case < --set),
 * --set collapsing a grid axis, run keys and the spec hash, and the exact
 * "FILE:LINE: key 'K': ..." of every kind of bad input. Also the parameter
 * table itself: defaults parse and validate, reals format to text that reads
 * back exactly. Sweep files are written to a mkdtemp directory under /tmp
 * and removed at the end. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ntasweep/config/params.h"
#include "ntasweep/config/spec.h"
#include "check.h"

/* --- temporary sweep files ------------------------------------------------ */

static char tmp_dir[64];
static char tmp_files[64][160];
static int n_tmp_files;

/* Writes len bytes of text to tmp_dir/name and returns the path. */
static const char *write_ini_n(const char *name, const char *text, size_t len)
{
    static char path[160];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
    FILE *f = fopen(path, "wb");
    CHECK_MSG(f != NULL, "cannot write %s", path);
    if (!f) return path;
    CHECK(fwrite(text, 1, len, f) == len);
    fclose(f);
    int known = 0;
    for (int i = 0; i < n_tmp_files; i++) known |= !strcmp(tmp_files[i], path);
    if (!known && n_tmp_files < 64) snprintf(tmp_files[n_tmp_files++], sizeof tmp_files[0], "%s", path);
    return path;
}

static const char *write_ini(const char *name, const char *text)
{
    return write_ini_n(name, text, strlen(text));
}

static void remove_tmp(void)
{
    for (int i = 0; i < n_tmp_files; i++) remove(tmp_files[i]);
    rmdir(tmp_dir);
}

static int param(const char *key)
{
    int i = ntas_param_find(key);
    CHECK_MSG(i >= 0, "no key %s in the table", key);
    return i;
}

static double real_of(const ntas_run *r, const char *key)
{
    return ntas_param_get_real(&ntas_param_table[param(key)], &r->params);
}

static int64_t int_of(const ntas_run *r, const char *key)
{
    return ntas_param_get_int(&ntas_param_table[param(key)], &r->params);
}

/* Loads text (written as name) and expects success; returns 0 on success. */
static int load_ok(ntas_spec *s, const char *name, const char *text, const char *const *ov, int n_ov)
{
    char err[1024] = "";
    const char *path = write_ini(name, text);
    int rc = ntas_spec_load(s, path, ov, n_ov, err, sizeof err);
    CHECK_MSG(rc == 0, "%s should load: %s", name, err);
    return rc;
}

/* Loads text and expects an error whose message starts exactly with
 *   PATH:LINE: key 'KEY':   (line > 0, key != NULL)
 *   PATH:LINE:              (line > 0, key == NULL; then no "key '" at all)
 *   PATH: key 'KEY':        (line == 0, key != NULL)
 *   PATH:                   (line == 0, key == NULL)
 *   --set KEY               (line < 0)
 * and that contains want (if not NULL). */
static void expect_error_full(const char *what, const char *text, size_t len, const char *const *ov, int n_ov,
                              int line, const char *key, const char *want)
{
    char err[1024] = "";
    const char *path = write_ini_n("bad.ini", text, len);
    ntas_spec s;
    int rc = ntas_spec_load(&s, path, ov, n_ov, err, sizeof err);
    CHECK_MSG(rc == -1, "%s: should fail but loaded %d runs", what, rc == 0 ? s.n_runs : -1);
    if (rc == 0) {
        ntas_spec_free(&s);
        return;
    }
    char prefix[512];
    if (line > 0 && key) snprintf(prefix, sizeof prefix, "%s:%d: key '%s': ", path, line, key);
    else if (line > 0) snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
    else if (line == 0 && key) snprintf(prefix, sizeof prefix, "%s: key '%s': ", path, key);
    else if (line == 0) snprintf(prefix, sizeof prefix, "%s: ", path);
    else snprintf(prefix, sizeof prefix, "--set %s", key);
    CHECK_MSG(!strncmp(err, prefix, strlen(prefix)), "%s: message\n    %s\n  should start with\n    %s", what, err, prefix);
    if (line > 0 && !key) CHECK_MSG(!strstr(err, "key '"), "%s: unexpected key in: %s", what, err);
    if (want) CHECK_MSG(strstr(err, want) != NULL, "%s: message\n    %s\n  should contain '%s'", what, err, want);
    /* A failed load leaves the spec empty (safe to free again). */
    CHECK(s.runs == NULL && s.text == NULL && s.n_runs == 0);
    ntas_spec_free(&s);
}

static void expect_error_ov(const char *what, const char *text, const char *const *ov, int n_ov, int line,
                            const char *key, const char *want)
{
    expect_error_full(what, text, strlen(text), ov, n_ov, line, key, want);
}

static void expect_error(const char *what, const char *text, int line, const char *key, const char *want)
{
    expect_error_full(what, text, strlen(text), NULL, 0, line, key, want);
}

/* --- run table -------------------------------------------------------------- */

static const char order_ini[] =
    "; run-table order\n"          /* 1 */
    "[sweep]\n"                    /* 2 */
    "name = order\n"               /* 3 */
    "replicates = 2\n"             /* 4 */
    "[params]\n"                   /* 5 */
    "d_in = 12\n"                  /* 6 */
    "d_out = 4\n"                  /* 7 */
    "[grid]\n"                     /* 8 */
    "tau_w = 1.3, 1.0\n"           /* 9 */
    "batch = 50, 60, 70\n"         /* 10 */
    "[case.zeta]\n"                /* 11: file order, not alphabetical */
    "tau_c = 0.05\n"               /* 12 */
    "[case.alpha]\n"               /* 13 */
    "tau_c = 0.04\n";              /* 14 */

static void test_order(void)
{
    ntas_spec s;
    if (load_ok(&s, "order.ini", order_ini, NULL, 0)) return;
    CHECK(!strcmp(s.name, "order"));
    CHECK(s.n_runs == 2 * 2 * 3 * 2);
    const char *cases[] = {"zeta", "alpha"};
    const double tau_c[] = {0.05, 0.04}, tau_w[] = {1.3, 1.0};
    const int64_t batch[] = {50, 60, 70};
    int r = 0, bad = 0;
    for (int c = 0; c < 2; c++)
        for (int w = 0; w < 2; w++)
            for (int b = 0; b < 3; b++)
                for (int seed = 0; seed < 2; seed++, r++) {
                    const ntas_run *run = &s.runs[r];
                    int ok = !strcmp(run->case_name, cases[c]) && real_of(run, "tau_c") == tau_c[c] &&
                             real_of(run, "tau_w") == tau_w[w] && int_of(run, "batch") == batch[b] &&
                             int_of(run, "seed") == seed && int_of(run, "d_in") == 12 &&
                             int_of(run, "d_out") == 4 && run->key == ntas_params_run_key(&run->params);
                    CHECK_MSG(ok, "run %d: case %s tau_c %g tau_w %g batch %lld seed %lld", r, run->case_name,
                              real_of(run, "tau_c"), real_of(run, "tau_w"), (long long)int_of(run, "batch"),
                              (long long)int_of(run, "seed"));
                    bad += !ok;
                }
    CHECK(bad == 0);
    /* Keys not set anywhere keep their defaults. */
    ntas_params def;
    ntas_params_defaults(&def);
    CHECK(s.runs[0].params.lambda_norm == def.lambda_norm && s.runs[0].params.paths == def.paths &&
          s.runs[0].params.dt == def.dt && s.runs[0].params.n_blocks == def.n_blocks);
    ntas_spec_free(&s);

    /* No cases, no replicates: one unnamed case, the seed from [params]. */
    if (load_ok(&s, "plain.ini", "[params]\nseed = 7\n[grid]\nteacher_seed = 3, 1, 2\n", NULL, 0)) return;
    CHECK(s.n_runs == 3);
    CHECK(!strcmp(s.name, "plain")); /* default name: base name without extension */
    for (int i = 0; i < s.n_runs; i++) {
        CHECK(s.runs[i].case_name[0] == '\0');
        CHECK(int_of(&s.runs[i], "seed") == 7);
    }
    CHECK(int_of(&s.runs[0], "teacher_seed") == 3 && int_of(&s.runs[1], "teacher_seed") == 1 &&
          int_of(&s.runs[2], "teacher_seed") == 2);
    ntas_spec_free(&s);

    /* Three grid axes: the first is the slowest. */
    if (load_ok(&s, "grid3.ini", "[grid]\nn_blocks = 1, 2\nbatch = 10, 20\nteacher_seed = 5, 6, 7\n", NULL, 0)) return;
    CHECK(s.n_runs == 12);
    for (int i = 0; i < s.n_runs; i++) {
        CHECK(int_of(&s.runs[i], "n_blocks") == 1 + i / 6);
        CHECK(int_of(&s.runs[i], "batch") == 10 * (1 + (i / 3) % 2));
        CHECK(int_of(&s.runs[i], "teacher_seed") == 5 + i % 3);
    }
    ntas_spec_free(&s);
}

static void test_precedence(void)
{
    /* The case comes before [params] in the file but still wins. */
    static const char ini[] =
        "[case.fast]\n"
        "tau_c = 0.02\n"
        "lambda_w = 0.5\n"
        "[case.plain]\n"
        "[params]\n"
        "tau_c = 0.06\n"
        "lambda_norm = 0.1\n";
    ntas_spec s;
    if (load_ok(&s, "prec.ini", ini, NULL, 0)) return;
    CHECK(s.n_runs == 2);
    ntas_params def;
    ntas_params_defaults(&def);
    const ntas_run *fast = &s.runs[0], *plain = &s.runs[1];
    CHECK(!strcmp(fast->case_name, "fast") && !strcmp(plain->case_name, "plain"));
    CHECK(fast->params.tau_c == 0.02);          /* case over [params] */
    CHECK(fast->params.lambda_w == 0.5);        /* case over default */
    CHECK(fast->params.lambda_norm == 0.1);     /* [params] under the case */
    CHECK(plain->params.tau_c == 0.06);         /* [params] over default */
    CHECK(plain->params.lambda_w == def.lambda_w);
    CHECK(plain->params.tau_w == def.tau_w && plain->params.lambda_nonneg == def.lambda_nonneg);
    ntas_spec_free(&s);
}

static void test_overrides(void)
{
    ntas_spec s;
    /* --set replaces [params] and case values in every run. */
    const char *ov1[] = {"d_in=16", "lambda_norm = 0.2"};
    if (load_ok(&s, "order.ini", order_ini, ov1, 2) == 0) {
        CHECK(s.n_runs == 24);
        for (int i = 0; i < s.n_runs; i++) {
            CHECK(int_of(&s.runs[i], "d_in") == 16);
            CHECK(real_of(&s.runs[i], "lambda_norm") == 0.2);
        }
        CHECK(!strcmp(s.overrides, "--set d_in=16\n--set lambda_norm = 0.2"));
        ntas_spec_free(&s);
    }
    /* --set of a grid key collapses that axis to the one value. */
    const char *ov2[] = {"tau_w=2"};
    if (load_ok(&s, "order.ini", order_ini, ov2, 1) == 0) {
        CHECK(s.n_runs == 2 * 3 * 2);
        for (int i = 0; i < s.n_runs; i++) {
            CHECK(real_of(&s.runs[i], "tau_w") == 2.0);
            CHECK(int_of(&s.runs[i], "batch") == 50 + 10 * ((i / 2) % 3));
            CHECK(int_of(&s.runs[i], "seed") == i % 2);
        }
        ntas_spec_free(&s);
    }
    /* --set seed replaces the replicate seeds. */
    const char *ov3[] = {"seed=7"};
    if (load_ok(&s, "order.ini", order_ini, ov3, 1) == 0) {
        CHECK(s.n_runs == 2 * 2 * 3);
        for (int i = 0; i < s.n_runs; i++) CHECK(int_of(&s.runs[i], "seed") == 7);
        ntas_spec_free(&s);
    }
    /* The last --set of a key wins. */
    const char *ov4[] = {"d_in=16", "d_in=24"};
    if (load_ok(&s, "order.ini", order_ini, ov4, 2) == 0) {
        for (int i = 0; i < s.n_runs; i++) CHECK(int_of(&s.runs[i], "d_in") == 24);
        ntas_spec_free(&s);
    }
    /* --set of a case key makes the cases identical. */
    const char *ov5[] = {"tau_c=0.02"};
    expect_error_ov("--set makes cases identical", order_ini, ov5, 1, 0, NULL, "identical");
    /* --set errors name the override and the key. */
    const char *bad1[] = {"d_in"};
    expect_error_ov("--set without '='", order_ini, bad1, 1, -1, "d_in", "key=value");
    const char *bad2[] = {"tau_cc=0.1"};
    expect_error_ov("--set unknown key", order_ini, bad2, 1, -1, "tau_cc=0.1", "did you mean 'tau_c'");
    const char *bad3[] = {"d_in=twenty"};
    expect_error_ov("--set bad value", order_ini, bad3, 1, -1, "d_in=twenty", "key 'd_in'");
    const char *bad4[] = {"dt=0.05"};
    expect_error_ov("--set dt >= tau_c", order_ini, bad4, 1, -1, "dt", "tau_c");
    const char *bad5[] = {"=5"};
    expect_error_ov("--set without key", order_ini, bad5, 1, -1, "=5", "key=value");
}

static void test_keys_and_hash(void)
{
    ntas_spec a, b;
    if (load_ok(&a, "order.ini", order_ini, NULL, 0)) return;
    if (load_ok(&b, "order.ini", order_ini, NULL, 0)) {
        ntas_spec_free(&a);
        return;
    }
    /* Stable across loads, and distinct within a sweep. */
    CHECK(a.n_runs == b.n_runs && a.hash == b.hash);
    int same = 1, distinct = 1;
    for (int i = 0; i < a.n_runs; i++) {
        same &= a.runs[i].key == b.runs[i].key;
        for (int j = 0; j < i; j++) distinct &= a.runs[i].key != a.runs[j].key;
    }
    CHECK(same);
    CHECK(distinct);
    /* One changed parameter changes the key; equal parameters, equal key. */
    ntas_params p = a.runs[0].params;
    CHECK(ntas_params_run_key(&p) == a.runs[0].key);
    p.tau_w = nextafter(p.tau_w, 2.0);
    CHECK(ntas_params_run_key(&p) != a.runs[0].key);
    p = a.runs[0].params;
    p.teacher_seed = 1;
    CHECK(ntas_params_run_key(&p) != a.runs[0].key);
    /* A key does not depend on the run's position: the same parameters in
     * another sweep (here, reached by --set) give the same key. */
    ntas_spec c;
    const char *ov[] = {"seed=1", "tau_w=1.0", "batch=70"};
    if (load_ok(&c, "order.ini", order_ini, ov, 3) == 0) {
        CHECK(c.n_runs == 2);
        /* run 11 of order.ini: case zeta, tau_w 1.0, batch 70, seed 1 */
        CHECK(c.runs[0].key == a.runs[11].key);
        CHECK(c.runs[1].key == a.runs[23].key);
        CHECK(c.hash != a.hash); /* --set changes the spec hash */
        ntas_spec_free(&c);
    }
    /* The hash follows the text (a comment counts), not the path. */
    ntas_spec d;
    char text[2048];
    snprintf(text, sizeof text, "%s; one more comment\n", order_ini);
    if (load_ok(&d, "order2.ini", text, NULL, 0) == 0) {
        CHECK(d.hash != a.hash);
        CHECK(d.n_runs == a.n_runs && d.runs[5].key == a.runs[5].key);
        ntas_spec_free(&d);
    }
    if (load_ok(&d, "copy_of_order.ini", order_ini, NULL, 0) == 0) {
        CHECK(d.hash == a.hash);
        ntas_spec_free(&d);
    }
    const char *ov2[] = {"d_in=16"}, *ov3[] = {"d_in=20"};
    ntas_spec e;
    if (load_ok(&d, "order.ini", order_ini, ov2, 1) == 0) {
        if (load_ok(&e, "order.ini", order_ini, ov3, 1) == 0) {
            CHECK(d.hash != a.hash && e.hash != a.hash && d.hash != e.hash);
            ntas_spec_free(&e);
        }
        ntas_spec_free(&d);
    }
    char hex[17];
    ntas_hex64(0x0123456789abcdefULL, hex);
    CHECK(!strcmp(hex, "0123456789abcdef"));
    ntas_hex64(0, hex);
    CHECK(!strcmp(hex, "0000000000000000"));
    ntas_spec_free(&a);
    ntas_spec_free(&b);

    /* Two cases with equal parameters are one run stored twice. */
    expect_error("identical cases", "[params]\nd_in = 20\n[case.a]\ntau_c = 0.05\n[case.b]\ntau_c = 0.05\n", 0, NULL,
                 "identical");
    expect_error("identical empty cases", "[case.a]\n[case.b]\n", 0, NULL, "identical");
}

/* --- errors: file:line:key ------------------------------------------------------ */

static void test_errors(void)
{
    expect_error("unknown key, near miss", "[sweep]\nname = x\n[params]\ntau_cc = 0.03\n", 4, "tau_cc",
                 "did you mean 'tau_c'");
    expect_error("unknown key in grid", "[grid]\nbatchh = 1, 2\n", 2, "batchh", "did you mean 'batch'");
    expect_error("unknown key in case", "[case.a]\nlambda_nonnef = 0\n", 2, "lambda_nonnef", "did you mean 'lambda_nonneg'");
    expect_error("unknown key, far off", "[params]\nd_in = 20\nfrobnication = 3\n", 3, "frobnication", "unknown key");
    {
        char err[1024] = "";
        ntas_spec s;
        const char *path = write_ini("bad.ini", "[params]\nfrobnication = 3\n");
        if (ntas_spec_load(&s, path, NULL, 0, err, sizeof err) == 0) ntas_spec_free(&s);
        CHECK_MSG(!strstr(err, "did you mean"), "no suggestion expected: %s", err);
    }
    expect_error("unknown key in [sweep]", "[sweep]\nseed = 3\n[params]\n", 2, "seed", "[sweep]");
    expect_error("bad int", "[params]\nd_out = 10\nd_in = twenty\n", 3, "d_in", "not an integer");
    expect_error("fractional int", "[params]\nd_in = 2.5\n", 2, "d_in", "not an integer");
    expect_error("bad real", "[params]\n\n\ndt = fast\n", 4, "dt", "not a number");
    expect_error("bad choice", "[params]\nnorm = l3\n", 2, "norm", "l1");
    expect_error("bad int in grid", "[grid]\nbatch = 10, 2x0\n", 2, "batch", "not an integer");
    expect_error("bad real in case", "[case.a]\ntau_c = 0.05\n[case.b]\ntau_c = slow\n", 4, "tau_c", "not a number");
    expect_error("nan", "[params]\ndt = nan\n", 2, "dt", "not a number");
    expect_error("inf", "[grid]\ntau_w = 1.3, inf\n", 2, "tau_w", "not a number");
    expect_error("overflowing real", "[params]\ndt = 1e400\n", 2, "dt", "finite");
    expect_error("huge real", "[params]\ntau_w = 1e400\n", 2, "tau_w", NULL);
    expect_error("huge int", "[params]\nbatch = 99999999999999999999\n", 2, "batch", "out of range");
    expect_error("negative int", "[params]\nbatch = -5\n", 2, "batch", "out of range");
    expect_error("negative real", "[params]\ntau_w = -1\n", 2, "tau_w", "out of range");
    expect_error("zero dt", "[params]\ndt = 0\n", 2, "dt", "out of range");
    expect_error("int above max", "[params]\npaths = 5000\n", 2, "paths", "out of range");
    expect_error("replicates 0", "[sweep]\nreplicates = 0\n[params]\n", 2, "replicates", NULL);
    expect_error("bad name", "[sweep]\nname = my sweep\n[params]\n", 2, "name", NULL);

    /* Cross-field: dt > tau_c blames the line that set dt ... */
    expect_error("dt > tau_c", "[params]\ntau_c = 0.03\nbatch = 10\ndt = 0.05\n", 4, "dt", "tau_c");
    expect_error("dt > tau_c, dt in a case",
                 "[params]\nbatch = 10\n[case.slow]\ntau_c = 1\n[case.fast]\ntau_c = 0.02\ndt = 0.03\n", 7, "dt",
                 "case fast");
    expect_error("dt > tau_c, tau_c from a case",
                 "[params]\ndt = 0.01\n[case.slow]\ntau_c = 1\n[case.fast]\ntau_c = 0.005\n", 2, "dt", "case fast");
    expect_error("dt > tau_c, dt in grid", "[grid]\ndt = 0.001, 0.01, 0.1\n", 2, "dt", "tau_c");
    /* ... or says it is the default. */
    expect_error("dt > tau_c, dt default", "[params]\ntau_c = 0.0005\n", 0, "dt", "default");
    expect_error("dt > tau_w", "[params]\ntau_c = 1\n\ndt = 0.5\ntau_w = 0.4\n", 4, "dt", "tau_w");
    /* dt = tau is an ordinary Euler step (Fig. 8 ran dt = tau_c = 0.01). */
    {
        ntas_spec s;
        if (load_ok(&s, "dt_eq_tau_c.ini", "[params]\ntau_c = 0.01\ndt = 0.01\n", NULL, 0) == 0) {
            CHECK(s.n_runs == 1);
            ntas_spec_free(&s);
        }
    }

    /* Orthogonal teachers need d_in >= teachers * d_out. */
    expect_error("d_in < teachers*d_out", "[params]\nteachers = 3\nd_out = 10\nd_in = 25\n", 4, "d_in", "teachers");
    expect_error("d_in < teachers*d_out, d_in default", "[params]\nteachers = 3\n", 0, "d_in", "default");
    expect_error("d_in < teachers*d_out, grid", "[params]\nd_in = 20\n[grid]\nd_out = 5, 10, 11\n", 2, "d_in", NULL);

    /* Structure. */
    expect_error("duplicate key", "[params]\nd_in = 20\nd_out = 5\nd_in = 30\n", 4, "d_in", "first at line 2");
    expect_error("duplicate key, case-insensitive", "[params]\nD_IN = 20\nd_in = 30\n", 3, "d_in", NULL);
    expect_error("duplicate section", "[params]\nd_in = 20\n[grid]\nbatch = 1, 2\n[params]\nd_out = 5\n", 5, NULL,
                 "first at line 1");
    expect_error("duplicate case", "[case.a]\ntau_c = 0.05\n[case.A]\ntau_c = 0.04\n", 3, NULL, "twice");
    expect_error("unknown section", "[params]\nd_in = 20\n\n[parmas]\nd_out = 5\n", 4, NULL, "unknown section");
    expect_error("empty case name", "[case.]\n", 1, NULL, "unknown section");
    expect_error("section without ']'", "[sweep]\nname = x\n[params\nd_in = 20\n", 3, NULL, "]");
    expect_error("text after section", "[params] d_in = 20\n", 1, NULL, "after section");
    expect_error("key outside section", "; comment\nd_in = 20\n[params]\n", 2, "d_in", "outside");
    expect_error("missing '='", "[params]\nd_in = 20\nd_out 10\n", 3, NULL, "key = value");
    expect_error("empty value", "[params]\nd_in =\nd_out = 5\n", 2, "d_in", "missing value");
    expect_error("value only a comment", "[params]\nd_out = 5\nd_in = ; twenty\n", 3, "d_in", "missing value");
    expect_error("empty quoted value", "[params]\nd_in = \"\"\n", 2, "d_in", NULL);
    expect_error("empty key", "[params]\n = 20\n", 2, NULL, NULL);
    expect_error("empty list item", "[grid]\ntau_w = 1.3,,1.0\n", 2, "tau_w", "empty item");
    expect_error("trailing comma", "[grid]\n\ntau_w = 1.3, 1.0,\n", 3, "tau_w", "empty item");
    expect_error("duplicate list value", "[grid]\ntau_w = 1.3, 1.0, 1.3\n", 2, "tau_w", "twice");
    expect_error("line continuation", "[grid]\ntau_w = 1.3, \\\n  1.0\n", 2, "tau_w", "continuation");
    expect_error("grid key in [params]", "[params]\nd_in = 20\nbatch = 10\n[grid]\nd_out = 5\nbatch = 10, 20\n", 6,
                 "batch", "line 3");
    expect_error("grid key in a case", "[grid]\nbatch = 10, 20\n[case.a]\nbatch = 30\n", 4, "batch", "line 2");
    expect_error("replicates + seed in grid", "[sweep]\nreplicates = 3\n[grid]\nbatch = 10, 20\nseed = 1, 2\n", 5, "seed",
                 "line 2");
    expect_error("replicates + seed in grid, sweep last", "[grid]\nseed = 1, 2\n[sweep]\nreplicates = 3\n", 2, "seed",
                 "line 4");
    expect_error("replicates + seed in params", "[sweep]\nreplicates = 3\n[params]\nseed = 4\n", 4, "seed", NULL);
    expect_error("replicates + seed in case", "[sweep]\nreplicates = 3\n[case.a]\nseed = 4\n", 4, "seed", NULL);
    expect_error("nothing to run", "[sweep]\nname = x\n", 0, NULL, "nothing to run");
    expect_error("only comments", "; a\n# b\n\n   ; c\n", 0, NULL, "nothing to run");
    expect_error("empty file", "", 0, NULL, "empty");
    {
        static const char nul[] = "[params]\nd_in = 2\0000\n";
        expect_error_full("NUL byte", nul, sizeof nul - 1, NULL, 0, 2, NULL, "NUL");
    }
    expect_error("UTF-8 in a key", "[params]\nd_in = 20\ntau_\xc3\xa7 = 1\n", 3, NULL, "byte");
    expect_error("control byte", "[params]\nd_in = 2\x01\n", 2, NULL, "byte");
    expect_error("too many runs",
                 "[grid]\n"
                 "seed = 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59\n"
                 "teacher_seed = 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59\n"
                 "batch = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60\n"
                 "n_blocks = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60\n",
                 5, "n_blocks", "more than");
    {
        /* A 5000-character line. */
        static char text[6000];
        int n = snprintf(text, sizeof text, "[sweep]\ndescription = ");
        memset(text + n, 'x', 5000);
        snprintf(text + n + 5000, sizeof text - (size_t)n - 5000, "\n[params]\n");
        expect_error("5000-character line", text, 2, NULL, "longer than");
    }
    {
        char err[256] = "";
        ntas_spec s;
        char path[160];
        snprintf(path, sizeof path, "%s/does-not-exist.ini", tmp_dir);
        CHECK(ntas_spec_load(&s, path, NULL, 0, err, sizeof err) == -1);
        CHECK_MSG(!strncmp(err, path, strlen(path)), "%s", err);
    }

    /* Well-formed oddities that are accepted. */
    ntas_spec s;
    if (load_ok(&s, "ok.ini",
                "; UTF-8 in a comment: \xc3\xa7\r\n"
                "[Sweep]\r\n"
                "NAME = Mixed.Case-1\r\n"
                "description = free text: a, b = c\n"
                "[params]\n"
                "  d_in\t=\t20   # trailing comment \xc3\xa7\n"
                "d_out = 1e1\n"
                "tau_w = 1.5\n",
                NULL, 0) == 0) {
        CHECK(!strcmp(s.name, "Mixed.Case-1"));
        CHECK(s.n_runs == 1 && s.runs[0].params.d_in == 20 && s.runs[0].params.d_out == 10 &&
              s.runs[0].params.tau_w == 1.5);
        ntas_spec_free(&s);
    }
}

/* --- the parameter table -------------------------------------------------------- */

static void test_params(void)
{
    CHECK(ntas_param_count > 0 && ntas_param_count < 128);
    ntas_params def, p;
    ntas_params_defaults(&def);
    memset(&p, 0, sizeof p);
    for (int i = 0; i < ntas_param_count; i++) {
        const ntas_param_desc *d = &ntas_param_table[i];
        char err[256] = "";
        CHECK_MSG(ntas_param_parse(d, d->default_text, &p, err, sizeof err) == 0, "default of %s: %s", d->key, err);
        CHECK_MSG(ntas_param_find(d->key) == i, "%s", d->key);
        CHECK(d->meaning && d->meaning[0]);
        /* The default reads back to its canonical text. */
        char text[128];
        ntas_param_format(d, &def, text, sizeof text);
        ntas_params q = def;
        CHECK_MSG(ntas_param_parse(d, text, &q, err, sizeof err) == 0 && !memcmp(&q, &def, sizeof q),
                  "%s: '%s' -> '%s'", d->key, d->default_text, text);
        for (int j = 0; j < i; j++) CHECK_MSG(strcmp(ntas_param_table[j].key, d->key) != 0, "%s twice", d->key);
    }
    CHECK(!memcmp(&p, &def, sizeof p));
    const char *bad_key = NULL;
    char err[512] = "";
    CHECK_MSG(ntas_params_validate(&def, err, sizeof err, &bad_key) == 0, "defaults: %s", err);
    CHECK(ntas_param_find("no_such_key") == -1);
    CHECK(ntas_param_suggest("tau_cc") && !strcmp(ntas_param_suggest("tau_cc"), "tau_c"));
    CHECK(ntas_param_suggest("TAU_W") && !strcmp(ntas_param_suggest("TAU_W"), "tau_w"));
    CHECK(ntas_param_suggest("frobnication") == NULL);

    /* Reals: format gives text that parses back to the same double. */
    const ntas_param_desc *tw = &ntas_param_table[param("tau_w")];
    const double awkward[] = {0.1, 1.0 / 3.0, 1e-300, 123456789.123456789, 2.0 / 3.0, 1e15, 5e-324,
                              0.30000000000000004, 1.3, 4.9406564584124654e-324, 2.2250738585072014e-308,
                              nextafter(0.1, 1.0), nextafter(1.0, 0.0), 9007199254740993.0 / 1e10,
                              3.141592653589793, 1e-7, 1e21 / 1e7};
    for (size_t i = 0; i < sizeof awkward / sizeof awkward[0]; i++) {
        ntas_params a = def, b = def;
        a.tau_w = awkward[i];
        char text[128];
        ntas_param_format(tw, &a, text, sizeof text);
        char e2[256] = "";
        int rc = ntas_param_parse(tw, text, &b, e2, sizeof e2);
        CHECK_MSG(rc == 0 && b.tau_w == awkward[i], "%.17g -> '%s' -> %.17g (%s)", awkward[i], text, b.tau_w, e2);
        /* Shortest: no more digits than %.17g. */
        char full[64];
        snprintf(full, sizeof full, "%.17g", awkward[i]);
        CHECK_MSG(strlen(text) <= strlen(full), "'%s' longer than '%s'", text, full);
        /* Distinct values, distinct text. */
        ntas_params c = def;
        c.tau_w = nextafter(awkward[i], 1e300);
        char text2[128];
        ntas_param_format(tw, &c, text2, sizeof text2);
        CHECK_MSG(strcmp(text, text2) != 0, "%.17g and its successor both format as '%s'", awkward[i], text);
    }
    {
        char text[128];
        ntas_params a = def;
        a.tau_w = 0.1;
        ntas_param_format(tw, &a, text, sizeof text);
        CHECK(!strcmp(text, "0.1"));
        a.lambda_w = 0.0;
        ntas_param_format(&ntas_param_table[param("lambda_w")], &a, text, sizeof text);
        CHECK(!strcmp(text, "0"));
        ntas_param_format(&ntas_param_table[param("norm")], &def, text, sizeof text);
        CHECK(!strcmp(text, "l1"));
        a.seed = 1000000000000000LL;
        ntas_param_format(&ntas_param_table[param("seed")], &a, text, sizeof text);
        CHECK(!strcmp(text, "1000000000000000"));
    }
    /* Parsing: ranges, integral reals for ints, case-insensitive choices. */
    {
        ntas_params a = def;
        char e2[256];
        CHECK(ntas_param_parse(&ntas_param_table[param("d_in")], "1e3", &a, e2, sizeof e2) == 0 && a.d_in == 1000);
        CHECK(ntas_param_parse(&ntas_param_table[param("d_in")], " 7 ", &a, e2, sizeof e2) == 0 && a.d_in == 7);
        CHECK(ntas_param_parse(&ntas_param_table[param("d_in")], "0", &a, e2, sizeof e2) == -1);
        CHECK(ntas_param_parse(&ntas_param_table[param("d_in")], "", &a, e2, sizeof e2) == -1);
        CHECK(ntas_param_parse(&ntas_param_table[param("norm")], "L2", &a, e2, sizeof e2) == 0 && a.norm == NTAS_NORM_L2);
        CHECK(ntas_param_parse(&ntas_param_table[param("dt")], "0", &a, e2, sizeof e2) == -1);
        CHECK(ntas_param_parse(&ntas_param_table[param("lambda_w")], "0", &a, e2, sizeof e2) == 0 && a.lambda_w == 0);
        CHECK(ntas_param_parse(&ntas_param_table[param("dt")], "-inf", &a, e2, sizeof e2) == -1);
        CHECK(ntas_param_parse(&ntas_param_table[param("seed")], "1e15", &a, e2, sizeof e2) == 0);
        CHECK(ntas_param_parse(&ntas_param_table[param("seed")], "1e16", &a, e2, sizeof e2) == -1);
        CHECK(ntas_param_parse(&ntas_param_table[param("seed")], "-1", &a, e2, sizeof e2) == -1);
        CHECK(a.d_in == 7 && a.dt == def.dt); /* failed parses leave the field alone */
    }
}

/* Regressions: inputs where iniparser's INI dialect differs from the scanner's
 * (refused with the line), and values that are equal but were written
 * differently (one run key, caught as list duplicates). */
static void test_dialect_and_canonical_values(void)
{
    /* iniparser rejects a comment after a section header: refuse it clearly. */
    expect_error("comment after header", "[params] ; note\nd_in = 20\n", 1, NULL, "own line");
    /* A comment line ending in '\' swallows the next line in iniparser. */
    expect_error("comment ending in backslash", "[params]\n; note \\\nd_in = 30\n", 2, NULL, "continuation");
    /* -0 and 0 are the same value but give different run keys. */
    expect_error("-0 and 0", "[grid]\nlambda_w = 0, -0\n", 2, "lambda_w", "twice");
    /* Equal values written differently are not caught as list duplicates. */
    expect_error("1.3 and 1.30", "[grid]\ntau_w = 1.3, 1.30\n", 2, "tau_w", "twice");
    /* iniparser's quote handling drops text after a closing quote: a quoted
     * list silently becomes its first item, "2"0 reads as 2. */
    expect_error("quoted list", "[grid]\ntau_w = \"1.3\", \"1.0\"\n", 2, "tau_w", NULL);
    expect_error("text after a quoted value", "[params]\nd_out = 1\nd_in = \"2\"0\n", 3, "d_in", NULL);
    /* Hex is not a sweep-file number. */
    expect_error("hex int", "[params]\nd_in = 0x14\n", 2, "d_in", NULL);
    expect_error("hex real", "[params]\ndt = 0x1p-10\n", 2, "dt", NULL);
}

/* --- includes, [zip], ranges, [vars] and [derived] --------------------------- */

static void test_include(void)
{
    char err[1024];
    write_ini("base.ini",
              "[sweep]\n"            /* 1 */
              "replicates = 2\n"     /* 2 */
              "[params]\n"           /* 3 */
              "d_in = 12\n"          /* 4 */
              "d_out = 4\n"          /* 5 */
              "block_len = 1\n"      /* 6 */
              "[case.fast]\n"        /* 7 */
              "tau_c = 0.05\n");     /* 8 */
    ntas_spec s;
    /* The child varies what the base fixes, overrides a value and adds to a case. */
    if (load_ok(&s, "child.ini",
                "[sweep]\ninclude = base.ini\nname = child\n"
                "[grid]\nblock_len = 1, 2\n"
                "[params]\nd_out = 3\n"
                "[case.fast]\nbatch = 30\n", NULL, 0)) return;
    CHECK(!strcmp(s.name, "child"));
    CHECK(s.n_runs == 2 * 2);
    for (int i = 0; i < s.n_runs; i++) {
        CHECK(int_of(&s.runs[i], "d_in") == 12 && int_of(&s.runs[i], "d_out") == 3);
        CHECK(int_of(&s.runs[i], "batch") == 30 && real_of(&s.runs[i], "tau_c") == 0.05);
        CHECK(real_of(&s.runs[i], "block_len") == 1 + i / 2 && int_of(&s.runs[i], "seed") == i % 2);
    }
    /* Both files' text is stored and hashed. */
    CHECK(strstr(s.text, "include = base.ini") && strstr(s.text, "; ---- include: ") && strstr(s.text, "tau_c = 0.05"));
    uint64_t h1 = s.hash;
    ntas_spec_free(&s);
    write_ini("base.ini", "[sweep]\nreplicates = 2\n[params]\nd_in = 12\nd_out = 4\nblock_len = 1\n[case.fast]\ntau_c = 0.06\n");
    if (load_ok(&s, "child.ini",
                "[sweep]\ninclude = base.ini\nname = child\n"
                "[grid]\nblock_len = 1, 2\n"
                "[params]\nd_out = 3\n"
                "[case.fast]\nbatch = 30\n", NULL, 0)) return;
    CHECK_MSG(s.hash != h1, "changing an included file must change the spec hash");
    ntas_spec_free(&s);

    /* An error inside the included file names that file and its line. */
    const char *bad_base = write_ini("badbase.ini", "[params]\nd_in = 12\ntau_w = fast\n");
    char want_prefix[256];
    snprintf(want_prefix, sizeof want_prefix, "%s:3: key 'tau_w': ", bad_base);
    const char *child = write_ini("child2.ini", "[sweep]\ninclude = badbase.ini\n[params]\nd_out = 4\n");
    CHECK(ntas_spec_load(&s, child, NULL, 0, err, sizeof err) == -1);
    CHECK_MSG(!strncmp(err, want_prefix, strlen(want_prefix)), "got: %s", err);

    /* Loops, missing files and include outside [sweep]. */
    write_ini("loop_a.ini", "[sweep]\ninclude = loop_b.ini\n[params]\nd_in = 12\n");
    const char *lb = write_ini("loop_b.ini", "[sweep]\ninclude = loop_a.ini\n[params]\nd_out = 4\n");
    char lb_path[160];
    snprintf(lb_path, sizeof lb_path, "%s", lb);
    const char *la = write_ini("loop_a.ini", "[sweep]\ninclude = loop_b.ini\n[params]\nd_in = 12\n");
    CHECK(ntas_spec_load(&s, la, NULL, 0, err, sizeof err) == -1);
    snprintf(want_prefix, sizeof want_prefix, "%s:2: key 'include': include loop", lb_path);
    CHECK_MSG(!strncmp(err, want_prefix, strlen(want_prefix)), "got: %s", err);
    expect_error("missing include", "[sweep]\ninclude = no-such-file.ini\n[params]\nd_in = 12\n", 2, "include", "no-such-file.ini");
    expect_error("include in [params]", "[params]\ninclude = base.ini\n", 2, "include", "unknown key");
}

static void test_zip_and_ranges(void)
{
    ntas_spec s;
    if (load_ok(&s, "zip.ini",
                "[zip]\n"
                "tau_c = 0.03, 0.1, 1.3\n"
                "lambda_norm = 0.456, 0.2, 0\n"
                "[grid]\n"
                "seed = 0:1:1\n", NULL, 0)) return;
    CHECK(s.n_runs == 3 * 2);
    const double tc[] = {0.03, 0.1, 1.3}, ln[] = {0.456, 0.2, 0};
    for (int i = 0; i < s.n_runs; i++) {
        CHECK(real_of(&s.runs[i], "tau_c") == tc[i / 2] && real_of(&s.runs[i], "lambda_norm") == ln[i / 2]);
        CHECK(int_of(&s.runs[i], "seed") == i % 2);
    }
    ntas_spec_free(&s);
    expect_error("zip lengths differ", "[zip]\ntau_c = 0.03, 0.1\nlambda_norm = 1, 2, 3\n", 3, "lambda_norm", "must be equally long");
    expect_error("zip and grid", "[zip]\nbatch = 1, 2\n[grid]\nbatch = 3, 4\n", 2, "batch", "both [grid] and [zip]");

    /* Ranges: stop included, 12-digit rounding, logspace and linspace. */
    if (load_ok(&s, "ranges.ini", "[grid]\nblock_len = 0.1:0.3:0.1, 1\ntau_c = logspace(-1, 0, 3)\n", NULL, 0)) return;
    CHECK(s.n_runs == 4 * 3);
    const double bl[] = {0.1, 0.2, 0.3, 1}, tcl[] = {0.1, 0.316227766017, 1};
    for (int i = 0; i < s.n_runs; i++) {
        CHECK_NEAR(real_of(&s.runs[i], "block_len"), bl[i / 3], 0);
        CHECK_NEAR(real_of(&s.runs[i], "tau_c"), tcl[i % 3], 0);
    }
    ntas_spec free_me = s;
    ntas_spec_free(&free_me);
    if (load_ok(&s, "lin.ini", "[grid]\nn_blocks = linspace(2, 10, 5)\nteacher_seed = 10:0:-5\n", NULL, 0)) return;
    CHECK(s.n_runs == 5 * 3);
    for (int i = 0; i < s.n_runs; i++) {
        CHECK(int_of(&s.runs[i], "n_blocks") == 2 + 2 * (i / 3));
        CHECK(int_of(&s.runs[i], "teacher_seed") == 10 - 5 * (i % 3));
    }
    ntas_spec_free(&s);
    expect_error("range wrong sign", "[grid]\nbatch = 10:1:1\n", 2, "batch", "never reaches");
    expect_error("range zero step", "[grid]\nbatch = 1:10:0\n", 2, "batch", "never reaches");
    expect_error("range on choice", "[grid]\nnorm = 1:2:1\n", 2, "norm", "numeric key");
    expect_error("range of non-integers for an int key", "[grid]\nbatch = 1:2:0.5\n", 2, "batch", "not an integer");
    expect_error("range too long", "[grid]\nseed = 0:1e9:1\n", 2, "seed", "more than");
    expect_error("range with two parts", "[grid]\nseed = 0:10\n", 2, "seed", "START:STOP:STEP");
    expect_error("logspace bad n", "[grid]\ntau_c = logspace(-1, 0, 2.5)\n", 2, "tau_c", "integer");
    expect_error("logspace missing paren", "[grid]\ntau_c = logspace(-1, 0, 3\n", 2, "tau_c", "parentheses");
    expect_error("logspace two args", "[grid]\ntau_c = logspace(-1, 0)\n", 2, "tau_c", "three numbers");
    expect_error("range hits a duplicate", "[grid]\nbatch = 1:3:1, 2\n", 2, "batch", "listed twice");
}

static void test_derived(void)
{
    ntas_spec s;
    /* Fig. 5: block length varies at constant total time (SPEC-NOTES §3). */
    const char *fig5 =
        "[vars]\n"                                  /* 1 */
        "t_total = 40\n"                            /* 2 */
        "[grid]\n"                                  /* 3 */
        "block_len = 0.5, 1, 2, 3\n"                /* 4 */
        "[derived]\n"                               /* 5 */
        "n_blocks = round(t_total / block_len)\n";  /* 6 */
    if (load_ok(&s, "derived.ini", fig5, NULL, 0)) return;
    CHECK(s.n_runs == 4);
    const int64_t nb[] = {80, 40, 20, 13};
    for (int i = 0; i < s.n_runs; i++) CHECK(int_of(&s.runs[i], "n_blocks") == nb[i]);
    ntas_spec_free(&s);
    /* --set of a variable flows into the derived value; --set of the derived key wins. */
    const char *ov1[] = {"t_total=8"};
    if (load_ok(&s, "derived.ini", fig5, ov1, 1)) return;
    CHECK(int_of(&s.runs[0], "n_blocks") == 16 && int_of(&s.runs[3], "n_blocks") == 3);
    ntas_spec_free(&s);
    const char *ov2[] = {"n_blocks=5"};
    if (load_ok(&s, "derived.ini", fig5, ov2, 1)) return;
    for (int i = 0; i < s.n_runs; i++) CHECK(int_of(&s.runs[i], "n_blocks") == 5);
    ntas_spec free_me = s;
    ntas_spec_free(&free_me);
    /* A variable varied in [grid], arithmetic and functions. */
    if (load_ok(&s, "derived2.ini",
                "[vars]\nratio = 1\n[grid]\nratio = 10, 100\n[params]\ntau_w = 1.3\n"
                "[derived]\ntau_c = tau_w / ratio\nrecord_every = max(1, 2 ^ 3 - 3 * 2)\n", NULL, 0)) return;
    CHECK(s.n_runs == 2);
    CHECK(real_of(&s.runs[0], "tau_c") == 1.3 / 10 && real_of(&s.runs[1], "tau_c") == 1.3 / 100);
    CHECK(int_of(&s.runs[0], "record_every") == 2);
    ntas_spec_free(&s);

    expect_error("derived not integral", "[params]\nblock_len = 3\n[derived]\nn_blocks = 40 / block_len\n", 4, "n_blocks", "use round()");
    expect_error("derived unknown name", "[derived]\nn_blocks = round(t_totl / block_len)\n", 2, "n_blocks", "unknown name 't_totl'");
    expect_error("derived syntax", "[derived]\nn_blocks = (2 + 3\n", 2, "n_blocks", "expected ')'");
    expect_error("derived trailing", "[derived]\nn_blocks = 2 3\n", 2, "n_blocks", "unexpected");
    expect_error("derived unknown function", "[derived]\nn_blocks = rnd(2)\n", 2, "n_blocks", "unknown function");
    expect_error("derived division by zero", "[derived]\ntau_w = 1 / 0\n", 2, "tau_w", "inf");
    expect_error("derived out of range", "[derived]\ntau_w = 0 - 1\n", 2, "tau_w", "out of range");
    expect_error("derived and params", "[params]\nn_blocks = 3\n[derived]\nn_blocks = 4\n", 4, "n_blocks", "set elsewhere");
    expect_error("derived choice", "[derived]\nnorm = 1\n", 2, "norm", "choice");
    expect_error("var shadows a key", "[vars]\ntau_c = 1\n[params]\nd_in = 20\n", 2, "tau_c", "is a parameter");
    expect_error("var not a number", "[vars]\nt_total = long\n[params]\nd_in = 20\n", 2, "t_total", "not a finite number");
    /* A derived value that breaks validation is blamed on its own line. */
    expect_error("derived breaks dt < tau_c", "[derived]\ntau_c = dt / 2\n", 0, "dt", "tau_c = 0.0005");
}

int main(void)
{
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/test_spec.XXXXXX");
    if (!mkdtemp(tmp_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_order();
    test_precedence();
    test_overrides();
    test_keys_and_hash();
    test_errors();
    test_params();
    test_dialect_and_canonical_values();
    test_include();
    test_zip_and_ranges();
    test_derived();
    remove_tmp();
    return CHECK_DONE();
}
