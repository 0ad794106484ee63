/* coord — dynamic MPI queue. See coord.h.
 *
 * Protocol. A worker sends TAG_REQUEST {previous run, its status, stopping,
 * progress messages sent}
 * and then waits for rank 0's messages, in order: TAG_FLUSH (join a
 * collective flush now), TAG_STOP (a stop signal arrived: start the grace
 * time) and finally TAG_ASSIGN {run index, the run itself}, index -1 meaning
 * "no more work". Sending the run (its parameters and key, ~350 bytes) means
 * a worker never holds the run table: its memory does not grow with the
 * sweep. While it trains, its poll hook looks for TAG_FLUSH and TAG_STOP too,
 * so a flush round waits at most one poll interval for any rank, and at
 * most once a second it sends TAG_PROGRESS {run index, steps done, steps}
 * so rank 0 can show how far each run is (terminal line, OUT.h5.ranks).
 * Its next request carries how many progress messages it sent so far:
 * rank 0 receives all of them before answering, so none is left behind.
 *
 * Rank 0 serves requests from a probe loop that sleeps only when nothing is
 * waiting. With up to NTAS_COORD_RANK0_COMPUTES ranks it also computes,
 * serving between the steps of its own runs (a rank of 2 or 3 is too much
 * to leave idle); with more, answering at once matters more than one more
 * worker (docs/scale.md has the measurements). Flush rounds happen only
 * while every worker is still taking work, so every rank can join them.
 *
 * MPI errors. The queue runs on its own duplicate of the caller's
 * communicator with MPI_ERRORS_RETURN: every call's code is checked and a
 * failure is reported with MPI_Error_string and the call that failed. The
 * ranks cannot agree on anything once their communicator failed, so that
 * rank then ends the job with MPI_Abort (the only way out that cannot hang);
 * runs flagged done in the file stay valid and the same command resumes.
 *
 * Signals only set a flag (the one piece of global state here, as a signal
 * handler needs); everything else happens in the poll hooks. */
#include "ntasweep/runner/coord.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ntasweep/config/params.h"
#include "ntasweep/runner/cost.h"
#include "ntasweep/train/train.h"

enum { TAG_REQUEST = 1, TAG_ASSIGN = 2, TAG_FLUSH = 3, TAG_STOP = 4, TAG_PROGRESS = 5 };
#define PROGRESS_EVERY_S 1.0   /* a worker's progress messages at most this often */
#define WORKER_ERROR (-2)

/* What rank 0 sends a worker: the file's index of the run, or -1 for "no
 * more work", and the run (same binary on every rank: sent as bytes). */
typedef struct {
    int index;
    ntas_run run;
} assignment;

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

void ntas_coord_install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void sleep_us(long us)
{
    nanosleep(&(struct timespec){0, us * 1000}, NULL);
}

int ntas_coord_stop_requested(void)
{
    return stop_signal != 0;
}

/* State shared by both roles. */
typedef struct {
    const ntas_spec *spec;
    const ntas_coord_options *opt;
    ntas_store *store;
    MPI_Comm comm;         /* the queue's own, with MPI_ERRORS_RETURN */
    int rank, size;
    int stopping;          /* a stop signal is in effect */
    double t_stop;
    int error;             /* a flush failed */
    int mpi_failed;        /* an MPI call failed: the job must end */
    char *err;
    size_t errlen;
    ntas_sweep_summary *sum;
    /* rank 0 only */
    int *pending;          /* run indices, longest first */
    double *cost;          /* [n_runs] */
    int n_pending, next;
    int *active;           /* [size]: worker still taking work */
    int workers_left, worker_error;
    double t_start, t_last_report, t_last_flush, t_last_activity, cost_total, cost_done;
    int tty;
    int *running;          /* [size]: run index each rank is training, -1 if none */
    double *since;         /* [size]: when it started */
    int64_t *step, *steps; /* [size]: steps done (0: not heard yet) and steps of its run */
    double *t_step;        /* [size]: when step was heard */
    int *progress_recv;    /* [size]: progress messages received from each rank */
    /* workers only */
    double t_last_progress;
    int progress_sent, run_index;
    /* every rank */
    int varied[128];       /* keys that vary over the sweep (rank 0 finds them, all ranks get them) */
} coord;

