/* cli — command line. See cli.h. */
#include "ntasweep/runner/cli.h"

#include <errno.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ntasweep/core/blas_threads.h"
#include "ntasweep/train/bench.h"
#include "ntasweep/runner/cost.h"
#include "ntasweep/runner/coord.h"
#include "ntasweep/io/lock.h"
#include "ntasweep/io/mpi_util.h"
#include "ntasweep/config/params.h"
#include "ntasweep/io/pretrain.h"
#include "ntasweep/runner/resume.h"
#include "ntasweep/config/spec.h"
#include "ntasweep/io/store.h"
#include "ntasweep/train/train.h"

#define MAX_SETS 64

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ntasweep run SPEC.ini -o OUT.h5 [--set key=value ...] [--quiet]\n"
            "                    [--grace SECONDS] [--flush SECONDS] [--progress SECONDS] [--force-new]\n"
            "       ntasweep status OUT.h5\n"
            "       ntasweep validate SPEC.ini [--set key=value ...]\n"
            "       ntasweep plan SPEC.ini [--set key=value ...]\n"
            "       ntasweep params [--markdown]\n"
            "       ntasweep bench [--quick] [--steps N] [--reps N]\n"
            "       ntasweep --help | --version\n"
            "\n"
            "Runs the models of Sandbrink et al. (NeurIPS 2024), \"Flexible task abstractions\n"
            "emerge in linear networks with fast and bounded units\", as a parameter sweep:\n"
            "start `run` under mpirun; rank 0 hands runs out and every rank writes its\n"
            "results into one HDF5 file. Running the same command again resumes: runs\n"
            "already done are kept; points added to the sweep are appended. A sweep that\n"
            "lost runs the file holds is refused with a diff (--force-new starts a new\n"
            "file and keeps the old one as OUT.h5.old-N). --set applies to every run.\n"
            "SIGTERM, SIGINT or SIGUSR1: no new runs; running ones get --grace seconds\n"
            "(default 60) to finish, then are left pending; exit status 3.\n"
            "\n"
            "Exit status: 0 all runs done, 1 some runs failed or an error, 2 bad input\n"
            "or a results file held by another job, 3 stopped by a signal (resumable).\n"
            "\n"
            "Sweep-file keys ([params], [grid], [case.NAME]):\n");
    for (int i = 0; i < ntas_param_count; i++) {
        const ntas_param_desc *d = &ntas_param_table[i];
        fprintf(f, "  %-14s %s (default %s)\n", d->key, d->meaning, d->default_text);
    }
}

typedef struct {
    const char *command, *spec, *out;
    const char *sets[MAX_SETS];
    int n_sets, quiet, force_new;
    double grace, flush, progress;
} options;

/* A non-negative number of seconds, or -1. */
static double seconds_arg(const char *opt, const char *text)
{
    char *end;
    double v = strtod(text, &end);
    if (*end || !(v >= 0) || v > 1e9) {
        fprintf(stderr, "ntasweep: %s needs a number of seconds >= 0, not '%s'\n", opt, text);
        return -1;
    }
    return v;
}

static int parse_args(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->grace = 60;
    o->flush = 60;
    o->progress = 60;
    if (argc < 2) {
        usage(stderr);
        return -1;
    }
    o->command = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && i + 1 < argc) o->out = argv[++i];
        else if (!strcmp(a, "--set") && i + 1 < argc) {
            if (o->n_sets == MAX_SETS) {
                fprintf(stderr, "ntasweep: at most %d --set options\n", MAX_SETS);
                return -1;
            }
            o->sets[o->n_sets++] = argv[++i];
        } else if (!strncmp(a, "--set=", 6)) {
            if (o->n_sets == MAX_SETS) {
                fprintf(stderr, "ntasweep: at most %d --set options\n", MAX_SETS);
                return -1;
            }
            o->sets[o->n_sets++] = a + 6;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) o->quiet = 1;
        else if (!strcmp(a, "--force-new")) o->force_new = 1;
        else if ((!strcmp(a, "--grace") || !strcmp(a, "--flush") || !strcmp(a, "--progress")) && i + 1 < argc) {
            double v = seconds_arg(a, argv[++i]);
            if (v < 0) return -1;
            *(!strcmp(a, "--grace") ? &o->grace : !strcmp(a, "--flush") ? &o->flush : &o->progress) = v;
        }
        else if (a[0] == '-') {
            fprintf(stderr, "ntasweep: unknown or incomplete option '%s' (see ntasweep --help)\n", a);
            return -1;
        } else if (!o->spec) o->spec = a;
        else {
            fprintf(stderr, "ntasweep: unexpected argument '%s'\n", a);
            return -1;
        }
    }
    if (!o->spec) {
        fprintf(stderr, "ntasweep %s: missing %s\n", o->command, !strcmp(o->command, "status") ? "OUT.h5" : "SPEC.ini");
        return -1;
    }
    return 0;
}

