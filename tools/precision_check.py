#!/usr/bin/env python3
"""Fig. 5 and Fig. 8: does the arithmetic precision (or another single change) move a result?

The authors ran JAX in its default float32; ntasweep runs double and has no
float32 option for the NTA model. This re-implements the NTA model (paper
Eqs. 1-2, Euler steps, L1 gate regulariser) in numpy and runs it twice per
seed, in float64 and in float32, with the same teachers, initial weights and
input stream, so that only the precision differs. The random numbers are
numpy's, not ntasweep's: the float64 results agree with the sweeps within the
seed noise (docs/figures.md, Fig. 5 and Fig. 8 (h)).

--figure 5 (default) simulates one cell of the Fig. 5 grids
(sweeps/fig5_tauc.ini, sweeps/fig5_reg.ini: d_in 20, d_out 10, P = M = 2,
scaling unit, loss the mean over outputs, batch 200, dt 0.001, tau_w 0.1, the
alternating curriculum, 7000 steps) and prints the seed mean and standard
deviation of the final total alignment (per teacher the path with the highest
mean row cosine, the mean over teachers of that mean row cosine, as ntasweep
and the authors' concat_cossim).

  --gate-sigma S   initial gates c_p = 1/2 + S N(0, 1) instead of 1/2 (the
                   published code keeps an unused std_c = 0 and gate key
                   beside its c = 1/2, a trace of a random gate start);
                   --gate-uniform draws c_p ~ U(0, 1) instead
  --reg-form F     the gate regulariser: abs_l1 (default, ntasweep's and the
                   published code's lam_nonneg sum max(0, -c) + lam_norm
                   (sum |c| - 1)^2), signed_l1 (lam_norm (sum c - 1)^2, L1 on
                   c not |c|), sq_nonneg (lam_nonneg sum max(0, -c)^2, a
                   squared non-negativity term), per_path (both terms / P)

--figure 8 simulates the flexible case of Fig. 8 (sweeps/fig8.ini: fan_in
teachers of singular value 1/sqrt(d_in), loss summed over outputs, dt 0.01,
tau_w 0.07, tau_c 0.01, lam_nonneg 0.18, lam_norm 0.36, 99 steps per block,
5 blocks and 6 steps, 40 seeds) and prints, per precision, the seed mean of
the loss (before the step, without the regulariser) one and five steps after
switches 1-4, as "SWITCH: STEP1/STEP5". Only --seeds and --only apply.

usage: precision_check.py [--figure 5] --block B --tau-c T --lam-nonneg A --lam-norm N
                          [--seeds 10] [--steps 7000] [--gate-sigma S | --gate-uniform]
                          [--reg-form F] [--only float64|float32]
       precision_check.py --figure 8 [--seeds 40] [--only float64|float32]
"""
import argparse
import math
import sys
from types import SimpleNamespace

import ntatools

ntatools.ensure_interpreter(("numpy",))
import numpy as np  # noqa: E402

REG_FORMS = ("abs_l1", "signed_l1", "sq_nonneg", "per_path")
D_IN, D_OUT, P, M, BATCH = 20, 10, 2, 2, 200
FIG5_DT, FIG5_TAU_W = 0.001, 0.1
FIG8_STEPS_PER_BLOCK, FIG8_BLOCKS = 99, 5
FIG8_SWITCHES, FIG8_STEPS_AFTER = (1, 2, 3, 4), (1, 5)
# Options that only --figure 5 reads (argparse dest names).
FIG5_ONLY = ("block", "tau_c", "lam_nonneg", "lam_norm", "steps", "gate_sigma", "gate_uniform", "reg_form")


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
    return grad / c.shape[1] if form == "per_path" else grad


def euler_step(W, c, X, T, k):
    """One Euler step of Eqs. 1-2 for every seed at once, in W's dtype.

    W (seed, path, d_out, d_in), c (seed, path), X (seed, batch, d_in), T the
    current teacher (d_out, d_in); k holds the step constants in that dtype:
    w = dt/tau_w, c = dt/tau_c, grad_scale, lam_nonneg, lam_norm, reg_form.
    The task loss is grad_scale/2 sum_b ||(sum_p c_p W_p - T) x_b||^2:
    grad_scale = 1/(batch d_out) is the mean over outputs (Fig. 5), 1/batch
    the sum over outputs (Fig. 8). Returns W, c after the step and the loss
    before it (per seed, without the regulariser)."""
    S = np.matmul(X.transpose(0, 2, 1), X)                      # X^T X, (seed, d_in, d_in)
    E = np.einsum("sp,spoi->soi", c, W) - T                     # W_eff - T
    G = np.matmul(E, S) * k.grad_scale                          # dL/dW_eff
    loss = 0.5 * np.einsum("soi,soi->s", E, G)
    dW = c[:, :, None, None] * G[:, None]
    dc = np.einsum("spoi,soi->sp", W, G) + gate_reg_grad(c, k.lam_nonneg, k.lam_norm, k.reg_form)
    return W - k.w * dW, c - k.c * dc, loss


