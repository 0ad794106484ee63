/* test_kernels — the plain-C task-gradient kernels (kernels.h) against BLAS
 * references: the moment form G = D S and the factor form G = (D A) A^T / B
 * with their losses, within 1e-12 relative, at the Fig. 2 shape (the
 * unrolled copy) and at other shapes (the generic copy); the factor form
 * from a Bartlett draw equals the moment form from the S of the same draw;
 * every copy of the factor kernel (portable, AVX2, AVX-512) gives the bits
 * of the plain fused sums written out in double here;
 * S = NULL gives G = D; the batch form in parts (GEMMs, exact and fast
 * loss) equals the whole and the fast loss keeps its bound; the
 * sv_projection kernel equals the plain sums bitwise in every copy and
 * BLAS to 1e-12;
 * the batch GEMMs (batch_gemm.h) equal their defining fma chains bitwise
 * in every instruction-set copy, at the Fig. 2 shape and odd ones, and
 * plain double sums within the dot-product rounding bound. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/core/rng.h"
#include "ntasweep/tasks/wishart.h"
#include "ntasweep/train/batch_gemm.h"
#include "ntasweep/train/kernels.h"
#include "check.h"

/* The factor form's sums written out as kernels.h states them, one output
 * at a time in plain double with C's fma(): P_ok = sum_{i >= k} D_oi A_ik
 * (i up), G_oj = sum_{k <= j} P_ok A_jk / B (k down), L = 1/2 sum_k
 * (sum_o P_ok^2) / B. Every kernel copy must give exactly these bits. */
static double factor_plain(const double *D, const double *A, int B, int d_out, int d_in, double *P, double *G)
{
    double s = 0.0;
    for (int k = 0; k < d_in; k++) {
        double col = 0.0;
        for (int o = 0; o < d_out; o++) {
            double p = 0.0;
            for (int i = k; i < d_in; i++) p = fma(D[o * d_in + i], A[i * d_in + k], p);
            P[o * d_in + k] = p;
            col = fma(p, p, col);
        }
        s += col;
    }
    for (int o = 0; o < d_out; o++)
        for (int j = 0; j < d_in; j++) {
            double g = 0.0;
            for (int k = j; k >= 0; k--) g = fma(P[o * d_in + k], A[j * d_in + k], g);
            G[o * d_in + j] = g * (1.0 / B);
        }
    return 0.5 * s * (1.0 / B);
}

/* max_i |a_i - b_i| / max_i |b_i| */
static double rel_diff(const double *a, const double *b, size_t n)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (fabs(a[i] - b[i]) > num) num = fabs(a[i] - b[i]);
        if (fabs(b[i]) > den) den = fabs(b[i]);
    }
    return den > 0.0 ? num / den : num;
}

