#!/usr/bin/env python3
"""Plot Fig. A.16 of Sandbrink et al. (NeurIPS 2024) from a results file of
sweeps/figA16_few_shot.ini: learning from one sample per gradient step
(batch 1, coarse time), mean +- s.e.m. over the seeds (100 in the sweep).

  A  task loss of the flexible model over time t, as the paper (markers:
     single gradient steps; shading: the active task)
  B  (not in the paper) the loss against the one-sample steps since a switch, for
     early blocks (2-4) and late blocks (the last 3) of each case: the
     flexible model recovers within a few samples once specialized

usage: plot_figA16_few_shot.py RESULTS.h5 [-o OUT.png]
"""
import sys

import ntatools

ntatools.ensure_interpreter(("h5py", "numpy", "matplotlib"))
plt = ntatools.pyplot()
import numpy as np  # noqa: E402

REQUIRED = ("loss", "block_len", "n_blocks", "dt", "record_every")
STEPS = 15  # one-sample steps after a switch shown in B


def main():
    args, f = ntatools.plot_start(__doc__, "figA16_few_shot", REQUIRED)
    fig, axes = plt.subplots(1, 2, figsize=(18, 5), gridspec_kw=dict(width_ratios=[2.2, 1]))
    any_runs = False
    for case, color in (("forgetful", "0.6"), ("flexible", "black")):
        runs = ntatools.case_runs(f, case)
        if not runs:
            continue
        any_runs = True
        if case == "flexible":
            x = ntatools.record_times(f, runs)[0]
            ntatools.band(axes[0], x, ntatools.read_runs(f, "loss", runs), color,
                          "%s (n=%d)" % (case, len(runs)), marker="o", ms=2)
        L = ntatools.by_block(f, "loss", runs)          # [run, block, record]
        nb = L.shape[1]
        k = np.arange(min(STEPS, L.shape[2])) * int(f["record_every"][runs[0]])
        for blocks, ls, what in ((list(range(1, min(4, nb))), "--", "blocks 2-4"),
                                 (list(range(max(0, nb - 3), nb)), "-", "last 3 blocks")):
            y = L[:, blocks, :k.size].mean(axis=1)
            ntatools.band(axes[1], k, y, color, "%s, %s" % (case, what), ls=ls, marker="o", ms=3)
    if any_runs:
        ntatools.shade_blocks(axes[0], f, ntatools.done_runs(f)[0], alpha=0.15, x_in_time=True)
        for ax in axes:
            ax.legend(fontsize=8, loc="upper right")
    else:
        ntatools.note_all(axes, "no done runs")
    axes[0].set(xlabel="time $t$", ylabel="loss $\\mathcal{L}$", ylim=(0, None),
                title="flexible model, one sample per step")
    axes[1].set(xlabel="one-sample steps since the switch", ylabel="task loss", ylim=(0, None),
                title="(not in the paper) adaptation after a switch")
    ntatools.finish(fig, args, f, axes, "AB", top=0.93, sem=True)


if __name__ == "__main__":
    sys.exit(main())
