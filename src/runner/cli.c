/* cli — command line. See cli.h.
 *
 * Every command and option is described once, in `commands` below: the
 * parser, `--help` of each command, the man page (`ntasweep help --man`) and
 * the bash completion (`ntasweep help --commands` / `--options CMD`) all come
 * from that table. */
#include "ntasweep/runner/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ntasweep/core/text.h"
#include "ntasweep/core/blas_threads.h"
#include "ntasweep/config/params.h"
#include "ntasweep/config/spec.h"
#include "ntasweep/io/lock.h"
#include "ntasweep/io/store.h"
#include "ntasweep/io/table.h"
#include "ntasweep/runner/cost.h"
#include "ntasweep/runner/sweep.h"
#include "ntasweep/train/bench.h"
#include "ntasweep/train/features.h"
#include "ntasweep/train/kernels.h"
#include "ntasweep/train/train.h"

/* --- the commands and their options ----------------------------------------- */

typedef struct {
    const char *name;      /* long name without "--" */
    char short_name;       /* 0: none */
    const char *metavar;   /* NULL: a flag */
    const char *help;
} opt_desc;

#define MAX_OPTS 10

typedef struct {
    const char *name, *args, *summary;
    const char *about;     /* wrapped at 78 columns */
    opt_desc opts[MAX_OPTS];
} command_desc;

static const opt_desc OPT_SET = {"set", 0, "KEY=VALUE", "override KEY in every run; KEY=A,B,C adds a grid axis"};
static const opt_desc OPT_QUIET = {"quiet", 'q', NULL, "no progress or summary lines"};
static const opt_desc OPT_GRACE = {"grace", 0, "S", "seconds running runs get after a stop signal (60)"};
static const opt_desc OPT_FLUSH = {"flush", 0, "S", "seconds between collective flushes (60)"};
static const opt_desc OPT_PROGRESS = {"progress", 0, "S", "seconds between progress lines off a terminal (60)"};
static const opt_desc OPT_HELP = {"help", 'h', NULL, "show this help"};

static const command_desc commands[] = {
    {"run", "SPEC.ini -o OUT.h5", "run a sweep (under mpirun) into one HDF5 file",
     "Runs every run of the sweep; rank 0 hands runs out and every rank writes\n"
     "its results into OUT.h5. Running the same command again resumes: done runs\n"
     "are kept; points added to the sweep are appended. A sweep that lost runs\n"
     "the file holds is refused with a diff. SIGTERM, SIGINT or SIGUSR1: no new\n"
     "runs, running ones get --grace seconds, exit status 3.",
     {{"output", 'o', "OUT.h5", "results file (required)"}, OPT_SET, OPT_QUIET, OPT_GRACE, OPT_FLUSH, OPT_PROGRESS,
      {"force-new", 0, NULL, "start a new file; an old one is kept as OUT.h5.old-N"}, OPT_HELP}},
    {"resume", "OUT.h5", "resume a stopped sweep from the results file alone",
     "Resumes the sweep stored in OUT.h5 (its sweep text and --set overrides),\n"
     "on any number of ranks: done runs are kept, pending and failed ones run.\n"
     "The original sweep file is not needed.",
     {OPT_QUIET, OPT_GRACE, OPT_FLUSH, OPT_PROGRESS, OPT_HELP}},
    {"status", "OUT.h5", "what a results file holds",
     "Counts runs by status, lists failed runs with their varied parameters and\n"
     "the reason, and shows the lock of a sweep being written. Exit status 0 all\n"
     "runs done, 1 some failed, 3 some pending.",
     {{"json", 0, NULL, "print one JSON object instead"}, OPT_HELP}},
    {"validate", "SPEC.ini", "check a sweep file",
     "Reads and checks every value of every run; errors name file, line and key.",
     {OPT_SET, OPT_HELP}},
    {"plan", "SPEC.ini", "the run table and its estimated cost",
     "Prints every run with its key, parameters, Euler steps and estimated\n"
     "seconds, the total in core-hours and any CNN pretrainings.",
     {OPT_SET, {"varied", 0, NULL, "show only the keys that vary between runs"},
      {"json", 0, NULL, "print one JSON object instead"}, OPT_HELP}},
    {"export", "OUT.h5", "one row per run: parameters, status, metrics",
     "Writes a table with one row per run: every parameter (and [vars]),\n"
     "status, failure message and the scalar metrics (specialization,\n"
     "total_alignment, final_loss, mean_time_to_threshold, final_accuracy).",
     {{"output", 'o', "FILE", "write here instead of standard output"},
      {"format", 0, "csv|tsv|json", "table format (csv, or from FILE's extension)"},
      {"done", 0, NULL, "only runs that are done"}, OPT_HELP}},
    {"params", "", "every sweep key with meaning and default",
     "Lists every key a sweep file or --set can give.",
     {{"markdown", 0, NULL, "a Markdown table (docs/parameters.md)"}, OPT_HELP}},
    {"bench", "", "time the training step of every model (one core)",
     "Times whole runs of the Fig. 2 setting for every model and data path\n"
     "against the floor of their flops and random draws (docs/speed.md).",
     {{"quick", 0, NULL, "2000 steps, one run per row"}, {"steps", 0, "N", "Euler steps per row"},
      {"reps", 0, "N", "runs per row (best is kept)"}, OPT_HELP}},
    {"help", "[COMMAND]", "help on a command",
     "Prints the help of COMMAND, or the list of commands.",
     {{"man", 0, NULL, "the manual page (roff)"}, {"commands", 0, NULL, "command names, one a line"},
      {"options", 0, "COMMAND", "COMMAND's options, one a line"}}},
};
enum { N_COMMANDS = sizeof commands / sizeof commands[0] };

