/* coord — dynamic MPI queue. See coord.h.
 *
 * Protocol: a worker sends TAG_REQUEST {previous run index, its status} and
 * receives TAG_ASSIGN {run index}, -1 meaning "no more work". Rank 0 answers
 * between steps of its own runs (poll hook) and, once its queue is empty,
 * with a sleeping probe loop so it does not spin on a core. */
#include "ntasweep/coord.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ntasweep/train.h"

enum { TAG_REQUEST = 1, TAG_ASSIGN = 2 };
#define WORKER_ERROR (-2)

typedef struct {
    const ntas_spec *spec;
    MPI_Comm comm;
    int *pending;
    int n_pending, next;
    int workers_left;       /* workers not yet told to stop */
    int worker_error;
    int quiet;
    ntas_sweep_summary *sum;
    double t_start, t_last_report;
} queue;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void report(queue *q, int force)
{
    double t = now();
    if (q->quiet || (!force && t - q->t_last_report < 5.0)) return;
    q->t_last_report = t;
    int finished = q->sum->done + q->sum->failed;
    int total = q->n_pending;
    double rate = finished / (t - q->t_start > 1e-9 ? t - q->t_start : 1e-9);
    char eta[32] = "?";
    if (finished > 0) snprintf(eta, sizeof eta, "%.0f s", (total - finished) / rate);
    fprintf(stderr, "ntasweep: %d/%d runs finished (%d failed), %.2f runs/s, ETA %s\n",
            finished, total, q->sum->failed, rate, finished == total ? "0 s" : eta);
}

static void count(queue *q, int index, int status)
{
    if (index < 0) return;
    if (status == NTAS_STATUS_DONE) q->sum->done++;
    else {
        q->sum->failed++;
        if (!q->quiet) fprintf(stderr, "ntasweep: run %d failed\n", index);
    }
    report(q, 0);
}

/* Answers every request already waiting. */
static void serve(queue *q)
{
    int flag = 1;
    while (flag) {
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_REQUEST, q->comm, &flag, &st);
        if (!flag) break;
        int msg[2];
        MPI_Recv(msg, 2, MPI_INT, st.MPI_SOURCE, TAG_REQUEST, q->comm, MPI_STATUS_IGNORE);
        if (msg[1] == WORKER_ERROR) {
            q->worker_error = 1;
            q->workers_left--;
            continue;
        }
        count(q, msg[0], msg[1]);
        int assign = q->next < q->n_pending ? q->pending[q->next++] : -1;
        if (assign < 0) q->workers_left--;
        MPI_Send(&assign, 1, MPI_INT, st.MPI_SOURCE, TAG_ASSIGN, q->comm);
    }
}

static int poll_hook(void *ctx)
{
    serve((queue *)ctx);
    return 0;
}

/* Trains run `index` and writes it. 0, or -1 with err. */
static int do_run(const ntas_spec *spec, int index, ntas_store *store, ntas_poll_fn poll, void *ctx,
                  int *status, char *err, size_t errlen)
{
    const ntas_run *run = &spec->runs[index];
    ntas_run_result r;
    if (ntas_run_result_init(&r, &run->params, err, errlen) != 0) return -1;
    int rc = ntas_train_run(&run->params, run->key, &r, poll, ctx, err, errlen);
    if (rc == 0) rc = ntas_store_write_run(store, index, &r, err, errlen);
    *status = r.status;
    ntas_run_result_free(&r);
    return rc == 0 ? 0 : -1;
}

int ntas_coord_run(const ntas_spec *spec, const int8_t *status, ntas_store *store, MPI_Comm comm,
                   int quiet, ntas_sweep_summary *summary, char *err, size_t errlen)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    memset(summary, 0, sizeof *summary);
    int rc = 0;

    if (rank != 0) {
        int prev[2] = {-1, 0};
        for (;;) {
            int assign;
            MPI_Send(prev, 2, MPI_INT, 0, TAG_REQUEST, comm);
            if (prev[1] == WORKER_ERROR) break;
            MPI_Recv(&assign, 1, MPI_INT, 0, TAG_ASSIGN, comm, MPI_STATUS_IGNORE);
            if (assign < 0) break;
            int st = 0;
            if (do_run(spec, assign, store, NULL, NULL, &st, err, errlen) != 0) {
                fprintf(stderr, "ntasweep: rank %d, run %d: %s\n", rank, assign, err);
                prev[0] = assign;
                prev[1] = WORKER_ERROR;
                rc = -1;
                continue;
            }
            prev[0] = assign;
            prev[1] = st;
        }
    } else {
        queue q = {.spec = spec, .comm = comm, .workers_left = size - 1, .quiet = quiet, .sum = summary};
        q.pending = malloc((size_t)spec->n_runs * sizeof *q.pending);
        if (!q.pending) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        }
        for (int i = 0; q.pending && i < spec->n_runs; i++) {
            if (status[i] == NTAS_STATUS_DONE) summary->skipped++;
            else q.pending[q.n_pending++] = i;
        }
        q.t_start = q.t_last_report = now();
        if (!quiet && summary->skipped)
            fprintf(stderr, "ntasweep: resuming: %d of %d runs already done\n", summary->skipped, spec->n_runs);
        /* Rank 0 computes too; with other ranks it serves them between steps. */
        while (rc == 0 && q.next < q.n_pending) {
            serve(&q);
            if (q.next >= q.n_pending) break;
            int index = q.pending[q.next++], st = 0;
            if (do_run(spec, index, store, size > 1 ? poll_hook : NULL, &q, &st, err, errlen) != 0) {
                rc = -1;
                break;
            }
            count(&q, index, st);
        }
        if (rc != 0) q.next = q.n_pending;   /* stop handing out work */
        while (q.workers_left > 0) {
            serve(&q);
            if (q.workers_left > 0) nanosleep(&(struct timespec){0, 200000}, NULL);
        }
        if (q.worker_error && rc == 0) {
            snprintf(err, errlen, "a worker rank failed (see its message above)");
            rc = -1;
        }
        report(&q, 1);
        free(q.pending);
    }
    int local = rc, global = 0;
    MPI_Allreduce(&local, &global, 1, MPI_INT, MPI_MIN, comm);
    if (global != 0 && rc == 0) {
        snprintf(err, errlen, "another rank failed");
        rc = -1;
    }
    return rc;
}
