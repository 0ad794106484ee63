#!/usr/bin/env python3
"""Plot Fig. A.9 of Sandbrink et al. (NeurIPS 2024) from a results file of
sweeps/figA9_block_length.ini: in the reduced 2-D model, longer blocks
specialize the students faster at the same total time (App. A.6).

  A  the students w^1, w^2 in the teacher plane over the whole run, for the
     block lengths tau_B (faint) and 2 tau_B (opaque), one seed (simulated)
  B  the proxy loss potentials of App. A.6 at four times of the tau_B run
     (t = 0.5, 1.5, 3.5, 5.5 blocks; background: the active task), over a
     student's position u = (w_1 - w_2)/2 along the specialization axis:
     first order L1(u) = -s g u (dotted; s = +-1 flips at every switch, so a
     period undoes it), second order L2(u) = -(2/3) tau_w sqrt(2a) |u|^(3/2)
     (dashed; the potential of u(t) = a t^2 / 2 under gradient flow
     tau_w du/dt = -dL/du), their sum solid; dots: the simulated students
  C  the effective block-averaged loss of the specialization wbar: the first
     order cancels over a period (dotted, flat), the second order (Eq. 21:
     a period 2 tau_B adds a |wbar| tau_B^2 to wbar, i.e. d wbar/dt =
     a tau_B |wbar| / 2) gives -tau_w a tau_B wbar^2 / 4 (dashed, colour =
     tau_B): a double well with walls at |wbar| = 1 (students cannot exceed
     the teachers) that deepens with the block length
  D  (not in the paper) the simulated specialization |wbar| against time
     for each block length, mean +- s.e.m. over seeds
B and C are drawn from the paper's equations with a = C of App. A.6 at the
sweep's start: a = (1/tau_c)(1/tau_w) * 2 * wbar_0 * ||eps_0||^2 with
eps_0 = (-1/2, 1/2) and wbar_0 the simulated initial specialization; g =
c ||eps_0|| with c = 1/2.

usage: plot_figA9_block_length.py RESULTS.h5 [-o OUT.png]
"""
import sys

import ntatools

ntatools.ensure_interpreter(("h5py", "numpy", "matplotlib"))
plt = ntatools.pyplot()
import matplotlib.colors  # noqa: E402
import numpy as np  # noqa: E402

REQUIRED = ("reduced_w", "wbar", "block_len", "seed", "tau_w", "tau_c")
B_TIMES = (0.5, 1.5, 3.5, 5.5)  # in blocks, as the paper's subpanels 1-4
EPS0 = np.array([-0.5, 0.5])


def curvature(f, run):
    """a of App. A.6 (second-order growth of wbar) from the run's start."""
    tau_w, tau_c = float(f["tau_w"][run]), float(f["tau_c"][run])
    w0 = abs(float(np.asarray(f["wbar"][run])[0]))
    return (1 / tau_c) * (1 / tau_w) * 2 * w0 * float(EPS0 @ EPS0), tau_w


def potentials(ax, f, run, t_blocks):
    """Panel B subpanel: the proxy potentials at t_blocks and the students."""
    a, tau_w = curvature(f, run)
    L = float(f["block_len"][run])
    tasks = ntatools.block_tasks(f, run)
    b = min(int(t_blocks), len(tasks) - 1)
    s = 1.0 if tasks[b] % 2 == 0 else -1.0
    ax.set_facecolor(matplotlib.colors.to_rgba(ntatools.TASK_COLORS[tasks[b] % 2], 0.15))
    u = np.linspace(-1, 1, 401)
    g = 0.5 * np.sqrt(EPS0 @ EPS0)
    l1 = -s * g * u
    l2 = -(2.0 / 3.0) * tau_w * np.sqrt(2 * a) * np.abs(u) ** 1.5
    ax.plot(u, l1, ":", color="0.35")
    ax.plot(u, l2, "--", color="0.45")
    ax.plot(u, l1 + l2, color="black", lw=1.3)
    times = ntatools.record_times(f, [run])[0]
    k = int(np.argmin(np.abs(times - t_blocks * L)))
    w = np.asarray(f["reduced_w"][run][k])  # [path, task]
    for p in range(2):
        up = 0.5 * (w[p, 0] - w[p, 1])
        ax.plot(up, -s * g * up - (2 / 3) * tau_w * np.sqrt(2 * a) * abs(up) ** 1.5, "o",
                color=ntatools.PATH_COLORS[p], ms=6, zorder=3)
    ax.set_title("t = %.2f, m = %s" % (t_blocks * L, "AB"[tasks[b] % 2]), fontsize=9)
    ax.set_xlabel("$u = (w^p_1 - w^p_2)/2$", fontsize=8)
    ax.tick_params(labelsize=7)


