/* cnn — forward, backward, AdamW and pretraining of the feature CNN. See cnn.h.
 *
 * Layout choices: the conv is an im2col GEMM whose output is position-major
 * ([b][pos][c], the natural GEMM result); the max-pool reads it and writes
 * its output channel-major ([b][c][y][x]), the order of PyTorch's flatten,
 * so fc1's weight columns mean what they would there. Fully connected layers
 * are Y = X W^T + b with one GEMM each way.
 */
#include "ntasweep/models/cnn.h"
#include "ntasweep/core/err.h"

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
        ntas_set_err(err, errlen, "CNN batch size %d must be at least 1", max_batch);
        return -1;
    }
    net->max_batch = max_batch;
    for (int k = 0; k < NTAS_CNN_N_TENSORS; k++) net->n_params += tensor_size[k];
    const size_t B = (size_t)max_batch, np = net->n_params;
    /* One spare slot after the parameters and the gradients: the batch
     * loss travels there when the parts share them (ntas_cnn_pretrain_parts). */
    net->params = calloc(np + 1, sizeof(double));
    net->grads = calloc(np + 1, sizeof(double));
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
        ntas_set_err(err, errlen, "out of memory for a CNN with batches of %d images", max_batch);
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
    float *all_f[] = {net->f_col, net->f_act, net->f_hidden, net->f_features, net->f_params, net->f_dy, net->f_out};
    for (size_t k = 0; k < sizeof all_f / sizeof all_f[0]; k++) free(all_f[k]);
    free(net->pool_arg);
    memset(net, 0, sizeof *net);
}

enum { CONV_PER_IMAGE = NTAS_CNN_CONV_POS * NTAS_CNN_CHANNELS };

int ntas_cnn_use_float32(ntas_cnn *net, char *err, size_t errlen)
{
    if (net->float32) return 0;
    const size_t B = (size_t)net->max_batch;
    /* f_dy holds the largest output gradient (the conv's), f_out the
     * largest GEMM result (fc1's weight gradient, or a batch's conv output
     * or fc1 input gradient, whichever is larger). */
    size_t out = (size_t)NTAS_CNN_HIDDEN * NTAS_CNN_FLAT;
    if (B * CONV_PER_IMAGE > out) out = B * CONV_PER_IMAGE;
    if (B * NTAS_CNN_FLAT > out) out = B * NTAS_CNN_FLAT;
    net->f_col = malloc(B * NTAS_CNN_CONV_POS * NTAS_CNN_TAPS * sizeof(float));
    net->f_act = malloc(B * NTAS_CNN_FLAT * sizeof(float));
    net->f_hidden = malloc(B * NTAS_CNN_HIDDEN * sizeof(float));
    net->f_features = malloc(B * NTAS_CNN_FEATURES * sizeof(float));
    net->f_params = malloc(net->n_params * sizeof(float));
    net->f_dy = malloc(B * CONV_PER_IMAGE * sizeof(float));
    net->f_out = malloc(out * sizeof(float));
    if (!net->f_col || !net->f_act || !net->f_hidden || !net->f_features || !net->f_params || !net->f_dy ||
        !net->f_out) {
        ntas_set_err(err, errlen, "out of memory for the float32 copies of a CNN with batches of %d images",
                     net->max_batch);
        return -1;   /* ntas_cnn_free releases what was allocated */
    }
    net->float32 = 1;
    return 0;
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

static void to_float(float *dst, const double *src, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] = (float)src[i];
}

/* The float copy of weight tensor W (a slice of net->params). */
static float *float_weights(const ntas_cnn *net, const double *W)
{
    return net->f_params + (W - net->params);
}

/* Y (B x n_out) = X (B x n_in) W^T + b, W being n_out x n_in. In float32
 * mode the product is Xf (X as float) times W rounded to float here (kept
 * in f_params for the backward pass), and b is added in double. */
static void linear_forward(ntas_cnn *net, double *Y, const double *X, const float *Xf, const double *W,
                           const double *b, int B, int n_out, int n_in)
{
    if (net->float32) {
        float *Wf = float_weights(net, W);
        if (!net->f_params_current) to_float(Wf, W, (size_t)n_out * n_in);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, n_out, n_in, 1.0f, Xf, n_in, Wf, n_in, 0.0f,
                    net->f_out, n_out);
        for (int r = 0; r < B; r++)
            for (int j = 0; j < n_out; j++)
                Y[(size_t)r * n_out + j] = (double)net->f_out[(size_t)r * n_out + j] + b[j];
        return;
    }
    for (int r = 0; r < B; r++) memcpy(Y + (size_t)r * n_out, b, (size_t)n_out * sizeof *b);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, n_out, n_in, 1.0, X, n_in, W, n_in,
                1.0, Y, n_out);
}

