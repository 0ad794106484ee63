/* bench_pretrain — time of the shared CNN pretraining per AdamW step (batch
 * 512) on however many ranks it is started with; not a test:
 *
 *   tools/mpi-launch -n 2 build/tests/bench_pretrain [STEPS] [IDX_DIR]
 *
 * Prints, for each of 3 repetitions, the wall time per step and the CPU time
 * per step of the busiest rank (on a machine loaded by other work the CPU
 * time says what the ranks computed, the wall time what they waited for). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ntasweep/io/pretrain.h"

static double clock_s(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm comm = MPI_COMM_WORLD;
    const int steps = argc > 1 ? atoi(argv[1]) : 10;
    const char *dir = argc > 2 ? argv[2] : "/usr/share/datasets/fashion-mnist";
    char err[1024];
    ntas_idx_dataset train, test;
    ntas_cnn net;
    if (steps < 1 || ntas_idx_load_train_test(dir, &train, &test, NULL, err, sizeof err) != 0 ||
        ntas_cnn_init(&net, 512, err, sizeof err) != 0) {
        fprintf(stderr, "bench_pretrain: %s\n", steps < 1 ? "STEPS must be >= 1" : err);
        MPI_Abort(comm, 2);
    }
    ntas_cnn_exchange ex;
    ntas_cnn_exchange_mpi(&ex, &comm);
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_stream_key(0, "cnn-init"));
    ntas_cnn_init_params(&net, &rng);
    ntas_cnn_train_opts o;
    ntas_cnn_train_opts_defaults(&o);
    o.steps = steps;
    for (int rep = 0; rep < 3; rep++) {
        MPI_Barrier(comm);
        const double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        if (ntas_cnn_pretrain_parts(&net, &train, &o, &ex, NULL, NULL, err, sizeof err) != 0) {
            fprintf(stderr, "bench_pretrain: %s\n", err);
            MPI_Abort(comm, 1);
        }
        const double wall = (clock_s(CLOCK_MONOTONIC) - w0) / steps * 1e3;
        const double cpu = (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0) / steps * 1e3;
        double busiest = cpu;
        MPI_Reduce(&cpu, &busiest, 1, MPI_DOUBLE, MPI_MAX, 0, comm);
        if (ex.part == 0)
            printf("%d rank%s: wall %.1f ms/step, CPU of the busiest rank %.1f ms/step\n", ex.parts,
                   ex.parts == 1 ? "" : "s", wall, busiest);
    }
    ntas_cnn_free(&net);
    ntas_idx_free(&train);
    ntas_idx_free(&test);
    MPI_Finalize();
    return 0;
}
