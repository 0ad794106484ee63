/* cnn — forward, backward, AdamW and pretraining of the feature CNN. See cnn.h.
 *
 * Layout choices: the conv is an im2col GEMM whose output is position-major
 * ([b][pos][c], the natural GEMM result); the max-pool reads it and writes
 * its output channel-major ([b][c][y][x]), the order of PyTorch's flatten,
 * so fc1's weight columns mean what they would there. Fully connected layers
 * are Y = X W^T + b with one GEMM each way.
 */
#include "ntasweep/models/cnn.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sizes and fan-ins of the tensors, in the order of ntas_cnn_tensors. */
static const size_t tensor_size[NTAS_CNN_N_TENSORS] = {
    NTAS_CNN_CHANNELS * NTAS_CNN_TAPS, NTAS_CNN_CHANNELS,
    (size_t)NTAS_CNN_HIDDEN * NTAS_CNN_FLAT, NTAS_CNN_HIDDEN,
    NTAS_CNN_FEATURES * NTAS_CNN_HIDDEN, NTAS_CNN_FEATURES,
    NTAS_CNN_CLASSES * NTAS_CNN_FEATURES, NTAS_CNN_CLASSES,
};
static const int tensor_fan_in[NTAS_CNN_N_TENSORS] = {
    NTAS_CNN_TAPS, NTAS_CNN_TAPS, NTAS_CNN_FLAT, NTAS_CNN_FLAT,
    NTAS_CNN_HIDDEN, NTAS_CNN_HIDDEN, NTAS_CNN_FEATURES, NTAS_CNN_FEATURES,
};

/* Points the tensors of t at consecutive slices of base, in declaration order. */
static void point_tensors(ntas_cnn_tensors *t, double *base)
{
    double **slot[NTAS_CNN_N_TENSORS] = {&t->conv_w, &t->conv_b, &t->fc1_w, &t->fc1_b,
                                         &t->fc2_w,  &t->fc2_b,  &t->fc3_w, &t->fc3_b};
    for (int k = 0; k < NTAS_CNN_N_TENSORS; k++) {
        *slot[k] = base;
        base += tensor_size[k];
    }
}

int ntas_cnn_init(ntas_cnn *net, int max_batch, char *err, size_t errlen)
{
    memset(net, 0, sizeof *net);
    if (max_batch < 1) {
        snprintf(err, errlen, "CNN batch size %d must be at least 1", max_batch);
        return -1;
    }
    net->max_batch = max_batch;
    for (int k = 0; k < NTAS_CNN_N_TENSORS; k++) net->n_params += tensor_size[k];
    const size_t B = (size_t)max_batch, np = net->n_params;
    net->params = calloc(np, sizeof(double));
    net->grads = calloc(np, sizeof(double));
    net->adam_m = calloc(np, sizeof(double));
    net->adam_v = calloc(np, sizeof(double));
    net->col = malloc(B * NTAS_CNN_CONV_POS * NTAS_CNN_TAPS * sizeof(double));
    net->conv = malloc(B * NTAS_CNN_CONV_POS * NTAS_CNN_CHANNELS * sizeof(double));
    net->pool_arg = malloc(B * NTAS_CNN_FLAT * sizeof(int));
    net->act = malloc(B * NTAS_CNN_FLAT * sizeof(double));
    net->hidden = malloc(B * NTAS_CNN_HIDDEN * sizeof(double));
    net->features = malloc(B * NTAS_CNN_FEATURES * sizeof(double));
    net->logits = malloc(B * NTAS_CNN_CLASSES * sizeof(double));
    net->dlogits = malloc(B * NTAS_CNN_CLASSES * sizeof(double));
    net->dfeatures = malloc(B * NTAS_CNN_FEATURES * sizeof(double));
    net->dhidden = malloc(B * NTAS_CNN_HIDDEN * sizeof(double));
    net->dact = malloc(B * NTAS_CNN_FLAT * sizeof(double));
    net->dconv = malloc(B * NTAS_CNN_CONV_POS * NTAS_CNN_CHANNELS * sizeof(double));
    if (!net->params || !net->grads || !net->adam_m || !net->adam_v || !net->col || !net->conv ||
        !net->pool_arg || !net->act || !net->hidden || !net->features || !net->logits ||
        !net->dlogits || !net->dfeatures || !net->dhidden || !net->dact || !net->dconv) {
        ntas_cnn_free(net);
        snprintf(err, errlen, "out of memory for a CNN with batches of %d images", max_batch);
        return -1;
    }
    point_tensors(&net->w, net->params);
    point_tensors(&net->dw, net->grads);
    return 0;
}

