/* sweep — the phases of one run of a sweep. See sweep.h.
 *
 * ntas_sweep_run at the bottom reads top to bottom as the phases; each phase
 * is a function above it that returns an exit status (0 to go on) and agrees
 * on it across ranks before returning, so every rank leaves at the same phase. */
#include "ntasweep/runner/sweep.h"

#include <errno.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ntasweep/core/blas_threads.h"
#include "ntasweep/core/err.h"
#include "ntasweep/config/spec.h"
#include "ntasweep/io/h5util.h"
#include "ntasweep/io/lock.h"
#include "ntasweep/io/mpi_util.h"
#include "ntasweep/io/pretrain.h"
#include "ntasweep/io/store.h"
#include "ntasweep/runner/coord.h"
#include "ntasweep/runner/resume.h"

typedef struct {
    const ntas_sweep_options *o;
    int rank, size;
    ntas_spec spec;
    int spec_loaded;
    ntas_resume res;
    ntas_lock lock;
    ntas_pretrain_setting *pre;
    int n_pre;
    ntas_feature_cache features;
    ntas_store *store;
    char started_as[2048];       /* resume: the stored command line, for refusals */
    char err[8192];
} sweep_state;

/* rank 0's message, with the stored command line when resuming. */
static void say_error(const sweep_state *s, const char *msg)
{
    if (s->rank != 0) return;
    fprintf(stderr, "ntasweep: %s\n", msg);
    if (s->started_as[0]) fprintf(stderr, "ntasweep: the sweep in %s was started as:\n  %s\n", s->o->out, s->started_as);
}

/* The worst (largest) exit status of any rank, on every rank. */
static int agree(int code)
{
    int worst = code;
    MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return worst;
}

typedef int (*spec_loader)(ntas_spec *, const char *, const char *const *, int, char *, size_t);

/* Only rank 0 expands the runs; the other ranks read and check the file and
 * its hash: their memory does not grow with the sweep. */
