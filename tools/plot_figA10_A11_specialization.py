#!/usr/bin/env python3
"""Plot Figs. A.10 and A.11 of Sandbrink et al. (NeurIPS 2024) from a
results file of sweeps/figA10_A11_specialization.ini: one switch of the
reduced 2-D model from full specialization, coloured by tau_c.

  A.10A  -eps_1 against eps_2 (the assumption eps_1 = -eps_2 is the diagonal)
  A.10B  wbar_1 against wbar_2 (the assumption wbar_1 = wbar_2)
  A.11A  first error component -eps_1 = (y - y*)_1 over the switch block
  A.11B  second error component eps_2 = (y* - y)_2
  A.11C  specialization wbar (Eq. 3)
  A.11D  orthogonal component -wbarbar (Eq. 24; negated so that learning of
         the new teacher by both students counts up, as the authors plot it)
  A.11E  gate separation cbar = c^1 - c^2
eps = y* - y, so after a switch to teacher 2 eps_1 < 0 < eps_2; both are
shown with the sign that starts at +1.

usage: plot_figA10_A11_specialization.py RESULTS.h5 [-o OUT.png]
"""
import sys

import ntatools

ntatools.ensure_interpreter(("h5py", "numpy", "matplotlib"))
plt = ntatools.pyplot()
import matplotlib.colors  # noqa: E402
import numpy as np  # noqa: E402

REQUIRED = ("reduced_eps", "wbar_task", "wbar", "wbarbar", "cbar", "tau_c", "block_len", "n_blocks",
            "dt", "record_every")


def main():
    args, f = ntatools.plot_start(__doc__, "figA10_A11_specialization", REQUIRED)
    runs = sorted(ntatools.done_runs(f), key=lambda r: f["tau_c"][r])
    fig = plt.figure(figsize=(20, 9))
    gs = fig.add_gridspec(2, 10, hspace=0.35, wspace=1.2)
    a10 = [fig.add_subplot(gs[0, 0:3]), fig.add_subplot(gs[0, 3:6])]
    a11 = [fig.add_subplot(gs[1, 2 * i:2 * i + 2]) for i in range(5)]
    if not runs:
        ntatools.note_all(a10 + a11, "no done runs")
    else:
        tc = np.array([f["tau_c"][r] for r in runs])
        norm = matplotlib.colors.LogNorm(vmin=tc.min(), vmax=max(tc.max(), tc.min() * 1.01))
        cmap = plt.get_cmap("viridis")
        for r, t in zip(runs, tc):
            color = cmap(norm(t))
            eps = ntatools.by_block(f, "reduced_eps", [r])[0, -1]      # switch block [record, m]
            wt = ntatools.by_block(f, "wbar_task", [r])[0, -1]
            n = eps.shape[0]
            time = np.arange(n) * float(f["dt"][r]) * int(f["record_every"][r])
            lab = "tau_c = %.3g" % t
            a10[0].plot(-eps[:, 0], eps[:, 1], color=color, lw=2, label=lab)
            a10[1].plot(wt[:, 0], wt[:, 1], color=color, lw=2, label=lab)
            a11[0].plot(time, -eps[:, 0], color=color, label=lab)
            a11[1].plot(time, eps[:, 1], color=color)
            for ax, name, sign in zip(a11[2:], ("wbar", "wbarbar", "cbar"), (1, -1, 1)):
                ax.plot(time, sign * ntatools.by_block(f, name, [r])[0, -1], color=color)
        for ax, lo in zip(a10, (0, None)):
            lims = np.array([ax.get_xlim(), ax.get_ylim()])
            lo_, hi_ = lims.min() if lo is None else lo, lims.max()
            ax.plot([lo_, hi_], [lo_, hi_], "k--", lw=1, label="assumption")
            ax.set_aspect("equal", adjustable="datalim")
            ax.legend(fontsize=7)
        a10[0].set(xlabel="$-\\varepsilon_1$", ylabel="$\\varepsilon_2$",
                   title="A.10A: $\\varepsilon_1 = -\\varepsilon_2$?")
        a10[1].set(xlabel="$\\bar w_1$", ylabel="$\\bar w_2$", title="A.10B: $\\bar w_1 = \\bar w_2$?")
        titles = ("A.11A: $-\\varepsilon_1$", "A.11B: $\\varepsilon_2$", "A.11C: $\\bar w$",
                  "A.11D: $-\\bar{\\bar w}$", "A.11E: $\\bar c$")
        for ax, title in zip(a11, titles):
            ax.set(xlabel="time since the switch", title=title)
        a11[0].legend(fontsize=7)
    fig.text(0.62, 0.7, "Switch from w^p_m = delta_pm, c = (1, 0) to teacher 2\n"
             "(reduced model; colour: gate time constant tau_c)", fontsize=11)
    ntatools.finish(fig, args, f, top=None)


if __name__ == "__main__":
    sys.exit(main())
