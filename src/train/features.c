/* features — the pretrained CNN features a cnn run reads. See features.h.
 *
 * Why a setting's key holds the data's content hash but not its directory:
 * moving the images must not invalidate a results file, but other images
 * (e.g. a full MNIST copy where the 10k test set was) must not be mixed
 * with features computed from the old ones. The run keys hold neither (the
 * data is outside the sweep), so a file whose pretraining came from other
 * data is refused (status 2) rather than silently resumed. */
#include "ntasweep/train/features.h"
#include "ntasweep/core/err.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/core/rng.h"
#include "ntasweep/tasks/idx.h"

enum { N_FEAT = NTAS_CNN_FEATURES, N_CLASS = NTAS_CNN_CLASSES };

const char *ntas_dataset_name(int d)
{
    return d == NTAS_DATASET_MNIST ? "mnist" : d == NTAS_DATASET_FASHION ? "fashion" : "none";
}

/* ---- where the data is ----------------------------------------------------- */

static int holds_data(const char *dir)
{
    /* The full set, or the 10k test files alone (idx.h splits those). */
    return ntas_idx_has_split(dir, "t10k");
}

int ntas_data_dir(int dataset, const char *spec_path, char *dir, size_t len, char *err, size_t errlen)
{
    const char *env = dataset == NTAS_DATASET_MNIST ? NTAS_ENV_MNIST_DIR : NTAS_ENV_FASHION_DIR;
    const char *set = getenv(env);
    if (set && set[0]) {
        if (!holds_data(set)) {
            ntas_set_err(err, errlen, "%s=%s: no t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz] there "
                     "(a full copy also has train-*)", env, set);
            return -1;
        }
        snprintf(dir, len, "%s", set);
        return 0;
    }
    if (dataset == NTAS_DATASET_FASHION) {
        const char *debian = "/usr/share/datasets/fashion-mnist";
        if (holds_data(debian)) {
            snprintf(dir, len, "%s", debian);
            return 0;
        }
        ntas_set_err(err, errlen, "dataset = fashion: no IDX files found; install Debian's dataset-fashion-mnist "
                 "(tools/install-deps) or set %s to their directory (looked in %s)", env, debian);
        return -1;
    }
    /* MNIST: D/data/mnist or D/shared/data/mnist-t10k for the sweep file's
     * directory D and each directory above it (the repository's data/, or
     * the shared/ beside a checkout). */
    char here[NTAS_PATH_LEN];
    const char *slash = strrchr(spec_path, '/');
    if (!slash) snprintf(here, sizeof here, ".");
    else snprintf(here, sizeof here, "%.*s", slash == spec_path ? 1 : (int)(slash - spec_path), spec_path);
    char *d = realpath(here, NULL);
    if (!d) {
        ntas_set_err(err, errlen, "dataset = mnist: cannot resolve the sweep file's directory %s: %s", here, strerror(errno));
        return -1;
    }
    for (;;) {
        static const char *const below[] = {"data/mnist", "shared/data/mnist-t10k"};
        for (int i = 0; i < 2; i++) {
            char cand[NTAS_PATH_LEN];
            snprintf(cand, sizeof cand, "%.4000s/%s", strcmp(d, "/") ? d : "", below[i]);
            if (holds_data(cand)) {
                snprintf(dir, len, "%s", cand);
                free(d);
                return 0;
            }
        }
        char *up = strrchr(d, '/');
        if (!up || !strcmp(d, "/")) break;
        if (up == d) up[1] = '\0';
        else *up = '\0';
    }
    free(d);
    ntas_set_err(err, errlen, "dataset = mnist: no IDX files found in data/mnist or shared/data/mnist-t10k beside the "
             "sweep file or any directory above it; set %s to their directory", env);
    return -1;
}

/* ---- settings ---------------------------------------------------------------- */

/* Content hash: each image's bytes (recovered exactly from the normalised
 * doubles, which idx.c made from them) and label, train then test. */
