#!/usr/bin/env python3
"""Plot Fig. 6 and Figs. A.4-A.6 of Sandbrink et al. (NeurIPS 2024) from a
results file of sweeps/fig6_fc.ini (2-layer fully-connected network, W1 rows
sorted to teacher rows, App. B.4.1), in the authors' layout
(fig6_A5_A6_gating_FC.ipynb, figA4_FC_metrics.ipynb). Mean +- s.e.m. over
seeds; time t in time units, blocks shaded by task.

Left column, Fig. A.4 (flexible model), one panel under the other:
  A  loss
  B  sorted gates c^p: the mean W2 column block of each sorted student
  C  student-teacher alignment, all four pairs: teacher m with its own sorted
     student (solid) and with the other one (dashed), coloured by teacher
  D  total alignment
  E  update norms ||dW|| of W1 (gray) and W2 (red), linear
Fig. 6 (flexible, one seed): A  the sorted second layer [W2 block of student
  1 | of student 2] at the last step of the last task-A block (top) and the
  last task-B block (bottom); B  total alignment over time, mean over seeds.
Fig. A.5: the unsorted W2 at the same two moments, one seed, flexible (left)
  and forgetful (right). Fig. A.6: the sorted W2, mean over seeds, flexible
  (left) and forgetful (right). All matrices share the authors' colour scale
  (Oranges, 0 to 0.5, "parameter value"; larger entries saturate).

usage: plot_fig6_fc.py RESULTS.h5 [-o OUT.png]
"""
import sys

import ntatools

ntatools.ensure_interpreter(("h5py", "numpy", "matplotlib"))
plt = ntatools.pyplot()
import numpy as np  # noqa: E402

REQUIRED = ("loss", "gates", "cos_sim", "sorted_alignment", "update_norm_w", "update_norm_c", "fc_w2",
            "row_source", "block_len", "n_blocks", "teachers", "dt", "record_every")
COLORS = ntatools.TASK_COLORS


def last_block_records(f, run):
    """Record index of the last step of the last block of each task (the
    blocks' last records), as {task: record}."""
    rpb = ntatools.records_per_block(f, run)
    tasks = ntatools.block_tasks(f, run)
    if rpb is None:
        ntatools.die("run %d: no record at every block start (steps per block not a multiple of "
                     "record_every)" % run)
    return {int(t): (b + 1) * rpb - 1 for b, t in enumerate(tasks)}


def sorted_w2(f, run, rec):
    """[W2[:, sorted student 1 units] | W2[:, sorted student 2 units] | ...]."""
    w2 = f["fc_w2"][run, rec]
    M = int(f["teachers"][run])
    src = np.asarray(f["row_source"][run][:M], dtype=int)
    return np.concatenate([w2[:, src[m]] for m in range(M)], axis=1)


VMAX = 0.5   # the authors' colour scale (vmin 0, vmax 0.5) for every W2 panel


def w2_panel(ax, mat, title):
    im = ax.imshow(mat, cmap="Oranges", vmin=0, vmax=VMAX)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    return im


def time_axis(f, runs, case):
    """Record times (time units) of runs; x_in_blocks checks they agree."""
    ntatools.x_in_blocks(f, runs, case)
    return ntatools.record_times(f, runs)[0]


def a4_column(fig, gs, f, flex):
    """Fig. A.4 A-E, stacked, flexible model, x = time t."""
    axes = [fig.add_subplot(gs[4 * i:4 * i + 4, 0]) for i in range(5)]
    ax_a, ax_b, ax_c, ax_d, ax_e = axes
    if not flex:
        ntatools.note_all(axes, "no done runs for case 'flexible'")
        return axes
    x = time_axis(f, flex, "flexible")
    for ax in axes:
        ntatools.shade_blocks(ax, f, flex[0], x_in_time=True)
        ax.set_xlim(0, x[-1])
    ntatools.band(ax_a, x, ntatools.read_runs(f, "loss", flex), "black")
    g, _, M = ntatools.sorted_by_teacher(f, flex)
    cos = ntatools.read_runs(f, "cos_sim", flex)   # fc: path m is teacher m's sorted student
    for m in range(M):
        ntatools.band(ax_b, x, g[:, :, m], COLORS[m], "$c^{%d}$" % (m + 1))
        for q in range(M):
            ntatools.band(ax_c, x, cos[:, :, m, q], COLORS[m],
                          "teacher %d, student %d" % (m + 1, q + 1), ls="-" if m == q else "--")
    ntatools.band(ax_d, x, ntatools.read_runs(f, "sorted_alignment", flex), "black")
    un_w = ntatools.read_runs(f, "update_norm_w", flex)
    ntatools.band(ax_e, x, np.sqrt(np.nansum(un_w ** 2, axis=2)), "0.4", "$W_1$")
    ntatools.band(ax_e, x, ntatools.read_runs(f, "update_norm_c", flex), "tab:red", "$W_2$")
    ax_a.set(ylabel="loss $\\mathcal{L}$", ylim=(-0.02, None))
    ax_b.set(ylabel="gates $c^p$")
    ax_c.set(ylabel="student-teacher\nalignment", ylim=(-0.1, 1.1))
    ax_d.set(ylabel="total\nalignment", ylim=(-0.05, 1.05))
    ax_e.set(ylabel="$||\\Delta W||$ per step", xlabel="time $t$", ylim=(0, None))
    ax_b.legend(fontsize=7, loc="upper right")
    ax_c.legend(fontsize=6, loc="lower right", ncol=2)
    ax_e.legend(fontsize=7, loc="upper right")
    ax_a.set_title("Fig. A.4 (flexible)", fontsize=11)
    return axes