/* dst = src, or with add dst = dst + src (one rounding each, as a separate sum would). */
static void from_float(double *dst, const float *src, size_t n, int add)
{
    if (add)
        for (size_t i = 0; i < n; i++) dst[i] += (double)src[i];
    else
        for (size_t i = 0; i < n; i++) dst[i] = (double)src[i];
}

/* Given dY, the gradient w.r.t. Y of linear_forward: dW = dY^T X,
 * db = column sums of dY, and (when dX is non-NULL) dX = dY W. In float32
 * mode the products take dY as float and the forward pass's float X and W;
 * db is summed in double either way. */
static void linear_backward(ntas_cnn *net, const double *dY, const double *X, const float *Xf, const double *W,
                            double *dW, double *db, double *dX, int B, int n_out, int n_in)
{
    /* net->add_grads (float32 only): dW and db are added to, not written. */
    double col_sum[NTAS_CNN_HIDDEN];   /* the widest layer's outputs */
    double *sums = net->add_grads ? col_sum : db;
    memset(sums, 0, (size_t)n_out * sizeof *sums);
    for (int r = 0; r < B; r++)
        for (int j = 0; j < n_out; j++) sums[j] += dY[(size_t)r * n_out + j];
    if (net->add_grads)
        for (int j = 0; j < n_out; j++) db[j] += col_sum[j];
    if (net->float32) {
        const float *Wf = float_weights(net, W);
        to_float(net->f_dy, dY, (size_t)B * n_out);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n_out, n_in, B, 1.0f, net->f_dy, n_out, Xf, n_in,
                    0.0f, net->f_out, n_in);
        from_float(dW, net->f_out, (size_t)n_out * n_in, net->add_grads);
        if (dX) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, n_in, n_out, 1.0f, net->f_dy, n_out, Wf,
                        n_in, 0.0f, net->f_out, n_in);
            from_float(dX, net->f_out, (size_t)B * n_in, 0);
        }
        return;
    }
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n_out, n_in, B, 1.0, dY, n_out, X, n_in,
                0.0, dW, n_in);
    if (dX)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, n_in, n_out, 1.0, dY, n_out, W, n_in,
                    0.0, dX, n_in);
}

