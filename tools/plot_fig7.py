#!/usr/bin/env python3
"""Plot Fig. 7C-D of Sandbrink et al. (NeurIPS 2024) from an ntasweep results
file of the CNN-embedded variant (sweeps/fig7.ini), as mean +- s.e.m. over
the done runs (seeds) of each case.

  C  test accuracy under the current task's labels over time: flexible NTA
     head (black), forgetful (gray), and the CNN-alone baseline (blue,
     dashed) when the sweep has it; shading = task (blue original, orange
     permuted labels)
  D  the flexible head's two gates, each run's gates ordered so that gate 1
     is the one most active in the last block of task 1

With several label maps in the file (Fig. A.15 has two), one column each.

usage: plot_fig7.py RESULTS.h5 [-o OUT.png]
"""
import argparse
import os
import sys

import ntatools

ntatools.ensure_interpreter(("h5py", "numpy", "matplotlib"))
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

REQUIRED = ("case", "status", "time", "accuracy", "gates", "model", "label_map", "block_len", "n_blocks")
CASE_STYLE = {"flexible": ("black", "-"), "forgetful": ("0.55", "-"), "cnn_alone": ("tab:blue", "--")}
TASK_COLORS = ("tab:blue", "tab:orange")
GATE_COLORS = ("tab:blue", "tab:orange")
MAP_TITLES = {"parity": "MNIST, parity labels", "upper_lower": "upper-to-lower labels",
              "warm_cold": "warm-to-cold labels", "identity": "identical tasks"}


def band(ax, x, y, color, label, ls="-"):
    mean, sem, _ = ntatools.mean_sem(y, axis=0)
    ax.plot(x, mean, color=color, ls=ls, lw=1.2, label=label)
    ax.fill_between(x, mean - sem, mean + sem, color=color, alpha=0.25, lw=0)


def shade_tasks(ax, n_blocks):
    for b in range(n_blocks):
        ax.axvspan(b, b + 1, color=TASK_COLORS[b % 2], alpha=0.08, lw=0)


def ordered_gates(gates, x, n_blocks):
    """gates [run, time, 2] reordered per run: gate 1 = the one most active in
    the last block of task 1 (block n_blocks-2 or -1, whichever is even)."""
    last1 = n_blocks - 1 if (n_blocks - 1) % 2 == 0 else n_blocks - 2
    sel = (x >= last1) & (x < last1 + 1)
    out = np.array(gates[:, :, :2], dtype=float)
    for i in range(out.shape[0]):
        if np.nanmean(out[i, sel, 1]) > np.nanmean(out[i, sel, 0]):
            out[i] = out[i, :, ::-1]
    return out


def pretrained_note(f):
    notes = []
    for name, g in (f["pretrained"].items() if "pretrained" in f else []):
        if int(g["status"][0]) == 1:
            notes.append("%s CNN: %d steps, test accuracy %.4f on %d images%s" % (
                ntatools.attr_str(g, "dataset"), int(g.attrs["cnn_steps"]), float(g["test_accuracy"][0]),
                int(g.attrs["n_test"]), " (10k set split 4:1)" if int(g.attrs["held_out_split"]) else ""))
    return "; ".join(notes)


def plot(results, out, default_suffix, sweep_name="fig7"):
    out = out or os.path.splitext(results)[0] + default_suffix
    f = ntatools.open_results(results, REQUIRED)
    # A file that varies what the figure's sweep fixes (say tau_w) would be
    # averaged over it and drawn as one setting: refused, as every figure script.
    ntatools.check_sweep(f, results, sweep_name)
    done, total = ntatools.group_by_case(f)
    maps_all = ntatools.decode(f["label_map"][()])
    models = ntatools.decode(f["model"][()])
    cnn_runs = [i for i, m in enumerate(models) if m in ("cnn_nta", "cnn_alone")]
    if not cnn_runs:
        ntatools.die("%s: no cnn_nta or cnn_alone runs" % results)
    maps = sorted({maps_all[i] for i in cnn_runs}, key=lambda m: list(MAP_TITLES).index(m)
                  if m in MAP_TITLES else len(MAP_TITLES))
    fig, axes = plt.subplots(2, len(maps), figsize=(6.5 * len(maps), 7), squeeze=False)
    for col, lm in enumerate(maps):
        ax_acc, ax_g = axes[0, col], axes[1, col]
        n_blocks = 0
        flex_runs = []
        for c, runs in done.items():
            runs = [i for i in runs if maps_all[i] == lm and i in cnn_runs]
            if not runs:
                continue
            x = ntatools.record_times(f, runs)[0] / ntatools.read_runs(f, "block_len", runs)[0]
            n_blocks = max(n_blocks, int(ntatools.read_runs(f, "n_blocks", runs).max()))
            color, ls = CASE_STYLE.get(c, ("tab:green", "-"))
            band(ax_acc, x, ntatools.read_runs(f, "accuracy", runs), color, "%s (n=%d)" % (c or "(no case)", len(runs)), ls)
            if c == "flexible":
                flex_runs = runs
        shade_tasks(ax_acc, n_blocks)
        ax_acc.set(xlabel="time (blocks)", ylabel="test accuracy (current task's labels)",
                   title="Accuracy, %s" % MAP_TITLES.get(lm, lm), ylim=(0, 1))
        ax_acc.legend(fontsize=8, loc="lower right")
        if flex_runs:
            x = ntatools.record_times(f, flex_runs)[0] / ntatools.read_runs(f, "block_len", flex_runs)[0]
            g = ordered_gates(ntatools.read_runs(f, "gates", flex_runs), x, n_blocks)
            for q in range(2):
                band(ax_g, x, g[:, :, q], GATE_COLORS[q], "gate %d (task %d's)" % (q + 1, q + 1))
            ax_g.legend(fontsize=8, loc="upper left")
        else:
            ax_g.text(0.5, 0.5, "no done flexible runs", transform=ax_g.transAxes, ha="center")
        shade_tasks(ax_g, n_blocks)
        ax_g.set(xlabel="time (blocks)", ylabel="gate activity c", title="Gates, flexible head")
    counts = ", ".join("%s %d/%d" % (c or "(no case)", len(done[c]), total[c]) for c in done)
    fig.text(0.5, 0.005, pretrained_note(f), ha="center", va="bottom", fontsize=8)
    fig.tight_layout(rect=(0, 0.02, 1, 0.95))
    ntatools.save_figure(fig, out, results, counts + "; mean \u00b1 s.e.m. over seeds")


def main(default_suffix="_fig7.png", doc=__doc__, sweep_name="fig7"):
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("results", metavar="RESULTS.h5")
    ap.add_argument("-o", "--output", metavar="OUT.png", help="image to write (default: RESULTS%s)" % default_suffix)
    args = ap.parse_args()
    plot(args.results, args.output, default_suffix, sweep_name)


if __name__ == "__main__":
    main()
