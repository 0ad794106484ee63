/* coord — dynamic MPI queue. See coord.h.
 *
 * Protocol. A worker sends TAG_REQUEST {previous run, its status, stopping}
 * and then waits for rank 0's messages, in order: TAG_FLUSH (join a
 * collective flush now), TAG_STOP (a stop signal arrived: start the grace
 * time) and finally TAG_ASSIGN {run index}, -1 meaning "no more work". While
 * it trains, its poll hook looks for TAG_FLUSH and TAG_STOP too, so a flush
 * round waits at most one poll interval for any rank. Rank 0 serves requests
 * between the steps of its own runs and, once its queue is empty, from a
 * sleeping probe loop. Flush rounds happen only while every worker is still
 * taking work, so every rank can join them.
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

enum { TAG_REQUEST = 1, TAG_ASSIGN = 2, TAG_FLUSH = 3, TAG_STOP = 4 };
#define WORKER_ERROR (-2)

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

int ntas_coord_stop_requested(void)
{
    return stop_signal != 0;
}

/* State shared by both roles. */
typedef struct {
    const ntas_spec *spec;
    const ntas_coord_options *opt;
    ntas_store *store;
    MPI_Comm comm;
    int rank, size;
    int stopping;          /* a stop signal is in effect */
    double t_stop;
    int error;             /* a flush failed */
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
    /* every rank */
    int *varied;           /* [ntas_param_count]: keys that vary (for messages), NULL until needed */
} coord;

/* "k=v ..." of the keys that vary over the sweep, for run index. */
static void varied_text(coord *c, int index, char *buf, size_t len)
{
    const ntas_spec *s = c->spec;
    if (!c->varied && (c->varied = calloc((size_t)ntas_param_count, sizeof *c->varied)))
        for (int k = 0; k < ntas_param_count; k++) {
            char a[128], b[128];
            ntas_param_format(&ntas_param_table[k], &s->runs[0].params, a, sizeof a);
            for (int i = 1; i < s->n_runs && !c->varied[k]; i++) {
                ntas_param_format(&ntas_param_table[k], &s->runs[i].params, b, sizeof b);
                c->varied[k] = strcmp(a, b) != 0;
            }
        }
    size_t used = 0;
    buf[0] = '\0';
    if (s->runs[index].case_name[0]) used += (size_t)snprintf(buf, len, "case=%s", s->runs[index].case_name);
    for (int k = 0; c->varied && k < ntas_param_count && used < len; k++) {
        if (!c->varied[k]) continue;
        char v[128];
        ntas_param_format(&ntas_param_table[k], &s->runs[index].params, v, sizeof v);
        used += (size_t)snprintf(buf + used, len - used, "%s%s=%s", used ? " " : "", ntas_param_table[k].key, v);
    }
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
        varied_text(c, i, v, sizeof v);
        struct timespec wall;
        clock_gettime(CLOCK_REALTIME, &wall);
        double started = (double)wall.tv_sec + 1e-9 * (double)wall.tv_nsec - (t - c->since[r]);
        fprintf(f, "%d, \"params\": \"%s\", \"started\": %.1f, \"estimated_s\": %.3g}", i, v, started,
                c->cost[i] * ntas_cost_seconds_per_unit());
    }
    fprintf(f, "\n]}\n");
    if (fclose(f) != 0 || rename(tmp, path) != 0) remove(tmp);
}

