#!/usr/bin/env python3
"""Plot Fig. 8B of Sandbrink et al. (NeurIPS 2024) from a results file of
sweeps/fig8.ini, as the paper's panels: the task loss 1 to 5 Euler steps
after the switches that follow 1, 2, 3 and 4 blocks of training (colour,
"blocks trained n"), flexible (left) and forgetful (right) on a shared,
inverted y axis (better is up), points with error bars joined by lines.

Error bars are standard deviations over seeds, as the authors' notebook
(fig8_task_switching.ipynb) draws them (the caption says standard error;
their notebook also multiplies the forgetful SD by sqrt(20), which is not
repeated here). Step k after a switch is the record k steps after the first
step of the new block (the loss after k updates on the new task), so the
sweep must record every step at a block start (record_every dividing the
steps per block).

usage: plot_fig8.py RESULTS.h5 [-o OUT.png]
"""
import sys

import ntatools

ntatools.ensure_interpreter(("h5py", "numpy", "matplotlib"))
plt = ntatools.pyplot()
import numpy as np  # noqa: E402

REQUIRED = ("loss", "block_len", "n_blocks", "dt", "record_every")
SWITCHES = (1, 2, 3, 4)  # blocks trained before the switch
STEPS = 5                # Euler steps after the switch, as the paper's x axis


def main():
    args, f = ntatools.plot_start(__doc__, "fig8", REQUIRED)
    fig, axes = plt.subplots(1, 2, figsize=(8.2, 3.4), sharey=True)
    cmap = plt.get_cmap("viridis")
    ymax = None
    for ax, case in zip(axes, ("flexible", "forgetful")):
        runs = ntatools.case_runs(f, case)
        ax.set_title("%s (n=%d)" % (case, len(runs)), fontsize=10)
        ax.set(xlabel="timesteps $t$ after switch")
        ax.set_xticks(range(1, STEPS + 1))
        ax.set_xlim(0.5, STEPS + 1.5)
        if not runs:
            ntatools.note(ax, "no done runs for case %r" % case)
            continue
        every = int(f["record_every"][runs[0]])
        if every != 1:
            ntatools.note(ax, "needs a record at every step\n(record_every = 1; this file: %d)" % every)
            continue
        L = ntatools.by_block(f, "loss", runs)  # [run, block, step in block]
        steps = np.arange(1, STEPS + 1)
        for k, n in enumerate(s for s in SWITCHES if s < L.shape[1]):
            y = L[:, n, steps]
            mean = np.nanmean(y, axis=0)
            sd = np.nanstd(y, axis=0, ddof=1) if y.shape[0] > 1 else np.zeros_like(mean)
            ax.errorbar(steps, mean, yerr=sd, color=cmap(k / (len(SWITCHES) - 1) * 0.8),
                        marker="o", ms=6, lw=1.5, capsize=0, label="blocks trained %d" % n)
            ymax = max(ymax or 0.0, float(np.nanmax(mean + sd)))
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_ylabel("loss $\\mathcal{L}$")
    if ymax is not None:
        axes[0].set_ylim(1.05 * ymax, -0.01)  # inverted, shared by both panels: lower loss is up
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, fontsize=8, loc="center right", frameon=True)
    fig.tight_layout(rect=(0, 0, 0.8, 0.92))
    ntatools.finish(fig, args, f, axes, "", top=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