def fig5_draws(seeds, gate_sigma, gate_uniform):
    """Teachers (M, d_out, d_in) of orthonormal rows (singular values 1, scaling
    unit), initial W and c per seed, and each seed's input generator."""
    q, r = np.linalg.qr(np.random.default_rng(12345).standard_normal((D_IN, D_IN)))
    q = q * np.sign(np.diag(r))
    T = q.T[:M * D_OUT].reshape(M, D_OUT, D_IN)
    W = np.empty((len(seeds), P, D_OUT, D_IN))
    c = np.full((len(seeds), P), 0.5)
    for k, s in enumerate(seeds):
        W[k] = np.random.default_rng([s, 1]).standard_normal((P, D_OUT, D_IN)) * (0.01 / np.sqrt(D_IN))
        grng = np.random.default_rng([s, 2])
        if gate_uniform:
            c[k] = grng.uniform(0.0, 1.0, P)
        elif gate_sigma > 0:
            c[k] = 0.5 + gate_sigma * grng.standard_normal(P)
    return T, W, c, [np.random.default_rng([s, 3]) for s in seeds]


def fig8_draws(seeds):
    """Teachers: the rows of one orthogonal Q in two sets of d_out, over
    sqrt(d_in) (fan_in: singular values 1/sqrt(d_in)); per seed one generator
    that draws the initial W and then every batch, c = 1/2."""
    Q = np.linalg.qr(np.random.default_rng(12345).standard_normal((D_IN, D_IN)))[0]
    T = Q[:M * D_OUT].reshape(M, D_OUT, D_IN) / np.sqrt(D_IN)
    rngs = [np.random.default_rng(1000 + s) for s in seeds]
    W = np.stack([r.standard_normal((P, D_OUT, D_IN)) for r in rngs]) * 0.01 / np.sqrt(D_IN)
    return T, W, np.full((len(seeds), P), 0.5), rngs


