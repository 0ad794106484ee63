/* test_idx — the IDX reader on the real data sets and on broken files.
 *
 * Real files: Fashion-MNIST train and t10k (installed by tools/install-deps)
 * and the real MNIST t10k in ../shared/data/mnist-t10k beside the checkout
 * (found as ntasweep finds it, see fashion_dir and mnist_dir); counts, sizes,
 * the pixel normalisation and every class count. Small synthetic files, plain
 * and gzip, round-trip exactly. Broken files are written to a mkdtemp
 * directory under /tmp: each must fail with a message naming the broken
 * file, leave the data set empty, and neither crash nor leak.
 * Without a real data set the other checks still run; if they pass, the
 * exit status is 77 (ctest: skipped) with the missing data named.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "ntasweep/tasks/idx.h"

/* Where the real data is, as the README's "Data" says ntasweep looks:
 * NTASWEEP_FASHION_DIR, else Debian's dataset-fashion-mnist; NTASWEEP_MNIST_DIR,
 * else the first data/mnist or shared/data/mnist-t10k in the working
 * directory (<checkout>/tests) or any directory above it. */
static const char *fashion_dir(void)
{
    const char *env = getenv("NTASWEEP_FASHION_DIR");
    return env && *env ? env : "/usr/share/datasets/fashion-mnist";
}

static const char *mnist_dir(void)
{
    static char found[4096];
    const char *env = getenv("NTASWEEP_MNIST_DIR");
    if (env && *env) return env;
    char dir[2048];
    if (!getcwd(dir, sizeof dir)) return NULL;
    for (;;) {
        static const char *const below[] = {"data/mnist", "shared/data/mnist-t10k"};
        for (int i = 0; i < 2; i++) {
            snprintf(found, sizeof found, "%s/%s", strcmp(dir, "/") ? dir : "", below[i]);
            if (ntas_idx_has_split(found, "t10k")) return found;
        }
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir) {
            if (!strcmp(dir, "/")) return NULL;
            strcpy(dir, "/");
        } else {
            *slash = '\0';
        }
    }
}

/* --- real data ------------------------------------------------------------ */

static void check_real(const ntas_idx_dataset *ds, const char *what, int n, const int class_count[10],
                       const uint8_t first_labels[4])
{
    CHECK_MSG(ds->n == n && ds->rows == 28 && ds->cols == 28, "%s: %d x %d x %d", what, ds->n, ds->rows, ds->cols);
    double lo = 1e9, hi = -1e9;
    size_t px = (size_t)ds->n * 28 * 28;
    int off_grid = 0;
    for (size_t i = 0; i < px; i++) {
        double v = ds->pixels[i];
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        /* Every value is (k/255 - 0.5)/0.5 for an integer k. */
        double k = (v * 0.5 + 0.5) * 255.0;
        off_grid += fabs(k - floor(k + 0.5)) > 1e-9;
    }
    CHECK_MSG(lo == -1.0 && hi == 1.0, "%s: pixel range [%g, %g], expected [-1, 1]", what, lo, hi);
    CHECK_MSG(off_grid == 0, "%s: %d pixels are not of the form (k/255 - 0.5)/0.5", what, off_grid);
    int count[10] = {0};
    for (int i = 0; i < ds->n; i++) count[ds->labels[i]]++;
    for (int c = 0; c < 10; c++)
        CHECK_MSG(count[c] == class_count[c], "%s: class %d has %d items, expected %d", what, c, count[c], class_count[c]);
    for (int i = 0; i < 4; i++)
        CHECK_MSG(ds->labels[i] == first_labels[i], "%s: label %d is %d, expected %d", what, i, ds->labels[i], first_labels[i]);
}

static void test_fashion(const char *FASHION_DIR)
{
    char err[1024] = "";
    ntas_idx_dataset train, test;
    int held_out = -1;
    int rc = ntas_idx_load_train_test(FASHION_DIR, &train, &test, &held_out, err, sizeof err);
    CHECK_MSG(rc == 0, "Fashion-MNIST: %s", err);
    if (rc != 0) return;
    CHECK(held_out == 0);
    const int train_counts[10] = {6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000};
    const int test_counts[10] = {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000};
    check_real(&train, "Fashion train", 60000, train_counts, (const uint8_t[]){9, 0, 0, 3});
    check_real(&test, "Fashion t10k", 10000, test_counts, (const uint8_t[]){9, 2, 1, 1});
    ntas_idx_free(&train);
    ntas_idx_free(&test);
    CHECK(train.pixels == NULL && train.n == 0);
}