/* "case=... k=v ..." of the keys that vary over the sweep, for one run. */
static void varied_text(const coord *c, const ntas_run *run, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    if (run->case_name[0]) used += (size_t)snprintf(buf, len, "case=%s", run->case_name);
    for (int k = 0; k < ntas_param_count && k < 128 && used < len; k++) {
        if (!c->varied[k]) continue;
        char v[128];
        ntas_param_format(&ntas_param_table[k], &run->params, v, sizeof v);
        used += (size_t)snprintf(buf + used, len - used, "%s%s=%s", used ? " " : "", ntas_param_table[k].key, v);
    }
}

/* Rank 0 (which holds the run table): which keys vary. */
static void find_varied(coord *c)
{
    const ntas_spec *s = c->spec;
    for (int k = 0; k < ntas_param_count && k < 128 && s->runs && s->n_runs > 0; k++) {
        char a[128], b[128];
        ntas_param_format(&ntas_param_table[k], &s->runs[0].params, a, sizeof a);
        for (int i = 1; i < s->n_runs && !c->varied[k]; i++) {
            ntas_param_format(&ntas_param_table[k], &s->runs[i].params, b, sizeof b);
            c->varied[k] = strcmp(a, b) != 0;
        }
    }
}

/* Checks one MPI call's return code; on failure writes which call failed
 * and MPI's own description into err and marks the queue broken. */
