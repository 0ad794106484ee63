/* cli — command line. See cli.h. */
#include "ntasweep/cli.h"

#include <cblas.h>
#include <errno.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ntasweep/coord.h"
#include "ntasweep/params.h"
#include "ntasweep/spec.h"
#include "ntasweep/store.h"

#define MAX_SETS 64

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ntasweep run SPEC.ini -o OUT.h5 [--set key=value ...] [--quiet]\n"
            "       ntasweep validate SPEC.ini [--set key=value ...]\n"
            "       ntasweep plan SPEC.ini [--set key=value ...]\n"
            "       ntasweep params [--markdown]\n"
            "       ntasweep --help | --version\n"
            "\n"
            "Runs the models of Sandbrink et al. (NeurIPS 2024), \"Flexible task abstractions\n"
            "emerge in linear networks with fast and bounded units\", as a parameter sweep:\n"
            "start `run` under mpirun; rank 0 hands runs out and every rank writes its\n"
            "results into one HDF5 file. Running the same command again resumes: runs\n"
            "already done are kept. --set applies to every run of the sweep.\n"
            "\n"
            "Exit status: 0 all runs done, 1 some runs failed or an error, 2 bad input.\n"
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
    int n_sets, quiet;
} options;

static int parse_args(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
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
        fprintf(stderr, "ntasweep %s: missing SPEC.ini\n", o->command);
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
    double total_steps = 0;
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
        printf(" steps=%.0f\n", steps);
    }
    printf("total: %.0f Euler steps\n", total_steps);
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
    MPI_Init(NULL, NULL);
    /* Runs are small; parallelism is across runs (MPI), not inside BLAS. */
    openblas_set_num_threads(1);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    char err[1024] = "";
    int code = NTAS_EXIT_OK;
    ntas_spec spec;
    int8_t *status = NULL;
    ntas_store *store = NULL;

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

    /* Rank 0 creates the file, or checks that an existing one is this sweep. */
    status = calloc((size_t)spec.n_runs, 1);
    int decision = status ? 0 : NTAS_EXIT_FAILED;
    if (rank == 0 && decision == 0) {
        if (access(o->out, F_OK) == 0) {
            int r = ntas_store_read_status(o->out, &spec, status, err, sizeof err);
            if (r != 0) {
                fprintf(stderr, "ntasweep: %s\nntasweep: the file was not modified; choose another -o or remove it\n", err);
                decision = NTAS_EXIT_INPUT;
            }
        } else if (make_parent_dirs(o->out, err, sizeof err) != 0 ||
                   ntas_store_create(o->out, &spec, err, sizeof err) != 0) {
            fprintf(stderr, "ntasweep: %s\n", err);
            decision = NTAS_EXIT_FAILED;
        }
    }
    MPI_Bcast(&decision, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (decision != 0) {
        code = decision;
        goto out;
    }
    if (ntas_store_open(&store, o->out, MPI_COMM_WORLD, err, sizeof err) != 0) {
        if (rank == 0) fprintf(stderr, "ntasweep: %s\n", err);
        code = NTAS_EXIT_FAILED;
        goto out;
    }
    if (rank == 0 && !o->quiet)
        fprintf(stderr, "ntasweep: %s: %d runs on %d rank%s -> %s\n", o->spec, spec.n_runs, size,
                size == 1 ? "" : "s", o->out);
    ntas_sweep_summary sum;
    int rc = ntas_coord_run(&spec, status, store, MPI_COMM_WORLD, o->quiet, &sum, err, sizeof err);
    char cerr[256];
    if (ntas_store_close(store, cerr, sizeof cerr) != 0 && rc == 0) {
        snprintf(err, sizeof err, "%s", cerr);
        rc = -1;
    }
    if (rc != 0) {
        if (rank == 0) fprintf(stderr, "ntasweep: %s\n", err);
        code = NTAS_EXIT_FAILED;
    } else if (rank == 0) {
        if (!o->quiet)
            fprintf(stderr, "ntasweep: %d done, %d failed, %d already done before -> %s\n", sum.done,
                    sum.failed, sum.skipped, o->out);
        if (sum.failed > 0) code = NTAS_EXIT_FAILED;
    }
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
out:
    free(status);
    ntas_spec_free(&spec);
    MPI_Finalize();
    return code;
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
    options o;
    if (parse_args(argc, argv, &o) != 0) return NTAS_EXIT_INPUT;
    if (!strcmp(o.command, "run")) {
        if (!o.out) {
            fprintf(stderr, "ntasweep run: missing -o OUT.h5\n");
            return NTAS_EXIT_INPUT;
        }
        return cmd_run(&o);
    }
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
