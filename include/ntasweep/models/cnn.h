/* cnn — the small CNN whose 64 hidden units feed the NTA head (Sec. 8, App. B.7).
 *
 * Owns the network's parameters, their gradients, the AdamW moments and the
 * activations of one batch of up to max_batch images, all allocated once in
 * ntas_cnn_init. llm.c style: explicit forward/backward over flat row-major
 * double arrays; pretraining, accuracy and feature extraction on top.
 */
#ifndef NTASWEEP_CNN_H
#define NTASWEEP_CNN_H

#include <stddef.h>
#include <stdint.h>

#include "ntasweep/tasks/idx.h"
#include "ntasweep/core/rng.h"

/* Architecture (SPEC-NOTES §8): conv 1->3 channels, 4x4 kernel, stride 1, no
 * padding (28 -> 25); max-pool 2x2 with stride 1 (25 -> 24); ReLU; flatten
 * channel-major like PyTorch (3*24*24 = 1728); Linear 1728->512; sigmoid;
 * Linear 512->64; ReLU (the features); Linear 64->10; log-softmax; mean
 * cross-entropy. */
enum {
    NTAS_CNN_SIDE = 28,
    NTAS_CNN_PIXELS = NTAS_CNN_SIDE * NTAS_CNN_SIDE,
    NTAS_CNN_KERNEL = 4,
    NTAS_CNN_TAPS = NTAS_CNN_KERNEL * NTAS_CNN_KERNEL,
    NTAS_CNN_CHANNELS = 3,
    NTAS_CNN_CONV_SIDE = NTAS_CNN_SIDE - NTAS_CNN_KERNEL + 1,             /* 25 */
    NTAS_CNN_CONV_POS = NTAS_CNN_CONV_SIDE * NTAS_CNN_CONV_SIDE,          /* 625 */
    NTAS_CNN_POOL_SIDE = NTAS_CNN_CONV_SIDE - 1,                          /* 24 */
    NTAS_CNN_FLAT = NTAS_CNN_CHANNELS * NTAS_CNN_POOL_SIDE * NTAS_CNN_POOL_SIDE, /* 1728 */
    NTAS_CNN_HIDDEN = 512,
    NTAS_CNN_FEATURES = 64,
    NTAS_CNN_CLASSES = 10
};

/* One pointer per parameter tensor, row-major, PyTorch's shapes. */
typedef struct {
    double *conv_w;   /* [3][4*4]  (out channel, ky*4 + kx) */
    double *conv_b;   /* [3] */
    double *fc1_w;    /* [512][1728] */
    double *fc1_b;    /* [512] */
    double *fc2_w;    /* [64][512] */
    double *fc2_b;    /* [64] */
    double *fc3_w;    /* [10][64] */
    double *fc3_b;    /* [10] */
} ntas_cnn_tensors;

enum { NTAS_CNN_N_TENSORS = 8 };

typedef struct {
    int max_batch;
    size_t n_params;
    /* All parameters in one block, in the order of ntas_cnn_tensors, so the
     * optimiser is one loop; w and dw point into params and grads. */
    double *params, *grads, *adam_m, *adam_v;
    ntas_cnn_tensors w, dw;
    int64_t adam_t;   /* AdamW steps taken since the moments were reset */

    /* Forward cache of the last batch (B <= max_batch images). */
    double *col;      /* [B][625][16] im2col patches: 4x4 input window of each conv position */
    double *conv;     /* [B][625][3] conv output (position-major) */
    int    *pool_arg; /* [B][1728] index in conv[b] of the max each pooled unit took */
    double *act;      /* [B][1728] ReLU(max-pool), flattened [c][y][x] */
    double *hidden;   /* [B][512] sigmoid output */
    double *features; /* [B][64] ReLU output: the features the NTA head reads */
    double *logits;   /* [B][10] */

    /* Backward scratch. */
    double *dlogits, *dfeatures, *dhidden, *dact, *dconv;

    /* float32 GEMMs (ntas_cnn_use_float32; NULL and 0 otherwise): each
     * layer's input and weights are rounded to float once per forward pass
     * and kept for the backward pass; products come back as doubles, so
     * biases, activations, the shard tree and AdamW stay double. */
    int float32;
    float *f_col, *f_act, *f_hidden, *f_features;   /* the layer inputs, as float */
    float *f_params;                                  /* every weight, as float (ntas_cnn_tensors order) */
    int add_grads;          /* 1: the backward pass adds the weight gradients to dw (shard sums) */
    int f_params_current;   /* 1 while f_params holds params (the pretraining's shards of one step share
                             * one rounding); 0: each forward pass rounds the weights it uses */
    float *f_dy, *f_out;                              /* scratch: an output gradient, a GEMM result */
} ntas_cnn;

