#!/usr/bin/env python3
"""Fig. 5: does the arithmetic precision (or another single change) move a cell?

The authors ran JAX in its default float32; ntasweep runs double. This
simulates one cell of the Fig. 5 grids (sweeps/fig5_tauc.ini,
sweeps/fig5_reg.ini: model nta, scaling unit, d_in 20, d_out 10, P = M = 2,
batch 200, dt 0.001, tau_w 0.1, L1 norm, the alternating curriculum, 7000
steps) twice per seed, in float64 and in float32, with the same teachers,
initial weights and input stream, so that only the precision differs, and
prints the seed mean and standard deviation of the final total alignment
(per teacher the path with the highest mean row cosine, the mean over
teachers of that mean row cosine, as ntasweep and the authors' concat_cossim).

  --gate-sigma S   initial gates c_p = 1/2 + S N(0, 1) instead of 1/2 (the
                   published code keeps an unused std_c = 0 and gate key
                   beside its c = 1/2, a trace of a random gate start);
                   --gate-uniform draws c_p ~ U(0, 1) instead
  --reg-form F     the gate regulariser: abs_l1 (default, ntasweep's and the
                   published code's lam_nonneg sum max(0, -c) + lam_norm
                   (sum |c| - 1)^2), signed_l1 (lam_norm (sum c - 1)^2, L1 on
                   c not |c|), sq_nonneg (lam_nonneg sum max(0, -c)^2, a
                   squared non-negativity term), per_path (both terms / P)

The random numbers (teachers, initial W, inputs) are numpy's, not ntasweep's:
the float64 mean agrees with the sweep's value of the same cell within the
seed noise (docs/figures.md, Fig. 5).

usage: fig5_precision.py --block B --tau-c T --lam-nonneg A --lam-norm N
                         [--seeds 10] [--steps 7000] [--gate-sigma S | --gate-uniform]
                         [--reg-form F] [--only float64|float32]
"""
import argparse
import sys

import ntatools

ntatools.ensure_interpreter(("numpy",))
import numpy as np  # noqa: E402

D_IN, D_OUT, P, M, BATCH, DT, TAU_W = 20, 10, 2, 2, 200, 0.001, 0.1


def teachers(seed):
    """M teachers of d_out orthonormal rows (singular values 1, scaling = unit)."""
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((D_IN, D_IN)))
    q = q * np.sign(np.diag(r))
    return q.T[:M * D_OUT].reshape(M, D_OUT, D_IN)


def initial_state(seeds, gate_sigma, gate_uniform):
    W = np.empty((len(seeds), P, D_OUT, D_IN))
    c = np.full((len(seeds), P), 0.5)
    for k, s in enumerate(seeds):
        rng = np.random.default_rng([s, 1])
        W[k] = rng.standard_normal((P, D_OUT, D_IN)) * (0.01 / np.sqrt(D_IN))
        grng = np.random.default_rng([s, 2])
        if gate_uniform:
            c[k] = grng.uniform(0.0, 1.0, P)
        elif gate_sigma > 0:
            c[k] = 0.5 + gate_sigma * grng.standard_normal(P)
    return W, c


REG_FORMS = ("abs_l1", "signed_l1", "sq_nonneg", "per_path")


def gate_reg_grad(c, lam_nonneg, lam_norm, form="abs_l1"):
    """d/dc of the gate regulariser; abs_l1 = lam_nonneg sum max(0, -c) +
    lam_norm (||c||_1 - 1)^2 (src/models/reg.c), the others see --reg-form."""
    if form == "signed_l1":
        excess = c.sum(axis=1, keepdims=True) - 1
        return 2 * lam_norm * excess - np.where(c < 0, lam_nonneg, 0).astype(c.dtype)
    excess = np.abs(c).sum(axis=1, keepdims=True) - 1
    norm_term = 2 * lam_norm * excess * np.sign(c)
    if form == "sq_nonneg":
        return norm_term - 2 * lam_nonneg * np.where(c < 0, -c, 0).astype(c.dtype)
    grad = norm_term - np.where(c < 0, lam_nonneg, 0).astype(c.dtype)
    return grad / P if form == "per_path" else grad


def total_alignment(T, W):
    """Per seed: mean over teachers of max_p mean row cosine(T_m, W_p)."""
    Tn = T / np.linalg.norm(T, axis=-1, keepdims=True)
    Wn = W / np.linalg.norm(W, axis=-1, keepdims=True)
    cos = np.einsum("moi,spoi->smp", Tn, Wn) / D_OUT
    return cos.max(axis=2).mean(axis=1)


def simulate(a, dtype):
    f = np.dtype(dtype).type
    seeds = list(range(a.seeds))
    T64 = teachers(12345)
    W, c = (x.astype(dtype) for x in initial_state(seeds, a.gate_sigma, a.gate_uniform))
    T = T64.astype(dtype)
    rngs = [np.random.default_rng([s, 3]) for s in seeds]
    per_block = int(round(a.block / DT))
    kw, kc = f(DT / TAU_W), f(DT / a.tau_c)
    scale = f(1.0 / (BATCH * D_OUT))
    lam_nonneg, lam_norm = f(a.lam_nonneg), f(a.lam_norm)
    for step in range(a.steps):
        X = np.stack([r.standard_normal((BATCH, D_IN)) for r in rngs]).astype(dtype)
        S = np.matmul(X.transpose(0, 2, 1), X)                      # X^T X, (seed, d_in, d_in)
        E = np.einsum("sp,spoi->soi", c, W) - T[(step // per_block) % M]
        G = np.matmul(E, S) * scale                                 # dL/dW_eff, L = 1/2 mean_i <.>
        dW = c[:, :, None, None] * G[:, None]
        dc = np.einsum("spoi,soi->sp", W, G) + gate_reg_grad(c, lam_nonneg, lam_norm, a.reg_form)
        W = W - kw * dW
        c = c - kc * dc
    assert W.dtype == np.dtype(dtype) and c.dtype == np.dtype(dtype)
    return total_alignment(T64, W.astype(np.float64))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--block", type=float, required=True)
    ap.add_argument("--tau-c", type=float, required=True)
    ap.add_argument("--lam-nonneg", type=float, required=True)
    ap.add_argument("--lam-norm", type=float, required=True)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--steps", type=int, default=7000)
    ap.add_argument("--gate-sigma", type=float, default=0.0)
    ap.add_argument("--gate-uniform", action="store_true")
    ap.add_argument("--reg-form", choices=REG_FORMS, default="abs_l1")
    ap.add_argument("--only", choices=("float64", "float32"))
    a = ap.parse_args()
    for dtype in ("float64", "float32"):
        if a.only and dtype != a.only:
            continue
        ta = simulate(a, dtype)
        print("%-8s block %g tau_c %g lambda %g/%g %s gates %s: total alignment mean %.4f sd %.4f (%d seeds) %s"
              % (dtype, a.block, a.tau_c, a.lam_nonneg, a.lam_norm, a.reg_form,
                 "U(0,1)" if a.gate_uniform else "1/2+%gN" % a.gate_sigma, ta.mean(), ta.std(ddof=1),
                 len(ta), " ".join("%.3f" % v for v in ta)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