void ntas_cnn_forward(ntas_cnn *net, const double *X, int B)
{
    const int S = NTAS_CNN_SIDE, CS = NTAS_CNN_CONV_SIDE, PS = NTAS_CNN_POOL_SIDE, K = NTAS_CNN_KERNEL;
    const int C = NTAS_CNN_CHANNELS;

    /* im2col: row (b, oy, ox) holds the 4x4 window at (oy, ox), tap ky*4+kx
     * (straight into the float copy in float32 mode). */
    for (int b = 0; b < B; b++) {
        const double *img = X + (size_t)b * NTAS_CNN_PIXELS;
        const size_t at = (size_t)b * NTAS_CNN_CONV_POS * NTAS_CNN_TAPS;
        for (int oy = 0; oy < CS; oy++)
            for (int ox = 0; ox < CS; ox++)
                for (int ky = 0; ky < K; ky++) {
                    const size_t o = at + (size_t)(oy * CS + ox) * NTAS_CNN_TAPS + (size_t)ky * K;
                    const double *src = img + (oy + ky) * S + ox;
                    if (net->float32) to_float(net->f_col + o, src, (size_t)K);
                    else memcpy(net->col + o, src, (size_t)K * sizeof *img);
                }
    }
    /* conv[b][pos][c] = sum_tap col[b][pos][tap] conv_w[c][tap] + conv_b[c]. */
    linear_forward(net, net->conv, net->col, net->f_col, net->w.conv_w, net->w.conv_b, B * NTAS_CNN_CONV_POS, C,
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

    if (net->float32) to_float(net->f_act, net->act, (size_t)B * NTAS_CNN_FLAT);
    linear_forward(net, net->hidden, net->act, net->f_act, net->w.fc1_w, net->w.fc1_b, B, NTAS_CNN_HIDDEN,
                   NTAS_CNN_FLAT);
    for (size_t i = 0; i < (size_t)B * NTAS_CNN_HIDDEN; i++)
        net->hidden[i] = 1.0 / (1.0 + exp(-net->hidden[i]));
    if (net->float32) to_float(net->f_hidden, net->hidden, (size_t)B * NTAS_CNN_HIDDEN);
    linear_forward(net, net->features, net->hidden, net->f_hidden, net->w.fc2_w, net->w.fc2_b, B,
                   NTAS_CNN_FEATURES, NTAS_CNN_HIDDEN);
    for (size_t i = 0; i < (size_t)B * NTAS_CNN_FEATURES; i++)
        if (net->features[i] < 0.0) net->features[i] = 0.0;
    if (net->float32) to_float(net->f_features, net->features, (size_t)B * NTAS_CNN_FEATURES);
    linear_forward(net, net->logits, net->features, net->f_features, net->w.fc3_w, net->w.fc3_b, B,
                   NTAS_CNN_CLASSES, NTAS_CNN_FEATURES);
}

/* ntas_log_softmax_xent with the mean's 1/B replaced by `scale`: a shard of
 * a batch scales by 1 / (the whole batch's size), so that the shards'
 * losses and gradients add up to the batch's. */
static double xent_scaled(const double *logits, const uint8_t *labels, int B, int K, double inv_b, double *dlogits)
{
    double total = 0.0;
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

double ntas_log_softmax_xent(const double *logits, const uint8_t *labels, int B, int K, double *dlogits)
{
    return xent_scaled(logits, labels, B, K, 1.0 / B, dlogits);
}

int ntas_argmax(const double *row, int K)
{
    int best = 0;
    for (int k = 1; k < K; k++)
        if (row[k] > row[best]) best = k;
    return best;
}

/* ntas_cnn_backward of a loss scaled by inv_total (1/B for the batch's mean). */
static double backward_scaled(ntas_cnn *net, const double *X, const uint8_t *labels, int B, double inv_total,
                              double *dX)
{
    const int C = NTAS_CNN_CHANNELS;
    double loss = xent_scaled(net->logits, labels, B, NTAS_CNN_CLASSES, inv_total, net->dlogits);

    linear_backward(net, net->dlogits, net->features, net->f_features, net->w.fc3_w, net->dw.fc3_w, net->dw.fc3_b,
                    net->dfeatures, B, NTAS_CNN_CLASSES, NTAS_CNN_FEATURES);
    for (size_t i = 0; i < (size_t)B * NTAS_CNN_FEATURES; i++)
        if (!(net->features[i] > 0.0)) net->dfeatures[i] = 0.0;

    linear_backward(net, net->dfeatures, net->hidden, net->f_hidden, net->w.fc2_w, net->dw.fc2_w, net->dw.fc2_b,
                    net->dhidden, B, NTAS_CNN_FEATURES, NTAS_CNN_HIDDEN);
    for (size_t i = 0; i < (size_t)B * NTAS_CNN_HIDDEN; i++) {
        const double h = net->hidden[i];
        net->dhidden[i] *= h * (1.0 - h);
    }

    linear_backward(net, net->dhidden, net->act, net->f_act, net->w.fc1_w, net->dw.fc1_w, net->dw.fc1_b, net->dact, B,
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

    linear_backward(net, net->dconv, net->col, net->f_col, net->w.conv_w, net->dw.conv_w, net->dw.conv_b, NULL,
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

double ntas_cnn_backward(ntas_cnn *net, const double *X, const uint8_t *labels, int B, double *dX)
{
    return backward_scaled(net, X, labels, B, 1.0 / B, dX);
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

/* AdamW with the gradient g = a, or with add set g = a + b (the shard
 * tree's last addition, made here so the sum is never written to memory
 * and read back: the same one rounding per element). */
static inline void adamw_core(double *p, const double *a, const double *b, int add, double *m, double *v, size_t n,
                              int64_t t, const ntas_cnn_train_opts *o)
{
    const double step_size = o->lr / (1.0 - pow(o->beta1, (double)t));
    const double bc2_sqrt = sqrt(1.0 - pow(o->beta2, (double)t));
    const double decay = 1.0 - o->lr * o->weight_decay;
    const double b1 = o->beta1, b2 = o->beta2, eps = o->eps;
    for (size_t i = 0; i < n; i++) {
        const double g = add ? a[i] + b[i] : a[i];
        m[i] = b1 * m[i] + (1.0 - b1) * g;
        v[i] = b2 * v[i] + (1.0 - b2) * g * g;
        p[i] = p[i] * decay - step_size * m[i] / (sqrt(v[i]) / bc2_sqrt + eps);
    }
}

void ntas_adamw_update(double *p, const double *g, double *m, double *v, size_t n, int64_t t,
                       const ntas_cnn_train_opts *o)
{
    adamw_core(p, g, NULL, 0, m, v, n, t, o);
}

/* ntas_adamw_update with the gradient a + b, or a when b is NULL. */
static void adamw_update_sum(double *p, const double *a, const double *b, double *m, double *v, size_t n, int64_t t,
                             const ntas_cnn_train_opts *o)
{
    if (b) adamw_core(p, a, b, 1, m, v, n, t, o);
    else adamw_core(p, a, NULL, 0, m, v, n, t, o);
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
        ntas_set_err(err, errlen, "%s: the CNN needs 28 x 28 images, got %d images of %d x %d", what, set->n,
                 set->rows, set->cols);
        return -1;
    }
    return 0;
}

/* ---- data-parallel gradient over the shard tree (cnn.h) ------------------- */

enum { SHARD_LEVELS = 2, MAX_NODES = 2 * NTAS_CNN_SHARDS };
_Static_assert(NTAS_CNN_SHARDS == 1 << SHARD_LEVELS, "the shards are the leaves of a full binary tree");

typedef struct { int lo, hi; } shard_node;   /* the shards lo .. hi-1 of one tree node */

/* One part's view of the tree. The node sums are blocks of `block`
 * doubles (every parameter's gradient, then the loss); block index i belongs
 * to slice q = the part q with slice_lo(q) <= i < slice_lo(q + 1). Each part
 * finishes the tree and AdamW on its own slice only, and the parts then
 * share the new parameters: the tree's additions and AdamW are elementwise,
 * so which part does an element changes none of its bits. */
typedef struct {
    int parts, part;
    size_t block;                 /* doubles per node sum: every parameter's gradient, then the loss */
    size_t lo, len;               /* this part's slice of a block */
    int n_all, mine_first, n_mine;
    shard_node all[MAX_NODES];    /* every part's nodes, part by part (distinct nodes: at most 2S-1) */
    size_t *send_n, *send_off;    /* [parts] doubles this part sends to each part, from where in send */
    size_t *recv_n;               /* [parts] doubles each part sends this part (its nodes' slices of mine) */
    size_t *share_n;              /* [parts] slice lengths (the parameter exchange) */
    double *nodes;                /* [n_mine][block] this part's node sums */
    double *send;                 /* nodes, or (more than one node) their slices packed by destination */
    double *recv;                 /* [n_all][len] every node's slice of mine, in w->all order */
    const double *node_at[MAX_NODES];   /* this part's slice of each node of all[]: in recv, or shared */
    double *sum, *scratch[SHARD_LEVELS];
    /* Pretraining on parts that share memory (map_shared_work): the node
     * sums lie in each part's shared region and are read in place, and one
     * copy of the parameters (and their float copy) serves every part. */
    const ntas_cnn_exchange *ex;
    void *shm;                    /* the regions' handle; NULL: the exchange copies */
    double *shared_params;        /* block doubles (the loss last), after part 0's node sums */
    float *shared_f_params;       /* float32: n_params floats, after them */
} shard_work;

static size_t slice_lo(size_t block, int q, int parts)
{
    return (size_t)((unsigned long long)block * (unsigned long long)q / (unsigned long long)parts);
}

/* Images of shard s of a batch of B: [*lo, *hi). */
static void shard_images(int B, int s, int *lo, int *hi)
{
    *lo = (int)((int64_t)s * B / NTAS_CNN_SHARDS);
    *hi = (int)((int64_t)(s + 1) * B / NTAS_CNN_SHARDS);
}

/* Shards of part p of `parts`: [*first, *end). */
static void part_shards(int p, int parts, int *first, int *end)
{
    *first = (int)((int64_t)p * NTAS_CNN_SHARDS / parts);
    *end = (int)((int64_t)(p + 1) * NTAS_CNN_SHARDS / parts);
}

/* The largest tree nodes inside the shards [a, b), left to right. */
static void cover(int lo, int hi, int a, int b, shard_node *out, int *n)
{
    if (hi <= a || b <= lo) return;
    if (a <= lo && hi <= b) {
        out[(*n)++] = (shard_node){lo, hi};
        return;
    }
    cover(lo, (lo + hi) / 2, a, b, out, n);
    cover((lo + hi) / 2, hi, a, b, out, n);
}

static int node_depth(shard_node nd)
{
    int d = 0;
    for (int len = NTAS_CNN_SHARDS; len > nd.hi - nd.lo; len /= 2) d++;
    return d;
}

static void shard_work_free(shard_work *w)
{
    if (w->shm) {
        w->ex->unmap_shared(w->ex->ctx, w->shm);
    } else {
        if (w->send != w->nodes) free(w->send);
        if (w->recv != w->nodes) free(w->recv);
        free(w->nodes);
    }
    free(w->sum);
    for (int k = 0; k < SHARD_LEVELS; k++) free(w->scratch[k]);
    free(w->send_n);
    free(w->send_off);
    free(w->recv_n);
    free(w->share_n);
    memset(w, 0, sizeof *w);
}

static int shard_work_init(shard_work *w, const ntas_cnn *net, const ntas_cnn_exchange *ex)
{
    memset(w, 0, sizeof *w);
    w->parts = ex ? ex->parts : 1;
    w->part = ex ? ex->part : 0;
    if (w->parts < 1 || w->part < 0 || w->part >= w->parts) return -1;
    w->block = net->n_params + 1;
    w->lo = slice_lo(w->block, w->part, w->parts);
    w->len = slice_lo(w->block, w->part + 1, w->parts) - w->lo;
    const size_t P = (size_t)w->parts;
    w->send_n = calloc(P, sizeof *w->send_n);
    w->send_off = calloc(P, sizeof *w->send_off);
    w->recv_n = calloc(P, sizeof *w->recv_n);
    w->share_n = calloc(P, sizeof *w->share_n);
    if (!w->send_n || !w->send_off || !w->recv_n || !w->share_n) {
        shard_work_free(w);
        return -1;
    }
    for (int p = 0; p < w->parts; p++) {
        int first, end, n0 = w->n_all;
        part_shards(p, w->parts, &first, &end);
        cover(0, NTAS_CNN_SHARDS, first, end, w->all, &w->n_all);
        w->recv_n[p] = (size_t)(w->n_all - n0) * w->len;
        w->share_n[p] = slice_lo(w->block, p + 1, w->parts) - slice_lo(w->block, p, w->parts);
        if (p == w->part) {
            w->mine_first = n0;
            w->n_mine = w->n_all - n0;
        }
    }
    /* Where each destination's slices start in send: inside the one node
     * sum itself (no copy), or packed by pack_slices. */
    for (int q = 0; q < w->parts; q++) {
        w->send_n[q] = (size_t)w->n_mine * w->share_n[q];
        w->send_off[q] = w->n_mine == 1 ? slice_lo(w->block, q, w->parts) : 0;
    }
    w->nodes = malloc((size_t)(w->n_mine > 0 ? w->n_mine : 1) * w->block * sizeof(double));
    w->send = w->parts == 1 || w->n_mine <= 1 ? w->nodes : malloc((size_t)w->n_mine * w->block * sizeof(double));
    w->recv = w->parts == 1 ? w->nodes : malloc((size_t)w->n_all * w->len * sizeof(double));
    w->sum = malloc(w->block * sizeof(double));
    int ok = w->nodes && w->send && w->recv && w->sum;
    for (int k = 0; ok && k < w->n_all; k++) w->node_at[k] = w->recv + (size_t)k * w->len;
    for (int k = 0; k < SHARD_LEVELS; k++) {
        w->scratch[k] = malloc(w->block * sizeof(double));
        ok &= w->scratch[k] != NULL;
    }
    if (!ok) shard_work_free(w);
    return ok ? 0 : -1;
}

/* Moves w's node sums into memory every part shares, when ex offers it
 * (every part calls this, after agreeing that all set up): each part's sums
 * in its own region, read in place by the others, and the parameters
 * (block doubles) and, in float32 mode, their float copy after part 0's
 * sums. 0 (shared, or the copies stay: one part, or not offered), or -1. */
static int map_shared_work(shard_work *w, const ntas_cnn *net, const ntas_cnn_exchange *ex)
{
    if (w->parts == 1 || !ex->map_shared) return 0;
    const size_t P = (size_t)w->parts;
    int owner[MAX_NODES], index[MAX_NODES], first0 = 0;
    for (int p = 0, k = 0; p < w->parts; p++) {
        int first, end, n = 0;
        shard_node nd[MAX_NODES];
        part_shards(p, w->parts, &first, &end);
        cover(0, NTAS_CNN_SHARDS, first, end, nd, &n);
        for (int i = 0; i < n; i++, k++) {
            owner[k] = p;
            index[k] = i;
        }
        if (p == 0) first0 = n;
    }
    size_t mine = (size_t)w->n_mine * w->block * sizeof(double);
    if (w->part == 0) mine += w->block * sizeof(double) + (net->float32 ? net->n_params * sizeof(float) : 0);
    /* The regions may lie back to back: whole cache lines keep the next
     * part's doubles aligned (and the parts off each other's lines). */
    mine = (mine + 63) / 64 * 64;
    void *bases_fixed[8], **bases = P <= 8 ? bases_fixed : malloc(P * sizeof *bases);
    /* A lone failure here still calls map_shared, which tells every part. */
    const int got = ex->map_shared(ex->ctx, bases ? mine : (size_t)-1, bases ? bases : bases_fixed, &w->shm);
    if (got != 0) {
        if (bases != bases_fixed) free(bases);
        w->shm = NULL;
        return got > 0 ? 0 : -1;
    }
    if (w->send != w->nodes) free(w->send);
    if (w->recv != w->nodes) free(w->recv);
    free(w->nodes);
    w->ex = ex;
    w->nodes = bases[w->part];
    w->send = w->recv = NULL;
    for (int k = 0; k < w->n_all; k++)
        w->node_at[k] = (const double *)bases[owner[k]] + (size_t)index[k] * w->block + w->lo;
    w->shared_params = (double *)bases[0] + (size_t)first0 * w->block;
    w->shared_f_params = net->float32 ? (float *)(w->shared_params + w->block) : NULL;
    if (bases != bases_fixed) free(bases);
    return 0;
}

/* Gradient (and loss, last) of shard s's images into dst, scaled by 1/B. */
/* With add set (float32 mode only), dst = dst + the leaf's gradient
 * instead: each element gets the same one addition node_sum would make with
 * the leaf in scratch, without writing and re-reading the scratch block. */
static void shard_leaf(ntas_cnn *net, const shard_work *w, const double *X, const uint8_t *y, int B, int s,
                       double *dst, int add)
{
    int lo, hi;
    shard_images(B, s, &lo, &hi);
    if (hi == lo) {
        if (add)
            for (size_t i = 0; i < w->block; i++) dst[i] += 0.0;   /* as a + 0 (turns -0 into +0) */
        else
            memset(dst, 0, w->block * sizeof *dst);
        return;
    }
    point_tensors(&net->dw, dst);   /* the backward pass writes the gradient straight into dst */
    net->add_grads = add;
    const double *Xs = X + (size_t)lo * NTAS_CNN_PIXELS;
    ntas_cnn_forward(net, Xs, hi - lo);
    const double loss = backward_scaled(net, Xs, y + lo, hi - lo, 1.0 / B, NULL);
    dst[net->n_params] = add ? dst[net->n_params] + loss : loss;
    net->add_grads = 0;
    point_tensors(&net->dw, net->grads);
}

static void add_blocks(double *dst, const double *a, const double *b, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] = a[i] + b[i];
}

/* Sum of the shards of node nd over the tree, computed here, into dst;
 * scratch[d] for d >= depth holds right subtrees meanwhile. */
static void node_sum(ntas_cnn *net, shard_work *w, const double *X, const uint8_t *y, int B, shard_node nd,
                     double *dst)
{
    if (nd.hi - nd.lo == 1) {
        shard_leaf(net, w, X, y, B, nd.lo, dst, 0);
        return;
    }
    const int mid = (nd.lo + nd.hi) / 2;
    node_sum(net, w, X, y, B, (shard_node){nd.lo, mid}, dst);
    if (net->float32 && nd.hi - mid == 1) {   /* a right leaf added as it is computed */
        shard_leaf(net, w, X, y, B, mid, dst, 1);
        return;
    }
    double *right = w->scratch[node_depth(nd)];
    node_sum(net, w, X, y, B, (shard_node){mid, nd.hi}, right);
    add_blocks(dst, dst, right, w->block);
}

/* Slice of node nd (this part's slice of a block, len doubles) from the
 * received node slices: a received node as it is, else its two children
 * added (the same additions node_sum makes). */
static const double *combine(shard_work *w, shard_node nd, double *dst)
{
    for (int k = 0; k < w->n_all; k++)
        if (w->all[k].lo == nd.lo && w->all[k].hi == nd.hi) return w->node_at[k];
    if (nd.hi - nd.lo == 1) return NULL;   /* unreachable: every shard lies in some part's nodes */
    const int mid = (nd.lo + nd.hi) / 2;
    const double *a = combine(w, (shard_node){nd.lo, mid}, dst);
    const double *b = combine(w, (shard_node){mid, nd.hi}, w->scratch[node_depth(nd)]);
    if (!a || !b) return NULL;
    add_blocks(dst, a, b, w->len);
    return dst;
}

/* Several node sums: each destination's slices of them, one after the
 * other, destination by destination. */
static void pack_slices(shard_work *w)
{
    size_t off = 0;
    for (int q = 0; q < w->parts; q++) {
        w->send_off[q] = off;
        for (int k = 0; k < w->n_mine; k++) {
            memcpy(w->send + off, w->nodes + (size_t)k * w->block + slice_lo(w->block, q, w->parts),
                   w->share_n[q] * sizeof *w->send);
            off += w->share_n[q];
        }
    }
}

/* This part's node sums, the exchange, the whole tree on this part's
 * slice but its last addition: the batch gradient's elements lo ..
 * lo+len-1 (the loss is element n_params) are a[i] + b[i], or a[i] when *b
 * is NULL (the root node was one part's). */
static int shard_gradient(ntas_cnn *net, shard_work *w, const double *X, const uint8_t *y, int B,
                          const ntas_cnn_exchange *ex, const double **a, const double **b, char *err, size_t errlen)
{
    for (int k = 0; k < w->n_mine; k++)
        node_sum(net, w, X, y, B, w->all[w->mine_first + k], w->nodes + (size_t)k * w->block);
    if (w->shm) {
        if (w->ex->sync_shared(w->ex->ctx, w->shm) != 0) {
            ntas_set_err(err, errlen, "sharing the CNN's shard gradients failed");
            return -1;
        }
    } else if (w->parts > 1) {
        if (w->n_mine > 1) pack_slices(w);
        if (ex->scatter(ex->ctx, w->send, w->send_n, w->send_off, w->recv, w->recv_n) != 0) {
            ntas_set_err(err, errlen, "exchanging the CNN's shard gradients failed");
            return -1;
        }
    }
    const shard_node root = {0, NTAS_CNN_SHARDS}, left = {0, NTAS_CNN_SHARDS / 2},
                     right = {NTAS_CNN_SHARDS / 2, NTAS_CNN_SHARDS};
    int whole = 0;   /* the root node is one part's */
    *a = *b = NULL;
    for (int k = 0; k < w->n_all; k++)
        if (w->all[k].lo == root.lo && w->all[k].hi == root.hi) {
            *a = w->node_at[k];
            whole = 1;
        }
    if (!whole) {
        *a = combine(w, left, w->sum);
        *b = combine(w, right, w->scratch[0]);
    }
    if (!*a || (!whole && !*b)) {
        ntas_set_err(err, errlen, "internal: the shard tree is not covered by the parts' nodes");
        return -1;
    }
    return 0;
}

/* Every part's slice of buf (block doubles) to every part. */
static int share_slices(shard_work *w, const ntas_cnn_exchange *ex, double *buf, char *err, size_t errlen)
{
    if (w->parts > 1 && ex->share(ex->ctx, buf, w->share_n) != 0) {
        ntas_set_err(err, errlen, "sharing the CNN's parameters across the parts failed");
        return -1;
    }
    return 0;
}

int ntas_cnn_sharded_gradient(ntas_cnn *net, const double *X, const uint8_t *y, int B, const ntas_cnn_exchange *ex,
                              double *loss, char *err, size_t errlen)
{
    shard_work w;
    if (shard_work_init(&w, net, ex) != 0) {
        ntas_set_err(err, errlen, "out of memory for the CNN's shard gradients (or bad part %d of %d)",
                 ex ? ex->part : 0, ex ? ex->parts : 1);
        return -1;
    }
    const double *a = NULL, *b = NULL;
    int rc = shard_gradient(net, &w, X, y, B, ex, &a, &b, err, errlen);
    if (rc == 0) {
        /* grads has the spare slot for the loss */
        if (b) add_blocks(net->grads + w.lo, a, b, w.len);
        else memcpy(net->grads + w.lo, a, w.len * sizeof *a);
        rc = share_slices(&w, ex, net->grads, err, errlen);
        *loss = net->grads[net->n_params];
    }
    shard_work_free(&w);
    return rc;
}

int ntas_cnn_pretrain(ntas_cnn *net, const ntas_idx_dataset *train, const ntas_cnn_train_opts *o,
                      ntas_cnn_progress_fn progress, void *ctx, char *err, size_t errlen)
{
    return ntas_cnn_pretrain_parts(net, train, o, NULL, progress, ctx, err, errlen);
}

/* Copies the images of this part's shards of the batch at perm[next..] into X, y. */
static void gather_batch(const ntas_idx_dataset *train, const int *perm, int next, int B, const shard_work *w,
                         double *X, uint8_t *y)
{
    int first, end, lo, hi, unused;
    part_shards(w->part, w->parts, &first, &end);
    shard_images(B, first, &lo, &unused);
    shard_images(B, end - 1 < first ? first : end - 1, &unused, &hi);
    if (end <= first) hi = lo;
    for (int i = lo; i < hi; i++) {
        const int k = perm[next + i];
        memcpy(X + (size_t)i * NTAS_CNN_PIXELS, train->pixels + (size_t)k * NTAS_CNN_PIXELS,
               NTAS_CNN_PIXELS * sizeof *X);
        y[i] = train->labels[k];
    }
}

typedef struct {
    double *params;
    float *f_params;
} own_arrays;

/* The ranks' shared memory: every part's writes visible to all (a barrier). */
static int sync_shared_params(const ntas_cnn_exchange *ex, void *shm, char *err, size_t errlen)
{
    if (ex->sync_shared(ex->ctx, shm) != 0) {
        ntas_set_err(err, errlen, "sharing the CNN's parameters across the parts failed");
        return -1;
    }
    return 0;
}

/* One step's update: AdamW on this part's slice (its moments are the only
 * ones this part keeps current), the loss in the spare slot, then every
 * part's slice to every part. */
static int update_and_share(ntas_cnn *net, shard_work *w, const double *g, const double *g_right,
                            const ntas_cnn_train_opts *o, const ntas_cnn_exchange *ex, char *err, size_t errlen)
{
    const size_t n_mine = w->lo + w->len > net->n_params ? net->n_params - w->lo : w->len;
    net->adam_t++;
    adamw_update_sum(net->params + w->lo, g, g_right, net->adam_m + w->lo, net->adam_v + w->lo, n_mine, net->adam_t,
                     o);
    if (n_mine < w->len) net->params[net->n_params] = g_right ? g[n_mine] + g_right[n_mine] : g[n_mine];
    if (!w->shm) return share_slices(w, ex, net->params, err, errlen);
    if (net->float32) to_float(net->f_params + w->lo, net->params + w->lo, n_mine);   /* each part its slice, for all */
    return sync_shared_params(ex, w->shm, err, errlen);
}

/* Points net at the shared parameters for the pretraining (net's own
 * arrays saved in *own): each part copies (and in float32 mode rounds) its
 * slice of the parameters, which every part holds alike at the start. */
static int use_shared_params(ntas_cnn *net, const shard_work *w, own_arrays *own, char *err, size_t errlen)
{
    const size_t n_mine = w->lo + w->len > net->n_params ? net->n_params - w->lo : w->len;
    memcpy(w->shared_params + w->lo, net->params + w->lo, w->len * sizeof(double));
    if (net->float32) to_float(w->shared_f_params + w->lo, net->params + w->lo, n_mine);
    own->params = net->params;
    own->f_params = net->f_params;
    net->params = w->shared_params;
    if (net->float32) net->f_params = w->shared_f_params;
    point_tensors(&net->w, net->params);
    return sync_shared_params(w->ex, w->shm, err, errlen);
}

int ntas_cnn_pretrain_parts(ntas_cnn *net, const ntas_idx_dataset *train, const ntas_cnn_train_opts *o,
                            const ntas_cnn_exchange *ex, ntas_cnn_progress_fn progress, void *ctx, char *err,
                            size_t errlen)
{
    const int B = o->batch, n = train->n;
    int *perm = NULL;
    double *X = NULL;
    uint8_t *y = NULL;
    shard_work w;
    memset(&w, 0, sizeof w);
    own_arrays own = {NULL, NULL};
    int rc = check_images(train, "pretraining set", err, errlen);
    if (rc == 0 && (B < 1 || B > net->max_batch || B > n || o->steps < 0)) {
        ntas_set_err(err, errlen, "pretraining batch %d must be in 1..%d (network) and at most the %d images, "
                 "steps %d must be >= 0", B, net->max_batch, n, o->steps);
        rc = -1;
    }
    if (rc == 0) {
        perm = malloc((size_t)n * sizeof *perm);
        X = malloc((size_t)B * NTAS_CNN_PIXELS * sizeof *X);
        y = malloc((size_t)B);
        if (!perm || !X || !y || shard_work_init(&w, net, ex) != 0) {
            ntas_set_err(err, errlen, "out of memory for pretraining batches of %d images", B);
            rc = -1;
        }
    }
    /* Every part learns whether all could start (a lone failure must not
     * leave the others waiting in an exchange). */
    if (ex && ex->agree(ex->ctx, rc) != 0 && rc == 0) {
        ntas_set_err(err, errlen, "another part of the pretraining failed");
        rc = -1;
    }
    if (rc != 0) goto done;
    if (map_shared_work(&w, net, ex) != 0) {
        ntas_set_err(err, errlen, "mapping the memory the pretraining's parts share failed");
        rc = -1;
        goto done;
    }
    if (w.shm && use_shared_params(net, &w, &own, err, errlen) != 0) {
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
        gather_batch(train, perm, next, B, &w, X, y);
        next += B;
        if (net->float32 && !w.shm)   /* one rounding of the weights for all shards of the step */
            to_float(net->f_params, net->params, net->n_params);
        net->f_params_current = net->float32;
        const double *g, *g_right;
        const int got = shard_gradient(net, &w, X, y, B, ex, &g, &g_right, err, errlen);
        net->f_params_current = 0;
        if (got != 0) {
            rc = -1;
            goto done;
        }
        if (update_and_share(net, &w, g, g_right, o, ex, err, errlen) != 0) {
            rc = -1;
            goto done;
        }
        const double loss = net->params[net->n_params];
        if (!isfinite(loss)) {
            ntas_set_err(err, errlen, "CNN pretraining diverged: batch loss %g at step %d", loss, step);
            rc = -1;
            goto done;
        }
        const int last = step + 1 == o->steps;
        int stop = progress && o->progress_every > 0 && ((step + 1) % o->progress_every == 0 || last) &&
                   progress(ctx, step + 1, loss);
        if (ex) stop = ex->agree(ex->ctx, stop ? 1 : 0);   /* all parts stop together */
        if (stop) {
            rc = stop < 0 ? -1 : 1;
            if (rc < 0) ntas_set_err(err, errlen, "another part of the pretraining failed");
            goto done;
        }
    }
done:
    if (own.params) {   /* every part's last slice was synced: the whole result to net's own arrays */
        memcpy(own.params, net->params, (net->n_params + 1) * sizeof(double));
        net->params = own.params;
        net->f_params = own.f_params;
        point_tensors(&net->w, net->params);
    }
    shard_work_free(&w);
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