static void test_mnist(const char *MNIST_DIR)
{
    char err[1024] = "";
    ntas_idx_dataset all, train, test;
    CHECK(ntas_idx_has_split(MNIST_DIR, "t10k"));
    CHECK(!ntas_idx_has_split(MNIST_DIR, "train"));
    int rc = ntas_idx_load_split(&all, MNIST_DIR, "t10k", err, sizeof err);
    CHECK_MSG(rc == 0, "MNIST t10k in %s: %s", MNIST_DIR, err);
    if (rc != 0) return;
    const int counts[10] = {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};
    check_real(&all, "MNIST t10k", 10000, counts, (const uint8_t[]){7, 2, 1, 0});

    /* Only t10k present: the fixed stride split of idx.h (every 5th held out). */
    int held_out = 0;
    rc = ntas_idx_load_train_test(MNIST_DIR, &train, &test, &held_out, err, sizeof err);
    CHECK_MSG(rc == 0, "%s", err);
    if (rc == 0) {
        CHECK(held_out == 1);
        CHECK(train.n == 8000 && test.n == 2000);
        CHECK(train.rows == 28 && test.cols == 28);
        size_t px = 28 * 28;
        int bad = 0;
        for (int i = 0; i < all.n; i++) {
            const ntas_idx_dataset *part = i % 5 == 4 ? &test : &train;
            int j = i % 5 == 4 ? i / 5 : i - i / 5;
            bad += part->labels[j] != all.labels[i] ||
                   memcmp(part->pixels + (size_t)j * px, all.pixels + (size_t)i * px, px * sizeof(double)) != 0;
        }
        CHECK_MSG(bad == 0, "%d images are not where the stride split puts them", bad);
        ntas_idx_free(&train);
        ntas_idx_free(&test);
    }
    ntas_idx_free(&all);
}

/* --- synthetic files ------------------------------------------------------ */

static char tmp_dir[64];
static char tmp_files[64][128];
static int n_tmp_files;

/* Writes bytes to tmp_dir/name, gzip-compressed if gz; returns the path. */
static const char *write_file(const char *name, const unsigned char *data, size_t len, int gz)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
    if (n_tmp_files < 64) snprintf(tmp_files[n_tmp_files++], sizeof tmp_files[0], "%s", path);
    if (gz) {
        gzFile f = gzopen(path, "wb");
        CHECK_MSG(f != NULL, "cannot write %s", path);
        if (!f) return path;
        CHECK(len == 0 || gzwrite(f, data, (unsigned)len) == (int)len);
        CHECK(gzclose(f) == Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        CHECK_MSG(f != NULL, "cannot write %s", path);
        if (!f) return path;
        CHECK(len == 0 || fwrite(data, 1, len, f) == len);
        fclose(f);
    }
    return path;
}

