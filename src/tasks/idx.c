/* idx — IDX (MNIST format) reader. See idx.h.
 *
 * Layout of an IDX file (LeCun's MNIST page): a big-endian 32-bit magic
 * 0x0000TTRR (TT = 0x08 for unsigned bytes, RR = rank), RR big-endian 32-bit
 * dimensions, then the elements row-major. gzread passes a plain file through
 * unchanged, so one code path reads both forms.
 */
#include "ntasweep/tasks/idx.h"
#include "ntasweep/core/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* An upper bound on n * rows * cols, so that a corrupt header cannot ask for
 * an absurd allocation before the short payload gives it away: 2^28 pixels
 * are 2 GiB of doubles, over five times Fashion-MNIST's 60000 x 28 x 28. */
#define IDX_MAX_ELEMENTS (1u << 28)
#define IDX_MAX_SIDE 4096u
#define IDX_CHUNK 65536

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* Reads up to len bytes; returns how many arrived (short only at the end of
 * the data or on a gzip error, which gz_failed then reports). */
static size_t read_upto(gzFile f, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        size_t want = len - got;
        if (want > (1u << 30)) want = 1u << 30;
        int r = gzread(f, (unsigned char *)buf + got, (unsigned)want);
        if (r <= 0) break;
        got += (size_t)r;
    }
    return got;
}

/* Fills err if the stream hit a gzip error (corrupt data, bad check sum, a
 * compressed stream cut short); returns whether it did. */
static int gz_failed(gzFile f, const char *path, char *err, size_t errlen)
{
    int code = Z_OK;
    const char *msg = gzerror(f, &code);
    if (code == Z_OK) return 0;
    /* zlib prefixes its message with the path; ours already starts with it. */
    size_t plen = strlen(path);
    if (strncmp(msg, path, plen) == 0 && strncmp(msg + plen, ": ", 2) == 0) msg += plen + 2;
    if (code == Z_ERRNO)
        ntas_set_err(err, errlen, "%s: read error: %s", path, strerror(errno));
    else
        ntas_set_err(err, errlen, "%s: corrupt or truncated gzip data (%s)", path, msg);
    return 1;
}

static gzFile open_idx(const char *path, char *err, size_t errlen)
{
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f) {
        ntas_set_err(err, errlen, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
        return NULL;
    }
    gzbuffer(f, 1u << 17);
    return f;
}

/* Reads the magic and rank dimensions; checks the magic first (so a file of
 * the other kind is named as such even when it is shorter than the header
 * expected) and that every dimension is non-zero and within the bounds above. */
static int read_header(gzFile f, const char *path, uint32_t magic, const char *kind, int rank,
                       uint32_t *dims, char *err, size_t errlen)
{
    unsigned char b[4 + 4 * 3];
    size_t want = 4 + 4 * (size_t)rank;
    size_t got = read_upto(f, b, 4);
    if (got == 4) {
        uint32_t found = be32(b);
        if (found != magic) {
            ntas_set_err(err, errlen, "%s: magic number 0x%08x is not that of an IDX %s file (0x%08x)",
                     path, (unsigned)found, kind, (unsigned)magic);
            return -1;
        }
        got += read_upto(f, b + 4, want - 4);
    }
    if (got < want) {
        if (gz_failed(f, path, err, errlen)) return -1;
        if (got == 0)
            ntas_set_err(err, errlen, "%s: file is empty", path);
        else
            ntas_set_err(err, errlen, "%s: file ends inside the IDX header (%zu of %zu bytes)", path, got, want);
        return -1;
    }
    uint64_t total = 1;
    for (int i = 0; i < rank; i++) {
        dims[i] = be32(b + 4 + 4 * i);
        if (dims[i] == 0 || (i > 0 && dims[i] > IDX_MAX_SIDE)) {
            ntas_set_err(err, errlen, "%s: dimension %d of the header is %u", path, i, (unsigned)dims[i]);
            return -1;
        }
        total *= dims[i];
        if (total > IDX_MAX_ELEMENTS) {
            ntas_set_err(err, errlen, "%s: header announces more than %u elements", path, IDX_MAX_ELEMENTS);
            return -1;
        }
    }
    return 0;
}

/* After the payload the file must end, cleanly for gzip (check sum and
 * length trailer intact). */
