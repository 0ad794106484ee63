/* test_coord — the coordinator (coord.h) under mpirun at 1 to 4 ranks, with
 * a fake training in place of the real one (ntas_coord_options.run_fn). The
 * fake fills every result of a run with values computed from the run's key,
 * takes STEPS steps and calls the poll hook after each, as the real loop
 * does. Each scenario writes a fresh results file through a real ntas_store:
 *   plain  every run is trained exactly once, on whichever rank, and its
 *          row holds its own values; status DONE everywhere; no flush round;
 *   skip   runs whose status is DONE before the sweep are never trained and
 *          counted as skipped; their rows stay untouched;
 *   fail   a run whose training fails is FAILED with its message, the others
 *          DONE;
 *   flush  with a tiny flush interval, rounds happen (every rank joins each:
 *          the same count everywhere), and mid-sweep, after a round that
 *          followed rank 0's first finished run, a separate process reads
 *          the open file: that row is DONE and every DONE row is right;
 *   stop   SIGUSR1 raised inside the training of run STOP_RUN, on whichever
 *          rank trains it; grace 0: it and every running run are abandoned
 *          (pending, nothing written), the rest not started, the finished
 *          rows stay DONE; with --long-grace the signal is raised in rank
 *          0's first run and every running run finishes (DONE), none is
 *          abandoned. The stop flag stays set for the process, so each
 *          process runs one stop scenario, last.
 * No timing assumption: where a test needs an event (a flush round, the
 * stop reaching a rank, rank 0's go), the fake keeps polling until it
 * happened, up to WAIT_LIMIT_S, and then fails saying what it waited for.
 *
 * Usage: test_coord [--long-grace]   (under mpirun, any number of ranks)
 *        test_coord --check-file INI H5 ROW   (the mid-sweep reader) */
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "ntasweep/config/spec.h"
#include "ntasweep/io/store.h"
#include "ntasweep/models/results.h"
#include "ntasweep/runner/coord.h"
#include "ntasweep/train/train.h"

extern char **environ;

#define N_RUNS 24
#define STEPS 20
#define STOP_RUN 6          /* stop scenario: the run whose training raises SIGUSR1 */
#define STOP_STEP 7         /* ... after this many steps */
#define FAIL_RUN 5          /* fail scenario: the run whose training fails */
#define WAIT_LIMIT_S 300.0  /* an awaited event that takes longer is a failure (ctest TIMEOUT 600) */
#define TAG_GO 77

static const char *SWEEP =
    "[sweep]\nname = coord_test\nreplicates = 24\n"
    "[params]\nd_in = 4\nd_out = 2\nbatch = 10\ndt = 0.01\nblock_len = 0.5\nn_blocks = 3\nrecord_every = 10\n"
    "tau_w = 1.3\n";

/* Under ASan (tests/sanitizer.sh) no leak check: the MPI library's own
 * allocations at exit are not ours (as in test_store). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=0";
}

enum { MODE_PLAIN, MODE_SKIP, MODE_FAIL, MODE_FLUSH, MODE_STOP, MODE_STOP_LONG_GRACE };

/* One rank's fake training and what it saw. */
typedef struct {
    int mode, rank, size;
    int ran[N_RUNS];                  /* times this rank was handed each run */
    int finished[N_RUNS];             /* runs this rank trained to the end (DONE or FAILED) */
    int runs_here;                    /* runs handed to this rank so far */
    const ntas_sweep_summary *sum;    /* this rank's summary: its flush rounds */
    MPI_Comm test_comm;               /* rank 0's go message, apart from the queue's messages */
    int uses_go, go;                  /* workers wait for rank 0's go; got it */
    int go_sent;                      /* rank 0 */
    MPI_Request go_req[64];
    const char *self, *ini, *h5;      /* rank 0: this program, the sweep and the results file */
    int first_finished;               /* rank 0: the first run it finished, -1 before */
    int mid_check;                    /* rank 0: the mid-sweep reader's exit status, -1 if not run */
} fake;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The value of cell i of result id of the run with this key: distinct across runs, results and cells. */
static double expected(uint64_t key, int id, size_t i)
{
    return (double)(key >> 24) + 1000.0 * id + 0.5 * (double)i;
}