static int cmd_plan(const ntas_spec *s, int verbose)
{
    printf("%s: %d runs, spec hash ", s->path, s->n_runs);
    char hex[17];
    ntas_hex64(s->hash, hex);
    printf("%s\n", hex);
    if (!verbose) return NTAS_EXIT_OK;
    double total_steps = 0, total_cost = 0;
    for (int i = 0; i < s->n_runs; i++) {
        const ntas_run *r = &s->runs[i];
        ntas_hex64(r->key, hex);
        printf("run %d key %s%s%s:", i, hex, r->case_name[0] ? " case " : "", r->case_name);
        for (int k = 0; k < ntas_param_count; k++) {
            char v[128];
            ntas_param_format(&ntas_param_table[k], &r->params, v, sizeof v);
            printf(" %s=%s", ntas_param_table[k].key, v);
        }
        double steps = (double)ntas_params_total_steps(&r->params);
        total_steps += steps;
        total_cost += ntas_run_cost(&r->params);
        printf(" steps=%.0f est_s=%.3g\n", steps, ntas_run_cost(&r->params) * ntas_cost_seconds_per_unit());
    }
    printf("total: %.0f Euler steps, estimated %.3g core-seconds (%.3g core-hours)\n", total_steps,
           total_cost * ntas_cost_seconds_per_unit(), total_cost * ntas_cost_seconds_per_unit() / 3600);
    /* Not in the core-seconds above: the pretraining is a serial prefix of
     * the sweep, not work the ranks share (tools/submit and tools/reproduce
     * add ceil(n / ranks) times the longest to their wall-time estimate). */
    ntas_pretrain_setting *pre;
    int n_pre;
    char err[256];
    if (ntas_pretrain_settings(s, &pre, &n_pre, err, sizeof err) != 0) {
        fprintf(stderr, "ntasweep: %s\n", err);
        return NTAS_EXIT_FAILED;
    }
    /* Each runs on one rank (setting i on rank i % ranks); the others wait. */
    double longest = 0.0;
    for (int i = 0; i < n_pre; i++)
        if (ntas_pretrain_seconds(pre[i].steps) > longest)
            longest = ntas_pretrain_seconds(pre[i].steps);
    free(pre);
    if (n_pre > 0)
        printf("pretraining: %d CNN pretraining%s before the runs, estimated %.0f s wall each at most "
               "(one rank each; the other ranks wait)\n", n_pre, n_pre == 1 ? "" : "s", longest);
    return NTAS_EXIT_OK;
}

/* mkdir -p of the directory part of path. */
static int make_parent_dirs(const char *path, char *err, size_t errlen)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return 0;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "%.700s: cannot create directory: %s", buf, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    return 0;
}