static void check_shape(int d_out, int d_in, int B, uint64_t seed)
{
    const size_t en = (size_t)d_out * (size_t)d_in, dd = (size_t)d_in * (size_t)d_in;
    double *D = malloc(en * sizeof *D), *G = malloc(en * sizeof *G), *Gref = malloc(en * sizeof *Gref);
    double *S = malloc(dd * sizeof *S), *A = malloc(dd * sizeof *A), *P = malloc(en * sizeof *P);
    double *scratch = malloc(2 * en * sizeof *scratch);
    ntas_wishart w;
    char err[256];
    CHECK(ntas_wishart_init(&w, d_in, B, err, sizeof err) == 0);
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_stream_key(seed, "test/kernels"));
    ntas_rng_normal_fill(&rng, D, en);

    /* Moment form against one DGEMM; loss against 1/2 <D S, D>. */
    ntas_rng s_rng = rng;
    ntas_wishart_sample(&w, &s_rng, S);
    double L = ntas_task_grad_moment(D, S, d_out, d_in, G);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d_out, d_in, d_in, 1.0, D, d_in, S, d_in, 0.0,
                Gref, d_in);
    double Lref = 0.5 * cblas_ddot((int)en, Gref, 1, D, 1);
    CHECK_MSG(rel_diff(G, Gref, en) <= 1e-12, "moment G, %dx%d: rel %g", d_out, d_in, rel_diff(G, Gref, en));
    CHECK_MSG(fabs(L - Lref) <= 1e-12 * fabs(Lref), "moment L %.17g vs %.17g", L, Lref);

    /* Factor form from the same draw (same stream state): against BLAS
     * (P = D A with A's upper triangle zero, G = P A^T / B, L = |P|^2/(2B))
     * and against the moment form with S of that draw. */
    ntas_rng f_rng = rng;
    memcpy(A, ntas_wishart_factor(&w, &f_rng), dd * sizeof *A);
    for (int i = 0; i < d_in; i++)
        for (int j = 0; j < d_in; j++) CHECK(w.At[j * d_in + i] == A[i * d_in + j]);
    CHECK(memcmp(&f_rng, &s_rng, sizeof f_rng) == 0); /* the same numbers consumed */
    double Lf = ntas_task_grad_factor(D, A, w.At, B, d_out, d_in, scratch, G);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d_out, d_in, d_in, 1.0, D, d_in, A, d_in, 0.0, P,
                d_in);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d_out, d_in, d_in, 1.0 / B, P, d_in, A, d_in, 0.0,
                Gref, d_in);
    double Lfref = 0.5 * cblas_ddot((int)en, P, 1, P, 1) / B;
    CHECK_MSG(rel_diff(G, Gref, en) <= 1e-12, "factor G, %dx%d: rel %g", d_out, d_in, rel_diff(G, Gref, en));
    CHECK_MSG(fabs(Lf - Lfref) <= 1e-12 * fabs(Lfref), "factor L %.17g vs %.17g", Lf, Lfref);
    /* The plain fused sums: the same bits as the kernel. */
    {
        double Gp[4096], Pp[4096];
        if (en <= 4096) {
            double Lp = factor_plain(D, A, B, d_out, d_in, Pp, Gp);
            CHECK_MSG(memcmp(Gp, G, en * sizeof *G) == 0 && memcmp(&Lp, &Lf, sizeof Lp) == 0,
                      "factor kernel differs in bits from the plain fused sums, %dx%d", d_out, d_in);
        }
    }
    /* Every instruction set the CPU runs: the same bits. */
    for (int isa = NTAS_KERNEL_BASELINE; isa <= NTAS_KERNEL_AVX512; isa++) {
        if (!ntas_kernel_isa_supported((ntas_kernel_isa)isa)) continue;
        double Gi[4096];
        if (en > 4096) break;
        double Li = ntas_task_grad_factor_with((ntas_kernel_isa)isa, D, A, w.At, B, d_out, d_in, scratch, Gi);
        CHECK_MSG(memcmp(Gi, G, en * sizeof *G) == 0 && memcmp(&Li, &Lf, sizeof Li) == 0,
                  "kernel %d differs from the default in bits, %dx%d", isa, d_out, d_in);
    }
    double Gm[4096];
    if (en <= 4096) {
        double Lm = ntas_task_grad_moment(D, S, d_out, d_in, Gm);
        CHECK_MSG(rel_diff(G, Gm, en) <= 1e-12, "factor vs moment G: rel %g", rel_diff(G, Gm, en));
        CHECK_MSG(fabs(Lf - Lm) <= 1e-12 * fabs(Lm), "factor L %.17g vs moment %.17g", Lf, Lm);
    }

    /* S = NULL: G = D exactly, L = 1/2 |D|^2. */
    double Li = ntas_task_grad_moment(D, NULL, d_out, d_in, G);
    CHECK(memcmp(G, D, en * sizeof *G) == 0);
    double sq = cblas_ddot((int)en, D, 1, D, 1);
    CHECK_MSG(fabs(Li - 0.5 * sq) <= 1e-12 * sq, "identity L %.17g vs %.17g", Li, 0.5 * sq);

    ntas_wishart_free(&w);
    free(D), free(G), free(Gref), free(S), free(A), free(P), free(scratch);
}

/* The batch form in parts: G and the exact loss are bitwise those of
 * ntas_task_grad_batch; the fast loss lies within its stated bound of the
 * exact one, also for values spread over many magnitudes. */