static void put_be32(unsigned char *b, uint32_t v)
{
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

enum { N = 3, ROWS = 2, COLS = 4, IMG_BYTES = 16 + N * ROWS * COLS, LAB_BYTES = 8 + N };

/* A valid images file of N images of ROWS x COLS, pixel j = 51 * j mod 256,
 * and a valid labels file {3, 0, 9}. */
static void make_valid(unsigned char img[IMG_BYTES], unsigned char lab[LAB_BYTES])
{
    put_be32(img, NTAS_IDX_MAGIC_IMAGES);
    put_be32(img + 4, N);
    put_be32(img + 8, ROWS);
    put_be32(img + 12, COLS);
    for (int j = 0; j < N * ROWS * COLS; j++) img[16 + j] = (unsigned char)(51 * j % 256);
    img[16] = 0;
    img[17] = 255;
    put_be32(lab, NTAS_IDX_MAGIC_LABELS);
    put_be32(lab + 4, N);
    lab[8] = 3;
    lab[9] = 0;
    lab[10] = 9;
}

static void test_round_trip(void)
{
    unsigned char img[IMG_BYTES], lab[LAB_BYTES];
    make_valid(img, lab);
    for (int gz = 0; gz <= 1; gz++) {
        char err[1024] = "";
        char ip[128], lp[128];
        snprintf(ip, sizeof ip, "%s", write_file(gz ? "ok-images.gz" : "ok-images", img, sizeof img, gz));
        snprintf(lp, sizeof lp, "%s", write_file(gz ? "ok-labels.gz" : "ok-labels", lab, sizeof lab, gz));
        ntas_idx_dataset ds;
        int rc = ntas_idx_load(&ds, ip, lp, err, sizeof err);
        CHECK_MSG(rc == 0, "gz=%d: %s", gz, err);
        if (rc != 0) continue;
        CHECK(ds.n == N && ds.rows == ROWS && ds.cols == COLS);
        CHECK(ds.pixels[0] == -1.0 && ds.pixels[1] == 1.0);
        int bad = 0;
        for (int j = 0; j < N * ROWS * COLS; j++)
            bad += ds.pixels[j] != ((double)img[16 + j] / 255.0 - 0.5) / 0.5;
        CHECK(bad == 0);
        CHECK(ds.labels[0] == 3 && ds.labels[1] == 0 && ds.labels[2] == 9);
        ntas_idx_free(&ds);
    }

    /* The split finder: a directory holding only plain t10k files. */
    char err[1024] = "";
    write_file("t10k-images-idx3-ubyte", img, sizeof img, 0);
    write_file("t10k-labels-idx1-ubyte", lab, sizeof lab, 0);
    CHECK(ntas_idx_has_split(tmp_dir, "t10k"));
    CHECK(!ntas_idx_has_split(tmp_dir, "train"));
    ntas_idx_dataset train, test;
    int held_out = 0;
    int rc = ntas_idx_load_train_test(tmp_dir, &train, &test, &held_out, err, sizeof err);
    CHECK_MSG(rc == 0, "%s", err);
    if (rc == 0) {
        /* 3 images, none at index 4: all train, an empty test set. */
        CHECK(held_out == 1 && train.n == 3 && test.n == 0);
        ntas_idx_free(&train);
        ntas_idx_free(&test);
    }
}

/* Expects ntas_idx_load(images, labels) to fail naming `culprit` (and, when
 * also is non-NULL, that path too), leaving ds empty. */
static void expect_failure(const char *what, const char *images, const char *labels, const char *culprit,
                           const char *also, const char *phrase)
{
    char err[1024] = "";
    ntas_idx_dataset ds;
    int rc = ntas_idx_load(&ds, images, labels, err, sizeof err);
    CHECK_MSG(rc == -1, "%s: load succeeded", what);
    CHECK_MSG(strstr(err, culprit) != NULL, "%s: message does not name %s: %s", what, culprit, err);
    if (also) CHECK_MSG(strstr(err, also) != NULL, "%s: message does not name %s: %s", what, also, err);
    CHECK_MSG(strstr(err, phrase) != NULL, "%s: message lacks \"%s\": %s", what, phrase, err);
    CHECK_MSG(ds.pixels == NULL && ds.labels == NULL && ds.n == 0, "%s: data set not left empty", what);
    printf("  %-34s -> %s\n", what, err);
}

static void test_broken(void)
{
    unsigned char img[IMG_BYTES], lab[LAB_BYTES], buf[IMG_BYTES + 16];
    make_valid(img, lab);
    char good_img[128], good_lab[128];
    snprintf(good_img, sizeof good_img, "%s", write_file("good-images", img, sizeof img, 0));
    snprintf(good_lab, sizeof good_lab, "%s", write_file("good-labels", lab, sizeof lab, 1));
    const char *p;

    memcpy(buf, img, sizeof img);
    put_be32(buf, 0x00000801);
    p = write_file("wrong-magic", buf, sizeof img, 0);
    expect_failure("wrong magic", p, good_lab, p, NULL, "magic number 0x00000801");

    p = write_file("labels-as-images.gz", lab, sizeof lab, 1);
    expect_failure("labels file given as images", p, good_lab, p, NULL, "not that of an IDX images file");

    memcpy(buf, img, sizeof img);
    put_be32(buf, 0x00000802);
    p = write_file("rank-2", buf, sizeof img, 0);
    expect_failure("2-D images file", p, good_lab, p, NULL, "magic number");

    memcpy(buf, img, sizeof img);
    put_be32(buf + 8, 0);
    p = write_file("zero-rows", buf, sizeof img, 0);
    expect_failure("zero rows", p, good_lab, p, NULL, "dimension 1");

    memcpy(buf, img, sizeof img);
    put_be32(buf + 4, 0x7fffffff);
    p = write_file("huge-count", buf, sizeof img, 0);
    expect_failure("absurd image count", p, good_lab, p, NULL, "more than");

    p = write_file("truncated-payload", img, sizeof img - 5, 0);
    expect_failure("truncated payload", p, good_lab, p, NULL, "ends after 19 of the 24");
    p = write_file("truncated-payload.gz", img, sizeof img - 5, 1);
    expect_failure("truncated payload (gzip)", p, good_lab, p, NULL, "ends after 19 of the 24");

    p = write_file("truncated-header", img, 10, 0);
    expect_failure("truncated header", p, good_lab, p, NULL, "inside the IDX header");
    p = write_file("truncated-labels-header.gz", lab, 6, 1);
    expect_failure("truncated labels header", good_img, p, p, NULL, "inside the IDX header");

    memcpy(buf, img, sizeof img);
    memset(buf + sizeof img, 7, 3);
    p = write_file("extra-bytes", buf, sizeof img + 3, 0);
    expect_failure("extra bytes", p, good_lab, p, NULL, "bytes after the 24 payload bytes");
    p = write_file("extra-bytes.gz", buf, sizeof img + 1, 1);
    expect_failure("extra bytes (gzip)", p, good_lab, p, NULL, "bytes after");
    memcpy(buf, lab, sizeof lab);
    buf[sizeof lab] = 1;
    p = write_file("extra-label", buf, sizeof lab + 1, 0);
    expect_failure("extra label byte", good_img, p, p, NULL, "bytes after the 3 payload bytes");

    memcpy(buf, lab, sizeof lab);
    put_be32(buf + 4, N - 1);
    p = write_file("two-labels.gz", buf, sizeof lab - 1, 1);
    expect_failure("count mismatch", good_img, p, p, good_img, "has 3 images but");

    memcpy(buf, lab, sizeof lab);
    buf[9] = 11;
    p = write_file("label-11", buf, sizeof lab, 0);
    expect_failure("label 11", good_img, p, p, NULL, "label 11 of item 1");

    const char *text = "this is not an IDX file, nor gzip, just some text\n";
    p = write_file("garbage", (const unsigned char *)text, strlen(text), 0);
    expect_failure("non-gzip garbage", p, good_lab, p, NULL, "magic number");

    p = write_file("empty", NULL, 0, 0);
    expect_failure("empty file", p, good_lab, p, NULL, "empty");
    p = write_file("empty.gz", NULL, 0, 1);
    expect_failure("empty gzip stream", good_img, p, p, NULL, "empty");

    char missing[160];
    snprintf(missing, sizeof missing, "%s/no-such-file.gz", tmp_dir);
    expect_failure("missing images file", missing, good_lab, missing, NULL, "cannot open");
    expect_failure("missing labels file", good_img, missing, missing, NULL, "cannot open");

    /* Broken gzip framing: a valid gzip file cut short, and one with a
     * payload byte flipped (the CRC no longer matches). The images file
     * needs enough data that the cut lands inside the deflate stream. */
    {
        enum { BIG = 16 + 40 * 28 * 28 };
        unsigned char *big = malloc(BIG);
        CHECK(big != NULL);
        if (!big) return;
        put_be32(big, NTAS_IDX_MAGIC_IMAGES);
        put_be32(big + 4, 40);
        put_be32(big + 8, 28);
        put_be32(big + 12, 28);
        for (int j = 16; j < BIG; j++) big[j] = (unsigned char)((j * 2654435761u) >> 24);
        char full[128];
        snprintf(full, sizeof full, "%s", write_file("big.gz", big, BIG, 1));
        FILE *f = fopen(full, "rb");
        CHECK(f != NULL);
        if (f) {
            static unsigned char z[2 * BIG];
            size_t zlen = fread(z, 1, sizeof z, f);
            fclose(f);
            CHECK(zlen > 100 && zlen < sizeof z);
            p = write_file("cut.gz", z, zlen / 2, 0);
            expect_failure("gzip cut in the middle", p, good_lab, p, NULL, "gzip");
            p = write_file("no-trailer.gz", z, zlen - 4, 0);
            expect_failure("gzip without its length trailer", p, good_lab, p, NULL, "gzip");
            z[zlen - 8] ^= 0x55; /* first byte of the CRC32 trailer */
            p = write_file("bad-crc.gz", z, zlen, 0);
            expect_failure("gzip with a wrong CRC", p, good_lab, p, NULL, "gzip");
        }
        free(big);
    }
}

int main(void)
{
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/test_idx.XXXXXX");
    if (!mkdtemp(tmp_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_round_trip();
    test_broken();
    const char *missing[2];
    int n_missing = 0;
    const char *mnist = mnist_dir();
    if (mnist) test_mnist(mnist);
    else missing[n_missing++] = "MNIST (no data/mnist or shared/data/mnist-t10k in the tests directory or above; "
                                "put it in ../shared/data/mnist-t10k beside the checkout or set NTASWEEP_MNIST_DIR)";
    if (ntas_idx_has_split(fashion_dir(), "t10k")) test_fashion(fashion_dir());
    else missing[n_missing++] = "Fashion-MNIST (tools/install-deps installs dataset-fashion-mnist, or set NTASWEEP_FASHION_DIR)";
    for (int i = 0; i < n_tmp_files; i++) remove(tmp_files[i]);
    CHECK_MSG(rmdir(tmp_dir) == 0, "temporary directory %s not empty", tmp_dir);
    int rc = CHECK_DONE();
    for (int i = 0; i < n_missing; i++) printf("SKIP: the real-data checks need %s\n", missing[i]);
    return rc == 0 && n_missing ? 77 : rc;
}