void ntas_cnn_free(ntas_cnn *net)
{
    double *all[] = {net->params, net->grads, net->adam_m, net->adam_v, net->col, net->conv,
                     net->act, net->hidden, net->features, net->logits, net->dlogits,
                     net->dfeatures, net->dhidden, net->dact, net->dconv};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) free(all[k]);
    free(net->pool_arg);
    memset(net, 0, sizeof *net);
}

/* Fresh optimiser state: zero moments, step count 0. */
static void reset_adamw(ntas_cnn *net)
{
    memset(net->adam_m, 0, net->n_params * sizeof(double));
    memset(net->adam_v, 0, net->n_params * sizeof(double));
    net->adam_t = 0;
}

void ntas_cnn_init_params(ntas_cnn *net, ntas_rng *rng)
{
    double *p = net->params;
    for (int k = 0; k < NTAS_CNN_N_TENSORS; k++) {
        const double bound = 1.0 / sqrt((double)tensor_fan_in[k]);
        for (size_t i = 0; i < tensor_size[k]; i++)
            p[i] = bound * (2.0 * ntas_rng_uniform(rng) - 1.0);
        p += tensor_size[k];
    }
    reset_adamw(net);
}

/* ---- layers ---------------------------------------------------------------- */

/* Y (B x n_out) = X (B x n_in) W^T + b, W being n_out x n_in. */
static void linear_forward(double *Y, const double *X, const double *W, const double *b, int B,
                           int n_out, int n_in)
{
    for (int r = 0; r < B; r++) memcpy(Y + (size_t)r * n_out, b, (size_t)n_out * sizeof *b);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, n_out, n_in, 1.0, X, n_in, W, n_in,
                1.0, Y, n_out);
}

/* Given dY, the gradient w.r.t. Y of linear_forward: dW = dY^T X,
 * db = column sums of dY, and (when dX is non-NULL) dX = dY W. */
static void linear_backward(const double *dY, const double *X, const double *W, double *dW, double *db,
                            double *dX, int B, int n_out, int n_in)
{
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n_out, n_in, B, 1.0, dY, n_out, X, n_in,
                0.0, dW, n_in);
    memset(db, 0, (size_t)n_out * sizeof *db);
    for (int r = 0; r < B; r++)
        for (int j = 0; j < n_out; j++) db[j] += dY[(size_t)r * n_out + j];
    if (dX)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, n_in, n_out, 1.0, dY, n_out, W, n_in,
                    0.0, dX, n_in);
}

enum { CONV_PER_IMAGE = NTAS_CNN_CONV_POS * NTAS_CNN_CHANNELS };

