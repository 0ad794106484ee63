#!/usr/bin/env python3
"""Plot Fig. 2 of Sandbrink et al. (NeurIPS 2024) from an ntasweep results
file of sweeps/fig2.ini, panel for panel as the paper (x: time t; flexible
black, forgetful gray; shading: the active task; mean +- s.e.m. over seeds).

  A  task loss, both cases
  B  gates c^p of the flexible model (path p matched to teacher p)
  C  student-teacher alignment (row-wise cosine) of the flexible model, all
     four pairs: teacher m with its own path (m = p, solid) and with the
     other path (m != p, dashed)
  D  relative weight change ||dW/dt|| / ||W|| (all paths together), both
     cases. Needs the recorded weight norms (`weight_norm`, format 4); older
     files show the absolute ||dW/dt|| with a note
  E  gate change ||dc/dt||, both cases; dashed, on the right axis: the norm
     ||W_p|| of each path of the flexible model (`weight_norm`)
  F  time until the loss is below 0.1 in each block, in units of tau_w
     (as the authors' panel), at the block centres

usage: plot_fig2.py RESULTS.h5 [-o OUT.png]
"""
import sys

import ntatools

ntatools.ensure_interpreter(("h5py", "numpy", "matplotlib"))
plt = ntatools.pyplot()
import numpy as np  # noqa: E402

REQUIRED = ("loss", "gates", "cos_sim", "update_norm_w", "update_norm_c", "time_to_threshold",
            "block_len", "n_blocks", "teachers", "paths", "dt", "tau_w")
THRESHOLD = 0.1
TASK_COLORS = ntatools.TASK_COLORS


def matched(f, runs, name):
    """Dataset `name` [run, time, path, ...] with its path axis re-ordered so
    that index m is the path matched to teacher m (by the final cos_sim)."""
    a = ntatools.read_runs(f, name, runs).astype(float)
    cos = ntatools.read_runs(f, "cos_sim", runs)
    M = int(ntatools.read_runs(f, "teachers", runs).max())
    out = np.full(a.shape[:2] + (M,) + a.shape[3:], np.nan)
    for i in range(len(runs)):
        finite = np.nonzero(np.isfinite(cos[i]).all(axis=(1, 2)))[0]
        if finite.size:
            for m, p in enumerate(ntatools.match_paths(cos[i, finite[-1]])[:M]):
                if p >= 0:
                    out[i, :, m] = a[i, :, p]
    return out


def _pairs(f, runs, cos):
    """cos[run, time, m, q]: teacher m with the path matched to teacher q."""
    M = int(ntatools.read_runs(f, "teachers", runs).max())
    out = np.full(cos.shape[:2] + (M, M), np.nan)
    for i in range(len(runs)):
        finite = np.nonzero(np.isfinite(cos[i]).all(axis=(1, 2)))[0]
        if finite.size:
            for q, p in enumerate(ntatools.match_paths(cos[i, finite[-1]])[:M]):
                if p >= 0:
                    out[i, :, :, q] = cos[i, :, :M, p]
    return out


def weight_rates(f, runs):
    """(||dW/dt|| [run, time] of all paths together, ||W|| [run, time] or None)."""
    dt = ntatools.read_runs(f, "dt", runs)[:, None]
    un = ntatools.read_runs(f, "update_norm_w", runs)
    rate = np.sqrt(np.nansum(un ** 2, axis=2)) / dt
    if "weight_norm" not in f:
        return rate, None
    wn = ntatools.read_runs(f, "weight_norm", runs)
    return rate, np.sqrt(np.nansum(wn ** 2, axis=2))


