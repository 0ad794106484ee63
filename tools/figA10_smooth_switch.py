#!/usr/bin/env python3
"""Figs. A.10-A.11: why |c-bar| 5 after the switch is 0.01-0.025 above the
authors' printed values at the three fastest tau_c.

The run of sweeps/figA10_A11_specialization.ini (the reduced model, x = 1,
one switch from c = (1, 0), w^1 = e_1, w^2 = e_2 to the other teacher; dt
1e-4, tau_w 1, lambda_nonneg 0.05, lambda_norm(L1) 0.025) is simulated here
in float64 for the five tau_c = logspace(-1, 0, 5), twice:

  hard    the target is the new teacher throughout, as in ntasweep; this
          reproduces the sweep's cbar at its last record (a check of this
          script against the C code),
  smooth  the target is the authors' curriculum (lcs/curricula.py,
          get_n_phasic_curriculum with g = 100, block 5, phase 1/4 of the
          period): teacher i has weight (1 + s(r)) / 2, r = cos(pi d / 5) for
          the distance d < 5 of t - 5 i - 2.5 (1 - 1e-4) to the nearest
          multiple of the period 10 (r = -1 otherwise), s(r) =
          sign(r) |sin(pi r / 2)|^(1/g). Near a block's edges both teachers
          are partly on (the other one still weighs 0.03 at t = 4.9975).

Both are read where the authors' printed values were taken: tape entry -2 of
2000 over t = 0..5, i.e. t = 4.9975 (the state before step 49975).

usage: figA10_smooth_switch.py
"""
import sys

import ntatools

ntatools.ensure_interpreter(("numpy",))
import numpy as np  # noqa: E402

TAU_C = np.logspace(-1, 0, 5)
AUTHORS = (0.87989, 0.81587, 0.70086, 0.48792, 0.09892)   # printed cbars[:, -2]
DT, TAU_W, LAM_NONNEG, LAM_NORM = 1e-4, 1.0, 0.05, 0.025
STEPS, READ_STEP, BLOCK, PERIOD, GAIN = 50000, 49975, 5.0, 10.0, 100.0


def teacher_weight(t, i):
    """The authors' smooth curriculum: weight of teacher i at time t."""
    x = np.abs(np.fmod(t - i * BLOCK - PERIOD * 0.25 * (1 - 1e-4), PERIOD))
    d = np.minimum(x, PERIOD - x)
    r = np.where(d < BLOCK, np.cos(np.pi * d / BLOCK), -1.0)
    return (np.sign(r) * np.abs(np.sin(np.pi * r / 2)) ** (1 / GAIN) + 1) / 2


def simulate(smooth):
    """|c1 - c2| at READ_STEP and after the last step, one value per tau_c."""
    n = len(TAU_C)
    W = np.tile(np.eye(2), (n, 1, 1))          # W[run, path] = w^path (2 outputs)
    c = np.tile([1.0, 0.0], (n, 1))
    new, old = np.array([0.0, 1.0]), np.array([1.0, 0.0])
    kc = (DT / TAU_C)[:, None]
    read = None
    for k in range(STEPS):
        if k == READ_STEP:
            read = np.abs(c[:, 0] - c[:, 1])
        target = new if not smooth else teacher_weight(k * DT, 0) * new + teacher_weight(k * DT, 1) * old
        err = np.einsum("rp,rpo->ro", c, W) - target            # y - y*
        grad_W = c[:, :, None] * err[:, None, :]
        grad_c = np.einsum("rpo,ro->rp", W, err)
        excess = np.abs(c).sum(axis=1, keepdims=True) - 1.0
        grad_c += 2 * LAM_NORM * excess * np.sign(c) - np.where(c < 0, LAM_NONNEG, 0.0)
        W = W - DT / TAU_W * grad_W
        c = c - kc * grad_c
    return read, np.abs(c[:, 0] - c[:, 1])


def main():
    print("tau_c                      " + " ".join("%7.3f" % t for t in TAU_C))
    print("authors (t = 4.9975)       " + " ".join("%7.4f" % v for v in AUTHORS))
    for smooth in (False, True):
        read, end = simulate(smooth)
        name = "smooth" if smooth else "hard  "
        print("%s target, t = 4.9975   " % name + " ".join("%7.4f" % v for v in read))
        print("%s target, t = 5        " % name + " ".join("%7.4f" % v for v in end))
    return 0


if __name__ == "__main__":
    sys.exit(main())