static const char exit_status_help[] =
    "Exit status: 0 ok; 1 some run failed or an I/O error; 2 bad input (sweep\n"
    "file, option, missing or unwritable path, a file of another sweep or held\n"
    "by another job; nothing is written); 3 stopped or runs pending (resumable).\n";

/* --- did you mean ------------------------------------------------------------ */

static const command_desc *find_command(const char *name)
{
    for (int c = 0; c < N_COMMANDS; c++)
        if (!strcmp(commands[c].name, name)) return &commands[c];
    return NULL;
}

static void unknown_command(const char *name)
{
    const char *best = NULL;
    int best_d = 3;
    for (int c = 0; c < N_COMMANDS; c++) {
        int d = ntas_edit_distance(name, commands[c].name);
        if (d < best_d || (!strncmp(name, commands[c].name, strlen(name)) && strlen(name) >= 2 && d < 99)) {
            best_d = d < best_d ? d : best_d;
            best = commands[c].name;
        }
    }
    if (best) fprintf(stderr, "ntasweep: unknown command '%s' (did you mean '%s'?); see ntasweep --help\n", name, best);
    else fprintf(stderr, "ntasweep: unknown command '%s'; see ntasweep --help\n", name);
}

/* --- help, man page ---------------------------------------------------------- */

static void option_line(FILE *f, const opt_desc *o, char *buf, size_t len)
{
    (void)f;
    if (o->short_name) snprintf(buf, len, "-%c, --%s%s%s", o->short_name, o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
    else snprintf(buf, len, "    --%s%s%s", o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
}

static void command_help(FILE *f, const command_desc *c)
{
    fprintf(f, "usage: ntasweep %s%s%s [options]\n\n%s\n\noptions:\n", c->name, c->args[0] ? " " : "", c->args, c->about);
    for (int k = 0; k < MAX_OPTS && c->opts[k].name; k++) {
        char left[64];
        option_line(f, &c->opts[k], left, sizeof left);
        if (strlen(left) > 22) fprintf(f, "  %s\n  %-22s  %s\n", left, "", c->opts[k].help);
        else fprintf(f, "  %-22s  %s\n", left, c->opts[k].help);
    }
    if (!strcmp(c->name, "run") || !strcmp(c->name, "resume") || !strcmp(c->name, "status"))
        fprintf(f, "\n%s", exit_status_help);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: ntasweep COMMAND [options]   (ntasweep COMMAND --help for more)\n\n"
               "Runs the models of Sandbrink et al. (NeurIPS 2024), \"Flexible task\n"
               "abstractions emerge in linear networks with fast and bounded units\",\n"
               "as MPI-distributed parameter sweeps into one HDF5 file.\n\ncommands:\n");
    for (int c = 0; c < N_COMMANDS; c++) fprintf(f, "  %-9s %s\n", commands[c].name, commands[c].summary);
    fprintf(f, "\nSweep-file keys: ntasweep params. Also: ntasweep --version.\n\n%s", exit_status_help);
}

/* roff-escaped text: a backslash doubled, a leading dot or quote guarded. */
static void roff(FILE *f, const char *s)
{
    int bol = 1;
    for (; *s; s++) {
        if (bol && (*s == '.' || *s == '\'')) fputs("\\&", f);
        if (*s == '\\') fputs("\\\\", f);
        else if (*s == '-') fputs("\\-", f);
        else fputc(*s, f);
        bol = *s == '\n';
    }
}

static void man_page(FILE *f)
{
    fprintf(f, ".\\\" Generated by `ntasweep help --man` from the help text of cli.c; do not edit.\n"
               ".TH NTASWEEP 1 \"\" \"ntasweep %s\" \"User Commands\"\n.SH NAME\nntasweep \\- parameter sweeps of the "
               "NTA models into one HDF5 file\n.SH SYNOPSIS\n.B ntasweep\n.I COMMAND\n[options]\n.SH COMMANDS\n",
            NTASWEEP_VERSION);
    for (int c = 0; c < N_COMMANDS; c++) {
        const command_desc *d = &commands[c];
        fprintf(f, ".SS \"ntasweep %s %s\"\n", d->name, d->args);
        roff(f, d->about);
        fputs("\n", f);
        for (int k = 0; k < MAX_OPTS && d->opts[k].name; k++) {
            char left[64];
            option_line(f, &d->opts[k], left, sizeof left);
            fputs(".TP\n.B ", f);
            roff(f, left[0] == ' ' ? left + 4 : left);
            fputs("\n", f);
            roff(f, d->opts[k].help);
            fputs("\n", f);
        }
    }
    fputs(".SH EXIT STATUS\n", f);
    roff(f, exit_status_help);
    fputs(".SH SEE ALSO\nREADME.md and docs/ of the ntasweep sources.\n", f);
}

static int cmd_help(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[2], "--man")) { man_page(stdout); return NTAS_EXIT_OK; }
    if (argc >= 3 && !strcmp(argv[2], "--commands")) {
        for (int c = 0; c < N_COMMANDS; c++) printf("%s\n", commands[c].name);
        return NTAS_EXIT_OK;
    }
    if (argc >= 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
        command_help(stdout, find_command("help"));
        return NTAS_EXIT_OK;
    }
    const char *name = argc >= 4 && !strcmp(argv[2], "--options") ? argv[3] : argc >= 3 ? argv[2] : NULL;
    if (!name) { usage(stdout); return NTAS_EXIT_OK; }
    const command_desc *c = find_command(name);
    if (!c) { unknown_command(name); return NTAS_EXIT_INPUT; }
    if (argc >= 4 && !strcmp(argv[2], "--options")) {
        for (int k = 0; k < MAX_OPTS && c->opts[k].name; k++) {
            printf("--%s\n", c->opts[k].name);
            if (c->opts[k].short_name) printf("-%c\n", c->opts[k].short_name);
        }
        return NTAS_EXIT_OK;
    }
    command_help(stdout, c);
    return NTAS_EXIT_OK;
}