static void fill(ntas_run_result *r, uint64_t key)
{
    for (int id = 0; id < NTAS_R_COUNT; id++) {
        size_t n = ntas_result_length(r, id);
        double *d = ntas_result_data(r, id);
        for (size_t i = 0; d && i < n; i++) d[i] = expected(key, id, i);
    }
}

/* Rank 0: lets every worker finish its runs (non-blocking sends, completed after the sweep). */
static void send_go(fake *f)
{
    static const int one = 1;
    for (int r = 1; r < f->size && !f->go_sent; r++)
        MPI_Isend(&one, 1, MPI_INT, r, TAG_GO, f->test_comm, &f->go_req[r - 1]);
    f->go_sent = 1;
}

static int got_go(fake *f)
{
    int flag = 0;
    if (!f->go) MPI_Iprobe(0, TAG_GO, f->test_comm, &flag, MPI_STATUS_IGNORE);
    if (flag) {
        int v;
        MPI_Recv(&v, 1, MPI_INT, 0, TAG_GO, f->test_comm, MPI_STATUS_IGNORE);
        f->go = 1;
    }
    return f->go;
}

/* Rank 0: reads the results file in a separate process while the sweep
 * still holds it open (what a reader, or a kill -9, sees). Its exit status. */
static int spawn_reader(const fake *f, int row)
{
    char row_text[16];
    snprintf(row_text, sizeof row_text, "%d", row);
    char *args[] = {(char *)f->self, "--check-file", (char *)f->ini, (char *)f->h5, row_text, NULL};
    pid_t pid;
    if (posix_spawn(&pid, f->self, NULL, NULL, args, environ) != 0) return 127;
    int st = 0;
    if (waitpid(pid, &st, 0) != pid) return 127;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* What a waiting fake waits for. */
typedef int (*condition_fn)(fake *f, int64_t since);

static int flush_after(fake *f, int64_t since) { return f->sum->flushes > since; }
static int go_received(fake *f, int64_t since) { (void)since; return got_go(f); }
static int never(fake *f, int64_t since) { (void)f; (void)since; return 0; }

/* Keeps polling until cond holds (0), poll asks to abandon the run (1), or
 * WAIT_LIMIT_S passed (-1 with err naming what). Sleeps a little between
 * polls to leave the core to other ranks; no time limit is assumed short. */
static int wait_polling(fake *f, condition_fn cond, int64_t arg, const char *what, ntas_poll_fn poll, void *poll_ctx,
                        char *err, size_t errlen)
{
    double t0 = now();
    while (!cond(f, arg)) {
        if (poll(poll_ctx, STEPS, STEPS)) return 1;
        if (now() - t0 > WAIT_LIMIT_S) {
            snprintf(err, errlen, "rank %d: waited %.0f s for %s", f->rank, WAIT_LIMIT_S, what);
            return -1;
        }
        nanosleep(&(struct timespec){0, 100000}, NULL);
    }
    return 0;
}

/* The flush scenario's waits after a run's steps (see the file comment):
 * no run finishes before its rank joined a flush round, so no worker can
 * run out of work before the first round; rank 0's second run waits for a
 * round after its first finished and then has the file read; workers
 * finish nothing before that (rank 0's go), so every worker is still
 * taking work and the round can happen. */
static int flush_waits(fake *f, int nth, ntas_poll_fn poll, void *poll_ctx, char *err, size_t errlen)
{
    int64_t at_start = f->sum->flushes;
    int rc = wait_polling(f, flush_after, 0, "a first flush round", poll, poll_ctx, err, errlen);
    if (rc == 0 && f->rank == 0 && nth == 2 && f->first_finished >= 0) {
        rc = wait_polling(f, flush_after, at_start, "a flush round after rank 0's first run", poll, poll_ctx, err,
                          errlen);
        if (rc == 0) {
            f->mid_check = spawn_reader(f, f->first_finished);
            send_go(f);
        }
    }
    if (rc == 0 && f->rank != 0) rc = wait_polling(f, go_received, 0, "rank 0's go", poll, poll_ctx, err, errlen);
    return rc;
}

/* ntas_coord_run_fn: the fake training of run `index`. */
static int fake_train(void *ctx, int index, const ntas_run *run, ntas_run_result *r, ntas_poll_fn poll,
                      void *poll_ctx, char *err, size_t errlen)
{
    fake *f = ctx;
    if (index < 0 || index >= N_RUNS) {
        snprintf(err, errlen, "run index %d out of range", index);
        return -1;
    }
    f->ran[index]++;
    int nth = ++f->runs_here;
    fill(r, run->key);
    int raises = (f->mode == MODE_STOP && index == STOP_RUN) ||
                 (f->mode == MODE_STOP_LONG_GRACE && f->rank == 0 && nth == 1);
    for (int64_t step = 1; step <= STEPS; step++) {
        if (raises && step == STOP_STEP) {
            raise(SIGUSR1);
            if (f->mode == MODE_STOP_LONG_GRACE) send_go(f);
        }
        if (poll(poll_ctx, step, STEPS)) return 1;
    }
    int rc = 0;
    if (f->mode == MODE_FLUSH) rc = flush_waits(f, nth, poll, poll_ctx, err, errlen);
    /* Runs after STOP_RUN last until the stop abandons them (grace 0). */
    if (f->mode == MODE_STOP && index > STOP_RUN)
        rc = wait_polling(f, never, 0, "the stop to abandon the run", poll, poll_ctx, err, errlen);
    /* Long grace: workers start nothing before rank 0 raised the signal. */
    if (f->mode == MODE_STOP_LONG_GRACE && f->rank != 0)
        rc = wait_polling(f, go_received, 0, "rank 0's go", poll, poll_ctx, err, errlen);
    if (rc != 0) return rc;
    r->status = NTAS_STATUS_DONE;
    if (f->mode == MODE_FAIL && index == FAIL_RUN) {
        r->status = NTAS_STATUS_FAILED;
        snprintf(r->message, sizeof r->message, "fake divergence in run %d", index);
    }
    f->finished[index] = 1;
    if (f->rank == 0 && f->first_finished < 0) f->first_finished = index;
    return 0;
}

/* Reads run `row`'s slab of dataset name into buf (n values). 0, or -1. */
static int read_row(hid_t file, const char *name, int row, double *buf, size_t n)
{
    int rc = -1;
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT), fs = H5I_INVALID_HID, ms = H5I_INVALID_HID;
    hsize_t dims[5] = {0}, start[5] = {0}, count[5];
    if (d < 0 || (fs = H5Dget_space(d)) < 0) goto out;
    int nd = H5Sget_simple_extent_dims(fs, dims, NULL);
    if (nd < 1 || nd > 5) goto out;
    size_t cells = 1;
    for (int i = 1; i < nd; i++) cells *= dims[i];
    if (cells != n) goto out;
    start[0] = (hsize_t)row;
    count[0] = 1;
    for (int i = 1; i < nd; i++) count[i] = dims[i];
    hsize_t total = (hsize_t)cells;
    if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
        (ms = H5Screate_simple(1, &total, NULL)) >= 0 && H5Dread(d, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, buf) >= 0)
        rc = 0;
