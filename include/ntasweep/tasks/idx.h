/* idx — MNIST-format image and label files (IDX), read into normalised doubles.
 *
 * Owns ntas_idx_dataset: n images of rows x cols pixels, scaled to [0,1] and
 * normalised (x - 0.5)/0.5 (SPEC-NOTES §8), with their labels 0..9. Files may
 * be gzip-compressed or plain (zlib reads both). Every header field and the
 * exact payload size are checked; every error message starts with the path.
 */
#ifndef NTASWEEP_IDX_H
#define NTASWEEP_IDX_H

#include <stddef.h>
#include <stdint.h>

/* IDX magic numbers: 0x00 0x00, element type 0x08 (unsigned byte), rank. */
#define NTAS_IDX_MAGIC_IMAGES 0x00000803u
#define NTAS_IDX_MAGIC_LABELS 0x00000801u

/* When a directory holds only the 10k test files (the case of the real MNIST
 * we have), ntas_idx_load_train_test splits them: image i is held out for
 * testing when i % NTAS_IDX_HOLDOUT_EVERY == NTAS_IDX_HOLDOUT_EVERY - 1, i.e.
 * indices 4, 9, 14, ... (2000 test images, 8000 train, order kept). A stride
 * rather than a first/last cut because the MNIST test file is ordered by
 * writer population (its first half is the easier one); no RNG, so the split
 * can never drift with a random-stream change. */
#define NTAS_IDX_HOLDOUT_EVERY 5

typedef struct {
    int n, rows, cols;
    double  *pixels;   /* n x rows x cols, row-major, (x/255 - 0.5)/0.5 in [-1, 1] */
    uint8_t *labels;   /* n, each 0..9 */
} ntas_idx_dataset;

/* Reads an images file (magic 0x803, 3-D) and a labels file (magic 0x801,
 * 1-D) that must agree on the count. Rejects a wrong magic, a zero or
 * oversized dimension, a short file, bytes after the payload, a corrupt gzip
 * stream and labels above 9. On error ds is left empty (free-able) and err
 * names the offending file. */
int  ntas_idx_load(ntas_idx_dataset *ds, const char *images_path, const char *labels_path,
                   char *err, size_t errlen);
void ntas_idx_free(ntas_idx_dataset *ds);

/* Finds <dir>/<split>-images-idx3-ubyte.gz (or the same name without .gz)
 * and the matching labels-idx1-ubyte file, and loads them. split is "train"
 * or "t10k" (any name with files of that pattern works). */
int  ntas_idx_load_split(ntas_idx_dataset *ds, const char *dir, const char *split,
                         char *err, size_t errlen);

/* Whether dir holds the images and labels files of split (either form). */
int  ntas_idx_has_split(const char *dir, const char *split);

/* Train and test sets of a directory: "train" and "t10k" when both are
 * present; otherwise the "t10k" files split by NTAS_IDX_HOLDOUT_EVERY (above),
 * in which case *held_out is set to 1 (0 otherwise; held_out may be NULL). */
int  ntas_idx_load_train_test(const char *dir, ntas_idx_dataset *train, ntas_idx_dataset *test,
                              int *held_out, char *err, size_t errlen);

/* Copies into dst the images of src whose index i satisfies
 * (i % every == every - 1) == take_held_out, keeping their order. */
int  ntas_idx_stride_subset(ntas_idx_dataset *dst, const ntas_idx_dataset *src, int every,
                            int take_held_out, char *err, size_t errlen);

#endif