static int expect_end(gzFile f, const char *path, size_t payload, char *err, size_t errlen)
{
    unsigned char extra;
    if (read_upto(f, &extra, 1) == 1) {
        ntas_set_err(err, errlen, "%s: has bytes after the %zu payload bytes its header announces", path, payload);
        return -1;
    }
    return gz_failed(f, path, err, errlen) ? -1 : 0;
}

static int short_payload(gzFile f, const char *path, size_t got, size_t want, char *err, size_t errlen)
{
    if (!gz_failed(f, path, err, errlen))
        ntas_set_err(err, errlen, "%s: file ends after %zu of the %zu payload bytes its header announces",
                 path, got, want);
    return -1;
}

static int read_images(ntas_idx_dataset *ds, const char *path, char *err, size_t errlen)
{
    gzFile f = open_idx(path, err, errlen);
    if (!f) return -1;
    uint32_t dims[3];
    int rc = -1;
    unsigned char *chunk = NULL;
    if (read_header(f, path, NTAS_IDX_MAGIC_IMAGES, "images", 3, dims, err, errlen) != 0) goto done;
    size_t total = (size_t)dims[0] * dims[1] * dims[2];
    ds->pixels = malloc(total * sizeof *ds->pixels);
    chunk = malloc(IDX_CHUNK);
    if (!ds->pixels || !chunk) {
        ntas_set_err(err, errlen, "%s: out of memory for %zu pixels", path, total);
        goto done;
    }
    for (size_t done_px = 0; done_px < total;) {
        size_t want = total - done_px < IDX_CHUNK ? total - done_px : IDX_CHUNK;
        size_t got = read_upto(f, chunk, want);
        /* Scale to [0,1], then normalise with mean 0.5 and std 0.5 (SPEC-NOTES §8). */
        for (size_t i = 0; i < got; i++)
            ds->pixels[done_px + i] = ((double)chunk[i] / 255.0 - 0.5) / 0.5;
        done_px += got;
        if (got < want) {
            short_payload(f, path, done_px, total, err, errlen);
            goto done;
        }
    }
    if (expect_end(f, path, total, err, errlen) != 0) goto done;
    ds->n = (int)dims[0];
    ds->rows = (int)dims[1];
    ds->cols = (int)dims[2];
    rc = 0;
done:
    free(chunk);
    gzclose_r(f);
    return rc;
}

static int read_labels(ntas_idx_dataset *ds, const char *path, char *err, size_t errlen)
{
    gzFile f = open_idx(path, err, errlen);
    if (!f) return -1;
    uint32_t n;
    int rc = -1;
    if (read_header(f, path, NTAS_IDX_MAGIC_LABELS, "labels", 1, &n, err, errlen) != 0) goto done;
    ds->labels = malloc(n);
    if (!ds->labels) {
        ntas_set_err(err, errlen, "%s: out of memory for %u labels", path, (unsigned)n);
        goto done;
    }
    size_t got = read_upto(f, ds->labels, n);
    if (got < n) {
        short_payload(f, path, got, n, err, errlen);
        goto done;
    }
    if (expect_end(f, path, n, err, errlen) != 0) goto done;
    for (uint32_t i = 0; i < n; i++)
        if (ds->labels[i] > 9) {
            ntas_set_err(err, errlen, "%s: label %u of item %u is not a class 0..9", path,
                     (unsigned)ds->labels[i], (unsigned)i);
            goto done;
        }
    ds->n = (int)n;
    rc = 0;
done:
    gzclose_r(f);
    return rc;
}

int ntas_idx_load(ntas_idx_dataset *ds, const char *images_path, const char *labels_path,
                  char *err, size_t errlen)
{
    memset(ds, 0, sizeof *ds);
    ntas_idx_dataset lab;
    memset(&lab, 0, sizeof lab);
    if (read_images(ds, images_path, err, errlen) != 0 || read_labels(&lab, labels_path, err, errlen) != 0)
        goto fail;
    if (lab.n != ds->n) {
        ntas_set_err(err, errlen, "%s has %d images but %s has %d labels", images_path, ds->n, labels_path, lab.n);
        goto fail;
    }
    ds->labels = lab.labels;
    return 0;
fail:
    ntas_idx_free(&lab);
    ntas_idx_free(ds);
    return -1;
}

void ntas_idx_free(ntas_idx_dataset *ds)
{
    free(ds->pixels);
    free(ds->labels);
    memset(ds, 0, sizeof *ds);
}