def main():
    args, f = ntatools.plot_start(__doc__, "fig2", REQUIRED)
    done, total = ntatools.group_by_case(f)
    colors = ntatools.case_colors(done)
    label = ntatools.case_label
    have = {c: r for c, r in done.items() if r}
    flex = "flexible" if "flexible" in have else next(iter(have), None)

    fig, axes = plt.subplots(3, 2, figsize=(13, 7.5), sharex=True)
    (ax_a, ax_d), (ax_b, ax_e), (ax_c, ax_f) = axes
    first = next(iter(have.values()))[0] if have else None
    if first is not None:
        for ax in axes.ravel():
            ntatools.shade_blocks(ax, f, first, alpha=0.12, x_in_time=True)
    x_of = {c: ntatools.record_times(f, r)[0] for c, r in have.items()}

    # A: loss.
    for c, runs in done.items():
        if runs:
            ntatools.band(ax_a, x_of[c], ntatools.read_runs(f, "loss", runs), colors[c],
                          "%s (n=%d)" % (label(c), len(runs)))
        else:
            ax_a.plot([], [], color=colors[c], label="%s: no done runs (of %d)" % (label(c), total[c]))
    ax_a.set(ylabel="loss $\\mathcal{L}$")
    ax_a.legend(fontsize=8, loc="upper right")

    # B, C: gates and the four student-teacher pairs of the flexible model.
    if flex is None:
        ntatools.note_all((ax_b, ax_c), "no done runs")
    else:
        runs, x = have[flex], x_of[flex]
        g_sorted, _, M = ntatools.sorted_by_teacher(f, runs)
        for q in range(g_sorted.shape[2]):
            color = TASK_COLORS[q % len(TASK_COLORS)] if q < M else "0.4"
            ntatools.band(ax_b, x, g_sorted[:, :, q], color, "$c^{%d}$" % (q + 1))
        pairs = _pairs(f, runs, ntatools.read_runs(f, "cos_sim", runs))
        for m in range(pairs.shape[2]):
            for q in range(pairs.shape[3]):
                ntatools.band(ax_c, x, pairs[:, :, m, q], TASK_COLORS[m % len(TASK_COLORS)],
                              ("$m = p$" if m == q else "$m \\neq p$") if m == 0 else None,
                              ls="-" if m == q else "--")
        ax_b.legend(fontsize=8, loc="upper right")
        ax_c.legend(fontsize=8, loc="center right")
    ax_b.set(ylabel="gates $c^p$ (%s)" % label(flex or "flexible"), ylim=(-0.1, 1.55))
    ax_c.set(ylabel="student-teacher alignment\n(cosine $W^{*m}$, $W^p$)", ylim=(-0.15, 1.15),
             xlabel="time $t$")

    # D, E: update sizes; weight norms when recorded.
    norms_missing = "weight_norm" not in f
    for c, runs in have.items():
        rate, wnorm = weight_rates(f, runs)
        rel = rate if wnorm is None else rate / wnorm
        ntatools.band(ax_d, x_of[c], rel, colors[c], label(c))
        dt = ntatools.read_runs(f, "dt", runs)[:, None]
        ntatools.band(ax_e, x_of[c], ntatools.read_runs(f, "update_norm_c", runs) / dt, colors[c], label(c))
    if norms_missing:
        ax_d.set(ylabel="weight change\n$||dW/dt||$ (absolute)")
        ntatools.note(ax_e, "||W_p|| not recorded in this file\n(weight_norm needs format_version 4):"
                            "\nrerun the sweep for the dashed norms")
        ax_d.text(0.01, 0.03, "relative rate ||dW/dt|| / ||W|| needs weight_norm (format 4)",
                  transform=ax_d.transAxes, ha="left", va="bottom", fontsize=7, color="0.3")
    else:
        ax_d.set(ylabel="weight change\n$||dW/dt|| / ||W||$ (rel.)")
        ax_d.set_ylim(-0.1, 1.7)  # as the authors': the first moments (||W|| ~ 0) run off the top
        if flex is not None:
            twin = ax_e.twinx()
            wn = matched(f, have[flex], "weight_norm")
            for m in range(wn.shape[2]):
                ntatools.band(twin, x_of[flex], wn[:, :, m], TASK_COLORS[m % len(TASK_COLORS)],
                              "$||W_%d||$" % (m + 1), ls="--", lw=2)
            twin.set_ylabel("norm $||W_p||$ (dashed)")
            twin.set_ylim(bottom=0)
            twin.legend(fontsize=8, loc="center right")
    ax_e.set(ylabel="gate change\n$||dc/dt||$")
    ax_e.set_ylim(bottom=0)
    ax_d.legend(fontsize=8, loc="upper right")

    # F: time to loss 0.1 per block, in units of tau_w, at the block centres.
    for c, runs in done.items():
        if not runs:
            continue
        ttt = ntatools.read_runs(f, "time_to_threshold", runs) / ntatools.read_runs(f, "tau_w", runs)[:, None]
        nb = ntatools.read_runs(f, "n_blocks", runs)
        valid = np.arange(ttt.shape[1])[None, :] < nb[:, None]
        never = int((np.isnan(ttt) & valid).sum())
        mean, sem, _ = ntatools.mean_sem(np.where(valid, ttt, np.nan), axis=0)
        L = float(f["block_len"][runs[0]])
        centres = (np.arange(ttt.shape[1]) + 0.5) * L
        lab = label(c) + (" (%d blocks never below %g, left out)" % (never, THRESHOLD) if never else "")
        ax_f.errorbar(centres, mean, yerr=np.nan_to_num(sem), color=colors[c], marker="o", ms=4,
                      capsize=2, lw=1.5, label=lab)
    ax_f.set(xlabel="time $t$", ylabel="time to $\\mathcal{L} = %g$\n(units of $\\tau_w$)" % THRESHOLD)
    ax_f.set_ylim(bottom=0)
    ax_f.legend(fontsize=8, loc="upper right")
    if first is not None:
        ax_a.set_xlim(0, float(f["n_blocks"][first]) * float(f["block_len"][first]))

    ntatools.finish(fig, args, f, [ax_a, ax_b, ax_c, ax_d, ax_e, ax_f], "ABCDEF", top=0.96, sem=True)


if __name__ == "__main__":
    sys.exit(main())