void ntas_cnn_forward(ntas_cnn *net, const double *X, int B)
{
    const int S = NTAS_CNN_SIDE, CS = NTAS_CNN_CONV_SIDE, PS = NTAS_CNN_POOL_SIDE, K = NTAS_CNN_KERNEL;
    const int C = NTAS_CNN_CHANNELS;

    /* im2col: row (b, oy, ox) holds the 4x4 window at (oy, ox), tap ky*4+kx. */
    for (int b = 0; b < B; b++) {
        const double *img = X + (size_t)b * NTAS_CNN_PIXELS;
        double *col = net->col + (size_t)b * NTAS_CNN_CONV_POS * NTAS_CNN_TAPS;
        for (int oy = 0; oy < CS; oy++)
            for (int ox = 0; ox < CS; ox++)
                for (int ky = 0; ky < K; ky++)
                    memcpy(col + ((size_t)(oy * CS + ox) * NTAS_CNN_TAPS + (size_t)ky * K),
                           img + (oy + ky) * S + ox, (size_t)K * sizeof *img);
    }
    /* conv[b][pos][c] = sum_tap col[b][pos][tap] conv_w[c][tap] + conv_b[c]. */
    linear_forward(net->conv, net->col, net->w.conv_w, net->w.conv_b, B * NTAS_CNN_CONV_POS, C,
                   NTAS_CNN_TAPS);

    /* Max-pool 2x2, stride 1, then ReLU. The first maximum in window order
     * wins a tie, as in PyTorch; ReLU after the max equals the max after
     * ReLU, and its gradient at 0 is 0. */
    for (int b = 0; b < B; b++) {
        const double *cv = net->conv + (size_t)b * CONV_PER_IMAGE;
        double *act = net->act + (size_t)b * NTAS_CNN_FLAT;
        int *arg = net->pool_arg + (size_t)b * NTAS_CNN_FLAT;
        for (int c = 0; c < C; c++)
            for (int py = 0; py < PS; py++)
                for (int px = 0; px < PS; px++) {
                    const int base = (py * CS + px) * C + c;
                    const int cand[4] = {base, base + C, base + CS * C, base + CS * C + C};
                    int best = cand[0];
                    for (int q = 1; q < 4; q++)
                        if (cv[cand[q]] > cv[best]) best = cand[q];
                    const int o = (c * PS + py) * PS + px;
                    act[o] = cv[best] < 0.0 ? 0.0 : cv[best];
                    arg[o] = best;
                }
    }

    linear_forward(net->hidden, net->act, net->w.fc1_w, net->w.fc1_b, B, NTAS_CNN_HIDDEN, NTAS_CNN_FLAT);
    for (size_t i = 0; i < (size_t)B * NTAS_CNN_HIDDEN; i++)
        net->hidden[i] = 1.0 / (1.0 + exp(-net->hidden[i]));
    linear_forward(net->features, net->hidden, net->w.fc2_w, net->w.fc2_b, B, NTAS_CNN_FEATURES,
                   NTAS_CNN_HIDDEN);
    for (size_t i = 0; i < (size_t)B * NTAS_CNN_FEATURES; i++)
        if (net->features[i] < 0.0) net->features[i] = 0.0;
    linear_forward(net->logits, net->features, net->w.fc3_w, net->w.fc3_b, B, NTAS_CNN_CLASSES,
                   NTAS_CNN_FEATURES);
}

double ntas_log_softmax_xent(const double *logits, const uint8_t *labels, int B, int K, double *dlogits)
{
    double total = 0.0, inv_b = 1.0 / B;
    for (int b = 0; b < B; b++) {
        const double *z = logits + (size_t)b * K;
        double m = z[0];
        for (int k = 1; k < K; k++) m = z[k] > m ? z[k] : m;
        double s = 0.0;
        for (int k = 0; k < K; k++) s += exp(z[k] - m);
        const double lse = m + log(s);
        total += lse - z[labels[b]];
        if (dlogits) {
            double *d = dlogits + (size_t)b * K;
            for (int k = 0; k < K; k++) d[k] = exp(z[k] - lse) * inv_b;
            d[labels[b]] -= inv_b;
        }
    }
    return total * inv_b;
}

int ntas_argmax(const double *row, int K)
{
    int best = 0;
    for (int k = 1; k < K; k++)
        if (row[k] > row[best]) best = k;
    return best;
}

