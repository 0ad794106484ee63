#!/usr/bin/env python3
"""Plot Fig. A.3 of Sandbrink et al. (NeurIPS 2024) from a results file of
sweeps/figA3_redundant.ini: gates of P = 4 paths on M = 2 teachers.

  A  with the weight cost lambda_W (case weight_cost): the paths matched to
     the teachers switch, the two redundant ones decay to 0
  B  without it (case no_weight_cost): several gates serve one teacher
  C  final norm ||W_p||_F of every path, both cases (matched paths first)
Gates are ordered as in Fig. 2: the paths matched to teachers 1 and 2
(colours), then the unmatched paths (gray); mean +- s.e.m. when the case has
several seeds. Shading: active task.

usage: plot_figA3_redundant.py RESULTS.h5 [-o OUT.png]
"""
import sys

import ntatools

ntatools.ensure_interpreter(("h5py", "numpy", "matplotlib"))
plt = ntatools.pyplot()
import numpy as np  # noqa: E402

REQUIRED = ("gates", "cos_sim", "student_weights", "block_len", "n_blocks", "teachers", "paths")
CASES = (("weight_cost", "with weight cost $\\lambda_W$"), ("no_weight_cost", "without weight cost"))


def main():
    args, f = ntatools.plot_start(__doc__, "figA3_redundant", REQUIRED)
    fig, axes = plt.subplots(1, 3, figsize=(18, 4.8), gridspec_kw=dict(width_ratios=[2, 2, 1]))
    norms = {}
    for ax, (case, title) in zip(axes[:2], CASES):
        runs = ntatools.case_runs(f, case)
        if not runs:
            ntatools.note(ax, "no done runs for case %r" % case)
            continue
        x = ntatools.x_in_blocks(f, runs, case)
        g, _, M = ntatools.sorted_by_teacher(f, runs)
        ntatools.shade_blocks(ax, f, runs[0])
        # Files written before weight_cost existed have the squared form only.
        form = ", %s" % ntatools.param(f, "weight_cost", runs[:1])[0] \
            if "weight_cost" in f and f["lambda_w"][runs[0]] > 0 else ""
        for q in range(g.shape[2]):
            color = ntatools.TASK_COLORS[q] if q < M else "0.45"
            label = "path matched to teacher %d" % (q + 1) if q < M else "redundant path %d" % (q - M + 1)
            ntatools.band(ax, x, g[:, :, q], color, label, ls="-" if q < M else (":" if q == M else "--"))
        ax.set(xlabel="time (blocks)", ylabel="gate $c^p$", ylim=(-0.1, 1.3),
               title="%s (lambda_W = %g%s, n=%d)" % (title, f["lambda_w"][runs[0]], form, len(runs)))
        ax.legend(fontsize=8, loc="upper center", ncol=2)
        # Final ||W_p|| in the same order as the gates: matched paths, then the others.
        cos = f["cos_sim"][runs[0]]
        ok = np.nonzero(np.isfinite(cos).all(axis=(1, 2)))[0]
        order = [p for p in ntatools.match_paths(cos[ok[-1]]) if p >= 0] if ok.size else []
        norms[case] = np.mean([[np.linalg.norm(f["student_weights"][r][p]) for p in order] for r in runs], axis=0)
    ax = axes[2]
    width = 0.38
    for k, (case, title) in enumerate(CASES):
        if case in norms:
            n = norms[case]
            ax.bar(np.arange(n.size) + (k - 0.5) * width, n, width, label=title,
                   color="black" if k == 0 else "0.6")
    ax.set_xticks(range(4), ["matched 1", "matched 2", "redundant 1", "redundant 2"], fontsize=8)
    ax.set(ylabel="final $||W_p||_F$", title="final student norms")
    ax.legend(fontsize=8)
    ntatools.finish(fig, args, f, axes, "ABC", top=0.92)


if __name__ == "__main__":
    sys.exit(main())