/* --- parsing ------------------------------------------------------------------ */

typedef struct {
    const command_desc *cmd;
    const char *arg;                   /* the one positional argument */
    const char *value[MAX_OPTS];       /* per option of cmd: its value, or "" for a flag given */
    const char *sets[NTAS_MAX_SETS];
    int n_sets;
} parsed;

static const opt_desc *match_option(const command_desc *c, const char *a, size_t n, int *index)
{
    for (int k = 0; k < MAX_OPTS && c->opts[k].name; k++) {
        const opt_desc *o = &c->opts[k];
        int hit = a[1] == '-' ? strlen(o->name) == n - 2 && !strncmp(a + 2, o->name, n - 2)
                              : n == 2 && o->short_name && a[1] == o->short_name;
        if (hit) { *index = k; return o; }
    }
    return NULL;
}

static void unknown_option(const command_desc *c, const char *a, size_t n)
{
    const char *best = NULL;
    int best_d = 3;
    char given[64];
    snprintf(given, sizeof given, "%.*s", (int)(n > 2 ? n - 2 : 0), a + 2);
    for (int k = 0; k < MAX_OPTS && c->opts[k].name; k++) {
        int d = ntas_edit_distance(given, c->opts[k].name);
        if (d < best_d) { best_d = d; best = c->opts[k].name; }
    }
    if (best) fprintf(stderr, "ntasweep %s: unknown option '%.*s' (did you mean '--%s'?)\n", c->name, (int)n, a, best);
    else fprintf(stderr, "ntasweep %s: unknown option '%.*s' (see ntasweep %s --help)\n", c->name, (int)n, a, c->name);
}

/* Parses argv[2..] for command c: --opt VALUE, --opt=VALUE, -o VALUE, flags,
 * repeated --set, one positional argument. 0, 1 for --help, -1 on an error. */
static int parse_args(int argc, char **argv, const command_desc *c, parsed *p)
{
    memset(p, 0, sizeof *p);
    p->cmd = c;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0') {
            if (p->arg) {
                fprintf(stderr, "ntasweep %s: unexpected argument '%s' (one %s only)\n", c->name, a, c->args);
                return -1;
            }
            p->arg = a;
            continue;
        }
        const char *eq = a[1] == '-' ? strchr(a, '=') : NULL;
        size_t n = eq ? (size_t)(eq - a) : strlen(a);
        int k;
        const opt_desc *o = match_option(c, a, n, &k);
        if (!o) { unknown_option(c, a, n); return -1; }
        if (!strcmp(o->name, "help")) return 1;
        const char *v = "";
        if (o->metavar) {
            if (eq) v = eq + 1;
            else if (i + 1 < argc) v = argv[++i];
            else {
                fprintf(stderr, "ntasweep %s: --%s needs a value (%s)\n", c->name, o->name, o->metavar);
                return -1;
            }
        } else if (eq) {
            fprintf(stderr, "ntasweep %s: --%s takes no value\n", c->name, o->name);
            return -1;
        }
        if (!strcmp(o->name, "set")) {
            if (p->n_sets == NTAS_MAX_SETS) {
                fprintf(stderr, "ntasweep %s: at most %d --set options\n", c->name, NTAS_MAX_SETS);
                return -1;
            }
            p->sets[p->n_sets++] = v;
        }
        p->value[k] = v;
    }
    if (c->args[0] && c->args[0] != '[' && !p->arg) {
        fprintf(stderr, "ntasweep %s: missing %.*s (usage: ntasweep %s %s)\n", c->name, (int)strcspn(c->args, " "), c->args,
                c->name, c->args);
        return -1;
    }
    return 0;
}