static void check_batch_loss(int d_out, int d_in, int B, uint64_t seed)
{
    const size_t en = (size_t)d_out * (size_t)d_in, nx = (size_t)B * (size_t)d_in, ne = (size_t)B * (size_t)d_out;
    double *D = malloc(en * sizeof *D), *X = malloc(nx * sizeof *X), *E = malloc(ne * sizeof *E),
           *E2 = malloc(ne * sizeof *E2), *G = malloc(en * sizeof *G), *G2 = malloc(en * sizeof *G2);
    CHECK(D && X && E && E2 && G && G2);
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_stream_key(seed, "test/batch_loss"));
    ntas_rng_normal_fill(&rng, D, en);
    ntas_rng_normal_fill(&rng, X, nx);
    const double L = ntas_task_grad_batch(D, X, B, d_out, d_in, E, G);
    ntas_task_grad_batch_g(D, X, B, d_out, d_in, E2, G2);
    const double L2 = ntas_batch_loss(E2, B, d_out);
    CHECK(memcmp(E, E2, ne * sizeof *E) == 0 && memcmp(G, G2, en * sizeof *G) == 0);
    CHECK(memcmp(&L, &L2, sizeof L) == 0);
    for (int spread = 0; spread < 2; spread++) {
        if (spread) /* magnitudes from 1e-8 to 1e8: rounding that depends on the order */
            for (size_t i = 0; i < ne; i++) E2[i] *= pow(10.0, (double)(i % 17) - 8.0);
        double rel;
        const double exact = ntas_batch_loss(E2, B, d_out), fast = ntas_batch_loss_approx(E2, B, d_out, &rel);
        CHECK(rel > 0.0 && rel < 1e-9);
        CHECK_MSG(fabs(fast - exact) <= rel * exact, "fast loss %.17g vs exact %.17g (bound %g)", fast, exact, rel);
        CHECK_MSG(fabs(fast - exact) <= 1e-12 * exact, "fast loss %.17g vs exact %.17g", fast, exact);
    }
    free(D), free(X), free(E), free(E2), free(G), free(G2);
}

/* sv_projection against the plain nested dot products of each output
 * (bitwise: the same order), against BLAS (1e-12), both copies bitwise. */
static void check_sv_projection(int d_out, int d_in, int n, uint64_t seed)
{
    const size_t nw = (size_t)d_out * (size_t)d_in, nu = (size_t)d_out * (size_t)n, nv = (size_t)d_in * (size_t)n;
    double *W = malloc(nw * sizeof *W), *Ut = malloc(nu * sizeof *Ut), *Vt = malloc(nv * sizeof *Vt),
           *out = malloc((size_t)n * sizeof *out), *out2 = malloc((size_t)n * sizeof *out2),
           *plain = malloc((size_t)n * sizeof *plain), *ref = malloc((size_t)n * sizeof *ref),
           *wv = malloc((size_t)n * sizeof *wv), *WV = malloc(nu * sizeof *WV);
    CHECK(W && Ut && Vt && out && out2 && plain && ref && wv && WV);
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_stream_key(seed, "test/sv_projection"));
    ntas_rng_normal_fill(&rng, W, nw);
    ntas_rng_normal_fill(&rng, Ut, nu);
    ntas_rng_normal_fill(&rng, Vt, nv);
    for (int c = 0; c < n; c++) {
        double sum = 0.0;
        for (int i = 0; i < d_out; i++) {
            double w = 0.0;
            for (int j = 0; j < d_in; j++) w += W[i * d_in + j] * Vt[j * n + c];
            sum += Ut[i * n + c] * w;
        }
        plain[c] = sum;
    }
    /* BLAS: WV = W Vt (d_out x n), ref_c = sum_i Ut_ic WV_ic. */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d_out, n, d_in, 1.0, W, d_in, Vt, n, 0.0, WV, n);
    double scale = 0.0;
    for (int c = 0; c < n; c++) {
        ref[c] = 0.0;
        for (int i = 0; i < d_out; i++) ref[c] += Ut[i * n + c] * WV[i * n + c];
        if (fabs(ref[c]) > scale) scale = fabs(ref[c]);
    }
    ntas_sv_projection_with(NTAS_KERNEL_BASELINE, W, Ut, Vt, d_out, d_in, n, out, wv);
    CHECK_MSG(memcmp(out, plain, (size_t)n * sizeof *out) == 0, "sv_projection %dx%d n %d: not the plain sums",
              d_out, d_in, n);
    for (int c = 0; c < n; c++) CHECK(fabs(out[c] - ref[c]) <= 1e-12 * scale);
    if (ntas_kernel_isa_supported(NTAS_KERNEL_AVX2)) {
        ntas_sv_projection_with(NTAS_KERNEL_AVX2, W, Ut, Vt, d_out, d_in, n, out2, wv);
        CHECK_MSG(memcmp(out, out2, (size_t)n * sizeof *out) == 0, "sv_projection: AVX2 copy differs");
    }
    if (ntas_kernel_isa_supported(NTAS_KERNEL_AVX512)) {
        ntas_sv_projection_with(NTAS_KERNEL_AVX512, W, Ut, Vt, d_out, d_in, n, out2, wv);
        CHECK_MSG(memcmp(out, out2, (size_t)n * sizeof *out) == 0, "sv_projection: AVX-512 copy differs");
    }
    ntas_sv_projection(W, Ut, Vt, d_out, d_in, n, out2, wv);
    CHECK(memcmp(out, out2, (size_t)n * sizeof *out) == 0);
    free(W), free(Ut), free(Vt), free(out), free(out2), free(plain), free(ref), free(wv), free(WV);
}