static int cmd_run(const options *o)
{
    /* First of all: a stop signal during start-up must not kill the
     * process (SIGUSR1's default action), only stop the sweep before it begins. */
    ntas_coord_install_signal_handlers();
    MPI_Init(NULL, NULL);
    ntas_mpi_errors_return(NULL, 0);   /* checked codes, not aborts: mpi_util.h */
    /* Runs are small; parallelism is across runs (MPI), not inside BLAS. */
    ntas_blas_set_threads(1);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    char err[8192] = "";
    int code = NTAS_EXIT_OK;
    ntas_spec spec;
    ntas_store *store = NULL;
    ntas_resume res;
    ntas_lock lock;
    memset(&res, 0, sizeof res);
    memset(&lock, 0, sizeof lock);

    /* Every rank reads the spec; input errors are found before any output. */
    int loaded = ntas_spec_load(&spec, o->spec, o->sets, o->n_sets, err, sizeof err) == 0;
    if (!loaded) {
        if (rank == 0) fprintf(stderr, "ntasweep: %s\n", err);
        MPI_Finalize();
        return NTAS_EXIT_INPUT;
    }
    unsigned long long h = spec.hash, hmin = 0, hmax = 0;
    MPI_Allreduce(&h, &hmin, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&h, &hmax, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    if (hmin != hmax) {
        if (rank == 0) fprintf(stderr, "ntasweep: %s differs between ranks (is it on a shared file system?)\n", o->spec);
        code = NTAS_EXIT_INPUT;
        goto out;
    }

    /* Rank 0 takes the lock, then creates, resumes or extends the file;
     * first it finds the data of the cnn runs (a missing dataset is bad input). */
    int decision = 0;
    ntas_pretrain_setting *pre = NULL;
    int n_pre = 0;
    ntas_feature_cache features = {0, NULL};
    if (rank == 0) {
        char note[600];
        int r;
        if (ntas_pretrain_plan(&spec, &pre, &n_pre, err, sizeof err) != 0) {
            fprintf(stderr, "ntasweep: %s: %s\n", o->spec, err);
            decision = NTAS_EXIT_INPUT;
        } else if (make_parent_dirs(o->out, err, sizeof err) != 0) {
            fprintf(stderr, "ntasweep: %s\n", err);
            decision = NTAS_EXIT_FAILED;
        } else if ((r = ntas_lock_acquire(&lock, o->out, note, sizeof note, err, sizeof err)) != 0) {
            fprintf(stderr, "ntasweep: %s\n", err);
            decision = r == 1 ? NTAS_EXIT_INPUT : NTAS_EXIT_FAILED;
        } else {
            if (note[0] && !o->quiet) fprintf(stderr, "ntasweep: %s\n", note);
            r = ntas_resume_prepare(&res, o->out, &spec, o->force_new, err, sizeof err);
            if (r != 0) {
                fprintf(stderr, "ntasweep: %s\n", err);
                decision = r == 1 ? NTAS_EXIT_INPUT : NTAS_EXIT_FAILED;
            } else if (!o->quiet) {
                if (res.kind == NTAS_RESUME_EXTENDED)
                    fprintf(stderr, "ntasweep: extending %s: %d new runs appended to its %d\n", o->out,
                            res.n - res.n_old, res.n_old);
                if (res.kind == NTAS_RESUME_REPLACED)
                    fprintf(stderr, "ntasweep: --force-new: the old file is now %s\n", res.moved_to);
                if (res.kind == NTAS_RESUME_IN_PLACE && res.spec_changed)
                    fprintf(stderr, "ntasweep: note: %s differs from the sweep text stored in %s, but every run is the same; "
                            "the stored text is kept\n", o->spec, o->out);
            }
        }
    }
    MPI_Bcast(&decision, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (decision != 0) {
        code = decision;
        goto out;
    }
    /* Every rank puts its run table in the file's order. */
    int *order = rank == 0 ? res.order : malloc((size_t)spec.n_runs * sizeof *order);
    int ok = order != NULL, all_ok = 0;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!all_ok) {
        if (rank != 0) free(order);
        code = NTAS_EXIT_FAILED;
        goto out;
    }
    MPI_Bcast(order, spec.n_runs, MPI_INT, 0, MPI_COMM_WORLD);
    ok = ntas_spec_set_runs(&spec, order, spec.n_runs, err, sizeof err) == 0;
    if (rank != 0) free(order);
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!all_ok) {
        if (rank == 0) fprintf(stderr, "ntasweep: %s\n", err);
        code = NTAS_EXIT_FAILED;
        goto out;
    }

    if (ntas_store_open(&store, o->out, MPI_COMM_WORLD, err, sizeof err) != 0) {
        if (rank == 0) fprintf(stderr, "ntasweep: %s\n", err);
        code = NTAS_EXIT_FAILED;
        goto out;
    }
    /* Pretrained CNN features, once per sweep, before any run (pretrain.h). */
    ntas_pretrain_options popt = {.quiet = o->quiet, .lock = rank == 0 ? &lock : NULL,
                                  .stop_requested = ntas_coord_stop_requested};
    int pr = ntas_feature_cache_prepare(&features, pre, n_pre, (hid_t)ntas_store_hdf5_file(store), MPI_COMM_WORLD,
                                        &popt, err, sizeof err);
    if (pr != 0) {
        char cerr[256];
        ntas_store_close(store, cerr, sizeof cerr);
        if (pr == 1) {
            code = NTAS_EXIT_RESUMABLE;
            if (rank == 0 && !o->quiet)
                fprintf(stderr, "ntasweep: stopped by a signal while pretraining; run the same command again to resume\n");
        } else {
            code = pr == 2 ? NTAS_EXIT_INPUT : NTAS_EXIT_FAILED;
            if (rank == 0 || pr == -1) fprintf(stderr, "ntasweep: %s\n", err);
        }
        goto out;
    }
    if (rank == 0 && !o->quiet)
        fprintf(stderr, "ntasweep: %s: %d runs on %d rank%s -> %s\n", o->spec, spec.n_runs, size,
                size == 1 ? "" : "s", o->out);
    ntas_coord_options copt = {.quiet = o->quiet, .grace = o->grace, .flush_interval = o->flush,
                               .progress_interval = o->progress, .lock = rank == 0 ? &lock : NULL,
                               .features = &features};
    ntas_sweep_summary sum;
    int rc = ntas_coord_run(&spec, res.status, store, MPI_COMM_WORLD, &copt, &sum, err, sizeof err);
    char cerr[256];
    if (ntas_store_close(store, cerr, sizeof cerr) != 0 && rc == 0) {
        snprintf(err, sizeof err, "%s", cerr);
        rc = -1;
    }
    if (rc != 0) {
        if (rank == 0) fprintf(stderr, "ntasweep: %s\n", err);
        code = NTAS_EXIT_FAILED;
    } else if (rank == 0) {
        int left = sum.abandoned + sum.not_started;
        if (!o->quiet)
            fprintf(stderr, "ntasweep: %d done, %d failed, %d already done before, %d left pending (%d abandoned mid-run) -> %s\n",
                    sum.done, sum.failed, sum.skipped, left, sum.abandoned, o->out);
        if (sum.stopped && left > 0) {
            code = NTAS_EXIT_RESUMABLE;
            if (!o->quiet) fprintf(stderr, "ntasweep: stopped by signal %d; run the same command again to resume\n", sum.stopped);
        } else if (sum.failed > 0) {
            code = NTAS_EXIT_FAILED;
        }
    }
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
out:
    ntas_feature_cache_free(&features);
    free(pre);
    ntas_lock_release(&lock);
    ntas_resume_free(&res);
    ntas_spec_free(&spec);
    MPI_Finalize();
    return code;
}