/* Path of <dir>/<split>-<kind>-idxR-ubyte, with ".gz" if that file exists,
 * otherwise the plain name if it exists, otherwise the .gz name (so that the
 * "cannot open" error names the usual form). Returns whether one exists. */
static int find_file(char *out, size_t outlen, const char *dir, const char *split, const char *kind)
{
    snprintf(out, outlen, "%s/%s-%s-ubyte.gz", dir, split, kind);
    if (access(out, R_OK) == 0) return 1;
    snprintf(out, outlen, "%s/%s-%s-ubyte", dir, split, kind);
    if (access(out, R_OK) == 0) return 1;
    snprintf(out, outlen, "%s/%s-%s-ubyte.gz", dir, split, kind);
    return 0;
}

enum { IDX_PATH_MAX = 4096 };

int ntas_idx_has_split(const char *dir, const char *split)
{
    char images[IDX_PATH_MAX], labels[IDX_PATH_MAX];
    return find_file(images, sizeof images, dir, split, "images-idx3") &&
           find_file(labels, sizeof labels, dir, split, "labels-idx1");
}

int ntas_idx_load_split(ntas_idx_dataset *ds, const char *dir, const char *split,
                        char *err, size_t errlen)
{
    char images[IDX_PATH_MAX], labels[IDX_PATH_MAX];
    memset(ds, 0, sizeof *ds);
    if (strlen(dir) + strlen(split) + 32 > IDX_PATH_MAX) {
        ntas_set_err(err, errlen, "%.200s...: directory name too long", dir);
        return -1;
    }
    find_file(images, sizeof images, dir, split, "images-idx3");
    find_file(labels, sizeof labels, dir, split, "labels-idx1");
    return ntas_idx_load(ds, images, labels, err, errlen);
}

int ntas_idx_stride_subset(ntas_idx_dataset *dst, const ntas_idx_dataset *src, int every,
                           int take_held_out, char *err, size_t errlen)
{
    memset(dst, 0, sizeof *dst);
    if (every < 2) {
        ntas_set_err(err, errlen, "stride subset: every = %d must be at least 2", every);
        return -1;
    }
    size_t px = (size_t)src->rows * (size_t)src->cols;
    int n = 0;
    for (int i = 0; i < src->n; i++) n += (i % every == every - 1) == !!take_held_out;
    /* +1: an empty subset must still allocate, or malloc(0) could read as out of memory. */
    dst->pixels = malloc((size_t)n * px * sizeof *dst->pixels + 1);
    dst->labels = malloc((size_t)n + 1);
    if (!dst->pixels || !dst->labels) {
        ntas_idx_free(dst);
        ntas_set_err(err, errlen, "out of memory for a subset of %d images", n);
        return -1;
    }
    int k = 0;
    for (int i = 0; i < src->n; i++) {
        if ((i % every == every - 1) != !!take_held_out) continue;
        memcpy(dst->pixels + (size_t)k * px, src->pixels + (size_t)i * px, px * sizeof *dst->pixels);
        dst->labels[k++] = src->labels[i];
    }
    dst->n = n;
    dst->rows = src->rows;
    dst->cols = src->cols;
    return 0;
}

int ntas_idx_load_train_test(const char *dir, ntas_idx_dataset *train, ntas_idx_dataset *test,
                             int *held_out, char *err, size_t errlen)
{
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (held_out) *held_out = 0;
    if (ntas_idx_has_split(dir, "train")) {
        if (ntas_idx_load_split(train, dir, "train", err, errlen) != 0) return -1;
        if (ntas_idx_load_split(test, dir, "t10k", err, errlen) != 0) {
            ntas_idx_free(train);
            return -1;
        }
        return 0;
    }
    /* Only the test files: the fixed held-out stride of idx.h. */
    ntas_idx_dataset all;
    if (ntas_idx_load_split(&all, dir, "t10k", err, errlen) != 0) return -1;
    int rc = ntas_idx_stride_subset(train, &all, NTAS_IDX_HOLDOUT_EVERY, 0, err, errlen);
    if (rc == 0) rc = ntas_idx_stride_subset(test, &all, NTAS_IDX_HOLDOUT_EVERY, 1, err, errlen);
    ntas_idx_free(&all);
    if (rc != 0) {
        ntas_idx_free(train);
        return -1;
    }
    if (held_out) *held_out = 1;
    return 0;
}
