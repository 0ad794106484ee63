/* bench_pretrain — time of the shared CNN pretraining per AdamW step (batch
 * 512) on however many ranks it is started with; not a test:
 *
 *   tools/mpi-launch -n 2 build/tests/bench_pretrain [STEPS] [IDX_DIR] [float64|float32]
 *
 * (the last: the CNN's GEMMs in double, the default, or float32). After the
 * timings, with STEPS >= 1000, rank 0 also prints the test accuracy reached.
 * Prints, for each of 3 repetitions, the wall time per step and the CPU time
 * per step of the busiest rank (on a machine loaded by other work the CPU
 * time says what the ranks computed, the wall time what they waited for). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    const int float32 = argc > 3 && !strcmp(argv[3], "float32");
    char err[1024] = "";
    ntas_idx_dataset train, test;
    ntas_cnn net;
    if (steps < 1 || (argc > 3 && !float32 && strcmp(argv[3], "float64")) ||
        ntas_idx_load_train_test(dir, &train, &test, NULL, err, sizeof err) != 0 ||
        ntas_cnn_init(&net, 512, err, sizeof err) != 0 || (float32 && ntas_cnn_use_float32(&net, err, sizeof err) != 0)) {
        fprintf(stderr, "bench_pretrain: %s\n", steps < 1 ? "STEPS must be >= 1" : err[0] ? err : "precision must be float64 or float32");
        MPI_Abort(comm, 2);
    }
    ntas_cnn_exchange ex;
    ntas_cnn_exchange_mpi(&ex, &comm);
    ntas_cnn_train_opts o;
    ntas_cnn_train_opts_defaults(&o);
    o.steps = steps;
    const int reps = steps >= 1000 ? 1 : 3;
    for (int rep = 0; rep < reps; rep++) {
        MPI_Barrier(comm);
        ntas_rng rng;   /* every repetition trains the same network (seed 0, as the sweeps) */
        ntas_rng_init(&rng, ntas_stream_key(0, "cnn-init"));
        ntas_cnn_init_params(&net, &rng);
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
            printf("%d rank%s, %s: wall %.1f ms/step, CPU of the busiest rank %.1f ms/step\n", ex.parts,
                   ex.parts == 1 ? "" : "s", float32 ? "float32" : "float64", wall, busiest);
    }
    double acc = 0.0;
    if (steps >= 1000 && ex.part == 0) {
        if (ntas_cnn_accuracy(&net, &test, &acc, NULL, err, sizeof err) != 0) {
            fprintf(stderr, "bench_pretrain: %s\n", err);
            MPI_Abort(comm, 1);
        }
        printf("test accuracy after %d steps: %.4f on %d images\n", steps, acc, test.n);
    }
    ntas_cnn_free(&net);
    ntas_idx_free(&train);
    ntas_idx_free(&test);
    MPI_Finalize();
    return 0;
}