static void set_running(coord *c, int rank, int index)
{
    if (!c->running) return;
    c->running[rank] = index;
    c->since[rank] = now();
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
        for (int r = 1; r < c->size; r++)
            if (c->active[r]) MPI_Send(NULL, 0, MPI_INT, r, TAG_STOP, c->comm);
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
    if (finished == total) snprintf(eta, sizeof eta, "0 s");
    else if (c->cost_done > 0) {
        double s = (c->cost_total - c->cost_done) / (c->cost_done / elapsed);
        if (s < 120) snprintf(eta, sizeof eta, "%.0f s", s);
        else if (s < 7200) snprintf(eta, sizeof eta, "%.1f min", s / 60);
        else snprintf(eta, sizeof eta, "%.1f h", s / 3600);
    }
    /* Within long runs: the oldest running run, its time against its estimate. */
    char within[96] = "";
    int oldest = -1;
    for (int r = 0; c->running && r < c->size; r++)
        if (c->running[r] >= 0 && (oldest < 0 || c->since[r] < c->since[oldest])) oldest = r;
    if (oldest >= 0 && t - c->since[oldest] > 5) {
        double est = c->cost[c->running[oldest]] * ntas_cost_seconds_per_unit();
        snprintf(within, sizeof within, "; run %d on rank %d: %.0f s of ~%.0f s", c->running[oldest], oldest,
                 t - c->since[oldest], est);
    }
    fprintf(stderr, "%sntasweep: %d/%d runs (%d failed, %d done before), %.2f runs/s, ETA %s%s%s",
            c->tty ? "\r" : "", finished, total, c->sum->failed, c->sum->skipped, finished / elapsed, eta,
            c->tty ? within : "", c->tty && !force ? "   " : "\n");
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

/* Rank 0: answers every request already waiting; starts flush rounds and
 * stops; keeps the lock fresh. */
static void serve(coord *c)
{
    if (stop_signal) begin_stop(c, stop_signal);
    ntas_lock_heartbeat(c->opt->lock);
    write_activity(c, 0);
    for (;;) {
        int flag;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_REQUEST, c->comm, &flag, &st);
        if (!flag) break;
        int msg[3];
        MPI_Recv(msg, 3, MPI_INT, st.MPI_SOURCE, TAG_REQUEST, c->comm, MPI_STATUS_IGNORE);
        if (msg[2]) begin_stop(c, msg[2]);
        if (msg[1] == WORKER_ERROR) {
            c->worker_error = 1;
            c->workers_left--;
            c->active[st.MPI_SOURCE] = 0;
            continue;
        }
        count(c, msg[0], msg[1]);
        int assign = !c->stopping && !c->worker_error && c->next < c->n_pending ? c->pending[c->next++] : -1;
        set_running(c, st.MPI_SOURCE, assign);
        if (assign < 0) {
            c->workers_left--;
            c->active[st.MPI_SOURCE] = 0;
        }
        MPI_Send(&assign, 1, MPI_INT, st.MPI_SOURCE, TAG_ASSIGN, c->comm);
    }
    if (c->opt->flush_interval > 0 && now() - c->t_last_flush >= c->opt->flush_interval &&
        c->workers_left == c->size - 1) {
        c->t_last_flush = now();
        for (int r = 1; r < c->size; r++) MPI_Send(NULL, 0, MPI_INT, r, TAG_FLUSH, c->comm);
        flush(c);
    }
}

static int grace_over(const coord *c)
{
    return c->stopping && now() - c->t_stop >= c->opt->grace;
}

static int poll_rank0(void *ctx)
{
    coord *c = ctx;
    serve(c);
    return grace_over(c);
}

/* Worker: handles one FLUSH or STOP message from rank 0 if one is waiting
 * (or, with wait_assign, blocks until the assignment and returns it). */
static int worker_messages(coord *c, int wait_assign)
{
    for (;;) {
        if (stop_signal) begin_stop(c, stop_signal);
        int flag;
        MPI_Status st;
        MPI_Iprobe(0, MPI_ANY_TAG, c->comm, &flag, &st);
        if (!flag) {
            if (!wait_assign) return 0;
            /* Sleep rather than spin: rank 0 may share this core. */
            nanosleep(&(struct timespec){0, 50000}, NULL);
            continue;
        }
        if (st.MPI_TAG == TAG_ASSIGN) {
            int assign;
            MPI_Recv(&assign, 1, MPI_INT, 0, TAG_ASSIGN, c->comm, MPI_STATUS_IGNORE);
            return assign;
        }
        MPI_Recv(NULL, 0, MPI_INT, 0, st.MPI_TAG, c->comm, MPI_STATUS_IGNORE);
        if (st.MPI_TAG == TAG_FLUSH) flush(c);
        else if (st.MPI_TAG == TAG_STOP && !c->stopping) {
            c->stopping = 1;
            c->t_stop = now();
        }
    }
}

static int poll_worker(void *ctx)
{
    coord *c = ctx;
    worker_messages(c, 0);
    return grace_over(c);
}

/* Trains run `index` and writes it. 0 (status set; PENDING if abandoned),
 * or -1 with err. */
