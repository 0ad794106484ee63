#!/usr/bin/env python3
"""Plot Fig. 2 of Sandbrink et al. (NeurIPS 2024) from an ntasweep results
file of sweeps/fig2.ini, as mean +- s.e.m. over the done runs (seeds) of each
case.

  A  task loss over time, every case (flexible black, forgetful gray)
  B  gates of the flexible model, each run's gates re-ordered so that gate m
     is the one of the path matched to teacher m; shading = active task
  C  cosine similarity of teacher m with its matched path (flexible model)
  D  norm of the Euler update of each matched path's W_p (flexible model)
  E  norm of the Euler update of the gates c (flexible model)
  F  time from block start until the task loss is below 0.1, per block

usage: plot_fig2.py RESULTS.h5 [-o OUT.png]
"""
import sys

import ntatools

ntatools.ensure_interpreter(("h5py", "numpy", "matplotlib"))
plt = ntatools.pyplot()
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402

REQUIRED = ("loss", "gates", "cos_sim", "update_norm_w", "update_norm_c", "time_to_threshold",
            "block_len", "n_blocks", "teachers", "paths")
THRESHOLD = 0.1
TASK_COLORS = ntatools.TASK_COLORS


def matched_update_norms(f, runs):
    """update_norm_w [run, time, m] of the path matched to teacher m."""
    un = ntatools.read_runs(f, "update_norm_w", runs)
    cos = ntatools.read_runs(f, "cos_sim", runs)
    M = int(ntatools.read_runs(f, "teachers", runs).max())
    out = np.full(un.shape[:2] + (M,), np.nan)
    for i in range(len(runs)):
        finite = np.nonzero(np.isfinite(cos[i]).all(axis=(1, 2)))[0]
        if finite.size:
            for m, p in enumerate(ntatools.match_paths(cos[i, finite[-1]])[:M]):
                if p >= 0:
                    out[i, :, m] = un[i, :, p]
    return out


def main():
    args, f = ntatools.plot_start(__doc__, "fig2", REQUIRED)
    done, total = ntatools.group_by_case(f)
    colors = ntatools.case_colors(done)
    label = ntatools.case_label

    fig, axes = plt.subplots(2, 3, figsize=(16, 8))
    (ax_a, ax_b, ax_c), (ax_d, ax_e, ax_f) = axes

    # A: task loss of every case.
    for c, runs in done.items():
        if not runs:
            ax_a.plot([], [], color=colors[c], label="%s: no done runs (of %d)" % (label(c), total[c]))
            continue
        ntatools.band(ax_a, ntatools.x_in_blocks(f, runs, c), ntatools.read_runs(f, "loss", runs),
                      colors[c], "%s (n=%d)" % (label(c), len(runs)))
    ax_a.set(xlabel="time (blocks)", ylabel="task loss", title="Task loss")
    ax_a.legend(fontsize=8, loc="best")

    # B-E: the flexible model; without a "flexible" case, the first case that has done runs.
    flex = "flexible" if "flexible" in done else next((c for c, r in done.items() if r), None)
    if flex is None or not done[flex]:
        for ax in (ax_b, ax_c, ax_d, ax_e):
            ntatools.note(ax, "no done runs for case %r" % (flex or "flexible"))
    else:
        runs = done[flex]
        x = ntatools.x_in_blocks(f, runs, flex)
        g_sorted, c_match, M = ntatools.sorted_by_teacher(f, runs)
        for ax in (ax_b, ax_c, ax_d, ax_e):
            ntatools.shade_blocks(ax, f, runs[0])
        for q in range(g_sorted.shape[2]):
            color = TASK_COLORS[q % len(TASK_COLORS)] if q < M else "0.4"
            lab = "gate of path matched to teacher %d" % (q + 1) if q < M else \
                ("unmatched paths" if q == M else None)
            ntatools.band(ax_b, x, g_sorted[:, :, q], color, lab, ls="-" if q < M else ":")
        upd = matched_update_norms(f, runs)
        for m in range(M):
            color = TASK_COLORS[m % len(TASK_COLORS)]
            ntatools.band(ax_c, x, c_match[:, :, m], color, "teacher %d vs matched path" % (m + 1))
            ntatools.band(ax_d, x, upd[:, :, m], color, "path matched to teacher %d" % (m + 1))
        ntatools.band(ax_e, x, ntatools.read_runs(f, "update_norm_c", runs), "black", "gates c")
        # Headroom above 1 keeps the legends off the curves.
        for ax in (ax_b, ax_c):
            ax.set_ylim(-0.05, 1.25)
            ax.legend(fontsize=8, loc="upper center", ncol=2)
        for ax in (ax_d, ax_e):
            ax.set_yscale("log")
            ax.legend(fontsize=8, loc="lower right")
    fl = label(flex or "flexible")
    ax_b.set(xlabel="time (blocks)", ylabel="gate activity c",
             title="Gates, %s model (shading: active task)" % fl)
    ax_c.set(xlabel="time (blocks)", ylabel="cosine similarity",
             title="Student-teacher alignment, %s model" % fl)
    ax_d.set(xlabel="time (blocks)", ylabel="||dW_p|| per step", title="Updates of W, %s model" % fl)
    ax_e.set(xlabel="time (blocks)", ylabel="||dc|| per step", title="Updates of c, %s model" % fl)

    # F: time to reach loss 0.1 in each block. NaN = never reached in that
    # block; NaN beyond a run's own n_blocks is padding and not counted.
    for c, runs in done.items():
        if not runs:
            ax_f.plot([], [], color=colors[c], label="%s: no done runs (of %d)" % (label(c), total[c]))
            continue
        ttt = ntatools.read_runs(f, "time_to_threshold", runs)
        nb = ntatools.read_runs(f, "n_blocks", runs)
        valid = np.arange(ttt.shape[1])[None, :] < nb[:, None]
        never = int((np.isnan(ttt) & valid).sum())
        mean, sem, _ = ntatools.mean_sem(np.where(valid, ttt, np.nan), axis=0)
        lab = label(c)
        if never:
            lab += " (%d of %d blocks never < %g, left out)" % (never, int(valid.sum()), THRESHOLD)
        blocks = np.arange(1, ttt.shape[1] + 1)
        ax_f.errorbar(blocks, mean, yerr=np.nan_to_num(sem), color=colors[c], marker="o", ms=3,
                      capsize=2, lw=1.2, label=lab)
    ax_f.set(xlabel="block", ylabel="time to loss < %g" % THRESHOLD,
             title="Time to reach loss %g per block" % THRESHOLD)
    ax_f.set_xlim(0.5, f["time_to_threshold"].shape[1] + 0.5)  # keep blocks never reached in view
    ax_f.set_ylim(bottom=0)
    ax_f.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax_f.legend(fontsize=8, loc="best")

    ntatools.finish(fig, args, f, axes.ravel(), "ABCDEF", top=0.97, sem=True)


if __name__ == "__main__":
    sys.exit(main())