def task_ends(f, runs):
    """{task: record} of the last block of tasks A and B of runs[0]."""
    ends = last_block_records(f, runs[0])
    return [(t, ends[t]) for t in sorted(ends)[:2]]


def matrix_column(fig, cells, f, runs, case, kind, title):
    """Task A over task B of one kind in the two gridspec cells: 'fig6'
    (sorted, one seed), 'a5' (unsorted, one seed) or 'a6' (sorted, mean over
    seeds)."""
    axes = [fig.add_subplot(c) for c in cells]
    im = None
    if not runs:
        ntatools.note_all(axes, "no done runs for case '%s'" % case)
        return axes, None
    seed = int(f["seed"][runs[0]])
    for ax, (task, rec) in zip(axes, task_ends(f, runs)):
        name = "AB"[task] if task < 2 else str(task)
        if kind == "a6":
            mat = np.mean([sorted_w2(f, r, last_block_records(f, r)[task]) for r in runs], axis=0)
        elif kind == "fig6":
            mat = sorted_w2(f, runs[0], rec)
        else:
            mat = f["fc_w2"][runs[0], rec]
        im = w2_panel(ax, mat, "Task %s" % name)
    who = "mean of %d seeds" % len(runs) if kind == "a6" else "seed %d" % seed
    axes[0].set_title("%s\n%s, %s\n\nTask %s" % (title, case, who, axes[0].get_title()[-1]), fontsize=10)
    return axes, im
def main():
    args, f = ntatools.plot_start(__doc__, "fig6_fc", REQUIRED)
    flex = ntatools.case_runs(f, "flexible")
    forg = ntatools.case_runs(f, "forgetful")
    fig = plt.figure(figsize=(20, 12))
    # Column 0: A.4 (five panels of four rows each); 1: Fig. 6 (A: rows 0-15,
    # B: rows 16-19); 2, 3: flexible / forgetful, A.5 (rows 0-9) over A.6
    # (rows 10-19), each task A over task B; 4: the colour bar.
    gs = fig.add_gridspec(20, 5, width_ratios=[3.2, 2.3, 2.3, 2.3, 0.1], hspace=2.6, wspace=0.3)
    a4 = a4_column(fig, gs, f, flex)
    fig6_a, im = matrix_column(fig, (gs[0:8, 1], gs[8:16, 1]), f, flex, "flexible", "fig6",
                               "Fig. 6A: sorted $W_2$")
    ax_6b = fig.add_subplot(gs[16:20, 1])
    if flex:
        x = time_axis(f, flex, "flexible")
        ntatools.band(ax_6b, x, ntatools.read_runs(f, "sorted_alignment", flex), "black")
        ax_6b.set_xlim(0, x[-1])
    else:
        ntatools.note(ax_6b, "no done runs for case 'flexible'")
    ax_6b.set(xlabel="time $t$", ylabel="total\nalignment", ylim=(0, 1.05), title="Fig. 6B (flexible)")
    for ax in (ax_6b, *a4):
        ax.spines["right"].set_visible(False)
        ax.spines["top"].set_visible(False)
    ims = [im]
    for row, kind, title in ((0, "a5", "A.5: unsorted $W_2$"), (10, "a6", "A.6: sorted $W_2$")):
        for col, (runs, case) in ((2, (flex, "flexible")), (3, (forg, "forgetful"))):
            cells = (gs[row:row + 5, col], gs[row + 5:row + 10, col])
            _, im_k = matrix_column(fig, cells, f, runs, case, kind, title)
            ims.append(im_k)
    im = next((i for i in ims if i is not None), None)
    if im is not None:
        cb = fig.colorbar(im, cax=fig.add_subplot(gs[4:16, 4]), ticks=[0, VMAX])
        cb.set_label("parameter value")
    ntatools.letters(a4 + [fig6_a[0], ax_6b], "ABCDE" + "AB")
    ntatools.finish(fig, args, f, top=None, sem=True)


if __name__ == "__main__":
    sys.exit(main())