double ntas_cnn_backward(ntas_cnn *net, const double *X, const uint8_t *labels, int B, double *dX)
{
    const int C = NTAS_CNN_CHANNELS;
    double loss = ntas_log_softmax_xent(net->logits, labels, B, NTAS_CNN_CLASSES, net->dlogits);

    linear_backward(net->dlogits, net->features, net->w.fc3_w, net->dw.fc3_w, net->dw.fc3_b,
                    net->dfeatures, B, NTAS_CNN_CLASSES, NTAS_CNN_FEATURES);
    for (size_t i = 0; i < (size_t)B * NTAS_CNN_FEATURES; i++)
        if (!(net->features[i] > 0.0)) net->dfeatures[i] = 0.0;

    linear_backward(net->dfeatures, net->hidden, net->w.fc2_w, net->dw.fc2_w, net->dw.fc2_b,
                    net->dhidden, B, NTAS_CNN_FEATURES, NTAS_CNN_HIDDEN);
    for (size_t i = 0; i < (size_t)B * NTAS_CNN_HIDDEN; i++) {
        const double h = net->hidden[i];
        net->dhidden[i] *= h * (1.0 - h);
    }

    linear_backward(net->dhidden, net->act, net->w.fc1_w, net->dw.fc1_w, net->dw.fc1_b, net->dact, B,
                    NTAS_CNN_HIDDEN, NTAS_CNN_FLAT);

    /* Through ReLU and the pool: each active pooled unit sends its gradient
     * to the conv output it took; with stride 1, windows overlap, so one conv
     * output can receive from several units. */
    memset(net->dconv, 0, (size_t)B * CONV_PER_IMAGE * sizeof *net->dconv);
    for (int b = 0; b < B; b++) {
        const double *act = net->act + (size_t)b * NTAS_CNN_FLAT;
        const double *dact = net->dact + (size_t)b * NTAS_CNN_FLAT;
        const int *arg = net->pool_arg + (size_t)b * NTAS_CNN_FLAT;
        double *dconv = net->dconv + (size_t)b * CONV_PER_IMAGE;
        for (int o = 0; o < NTAS_CNN_FLAT; o++)
            if (act[o] > 0.0) dconv[arg[o]] += dact[o];
    }

    linear_backward(net->dconv, net->col, net->w.conv_w, net->dw.conv_w, net->dw.conv_b, NULL,
                    B * NTAS_CNN_CONV_POS, C, NTAS_CNN_TAPS);

    if (dX) {
        /* col2im of dconv W_conv, without materialising the B x 625 x 16 product. */
        const int S = NTAS_CNN_SIDE, CS = NTAS_CNN_CONV_SIDE, K = NTAS_CNN_KERNEL;
        memset(dX, 0, (size_t)B * NTAS_CNN_PIXELS * sizeof *dX);
        for (int b = 0; b < B; b++) {
            const double *dconv = net->dconv + (size_t)b * CONV_PER_IMAGE;
            double *dimg = dX + (size_t)b * NTAS_CNN_PIXELS;
            for (int oy = 0; oy < CS; oy++)
                for (int ox = 0; ox < CS; ox++) {
                    const double *g = dconv + (oy * CS + ox) * C;
                    for (int tap = 0; tap < NTAS_CNN_TAPS; tap++) {
                        double s = 0.0;
                        for (int c = 0; c < C; c++) s += g[c] * net->w.conv_w[c * NTAS_CNN_TAPS + tap];
                        dimg[(oy + tap / K) * S + ox + tap % K] += s;
                    }
                }
        }
    }
    return loss;
}

/* ---- optimiser and pretraining -------------------------------------------- */

void ntas_cnn_train_opts_defaults(ntas_cnn_train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->steps = 3000;
    o->batch = 512;
    o->lr = 1e-3;
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->eps = 1e-8;
    o->weight_decay = 0.01;
    o->seed = 0;
    o->progress_every = 100;
}

void ntas_adamw_update(double *p, const double *g, double *m, double *v, size_t n, int64_t t,
                       const ntas_cnn_train_opts *o)
{
    const double step_size = o->lr / (1.0 - pow(o->beta1, (double)t));
    const double bc2_sqrt = sqrt(1.0 - pow(o->beta2, (double)t));
    const double decay = 1.0 - o->lr * o->weight_decay;
    const double b1 = o->beta1, b2 = o->beta2, eps = o->eps;
    for (size_t i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1.0 - b1) * g[i];
        v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
        p[i] = p[i] * decay - step_size * m[i] / (sqrt(v[i]) / bc2_sqrt + eps);
    }
}

void ntas_cnn_adamw_step(ntas_cnn *net, const ntas_cnn_train_opts *o)
{
    net->adam_t++;
    ntas_adamw_update(net->params, net->grads, net->adam_m, net->adam_v, net->n_params, net->adam_t, o);
}

/* Uniform integer in [0, m), m >= 1: Lemire's multiply-shift with rejection
 * of the (2^32 mod m) low products that would bias it. */
static uint32_t uniform_below(ntas_rng *rng, uint32_t m)
{
    uint64_t prod = (uint64_t)ntas_rng_u32(rng) * m;
    uint32_t low = (uint32_t)prod;
    if (low < m) {
        const uint32_t threshold = (0u - m) % m;
        while (low < threshold) {
            prod = (uint64_t)ntas_rng_u32(rng) * m;
            low = (uint32_t)prod;
        }
    }
    return (uint32_t)(prod >> 32);
}