/* The value of option name, NULL if not given ("" for a flag given). */
static const char *opt(const parsed *p, const char *name)
{
    for (int k = 0; k < MAX_OPTS && p->cmd->opts[k].name; k++)
        if (!strcmp(p->cmd->opts[k].name, name)) return p->value[k];
    return NULL;
}

/* A non-negative number of seconds into *v (default if absent). -1 if bad. */
static int seconds_opt(const parsed *p, const char *name, double def, double *v)
{
    const char *t = opt(p, name);
    *v = def;
    if (!t) return 0;
    char *end;
    *v = strtod(t, &end);
    if (*t == '\0' || *end || !(*v >= 0) || *v > 1e9) {
        fprintf(stderr, "ntasweep %s: --%s needs a number of seconds >= 0, not '%s'\n", p->cmd->name, name, t);
        return -1;
    }
    return 0;
}

/* A path that must exist (bad input, exit 2, when it does not). */
static int existing_path(const char *cmd, const char *path)
{
    if (access(path, F_OK) == 0) return 0;
    fprintf(stderr, "ntasweep %s: %s: %s\n", cmd, path, strerror(errno));
    return -1;
}

/* --- run, resume ---------------------------------------------------------------- */

static int cmd_run(const parsed *p, int from_file)
{
    ntas_sweep_options o;
    memset(&o, 0, sizeof o);
    o.from_file = from_file;
    if (from_file) {
        o.out = p->arg;
    } else {
        o.spec = p->arg;
        o.out = opt(p, "output");
        o.force_new = opt(p, "force-new") != NULL;
        if (!o.out || !o.out[0]) {
            fprintf(stderr, "ntasweep run: missing -o OUT.h5\n");
            return NTAS_EXIT_INPUT;
        }
        struct stat st;
        if (stat(o.out, &st) == 0 && S_ISDIR(st.st_mode)) {
            fprintf(stderr, "ntasweep run: -o %s is a directory; give a file name such as %s/%s.h5\n", o.out, o.out, "results");
            return NTAS_EXIT_INPUT;
        }
    }
    o.quiet = opt(p, "quiet") != NULL;
    if (seconds_opt(p, "grace", 60, &o.grace) || seconds_opt(p, "flush", 60, &o.flush) ||
        seconds_opt(p, "progress", 60, &o.progress))
        return NTAS_EXIT_INPUT;
    memcpy(o.sets, p->sets, sizeof o.sets);
    o.n_sets = p->n_sets;
    return ntas_sweep_run(&o);
}

/* --- validate, plan ---------------------------------------------------------------- */

/* Which parameter keys (and [vars]) take more than one value in the sweep. */
static void varied_keys(const ntas_spec *s, int *param_varies, int *var_varies)
{
    for (int k = 0; k < ntas_param_count; k++) {
        char first[128], v[128];
        param_varies[k] = 0;
        if (s->n_runs == 0) continue;
        ntas_param_format(&ntas_param_table[k], &s->runs[0].params, first, sizeof first);
        for (int i = 1; i < s->n_runs && !param_varies[k]; i++) {
            ntas_param_format(&ntas_param_table[k], &s->runs[i].params, v, sizeof v);
            param_varies[k] = strcmp(v, first) != 0;
        }
    }
    for (int v = 0; v < s->n_vars; v++) {
        var_varies[v] = 0;
        for (int i = 1; i < s->n_runs; i++) var_varies[v] |= s->runs[i].vars[v] != s->runs[0].vars[v];
    }
}

typedef struct {
    double total_steps, core_seconds, longest_s, pretrain_s;
    int64_t pretrain_steps;   /* of the longest pretraining */
    int pretrain_float32;     /* its cnn_precision is float32 */
    int n_pre;
} plan_totals;

static int plan_totals_of(const ntas_spec *s, plan_totals *t)
{
    memset(t, 0, sizeof *t);
    for (int i = 0; i < s->n_runs; i++) {
        double sec = ntas_run_cost(&s->runs[i].params) * ntas_cost_seconds_per_unit();
        t->total_steps += (double)ntas_params_total_steps(&s->runs[i].params);
        t->core_seconds += sec;
        if (sec > t->longest_s) t->longest_s = sec;
    }
    /* Not in the core-seconds: the pretrainings come before the runs, each
     * shared by all ranks; pretrain_s is the longest on one rank
     * (tools/submit and tools/reproduce scale it to their rank count as
     * cost.c does and add it). */
    ntas_pretrain_setting *pre;
    char err[256];
    if (ntas_pretrain_settings(s, &pre, &t->n_pre, err, sizeof err) != 0) {
        fprintf(stderr, "ntasweep: %s\n", err);
        return -1;
    }
    for (int i = 0; i < t->n_pre; i++)
        if (ntas_pretrain_seconds(pre[i].steps, 1, pre[i].float32) > t->pretrain_s) {
            t->pretrain_s = ntas_pretrain_seconds(pre[i].steps, 1, pre[i].float32);
            t->pretrain_steps = pre[i].steps;
            t->pretrain_float32 = pre[i].float32;
        }
    free(pre);
    return 0;
}