static spec_loader load(int rank)
{
    return rank == 0 ? ntas_spec_load : ntas_spec_load_text;
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
            ntas_set_err(err, errlen, "%.700s: cannot create directory: %s", buf, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    return 0;
}

/* Phase 1 (resume only, rank 0): which sweep file and overrides the results
 * file was written with. The original file if it still holds the stored
 * text, else the stored text written back beside OUT (tmp_dir). */
static int find_stored_sweep(sweep_state *s, ntas_stored_sweep *st, char *spec_path, size_t len, char *tmp_dir,
                             size_t tmp_len, const char **sets, int *n_sets)
{
    if (access(s->o->out, F_OK) != 0) {
        snprintf(s->err, sizeof s->err, "%s: no such file: nothing to resume (start a sweep with ntasweep run SPEC.ini -o %s)",
                 s->o->out, s->o->out);
        return NTAS_EXIT_INPUT;
    }
    if (ntas_store_read_sweep(s->o->out, st, s->err, sizeof s->err) != 0) return NTAS_EXIT_INPUT;
    ntas_resume_command(st, s->o->out, s->started_as, sizeof s->started_as);
    *n_sets = ntas_resume_overrides(st, sets, NTAS_MAX_SETS);
    ntas_spec probe;
    char perr[1024];
    if (access(st->spec_file, R_OK) == 0 && ntas_spec_load(&probe, st->spec_file, sets, *n_sets, perr, sizeof perr) == 0) {
        char hex[17];
        ntas_hex64(probe.hash, hex);
        ntas_spec_free(&probe);
        if (!strcmp(hex, st->spec_hash)) {
            snprintf(spec_path, len, "%s", st->spec_file);
            return NTAS_EXIT_OK;
        }
    }
    snprintf(tmp_dir, tmp_len, "%s.spec-%ld", s->o->out, (long)getpid());
    if (ntas_resume_write_spec(st, tmp_dir, spec_path, len, s->err, sizeof s->err) != 0) {
        tmp_dir[0] = '\0';
        return NTAS_EXIT_INPUT;
    }
    return NTAS_EXIT_OK;
}

/* Phase 1: every rank reads the sweep; input errors are found before any
 * output, and the ranks must read the same sweep. */
static int load_sweep(sweep_state *s)
{
    const ntas_sweep_options *o = s->o;
    const char *sets[NTAS_MAX_SETS];
    int n_sets = o->n_sets;
    memcpy(sets, o->sets, sizeof sets);
    char spec_path[4096] = "", tmp_dir[4200] = "";
    ntas_stored_sweep st;
    memset(&st, 0, sizeof st);
    int code = NTAS_EXIT_OK;
    if (o->from_file) {
        if (s->rank == 0) {
            code = find_stored_sweep(s, &st, spec_path, sizeof spec_path, tmp_dir, sizeof tmp_dir, sets, &n_sets);
            if (code) say_error(s, s->err);
        }
        if ((code = agree(code)) != NTAS_EXIT_OK) goto out;
        /* The other ranks take rank 0's path and overrides. */
        char buf[8192] = "";
        int used = 0;
        if (s->rank == 0) {
            used = snprintf(buf, sizeof buf, "%s", spec_path) + 1;
            for (int i = 0; i < n_sets && used < (int)sizeof buf; i++)
                used += snprintf(buf + used, sizeof buf - (size_t)used, "%s", sets[i]) + 1;
        }
        MPI_Bcast(&n_sets, 1, MPI_INT, 0, MPI_COMM_WORLD);
        MPI_Bcast(buf, sizeof buf, MPI_CHAR, 0, MPI_COMM_WORLD);
        MPI_Bcast(s->started_as, sizeof s->started_as, MPI_CHAR, 0, MPI_COMM_WORLD);
        snprintf(spec_path, sizeof spec_path, "%.*s", (int)sizeof spec_path - 1, buf);
        const char *p = buf + strlen(buf) + 1;
        for (int i = 0; i < n_sets; i++, p += strlen(p) + 1) sets[i] = p;
        s->spec_loaded = load(s->rank)(&s->spec, spec_path, sets, n_sets, s->err, sizeof s->err) == 0;
    } else {
        s->spec_loaded = load(s->rank)(&s->spec, o->spec, sets, n_sets, s->err, sizeof s->err) == 0;
    }
    if (s->spec_loaded && ntas_store_check_names(&s->spec, s->err, sizeof s->err) != 0) code = NTAS_EXIT_INPUT;
    if (!s->spec_loaded) code = NTAS_EXIT_INPUT;
    if (s->rank == 0 && code) say_error(s, s->err);
    if ((code = agree(code)) != NTAS_EXIT_OK) goto out;
    unsigned long long h = s->spec.hash, hmin = 0, hmax = 0;
    MPI_Allreduce(&h, &hmin, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&h, &hmax, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    if (hmin != hmax) {
        if (s->rank == 0) fprintf(stderr, "ntasweep: %s differs between ranks (is it on a shared file system?)\n", s->spec.path);
        code = NTAS_EXIT_INPUT;
    }
out:
    MPI_Barrier(MPI_COMM_WORLD);   /* every rank has read the stored text: remove it */
    if (s->rank == 0 && tmp_dir[0]) ntas_resume_remove_spec(&st, tmp_dir);
    ntas_stored_sweep_free(&st);
    return code;
}

/* Phase 2 (rank 0): find the data of the cnn runs, take the lock, then
 * create, resume, extend or refuse the file (resume.h). */
static int prepare_file(sweep_state *s)
{
    const ntas_sweep_options *o = s->o;
    char note[600];
    int r;
    if (ntas_pretrain_plan(&s->spec, &s->pre, &s->n_pre, s->err, sizeof s->err) != 0) {
        char msg[8400];
        snprintf(msg, sizeof msg, "%s: %s", s->spec.path, s->err);
        say_error(s, msg);
        return NTAS_EXIT_INPUT;
    }
    if (make_parent_dirs(o->out, s->err, sizeof s->err) != 0) {
        say_error(s, s->err);
        return NTAS_EXIT_INPUT;
    }
    if ((r = ntas_lock_acquire(&s->lock, o->out, note, sizeof note, s->err, sizeof s->err)) != 0) {
        say_error(s, s->err);
        /* A lock that cannot be made: the directory is not writable (bad input). */
        return NTAS_EXIT_INPUT;
    }
    if (note[0] && !o->quiet) fprintf(stderr, "ntasweep: %s\n", note);
    r = ntas_resume_prepare(&s->res, o->out, &s->spec, o->force_new, s->err, sizeof s->err);
    if (r != 0) {
        say_error(s, s->err);
        return r == 1 ? NTAS_EXIT_INPUT : NTAS_EXIT_FAILED;
    }
    if (o->quiet) return NTAS_EXIT_OK;
    if (s->res.kind == NTAS_RESUME_EXTENDED)
        fprintf(stderr, "ntasweep: extending %s: %d new runs appended to its %d\n", o->out, s->res.n - s->res.n_old,
                s->res.n_old);
    if (s->res.kind == NTAS_RESUME_REPLACED)
        fprintf(stderr, "ntasweep: --force-new: the old file is now %s\n", s->res.moved_to);
    if (s->res.kind == NTAS_RESUME_IN_PLACE && s->res.spec_changed && !o->from_file)
        fprintf(stderr, "ntasweep: note: %s differs from the sweep text stored in %s, but every run is the same; "
                "the stored text is kept\n", s->spec.path, o->out);
    return NTAS_EXIT_OK;
}

/* Phase 3: rank 0 puts its run table in the file's order (the other ranks
 * have none: each gets its run with the assignment, coord.h). */
static int share_order(sweep_state *s)
{
    int code = 0;
    if (s->rank == 0 && ntas_spec_set_runs(&s->spec, s->res.order, s->spec.n_runs, s->err, sizeof s->err) != 0) {
        code = NTAS_EXIT_FAILED;
        say_error(s, s->err);
    }
    return agree(code);
}

/* Phase 4: open the file for parallel writes; pretrain the CNN features once
 * per sweep, before any run (pretrain.h). */
static int open_and_pretrain(sweep_state *s)
{
    const ntas_sweep_options *o = s->o;
    if (ntas_store_open(&s->store, o->out, MPI_COMM_WORLD, s->err, sizeof s->err) != 0) {
        say_error(s, s->err);
        s->store = NULL;
        return NTAS_EXIT_FAILED;
    }
    ntas_pretrain_options popt = {.quiet = o->quiet, .lock = s->rank == 0 ? &s->lock : NULL,
                                  .stop_requested = ntas_coord_stop_requested};
    int pr = ntas_feature_cache_prepare(&s->features, s->pre, s->n_pre, (hid_t)ntas_store_hdf5_file(s->store),
                                        MPI_COMM_WORLD, &popt, s->err, sizeof s->err);
    if (pr == 0) return NTAS_EXIT_OK;
    char cerr[256];
    ntas_store_close(s->store, cerr, sizeof cerr);
    s->store = NULL;
    if (pr == 1) {
        if (s->rank == 0 && !o->quiet)
            fprintf(stderr, "ntasweep: stopped by a signal while pretraining; resume with ntasweep resume %s\n", o->out);
        return NTAS_EXIT_RESUMABLE;
    }
    if (s->rank == 0 || pr == -1) fprintf(stderr, "ntasweep: %s\n", s->err);
    return pr == 2 ? NTAS_EXIT_INPUT : NTAS_EXIT_FAILED;
}

/* Any rank failed: the first failing rank says why (a write or sync can
 * fail on one rank only). Nonzero on every rank then. */
static int report_first_failure(const sweep_state *s, int failed)
{
    int mine = failed ? s->rank : s->size, first = mine;
    if (MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS) first = failed ? s->rank : 0;
    if (first == s->size) return 0;
    if (s->rank == first && s->rank == 0) fprintf(stderr, "ntasweep: %s\n", s->err);
    else if (s->rank == first) fprintf(stderr, "ntasweep: rank %d: %s\n", s->rank, s->err);
    return -1;
}

/* Phase 5: hand the runs out (coord.h), close the file, report. */
static int run_queue(sweep_state *s)
{
    const ntas_sweep_options *o = s->o;
    if (s->rank == 0 && !o->quiet)
        fprintf(stderr, "ntasweep: %s%s: %d runs on %d rank%s -> %s\n", o->from_file ? "the sweep stored in " : "",
                o->from_file ? o->out : s->spec.path, s->spec.n_runs, s->size, s->size == 1 ? "" : "s", o->out);
    char activity[4200];
    snprintf(activity, sizeof activity, "%s.ranks", o->out);
    ntas_coord_options copt = {.quiet = o->quiet, .grace = o->grace, .flush_interval = o->flush,
                               .progress_interval = o->progress, .lock = s->rank == 0 ? &s->lock : NULL,
                               .features = &s->features, .activity_path = activity};
    ntas_sweep_summary sum;
    int rc = ntas_coord_run(&s->spec, s->res.status, s->store, MPI_COMM_WORLD, &copt, &sum, s->err, sizeof s->err);
    /* Every rank gets here and knows whether any rank failed (coord_run ends
     * in a collective). The final flush syncs the file (MPI_File_sync:
     * fsync), which H5Fclose does not: a failing sync means results that
     * may not be on the disk. After any failure the collective close could
     * hang (store.h: ntas_store_abandon). */
    char cerr[1024];
    if (rc == 0 && ntas_store_flush(s->store, cerr, sizeof cerr) != 0) {
        ntas_set_err(s->err, sizeof s->err, "%s: %s", o->out, cerr);
        rc = -1;
    }
    if (agree(rc != 0) != 0) {
        ntas_store_abandon(s->store);
    } else if (ntas_store_close(s->store, cerr, sizeof cerr) != 0) {
        ntas_set_err(s->err, sizeof s->err, "%s: %s", o->out, cerr);
        rc = -1;
    }
    s->store = NULL;
    if (report_first_failure(s, rc != 0) != 0) return NTAS_EXIT_FAILED;
    int code = NTAS_EXIT_OK;
    if (s->rank == 0) {
        int left = sum.abandoned + sum.not_started;
        if (!o->quiet)
            fprintf(stderr, "ntasweep: %d done, %d failed, %d already done before, %d left pending (%d abandoned mid-run) -> %s\n",
                    sum.done, sum.failed, sum.skipped, left, sum.abandoned, o->out);
        if (sum.stopped && left > 0) {
            code = NTAS_EXIT_RESUMABLE;
            if (!o->quiet)
                fprintf(stderr, "ntasweep: stopped by signal %d; resume with: ntasweep resume %s (or the same command again)\n",
                        sum.stopped, o->out);
        } else if (sum.failed > 0) {
            code = NTAS_EXIT_FAILED;
            if (!o->quiet) fprintf(stderr, "ntasweep: failed runs and why: ntasweep status %s\n", o->out);
        }
    }
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return code;
}

int ntas_sweep_run(const ntas_sweep_options *o)
{
    /* First of all: a stop signal during start-up must not kill the process
     * (SIGUSR1's default action), only stop the sweep before it begins. */
    ntas_coord_install_signal_handlers();
    ntas_h5_start();   /* before MPI_Init: no HDF5 hook in MPI_Finalize (h5util.h) */
    MPI_Init(NULL, NULL);
    ntas_mpi_errors_return(NULL, 0);   /* checked codes, not aborts: mpi_util.h */
    /* Runs are small; parallelism is across runs (MPI), not inside BLAS. */
    ntas_blas_set_threads(1);
    sweep_state s;
    memset(&s, 0, sizeof s);
    s.o = o;
    MPI_Comm_rank(MPI_COMM_WORLD, &s.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &s.size);
    ntas_cli_use_kernels(s.rank == 0); /* every rank chooses; one warns */

    int code = load_sweep(&s);
    if (code == NTAS_EXIT_OK) {
        if (s.rank == 0) code = prepare_file(&s);
        MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    }
    if (code == NTAS_EXIT_OK) code = share_order(&s);
    if (code == NTAS_EXIT_OK) code = open_and_pretrain(&s);
    if (code == NTAS_EXIT_OK) code = run_queue(&s);

    ntas_feature_cache_free(&s.features);
    free(s.pre);
    ntas_lock_release(&s.lock);
    ntas_resume_free(&s.res);
    if (s.spec_loaded) ntas_spec_free(&s.spec);
    if (ntas_h5_finish() != 0 && code == NTAS_EXIT_OK) code = NTAS_EXIT_FAILED;   /* a file not closed */
    MPI_Finalize();
    return code;
}