def effective(ax, f, run, lengths):
    """Panel C: the block-averaged effective loss of wbar for a range of tau_B."""
    a, tau_w = curvature(f, run)
    wb = np.linspace(-1, 1, 401)
    norm = matplotlib.colors.LogNorm(1e-2, 1e1)
    cmap = plt.get_cmap("viridis")
    ax.plot(wb, np.zeros_like(wb), ":", color="black", label="first order (cancels)")
    for tb in sorted(set(np.logspace(-2, 1, 7)) | set(float(x) for x in lengths)):
        ax.plot(wb, -tau_w * a * tb * wb ** 2 / 4, "--", color=cmap(norm(tb)),
                lw=2.0 if tb in lengths else 1.0)
    ax.axvline(-1, color="black", lw=2)
    ax.axvline(1, color="black", lw=2)
    ax.axvline(0, color="black", lw=0.6)
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    plt.colorbar(sm, ax=ax, label="block duration $\\tau_B$ (thick: simulated)")
    ax.plot([], [], "--", color="0.4", label="second order $\\tilde{\\mathcal{L}}^{(2)}$")
    ax.set(xlabel="$\\bar w$", ylabel="eff. loss $\\tilde{\\mathcal{L}}^{(n)}$",
           title="effective block-averaged 1D loss")
    ax.legend(fontsize=7, loc="lower center")


def main():
    args, f = ntatools.plot_start(__doc__, "figA9_block_length", REQUIRED)
    runs = ntatools.done_runs(f)
    fig = plt.figure(figsize=(18, 6.2))
    grid = fig.add_gridspec(2, 5, width_ratios=(1.5, 0.75, 0.75, 1.6, 1.4), wspace=0.7, hspace=0.55)
    ax_a = fig.add_subplot(grid[:, 0])
    ax_b = [fig.add_subplot(grid[i // 2, 1 + i % 2]) for i in range(4)]
    ax_c = fig.add_subplot(grid[:, 3])
    ax_d = fig.add_subplot(grid[:, 4])
    if not runs:
        ntatools.note_all([ax_a, ax_c, ax_d] + ax_b, "no done runs")
        ntatools.finish(fig, args, f, [ax_a, ax_b[0], ax_c, ax_d], "ABCD", top=None)
        return 0
    bl = np.array([f["block_len"][r] for r in runs])
    lengths = np.unique(bl)
    seed0 = min(int(f["seed"][r]) for r in runs)
    pair = [lengths[len(lengths) // 2], lengths[-1]] if len(lengths) > 1 else list(lengths)
    for k, length in enumerate(pair):
        r = next(r for r in runs if f["block_len"][r] == length and f["seed"][r] == seed0)
        ntatools.plane_trajectories(ax_a, f["reduced_w"][r], alpha=0.35 if k == 0 and len(pair) > 1 else 1.0,
                                    label=k == len(pair) - 1)
    ax_a.set_title("seed %d: $\\tau_B$ = %s (faint), %s (opaque)" % (seed0, *[("%g" % p) for p in pair])
                   if len(pair) > 1 else "seed %d, $\\tau_B$ = %g" % (seed0, pair[0]), fontsize=10)
    ax_a.legend(fontsize=8, loc="upper right")

    short = next(r for r in runs if f["block_len"][r] == pair[0] and f["seed"][r] == seed0)
    nb = int(f["n_blocks"][short])
    for ax, tb in zip(ax_b, B_TIMES):
        if tb < nb:
            potentials(ax, f, short, tb)
        else:
            ntatools.note(ax, "run has %d blocks" % nb)
    ax_b[0].set_ylabel("loss $\\mathcal{L}$", fontsize=8)
    ax_b[2].set_ylabel("loss $\\mathcal{L}$", fontsize=8)
    ax_b[0].plot([], [], ":", color="0.35", label="first order $\\mathcal{L}^{(1)}$")
    ax_b[0].plot([], [], "--", color="0.45", label="second order $\\mathcal{L}^{(2)}$")
    ax_b[0].legend(fontsize=6, loc="lower left")

    effective(ax_c, f, short, lengths)

    cmap = plt.get_cmap("viridis")
    for k, length in enumerate(lengths):
        these = [r for r in runs if f["block_len"][r] == length]
        t = ntatools.record_times(f, these)[0]
        ntatools.band(ax_d, t, np.abs(ntatools.read_runs(f, "wbar", these)),
                      cmap(k / max(1, len(lengths) - 1)), "$\\tau_B$ = %g (n=%d)" % (length, len(these)))
    ax_d.set(xlabel="time", ylabel="specialization $|\\bar w|$", ylim=(0, 1.05),
             title="(not in the paper) simulated $|\\bar w|$")
    ax_d.legend(fontsize=8)
    ntatools.finish(fig, args, f, [ax_a, ax_b[0], ax_c, ax_d], "ABCD", top=None, sem=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