out:
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    if (d >= 0) H5Dclose(d);
    return rc;
}

/* Whether row `row` of every result the runs record holds the values of the
 * run with this key (want_written), or is all NaN (not written). */
static int row_is(hid_t file, const ntas_run_result *shape, int row, uint64_t key, int want_written)
{
    int ok = 1;
    for (int id = 0; id < NTAS_R_COUNT && ok; id++) {
        size_t n = ntas_result_length(shape, id);
        if (!n) continue;
        double *got = malloc(n * sizeof *got);
        ok = got && read_row(file, ntas_results[id].dataset, row, got, n) == 0;
        for (size_t i = 0; ok && i < n; i++) ok = want_written ? got[i] == expected(key, id, i) : isnan(got[i]);
        if (!ok) fprintf(stderr, "row %d of %s is not %s\n", row, ntas_results[id].dataset,
                         want_written ? "its run's values" : "NaN (unwritten)");
        free(got);
    }
    return ok;
}

/* What a results file holds: its run table and every row checked against
 * its status (DONE: the run's values; with check_pending, PENDING:
 * unwritten). Returns how many rows disagree, or -1 if the file cannot be
 * read. */
static int file_rows(const char *path, const ntas_spec *spec, ntas_store_info *info, int check_pending)
{
    char err[1024];
    if (ntas_store_inspect(path, info, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    ntas_run_result shape;
    memset(&shape, 0, sizeof shape);
    err[0] = '\0';
    hid_t file = H5I_INVALID_HID;
    int bad = -1;
    if (info->n_runs == N_RUNS && ntas_run_result_init(&shape, &spec->runs[0].params, err, sizeof err) == 0 &&
        (file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) >= 0) {
        bad = 0;
        for (int i = 0; i < N_RUNS; i++) {
            if (info->status[i] == NTAS_STATUS_DONE) bad += !row_is(file, &shape, i, info->keys[i], 1);
            else if (check_pending && info->status[i] == NTAS_STATUS_PENDING)
                bad += !row_is(file, &shape, i, info->keys[i], 0);
        }
    }
    if (file >= 0) H5Fclose(file);
    ntas_run_result_free(&shape);
    if (bad < 0) {
        fprintf(stderr, "%s: %d runs (want %d), or unreadable: %s\n", path, info->n_runs, N_RUNS, err);
        ntas_store_info_free(info);   /* the caller frees info only when bad >= 0 */
    }
    return bad;
}

/* --check-file INI H5 ROW: the mid-sweep reader (a process of its own). */
static int check_file_main(const char *ini, const char *h5, int row)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    char err[1024];
    ntas_spec spec;
    if (ntas_spec_load(&spec, ini, NULL, 0, err, sizeof err) != 0) {
        fprintf(stderr, "reader: %s\n", err);
        return 2;
    }
    ntas_store_info info;
    memset(&info, 0, sizeof info);
    int bad = file_rows(h5, &spec, &info, 0);   /* a pending row may be mid-write */
    int rc = bad != 0;
    if (bad > 0) fprintf(stderr, "reader: %d rows of the open file disagree with their status\n", bad);
    if (bad >= 0 && info.status[row] != NTAS_STATUS_DONE) {
        fprintf(stderr, "reader: row %d, finished before a flush round, is not DONE\n", row);
        rc = 1;
    }
    if (bad >= 0) ntas_store_info_free(&info);
    ntas_spec_free(&spec);
    return rc;
}

/* What every rank shares. */
typedef struct {
    int rank, size;
    char dir[64], ini[128];
    const char *self;
    ntas_spec spec;        /* rank 0: with the run table; workers: without (as ntasweep's) */
    MPI_Comm test_comm;
} context;

/* One sweep's outcome. */
typedef struct {
    int rc;                          /* ntas_coord_run's, this rank */
    char err[1024];
    ntas_sweep_summary sum;          /* this rank's */
    int ran[N_RUNS], finished[N_RUNS];   /* rank 0: summed over the ranks */
    int flushes_min, flushes_max;    /* over the ranks */
    ntas_store_info info;            /* rank 0: the file after the sweep */
    int bad_rows;                    /* rank 0: rows that disagree with their status */
    int mid_check;                   /* rank 0: the mid-sweep reader's exit status, -1 if not run */
    int n_done_rows;                 /* rank 0: rows DONE in the file */
} outcome;

/* Runs one sweep of the scenario `mode` into a fresh file DIR/NAME.h5. */
static void run_sweep(context *cx, int mode, const char *name, double grace, double flush_interval,
                      const int8_t *status, outcome *o)
{
    char h5[192], err[1024] = "";
    snprintf(h5, sizeof h5, "%s/%s.h5", cx->dir, name);
    memset(o, 0, sizeof *o);
    o->bad_rows = -1;
    fake f = {.mode = mode, .rank = cx->rank, .size = cx->size, .sum = &o->sum, .test_comm = cx->test_comm,
              .uses_go = mode == MODE_FLUSH || mode == MODE_STOP_LONG_GRACE, .self = cx->self, .ini = cx->ini,
              .h5 = h5, .first_finished = -1, .mid_check = -1};
    int created = 0;
    if (cx->rank == 0) {
        created = ntas_store_create(h5, &cx->spec, NULL, 0, err, sizeof err) == 0;
        CHECK_MSG(created, "%s: %s", name, err);
    }
    MPI_Bcast(&created, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (!created) return;
    ntas_store *st = NULL;
    int opened = ntas_store_open(&st, h5, MPI_COMM_WORLD, err, sizeof err) == 0;
    CHECK_MSG(opened, "%s: %s", name, err);
    if (!opened) return;
    ntas_coord_options opt = {.quiet = 1, .grace = grace, .flush_interval = flush_interval,
                              .progress_interval = 1e9, .run_fn = fake_train, .run_fn_ctx = &f};
    if (cx->rank == 0 && cx->size > NTAS_COORD_RANK0_COMPUTES) send_go(&f);   /* rank 0 trains nothing */
    o->rc = ntas_coord_run(&cx->spec, status, st, MPI_COMM_WORLD, &opt, &o->sum, o->err, sizeof o->err);
    CHECK_MSG(o->rc == 0, "%s: rank %d: ntas_coord_run: %s", name, cx->rank, o->err);
    if (f.uses_go && cx->rank == 0) {
        send_go(&f);   /* if it was not sent yet */
        MPI_Waitall(cx->size - 1, f.go_req, MPI_STATUSES_IGNORE);
    } else if (f.uses_go && !f.go) {
        int v;
        MPI_Recv(&v, 1, MPI_INT, 0, TAG_GO, cx->test_comm, MPI_STATUS_IGNORE);
    }
    CHECK_MSG(ntas_store_close(st, err, sizeof err) == 0, "%s: %s", name, err);
    MPI_Reduce(f.ran, o->ran, N_RUNS, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Reduce(f.finished, o->finished, N_RUNS, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Allreduce(&o->sum.flushes, &o->flushes_min, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&o->sum.flushes, &o->flushes_max, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (cx->rank != 0) return;
    o->mid_check = f.mid_check;
    o->bad_rows = file_rows(h5, &cx->spec, &o->info, 1);
    CHECK_MSG(o->bad_rows == 0, "%s: %d rows disagree with their status", name, o->bad_rows);
    for (int i = 0; o->bad_rows >= 0 && i < N_RUNS; i++) o->n_done_rows += o->info.status[i] == NTAS_STATUS_DONE;
}

static void outcome_free(outcome *o)
{
    if (o->bad_rows >= 0) ntas_store_info_free(&o->info);
    o->bad_rows = -1;
}

/* Rank 0: every run trained exactly once (skip: never where done before)
 * and its row DONE, the summary saying so. */
static void check_every_run_once(const outcome *o, const char *name, const int8_t *status)
{
    int want_done = 0;
    for (int i = 0; i < N_RUNS; i++) {
        int before = status[i] == NTAS_STATUS_DONE;
        want_done += !before;
        CHECK_MSG(o->ran[i] == !before, "%s: run %d trained %d times", name, i, o->ran[i]);
        if (o->bad_rows >= 0)
            CHECK_MSG(o->info.status[i] == (before ? NTAS_STATUS_PENDING : NTAS_STATUS_DONE),
                      "%s: run %d has status %d in the file", name, i, o->info.status[i]);
    }
    CHECK_MSG(o->sum.done == want_done && o->sum.failed == 0, "%s: done %d failed %d", name, o->sum.done,
              o->sum.failed);
    CHECK_MSG(o->sum.skipped == N_RUNS - want_done, "%s: skipped %d", name, o->sum.skipped);
    CHECK(o->sum.abandoned == 0 && o->sum.not_started == 0 && o->sum.stopped == 0);
}

static void scenario_plain(context *cx)
{
    int8_t status[N_RUNS] = {0};
    outcome o;
    run_sweep(cx, MODE_PLAIN, "plain", 10, 0, status, &o);
    CHECK_MSG(o.flushes_max == 0, "plain: %d flush rounds without a flush interval", o.flushes_max);
    if (cx->rank == 0) check_every_run_once(&o, "plain", status);
    outcome_free(&o);
}

static void scenario_skip(context *cx)
{
    int8_t status[N_RUNS] = {0};
    for (int i = 0; i < N_RUNS; i += 3) status[i] = NTAS_STATUS_DONE;
    outcome o;
    run_sweep(cx, MODE_SKIP, "skip", 10, 0, status, &o);
    if (cx->rank == 0) check_every_run_once(&o, "skip", status);
    outcome_free(&o);
}

static void scenario_fail(context *cx)
{
    int8_t status[N_RUNS] = {0};
    outcome o;
    run_sweep(cx, MODE_FAIL, "fail", 10, 0, status, &o);
    if (cx->rank == 0) {
        CHECK_MSG(o.sum.done == N_RUNS - 1 && o.sum.failed == 1, "fail: done %d failed %d", o.sum.done,
                  o.sum.failed);
        for (int i = 0; i < N_RUNS; i++) CHECK_MSG(o.ran[i] == 1, "fail: run %d trained %d times", i, o.ran[i]);
        if (o.bad_rows >= 0) {
            CHECK(o.n_done_rows == N_RUNS - 1);
            CHECK(o.info.status[FAIL_RUN] == NTAS_STATUS_FAILED);
            const char *msg = o.info.messages + (size_t)FAIL_RUN * NTAS_MESSAGE_LEN;
            CHECK_MSG(!strcmp(msg, "fake divergence in run 5"), "fail: message \"%s\"", msg);
        }
    }
    outcome_free(&o);
}

static void scenario_flush(context *cx)
{
    int8_t status[N_RUNS] = {0};
    outcome o;
    run_sweep(cx, MODE_FLUSH, "flush", 10, 1e-3, status, &o);
    CHECK_MSG(o.flushes_min > 0 && o.flushes_min == o.flushes_max,
              "flush: flush rounds per rank from %d to %d (every rank joins every round)", o.flushes_min,
              o.flushes_max);
    if (cx->rank == 0) {
        check_every_run_once(&o, "flush", status);
        if (cx->size <= NTAS_COORD_RANK0_COMPUTES)
            CHECK_MSG(o.mid_check == 0, "flush: the mid-sweep reader exited with %d", o.mid_check);
        else printf("flush: rank 0 trains nothing at %d ranks: no mid-sweep read\n", cx->size);
    }
    outcome_free(&o);
}

/* Rank 0, after a stop: nothing lost (every run done, abandoned or not
 * started), no run trained twice, only finished runs DONE in the file. */
static void check_stopped(const outcome *o, const char *name)
{
    int started = 0, finished = 0;
    for (int i = 0; i < N_RUNS; i++) {
        CHECK_MSG(o->ran[i] <= 1, "%s: run %d trained %d times", name, i, o->ran[i]);
        started += o->ran[i] > 0;
        finished += o->finished[i] > 0;
        if (o->bad_rows >= 0)
            CHECK_MSG(o->info.status[i] == (o->finished[i] ? NTAS_STATUS_DONE : NTAS_STATUS_PENDING),
                      "%s: run %d (finished %d) has status %d", name, i, o->finished[i], o->info.status[i]);
    }
    CHECK_MSG(o->sum.stopped == SIGUSR1, "%s: stopped = %d", name, o->sum.stopped);
    CHECK_MSG(o->sum.done == finished && o->sum.failed == 0 && o->sum.skipped == 0, "%s: done %d of %d finished",
              name, o->sum.done, finished);
    CHECK_MSG(o->sum.abandoned == started - finished, "%s: abandoned %d, started %d, finished %d", name,
              o->sum.abandoned, started, finished);
    CHECK_MSG(o->sum.not_started == N_RUNS - started, "%s: not started %d, started %d", name, o->sum.not_started,
              started);
    CHECK(o->n_done_rows == finished);
}

/* Grace 0: SIGUSR1 in run STOP_RUN's training, on whichever rank trains it;
 * later runs last until the stop abandons them, so at most one per other
 * rank starts. */
static void scenario_stop(context *cx)
{
    int8_t status[N_RUNS] = {0};
    outcome o;
    run_sweep(cx, MODE_STOP, "stop", 0, 0, status, &o);
    CHECK_MSG(o.sum.stopped == SIGUSR1, "stop: rank %d: stopped = %d", cx->rank, o.sum.stopped);
    if (cx->rank == 0) {
        check_stopped(&o, "stop");
        CHECK_MSG(o.ran[STOP_RUN] == 1 && o.finished[STOP_RUN] == 0, "stop: the signalled run was not abandoned");
        CHECK(o.sum.abandoned >= 1);
        for (int i = STOP_RUN; i < N_RUNS; i++) CHECK_MSG(!o.finished[i], "stop: run %d finished", i);
        CHECK_MSG(o.sum.not_started >= N_RUNS - (STOP_RUN + 1) - (cx->size - 1), "stop: only %d runs not started",
                  o.sum.not_started);
    }
    outcome_free(&o);
}

/* A long grace: SIGUSR1 in rank 0's first run; workers finish nothing
 * before it, so at most one run per rank starts, and every started run
 * finishes. */
static void scenario_stop_long_grace(context *cx)
{
    if (cx->size > NTAS_COORD_RANK0_COMPUTES) {
        if (cx->rank == 0) printf("stop (long grace): rank 0 trains nothing at %d ranks: not run\n", cx->size);
        return;
    }
    int8_t status[N_RUNS] = {0};
    outcome o;
    run_sweep(cx, MODE_STOP_LONG_GRACE, "stop_long_grace", 1e6, 0, status, &o);
    CHECK_MSG(o.sum.stopped == SIGUSR1, "stop (long grace): rank %d: stopped = %d", cx->rank, o.sum.stopped);
    if (cx->rank == 0) {
        check_stopped(&o, "stop (long grace)");
        CHECK_MSG(o.sum.abandoned == 0, "stop (long grace): %d runs abandoned", o.sum.abandoned);
        CHECK_MSG(o.sum.not_started >= N_RUNS - cx->size, "stop (long grace): only %d runs not started",
                  o.sum.not_started);
        CHECK(o.sum.done >= 1);
    }
    outcome_free(&o);
}

static int setup(context *cx)
{
    char err[1024];
    int ok = 1;
    if (cx->rank == 0) {
        snprintf(cx->dir, sizeof cx->dir, "/tmp/ntasweep-coord.XXXXXX");
        ok = mkdtemp(cx->dir) != NULL;
        snprintf(cx->ini, sizeof cx->ini, "%s/coord.ini", cx->dir);
        FILE *f = ok ? fopen(cx->ini, "w") : NULL;
        ok = f && fputs(SWEEP, f) >= 0;
        if (f && fclose(f) != 0) ok = 0;
        if (!ok) perror("test_coord: temporary sweep file");
    }
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Bcast(cx->dir, sizeof cx->dir, MPI_CHAR, 0, MPI_COMM_WORLD);
    MPI_Bcast(cx->ini, sizeof cx->ini, MPI_CHAR, 0, MPI_COMM_WORLD);
    if (!ok) return -1;
    int loaded = cx->rank == 0 ? ntas_spec_load(&cx->spec, cx->ini, NULL, 0, err, sizeof err) == 0
                               : ntas_spec_load_text(&cx->spec, cx->ini, NULL, 0, err, sizeof err) == 0;
    CHECK_MSG(loaded, "%s", err);
    if (loaded && cx->rank == 0) CHECK_MSG(cx->spec.n_runs == N_RUNS, "%d runs", cx->spec.n_runs);
    int all = 0;
    MPI_Allreduce(&loaded, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return all && !check_failed_ ? 0 : -1;
}

static void remove_files(const context *cx)
{
    static const char *names[] = {"plain", "skip", "fail", "flush", "stop", "stop_long_grace"};
    char path[192];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(path, sizeof path, "%s/%s.h5", cx->dir, names[i]);
        remove(path);
    }
    remove(cx->ini);
    remove(cx->dir);
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "--check-file")) return check_file_main(argv[2], argv[3], atoi(argv[4]));
    int long_grace = argc == 2 && !strcmp(argv[1], "--long-grace");
    if (argc > 1 && !long_grace) {
        fprintf(stderr, "usage: test_coord [--long-grace]\n");
        return 2;
    }
    MPI_Init(&argc, &argv);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    context cx;
    memset(&cx, 0, sizeof cx);
    cx.self = argv[0];
    MPI_Comm_rank(MPI_COMM_WORLD, &cx.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &cx.size);
    if (cx.size > 65) {   /* fake.go_req holds one request per worker */
        if (cx.rank == 0) fprintf(stderr, "test_coord: at most 65 ranks\n");
        MPI_Finalize();
        return 2;
    }
    MPI_Comm_dup(MPI_COMM_WORLD, &cx.test_comm);
    ntas_coord_install_signal_handlers();
    if (setup(&cx) == 0) {
        scenario_plain(&cx);
        scenario_skip(&cx);
        scenario_fail(&cx);
        scenario_flush(&cx);
        /* The stop flag stays set for the process: one stop scenario, last. */
        if (long_grace) scenario_stop_long_grace(&cx);
        else scenario_stop(&cx);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (cx.rank == 0 && cx.dir[0]) remove_files(&cx);
    ntas_spec_free(&cx.spec);
    MPI_Comm_free(&cx.test_comm);
    int rc = CHECK_DONE();
    MPI_Finalize();
    return rc;
}