def simulate(setup, draws, dtype):
    """Runs every seed for setup.steps steps in dtype from draws = (T, W, c,
    input generators), all float64. Returns W, c at the end and the loss
    before every step (seed, step), float64."""
    f = np.dtype(dtype).type
    T64, W, c, input_rngs = draws
    T, W, c = (x.astype(dtype) for x in (T64, W, c))
    k = SimpleNamespace(w=f(setup.dt / setup.tau_w), c=f(setup.dt / setup.tau_c),
                        grad_scale=f(setup.grad_scale), lam_nonneg=f(setup.lam_nonneg),
                        lam_norm=f(setup.lam_norm), reg_form=setup.reg_form)
    losses = np.empty((len(input_rngs), setup.steps))
    for step in range(setup.steps):
        X = np.stack([r.standard_normal((BATCH, D_IN)) for r in input_rngs]).astype(dtype)
        W, c, losses[:, step] = euler_step(W, c, X, T[(step // setup.steps_per_block) % M], k)
    assert W.dtype == np.dtype(dtype) and c.dtype == np.dtype(dtype)
    return W, c, losses


def total_alignment(T, W):
    """Per seed: mean over teachers of max_p mean row cosine(T_m, W_p)."""
    Tn = T / np.linalg.norm(T, axis=-1, keepdims=True)
    Wn = W / np.linalg.norm(W, axis=-1, keepdims=True)
    cos = np.einsum("moi,spoi->smp", Tn, Wn) / D_OUT
    return cos.max(axis=2).mean(axis=1)


def run_fig5(a, dtype):
    setup = SimpleNamespace(dt=FIG5_DT, tau_w=FIG5_TAU_W, tau_c=a.tau_c, grad_scale=1.0 / (BATCH * D_OUT),
                            lam_nonneg=a.lam_nonneg, lam_norm=a.lam_norm, reg_form=a.reg_form,
                            steps=a.steps, steps_per_block=int(round(a.block / FIG5_DT)))
    draws = fig5_draws(list(range(a.seeds)), a.gate_sigma, a.gate_uniform)
    W, _, _ = simulate(setup, draws, dtype)
    ta = total_alignment(draws[0], W.astype(np.float64))
    return ("%-8s block %g tau_c %g lambda %g/%g %s gates %s: total alignment mean %.4f sd %.4f (%d seeds) %s"
            % (dtype, a.block, a.tau_c, a.lam_nonneg, a.lam_norm, a.reg_form,
               "U(0,1)" if a.gate_uniform else "1/2+%gN" % a.gate_sigma, ta.mean(), ta.std(ddof=1),
               len(ta), " ".join("%.3f" % v for v in ta)))


def run_fig8(a, dtype):
    spb = FIG8_STEPS_PER_BLOCK
    setup = SimpleNamespace(dt=0.01, tau_w=0.07, tau_c=0.01, grad_scale=1.0 / BATCH,
                            lam_nonneg=0.18, lam_norm=0.36, reg_form="abs_l1",
                            steps=FIG8_BLOCKS * spb + 6, steps_per_block=spb)
    _, _, L = simulate(setup, fig8_draws(list(range(a.seeds))), dtype)
    return dtype + " " + " ".join("%d: %s" % (n, "/".join("%.3f" % L[:, n * spb + s].mean() for s in FIG8_STEPS_AFTER))
                                  for n in FIG8_SWITCHES)


def finite(text):
    v = float(text)
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError("not a finite number: %r" % text)
    return v


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--figure", type=int, choices=(5, 8), default=5)
    ap.add_argument("--block", type=finite, help="figure 5: block length tau_B (required)")
    ap.add_argument("--tau-c", type=finite, help="figure 5: tau_c (required)")
    ap.add_argument("--lam-nonneg", type=finite, help="figure 5: lambda of the non-negativity term (required)")
    ap.add_argument("--lam-norm", type=finite, help="figure 5: lambda of the norm term (required)")
    ap.add_argument("--seeds", type=int, help="seeds 0..N-1 (figure 5: 10, figure 8: 40)")
    ap.add_argument("--steps", type=int, help="figure 5: Euler steps (7000)")
    gates = ap.add_mutually_exclusive_group()
    gates.add_argument("--gate-sigma", type=finite, help="figure 5: c_p = 1/2 + S N(0, 1)")
    gates.add_argument("--gate-uniform", action="store_true", default=None, help="figure 5: c_p ~ U(0, 1)")
    ap.add_argument("--reg-form", choices=REG_FORMS, help="figure 5: the gate regulariser (abs_l1)")
    ap.add_argument("--only", choices=("float64", "float32"))
    a = ap.parse_args(argv)
    if a.figure == 8:
        given = [n for n in FIG5_ONLY if getattr(a, n) is not None]
        if given:
            ap.error("--%s applies to --figure 5 only" % given[0].replace("_", "-"))
        a.seeds = 40 if a.seeds is None else a.seeds
        if a.seeds < 1:
            ap.error("--seeds must be at least 1, not %d" % a.seeds)
        return a
    missing = [n for n in ("block", "tau_c", "lam_nonneg", "lam_norm") if getattr(a, n) is None]
    if missing:
        ap.error("--figure 5 needs --%s" % missing[0].replace("_", "-"))
    a.seeds = 10 if a.seeds is None else a.seeds
    a.steps = 7000 if a.steps is None else a.steps
    a.gate_sigma = 0.0 if a.gate_sigma is None else a.gate_sigma
    a.gate_uniform = bool(a.gate_uniform)
    a.reg_form = a.reg_form or "abs_l1"
    if a.seeds < 2:
        ap.error("--seeds must be at least 2 (the seed sd), not %d" % a.seeds)
    if a.steps < 1:
        ap.error("--steps must be at least 1, not %d" % a.steps)
    if round(a.block / FIG5_DT) < 1:
        ap.error("--block must be at least dt = %g, not %g" % (FIG5_DT, a.block))
    if a.tau_c <= 0:
        ap.error("--tau-c must be positive, not %g" % a.tau_c)
    return a


def main(argv=None):
    a = parse_args(argv)
    run = run_fig8 if a.figure == 8 else run_fig5
    for dtype in ("float64", "float32"):
        if not a.only or dtype == a.only:
            print(run(a, dtype), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