/* E = X D^T and G = E^T X / B: every copy this CPU runs gives the bits of
 * the chains batch_gemm.h defines (written out here one output at a time),
 * and those are within the forward error bound of a dot product (Higham
 * 2002, Sec. 3.1: |fl - exact| <= gamma_n sum |a_k b_k|) of plain double
 * sums in the same order, which obey the same bound: so the two differ by
 * at most 2 gamma_n sum |a_k b_k| (plus the 1/B rounding for G). */
static void check_batch_gemm(int d_out, int d_in, int B, uint64_t seed)
{
    const size_t no = (size_t)d_out, ni = (size_t)d_in, nb = (size_t)B;
    double *D = malloc(no * ni * sizeof *D), *X = malloc(nb * ni * sizeof *X), *E = malloc(nb * no * sizeof *E),
           *G = malloc(no * ni * sizeof *G), *Ec = malloc(nb * no * sizeof *Ec), *Gc = malloc(no * ni * sizeof *Gc);
    CHECK(D && X && E && G && Ec && Gc);
    ntas_rng rng;
    ntas_rng_init(&rng, ntas_stream_key(seed, "test/batch_gemm"));
    ntas_rng_normal_fill(&rng, D, no * ni);
    ntas_rng_normal_fill(&rng, X, nb * ni);
    for (size_t k = 0; k < no * ni; k += 7) D[k] *= 1e3; /* mixed magnitudes: rounding matters */
    /* The definition, one chain per output. */
    for (size_t b = 0; b < nb; b++)
        for (size_t o = 0; o < no; o++) {
            double acc = 0.0;
            for (size_t i = 0; i < ni; i++) acc = fma(X[b * ni + i], D[o * ni + i], acc);
            Ec[b * no + o] = acc;
        }
    for (size_t o = 0; o < no; o++)
        for (size_t i = 0; i < ni; i++) {
            double acc = 0.0;
            for (size_t b = 0; b < nb; b++) acc = fma(Ec[b * no + o], X[b * ni + i], acc);
            Gc[o * ni + i] = acc * (1.0 / B);
        }
    const double u = 0x1p-53;
    const double gam_i = ni * u / (1 - ni * u), gam_b = nb * u / (1 - nb * u);
    int worst_e = 0, worst_g = 0;
    for (size_t b = 0; b < nb; b++)
        for (size_t o = 0; o < no; o++) {
            double plain = 0.0, mag = 0.0;
            for (size_t i = 0; i < ni; i++) {
                plain += X[b * ni + i] * D[o * ni + i];
                mag += fabs(X[b * ni + i] * D[o * ni + i]);
            }
            const double diff = fabs(Ec[b * no + o] - plain);
            CHECK_MSG(diff <= 2 * gam_i * mag, "E[%zu][%zu] %a vs plain %a", b, o, Ec[b * no + o], plain);
            worst_e += diff > 0.0;
        }
    for (size_t o = 0; o < no; o++)
        for (size_t i = 0; i < ni; i++) {
            double plain = 0.0, mag = 0.0;
            for (size_t b = 0; b < nb; b++) {
                plain += Ec[b * no + o] * X[b * ni + i];
                mag += fabs(Ec[b * no + o] * X[b * ni + i]);
            }
            plain /= B;
            mag /= B;
            const double diff = fabs(Gc[o * ni + i] - plain);
            CHECK_MSG(diff <= 2 * gam_b * mag + 4 * u * fabs(plain), "G[%zu][%zu] %a vs plain %a", o, i,
                      Gc[o * ni + i], plain);
            worst_g += diff > 0.0;
        }
    for (int isa = NTAS_KERNEL_BASELINE; isa <= NTAS_KERNEL_AVX512; isa++) {
        if (!ntas_kernel_isa_supported((ntas_kernel_isa)isa)) {
            printf("  batch gemm %s: not on this CPU\n", ntas_kernel_isa_name((ntas_kernel_isa)isa));
            continue;
        }
        memset(E, 0xff, nb * no * sizeof *E); /* NaN: every output must be written */
        memset(G, 0xff, no * ni * sizeof *G);
        ntas_batch_gemm_with((ntas_kernel_isa)isa, D, X, B, d_out, d_in, E, G);
        CHECK_MSG(memcmp(E, Ec, nb * no * sizeof *E) == 0 && memcmp(G, Gc, no * ni * sizeof *G) == 0,
                  "batch gemm %s differs from its definition at d_out %d d_in %d B %d",
                  ntas_kernel_isa_name((ntas_kernel_isa)isa), d_out, d_in, B);
    }
    /* The default entry and the task gradient run the best copy. */
    ntas_task_grad_batch_g(D, X, B, d_out, d_in, E, G);
    CHECK(memcmp(E, Ec, nb * no * sizeof *E) == 0 && memcmp(G, Gc, no * ni * sizeof *G) == 0);
    printf("  batch gemm %dx%dx%d: copies = definition; %d of %zu E and %d of %zu G differ from plain sums, within bound\n",
           B, d_in, d_out, worst_e, nb * no, worst_g, no * ni);
    free(D), free(X), free(E), free(G), free(Ec), free(Gc);
}

