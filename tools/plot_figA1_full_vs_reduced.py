#!/usr/bin/env python3
"""Plot Fig. A.1 of Sandbrink et al. (NeurIPS 2024) from a results file of
sweeps/figA1_full_vs_reduced.ini: the full NTA (left column) and its reduced
2-D equivalent (right column) over the same curriculum (one seed each).

  A1, B1  task loss; the reduced loss is multiplied by the full teachers'
          squared norm ||W*||_F^2 (0.5 here), which the reduced teachers
          (unit vectors) lack, so the two are on one scale
  A2, B2  gates c^1, c^2
  A3      full model: singular-value magnitude sqrt(d_in) s^p of each path
          p along its matched teacher's modes, s^p = mean over the modes a
          of u*_a^T W_p v*_a (dataset sv_projection, format 4; 1 = the
          teacher's own singular value 1/sqrt(d_in)). Older files lack it:
          the student-teacher cosines are shown instead, with a note
  B3      reduced model: the same quantity, the component w^p_m of each
          student along its matched teacher (its singular value there)
Shading: active task.

usage: plot_figA1_full_vs_reduced.py RESULTS.h5 [-o OUT.png]
"""
import sys

import ntatools

ntatools.ensure_interpreter(("h5py", "numpy", "matplotlib"))
plt = ntatools.pyplot()
import numpy as np  # noqa: E402

REQUIRED = ("loss", "gates", "cos_sim", "teacher_weights", "block_len", "n_blocks", "teachers", "model")
PAIR_STYLE = {(0, 0): ("tab:blue", "-"), (1, 0): ("tab:blue", ":"), (0, 1): ("tab:orange", ":"),
              (1, 1): ("tab:orange", "-")}


def matched_teacher(a):
    """For each path p, the teacher m with the largest final a[time, m, p]
    (a: cos_sim, or reduced_w with its last two axes swapped)."""
    a = np.asarray(a, dtype=float)
    finite = np.nonzero(np.isfinite(a).all(axis=(1, 2)))[0]
    last = a[finite[-1]] if finite.size else np.zeros(a.shape[1:])
    return [int(np.argmax(last[:, p])) for p in range(last.shape[1])]


def main():
    args, f = ntatools.plot_start(__doc__, "figA1_full_vs_reduced", REQUIRED)
    models = ntatools.param(f, "model", ntatools.done_runs(f))
    done = ntatools.done_runs(f)
    full = [r for r, m in zip(done, models) if m == "nta"]
    red = [r for r, m in zip(done, models) if m == "reduced"]
    fig, axes = plt.subplots(3, 2, figsize=(14, 10), sharex=True)
    scale = 1.0
    if full:
        T = f["teacher_weights"][full[0]]
        M = int(f["teachers"][full[0]])
        scale = float(np.mean([np.sum(T[m] ** 2) for m in range(M)]))
    for col, (runs, name) in enumerate(((full, "full model"), (red, "reduced (equivalent) model"))):
        ax_l, ax_g, ax_w = axes[:, col]
        if not runs:
            for ax in axes[:, col]:
                ntatools.note(ax, "no done %s run" % name)
            continue
        r = runs[0]
        x = ntatools.record_times(f, [r])[0]
        for ax in axes[:, col]:
            ntatools.shade_blocks(ax, f, r, alpha=0.12, x_in_time=True)
        loss = f["loss"][r] * (scale if col == 1 else 1.0)
        ax_l.plot(x, loss, color="k", lw=1)
        ax_l.set(ylabel="task loss" + (" x %.3g" % scale if col == 1 else ""),
                 title="%s (tau_c = %g)" % (name, f["tau_c"][r]))
        for p in range(int(f["paths"][r])):
            ax_g.plot(x, f["gates"][r][:, p], color=ntatools.PATH_COLORS[p], label="$c^%d$" % (p + 1))
        ax_g.set(ylabel="gates")
        ax_g.legend(fontsize=8, loc="upper right")
        if col == 0 and "sv_projection" in f:
            sv = np.asarray(f["sv_projection"][r], dtype=float)  # [time, path, teacher, mode]
            per = np.nanmean(sv, axis=3)                           # [time, path, teacher]
            mine = matched_teacher(f["cos_sim"][r])
            for p, m in enumerate(mine):
                ax_w.plot(x, np.sqrt(float(f["d_in"][r])) * per[:, p, m], color="k", lw=1.5,
                          label="path %d on teacher %d" % (p + 1, m + 1))
            ax_w.set_ylabel("SV magnitudes\n$\\sqrt{d_{in}}\\, s^p_\\alpha$")
        elif col == 0:
            for (m, p), (color, ls) in PAIR_STYLE.items():
                ax_w.plot(x, f["cos_sim"][r][:, m, p], color=color, ls=ls,
                          label="cos(teacher %d, student %d)" % (m + 1, p + 1))
            ax_w.set_ylabel("student-teacher cosine")
            ntatools.note(ax_w, "singular-value projections not recorded\n(sv_projection needs format_version 4):"
                                "\ncosines shown instead")
        else:
            w = np.asarray(f["reduced_w"][r], dtype=float)  # [time, path, teacher]
            for p, m in enumerate(matched_teacher(np.swapaxes(w, 1, 2))):
                ax_w.plot(x, w[:, p, m], color="k", lw=1.5, label="$w^%d_%d$" % (p + 1, m + 1))
            ax_w.set_ylabel("SV magnitudes $w^p_m$")
        ax_w.set(xlabel="time $t$")
        ax_w.legend(fontsize=7, loc="lower right", ncol=2)
    ntatools.letters(axes[:, 0], ["A1", "A2", "A3"])
    ntatools.finish(fig, args, f, axes[:, 1], ["B1", "B2", "B3"], top=0.96)


if __name__ == "__main__":
    sys.exit(main())
