/* features — the pretrained CNN features that the cnn heads read.
 *
 * Owns the data look-up (which directory holds a dataset's IDX files), the
 * pretraining settings of a sweep (one per distinct dataset, cnn_steps,
 * cnn_seed and data content), the pretraining of one setting (cnn.h) into
 * its features, and the per-job cache of them. Numeric only: storing the
 * features in the results file and sharing them across ranks is
 * io/pretrain.h.
 */
#ifndef NTASWEEP_FEATURES_H
#define NTASWEEP_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "ntasweep/config/params.h"
#include "ntasweep/config/spec.h"
#include "ntasweep/models/cnn.h"

#define NTAS_PATH_LEN 4096

/* Every CNN parameter, in the order of ntas_cnn_tensors; fc3 (the head) last. */
#define NTAS_CNN_PARAMS ((size_t)NTAS_CNN_CHANNELS * NTAS_CNN_TAPS + NTAS_CNN_CHANNELS +           \
                         (size_t)NTAS_CNN_HIDDEN * NTAS_CNN_FLAT + NTAS_CNN_HIDDEN +                \
                         (size_t)NTAS_CNN_FEATURES * NTAS_CNN_HIDDEN + NTAS_CNN_FEATURES +          \
                         (size_t)NTAS_CNN_CLASSES * NTAS_CNN_FEATURES + NTAS_CNN_CLASSES)
#define NTAS_CNN_HEAD_OFFSET (NTAS_CNN_PARAMS - (size_t)NTAS_CNN_CLASSES * NTAS_CNN_FEATURES - NTAS_CNN_CLASSES)

/* "mnist", "fashion" or "none". */
const char *ntas_dataset_name(int dataset);


/* Environment variables naming a dataset's directory (they win over the
 * built-in places, see ntas_data_dir). */
#define NTAS_ENV_MNIST_DIR "NTASWEEP_MNIST_DIR"
#define NTAS_ENV_FASHION_DIR "NTASWEEP_FASHION_DIR"

/* One pretraining: what determines the CNN's weights and features. Plain
 * data (no pointers), so it can be broadcast as bytes. */
typedef struct {
    int dataset;              /* ntas_dataset_kind */
    int64_t steps, seed;      /* cnn_steps, cnn_seed */
    int float32;              /* cnn_precision = float32 (ntas_cnn_use_float32) */
    int64_t max_batch;        /* largest head batch of the sweep's runs on it (checked against n_train) */
    char dir[NTAS_PATH_LEN];  /* where the IDX files were found */
    int held_out;             /* 1: only the 10k test files, split by NTAS_IDX_HOLDOUT_EVERY */
    int n_train, n_test;
    uint64_t data_hash;       /* of every pixel and label, train then test */
    uint64_t key;             /* of the settings above but dir: names /pretrained/<key> */
} ntas_pretrain_setting;

/* What the runs read: the pretrained CNN's features and labels, and its own
 * 64 -> 10 head (the cnn_alone baseline starts from it). */
typedef struct ntas_features_s {
    ntas_pretrain_setting s;
    double *train_x, *test_x;                   /* [n][64] ReLU features */
    uint8_t *train_y, *test_y;                  /* [n] original labels 0..9 */
    double head_w[NTAS_CNN_CLASSES * NTAS_CNN_FEATURES];   /* fc3: [10][64] */
    double head_b[NTAS_CNN_CLASSES];
    double test_accuracy;                       /* of the pretrained CNN on the test images */
    double *cnn_params;                         /* [n_params], only while it is being written */
} ntas_features;

typedef struct {
    int n;
    ntas_features *sets;
} ntas_feature_cache;

/* The directory holding dataset's IDX files: the environment variable of
 * the dataset if set (then it must hold them); else fashion:
 * /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist);
 * mnist: the first of D/data/mnist and D/shared/data/mnist-t10k that holds
 * them, for D the sweep file's directory, then each directory above it (the
 * repository's data/mnist, or the shared/ beside a checkout). 0, or -1 with
 * err saying where it looked. */
int ntas_data_dir(int dataset, const char *spec_path, char *dir, size_t len, char *err, size_t errlen);

/* The distinct pretraining settings (dataset, cnn_steps, cnn_seed, cnn_precision) of the
 * spec's cnn runs (none for other models), with each one's largest batch,
 * without reading any data (`ntasweep plan` counts them). 0 with *out
 * malloc'ed (NULL when n is 0), or -1 with err. */
int ntas_pretrain_settings(const ntas_spec *spec, ntas_pretrain_setting **out, int *n, char *err, size_t errlen);

/* ntas_pretrain_settings, then finds and reads each dataset to hash it and
 * count its images, and checks every run's batch against the training
 * images. 0 with *out malloc'ed (NULL when n is 0), or -1 with err. */
int ntas_pretrain_plan(const ntas_spec *spec, ntas_pretrain_setting **out, int *n, char *err, size_t errlen);

/* The settings a run of params p uses, matched by dataset, steps, seed and precision
 * (a job sees one data content per dataset). */
const ntas_features *ntas_feature_cache_find(const ntas_feature_cache *c, const ntas_params *p);

/* Pretrains one setting from scratch: loads the data, CNN init from
 * stream (cnn_seed, "cnn-init"), ntas_cnn_pretrain with cnn_steps steps,
 * test accuracy, features of every image. progress as in cnn.h (may be
 * NULL). 0, 1 if progress stopped it, -1 with err. */
int ntas_pretrain_compute(const ntas_pretrain_setting *s, ntas_features *f, ntas_cnn_progress_fn progress,
                          void *ctx, char *err, size_t errlen);
/* The same pretraining shared by the parts of ex (cnn.h: every part
 * computes its shards of each batch; the parameters come out bitwise the
 * same for any number of parts). Collective: every part calls it with the
 * same setting. With with_features 0 it returns after the pretraining with
 * f empty (another part computes the accuracy and the features); a part
 * that fails before the pretraining tells the others, which then fail too.
 * NULL ex, with_features 1: ntas_pretrain_compute. */
int ntas_pretrain_compute_parts(const ntas_pretrain_setting *s, ntas_features *f, const ntas_cnn_exchange *ex,
                                int with_features, ntas_cnn_progress_fn progress, void *ctx, char *err, size_t errlen);
void ntas_features_free(ntas_features *f);

/* Allocates f's arrays for f->s's sizes (cnn_params too when with_params).
 * 0, or -1 when out of memory (what was allocated is freed by
 * ntas_features_free). */
int ntas_features_alloc(ntas_features *f, int with_params);
void ntas_feature_cache_free(ntas_feature_cache *c);

#endif
