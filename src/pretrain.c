/* pretrain — pretrained CNN features, once per sweep. See pretrain.h.
 *
 * Why a setting's key holds the data's content hash but not its directory:
 * moving the images must not invalidate a results file, but other images
 * (e.g. a full MNIST copy where the 10k test set was) must not be mixed
 * with features computed from the old ones. The run keys hold neither (the
 * data is outside the sweep), so a file whose pretraining came from other
 * data is refused (status 2) rather than silently resumed.
 *
 * Why a broadcast rather than every rank reading the group back: the group
 * is written by one rank through MPI-IO during this job, and a read on
 * another rank could be served from a stale HDF5 sieve buffer. */
#include "ntasweep/pretrain.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ntasweep/idx.h"
#include "ntasweep/rng.h"
#include "ntasweep/store.h"

_Static_assert(sizeof(hid_t) == 8, "hid_t is 64-bit in HDF5 1.10+");

enum { N_FEAT = NTAS_CNN_FEATURES, N_CLASS = NTAS_CNN_CLASSES };

/* Every CNN parameter, in the order of ntas_cnn_tensors; fc3 (the head) last. */
#define CNN_PARAMS ((size_t)NTAS_CNN_CHANNELS * NTAS_CNN_TAPS + NTAS_CNN_CHANNELS +               \
                    (size_t)NTAS_CNN_HIDDEN * NTAS_CNN_FLAT + NTAS_CNN_HIDDEN +                    \
                    (size_t)N_FEAT * NTAS_CNN_HIDDEN + N_FEAT + (size_t)N_CLASS * N_FEAT + N_CLASS)
#define HEAD_OFFSET (CNN_PARAMS - (size_t)N_CLASS * N_FEAT - N_CLASS)