/* One run's parameters: "k=v" pairs (text) or a JSON object's members. */
static void print_run_params(const ntas_spec *s, const ntas_run *r, const int *pv, const int *vv, int only_varied, int json)
{
    int first = 1;
    for (int k = 0; k < ntas_param_count; k++) {
        if (only_varied && !pv[k]) continue;
        const ntas_param_desc *d = &ntas_param_table[k];
        char v[128];
        ntas_param_format(d, &r->params, v, sizeof v);
        if (!json) printf(" %s=%s", d->key, v);
        else if (d->type == NTAS_PT_CHOICE) { printf("%s\"%s\": ", first ? "" : ", ", d->key); ntas_json_string(stdout, v); }
        else printf("%s\"%s\": %s", first ? "" : ", ", d->key, v);
        first = 0;
    }
    for (int v = 0; v < s->n_vars; v++) {
        if (only_varied && !vv[v]) continue;
        if (json) printf("%s\"%s\": %.17g", first ? "" : ", ", s->var_names[v], r->vars[v]);
        else printf(" %s=%.12g", s->var_names[v], r->vars[v]);
        first = 0;
    }
}

static void plan_json(const ntas_spec *s, const plan_totals *t, const int *pv, const int *vv, int only_varied)
{
    char hex[17];
    ntas_hex64(s->hash, hex);
    printf("{\"spec\": ");
    ntas_json_string(stdout, s->path);
    printf(", \"name\": ");
    ntas_json_string(stdout, s->name);
    printf(", \"spec_hash\": \"%s\", \"runs\": %d, \"total_steps\": %.0f, \"core_seconds\": %.6g, "
           "\"longest_run_s\": %.6g, \"pretrainings\": %d, \"pretraining_s\": %.6g,\n \"varied\": [",
           hex, s->n_runs, t->total_steps, t->core_seconds, t->longest_s, t->n_pre, t->pretrain_s);
    int first = 1;
    for (int k = 0; k < ntas_param_count; k++)
        if (pv[k]) { printf("%s\"%s\"", first ? "" : ", ", ntas_param_table[k].key); first = 0; }
    for (int v = 0; v < s->n_vars; v++)
        if (vv[v]) { printf("%s\"%s\"", first ? "" : ", ", s->var_names[v]); first = 0; }
    printf("],\n \"run_table\": [");
    for (int i = 0; i < s->n_runs; i++) {
        const ntas_run *r = &s->runs[i];
        ntas_hex64(r->key, hex);
        printf("%s\n  {\"run\": %d, \"key\": \"%s\", \"case\": ", i ? "," : "", i, hex);
        ntas_json_string(stdout, r->case_name);
        printf(", \"params\": {");
        print_run_params(s, r, pv, vv, only_varied, 1);
        printf("}, \"steps\": %lld, \"est_s\": %.6g}", (long long)ntas_params_total_steps(&r->params),
               ntas_run_cost(&r->params) * ntas_cost_seconds_per_unit());
    }
    printf("\n ]}\n");
}

static int cmd_plan(const parsed *p)
{
    int is_plan = !strcmp(p->cmd->name, "plan");
    char err[1024];
    ntas_spec s;
    if (ntas_spec_load(&s, p->arg, p->sets, p->n_sets, err, sizeof err) != 0) {
        fprintf(stderr, "ntasweep: %s\n", err);
        return NTAS_EXIT_INPUT;
    }
    int code = NTAS_EXIT_OK;
    if (ntas_store_check_names(&s, err, sizeof err) != 0) {
        fprintf(stderr, "ntasweep: %s\n", err);
        code = NTAS_EXIT_INPUT;
        goto out;
    }
    char hex[17];
    ntas_hex64(s.hash, hex);
    if (!is_plan) {
        printf("%s: %d runs, spec hash %s\n", s.path, s.n_runs, hex);
        goto out;
    }
    plan_totals t;
    if (plan_totals_of(&s, &t) != 0) { code = NTAS_EXIT_FAILED; goto out; }
    int pv[128], vv[NTAS_MAX_VARS];
    varied_keys(&s, pv, vv);
    int only_varied = opt(p, "varied") != NULL;
    if (opt(p, "json")) { plan_json(&s, &t, pv, vv, only_varied); goto out; }
    printf("%s: %d runs, spec hash %s\n", s.path, s.n_runs, hex);
    for (int i = 0; i < s.n_runs; i++) {
        const ntas_run *r = &s.runs[i];
        ntas_hex64(r->key, hex);
        printf("run %d key %s%s%s:", i, hex, r->case_name[0] ? " case " : "", r->case_name);
        print_run_params(&s, r, pv, vv, only_varied, 0);
        printf(" steps=%lld est_s=%.3g\n", (long long)ntas_params_total_steps(&r->params),
               ntas_run_cost(&r->params) * ntas_cost_seconds_per_unit());
    }
    printf("total: %.0f Euler steps, estimated %.3g core-seconds (%.3g core-hours)\n", t.total_steps, t.core_seconds,
           t.core_seconds / 3600);
    if (t.n_pre > 0)
        printf("pretraining: %d CNN pretraining%s before the runs, estimated %.0f s wall each at most on 1 rank "
               "(shared by all ranks: %.0f s on 2, %.0f s on %d or more)\n", t.n_pre, t.n_pre == 1 ? "" : "s",
               t.pretrain_s, ntas_pretrain_seconds(t.pretrain_steps, 2, t.pretrain_float32),
               ntas_pretrain_seconds(t.pretrain_steps, NTAS_CNN_SHARDS, t.pretrain_float32), NTAS_CNN_SHARDS);
out:
    ntas_spec_free(&s);
    return code;
}