/* Allocates a network for batches of up to max_batch images; parameters are
 * zero until ntas_cnn_init_params. */
int  ntas_cnn_init(ntas_cnn *net, int max_batch, char *err, size_t errlen);
void ntas_cnn_free(ntas_cnn *net);

/* Switches the network's GEMMs (conv as im2col, fc1..fc3, forward and
 * backward) to float32 with float32 inputs, the way the paper's JAX
 * pretraining ran (JAX's default dtype); allocates the float buffers.
 * Results stay deterministic for a given BLAS (and so bitwise equal across
 * part counts), but differ from the double path. 0, or -1 with err. */
int  ntas_cnn_use_float32(ntas_cnn *net, char *err, size_t errlen);

/* PyTorch's default init for Conv2d and Linear (kaiming_uniform_ with
 * a = sqrt(5), which gives bound 1/sqrt(fan_in), and the same bound for the
 * bias): every entry ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = 16, 1728,
 * 512, 64. Drawn tensor by tensor in the order of ntas_cnn_tensors, weights
 * before biases, one ntas_rng_uniform per entry. Suggested stream:
 * ntas_stream_key(seed, "cnn-init"). Also resets the AdamW state. */
void ntas_cnn_init_params(ntas_cnn *net, ntas_rng *rng);

/* Forward pass of B <= max_batch images X (B x 784, normalised pixels):
 * fills the cache, net->features and net->logits. */
void ntas_cnn_forward(ntas_cnn *net, const double *X, int B);

/* After ntas_cnn_forward(net, X, B): mean cross-entropy of the logits
 * against labels (each 0..9; returned) and its gradient w.r.t. every parameter, written
 * (not accumulated) to net->grads. With dX non-NULL also the gradient w.r.t.
 * the input, B x 784. */
double ntas_cnn_backward(ntas_cnn *net, const double *X, const uint8_t *labels, int B, double *dX);

/* Log-softmax + cross-entropy of B rows of K logits against class labels:
 * labels[b] < K; returns mean_b -log softmax(z_b)[y_b]; with dlogits non-NULL writes its
 * gradient (softmax(z_b) - onehot(y_b)) / B. Stable for any finite logits.
 * Shared with the NTA head on the features (SPEC-NOTES §8). */
double ntas_log_softmax_xent(const double *logits, const uint8_t *labels, int B, int K, double *dlogits);

/* Index of the largest of the K logits of a row (the first one on ties). */
int ntas_argmax(const double *row, int K);

/* Optimiser and schedule of the pretraining (SPEC-NOTES §8). */
typedef struct {
    int steps;              /* 3000 */
    int batch;              /* 512 */
    double lr;              /* 1e-3 */
    double beta1, beta2;    /* 0.9, 0.999 */
    double eps;             /* 1e-8 */
    double weight_decay;    /* 0.01: torch.optim.AdamW's default, on every tensor */
    uint64_t seed;          /* batches come from ntas_stream_key(seed, "cnn-batches") */
    int progress_every;     /* steps between progress calls (0: never) */
} ntas_cnn_train_opts;

void ntas_cnn_train_opts_defaults(ntas_cnn_train_opts *o);

/* One AdamW step as torch.optim.AdamW does it: p *= 1 - lr*wd; m, v moving
 * averages of g, g^2; p -= lr/(1 - beta1^t) * m / (sqrt(v)/sqrt(1 - beta2^t) + eps). */
void ntas_cnn_adamw_step(ntas_cnn *net, const ntas_cnn_train_opts *o);

/* The same update on any n parameters p with gradients g and moments m, v,
 * as step number t >= 1 (the CNN-alone head of cnn_head.h uses it). */
void ntas_adamw_update(double *p, const double *g, double *m, double *v, size_t n, int64_t t,
                       const ntas_cnn_train_opts *o);

/* Uniform random permutation of 0..n-1 (Fisher-Yates; unbiased integer draws
 * by Lemire's multiply-and-reject on ntas_rng_u32). */
void ntas_shuffle(int *idx, int n, ntas_rng *rng);

/* Called every progress_every steps and after the last one, with the loss of
 * that step's batch; a non-zero return abandons the pretraining. */
typedef int (*ntas_cnn_progress_fn)(void *ctx, int step, double batch_loss);

/* Trains the current parameters (initialise them first) for o->steps AdamW
 * steps, resetting the moments first. Batches: a permutation of the training
 * set per epoch from the "cnn-batches" stream, consumed o->batch images at a
 * time; an epoch ends when fewer than o->batch images remain (the rest is
 * skipped, like drop_last). Returns 0 when done, 1 when progress abandoned
 * it, -1 on an error (bad sizes, non-finite loss) with err filled. */