/* NTASWEEP_KERNELS' values (kernels.h): a set the CPU runs is taken, an
 * unknown one or one the CPU lacks gives the best and a message; the choice
 * is what the default entry points then run. */
static void check_isa_request(void)
{
    const ntas_kernel_isa best = ntas_kernel_isa_best();
    ntas_kernel_isa isa = NTAS_KERNEL_AVX512;
    char err[256] = "";
    CHECK(ntas_kernel_isa_request(NULL, &isa, err, sizeof err) == 0 && isa == best);
    CHECK(ntas_kernel_isa_request("", &isa, err, sizeof err) == 0 && isa == best);
    CHECK(ntas_kernel_isa_request("portable", &isa, err, sizeof err) == 0 && isa == NTAS_KERNEL_BASELINE);
    for (int k = NTAS_KERNEL_AVX2; k <= NTAS_KERNEL_AVX512; k++) {
        const int rc = ntas_kernel_isa_request(ntas_kernel_isa_name((ntas_kernel_isa)k), &isa, err, sizeof err);
        if (ntas_kernel_isa_supported((ntas_kernel_isa)k))
            CHECK(rc == 0 && isa == (ntas_kernel_isa)k);
        else
            CHECK(rc == -1 && isa == best && strstr(err, "lacks"));
    }
    err[0] = 0;
    CHECK(ntas_kernel_isa_request("AVX2 ", &isa, err, sizeof err) == -1 && isa == best && strstr(err, "unknown"));
    CHECK(ntas_kernel_isa_active() == best);
    ntas_kernel_isa_use(NTAS_KERNEL_BASELINE);
    CHECK(ntas_kernel_isa_active() == NTAS_KERNEL_BASELINE);
    ntas_kernel_isa_use(best);
    CHECK(ntas_kernel_isa_active() == best);
}

int main(void)
{
    check_isa_request();
    check_batch_gemm(10, 20, 200, 21); /* Fig. 2: the hand-blocked AVX-512 and AVX2 copies */
    check_batch_gemm(10, 20, 13, 22);  /* Fig. 2 rows, B not a multiple of 8 (AVX2: of 4, one left) */
    check_batch_gemm(10, 20, 6, 28);   /* AVX2: one block of 4 rows, two left */
    check_batch_gemm(10, 20, 1, 23);
    check_batch_gemm(3, 7, 9, 24);
    check_batch_gemm(17, 33, 101, 25);
    check_batch_gemm(11, 205, 5, 26); /* D^T beyond the stack copy */
    check_batch_gemm(1, 1, 1, 27);
    check_sv_projection(10, 20, 20, 10); /* Fig. 2: the blocked copies */
    check_sv_projection(10, 20, 20, 14);
    check_sv_projection(3, 7, 5, 11);
    check_sv_projection(1, 1, 1, 12);
    check_sv_projection(10, 20, 30, 13);
    check_batch_loss(10, 20, 200, 7); /* Fig. 2 */
    check_batch_loss(3, 5, 1, 8);
    check_batch_loss(7, 13, 1001, 9);
    check_shape(10, 20, 200, 1); /* Fig. 2: the unrolled copies */
    for (uint64_t seed = 100; seed < 120; seed++) check_shape(10, 20, 200, seed); /* more draws, same bits */
    check_shape(10, 20, 20, 2);  /* B = d: the k = 1 diagonal */
    check_shape(1, 1, 3, 3);
    check_shape(3, 7, 9, 4);
    check_shape(17, 33, 100, 5); /* odd sizes: vector remainders */
    check_shape(10, 64, 64, 6);
    return CHECK_DONE();
}