/* `ntasweep status OUT.h5`: what a results file holds, without MPI. */
static int cmd_status(const char *path)
{
    char err[1024];
    ntas_store_info info;
    if (ntas_store_inspect(path, &info, err, sizeof err) != 0) {
        fprintf(stderr, "ntasweep: %s\n", err);
        return NTAS_EXIT_INPUT;
    }
    int count[3] = {0, 0, 0}, other = 0;
    for (int i = 0; i < info.n_runs; i++) {
        if (info.status[i] >= 0 && info.status[i] <= 2) count[info.status[i]]++;
        else other++;
    }
    printf("%s: sweep '%s' (%s), spec hash %s, written by ntasweep %s\n", path, info.spec_name, info.spec_file,
           info.spec_hash, info.version);
    printf("runs: %d total, %d done, %d failed, %d pending%s\n", info.n_runs, count[NTAS_STATUS_DONE],
           count[NTAS_STATUS_FAILED], count[NTAS_STATUS_PENDING], other ? " (and some with an unknown status)" : "");
    int shown = 0;
    for (int i = 0; i < info.n_runs; i++) {
        if (info.status[i] != NTAS_STATUS_FAILED) continue;
        if (shown++ == 20) {
            printf("  ... %d more failed runs\n", count[NTAS_STATUS_FAILED] - 20);
            break;
        }
        char hex[17];
        ntas_hex64(info.keys[i], hex);
        const char *cname = info.case_names + (size_t)i * NTAS_NAME_LEN;
        printf("  failed: run %d (key %s%s%s): %s\n", i, hex, cname[0] ? ", case " : "", cname,
               info.messages + (size_t)i * NTAS_MESSAGE_LEN);
    }
    char lock[1024];
    int l = ntas_lock_describe(path, lock, sizeof lock);
    if (l) printf("lock: %s\n", lock);
    ntas_store_info_free(&info);
    if (count[NTAS_STATUS_PENDING] || other) return NTAS_EXIT_RESUMABLE;
    return count[NTAS_STATUS_FAILED] ? NTAS_EXIT_FAILED : NTAS_EXIT_OK;
}