static int mpi_check(coord *c, int code, const char *call)
{
    if (code == MPI_SUCCESS) return 0;
    char what[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    if (MPI_Error_string(code, what, &len) != MPI_SUCCESS) snprintf(what, sizeof what, "MPI error code %d", code);
    if (!c->mpi_failed) snprintf(c->err, c->errlen, "rank %d: %s failed: %s", c->rank, call, what);
    c->mpi_failed = 1;
    return -1;
}

static int send_empty(coord *c, int to, int tag, const char *call)
{
    return mpi_check(c, MPI_Send(NULL, 0, MPI_INT, to, tag, c->comm), call);
}

/* Rank 0: seconds left of rank r's run at time t from its pace so far
 * (steps done by t_step), or -1 before its first progress. */
static double run_eta(const coord *c, int r, double t)
{
    if (c->step[r] <= 0 || c->t_step[r] <= c->since[r]) return -1;
    double pace = (c->t_step[r] - c->since[r]) / (double)c->step[r];
    double left = pace * (double)(c->steps[r] - c->step[r]) - (t - c->t_step[r]);
    return left > 0 ? left : 0;
}

/* Rank 0: writes what each rank is training to opt->activity_path (every
 * 2 s; written beside and renamed, so `status` never reads half a file). */
static void write_activity(coord *c, int force)
{
    const char *path = c->opt->activity_path;
    double t = now();
    if (!path || !c->running || (!force && t - c->t_last_activity < 2.0)) return;
    c->t_last_activity = t;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return;   /* only a display for `status`: never fails the sweep */
    fprintf(f, "{\"ranks\": [");
    for (int r = 0; r < c->size; r++) {
        int i = c->running[r];
        fprintf(f, "%s\n  {\"rank\": %d, \"run\": ", r ? "," : "", r);
        if (i < 0) { fprintf(f, "null}"); continue; }
        char v[1024];
        varied_text(c, &c->spec->runs[i], v, sizeof v);
        struct timespec wall;
        clock_gettime(CLOCK_REALTIME, &wall);
        double started = (double)wall.tv_sec + 1e-9 * (double)wall.tv_nsec - (t - c->since[r]);
        fprintf(f, "%d, \"params\": \"%s\", \"started\": %.1f, \"estimated_s\": %.3g, \"step\": %lld, \"steps\": %lld, "
                   "\"eta_s\": ", i, v, started, c->cost[i] * ntas_cost_seconds_per_unit(), (long long)c->step[r],
                (long long)c->steps[r]);
        double eta = run_eta(c, r, t);
        if (eta >= 0) fprintf(f, "%.3g}", eta);
        else fprintf(f, "null}");
    }
    fprintf(f, "\n]}\n");
    if (fclose(f) != 0 || rename(tmp, path) != 0) remove(tmp);
}

static void set_running(coord *c, int rank, int index)
{
    if (!c->running) return;
    c->running[rank] = index;
    c->since[rank] = c->t_step[rank] = now();
    c->step[rank] = 0;
    c->steps[rank] = index < 0 ? 0
                               : ntas_params_steps_per_block(&c->spec->runs[index].params) *
                                     c->spec->runs[index].params.n_blocks;
    write_activity(c, 1);
}

static void begin_stop(coord *c, int sig)
{
    if (c->stopping) return;
    c->stopping = 1;
    c->t_stop = now();
    if (!c->sum->stopped) c->sum->stopped = sig;
    if (c->rank == 0) {
        if (!c->opt->quiet)
            fprintf(stderr, "\nntasweep: stop requested (signal %d): no new runs; running ones get %.0f s to finish\n",
                    sig, c->opt->grace);
        for (int r = 1; r < c->size && !c->mpi_failed; r++)
            if (c->active[r]) send_empty(c, r, TAG_STOP, "MPI_Send(stop)");
    }
}

static void flush(coord *c)
{
    char e[256];
    if (ntas_store_flush(c->store, e, sizeof e) != 0) {
        c->error = 1;
        snprintf(c->err, c->errlen, "%s", e);
    }
    c->sum->flushes++;
}

static void report(coord *c, int force)
{
    double t = now();
    double every = c->tty ? 1.0 : c->opt->progress_interval;
    if (c->opt->quiet || (!force && t - c->t_last_report < every)) return;
    c->t_last_report = t;
    int finished = c->sum->done + c->sum->failed;
    int total = c->n_pending;
    double elapsed = t - c->t_start > 1e-9 ? t - c->t_start : 1e-9;
    char eta[32] = "?";
    /* Work done: finished runs, and the share of their steps running runs have done. */
    double done = c->cost_done;
    for (int r = 0; c->running && r < c->size; r++)
        if (c->running[r] >= 0 && c->steps[r] > 0)
            done += c->cost[c->running[r]] * (double)c->step[r] / (double)c->steps[r];
    if (finished == total) snprintf(eta, sizeof eta, "0 s");
    else if (done > 0) {
        double s = (c->cost_total - done) / (done / elapsed);
        if (s < 120) snprintf(eta, sizeof eta, "%.0f s", s);
        else if (s < 7200) snprintf(eta, sizeof eta, "%.1f min", s / 60);
        else snprintf(eta, sizeof eta, "%.1f h", s / 3600);
    }
    /* Within long runs: the oldest running run, its steps and time left
     * (its time against its estimate until its rank reported a step). */
    char within[128] = "";
    int oldest = -1;
    for (int r = 0; c->running && r < c->size; r++)
        if (c->running[r] >= 0 && (oldest < 0 || c->since[r] < c->since[oldest])) oldest = r;
    double left = oldest >= 0 ? run_eta(c, oldest, t) : -1;
    if (oldest >= 0 && t - c->since[oldest] > 5 && left >= 0)
        snprintf(within, sizeof within, "; run %d: step %lld/%lld, ETA %.0f s", c->running[oldest],
                 (long long)c->step[oldest], (long long)c->steps[oldest], left);
    else if (oldest >= 0 && t - c->since[oldest] > 5)
        snprintf(within, sizeof within, "; run %d on rank %d: %.0f s of ~%.0f s", c->running[oldest], oldest,
                 t - c->since[oldest], c->cost[c->running[oldest]] * ntas_cost_seconds_per_unit());
    fprintf(stderr, "%sntasweep: %d/%d runs (%d failed, %d done before), %.2f runs/s, ETA %s%s%s",
            c->tty ? "\r" : "", finished, total, c->sum->failed, c->sum->skipped, finished / elapsed, eta, within,
            c->tty && !force ? "   " : "\n");
}

static void count(coord *c, int index, int status)
{
    if (index < 0) return;
    if (status == NTAS_STATUS_PENDING) {
        c->sum->abandoned++;
        return;
    }
    c->cost_done += c->cost[index];
    if (status == NTAS_STATUS_DONE) c->sum->done++;
    else c->sum->failed++;   /* the rank that ran it said why (do_run) */
    report(c, 0);
}

/* Rank 0: steps done by rank r's run (a progress message, or its own poll). */
static void note_step(coord *c, int r, int index, int64_t step, int64_t steps)
{
    if (!c->running || c->running[r] != index) return;   /* a run it has finished since */
    c->step[r] = step;
    c->steps[r] = steps;
    c->t_step[r] = now();
}

/* Rank 0: receives one progress message of rank `from` (blocking: the
 * caller knows it was sent). */
static int receive_progress(coord *c, int from)
{
    int64_t msg[3];
    if (mpi_check(c, MPI_Recv(msg, 3, MPI_INT64_T, from, TAG_PROGRESS, c->comm, MPI_STATUS_IGNORE),
                  "MPI_Recv(progress)"))
        return -1;
    c->progress_recv[from]++;
    note_step(c, from, (int)msg[0], msg[1], msg[2]);
    return 0;
}

/* Rank 0: one worker's request: counts its last run, answers with the next. */
static int answer(coord *c, int from, const int *msg)
{
    /* Every progress message it sent before this request first (msg[3] counts them). */
    while (c->progress_recv[from] < msg[3])
        if (receive_progress(c, from)) return -1;
    if (msg[2]) begin_stop(c, msg[2]);
    if (msg[1] == WORKER_ERROR) {
        c->worker_error = 1;
        c->workers_left--;
        c->active[from] = 0;
        return 0;
    }
    count(c, msg[0], msg[1]);
    assignment a;
    memset(&a, 0, sizeof a);
    a.index = !c->stopping && !c->worker_error && c->next < c->n_pending ? c->pending[c->next++] : -1;
    set_running(c, from, a.index);
    if (a.index < 0) {
        c->workers_left--;
        c->active[from] = 0;
    } else {
        a.run = c->spec->runs[a.index];
    }
    return mpi_check(c, MPI_Send(&a, (int)sizeof a, MPI_BYTE, from, TAG_ASSIGN, c->comm), "MPI_Send(assignment)");
}

/* Rank 0: answers every request already waiting; starts flush rounds and
 * stops; keeps the lock fresh. Returns how many requests it answered. */
static int serve(coord *c)
{
    if (stop_signal) begin_stop(c, stop_signal);
    ntas_lock_heartbeat(c->opt->lock);
    write_activity(c, 0);
    report(c, 0);   /* within long runs too (once a second on a terminal, else every progress_interval) */
    int answered = 0;
    while (!c->mpi_failed) {
        int flag = 0;
        MPI_Status st;
        if (mpi_check(c, MPI_Iprobe(MPI_ANY_SOURCE, TAG_PROGRESS, c->comm, &flag, &st), "MPI_Iprobe(progress)") ||
            !flag || receive_progress(c, st.MPI_SOURCE))
            break;
    }
    while (!c->mpi_failed) {
        int flag = 0;
        MPI_Status st;
        if (mpi_check(c, MPI_Iprobe(MPI_ANY_SOURCE, TAG_REQUEST, c->comm, &flag, &st), "MPI_Iprobe(request)") || !flag)
            break;
        int msg[4];
        if (mpi_check(c, MPI_Recv(msg, 4, MPI_INT, st.MPI_SOURCE, TAG_REQUEST, c->comm, MPI_STATUS_IGNORE),
                      "MPI_Recv(request)") ||
            answer(c, st.MPI_SOURCE, msg))
            break;
        answered++;
    }
    if (!c->mpi_failed && c->opt->flush_interval > 0 && now() - c->t_last_flush >= c->opt->flush_interval &&
        c->workers_left == c->size - 1) {
        c->t_last_flush = now();
        for (int r = 1; r < c->size; r++)
            if (send_empty(c, r, TAG_FLUSH, "MPI_Send(flush)")) return answered;
        flush(c);
    }
    return answered;
}

static int grace_over(const coord *c)
{
    return c->stopping && now() - c->t_stop >= c->opt->grace;
}

static int poll_rank0(void *ctx, int64_t step, int64_t total)
{
    coord *c = ctx;
    note_step(c, 0, c->running ? c->running[0] : -1, step, total);
    serve(c);
    return grace_over(c) || c->mpi_failed;
}

/* Worker: handles one FLUSH or STOP message from rank 0 if one is waiting
 * (or, with a, blocks until the assignment and returns its index). */
static int worker_messages(coord *c, assignment *a)
{
    while (!c->mpi_failed) {
        if (stop_signal) begin_stop(c, stop_signal);
        int flag = 0;
        MPI_Status st;
        if (mpi_check(c, MPI_Iprobe(0, MPI_ANY_TAG, c->comm, &flag, &st), "MPI_Iprobe(from rank 0)")) break;
        if (!flag) {
            if (!a) return 0;
            sleep_us(50);   /* sleep rather than spin: rank 0 may share this core */
            continue;
        }
        if (st.MPI_TAG == TAG_ASSIGN) {
            if (!a) return 0;   /* only while waiting for it (never mid-run) */
            if (mpi_check(c, MPI_Recv(a, (int)sizeof *a, MPI_BYTE, 0, TAG_ASSIGN, c->comm, MPI_STATUS_IGNORE),
                          "MPI_Recv(assignment)"))
                break;
            return a->index;
        }
        if (mpi_check(c, MPI_Recv(NULL, 0, MPI_INT, 0, st.MPI_TAG, c->comm, MPI_STATUS_IGNORE), "MPI_Recv(flush/stop)"))
            break;
        if (st.MPI_TAG == TAG_FLUSH) flush(c);
        else if (st.MPI_TAG == TAG_STOP && !c->stopping) {
            c->stopping = 1;
            c->t_stop = now();
        }
    }
    return -1;
}

static int poll_worker(void *ctx, int64_t step, int64_t total)
{
    coord *c = ctx;
    double t = now();
    if (t - c->t_last_progress >= PROGRESS_EVERY_S && !c->mpi_failed) {
        c->t_last_progress = t;
        const int64_t msg[3] = {c->run_index, step, total};
        if (!mpi_check(c, MPI_Send(msg, 3, MPI_INT64_T, 0, TAG_PROGRESS, c->comm), "MPI_Send(progress)"))
            c->progress_sent++;
    }
    worker_messages(c, NULL);
    return grace_over(c) || c->mpi_failed;
}

/* Trains run `index` and writes it. 0 (status set; PENDING if abandoned),
 * or -1 with err. */
static int do_run(coord *c, int index, const ntas_run *run, ntas_poll_fn poll, int *status)
{
    ntas_run_result r;
    if (ntas_run_result_init(&r, &run->params, c->err, c->errlen) != 0) return -1;
    int rc = c->opt->run_fn
                 ? c->opt->run_fn(c->opt->run_fn_ctx, index, run, &r, poll, c, c->err, c->errlen)
                 : ntas_train_run_features(&run->params, run->key,
                                           ntas_feature_cache_find(c->opt->features, &run->params), &r, poll, c,
                                           c->err, c->errlen);
    *status = r.status;
    if (rc == 0 && r.status == NTAS_STATUS_FAILED && !c->opt->quiet) {
        char v[1024];
        varied_text(c, run, v, sizeof v);
        fprintf(stderr, "%sntasweep: run %d (%s) failed: %s\n", c->tty ? "\n" : "", index, v, r.message);
    }
    if (rc == 1) *status = NTAS_STATUS_PENDING;   /* abandoned: nothing is written */
    else if (rc == 0) rc = ntas_store_write_run(c->store, index, &r, c->err, c->errlen);
    ntas_run_result_free(&r);
    return rc < 0 ? -1 : 0;
}

static const coord *sort_ctx;

static int longest_first(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    double cx = sort_ctx->cost[x], cy = sort_ctx->cost[y];
    if (cx != cy) return cx > cy ? -1 : 1;
    return x - y;
}

/* Rank 0: the queue of not-yet-done runs, longest first. */
static int make_queue(coord *c, const int8_t *status)
{
    const int n = c->spec->n_runs;
    c->pending = malloc((size_t)(n > 0 ? n : 1) * sizeof *c->pending);
    c->cost = malloc((size_t)(n > 0 ? n : 1) * sizeof *c->cost);
    c->active = calloc((size_t)c->size, sizeof *c->active);
    c->running = malloc((size_t)c->size * sizeof *c->running);
    c->since = calloc((size_t)c->size, sizeof *c->since);
    c->step = calloc((size_t)c->size, sizeof *c->step);
    c->steps = calloc((size_t)c->size, sizeof *c->steps);
    c->t_step = calloc((size_t)c->size, sizeof *c->t_step);
    c->progress_recv = calloc((size_t)c->size, sizeof *c->progress_recv);
    for (int r = 0; c->running && r < c->size; r++) c->running[r] = -1;
    if (!c->pending || !c->cost || !c->active || !c->running || !c->since || !c->step || !c->steps || !c->t_step ||
        !c->progress_recv) {
        snprintf(c->err, c->errlen, "out of memory");
        return -1;
    }
    for (int r = 1; r < c->size; r++) c->active[r] = 1;
    c->workers_left = c->size - 1;
    for (int i = 0; i < n; i++) {
        c->cost[i] = ntas_run_cost(&c->spec->runs[i].params);
        if (status[i] == NTAS_STATUS_DONE) c->sum->skipped++;
        else {
            c->pending[c->n_pending++] = i;
            c->cost_total += c->cost[i];
        }
    }
    /* Longest first: the last runs to start are short, so no rank idles
     * long at the end. Ties keep table order; the order never changes results. */
    sort_ctx = c;
    qsort(c->pending, (size_t)c->n_pending, sizeof *c->pending, longest_first);
    sort_ctx = NULL;
    return 0;
}

static int run_rank0(coord *c, const int8_t *status)
{
    int rc = make_queue(c, status);
    c->t_start = c->t_last_report = c->t_last_flush = now();
    c->tty = isatty(STDERR_FILENO);
    if (rc == 0 && !c->opt->quiet && c->sum->skipped)
        fprintf(stderr, "ntasweep: resuming: %d of %d runs already done\n", c->sum->skipped, c->spec->n_runs);
    const int computes = c->size <= NTAS_COORD_RANK0_COMPUTES;
    while (rc == 0 && computes && !c->mpi_failed) {
        serve(c);
        if (c->stopping || c->worker_error || c->next >= c->n_pending || c->mpi_failed) break;
        int index = c->pending[c->next++], st = 0;
        set_running(c, 0, index);
        if (do_run(c, index, &c->spec->runs[index], poll_rank0, &st) != 0) {
            rc = -1;
            break;
        }
        set_running(c, 0, -1);
        count(c, index, st);
    }
    /* Serving only (all ranks busy, or many ranks): sleep only when idle. */
    while (c->active && c->workers_left > 0 && !c->mpi_failed)
        if (serve(c) == 0 && c->workers_left > 0) sleep_us(computes ? 200 : 50);
    if (rc == 0 && c->worker_error) {
        snprintf(c->err, c->errlen, "a worker rank failed (see its message above)");
        rc = -1;
    }
    c->sum->not_started = c->n_pending - c->next;
    if (c->pending) report(c, 1);
    if (c->opt->activity_path) remove(c->opt->activity_path);
    free(c->pending);
    free(c->cost);
    free(c->active);
    free(c->running);
    free(c->since);
    free(c->step);
    free(c->steps);
    free(c->t_step);
    free(c->progress_recv);
    return rc;
}

static int run_worker(coord *c)
{
    int prev[4] = {-1, 0, 0, 0};   /* previous run, its status, stopping, progress messages sent */
    int rc = 0;
    assignment *a = malloc(sizeof *a);
    if (!a) {
        snprintf(c->err, c->errlen, "out of memory");
        prev[1] = WORKER_ERROR;
        rc = -1;
    }
    while (!c->mpi_failed) {
        prev[2] = c->stopping ? (c->sum->stopped ? c->sum->stopped : (int)stop_signal) : 0;
        if (prev[2] == 0 && stop_signal) prev[2] = stop_signal;
        prev[3] = c->progress_sent;
        if (mpi_check(c, MPI_Send(prev, 4, MPI_INT, 0, TAG_REQUEST, c->comm), "MPI_Send(request)")) break;
        if (prev[1] == WORKER_ERROR) break;
        int index = worker_messages(c, a);
        if (index < 0) break;
        int st = 0;
        c->run_index = index;
        c->t_last_progress = now();   /* the first progress after a second of the run */
        if (do_run(c, index, &a->run, poll_worker, &st) != 0) {
            fprintf(stderr, "ntasweep: rank %d, run %d: %s\n", c->rank, index, c->err);
            prev[1] = WORKER_ERROR;
            rc = -1;
        } else {
            prev[1] = st;
        }
        prev[0] = index;
    }
    free(a);
    return rc;
}

/* The end: every rank learns whether any failed or was stopped. */
static int agree(coord *c, int rc)
{
    int local = rc, global = 0;
    if (mpi_check(c, MPI_Allreduce(&local, &global, 1, MPI_INT, MPI_MIN, c->comm), "MPI_Allreduce(status)")) return -1;
    if (global != 0 && rc == 0) {
        snprintf(c->err, c->errlen, "another rank failed");
        rc = -1;
    }
    int stopped = c->sum->stopped, any = 0;
    if (mpi_check(c, MPI_Allreduce(&stopped, &any, 1, MPI_INT, MPI_MAX, c->comm), "MPI_Allreduce(stopped)")) return -1;
    c->sum->stopped = any;
    return rc;
}

int ntas_coord_run(const ntas_spec *spec, const int8_t *status, ntas_store *store, MPI_Comm comm,
                   const ntas_coord_options *opt, ntas_sweep_summary *summary, char *err, size_t errlen)
{
    memset(summary, 0, sizeof *summary);
    coord c = {.spec = spec, .opt = opt, .store = store, .comm = MPI_COMM_NULL, .err = err, .errlen = errlen,
               .sum = summary};
    /* The caller's communicator keeps its error handler; the queue's own
     * returns errors to mpi_check. */
    int rc = MPI_Comm_dup(comm, &c.comm);
    if (rc == MPI_SUCCESS) rc = MPI_Comm_set_errhandler(c.comm, MPI_ERRORS_RETURN);
    if (rc == MPI_SUCCESS) rc = MPI_Comm_rank(c.comm, &c.rank);
    if (rc == MPI_SUCCESS) rc = MPI_Comm_size(c.comm, &c.size);
    /* Rank 0 holds the run table: it finds the varied keys for every rank's messages. */
    if (rc == MPI_SUCCESS && c.rank == 0) find_varied(&c);
    if (rc == MPI_SUCCESS) rc = MPI_Bcast(c.varied, 128, MPI_INT, 0, c.comm);
    if (!mpi_check(&c, rc, "MPI_Comm_dup/set_errhandler/Bcast (queue communicator)")) {
        rc = c.rank == 0 ? run_rank0(&c, status) : run_worker(&c);
        if (c.error && rc == 0) rc = -1;
        if (!c.mpi_failed) rc = agree(&c, rc);
    }
    if (c.mpi_failed) {
        fprintf(stderr, "ntasweep: %s; ending the job (runs flagged done are kept: run the same command to resume)\n", err);
        MPI_Abort(comm, 1);
    }
    if (c.comm != MPI_COMM_NULL) MPI_Comm_free(&c.comm);
    return rc;
}
