#!/usr/bin/env python3
"""Plot Fig. A.13B of Sandbrink et al. (NeurIPS 2024) from a results file of
sweeps/figA13_rho.ini: how adaptation speed and specialization decay as the
teachers' rows become correlated (cosine rho; rho = 0 is orthogonal).

  A  (not in the paper: its A is a sketch) cosine of each teacher with its
     matched student over time, one line per rho (colour)
  B  adaptation speed (black, left axis): the largest |dL/dt| within a
     block, from consecutive loss records, averaged over blocks; student
     specialization (gray, right axis): the largest gap between a path's
     cosine with its own and with the other teacher over the last 1/8 of
     the run, smoothed (both as the authors' notebook measures them)
Mean +- s.e.m. over seeds where the sweep has several.

usage: plot_figA13_rho.py RESULTS.h5 [-o OUT.png]
"""
import sys

import ntatools

ntatools.ensure_interpreter(("h5py", "numpy", "matplotlib"))
plt = ntatools.pyplot()
import numpy as np  # noqa: E402

REQUIRED = ("loss", "cos_sim", "rho", "block_len", "n_blocks", "dt", "record_every")


def adaptation_speed(f, r):
    L = ntatools.by_block(f, "loss", [r])[0]            # [block, record]
    step = float(f["dt"][r]) * int(f["record_every"][r])
    return np.nanmean(np.nanmax(np.abs(np.diff(L, axis=1)) / step, axis=1))


def specialization_gap(f, r):
    return ntatools.authors_specialization(f["cos_sim"][r])


def main():
    args, f = ntatools.plot_start(__doc__, "figA13_rho", REQUIRED)
    runs = ntatools.done_runs(f)
    fig, axes = plt.subplots(1, 2, figsize=(14, 5))
    if not runs:
        ntatools.note_all(axes, "no done runs")
    else:
        rho = np.array([f["rho"][r] for r in runs])
        rhos = np.unique(rho)
        cmap = plt.get_cmap("viridis")
        for k, v in enumerate(rhos):
            these = [r for r, x in zip(runs, rho) if x == v]
            _, match, M = ntatools.sorted_by_teacher(f, these)
            x = ntatools.x_in_blocks(f, these)
            for m in range(M):
                ntatools.band(axes[0], x, match[:, :, m], cmap(k / max(1, len(rhos) - 1)),
                              "rho = %g" % v if m == 0 else None)
        axes[0].set(xlabel="time (blocks)", ylabel="cosine (teacher, matched student)", ylim=(-0.05, 1.1),
                    title="(not in the paper) each teacher with its student")
        axes[0].legend(fontsize=7, ncol=2, loc="lower right")
        speed = np.array([adaptation_speed(f, r) for r in runs])
        gap = np.array([specialization_gap(f, r) for r in runs])
        sm = [ntatools.mean_sem(speed[rho == v]) for v in rhos]
        gm = [ntatools.mean_sem(gap[rho == v]) for v in rhos]
        ax = axes[1]
        ax.errorbar(rhos, [s[0] for s in sm], yerr=np.nan_to_num([s[1] for s in sm]), color="k",
                    marker="o", capsize=2)
        ax.set(xlabel="teacher correlation $\\rho$", ylabel="adaptation speed (loss)")
        ax.set_ylim(bottom=0)
        ax2 = ax.twinx()
        ax2.errorbar(rhos, [g[0] for g in gm], yerr=np.nan_to_num([g[1] for g in gm]), color="0.55",
                     marker="s", capsize=2)
        ax2.set_ylabel("student specialization", color="0.45")
        ax2.set_ylim(bottom=min(-0.05, np.nanmin([g[0] for g in gm])))
        ax.set_title("adaptation speed (black) and specialization (gray)")
    ntatools.finish(fig, args, f, axes, "AB", top=0.93)


if __name__ == "__main__":
    sys.exit(main())