static uint64_t hash_images(const ntas_idx_dataset *d, uint64_t h)
{
    const size_t px = (size_t)d->rows * (size_t)d->cols;
    unsigned char *buf = malloc(px + 1);
    if (!buf) return 0;
    int64_t shape[3] = {d->n, d->rows, d->cols};
    h = ntas_hash64(shape, sizeof shape, h);
    for (int i = 0; i < d->n; i++) {
        const double *x = d->pixels + (size_t)i * px;
        for (size_t j = 0; j < px; j++) buf[j] = (unsigned char)lround((x[j] * 0.5 + 0.5) * 255.0);
        buf[px] = d->labels[i];
        h = ntas_hash64(buf, px + 1, h);
    }
    free(buf);
    return h;
}

static uint64_t setting_key(const ntas_pretrain_setting *s)
{
    ntas_cnn_train_opts o;
    ntas_cnn_train_opts_defaults(&o);
    char text[512];
    int n = snprintf(text, sizeof text,
                     "dataset=%s\ncnn_steps=%lld\ncnn_seed=%lld\nbatch=%d\nlr=%.17g\nweight_decay=%.17g\n"
                     "data=%016llx\nn_train=%d\nn_test=%d\nheld_out=%d\n",
                     ntas_dataset_name(s->dataset), (long long)s->steps, (long long)s->seed, o.batch, o.lr,
                     o.weight_decay, (unsigned long long)s->data_hash, s->n_train, s->n_test, s->held_out);
    /* Appended only for float32, so every float64 key (and the group a
     * results file already holds under it) stays what it was, and a float32
     * pretraining is never taken for a float64 one or the other way round. */
    if (s->float32) n += snprintf(text + n, sizeof text - (size_t)n, "cnn_precision=float32\n");
    return ntas_hash64(text, (size_t)n, ntas_hash64("ntasweep-pretrain-v1", 20, 0));
}

/* Loads s->dir into train/test and fills sizes, held_out, data_hash, key. */
static int load_setting(ntas_pretrain_setting *s, ntas_idx_dataset *train, ntas_idx_dataset *test,
                        char *err, size_t errlen)
{
    char why[1024];
    if (ntas_idx_load_train_test(s->dir, train, test, &s->held_out, why, sizeof why) != 0) {
        ntas_set_err(err, errlen, "dataset = %s: %s", ntas_dataset_name(s->dataset), why);
        return -1;
    }
    ntas_cnn_train_opts o;
    ntas_cnn_train_opts_defaults(&o);
    if (train->rows != NTAS_CNN_SIDE || train->cols != NTAS_CNN_SIDE || test->rows != NTAS_CNN_SIDE ||
        test->cols != NTAS_CNN_SIDE || train->n < o.batch) {
        ntas_set_err(err, errlen, "dataset = %s in %s: the CNN needs 28 x 28 images and at least %d training images "
                 "(found %d of %d x %d)", ntas_dataset_name(s->dataset), s->dir, o.batch, train->n, train->rows,
                 train->cols);
        ntas_idx_free(train);
        ntas_idx_free(test);
        return -1;
    }
    s->n_train = train->n;
    s->n_test = test->n;
    s->data_hash = hash_images(test, hash_images(train, ntas_hash64("ntasweep-data-v1", 16, 0)));
    s->key = setting_key(s);
    return 0;
}