static const char *dataset_name(int d)
{
    return d == NTAS_DATASET_MNIST ? "mnist" : d == NTAS_DATASET_FASHION ? "fashion" : "none";
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
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
            snprintf(err, errlen, "%s=%s: no t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz] there "
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
        snprintf(err, errlen, "dataset = fashion: no IDX files found; install Debian's dataset-fashion-mnist "
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
        snprintf(err, errlen, "dataset = mnist: cannot resolve the sweep file's directory %s: %s", here, strerror(errno));
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
    snprintf(err, errlen, "dataset = mnist: no IDX files found in data/mnist or shared/data/mnist-t10k beside the "
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
                     dataset_name(s->dataset), (long long)s->steps, (long long)s->seed, o.batch, o.lr,
                     o.weight_decay, (unsigned long long)s->data_hash, s->n_train, s->n_test, s->held_out);
    return ntas_hash64(text, (size_t)n, ntas_hash64("ntasweep-pretrain-v1", 20, 0));
}

/* Loads s->dir into train/test and fills sizes, held_out, data_hash, key. */
static int load_setting(ntas_pretrain_setting *s, ntas_idx_dataset *train, ntas_idx_dataset *test,
                        char *err, size_t errlen)
{
    char why[1024];
    if (ntas_idx_load_train_test(s->dir, train, test, &s->held_out, why, sizeof why) != 0) {
        snprintf(err, errlen, "dataset = %s: %s", dataset_name(s->dataset), why);
        return -1;
    }
    ntas_cnn_train_opts o;
    ntas_cnn_train_opts_defaults(&o);
    if (train->rows != NTAS_CNN_SIDE || train->cols != NTAS_CNN_SIDE || test->rows != NTAS_CNN_SIDE ||
        test->cols != NTAS_CNN_SIDE || train->n < o.batch) {
        snprintf(err, errlen, "dataset = %s in %s: the CNN needs 28 x 28 images and at least %d training images "
                 "(found %d of %d x %d)", dataset_name(s->dataset), s->dir, o.batch, train->n, train->rows,
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
        while (k < n && !(s[k].dataset == (int)p->dataset && s[k].steps == p->cnn_steps && s[k].seed == p->cnn_seed))
            k++;
        if (k == n) {
            ntas_pretrain_setting *ns = realloc(s, (size_t)(n + 1) * sizeof *ns);
            if (!ns) {
                free(s);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            s = ns;
            memset(&s[n], 0, sizeof s[n]);
            s[n].dataset = (int)p->dataset;
            s[n].steps = p->cnn_steps;
            s[n].seed = p->cnn_seed;
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
            snprintf(err, errlen, "batch = %lld is more than the %d training images of dataset = %s in %s",
                     (long long)s[k].max_batch, s[k].n_train, dataset_name(s[k].dataset), s[k].dir);
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
        if (s->dataset == (int)p->dataset && s->steps == p->cnn_steps && s->seed == p->cnn_seed) return &c->sets[i];
    }
    return NULL;
}

/* ---- the group in the results file --------------------------------------- */

enum { G_STATUS, G_ACCURACY, G_PARAMS, G_TRAIN_X, G_TEST_X, G_TRAIN_Y, G_TEST_Y, G_COUNT };
static const struct {
    const char *name;
    int is_u8;
    const char *description;
} group_ds[G_COUNT] = {
    {"status", 1, "1 once this pretraining is complete (written last), 0 before"},
    {"test_accuracy", 0, "the pretrained CNN's accuracy on the test images (original labels)"},
    {"cnn_params", 0, "every CNN parameter in cnn.h's order: conv_w [3][16], conv_b, fc1_w [512][1728], "
                      "fc1_b, fc2_w [64][512], fc2_b, fc3_w [10][64], fc3_b (the head cnn_alone starts from)"},
    {"train_features", 0, "the 64 ReLU features of every training image (what the heads learn from)"},
    {"test_features", 0, "the 64 ReLU features of every test image (accuracy is measured on them)"},
    {"train_labels", 1, "original labels 0..9 of the training images"},
    {"test_labels", 1, "original labels 0..9 of the test images"},
};

static void group_shape(const ntas_pretrain_setting *s, int k, int *ndims, hsize_t dims[2])
{
    *ndims = 1;
    dims[1] = N_FEAT;
    switch (k) {
    case G_STATUS: case G_ACCURACY: dims[0] = 1; break;
    case G_PARAMS: dims[0] = CNN_PARAMS; break;
    case G_TRAIN_X: *ndims = 2; dims[0] = (hsize_t)s->n_train; break;
    case G_TEST_X: *ndims = 2; dims[0] = (hsize_t)s->n_test; break;
    case G_TRAIN_Y: dims[0] = (hsize_t)s->n_train; break;
    default: dims[0] = (hsize_t)s->n_test; break;
    }
}

static void group_path(const ntas_pretrain_setting *s, char *buf, size_t len)
{
    char hex[17];
    ntas_hex64(s->key, hex);
    snprintf(buf, len, "/pretrained/%s", hex);
}

static int create_group(hid_t file, const ntas_pretrain_setting *s)
{
    char path[64], hex[17];
    group_path(s, path, sizeof path);
    hid_t g = H5Gcreate2(file, path, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return -1;
    ntas_cnn_train_opts o;
    ntas_cnn_train_opts_defaults(&o);
    ntas_hex64(s->data_hash, hex);
    int ok = ntas_store_set_str_attr(g, "dataset", dataset_name(s->dataset)) == 0;
    ok &= ntas_store_set_i64_attr(g, "cnn_steps", s->steps) == 0;
    ok &= ntas_store_set_i64_attr(g, "cnn_seed", s->seed) == 0;
    ok &= ntas_store_set_i64_attr(g, "cnn_batch", o.batch) == 0;
    ok &= ntas_store_set_str_attr(g, "optimizer", "AdamW lr 0.001, betas (0.9, 0.999), eps 1e-8, weight decay 0.01") == 0;
    ok &= ntas_store_set_str_attr(g, "data_hash", hex) == 0;
    ok &= ntas_store_set_str_attr(g, "data_dir", s->dir) == 0;
    ok &= ntas_store_set_i64_attr(g, "held_out_split", s->held_out) == 0;
    ok &= ntas_store_set_i64_attr(g, "n_train", s->n_train) == 0;
    ok &= ntas_store_set_i64_attr(g, "n_test", s->n_test) == 0;
    const double nan = NAN;
    const uint8_t zero = 0, no_label = 255;
    for (int k = 0; ok && k < G_COUNT; k++) {
        int nd;
        hsize_t dims[2];
        group_shape(s, k, &nd, dims);
        hid_t sp = H5Screate_simple(nd, dims, NULL);
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_layout(dcpl, H5D_CONTIGUOUS);
        H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC);
        hid_t ft = group_ds[k].is_u8 ? H5T_STD_U8LE : H5T_IEEE_F64LE;
        const void *fill = !group_ds[k].is_u8 ? (const void *)&nan : k == G_STATUS ? (const void *)&zero : (const void *)&no_label;
        H5Pset_fill_value(dcpl, ft, fill);
        hid_t ds = H5Dcreate2(g, group_ds[k].name, ft, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        H5Pclose(dcpl);
        H5Sclose(sp);
        ok &= ds >= 0 && ntas_store_set_str_attr(ds, "description", group_ds[k].description) == 0;
        if (ds >= 0) H5Dclose(ds);
    }
    H5Gclose(g);
    return ok ? 0 : -1;
}

/* Copies a complete group of `src` into the freshly created one of `dst`. */
static int copy_group(hid_t dst, hid_t src, const ntas_pretrain_setting *s)
{
    char path[64];
    group_path(s, path, sizeof path);
    int ok = 1;
    for (int k = 0; ok && k < G_COUNT; k++) {
        char name[96];
        snprintf(name, sizeof name, "%s/%s", path, group_ds[k].name);
        int nd;
        hsize_t dims[2];
        group_shape(s, k, &nd, dims);
        size_t n = (size_t)dims[0] * (nd == 2 ? (size_t)dims[1] : 1);
        hid_t mt = group_ds[k].is_u8 ? H5T_NATIVE_UINT8 : H5T_NATIVE_DOUBLE;
        void *buf = malloc(n * (group_ds[k].is_u8 ? 1 : sizeof(double)));
        hid_t a = H5Dopen2(src, name, H5P_DEFAULT), b = H5Dopen2(dst, name, H5P_DEFAULT);
        hid_t sa = a >= 0 ? H5Dget_space(a) : -1;
        ok = buf && a >= 0 && b >= 0 && sa >= 0 && H5Sget_simple_extent_npoints(sa) == (hssize_t)n &&
             H5Dread(a, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0 &&
             H5Dwrite(b, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0;
        if (sa >= 0) H5Sclose(sa);
        if (a >= 0) H5Dclose(a);
        if (b >= 0) H5Dclose(b);
        free(buf);
    }
    return ok ? 0 : -1;
}

static int read_status(hid_t file, const char *group, int8_t *status)
{
    char name[96];
    snprintf(name, sizeof name, "%s/status", group);
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    uint8_t v = 0;
    herr_t rc = ds >= 0 ? H5Dread(ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) : -1;
    if (ds >= 0) H5Dclose(ds);
    *status = (int8_t)v;
    return rc < 0 ? -1 : 0;
}

typedef struct { hid_t file; int n; const ntas_pretrain_setting *s; int stray; char name[32]; } stray_ctx;

static herr_t find_stray(hid_t g, const char *name, const H5L_info_t *info, void *op)
{
    (void)g;
    (void)info;
    stray_ctx *c = op;
    for (int i = 0; i < c->n; i++) {
        char hex[17];
        ntas_hex64(c->s[i].key, hex);
        if (!strcmp(hex, name)) return 0;
    }
    c->stray = 1;
    snprintf(c->name, sizeof c->name, "%.20s", name);
    return 1;
}

int ntas_pretrain_create_groups(hid_t file, const ntas_pretrain_setting *s, int n, const char *copy_from,
                                char *err, size_t errlen)
{
    if (n == 0 && !copy_from) return 0;
    hid_t src = -1;
    if (copy_from) {
        src = H5Fopen(copy_from, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (src < 0) {
            snprintf(err, errlen, "%s: cannot open to copy its pretrained features", copy_from);
            return -1;
        }
        /* A pretraining the new sweep would not reproduce (its data changed)
         * must not vanish silently with the old file's runs still using it. */
        if (H5Lexists(src, "pretrained", H5P_DEFAULT) > 0) {
            stray_ctx c = {.n = n, .s = s};
            H5Literate_by_name(src, "pretrained", H5_INDEX_NAME, H5_ITER_NATIVE, NULL, find_stray, &c, H5P_DEFAULT);
            if (c.stray) {
                H5Fclose(src);
                snprintf(err, errlen, "%s holds pretrained features /pretrained/%s that the data now found would not "
                         "reproduce (the images changed since it was written): point %s or %s back at its data "
                         "(see the group's data_dir attribute), or start a new file with --force-new",
                         copy_from, c.name, NTAS_ENV_MNIST_DIR, NTAS_ENV_FASHION_DIR);
                return -1;
            }
        }
    }
    int ok = 1;
    if (n > 0) {
        hid_t g = H5Gcreate2(file, "pretrained", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        ok = g >= 0 && ntas_store_set_str_attr(g, "description", "pretrained CNNs and their features, one group per setting "
                                "(dataset, cnn_steps, cnn_seed, data content), computed once per sweep") == 0;
        if (g >= 0) H5Gclose(g);
    }
    for (int i = 0; ok && i < n; i++) {
        ok = create_group(file, &s[i]) == 0;
        if (!ok) snprintf(err, errlen, "creating the pretrained group of dataset = %s failed", dataset_name(s[i].dataset));
        char path[64];
        group_path(&s[i], path, sizeof path);
        int8_t st = 0;
        if (ok && src >= 0 && H5Lexists(src, "pretrained", H5P_DEFAULT) > 0 &&
            H5Lexists(src, path, H5P_DEFAULT) > 0 && read_status(src, path, &st) == 0 && st == 1) {
            ok = copy_group(file, src, &s[i]) == 0;
            if (!ok) snprintf(err, errlen, "%s: copying %s failed", copy_from, path);
        }
    }
    if (src >= 0) H5Fclose(src);
    return ok ? 0 : -1;
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

static int alloc_features(ntas_features *f, int with_params)
{
    f->train_x = malloc((size_t)f->s.n_train * N_FEAT * sizeof(double));
    f->test_x = malloc((size_t)f->s.n_test * N_FEAT * sizeof(double));
    f->train_y = malloc((size_t)f->s.n_train);
    f->test_y = malloc((size_t)f->s.n_test);
    f->cnn_params = with_params ? malloc(CNN_PARAMS * sizeof(double)) : NULL;
    return f->train_x && f->test_x && f->train_y && f->test_y && (!with_params || f->cnn_params) ? 0 : -1;
}

int ntas_pretrain_compute(const ntas_pretrain_setting *s, ntas_features *f, ntas_cnn_progress_fn progress,
                          void *ctx, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    ntas_pretrain_setting mine = *s;
    ntas_idx_dataset train, test;
    if (load_setting(&mine, &train, &test, err, errlen) != 0) return -1;
    int rc = -1;
    ntas_cnn net;
    memset(&net, 0, sizeof net);
    if (mine.key != s->key) {
        snprintf(err, errlen, "dataset = %s in %s changed while the sweep started (content hash %016llx, planned %016llx)",
                 dataset_name(s->dataset), s->dir, (unsigned long long)mine.data_hash, (unsigned long long)s->data_hash);
        goto done;
    }
    f->s = *s;
    ntas_cnn_train_opts o;
    ntas_cnn_train_opts_defaults(&o);
    o.steps = (int)s->steps;
    o.seed = (uint64_t)s->seed;
    o.progress_every = 1;
    if (alloc_features(f, 1) != 0 || ntas_cnn_init(&net, o.batch, err, errlen) != 0) {
        if (!err[0]) snprintf(err, errlen, "out of memory for the features of %d images", s->n_train + s->n_test);
        goto done;
    }
    if (net.n_params != CNN_PARAMS) {
        snprintf(err, errlen, "internal: the CNN has %zu parameters, pretrain.c counts %zu", net.n_params, (size_t)CNN_PARAMS);
        goto done;
    }
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_stream_key((uint64_t)s->seed, "cnn-init"));
    ntas_cnn_init_params(&net, &rng);
    rc = ntas_cnn_pretrain(&net, &train, &o, progress, ctx, err, errlen);
    if (rc != 0) goto done;
    rc = -1;
    if (ntas_cnn_accuracy(&net, &test, &f->test_accuracy, NULL, err, errlen) != 0 ||
        ntas_cnn_features(&net, &train, f->train_x, err, errlen) != 0 ||
        ntas_cnn_features(&net, &test, f->test_x, err, errlen) != 0)
        goto done;
    memcpy(f->train_y, train.labels, (size_t)s->n_train);
    memcpy(f->test_y, test.labels, (size_t)s->n_test);
    memcpy(f->cnn_params, net.params, CNN_PARAMS * sizeof(double));
    memcpy(f->head_w, net.w.fc3_w, sizeof f->head_w);
    memcpy(f->head_b, net.w.fc3_b, sizeof f->head_b);
    rc = 0;
done:
    ntas_cnn_free(&net);
    ntas_idx_free(&train);
    ntas_idx_free(&test);
    if (rc != 0) ntas_features_free(f);
    return rc;
}

/* ---- raw reads and writes of a group (parallel file, one rank) ------------ */

static void *group_buffer(ntas_features *f, int k, double *status_or_acc)
{
    switch (k) {
    case G_STATUS: case G_ACCURACY: return status_or_acc;
    case G_PARAMS: return f->cnn_params;
    case G_TRAIN_X: return f->train_x;
    case G_TEST_X: return f->test_x;
    case G_TRAIN_Y: return f->train_y;
    default: return f->test_y;
    }
}

/* Every rank opens every dataset of a group, in the same order, as
 * store.c does for the runs' datasets; one rank then reads or writes raw
 * data through them. */
static int open_group(hid_t file, const ntas_pretrain_setting *s, hid_t *ds)
{
    char path[64];
    group_path(s, path, sizeof path);
    int ok = 1;
    for (int k = 0; k < G_COUNT; k++) {
        char name[96];
        snprintf(name, sizeof name, "%s/%s", path, group_ds[k].name);
        ds[k] = H5Dopen2(file, name, H5P_DEFAULT);
        ok &= ds[k] >= 0;
    }
    return ok ? 0 : -1;
}

static void close_group(hid_t *ds)
{
    for (int k = 0; k < G_COUNT; k++)
        if (ds[k] >= 0) H5Dclose(ds[k]);
}

/* Writes every dataset, the status flag last: a group with status 1 is complete. */
static int write_group(const hid_t *ds, ntas_features *f)
{
    int ok = 1;
    for (int pass = 0; pass < 2 && ok; pass++)
        for (int k = 0; ok && k < G_COUNT; k++) {
            if ((k == G_STATUS) != (pass == 1)) continue;
            uint8_t one = 1;
            const void *buf = k == G_STATUS ? (const void *)&one : k == G_ACCURACY ? (const void *)&f->test_accuracy
                                                                  : group_buffer(f, k, NULL);
            ok = H5Dwrite(ds[k], group_ds[k].is_u8 ? H5T_NATIVE_UINT8 : H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL,
                          H5P_DEFAULT, buf) >= 0;
        }
    return ok ? 0 : -1;
}

static int read_group(const hid_t *ds, ntas_features *f)
{
    if (alloc_features(f, 1) != 0) return -1;
    int ok = 1;
    for (int k = G_ACCURACY; ok && k < G_COUNT; k++) {
        void *buf = k == G_ACCURACY ? (void *)&f->test_accuracy : group_buffer(f, k, NULL);
        ok = H5Dread(ds[k], group_ds[k].is_u8 ? H5T_NATIVE_UINT8 : H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL,
                     H5P_DEFAULT, buf) >= 0;
    }
    if (ok) {
        memcpy(f->head_w, f->cnn_params + HEAD_OFFSET, sizeof f->head_w);
        memcpy(f->head_b, f->cnn_params + HEAD_OFFSET + (size_t)N_CLASS * N_FEAT, sizeof f->head_b);
    }
    free(f->cnn_params);
    f->cnn_params = NULL;
    return ok ? 0 : -1;
}

/* ---- the per-job phase ------------------------------------------------------- */

typedef struct {
    const ntas_pretrain_options *opt;
    const ntas_pretrain_setting *s;
    int rank;
    double t0;
} progress_ctx;

/* Called after every step (a stop signal is honoured within one step);
 * prints every tenth of the way. */
static int on_progress(void *ctx, int step, double loss)
{
    progress_ctx *p = ctx;
    if (p->opt->lock) ntas_lock_heartbeat(p->opt->lock);
    const int64_t every = p->s->steps >= 10 ? p->s->steps / 10 : 1;
    if (!p->opt->quiet && (step % every == 0 || step == p->s->steps))
        fprintf(stderr, "ntasweep: pretraining the %s CNN (rank %d): step %d/%lld, batch loss %.4f, %.0f s\n",
                dataset_name(p->s->dataset), p->rank, step, (long long)p->s->steps, loss, now() - p->t0);
    return p->opt->stop_requested && p->opt->stop_requested();
}

/* Waits for a broadcast without spinning a core (the rank that pretrains
 * may share it), keeping the lock fresh. */
static void bcast_wait(void *buf, int count, MPI_Datatype type, int root, MPI_Comm comm, const ntas_pretrain_options *opt)
{
    MPI_Request req;
    MPI_Ibcast(buf, count, type, root, comm, &req);
    for (;;) {
        int done = 0;
        MPI_Test(&req, &done, MPI_STATUS_IGNORE);
        if (done) return;
        if (opt->lock) ntas_lock_heartbeat(opt->lock);
        nanosleep(&(struct timespec){0, 2000000}, NULL);
    }
}

/* Broadcasts a long array in pieces that fit an int count. */
static void bcast_big(void *buf, size_t n, MPI_Datatype type, size_t esize, int root, MPI_Comm comm)
{
    const size_t piece = (size_t)1 << 26;
    for (size_t off = 0; off < n; off += piece) {
        size_t m = n - off < piece ? n - off : piece;
        MPI_Bcast((char *)buf + off * esize, (int)m, type, root, comm);
    }
}

enum { GOT_OK = 0, GOT_STOPPED = 1, GOT_MISSING = 2, GOT_ERROR = -1 };

/* The owner's part for setting s: read the group back, or pretrain and write it. */
static int obtain(ntas_features *f, const ntas_pretrain_setting *s, const hid_t *ds, int8_t status, int rank,
                  const ntas_pretrain_options *opt, char *err, size_t errlen)
{
    double t0 = now();
    if (status == 1) {
        f->s = *s;
        if (read_group(ds, f) != 0) {
            snprintf(err, errlen, "reading the pretrained %s features from the results file failed", dataset_name(s->dataset));
            return GOT_ERROR;
        }
        if (!opt->quiet)
            fprintf(stderr, "ntasweep: %s CNN (%lld steps, seed %lld) read from the results file: test accuracy %.4f\n",
                    dataset_name(s->dataset), (long long)s->steps, (long long)s->seed, f->test_accuracy);
        return GOT_OK;
    }
    if (!opt->quiet)
        fprintf(stderr, "ntasweep: pretraining the %s CNN on rank %d: %lld steps, seed %lld, %d training images "
                "from %s%s\n", dataset_name(s->dataset), rank, (long long)s->steps, (long long)s->seed, s->n_train,
                s->dir, s->held_out ? " (the 10k test set split 4:1)" : "");
    progress_ctx pc = {.opt = opt, .s = s, .rank = rank, .t0 = t0};
    int rc = ntas_pretrain_compute(s, f, on_progress, &pc, err, errlen);
    if (rc == 1) return GOT_STOPPED;
    if (rc != 0) return GOT_ERROR;
    if (write_group(ds, f) != 0) {
        snprintf(err, errlen, "writing the pretrained %s features into the results file failed", dataset_name(s->dataset));
        return GOT_ERROR;
    }
    free(f->cnn_params);
    f->cnn_params = NULL;
    if (!opt->quiet)
        fprintf(stderr, "ntasweep: pretrained the %s CNN in %.0f s: test accuracy %.4f on %d test images\n",
                dataset_name(s->dataset), now() - t0, f->test_accuracy, s->n_test);
    return GOT_OK;
}

int ntas_feature_cache_prepare(ntas_feature_cache *c, const ntas_pretrain_setting *plan, int n_plan, hid_t file,
                               MPI_Comm comm, const ntas_pretrain_options *opt, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);

    /* Rank 0 planned (it alone read the data); every rank gets the plan. */
    int n = rank == 0 ? n_plan : 0;
    MPI_Bcast(&n, 1, MPI_INT, 0, comm);
    if (n == 0) return GOT_OK;
    ntas_pretrain_setting *s = malloc((size_t)n * sizeof *s);
    if (s && rank == 0) memcpy(s, plan, (size_t)n * sizeof *s);
    c->sets = calloc((size_t)n, sizeof *c->sets);
    int ok = s && c->sets, all_ok = 0;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm);
    if (!all_ok) {
        free(s);
        free(c->sets);
        c->sets = NULL;
        snprintf(err, errlen, "out of memory");
        return GOT_ERROR;
    }
    MPI_Bcast(s, n * (int)sizeof *s, MPI_BYTE, 0, comm);
    c->n = n;

    /* Every rank sees the same file metadata: a missing group is seen by all. */
    int8_t *status = calloc((size_t)n, 1);
    hid_t (*ds)[G_COUNT] = malloc((size_t)n * sizeof *ds);
    int *got = calloc((size_t)n, sizeof *got);
    int rc = status && ds && got ? GOT_OK : GOT_ERROR;
    for (int i = 0; ds && i < n; i++)
        for (int k = 0; k < G_COUNT; k++) ds[i][k] = -1;
    for (int i = 0; rc == GOT_OK && i < n; i++) {
        char path[64];
        group_path(&s[i], path, sizeof path);
        if (H5Lexists(file, "pretrained", H5P_DEFAULT) <= 0 || H5Lexists(file, path, H5P_DEFAULT) <= 0) {
            char hex[17];
            ntas_hex64(s[i].data_hash, hex);
            snprintf(err, errlen, "the results file has no pretraining of dataset = %s, cnn_steps = %lld, cnn_seed = %lld "
                     "on the images now found in %s (content hash %s): they differ from the ones its runs used. "
                     "Point %s back at those (the data_dir attribute of its /pretrained groups says where they were), "
                     "or start a new file with --force-new", dataset_name(s[i].dataset), (long long)s[i].steps,
                     (long long)s[i].seed, s[i].dir, hex,
                     s[i].dataset == NTAS_DATASET_MNIST ? NTAS_ENV_MNIST_DIR : NTAS_ENV_FASHION_DIR);
            rc = GOT_MISSING;
        } else if (open_group(file, &s[i], ds[i]) != 0 || read_status(file, path, &status[i]) != 0) {
            snprintf(err, errlen, "cannot open %s of the results file", path);
            rc = GOT_ERROR;
        }
    }
    int worst = rc;
    MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MIN, comm);
    if (worst == GOT_OK) {
        /* Owners work in parallel, then broadcast in setting order. */
        for (int i = 0; i < n; i++)
            if (i % size == rank) got[i] = obtain(&c->sets[i], &s[i], ds[i], status[i], rank, opt, err, errlen);
        for (int i = 0; i < n; i++) {
            const int root = i % size;
            int head = root == rank ? got[i] : GOT_OK;
            bcast_wait(&head, 1, MPI_INT, root, comm, opt);
            if (head != GOT_OK) {
                if (rc == GOT_OK || head == GOT_ERROR) rc = head;
                if (root != rank && head == GOT_ERROR) snprintf(err, errlen, "rank %d failed to pretrain (see its message)", root);
                continue;
            }
            ntas_features *f = &c->sets[i];
            int mem = 1, all_mem = 0;
            if (root != rank) {
                f->s = s[i];
                mem = alloc_features(f, 0) == 0;
            }
            MPI_Allreduce(&mem, &all_mem, 1, MPI_INT, MPI_MIN, comm);
            if (!all_mem) {
                snprintf(err, errlen, "out of memory for the %s features on %s rank", dataset_name(s[i].dataset),
                         mem ? "another" : "this");
                rc = GOT_ERROR;
                continue;
            }
            bcast_big(f->train_x, (size_t)s[i].n_train * N_FEAT, MPI_DOUBLE, sizeof(double), root, comm);
            bcast_big(f->test_x, (size_t)s[i].n_test * N_FEAT, MPI_DOUBLE, sizeof(double), root, comm);
            bcast_big(f->train_y, (size_t)s[i].n_train, MPI_UINT8_T, 1, root, comm);
            bcast_big(f->test_y, (size_t)s[i].n_test, MPI_UINT8_T, 1, root, comm);
            MPI_Bcast(f->head_w, N_CLASS * N_FEAT, MPI_DOUBLE, root, comm);
            MPI_Bcast(f->head_b, N_CLASS, MPI_DOUBLE, root, comm);
            MPI_Bcast(&f->test_accuracy, 1, MPI_DOUBLE, root, comm);
        }
    } else if (rc == GOT_OK) {
        snprintf(err, errlen, "another rank failed");
        rc = GOT_ERROR;
    }
    for (int i = 0; ds && i < n; i++) close_group(ds[i]);
    /* The new groups reach the disk before any run starts. */
    if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0 && rc == GOT_OK) {
        snprintf(err, errlen, "flushing the pretrained features failed");
        rc = GOT_ERROR;
    }
    free(got);
    free(ds);
    free(status);
    free(s);
    if (rc != GOT_OK) ntas_feature_cache_free(c);
    return rc;
}

void ntas_feature_cache_free(ntas_feature_cache *c)
{
    for (int i = 0; c->sets && i < c->n; i++) ntas_features_free(&c->sets[i]);
    free(c->sets);
    memset(c, 0, sizeof *c);
}
