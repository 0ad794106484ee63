#!/usr/bin/env python3
"""Plot Fig. 8B of Sandbrink et al. (NeurIPS 2024) from a results file of
sweeps/fig8.ini: the task loss in the first moments after a block switch,
mean +- s.e.m. over seeds.

  A, B  loss against the time since the switch for the switches after 1, 2,
        3 and 4 blocks of training (colour), flexible (A) and forgetful (B);
        ticks at the paper's steps of 0.01
  C     loss at 0.03 after each switch (the paper's third step) against the
        number of blocks trained, both cases: it falls for the flexible model
        and rises for the forgetful one
Needs a record at every block start (record_every dividing the steps per
block); the sweep records every step.

usage: plot_fig8.py RESULTS.h5 [-o OUT.png]
"""
import sys

import ntatools

ntatools.ensure_interpreter(("h5py", "numpy", "matplotlib"))
plt = ntatools.pyplot()
import numpy as np  # noqa: E402

REQUIRED = ("loss", "block_len", "n_blocks", "dt", "record_every")
SWITCHES = (1, 2, 3, 4)  # blocks trained before the switch, as the paper's panels
WINDOW = 0.05            # time after a switch shown in A, B (the paper's 5 steps of 0.01)
PROBE = 0.03             # time after a switch compared across switches in C


def switch_losses(f, runs):
    """loss [run, block, record in block] and the time of each record in a block."""
    L = ntatools.by_block(f, "loss", runs)
    t = np.arange(L.shape[2]) * float(f["dt"][runs[0]]) * int(f["record_every"][runs[0]])
    return L, t


def main():
    args, f = ntatools.plot_start(__doc__, "fig8", REQUIRED)
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
    cmap = plt.get_cmap("viridis")
    ymax = 0.0
    for ax, case in zip(axes[:2], ("flexible", "forgetful")):
        runs = ntatools.case_runs(f, case)
        if not runs:
            ntatools.note(ax, "no done runs for case %r" % case)
            continue
        L, t = switch_losses(f, runs)
        show = (t > 0) & (t <= WINDOW + 1e-12)
        for k, b in enumerate(s for s in SWITCHES if s < L.shape[1]):
            mean, sem, _ = ntatools.mean_sem(L[:, b, show], axis=0)
            ax.errorbar(t[show], mean, yerr=np.nan_to_num(sem), color=cmap(k / len(SWITCHES)), marker="o",
                        ms=3, capsize=2, label="after %d block%s" % (b, "s" if b > 1 else ""))
            ymax = max(ymax, np.nanmax(mean + np.nan_to_num(sem)))
        ax.set(xlabel="time after the switch", ylabel="task loss",
               title="%s (n=%d)" % (case, len(runs)))
        ax.set_xticks(np.arange(0.01, WINDOW + 1e-9, 0.01))
        ax.legend(fontsize=8)
    for ax in axes[:2]:
        ax.set_ylim(0, ymax * 1.05 if ymax > 0 else 1)

    ax = axes[2]
    for case, color in (("forgetful", "0.6"), ("flexible", "black")):
        runs = ntatools.case_runs(f, case)
        if not runs:
            continue
        L, t = switch_losses(f, runs)
        k = int(np.argmin(np.abs(t - PROBE)))
        mean, sem, _ = ntatools.mean_sem(L[:, 1:, k], axis=0)
        blocks = np.arange(1, L.shape[1])
        ax.errorbar(blocks, mean, yerr=np.nan_to_num(sem), color=color, marker="o", ms=3, capsize=2,
                    label=case)
    ax.set(xlabel="blocks trained before the switch", ylabel="task loss %g after the switch" % PROBE,
           title="Loss right after each switch")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    ntatools.finish(fig, args, f, axes, "ABC", top=0.93, sem=True)


if __name__ == "__main__":
    sys.exit(main())
