/* mpi_cnn_shards — the data-parallel CNN pretraining gives the same bits on
 * any number of ranks (cnn.h's shard tree, io/pretrain.h's MPI exchange).
 * Run under mpirun with 1, 2, 3 and 5 ranks (more ranks than shards: some
 * get none). On synthetic images, so no dataset is needed. Every rank
 * compares its result with the one-part computation it also makes itself,
 * with double GEMMs and with float32 ones (ntas_cnn_use_float32), the
 * pretraining both in memory the ranks share and with copies; rank 0
 * prints the counts of all ranks. */
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ntasweep/io/pretrain.h"
#include "ntasweep/models/cnn.h"

enum { N_IMAGES = 40, MAX_B = 24 };

static void synthetic(ntas_idx_dataset *d)
{
    memset(d, 0, sizeof *d);
    d->n = N_IMAGES;
    d->rows = d->cols = NTAS_CNN_SIDE;
    d->pixels = malloc((size_t)N_IMAGES * NTAS_CNN_PIXELS * sizeof *d->pixels);
    d->labels = malloc(N_IMAGES);
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_stream_key(7, "shard-test-images"));
    for (size_t i = 0; i < (size_t)N_IMAGES * NTAS_CNN_PIXELS; i++) d->pixels[i] = 2.0 * ntas_rng_uniform(&rng) - 1.0;
    for (int i = 0; i < N_IMAGES; i++) d->labels[i] = (uint8_t)(ntas_rng_u32(&rng) % 10);
}

static int init_net(ntas_cnn *net, int float32)
{
    char err[256];
    if (ntas_cnn_init(net, MAX_B, err, sizeof err) != 0) return -1;
    if (float32 && ntas_cnn_use_float32(net, err, sizeof err) != 0) {
        ntas_cnn_free(net);
        return -1;
    }
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_stream_key(3, "cnn-init"));
    ntas_cnn_init_params(net, &rng);
    return 0;
}

/* One batch's gradient for batch sizes with uneven and empty shards. */
static void test_gradient(const ntas_idx_dataset *d, const ntas_cnn_exchange *ex, int float32)
{
    static const int sizes[] = {MAX_B, 6, 3};
    /* The shards' float32 products round differently from the whole batch's. */
    const double tol = float32 ? 1e-4 : 1e-12;
    ntas_cnn one, many;
    if (init_net(&one, float32) != 0 || init_net(&many, float32) != 0) {
        CHECK(!"out of memory");
        return;
    }
    double *full = malloc(one.n_params * sizeof *full);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        const int B = sizes[k];
        char err[256] = "";
        double l1 = NAN, lk = NAN;
        CHECK_MSG(ntas_cnn_sharded_gradient(&one, d->pixels, d->labels, B, NULL, &l1, err, sizeof err) == 0, "%s", err);
        CHECK_MSG(ntas_cnn_sharded_gradient(&many, d->pixels, d->labels, B, ex, &lk, err, sizeof err) == 0, "%s", err);
        CHECK_MSG(memcmp(one.grads, many.grads, one.n_params * sizeof(double)) == 0,
                  "batch %d, float32 %d: the gradient on %d ranks differs from one part's", B, float32, ex->parts);
        CHECK_MSG(memcmp(&l1, &lk, sizeof l1) == 0, "batch %d: loss %.17g vs %.17g", B, l1, lk);
        /* The shards add up to the whole batch's gradient (up to rounding). */
        ntas_cnn_forward(&one, d->pixels, B);
        const double loss = ntas_cnn_backward(&one, d->pixels, d->labels, B, NULL);
        memcpy(full, one.grads, one.n_params * sizeof *full);
        double worst = 0.0, scale = 0.0;
        for (size_t i = 0; i < one.n_params; i++) {
            worst = fmax(worst, fabs(full[i] - many.grads[i]));
            scale = fmax(scale, fabs(full[i]));
        }
        CHECK_MSG(worst <= tol * scale, "batch %d, float32 %d: shard sum differs from the batch gradient by %g (of %g)",
                  B, float32, worst, scale);
        CHECK_NEAR(lk, loss, tol * loss);
    }
    free(full);
    ntas_cnn_free(&one);
    ntas_cnn_free(&many);
}

static int stop_on_rank0(void *ctx, int step, double loss)
{
    (void)loss;
    return *(int *)ctx == 0 && step == 2;
}

/* A few AdamW steps: the same parameters as one part; a stop asked for by
 * one rank stops every rank at the same step. */
static void test_pretraining(const ntas_idx_dataset *d, const ntas_cnn_exchange *ex, int float32)
{
    ntas_cnn one, many;
    if (init_net(&one, float32) != 0 || init_net(&many, float32) != 0) {
        CHECK(!"out of memory");
        return;
    }
    ntas_cnn_train_opts o;
    ntas_cnn_train_opts_defaults(&o);
    o.batch = 10;    /* shards of 2 and 3 images, 4 batches per epoch: a reshuffle */
    o.steps = 5;
    o.seed = 9;
    char err[256] = "";
    CHECK_MSG(ntas_cnn_pretrain_parts(&one, d, &o, NULL, NULL, NULL, err, sizeof err) == 0, "%s", err);
    CHECK_MSG(ntas_cnn_pretrain_parts(&many, d, &o, ex, NULL, NULL, err, sizeof err) == 0, "%s", err);
    CHECK_MSG(memcmp(one.params, many.params, one.n_params * sizeof(double)) == 0,
              "float32 %d: pretrained parameters on %d ranks differ from one part's", float32, ex->parts);

    int rank = ex->part, steps_done = -1;
    o.progress_every = 1;
    int rc = ntas_cnn_pretrain_parts(&many, d, &o, ex, stop_on_rank0, &rank, err, sizeof err);
    CHECK_MSG(rc == 1, "rank %d: a stop asked for by rank 0 returned %d", rank, rc);
    steps_done = (int)many.adam_t;
    CHECK_MSG(steps_done == 2, "rank %d stopped after %d steps, not 2", rank, steps_done);
    ntas_cnn_free(&one);
    ntas_cnn_free(&many);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm comm = MPI_COMM_WORLD;
    ntas_cnn_exchange ex;
    ntas_cnn_exchange_mpi(&ex, &comm);
    ntas_idx_dataset d;
    synthetic(&d);
    /* The pretraining with the memory the ranks share (all on this host),
     * and with the copying exchange used when they are on several hosts. */
    ntas_cnn_exchange copies = ex;
    copies.map_shared = NULL;
    for (int float32 = 0; float32 <= 1; float32++) {
        test_gradient(&d, &ex, float32);
        test_pretraining(&d, &ex, float32);
        test_pretraining(&d, &copies, float32);
    }
    free(d.pixels);
    free(d.labels);
    int counts[2] = {check_passed_, check_failed_}, total[2] = {0, 0};
    MPI_Reduce(counts, total, 2, MPI_INT, MPI_SUM, 0, comm);
    int failed = check_failed_ != 0;
    MPI_Finalize();
    if (ex.part == 0) printf("%d ranks: %d passed, %d failed\n", ex.parts, total[0], total[1]);
    return failed;
}