int ntas_pretrain_settings(const ntas_spec *spec, ntas_pretrain_setting **out, int *n_out, char *err,
                           size_t errlen)
{
    *out = NULL;
    *n_out = 0;
    ntas_pretrain_setting *s = NULL;
    int n = 0;
    for (int i = 0; i < spec->n_runs; i++) {
        const ntas_params *p = &spec->runs[i].params;
        if (!ntas_params_cnn_model(p)) continue;
        int k = 0;
        const int float32 = p->cnn_precision == NTAS_CNN_FLOAT32;
        while (k < n && !(s[k].dataset == (int)p->dataset && s[k].steps == p->cnn_steps && s[k].seed == p->cnn_seed &&
                          s[k].float32 == float32))
            k++;
        if (k == n) {
            ntas_pretrain_setting *ns = realloc(s, (size_t)(n + 1) * sizeof *ns);
            if (!ns) {
                free(s);
                ntas_set_err(err, errlen, "out of memory");
                return -1;
            }
            s = ns;
            memset(&s[n], 0, sizeof s[n]);
            s[n].dataset = (int)p->dataset;
            s[n].steps = p->cnn_steps;
            s[n].seed = p->cnn_seed;
            s[n].float32 = float32;
            n++;
        }
        if (p->batch > s[k].max_batch) s[k].max_batch = p->batch;
    }
    *out = s;
    *n_out = n;
    return 0;
}

int ntas_pretrain_plan(const ntas_spec *spec, ntas_pretrain_setting **out, int *n_out, char *err, size_t errlen)
{
    *out = NULL;
    *n_out = 0;
    ntas_pretrain_setting *s;
    int n;
    if (ntas_pretrain_settings(spec, &s, &n, err, errlen) != 0) return -1;
    /* Each dataset is read once, however many settings use it. */
    for (int k = 0; k < n; k++) {
        int same = -1;
        for (int j = 0; j < k && same < 0; j++)
            if (s[j].dataset == s[k].dataset) same = j;
        if (same >= 0) {
            memcpy(s[k].dir, s[same].dir, sizeof s[k].dir);
            s[k].held_out = s[same].held_out;
            s[k].n_train = s[same].n_train;
            s[k].n_test = s[same].n_test;
            s[k].data_hash = s[same].data_hash;
            s[k].key = setting_key(&s[k]);
        } else {
            ntas_idx_dataset train, test;
            if (ntas_data_dir(s[k].dataset, spec->path, s[k].dir, sizeof s[k].dir, err, errlen) != 0 ||
                load_setting(&s[k], &train, &test, err, errlen) != 0) {
                free(s);
                return -1;
            }
            ntas_idx_free(&train);
            ntas_idx_free(&test);
        }
        if (s[k].max_batch > s[k].n_train) {
            ntas_set_err(err, errlen, "batch = %lld is more than the %d training images of dataset = %s in %s",
                     (long long)s[k].max_batch, s[k].n_train, ntas_dataset_name(s[k].dataset), s[k].dir);
            free(s);
            return -1;
        }
    }
    *out = s;
    *n_out = n;
    return 0;
}

const ntas_features *ntas_feature_cache_find(const ntas_feature_cache *c, const ntas_params *p)
{
    for (int i = 0; c && i < c->n; i++) {
        const ntas_pretrain_setting *s = &c->sets[i].s;
        if (s->dataset == (int)p->dataset && s->steps == p->cnn_steps && s->seed == p->cnn_seed &&
            s->float32 == (p->cnn_precision == NTAS_CNN_FLOAT32))
            return &c->sets[i];
    }
    return NULL;
}

/* ---- computing one setting ------------------------------------------------- */

void ntas_features_free(ntas_features *f)
{
    free(f->train_x);
    free(f->test_x);
    free(f->train_y);
    free(f->test_y);
    free(f->cnn_params);
    memset(f, 0, sizeof *f);
}

int ntas_features_alloc(ntas_features *f, int with_params)
{
    f->train_x = malloc((size_t)f->s.n_train * N_FEAT * sizeof(double));
    f->test_x = malloc((size_t)f->s.n_test * N_FEAT * sizeof(double));
    f->train_y = malloc((size_t)f->s.n_train);
    f->test_y = malloc((size_t)f->s.n_test);
    f->cnn_params = with_params ? malloc(NTAS_CNN_PARAMS * sizeof(double)) : NULL;
    return f->train_x && f->test_x && f->train_y && f->test_y && (!with_params || f->cnn_params) ? 0 : -1;
}

