#!/usr/bin/env python3
"""Plot panels A, B, C and F of Fig. 2 of Sandbrink et al. (NeurIPS 2024)
from an ntasweep results file, as mean +- s.e.m. over the done runs (seeds)
of each case.

  A  task loss over time, every case (flexible black, forgetful gray)
  B  gates of the flexible model, each run's gates re-ordered so that gate m
     is the one of the path matched to teacher m; shading = active task
  C  cosine similarity of teacher m with its matched path (flexible model)
  F  time from block start until the task loss is below 0.1, per block

usage: plot_fig2.py RESULTS.h5 [-o OUT.png]
"""
import argparse
import os
import sys

import ntatools

ntatools.ensure_interpreter(("h5py", "numpy", "matplotlib"))
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402

REQUIRED = ("case", "status", "time", "loss", "gates", "cos_sim", "time_to_threshold",
            "block_len", "n_blocks", "teachers", "paths")
THRESHOLD = 0.1
CASE_COLORS = {"flexible": "black", "forgetful": "0.6"}
OTHER_COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink",
                "tab:olive", "tab:cyan"]
TASK_COLORS = ["tab:blue", "tab:red", "tab:green", "tab:purple", "tab:orange", "tab:brown"]


def case_label(case):
    return case if case else "(no case)"


def band(ax, x, y, color, label, **kw):
    """Mean +- s.e.m. over runs (axis 0) of y against x."""
    mean, sem, _ = ntatools.mean_sem(y, axis=0)
    ax.plot(x, mean, color=color, label=label, lw=1.2, **kw)
    ax.fill_between(x, mean - sem, mean + sem, color=color, alpha=0.25, lw=0)


def note(ax, text):
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=10,
            bbox=dict(boxstyle="round", fc="lightyellow", ec="0.7"))


def x_in_blocks(f, runs, case):
    """Record times of the case in blocks (time / block_len). Averaging over
    runs is done per record, so runs of a case should share this axis."""
    xs = ntatools.record_times(f, runs) / ntatools.read_runs(f, "block_len", runs)[:, None]
    if not np.allclose(xs, xs[0], equal_nan=True):
        print("warning: runs of case %r differ in record interval or block_len; "
              "plotting them on the first run's time axis" % case, file=sys.stderr)
    return xs[0]


def sorted_by_teacher(f, runs):
    """Gates [run, time, q] and matched cosine [run, time, m] of `runs`, with
    q < M the gate of the path matched to teacher q and q >= M unmatched paths."""
    gates = ntatools.read_runs(f, "gates", runs)
    cos = ntatools.read_runs(f, "cos_sim", runs)
    M = ntatools.read_runs(f, "teachers", runs)
    P = ntatools.read_runs(f, "paths", runs)
    g_sorted = np.full((len(runs), gates.shape[1], max(M.max(), P.max())), np.nan)
    c_match = np.full((len(runs), gates.shape[1], M.max()), np.nan)
    for i in range(len(runs)):
        m_i, p_i = int(M[i]), int(P[i])
        finite = np.nonzero(np.isfinite(cos[i, :, :m_i, :p_i]).all(axis=(1, 2)))[0]
        if finite.size == 0:
            continue
        perm = ntatools.match_paths(cos[i, finite[-1], :m_i, :p_i])
        for q, p in enumerate(perm):
            if p >= 0:
                g_sorted[i, :, q] = gates[i, :, p]
                if q < m_i:
                    c_match[i, :, q] = cos[i, :, q, p]
    return g_sorted, c_match, int(M.max())


