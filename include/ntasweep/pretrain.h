/* pretrain — the pretrained CNN features of a sweep, computed once and shared.
 *
 * Owns the data look-up (which directory holds a dataset's IDX files), the
 * pretraining settings of a sweep (one per distinct dataset, cnn_steps,
 * cnn_seed and data content), their group /pretrained/<key> in the results
 * file (layout, creation, copying on extend, raw writes and reads), and the
 * per-job feature cache: before any run starts, each setting is pretrained
 * by one rank (or read back from the file), then broadcast to every rank.
 */
#ifndef NTASWEEP_PRETRAIN_H
#define NTASWEEP_PRETRAIN_H

#include <hdf5.h>
#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "ntasweep/cnn.h"
#include "ntasweep/lock.h"
#include "ntasweep/params.h"
#include "ntasweep/spec.h"

#define NTAS_PATH_LEN 4096

/* Environment variables naming a dataset's directory (they win over the
 * built-in places, see ntas_data_dir). */
#define NTAS_ENV_MNIST_DIR "NTASWEEP_MNIST_DIR"
#define NTAS_ENV_FASHION_DIR "NTASWEEP_FASHION_DIR"

/* One pretraining: what determines the CNN's weights and features. Plain
 * data (no pointers), so it can be broadcast as bytes. */
typedef struct {
    int dataset;              /* ntas_dataset_kind */
    int64_t steps, seed;      /* cnn_steps, cnn_seed */
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

/* The distinct pretraining settings (dataset, cnn_steps, cnn_seed) of the
 * spec's cnn runs (none for other models), with each one's largest batch,
 * without reading any data (`ntasweep plan` counts them). 0 with *out
 * malloc'ed (NULL when n is 0), or -1 with err. */
int ntas_pretrain_settings(const ntas_spec *spec, ntas_pretrain_setting **out, int *n, char *err, size_t errlen);

/* ntas_pretrain_settings, then finds and reads each dataset to hash it and
 * count its images, and checks every run's batch against the training
 * images. 0 with *out malloc'ed (NULL when n is 0), or -1 with err. */
int ntas_pretrain_plan(const ntas_spec *spec, ntas_pretrain_setting **out, int *n, char *err, size_t errlen);

/* The settings a run of params p uses, matched by dataset, steps and seed
 * (a job sees one data content per dataset). */
const ntas_features *ntas_feature_cache_find(const ntas_feature_cache *c, const ntas_params *p);

/* Results file, serial (store.c, while it creates OUT.tmp): creates group
 * /pretrained/<key> of every setting, every dataset allocated early with a
 * NaN or zero fill and status 0, so the parallel phase only writes raw data.
 * With copy_from, the groups that file holds with status 1 are copied. */
int ntas_pretrain_create_groups(hid_t file, const ntas_pretrain_setting *s, int n, const char *copy_from,
                                char *err, size_t errlen);

/* Pretrains one setting from scratch: loads the data, CNN init from
 * stream (cnn_seed, "cnn-init"), ntas_cnn_pretrain with cnn_steps steps,
 * test accuracy, features of every image. progress as in cnn.h (may be
 * NULL). 0, 1 if progress stopped it, -1 with err. */
int ntas_pretrain_compute(const ntas_pretrain_setting *s, ntas_features *f, ntas_cnn_progress_fn progress,
                          void *ctx, char *err, size_t errlen);
void ntas_features_free(ntas_features *f);

typedef struct {
    int quiet;
    ntas_lock *lock;          /* rank 0: heartbeat kept fresh while pretraining; may be NULL */
    int (*stop_requested)(void);   /* a stop signal arrived (may be NULL) */
} ntas_pretrain_options;

/* Collective over comm, before the runs are handed out. plan and n_plan
 * (from ntas_pretrain_plan) are read on rank 0 only; every rank gets them.
 * Setting i is obtained by rank i % size: read from the open results file
 * `file` if its group's status is 1, else pretrained and written there
 * (data, then status); then broadcast to every rank, so every rank ends
 * with the same cache. Returns 0; 1 if a stop signal interrupted a
 * pretraining (nothing of it is kept; resumable); 2 if the file lacks a
 * setting (the data changed since it was created; err says what to do);
 * -1 on an error (err filled on the rank that saw it, "rank k failed" on
 * the others). */
int  ntas_feature_cache_prepare(ntas_feature_cache *c, const ntas_pretrain_setting *plan, int n_plan, hid_t file,
                                MPI_Comm comm, const ntas_pretrain_options *opt, char *err, size_t errlen);
void ntas_feature_cache_free(ntas_feature_cache *c);

#endif