int ntas_cnn_pretrain(ntas_cnn *net, const ntas_idx_dataset *train, const ntas_cnn_train_opts *o,
                      ntas_cnn_progress_fn progress, void *ctx, char *err, size_t errlen);

/* ---- data-parallel pretraining --------------------------------------------
 *
 * Each batch is split into NTAS_CNN_SHARDS fixed shards (shard s holds the
 * batch's images s*B/S .. (s+1)*B/S - 1); the gradient of the batch's mean
 * loss is the sum of the shards' gradients (each scaled by 1/B, not by its
 * own size), added pairwise over the fixed binary tree of the shards:
 * ((g0+g1)+(g2+g3)). The shards are split into `parts` contiguous ranges
 * (part p computes p*S/parts .. (p+1)*S/parts - 1); each part sums the
 * largest tree nodes inside its range itself. The parameters (and the loss
 * after them) are split into `parts` contiguous slices; each part receives
 * its slice of every other part's node sums, finishes the same tree on its
 * slice, takes the AdamW step on its slice, and the parts then share the
 * new parameters. Every addition of the tree and every AdamW update is
 * elementwise and the same for any number of parts: the parameters come
 * out bitwise equal for 1, 2, 3, ... parts (given the same BLAS on each). */
enum { NTAS_CNN_SHARDS = 4 };

/* How the parts talk; the numeric code stays free of MPI (io/pretrain.c
 * implements it with MPI). All three calls are collective over the parts. */
typedef struct {
    int part, parts;   /* this process is part `part` of `parts` (0 <= part < parts) */
    /* Combines every part's status (0 go on, 1 stop requested, -1 failed):
     * returns -1 if any part failed, else 1 if any asked to stop, else 0. */
    int (*agree)(void *ctx, int status);
    /* Personalised exchange: this part sends send_n[q] doubles from
     * send + send_off[q] to part q, and receives recv_n[p] doubles from part
     * p, placed in part order in recv. 0, or -1 on failure. */
    int (*scatter)(void *ctx, const double *send, const size_t *send_n, const size_t *send_off, double *recv,
                   const size_t *recv_n);
    /* In place: buf is counts[0] doubles of part 0, then counts[1] of part
     * 1, ...; each part's own range goes to every part. 0, or -1. */
    int (*share)(void *ctx, double *buf, const size_t *counts);
    /* Optional (NULL: not offered): memory every part reads and writes, so
     * the pretraining's node sums and parameters move without copies (the
     * scatter and share above copy 2 x 3.7 MB per step on 2 parts). Each
     * part asks for `mine` bytes; bases[p] receives part p's region. 0 on
     * success with *handle set, 1 when the parts cannot share memory (on
     * several hosts: every part gets 1 and the copies are used), -1 on
     * failure. Collective, as are the two below. */
    int (*map_shared)(void *ctx, size_t mine, void **bases, void **handle);
    /* Every part's writes to the regions before it are seen by every part
     * after it (a barrier). 0, or -1. */
    int (*sync_shared)(void *ctx, void *handle);
    void (*unmap_shared)(void *ctx, void *handle);
    void *ctx;
} ntas_cnn_exchange;

/* One batch's gradient on every part: the gradient of the mean cross-entropy
 * of the B images X (labels y) summed over the shard tree as above (each
 * part its slice, then shared), written to net->grads; the batch loss is returned in *loss. Only this part's shard
 * images of X are read. NULL ex means one part. 0, or -1 with err (out of
 * memory, a failed exchange). Exposed so tests can compare part counts. */
int ntas_cnn_sharded_gradient(ntas_cnn *net, const double *X, const uint8_t *y, int B, const ntas_cnn_exchange *ex,
                              double *loss, char *err, size_t errlen);

/* ntas_cnn_pretrain, with every step's gradient by ntas_cnn_sharded_gradient
 * over the parts of ex (NULL: one part; ntas_cnn_pretrain is this with NULL).
 * Every part must call it with the same arguments; the progress callback's
 * stop request is agreed on by all parts before the next step, so they stop
 * together. Every part ends with the same parameters. */
int ntas_cnn_pretrain_parts(ntas_cnn *net, const ntas_idx_dataset *train, const ntas_cnn_train_opts *o,
                            const ntas_cnn_exchange *ex, ntas_cnn_progress_fn progress, void *ctx, char *err,
                            size_t errlen);

/* Fraction of set classified correctly (argmax of the logits) and, if
 * mean_loss is non-NULL, the mean cross-entropy; batches of max_batch. */
int ntas_cnn_accuracy(ntas_cnn *net, const ntas_idx_dataset *set, double *accuracy, double *mean_loss,
                      char *err, size_t errlen);

/* The 64 ReLU features of every image of set, out[n][64]. */
int ntas_cnn_features(ntas_cnn *net, const ntas_idx_dataset *set, double *out, char *err, size_t errlen);

#endif