def shade_blocks(ax, f, runs):
    """Shade each block in the colour of its task (alternating curriculum:
    block b trains task b mod M, as in the C program's curriculum)."""
    if "curriculum" not in f or \
            set(ntatools.decode(ntatools.read_runs(f, "curriculum", runs))) != {"alternating"}:
        return
    M = int(ntatools.read_runs(f, "teachers", runs)[0])
    for b in range(int(ntatools.read_runs(f, "n_blocks", runs).max())):
        ax.axvspan(b, b + 1, color=TASK_COLORS[(b % M) % len(TASK_COLORS)], alpha=0.08, lw=0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", metavar="RESULTS.h5")
    ap.add_argument("-o", "--output", metavar="OUT.png",
                    help="image to write (default: RESULTS_fig2.png)")
    args = ap.parse_args()
    out = args.output or os.path.splitext(args.results)[0] + "_fig2.png"

    f = ntatools.open_results(args.results, REQUIRED)
    if ntatools.attr_str(f["time"], "units") == "record" and "record_interval" not in f:
        ntatools.die("%s: `time` is in records but dataset record_interval is missing"
                     % args.results)
    done, total = ntatools.group_by_case(f)
    colors = {}
    for c in done:
        colors[c] = CASE_COLORS.get(c) or OTHER_COLORS[len(colors) % len(OTHER_COLORS)]

    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    (ax_a, ax_b), (ax_c, ax_f) = axes

    # A: task loss of every case.
    for c, runs in done.items():
        if not runs:
            ax_a.plot([], [], color=colors[c], label="%s: no done runs (of %d)" % (case_label(c), total[c]))
            continue
        band(ax_a, x_in_blocks(f, runs, c), ntatools.read_runs(f, "loss", runs), colors[c],
             "%s (n=%d)" % (case_label(c), len(runs)))
    ax_a.set(xlabel="time (blocks)", ylabel="task loss", title="Task loss")
    ax_a.legend(fontsize=8, loc="best")

    # B, C: the flexible model; without a "flexible" case, the first case that has done runs.
    flex = "flexible" if "flexible" in done else next((c for c, r in done.items() if r), None)
    if flex is None or not done[flex]:
        for ax in (ax_b, ax_c):
            note(ax, "no done runs for case %r" % (flex or "flexible"))
    else:
        runs = done[flex]
        x = x_in_blocks(f, runs, flex)
        g_sorted, c_match, M = sorted_by_teacher(f, runs)
        for ax in (ax_b, ax_c):
            shade_blocks(ax, f, runs)
        for q in range(g_sorted.shape[2]):
            color = TASK_COLORS[q % len(TASK_COLORS)] if q < M else "0.4"
            label = "gate of path matched to teacher %d" % (q + 1) if q < M else \
                    ("unmatched paths" if q == M else None)
            band(ax_b, x, g_sorted[:, :, q], color, label, ls="-" if q < M else ":")
        for m in range(M):
            band(ax_c, x, c_match[:, :, m], TASK_COLORS[m % len(TASK_COLORS)],
                 "teacher %d vs matched path" % (m + 1))
        # Headroom above 1 keeps the legends off the curves.
        for ax in (ax_b, ax_c):
            ax.set_ylim(-0.05, 1.25)
            ax.legend(fontsize=8, loc="upper center", ncol=2)
    ax_b.set(xlabel="time (blocks)", ylabel="gate activity c",
             title="Gates, %s model (shading: active task)" % case_label(flex or "flexible"))
    ax_c.set(xlabel="time (blocks)", ylabel="cosine similarity",
             title="Student-teacher alignment, %s model" % case_label(flex or "flexible"))

    # F: time to reach loss 0.1 in each block. NaN = never reached in that
    # block; NaN beyond a run's own n_blocks is padding and not counted.
    for c, runs in done.items():
        if not runs:
            ax_f.plot([], [], color=colors[c], label="%s: no done runs (of %d)" % (case_label(c), total[c]))
            continue
        ttt = ntatools.read_runs(f, "time_to_threshold", runs)
        nb = ntatools.read_runs(f, "n_blocks", runs)
        valid = np.arange(ttt.shape[1])[None, :] < nb[:, None]
        never = int((np.isnan(ttt) & valid).sum())
        mean, sem, _ = ntatools.mean_sem(np.where(valid, ttt, np.nan), axis=0)
        label = case_label(c)
        if never:
            label += " (%d of %d blocks never < %g, left out)" % (never, int(valid.sum()), THRESHOLD)
        blocks = np.arange(1, ttt.shape[1] + 1)
        ax_f.errorbar(blocks, mean, yerr=np.nan_to_num(sem), color=colors[c], marker="o", ms=3,
                      capsize=2, lw=1.2, label=label)
    ax_f.set(xlabel="block", ylabel="time to loss < %g" % THRESHOLD,
             title="Time to reach loss %g per block" % THRESHOLD)
    ax_f.set_xlim(0.5, f["time_to_threshold"].shape[1] + 0.5)  # keep blocks never reached in view
    ax_f.set_ylim(bottom=0)
    ax_f.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax_f.legend(fontsize=8, loc="best")

    for ax, letter in zip((ax_a, ax_b, ax_c, ax_f), "ABCF"):
        ax.text(-0.1, 1.06, letter, transform=ax.transAxes, fontsize=15, fontweight="bold")
    counts = ", ".join("%s %d/%d" % (case_label(c), len(done[c]), total[c]) for c in done)
    fig.suptitle("%s  (done runs: %s; mean \u00b1 s.e.m. over seeds)"
                 % (os.path.basename(args.results), counts), fontsize=10)
    fig.tight_layout()
    try:
        fig.savefig(out, dpi=150)
    except OSError as e:
        ntatools.die("cannot write %s: %s" % (out, e))
    print("wrote", out)


if __name__ == "__main__":
    main()