int ntas_pretrain_compute(const ntas_pretrain_setting *s, ntas_features *f, ntas_cnn_progress_fn progress,
                          void *ctx, char *err, size_t errlen)
{
    return ntas_pretrain_compute_parts(s, f, NULL, 1, progress, ctx, err, errlen);
}

int ntas_pretrain_compute_parts(const ntas_pretrain_setting *s, ntas_features *f, const ntas_cnn_exchange *ex,
                                int with_features, ntas_cnn_progress_fn progress, void *ctx, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    ntas_pretrain_setting mine = *s;
    ntas_idx_dataset train, test;
    if (load_setting(&mine, &train, &test, err, errlen) != 0) {
        if (ex) ex->agree(ex->ctx, -1);   /* the other parts must not wait for this one */
        return -1;
    }
    int rc = -1, agreed = 0;
    ntas_cnn net;
    memset(&net, 0, sizeof net);
    if (mine.key != s->key) {
        ntas_set_err(err, errlen, "dataset = %s in %s changed while the sweep started (content hash %016llx, planned %016llx)",
                 ntas_dataset_name(s->dataset), s->dir, (unsigned long long)mine.data_hash, (unsigned long long)s->data_hash);
        goto done;
    }
    f->s = *s;
    ntas_cnn_train_opts o;
    ntas_cnn_train_opts_defaults(&o);
    o.steps = (int)s->steps;
    o.seed = (uint64_t)s->seed;
    o.progress_every = 1;
    if (ntas_features_alloc(f, 1) != 0 || ntas_cnn_init(&net, o.batch, err, errlen) != 0 ||
        (s->float32 && ntas_cnn_use_float32(&net, err, errlen) != 0)) {
        if (!err[0]) ntas_set_err(err, errlen, "out of memory for the features of %d images", s->n_train + s->n_test);
        goto done;
    }
    if (net.n_params != NTAS_CNN_PARAMS) {
        ntas_set_err(err, errlen, "internal: the CNN has %zu parameters, pretrain.c counts %zu", net.n_params, (size_t)NTAS_CNN_PARAMS);
        goto done;
    }
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_stream_key((uint64_t)s->seed, "cnn-init"));
    ntas_cnn_init_params(&net, &rng);
    agreed = 1;
    rc = ntas_cnn_pretrain_parts(&net, &train, &o, ex, progress, ctx, err, errlen);
    if (rc != 0) goto done;
    if (!with_features) {
        ntas_features_free(f);
        goto done;
    }
    rc = -1;
    if (ntas_cnn_accuracy(&net, &test, &f->test_accuracy, NULL, err, errlen) != 0 ||
        ntas_cnn_features(&net, &train, f->train_x, err, errlen) != 0 ||
        ntas_cnn_features(&net, &test, f->test_x, err, errlen) != 0)
        goto done;
    memcpy(f->train_y, train.labels, (size_t)s->n_train);
    memcpy(f->test_y, test.labels, (size_t)s->n_test);
    memcpy(f->cnn_params, net.params, NTAS_CNN_PARAMS * sizeof(double));
    memcpy(f->head_w, net.w.fc3_w, sizeof f->head_w);
    memcpy(f->head_b, net.w.fc3_b, sizeof f->head_b);
    rc = 0;
done:
    if (ex && !agreed) ex->agree(ex->ctx, -1);
    ntas_cnn_free(&net);
    ntas_idx_free(&train);
    ntas_idx_free(&test);
    if (rc != 0) ntas_features_free(f);
    return rc;
}

void ntas_feature_cache_free(ntas_feature_cache *c)
{
    for (int i = 0; c->sets && i < c->n; i++) ntas_features_free(&c->sets[i]);
    free(c->sets);
    memset(c, 0, sizeof *c);
}
