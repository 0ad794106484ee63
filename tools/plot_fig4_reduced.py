#!/usr/bin/env python3
"""Plot Fig. 4B-E of Sandbrink et al. (NeurIPS 2024) from a results file of
sweeps/fig4_reduced.ini (the reduced 2-D model, one seed per case).

  B  flexible: the students w^1, w^2 in the teacher plane during the switch
     block (gray trace: darker = gate more active); inset: the block's loss
  C  forgetful: the same for its last block
  D  the gate gradient w^T eps of a student at w for the error eps = (-1, 1)
     of a switch from teacher 1 to 2 (analytic, as the paper's panel D)
  E  the switch from full specialization in the specialization subspace
     (cbar, wbar) for each tau_c (colour), with Eq. (10) dashed

usage: plot_fig4_reduced.py RESULTS.h5 [-o OUT.png]
"""
import sys

import ntatools

ntatools.ensure_interpreter(("h5py", "numpy", "matplotlib"))
plt = ntatools.pyplot()
import matplotlib.colors  # noqa: E402
import numpy as np  # noqa: E402

REQUIRED = ("loss", "gates", "reduced_w", "wbar", "cbar", "tau_c", "tau_w", "block_len", "n_blocks",
            "dt", "record_every")


def switch_panel(ax, f, case, title):
    runs = ntatools.case_runs(f, case)
    if not runs:
        ntatools.note(ax, "no done run for case %r" % case)
        ax.set_title(title)
        return
    r = runs[0]
    w = ntatools.by_block(f, "reduced_w", [r])[0, -1]      # last block: [record, p, m]
    g = ntatools.by_block(f, "gates", [r])[0, -1]
    ntatools.plane_trajectories(ax, w, g)
    ax.set_xlim(-0.4, 1.4)
    ax.set_ylim(-0.4, 1.4)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title("%s (tau_c = %g, tau_w = %g), last block" % (title, f["tau_c"][r], f["tau_w"][r]),
                 fontsize=10)
    inset = ax.inset_axes([0.68, 0.68, 0.3, 0.3])
    loss = ntatools.by_block(f, "loss", [r])[0, -1]
    inset.plot(np.arange(loss.size) / loss.size, loss, color="k", lw=1)
    inset.set_xlabel("t in block", fontsize=7)
    inset.set_ylabel("loss", fontsize=7)
    inset.tick_params(labelsize=6)


def main():
    args, f = ntatools.plot_start(__doc__, "fig4_reduced", REQUIRED)
    fig, axes = plt.subplots(1, 4, figsize=(20, 5))
    ax_b, ax_c, ax_d, ax_e = axes
    switch_panel(ax_b, f, "flexible", "flexible")
    switch_panel(ax_c, f, "forgetful", "forgetful")

    # D: dL/dc^p = -w^pT eps for eps = (-1, 1) (Eq. 2 without the regulariser).
    w1, w2 = np.meshgrid(np.linspace(-0.5, 1.5, 101), np.linspace(-0.5, 1.5, 101))
    grad = -w1 + w2
    im = ax_d.pcolormesh(w1, w2, grad, cmap="PiYG", vmin=-1.5, vmax=1.5, shading="auto")
    ax_d.contour(w1, w2, grad, levels=15, colors="k", linewidths=0.4)
    fig.colorbar(im, ax=ax_d, label="$w^{pT}\\varepsilon$ (gate drive)")
    ax_d.set(xlabel="$w^p_1$", ylabel="$w^p_2$", title="gate drive after switch 1 -> 2 (analytic)")
    ax_d.set_aspect("equal")

    # E: specialization subspace during the switch block.
    cases = [c for c in ntatools.decode(f["case"][()]) if c.startswith("switch")]
    runs = [r for c in cases for r in ntatools.case_runs(f, c)]
    if not runs:
        ntatools.note(ax_e, "no done switch_* runs")
    else:
        tc = np.array([f["tau_c"][r] for r in runs])
        norm = matplotlib.colors.LogNorm(vmin=tc.min(), vmax=max(tc.max(), tc.min() * 1.01))
        cmap = plt.get_cmap("viridis")
        cbar_grid = np.linspace(-1, 1, 201)
        for r, t in zip(runs, tc):
            cb = ntatools.by_block(f, "cbar", [r])[0, -1]
            wb = ntatools.by_block(f, "wbar", [r])[0, -1]
            ax_e.plot(cb, wb, color=cmap(norm(t)), lw=2.5, label="tau_c = %g" % t)
            ratio = t / float(f["tau_w"][r])
            ax_e.plot(cbar_grid, np.sqrt(np.clip(1 - 0.5 * ratio * (1 - cbar_grid ** 2), 0, None)),
                      "k--", lw=0.8)
        ax_e.plot([], [], "k--", lw=0.8, label="Eq. (10)")
        ax_e.legend(fontsize=8, loc="lower center")
        ax_e.set_title("switch from full specialization (tau_w = %g)" % f["tau_w"][runs[0]], fontsize=10)
    ax_e.set(xlabel="gate separation $\\bar c = c^1 - c^2$", ylabel="specialization $\\bar w$",
             xlim=(-1.05, 1.05))
    ntatools.finish(fig, args, f, axes, "BCDE", top=0.95)


if __name__ == "__main__":
    sys.exit(main())
