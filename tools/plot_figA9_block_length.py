#!/usr/bin/env python3
"""Plot Fig. A.9A of Sandbrink et al. (NeurIPS 2024) from a results file of
sweeps/figA9_block_length.ini: in the reduced 2-D model, longer blocks
specialize the students faster at the same total time (App. A.6).

  A  the students w^1, w^2 in the teacher plane over the whole run, for the
     block lengths tau_B (faint) and 2 tau_B (opaque), one seed
  B  specialization |wbar| (Eq. 3) against time for each block length,
     mean +- s.e.m. over seeds (the sign of wbar is set by the random start)
The paper's panels B and C are analytic potentials and are not drawn.

usage: plot_figA9_block_length.py RESULTS.h5 [-o OUT.png]
"""
import sys

import ntatools

ntatools.ensure_interpreter(("h5py", "numpy", "matplotlib"))
plt = ntatools.pyplot()
import numpy as np  # noqa: E402

REQUIRED = ("reduced_w", "wbar", "block_len", "seed")


def main():
    args, f = ntatools.plot_start(__doc__, "figA9_block_length", REQUIRED)
    runs = ntatools.done_runs(f)
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
    if not runs:
        ntatools.note_all(axes, "no done runs")
    else:
        bl = np.array([f["block_len"][r] for r in runs])
        lengths = np.unique(bl)
        seed0 = min(int(f["seed"][r]) for r in runs)
        pair = [lengths[len(lengths) // 2], lengths[-1]] if len(lengths) > 1 else list(lengths)
        for k, length in enumerate(pair):
            r = next(r for r in runs if f["block_len"][r] == length and f["seed"][r] == seed0)
            ntatools.plane_trajectories(axes[0], f["reduced_w"][r], alpha=0.35 if k == 0 and len(pair) > 1 else 1.0,
                                        label=k == len(pair) - 1)
        axes[0].set_title("seed %d: tau_B = %s (faint), %s (opaque)" % (seed0, *[("%g" % p) for p in pair])
                          if len(pair) > 1 else "seed %d, tau_B = %g" % (seed0, pair[0]), fontsize=10)
        axes[0].legend(fontsize=8, loc="upper right")
        cmap = plt.get_cmap("viridis")
        for k, length in enumerate(lengths):
            these = [r for r in runs if f["block_len"][r] == length]
            t = ntatools.record_times(f, these)[0]
            ntatools.band(axes[1], t, np.abs(ntatools.read_runs(f, "wbar", these)),
                          cmap(k / max(1, len(lengths) - 1)), "tau_B = %g (n=%d)" % (length, len(these)))
        axes[1].set(xlabel="time", ylabel="specialization $|\\bar w|$", ylim=(0, 1.05),
                    title="specialization vs time at equal total time")
        axes[1].legend(fontsize=8)
    ntatools.finish(fig, args, f, axes, "AB", top=0.93, sem=True)


if __name__ == "__main__":
    sys.exit(main())