/* --- status ------------------------------------------------------------------------ */

static void print_activity(const char *json);

/* "k=v k=v" of the parameters that vary over the file's runs, for run i. */
static void varied_text(const ntas_table *t, int i, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < t->n_cols && used < len; k++) {
        const ntas_column *c = &t->cols[k];
        if (!c->is_param || !strcmp(c->name, "run_key") || !ntas_table_varies(t, c)) continue;
        char cell[256];
        ntas_table_cell(c, i, cell, sizeof cell);
        used += (size_t)snprintf(buf + used, len - used, "%s%s=%s", used ? " " : "", c->name, cell);
    }
}

static void status_json(const char *path, const ntas_store_info *info, const ntas_table *t, const int *count,
                        const char *lock, const char *activity)
{
    printf("{\"file\": ");
    ntas_json_string(stdout, path);
    printf(", \"sweep\": ");
    ntas_json_string(stdout, info->spec_name);
    printf(", \"spec_file\": ");
    ntas_json_string(stdout, info->spec_file);
    printf(", \"spec_hash\": \"%s\", \"ntasweep_version\": ", info->spec_hash);
    ntas_json_string(stdout, info->version);
    printf(", \"format_version\": %lld,\n \"runs\": %d, \"done\": %d, \"failed\": %d, \"pending\": %d, \"lock\": ",
           (long long)info->format_version, info->n_runs, count[NTAS_STATUS_DONE], count[NTAS_STATUS_FAILED],
           count[NTAS_STATUS_PENDING]);
    if (lock[0]) ntas_json_string(stdout, lock);
    else printf("null");
    printf(",\n \"failed_runs\": [");
    int first = 1;
    for (int i = 0; i < info->n_runs; i++) {
        if (info->status[i] != NTAS_STATUS_FAILED) continue;
        char hex[17];
        ntas_hex64(info->keys[i], hex);
        printf("%s\n  {\"run\": %d, \"key\": \"%s\", \"params\": {", first ? "" : ",", i, hex);
        first = 0;
        int pf = 1;
        for (int k = 0; k < t->n_cols; k++) {
            const ntas_column *c = &t->cols[k];
            if (!c->is_param || !strcmp(c->name, "run_key") || !ntas_table_varies(t, c)) continue;
            char cell[256];
            ntas_table_cell(c, i, cell, sizeof cell);
            printf("%s\"%s\": ", pf ? "" : ", ", c->name);
            if (c->type == NTAS_COL_TEXT) ntas_json_string(stdout, cell);
            else printf("%s", cell[0] ? cell : "null");
            pf = 0;
        }
        printf("}, \"message\": ");
        ntas_json_string(stdout, info->messages + (size_t)i * NTAS_MESSAGE_LEN);
        printf("}");
    }
    printf("%s],\n \"ranks\": %s}\n", first ? "" : "\n ", activity ? strchr(activity, '[') : "[]");
}

static void status_text(const char *path, const ntas_store_info *info, const ntas_table *t, const int *count,
                        const char *lock, const char *activity)
{
    printf("%s: sweep '%s' (%s), spec hash %s, written by ntasweep %s\n", path, info->spec_name, info->spec_file,
           info->spec_hash, info->version);
    printf("runs: %d total, %d done, %d failed, %d pending\n", info->n_runs, count[NTAS_STATUS_DONE],
           count[NTAS_STATUS_FAILED], count[NTAS_STATUS_PENDING]);
    int shown = 0;
    for (int i = 0; i < info->n_runs; i++) {
        if (info->status[i] != NTAS_STATUS_FAILED) continue;
        if (shown++ == 20) {
            printf("  ... %d more failed runs (all of them: ntasweep export --format tsv %s)\n", count[NTAS_STATUS_FAILED] - 20, path);
            break;
        }
        char varied[1024];
        varied_text(t, i, varied, sizeof varied);
        printf("  failed: run %d (%s): %s\n", i, varied[0] ? varied : "the only run",
               info->messages + (size_t)i * NTAS_MESSAGE_LEN);
    }
    if (lock[0]) printf("lock: %s\n", lock);
    if (activity) {
        printf("running now:\n");
        print_activity(activity);
    } else if (count[NTAS_STATUS_PENDING]) {
        printf("resume with: ntasweep resume %s\n", path);
    }
}

