#!/usr/bin/env python3
"""Plot Fig. A.14B-D of Sandbrink et al. (NeurIPS 2024) from a results file
of sweeps/figA14_nonorthogonal.ini: the NTA trained only on the composite
tasks AB, BC, CA finds the latent base teachers A, B, C. Mean +- s.e.m. over
seeds.

  B  task loss
  C  gates, ordered by the base teacher their path matches (a composite
     task turns two gates on to about 1/2 each)
  D  cosine of each base teacher with its matched student
Shading: the composite task of each block.

usage: plot_figA14_nonorthogonal.py RESULTS.h5 [-o OUT.png]
"""
import sys

import ntatools

ntatools.ensure_interpreter(("h5py", "numpy", "matplotlib"))
plt = ntatools.pyplot()
import numpy as np  # noqa: E402

REQUIRED = ("loss", "gates", "cos_sim", "block_len", "n_blocks", "teachers", "paths")


def main():
    args, f = ntatools.plot_start(__doc__, "figA14_nonorthogonal", REQUIRED)
    runs = ntatools.done_runs(f)
    fig, axes = plt.subplots(3, 1, figsize=(14, 10), sharex=True)
    if not runs:
        ntatools.note_all(axes, "no done runs")
    else:
        x = ntatools.record_times(f, runs)[0]
        for ax in axes:
            ntatools.shade_blocks(ax, f, runs[0], alpha=0.12, x_in_time=True)
        ntatools.band(axes[0], x, ntatools.read_runs(f, "loss", runs), "black", "n=%d" % len(runs))
        g, cos, M = ntatools.sorted_by_teacher(f, runs)
        for m in range(M):
            name = "ABCDEFGH"[m] if m < 8 else str(m)
            color = ntatools.TASK_COLORS[m % len(ntatools.TASK_COLORS)]
            ntatools.band(axes[1], x, g[:, :, m], color, "path of teacher " + name)
            ntatools.band(axes[2], x, cos[:, :, m], color, "teacher %s vs its student" % name)
        # The off-diagonal pairs, dashed, as the paper: teacher m against the
        # path matched to teacher q != m.
        cs = ntatools.read_runs(f, "cos_sim", runs)
        for i in range(len(runs)):
            ok = np.nonzero(np.isfinite(cs[i][:, :M]).all(axis=(1, 2)))[0]
            perm = ntatools.match_paths(cs[i, ok[-1], :M])[:M] if ok.size else [-1]
            cs[i, :, :M, :M] = cs[i][:, :M][:, :, perm] if min(perm) >= 0 else np.nan
        for m in range(M):
            for q in range(M):
                if q != m:
                    ntatools.band(axes[2], x, cs[:, :, m, q], ntatools.TASK_COLORS[m % len(ntatools.TASK_COLORS)],
                                  "teacher vs other students" if (m, q) == (0, 1) else None, ls="--", lw=0.9)
        for ax in axes:
            ax.legend(fontsize=8, loc="upper right", ncol=3)
    axes[0].set(ylabel="task loss", title="B: loss (shading: composite task of each block)")
    axes[1].set(ylabel="gate", title="C: gates sorted by matched base teacher", ylim=(-0.05, 1.2))
    axes[2].set(xlabel="time $t$", ylabel="cosine similarity", ylim=(-0.05, 1.1),
                title="D: alignment with the latent base teachers")
    ntatools.finish(fig, args, f, axes, "BCD", top=0.96, sem=True)


if __name__ == "__main__":
    sys.exit(main())