void ntas_shuffle(int *idx, int n, ntas_rng *rng)
{
    for (int i = 0; i < n; i++) idx[i] = i;
    for (int i = n - 1; i > 0; i--) {
        const int j = (int)uniform_below(rng, (uint32_t)i + 1u);
        const int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

static int check_images(const ntas_idx_dataset *set, const char *what, char *err, size_t errlen)
{
    if (set->rows != NTAS_CNN_SIDE || set->cols != NTAS_CNN_SIDE || set->n < 1) {
        snprintf(err, errlen, "%s: the CNN needs 28 x 28 images, got %d images of %d x %d", what, set->n,
                 set->rows, set->cols);
        return -1;
    }
    return 0;
}

int ntas_cnn_pretrain(ntas_cnn *net, const ntas_idx_dataset *train, const ntas_cnn_train_opts *o,
                      ntas_cnn_progress_fn progress, void *ctx, char *err, size_t errlen)
{
    if (check_images(train, "pretraining set", err, errlen) != 0) return -1;
    const int B = o->batch, n = train->n;
    if (B < 1 || B > net->max_batch || B > n || o->steps < 0) {
        snprintf(err, errlen, "pretraining batch %d must be in 1..%d (network) and at most the %d images, "
                 "steps %d must be >= 0", B, net->max_batch, n, o->steps);
        return -1;
    }
    int *perm = malloc((size_t)n * sizeof *perm);
    double *X = malloc((size_t)B * NTAS_CNN_PIXELS * sizeof *X);
    uint8_t *y = malloc((size_t)B);
    int rc = 0;
    if (!perm || !X || !y) {
        snprintf(err, errlen, "out of memory for pretraining batches of %d images", B);
        rc = -1;
        goto done;
    }

    reset_adamw(net);
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_stream_key(o->seed, "cnn-batches"));
    int next = n; /* position in the epoch's permutation; n forces the first shuffle */
    for (int step = 0; step < o->steps; step++) {
        if (next + B > n) {
            ntas_shuffle(perm, n, &rng);
            next = 0;
        }
        for (int i = 0; i < B; i++) {
            const int k = perm[next + i];
            memcpy(X + (size_t)i * NTAS_CNN_PIXELS, train->pixels + (size_t)k * NTAS_CNN_PIXELS,
                   NTAS_CNN_PIXELS * sizeof *X);
            y[i] = train->labels[k];
        }
        next += B;
        ntas_cnn_forward(net, X, B);
        const double loss = ntas_cnn_backward(net, X, y, B, NULL);
        if (!isfinite(loss)) {
            snprintf(err, errlen, "CNN pretraining diverged: batch loss %g at step %d", loss, step);
            rc = -1;
            goto done;
        }
        ntas_cnn_adamw_step(net, o);
        const int last = step + 1 == o->steps;
        if (progress && o->progress_every > 0 && ((step + 1) % o->progress_every == 0 || last) &&
            progress(ctx, step + 1, loss)) {
            rc = 1;
            goto done;
        }
    }
done:
    free(perm);
    free(X);
    free(y);
    return rc;
}

int ntas_cnn_accuracy(ntas_cnn *net, const ntas_idx_dataset *set, double *accuracy, double *mean_loss,
                      char *err, size_t errlen)
{
    if (check_images(set, "evaluation set", err, errlen) != 0) return -1;
    int correct = 0;
    double loss = 0.0;
    for (int start = 0; start < set->n; start += net->max_batch) {
        const int B = set->n - start < net->max_batch ? set->n - start : net->max_batch;
        ntas_cnn_forward(net, set->pixels + (size_t)start * NTAS_CNN_PIXELS, B);
        for (int b = 0; b < B; b++)
            correct += ntas_argmax(net->logits + (size_t)b * NTAS_CNN_CLASSES, NTAS_CNN_CLASSES) ==
                       set->labels[start + b];
        if (mean_loss)
            loss += B * ntas_log_softmax_xent(net->logits, set->labels + start, B, NTAS_CNN_CLASSES, NULL);
    }
    *accuracy = (double)correct / set->n;
    if (mean_loss) *mean_loss = loss / set->n;
    return 0;
}

int ntas_cnn_features(ntas_cnn *net, const ntas_idx_dataset *set, double *out, char *err, size_t errlen)
{
    if (check_images(set, "feature set", err, errlen) != 0) return -1;
    for (int start = 0; start < set->n; start += net->max_batch) {
        const int B = set->n - start < net->max_batch ? set->n - start : net->max_batch;
        ntas_cnn_forward(net, set->pixels + (size_t)start * NTAS_CNN_PIXELS, B);
        memcpy(out + (size_t)start * NTAS_CNN_FEATURES, net->features,
               (size_t)B * NTAS_CNN_FEATURES * sizeof *out);
    }
    return 0;
}
