#!/usr/bin/env python3
"""Plot Fig. A.2 of Sandbrink et al. (NeurIPS 2024) from a results file of
sweeps/figA2_rank.ini: the gates' rate of change grows with the students'
sum of squared singular values, i.e. with the teachers' rank (App. A.2).

  A  gate rate tau_c |dc/dt| against the sum of squared singular values
     sum_alpha s_alpha^2 = ||W_0||_F^2 of path 0's final student (as the
     authors' figure), one point per rank, mean +- s.e.m. over seeds;
     dashed: y = x
  B  both against the teachers' rank
Gate rate: tau_c times the largest |dc/dt| of any gate over every Euler step
of the run (max_dc_dt, kept by the run loop every step; the records, every
9th step in the sweep, miss the fastest steps right after a switch). That is
the authors' printed number: their per-block list holds the whole gate
series in every entry, so its mean over the last blocks is the maximum over
their whole run. With scaling = fan_in (teachers of singular value
1/sqrt(d_in)) both quantities are multiplied by d_in, to show them in the
units of the authors' teachers of singular value 1 (scaling = unit_sum, the
sweep's; unit or unit_sum need no factor).

usage: plot_figA2_rank.py RESULTS.h5 [-o OUT.png]
"""
import sys

import ntatools

ntatools.ensure_interpreter(("h5py", "numpy", "matplotlib"))
plt = ntatools.pyplot()
import numpy as np  # noqa: E402

REQUIRED = ("scaling", "max_dc_dt", "student_weights", "teacher_rank", "tau_c", "d_in", "n_blocks")


def gate_rate_and_svsum(f, runs):
    """Per run: gate rate and students' sum of squared singular values, both
    in the paper's units (x d_in)."""
    rate, svsum = [], []
    scaling = ntatools.decode(f["scaling"][()])
    for r in runs:
        unit = 1.0 if scaling[r] != "fan_in" else float(f["d_in"][r])
        per_block = np.asarray(f["max_dc_dt"][r][:int(f["n_blocks"][r])], float)
        rate.append(float(f["tau_c"][r]) * np.max(per_block) * unit)
        W = np.asarray(f["student_weights"][r][0], float)
        svsum.append(np.sum(W ** 2) * unit)
    return np.array(rate), np.array(svsum)


def main():
    args, f = ntatools.plot_start(__doc__, "figA2_rank", REQUIRED)
    runs = ntatools.done_runs(f)
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.2))
    if not runs:
        ntatools.note_all(axes, "no done runs")
    else:
        rate, svsum = gate_rate_and_svsum(f, runs)
        rank = np.array([f["teacher_rank"][r] for r in runs])
        ranks = np.unique(rank)
        stats = [(ntatools.mean_sem(svsum[rank == k]), ntatools.mean_sem(rate[rank == k])) for k in ranks]
        xm = np.array([s[0][0] for s in stats])
        xs = np.array([s[0][1] for s in stats])
        ym = np.array([s[1][0] for s in stats])
        ys = np.array([s[1][1] for s in stats])
        ax = axes[0]
        ax.errorbar(xm, ym, xerr=np.nan_to_num(xs), yerr=np.nan_to_num(ys), color="C0", marker="o",
                    capsize=2, label="simulation (one point per rank)")
        for k, x, y in zip(ranks, xm, ym):
            ax.annotate("r=%d" % k, (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
        top = np.nanmax(np.concatenate([xm, ym])) * 1.1
        ax.plot([0, top], [0, top], "k--", lw=1, label="y = x (App. A.2)")
        ax.set(xlim=(0, top), ylim=(0, top), aspect="equal",
               xlabel="path 0's singular value sum $\\sum_\\alpha s_\\alpha^2$ (final)",
               ylabel="gate change $\\tau_c\\,|dc/dt|$")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
        ax = axes[1]
        ax.errorbar(ranks, ym, yerr=np.nan_to_num(ys), color="C0", marker="o", capsize=2,
                    label="gate change $\\tau_c|dc/dt|$")
        ax.errorbar(ranks, xm, yerr=np.nan_to_num(xs), color="0.4", marker="s", capsize=2, ls="--",
                    label="$\\sum_\\alpha s_\\alpha^2$ of path 0")
        ax.set(xlabel="teacher rank r", ylabel="(paper units)", title="against the rank")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    ntatools.finish(fig, args, f, axes, "AB", top=0.93, sem=True)


if __name__ == "__main__":
    sys.exit(main())