/* `ntasweep bench`: the speed table of bench.h, on one core, without MPI. */
static int cmd_bench(int argc, char **argv)
{
    int quick = 0;
    for (int i = 2; i < argc; i++) quick |= !strcmp(argv[i], "--quick");
    ntas_bench_options bo;
    ntas_bench_options_default(&bo, quick);
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) continue;
        char *end = NULL;
        long long v = i + 1 < argc ? strtoll(argv[i + 1], &end, 10) : 0;
        int number = end && end != argv[i + 1] && *end == '\0';
        if (!strcmp(argv[i], "--steps") && number && v >= 1 && v <= 100000000) bo.steps = v;
        else if (!strcmp(argv[i], "--reps") && number && v >= 1 && v <= 1000) bo.reps = (int)v;
        else {
            fprintf(stderr, "ntasweep bench: bad option '%s' (usage: ntasweep bench [--quick] "
                    "[--steps N in 1..1e8] [--reps N in 1..1000])\n", argv[i]);
            return NTAS_EXIT_INPUT;
        }
        i++;
    }
    ntas_blas_set_threads(1); /* as `run` does on each rank */
    char err[512];
    if (ntas_bench_report(&bo, stdout, err, sizeof err) != 0) {
        fprintf(stderr, "ntasweep bench: %s\n", err);
        return NTAS_EXIT_FAILED;
    }
    return NTAS_EXIT_OK;
}

int ntas_cli_main(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))) {
        usage(stdout);
        return NTAS_EXIT_OK;
    }
    if (argc >= 2 && !strcmp(argv[1], "--version")) {
        printf("ntasweep %s\n", NTASWEEP_VERSION);
        return NTAS_EXIT_OK;
    }
    if (argc >= 2 && !strcmp(argv[1], "params")) {
        /* The README's parameter table comes from here. */
        int md = argc >= 3 && !strcmp(argv[2], "--markdown");
        if (md) printf("| key | meaning | paper symbol | default | unit |\n|---|---|---|---|---|\n");
        for (int i = 0; i < ntas_param_count; i++) {
            const ntas_param_desc *d = &ntas_param_table[i];
            if (md) {
                printf("| `%s` | ", d->key);
                for (const char *c = d->meaning; *c; c++) printf(*c == '|' ? "\\|" : "%c", *c);
                printf(" | %s | %s | %s |\n", d->symbol, d->default_text, d->unit);
            }
            else printf("%s\t%s\t%s\t%s\t%s\n", d->key, d->default_text, d->symbol, d->unit, d->meaning);
        }
        return NTAS_EXIT_OK;
    }
    if (argc >= 2 && !strcmp(argv[1], "bench")) return cmd_bench(argc, argv);
    options o;
    if (parse_args(argc, argv, &o) != 0) return NTAS_EXIT_INPUT;
    if (!strcmp(o.command, "run")) {
        if (!o.out) {
            fprintf(stderr, "ntasweep run: missing -o OUT.h5\n");
            return NTAS_EXIT_INPUT;
        }
        return cmd_run(&o);
    }
    if (!strcmp(o.command, "status")) return cmd_status(o.spec);
    if (!strcmp(o.command, "validate") || !strcmp(o.command, "plan")) {
        char err[1024];
        ntas_spec spec;
        if (ntas_spec_load(&spec, o.spec, o.sets, o.n_sets, err, sizeof err) != 0) {
            fprintf(stderr, "ntasweep: %s\n", err);
            return NTAS_EXIT_INPUT;
        }
        int code = cmd_plan(&spec, !strcmp(o.command, "plan"));
        ntas_spec_free(&spec);
        return code;
    }
    fprintf(stderr, "ntasweep: unknown command '%s' (see ntasweep --help)\n", o.command);
    return NTAS_EXIT_INPUT;
}