/* What each rank of a running sweep is doing: OUT.h5.ranks, written by the
 * sweep's rank 0 (coord.c) while it holds the lock. NULL if none. */
static char *read_activity(const char *path)
{
    char name[4200];
    snprintf(name, sizeof name, "%s.ranks", path);
    FILE *f = fopen(name, "r");
    if (!f) return NULL;
    char *buf = calloc(1, 1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    char *end = buf ? strrchr(buf, ']') : NULL;
    if (!buf || n == 0 || strncmp(buf, "{\"ranks\": [", 11) || !end) {
        free(buf);
        return NULL;
    }
    end[1] = '\0';   /* "{"ranks": [ ... ]": the list for JSON, the lines for text */
    return buf;
}

/* The rank lines of the activity JSON as text: one "  rank R: ..." a line. */
static void print_activity(const char *json)
{
    for (const char *p = strstr(json, "{\"rank\": "); p; p = strstr(p + 1, "{\"rank\": ")) {
        int rank, run;
        double started = 0, est = 0, eta = 0;
        long long step = 0, steps = 0;
        char params[1024] = "";
        int n = sscanf(p, "{\"rank\": %d, \"run\": %d, \"params\": \"%1023[^\"]\", \"started\": %lf, \"estimated_s\": %lf, "
                          "\"step\": %lld, \"steps\": %lld, \"eta_s\": %lf",
                       &rank, &run, params, &started, &est, &step, &steps, &eta);
        if (n == 8 && step > 0)
            printf("  rank %d: run %d (%s): step %lld/%lld, for %.0f s, ETA %.0f s\n", rank, run, params, step, steps,
                   (double)time(NULL) - started, eta);
        else if (n >= 5)
            printf("  rank %d: run %d (%s) for %.0f s, estimated %.0f s\n", rank, run, params,
                   (double)time(NULL) - started, est);
        else if (sscanf(p, "{\"rank\": %d", &rank) == 1)
            printf("  rank %d: idle\n", rank);
    }
}

/* `ntasweep status OUT.h5`: what a results file holds, without MPI. */
static int cmd_status(const parsed *p)
{
    const char *path = p->arg;
    if (existing_path("status", path) != 0) return NTAS_EXIT_INPUT;
    char err[1024];
    ntas_store_info info;
    ntas_table t;
    if (ntas_store_inspect(path, &info, err, sizeof err) != 0) {
        fprintf(stderr, "ntasweep: %s\n", err);
        return NTAS_EXIT_INPUT;
    }
    if (ntas_table_read(path, &t, err, sizeof err) != 0) {
        fprintf(stderr, "ntasweep: %s\n", err);
        ntas_store_info_free(&info);
        return NTAS_EXIT_INPUT;
    }
    int count[3] = {0, 0, 0};
    for (int i = 0; i < info.n_runs; i++)
        count[info.status[i] >= 0 && info.status[i] <= 2 ? info.status[i] : NTAS_STATUS_PENDING]++;
    char lock[1024] = "";
    int live = ntas_lock_describe(path, lock, sizeof lock);
    if (!live) lock[0] = '\0';
    char *activity = live == 1 ? read_activity(path) : NULL;   /* a stale file of a killed job is not shown */
    if (opt(p, "json")) status_json(path, &info, &t, count, lock, activity);
    else status_text(path, &info, &t, count, lock, activity);
    free(activity);
    ntas_table_free(&t);
    ntas_store_info_free(&info);
    if (count[NTAS_STATUS_PENDING]) return NTAS_EXIT_RESUMABLE;
    return count[NTAS_STATUS_FAILED] ? NTAS_EXIT_FAILED : NTAS_EXIT_OK;
}

/* --- export ---------------------------------------------------------------------- */

static int cmd_export(const parsed *p)
{
    const char *out = opt(p, "output"), *format = opt(p, "format");
    ntas_table_format fmt = NTAS_TABLE_CSV;
    const char *ext = out ? strrchr(out, '.') : NULL;
    if (!format && ext) format = !strcmp(ext, ".tsv") ? "tsv" : !strcmp(ext, ".json") ? "json" : "csv";
    if (format && !strcmp(format, "tsv")) fmt = NTAS_TABLE_TSV;
    else if (format && !strcmp(format, "json")) fmt = NTAS_TABLE_JSON;
    else if (format && strcmp(format, "csv")) {
        fprintf(stderr, "ntasweep export: --format must be csv, tsv or json, not '%s'\n", format);
        return NTAS_EXIT_INPUT;
    }
    if (existing_path("export", p->arg) != 0) return NTAS_EXIT_INPUT;
    char err[1024];
    ntas_table t;
    if (ntas_table_read(p->arg, &t, err, sizeof err) != 0) {
        fprintf(stderr, "ntasweep: %s\n", err);
        return NTAS_EXIT_INPUT;
    }
    /* Written beside, then renamed: a failed export leaves no half file. */
    char tmp[4200];
    FILE *f = stdout;
    if (out && strcmp(out, "-")) {
        snprintf(tmp, sizeof tmp, "%s.tmp", out);
        if (!(f = fopen(tmp, "w"))) {
            fprintf(stderr, "ntasweep export: %s: %s\n", tmp, strerror(errno));
            ntas_table_free(&t);
            return NTAS_EXIT_INPUT;
        }
    }
    int rc = ntas_table_write(&t, f, fmt, opt(p, "done") != NULL);
    ntas_table_free(&t);
    if (f != stdout) {
        if (fclose(f) != 0) rc = -1;
        if (rc == 0 && rename(tmp, out) != 0) rc = -1;
        if (rc != 0) remove(tmp);
    } else if (fflush(stdout) != 0) {
        rc = -1;
    }
    if (rc != 0) {
        fprintf(stderr, "ntasweep export: writing %s failed: %s\n", out ? out : "standard output", strerror(errno));
        return NTAS_EXIT_FAILED;
    }
    return NTAS_EXIT_OK;
}

/* --- params, bench ---------------------------------------------------------------- */

static int cmd_params(const parsed *p)
{
    int md = opt(p, "markdown") != NULL;
    if (md) printf("| key | meaning | paper symbol | default | unit |\n|---|---|---|---|---|\n");
    for (int i = 0; i < ntas_param_count; i++) {
        const ntas_param_desc *d = &ntas_param_table[i];
        if (md) {
            printf("| `%s` | ", d->key);
            for (const char *c = d->meaning; *c; c++) printf(*c == '|' ? "\\|" : "%c", *c);
            printf(" | %s | %s | %s |\n", d->symbol, d->default_text, d->unit);
        } else {
            printf("%s\t%s\t%s\t%s\t%s\n", d->key, d->default_text, d->symbol, d->unit, d->meaning);
        }
    }
    return NTAS_EXIT_OK;
}

/* A whole number in [lo, hi] from option name into *v (unchanged if absent). */
static int count_opt(const parsed *p, const char *name, long long lo, long long hi, long long *v)
{
    const char *t = opt(p, name);
    if (!t) return 0;
    char *end;
    long long x = strtoll(t, &end, 10);
    if (*t == '\0' || *end || x < lo || x > hi) {
        fprintf(stderr, "ntasweep %s: --%s needs a whole number in %lld..%lld, not '%s'\n", p->cmd->name, name, lo, hi, t);
        return -1;
    }
    *v = x;
    return 0;
}

void ntas_cli_use_kernels(int warn)
{
    char err[256];
    ntas_kernel_isa isa;
    if (ntas_kernel_isa_request(getenv("NTASWEEP_KERNELS"), &isa, err, sizeof err) != 0 && warn)
        fprintf(stderr, "ntasweep: warning: %s\n", err);
    ntas_kernel_isa_use(isa);
}

/* `ntasweep bench`: the speed table of bench.h, on one core, without MPI. */
static int cmd_bench(const parsed *p)
{
    ntas_bench_options bo;
    ntas_bench_options_default(&bo, opt(p, "quick") != NULL);
    long long steps = bo.steps, reps = bo.reps;
    if (count_opt(p, "steps", 1, 100000000, &steps) || count_opt(p, "reps", 1, 1000, &reps)) return NTAS_EXIT_INPUT;
    bo.steps = steps;
    bo.reps = (int)reps;
    ntas_blas_set_threads(1); /* as `run` does on each rank */
    ntas_cli_use_kernels(1);
    char err[512];
    if (ntas_bench_report(&bo, stdout, err, sizeof err) != 0) {
        fprintf(stderr, "ntasweep bench: %s\n", err);
        return NTAS_EXIT_FAILED;
    }
    return NTAS_EXIT_OK;
}

int ntas_cli_main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return NTAS_EXIT_INPUT;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
        usage(stdout);
        return NTAS_EXIT_OK;
    }
    if (!strcmp(name, "--version")) {
        printf("ntasweep %s\n", NTASWEEP_VERSION);
        return NTAS_EXIT_OK;
    }
    if (!strcmp(name, "help")) return cmd_help(argc, argv);
    const command_desc *c = find_command(name);
    if (!c) {
        unknown_command(name);
        return NTAS_EXIT_INPUT;
    }
    parsed p;
    int r = parse_args(argc, argv, c, &p);
    if (r == 1) {
        command_help(stdout, c);
        return NTAS_EXIT_OK;
    }
    if (r != 0) return NTAS_EXIT_INPUT;
    if (!strcmp(name, "run")) return cmd_run(&p, 0);
    if (!strcmp(name, "resume")) return cmd_run(&p, 1);
    if (!strcmp(name, "status")) return cmd_status(&p);
    if (!strcmp(name, "validate") || !strcmp(name, "plan")) return cmd_plan(&p);
    if (!strcmp(name, "export")) return cmd_export(&p);
    if (!strcmp(name, "params")) return cmd_params(&p);
    return cmd_bench(&p);
}
