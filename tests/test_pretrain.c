/* test_pretrain — the pretraining settings of a sweep (features.h), no MPI:
 *   - ntas_pretrain_settings: one setting per distinct (dataset, cnn_steps,
 *     cnn_seed) of the cnn runs, whatever their case (cnn_nta, cnn_alone)
 *     or other parameters, with the largest batch of its runs; none for a
 *     sweep without cnn runs;
 *   - the setting key (/pretrained/<key>, via ntas_pretrain_plan on small
 *     IDX files written here): the same for the same settings and data,
 *     wherever the data lies; different for another seed, another number
 *     of steps, or one changed pixel.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "ntasweep/config/spec.h"
#include "ntasweep/train/features.h"

static char dir[64];

static const char *SWEEP =
    "[sweep]\nname = pretrain_test\nreplicates = 1\n"
    "[params]\ndataset = fashion\nlabel_map = upper_lower\ncnn_steps = %d\nd_in = 64\nd_out = 10\n"
    "paths = 2\nteachers = 2\nbatch = 20\ndt = 0.001\nblock_len = 1\nn_blocks = 2\nrecord_every = 20\n"
    "init_sigma = 0.0001\ntau_w = 10\nnorm = l1\n"
    "[grid]\ncnn_seed = %s\n"
    "[case.flexible]\nmodel = cnn_nta\ntau_c = 0.005\nlambda_nonneg = 0.5\nlambda_norm = 0.25\n"
    "[case.alone]\nmodel = cnn_alone\ntau_c = 10\nbatch = 40\nlambda_nonneg = 0\nlambda_norm = 0\n";

static int load(ntas_spec *s, int steps, const char *seeds)
{
    char path[128], err[2048];
    snprintf(path, sizeof path, "%s/s.ini", dir);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, SWEEP, steps, seeds);
    fclose(f);
    if (ntas_spec_load(s, path, NULL, 0, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static void be32(FILE *f, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v};
    fwrite(b, 1, 4, f);
}

/* IDX files of n 28 x 28 images (pixel i of image k: (k * 7 + i + salt) % 256). */
static int write_idx(const char *d, const char *split, int n, int salt)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte", d, split);
    FILE *f = fopen(p, "wb");
    if (!f) return -1;
    be32(f, 0x803);
    be32(f, (uint32_t)n);
    be32(f, 28);
    be32(f, 28);
    for (int k = 0; k < n; k++)
        for (int i = 0; i < 28 * 28; i++) fputc((k * 7 + i + salt) % 256, f);
    fclose(f);
    snprintf(p, sizeof p, "%s/%s-labels-idx1-ubyte", d, split);
    if (!(f = fopen(p, "wb"))) return -1;
    be32(f, 0x801);
    be32(f, (uint32_t)n);
    for (int k = 0; k < n; k++) fputc(k % 10, f);
    fclose(f);
    return 0;
}

static int data_dir(const char *name, int salt)
{
    char d[128];
    snprintf(d, sizeof d, "%s/%s", dir, name);
    if (mkdir(d, 0777) != 0) return -1;
    return write_idx(d, "train", 520, salt) || write_idx(d, "t10k", 60, 0) ? -1 : 0;
}

/* The keys of spec's settings with the fashion data in dir/NAME. */
static int keys_of(const char *name, int steps, const char *seeds, uint64_t *keys, int max)
{
    char d[128], err[2048];
    snprintf(d, sizeof d, "%s/%s", dir, name);
    setenv("NTASWEEP_FASHION_DIR", d, 1);
    ntas_spec spec;
    if (load(&spec, steps, seeds) != 0) return -1;
    ntas_pretrain_setting *s = NULL;
    int n = 0;
    int rc = ntas_pretrain_plan(&spec, &s, &n, err, sizeof err);
    if (rc != 0) fprintf(stderr, "%s\n", err);
    for (int i = 0; rc == 0 && i < n && i < max; i++) keys[i] = s[i].key;
    free(s);
    ntas_spec_free(&spec);
    return rc == 0 ? n : -1;
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/ntasweep-pretrain.XXXXXX");
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    char err[2048];

    /* De-duplication: 2 seeds x 2 cnn cases x (tau_w) -> 2 settings. */
    ntas_spec spec;
    CHECK(load(&spec, 150, "0, 1") == 0);
    if (check_failed_) return CHECK_DONE();
    CHECK(spec.n_runs == 4);
    ntas_pretrain_setting *s = NULL;
    int n = -1;
    CHECK_MSG(ntas_pretrain_settings(&spec, &s, &n, err, sizeof err) == 0, "%s", err);
    CHECK(n == 2);
    for (int i = 0; s && i < n; i++) {
        CHECK(s[i].steps == 150 && s[i].max_batch == 40);
        CHECK(s[i].dataset == s[0].dataset);
    }
    CHECK(n == 2 && s && s[0].seed != s[1].seed);
    free(s);
    ntas_spec_free(&spec);

    /* No cnn runs: no settings. */
    char path[128];
    snprintf(path, sizeof path, "%s/plain.ini", dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("[sweep]\nname = plain\n[params]\nd_in = 4\nd_out = 2\nbatch = 10\ndt = 0.01\nblock_len = 0.5\n"
              "n_blocks = 2\nrecord_every = 5\ntau_w = 1.3\n[case.flexible]\ntau_c = 0.03\n", f);
        fclose(f);
    }
    CHECK_MSG(ntas_spec_load(&spec, path, NULL, 0, err, sizeof err) == 0, "%s", err);
    if (!check_failed_) {
        s = (ntas_pretrain_setting *)&n;
        CHECK(ntas_pretrain_settings(&spec, &s, &n, err, sizeof err) == 0 && n == 0 && s == NULL);
        ntas_spec_free(&spec);
    }

    /* The key. */
    CHECK(data_dir("a", 0) == 0 && data_dir("b", 0) == 0 && data_dir("c", 1) == 0);
    uint64_t a[2] = {0}, a2[2] = {0}, b[2] = {0}, c[2] = {0}, steps[2] = {0};
    CHECK(keys_of("a", 150, "0, 1", a, 2) == 2);
    CHECK(keys_of("a", 150, "0, 1", a2, 2) == 2);
    CHECK(a[0] == a2[0] && a[1] == a2[1]);
    CHECK(a[0] != a[1]);                                   /* another seed */
    CHECK(keys_of("b", 150, "0, 1", b, 2) == 2);
    CHECK(b[0] == a[0] && b[1] == a[1]);                   /* the same data elsewhere */
    CHECK(keys_of("c", 150, "0, 1", c, 2) == 2);
    CHECK(c[0] != a[0] && c[1] != a[1]);                   /* other pixels */
    CHECK(keys_of("a", 151, "0, 1", steps, 2) == 2);
    CHECK(steps[0] != a[0] && steps[1] != a[1]);           /* other steps */

    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return CHECK_DONE();
}