static int do_run(coord *c, int index, ntas_poll_fn poll, int *status)
{
    const ntas_run *run = &c->spec->runs[index];
    ntas_run_result r;
    if (ntas_run_result_init(&r, &run->params, c->err, c->errlen) != 0) return -1;
    int rc = ntas_train_run_features(&run->params, run->key, ntas_feature_cache_find(c->opt->features, &run->params),
                                     &r, poll, c, c->err, c->errlen);
    *status = r.status;
    if (rc == 0 && r.status == NTAS_STATUS_FAILED && !c->opt->quiet) {
        char v[1024];
        varied_text(c, index, v, sizeof v);
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

static int run_rank0(coord *c, const int8_t *status)
{
    const int n = c->spec->n_runs;
    c->pending = malloc((size_t)(n > 0 ? n : 1) * sizeof *c->pending);
    c->cost = malloc((size_t)(n > 0 ? n : 1) * sizeof *c->cost);
    c->active = calloc((size_t)c->size, sizeof *c->active);
    c->running = malloc((size_t)c->size * sizeof *c->running);
    c->since = calloc((size_t)c->size, sizeof *c->since);
    for (int r = 0; c->running && r < c->size; r++) c->running[r] = -1;
    int rc = 0;
    if (!c->pending || !c->cost || !c->active || !c->running || !c->since) {
        snprintf(c->err, c->errlen, "out of memory");
        rc = -1;
    }
    for (int r = 1; c->active && r < c->size; r++) c->active[r] = 1;
    c->workers_left = c->size - 1;
    for (int i = 0; rc == 0 && i < n; i++) {
        c->cost[i] = ntas_run_cost(&c->spec->runs[i].params);
        if (status[i] == NTAS_STATUS_DONE) c->sum->skipped++;
        else {
            c->pending[c->n_pending++] = i;
            c->cost_total += c->cost[i];
        }
    }
    if (rc == 0) {
        /* Longest first: the last runs to start are short, so no rank idles
         * long at the end. Ties keep table order; the order never changes results. */
        sort_ctx = c;
        qsort(c->pending, (size_t)c->n_pending, sizeof *c->pending, longest_first);
        sort_ctx = NULL;
    }
    c->t_start = c->t_last_report = c->t_last_flush = now();
    c->tty = isatty(STDERR_FILENO);
    if (!c->opt->quiet && c->sum->skipped)
        fprintf(stderr, "ntasweep: resuming: %d of %d runs already done\n", c->sum->skipped, n);
    while (rc == 0) {
        serve(c);
        if (c->stopping || c->worker_error || c->next >= c->n_pending) break;
        int index = c->pending[c->next++], st = 0;
        set_running(c, 0, index);
        if (do_run(c, index, poll_rank0, &st) != 0) {
            rc = -1;
            break;
        }
        set_running(c, 0, -1);
        count(c, index, st);
    }
    while (c->active && c->workers_left > 0) {
        serve(c);
        if (c->workers_left > 0) nanosleep(&(struct timespec){0, 200000}, NULL);
    }
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
    return rc;
}

static int run_worker(coord *c)
{
    int prev[3] = {-1, 0, 0};
    int rc = 0;
    for (;;) {
        prev[2] = c->stopping ? (c->sum->stopped ? c->sum->stopped : (int)stop_signal) : 0;
        if (prev[2] == 0 && stop_signal) prev[2] = stop_signal;
        MPI_Send(prev, 3, MPI_INT, 0, TAG_REQUEST, c->comm);
        if (prev[1] == WORKER_ERROR) break;
        int assign = worker_messages(c, 1);
        if (assign < 0) break;
        int st = 0;
        if (do_run(c, assign, poll_worker, &st) != 0) {
            fprintf(stderr, "ntasweep: rank %d, run %d: %s\n", c->rank, assign, c->err);
            prev[1] = WORKER_ERROR;
            rc = -1;
        } else {
            prev[1] = st;
        }
        prev[0] = assign;
    }
    return rc;
}

int ntas_coord_run(const ntas_spec *spec, const int8_t *status, ntas_store *store, MPI_Comm comm,
                   const ntas_coord_options *opt, ntas_sweep_summary *summary, char *err, size_t errlen)
{
    memset(summary, 0, sizeof *summary);
    coord c = {.spec = spec, .opt = opt, .store = store, .comm = comm, .err = err, .errlen = errlen, .sum = summary};
    MPI_Comm_rank(comm, &c.rank);
    MPI_Comm_size(comm, &c.size);
    int rc = c.rank == 0 ? run_rank0(&c, status) : run_worker(&c);
    free(c.varied);
    if (c.error && rc == 0) rc = -1;
    int local = rc, global = 0;
    MPI_Allreduce(&local, &global, 1, MPI_INT, MPI_MIN, comm);
    if (global != 0 && rc == 0) {
        snprintf(err, errlen, "another rank failed");
        rc = -1;
    }
    /* Every rank learns whether the sweep was stopped (for the exit status). */
    int stopped = summary->stopped, any = 0;
    MPI_Allreduce(&stopped, &any, 1, MPI_INT, MPI_MAX, comm);
    summary->stopped = any;
    return rc;
}
