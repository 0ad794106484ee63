#!/usr/bin/env python3
"""Plot Fig. 6 and Figs. A.4-A.6 of Sandbrink et al. (NeurIPS 2024) from a
results file of sweeps/fig6_fc.ini (2-layer fully-connected network, W1 rows
sorted to teacher rows, App. B.4.1). Mean +- s.e.m. over seeds.

Row 1, Fig. A.4 (flexible model unless said otherwise):
  A  task loss, flexible (black) and forgetful (gray)
  B  sorted gates: the mean W2 column block of each sorted student
  C  cosine similarity of each teacher with its sorted student
  D  total (sorted) alignment over time, both cases
  E  update norms of W1 (black) and W2 (red)
Row 2, Fig. 6 / A.6: the sorted second layer [W2 blocks of student 1 | of
  student 2] at the last step of the last task-A block and of the last
  task-B block: one seed (Fig. 6), mean over seeds (A.6), flexible and
  forgetful.
Row 3, Fig. A.5: the unsorted second layer W2 at the same moments, one seed.

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


def w2_panel(ax, mat, title, vmax):
    im = ax.imshow(mat, cmap="Oranges", vmin=0, vmax=vmax)
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    return im


def main():
    args, f = ntatools.plot_start(__doc__, "fig6_fc", REQUIRED)
    flex = ntatools.case_runs(f, "flexible")
    forg = ntatools.case_runs(f, "forgetful")
    fig = plt.figure(figsize=(22, 17))
    gs = fig.add_gridspec(4, 20, height_ratios=[1.2, 1, 1, 1], hspace=0.45, wspace=2.5)
    ax_row1 = [fig.add_subplot(gs[0, 4 * i:4 * i + 4]) for i in range(5)]
    ax_a, ax_b, ax_c, ax_d, ax_e = ax_row1

    for runs, case, color in ((forg, "forgetful", "0.6"), (flex, "flexible", "black")):
        if runs:
            x = ntatools.x_in_blocks(f, runs, case)
            ntatools.band(ax_a, x, ntatools.read_runs(f, "loss", runs), color, "%s (n=%d)" % (case, len(runs)))
            ntatools.band(ax_d, x, ntatools.read_runs(f, "sorted_alignment", runs), color, case)
    ax_a.set(xlabel="time (blocks)", ylabel="task loss", title="A.4A loss")
    ax_d.set(xlabel="time (blocks)", ylabel="total alignment", title="A.4D total alignment", ylim=(0, 1.05))
    for ax in (ax_a, ax_d):
        ax.legend(fontsize=8)
    if flex:
        x = ntatools.x_in_blocks(f, flex, "flexible")
        g, cos, M = ntatools.sorted_by_teacher(f, flex)
        for ax in (ax_b, ax_c, ax_e):
            ntatools.shade_blocks(ax, f, flex[0])
        for m in range(M):
            ntatools.band(ax_b, x, g[:, :, m], COLORS[m], "sorted student %d" % (m + 1))
            ntatools.band(ax_c, x, cos[:, :, m], COLORS[m], "teacher %d" % (m + 1))
        un_w = ntatools.read_runs(f, "update_norm_w", flex)
        ntatools.band(ax_e, x, np.sqrt(np.nansum(un_w ** 2, axis=2)), "black", "W1")
        ntatools.band(ax_e, x, ntatools.read_runs(f, "update_norm_c", flex), "tab:red", "W2")
        ax_e.set_yscale("log")
        for ax in (ax_b, ax_c, ax_e):
            ax.legend(fontsize=8, loc="upper right")
    else:
        for ax in (ax_b, ax_c, ax_e):
            ntatools.note(ax, "no done runs for case 'flexible'")
    ax_b.set(xlabel="time (blocks)", ylabel="mean W2 block (gate)", title="A.4B sorted gates, flexible")
    ax_c.set(xlabel="time (blocks)", ylabel="cosine similarity", ylim=(-0.05, 1.1),
             title="A.4C alignment, flexible")
    ax_e.set(xlabel="time (blocks)", ylabel="update norm per step", title="A.4E updates, flexible")
    ntatools.letters(ax_row1, "ABCDE")

    # Rows 2-4: second-layer matrices at the ends of the last A and B blocks.
    mats = []  # (title, matrix), in the order Fig. 6, A.6, A.5
    for kind in ("Fig. 6", "A.6", "A.5"):
        for runs, case in ((flex, "flexible"), (forg, "forgetful")):
            if not runs or (kind == "Fig. 6" and case == "forgetful"):
                continue
            seed = int(f["seed"][runs[0]])
            ends = last_block_records(f, runs[0])
            for task in sorted(ends)[:2]:
                name = "AB"[task] if task < 2 else str(task)
                if kind == "Fig. 6":
                    mats.append(("Fig. 6: %s, task %s\nseed %d, sorted" % (case, name, seed),
                                 sorted_w2(f, runs[0], ends[task])))
                elif kind == "A.6":
                    mean = np.mean([sorted_w2(f, r, last_block_records(f, r)[task]) for r in runs], axis=0)
                    mats.append(("A.6: %s, task %s\nmean of %d seeds, sorted" % (case, name, len(runs)), mean))
                else:
                    mats.append(("A.5: %s, task %s\nseed %d, unsorted" % (case, name, seed),
                                 f["fc_w2"][runs[0], ends[task]]))
    vmax = max([0.5] + [float(np.nanmax(np.abs(m))) for _, m in mats])
    im = None
    axes = []
    for k, (title, mat) in enumerate(mats[:12]):
        ax = fig.add_subplot(gs[1 + k // 4, 5 * (k % 4):5 * (k % 4) + 5])
        im = w2_panel(ax, mat, title, vmax)
        axes.append(ax)
    if im is None:
        ntatools.note(fig.add_subplot(gs[1, :]), "no done runs")
    else:
        fig.colorbar(im, ax=axes, shrink=0.6, label="W2 entry")
    ntatools.finish(fig, args, f, top=None, sem=True)


if __name__ == "__main__":
    sys.exit(main())
