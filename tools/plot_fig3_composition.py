#!/usr/bin/env python3
"""Plot Fig. 3C, D of Sandbrink et al. (NeurIPS 2024) from a results file of
sweeps/fig3_composition.ini, as the paper: the task loss right at the start
of the generalisation phase ("new tasks": the first block of a composite
task), flexible (black) and forgetful (gray), mean +- s.e.m. over seeds.

  C  task composition (new tasks sum base teachers; per-path gates)
  D  subtask composition (new tasks concatenate rows of base teachers;
     per-neuron gates)

a12_figure() draws the whole run in the layout of Fig. A.12 C-H (loss,
sorted gates, alignment; see its docstring) for the A.12 sweep's script.

usage: plot_fig3_composition.py RESULTS.h5 [-o OUT.png]
"""
import sys

import ntatools

ntatools.ensure_interpreter(("h5py", "numpy", "matplotlib"))
plt = ntatools.pyplot()
import numpy as np  # noqa: E402

REQUIRED = ("loss", "gates", "cos_sim", "block_len", "n_blocks", "teachers", "paths", "block_task")
ROWS = (("task", "task composition"), ("subtask", "subtask composition"))
COLORS = ntatools.TASK_COLORS


def first_composite_block(f, run):
    bt = ntatools.block_tasks(f, run)
    late = np.nonzero(bt >= int(f["teachers"][run]))[0]
    return int(late[0]) if late.size else None


ZOOM = (-0.15, 0.95)  # time around the first composite block's start, as the paper's panels


def main():
    """Fig. 3C, D: the loss around the first composite block."""
    args, f = ntatools.plot_start(__doc__, "fig3_composition", REQUIRED)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
    top = 0.0
    for ax, (prefix, title) in zip(axes, ROWS):
        flex = ntatools.case_runs(f, prefix + "_flexible")
        forg = ntatools.case_runs(f, prefix + "_forgetful")
        start = first_composite_block(f, (flex or forg)[0]) if flex or forg else None
        if start is None:
            ntatools.note(ax, "no done runs with composite blocks\n(%s_flexible / %s_forgetful)" % (prefix, prefix))
            continue
        t0 = start * float(f["block_len"][(flex or forg)[0]])
        for runs, case, color in ((flex, "flexible", "black"), (forg, "forgetful", "0.5")):
            if not runs:
                continue
            t = ntatools.record_times(f, runs)[0] - t0
            keep = (t >= ZOOM[0]) & (t <= ZOOM[1])
            loss = ntatools.read_runs(f, "loss", runs)[:, keep]
            mean = ntatools.band(ax, t[keep], loss, color, "%s (n=%d)" % (case, len(runs)), lw=1.6)
            top = max(top, float(np.nanmax(mean)) if np.isfinite(mean).any() else 0.0)
        ax.set_xticks([0], ["new tasks"])
        ax.set_xlim(*ZOOM)
        ax.set(ylabel="loss $\\mathcal{L}$", title=title, )
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_ylim(-0.01, 1.3 * top if top > 0 else 1)
    axes[0].legend(fontsize=8, loc="upper right")
    ntatools.finish(fig, args, f, axes, "CD", top=0.88, sem=True)


def a12_figure(doc, sweep_name):
    """Fig. A.12 C-H: generalisation to task composition (top row, per-path
    gates) and subtask composition (bottom row, per-neuron gates) over the
    whole run, mean +- s.e.m. over seeds.

      C, D  task loss, flexible (black) and forgetful (gray); the dashed line
            marks the first block of a composite task ("new tasks")
      E, F  gates of the flexible model, sorted by teacher (per-neuron gates:
            the mean gate of each sorted student, App. A.8)
      G, H  cosine similarity of each base teacher with its (sorted) student
    Shading: the task of each block (base tasks A, B, C, then composites)."""
    args, f = ntatools.plot_start(doc, sweep_name, REQUIRED)
    fig, axes = plt.subplots(2, 3, figsize=(16, 8))
    for row, (prefix, title) in enumerate(ROWS):
        ax_loss, ax_gate, ax_cos = axes[row]
        flex = ntatools.case_runs(f, prefix + "_flexible")
        forg = ntatools.case_runs(f, prefix + "_forgetful")
        for runs, case, color in ((forg, "forgetful", "0.6"), (flex, "flexible", "black")):
            if runs:
                ntatools.band(ax_loss, ntatools.x_in_blocks(f, runs, case),
                              ntatools.read_runs(f, "loss", runs), color, "%s (n=%d)" % (case, len(runs)))
        start = first_composite_block(f, (flex or forg)[0]) if flex or forg else None
        if start is not None:
            # Inset: the first composite blocks, where the two regimes differ.
            inset = ax_loss.inset_axes([0.42, 0.4, 0.56, 0.45])
            for runs, case, color in ((forg, "forgetful", "0.6"), (flex, "flexible", "black")):
                if runs:
                    ntatools.band(inset, ntatools.x_in_blocks(f, runs, case),
                                  ntatools.read_runs(f, "loss", runs), color)
            inset.set_xlim(start - 0.05, start + 3)
            inset.set_ylim(0, None)
            inset.set_title("new tasks, zoomed", fontsize=8)
            inset.tick_params(labelsize=7)
            for ax in (ax_loss, ax_gate, ax_cos):
                ax.axvline(start, color="k", ls="--", lw=1)
        ax_loss.set(xlabel="time (blocks)", ylabel="task loss", title="Loss, " + title)
        if flex or forg:
            ax_loss.legend(fontsize=8, loc="upper left")
        else:
            ntatools.note(ax_loss, "no done runs for %s_flexible / %s_forgetful" % (prefix, prefix))
        if not flex:
            for ax in (ax_gate, ax_cos):
                ntatools.note(ax, "no done runs for case %s_flexible" % prefix)
            continue
        x = ntatools.x_in_blocks(f, flex, "flexible")
        g, cos, M = ntatools.sorted_by_teacher(f, flex)
        for ax in (ax_gate, ax_cos):
            ntatools.shade_blocks(ax, f, flex[0])
        for m in range(M):
            name = "ABCDEFGH"[m] if m < 8 else str(m)
            ntatools.band(ax_gate, x, g[:, :, m], COLORS[m % len(COLORS)], "student of " + name)
            ntatools.band(ax_cos, x, cos[:, :, m], COLORS[m % len(COLORS)], "teacher %s vs its student" % name)
        for q in range(M, g.shape[2]):
            if np.isfinite(g[:, :, q]).any():
                ntatools.band(ax_gate, x, g[:, :, q], "0.4", "unmatched" if q == M else None, ls=":")
        ax_gate.set(xlabel="time (blocks)", ylabel="gate (sorted)", title="Gates, flexible, " + prefix)
        ax_cos.set(xlabel="time (blocks)", ylabel="cosine similarity", ylim=(-0.05, 1.25),
                   title="Student-teacher alignment, flexible, " + prefix)
        ax_gate.legend(fontsize=8, loc="upper left", ncol=3)
        ax_cos.legend(fontsize=8, loc="lower right")
    ntatools.finish(fig, args, f, axes.ravel(), ["C", "E", "G", "D", "F", "H"], top=0.97, sem=True)


if __name__ == "__main__":
    sys.exit(main())
