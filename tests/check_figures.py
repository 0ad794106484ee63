#!/usr/bin/env python3
"""Checks qualitative outcomes the paper states for three figure sweeps
(thresholds set from measured values with margin; the measured numbers are
printed). Each argument is a results file, recognised by its sweep name:
  fig8            (sweeps/fig8.ini, Fig. 8B): the loss 0.03 after a switch
                  falls with training for the flexible model and rises for
                  the forgetful one; at the authors' dt = tau_c = 0.01, the
                  loss 1 and 5 steps after switches 1-4 is theirs (+-0.03).
  figA16_few_shot (sweeps/figA16_few_shot.ini, App. A.10): with one sample
                  per step, the flexible model recovers within a few samples
                  in late blocks, faster than early on and than the
                  forgetful model.
  figA2_rank      (tests/figA2_outcome.ini, App. A.2): the gates' rate of
                  change grows with the teachers' rank and tracks the
                  students' sum of squared singular values (y = x).
The measures are the plot scripts' own (tools/plot_fig8.py,
tools/plot_figA2_rank.py), so the checks and the figures agree.

usage: check_figures.py RESULTS.h5 ...
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import ntatools  # noqa: E402

ntatools.ensure_interpreter(("h5py", "numpy", "matplotlib"))
import numpy as np  # noqa: E402

import plot_fig8  # noqa: E402
import plot_figA2_rank  # noqa: E402

check = ntatools.Checks()

# Read off the authors' Fig. 8 image (fig8_task_switching.ipynb): loss 1 and 5
# steps after switches 1-4.
SWITCHES_DRAWN = (1, 2, 3, 4)
FIG8_THEIRS = {"flexible": ((0.250, 0.140), (0.142, 0.066), (0.145, 0.024), (0.114, 0.006)),
               "forgetful": ((0.24, 0.049), (0.24, 0.076), (0.24, 0.100), (0.24, 0.122))}


def check_fig8(f):
    for case in ("flexible", "forgetful"):
        runs = ntatools.case_runs(f, case)
        L, t = plot_fig8.switch_losses(f, runs)
        k = int(np.argmin(np.abs(t - plot_fig8.PROBE)))
        per_switch = L[:, 1:, k].mean(axis=0)          # switch after b blocks, b = 1 ...
        early, late = per_switch[0], per_switch[9:].mean()
        print("     fig8 %s: loss %.2g after the switch: %.4f after 1 block, %.4f after 10+ blocks"
              % (case, plot_fig8.PROBE, early, late))
        if case == "flexible":
            check(late < 0.5 * early, "fig8 flexible: switching speeds up with training (late < 0.5 x first)")
        else:
            check(late > 1.3 * early, "fig8 forgetful: switching slows down with training (late > 1.3 x first)")
        # The authors' image (fig8_task_switching.ipynb, dt = tau_c = 0.01):
        # the loss 1 and 5 Euler steps after switches 1-4.
        if abs(float(f["dt"][runs[0]]) - 0.01) < 1e-12 and int(f["record_every"][runs[0]]) == 1:
            theirs = FIG8_THEIRS[case]
            ours = [(L[:, n, 1].mean(), L[:, n, 5].mean()) for n in SWITCHES_DRAWN]
            print("     fig8 %s: loss 1 / 5 steps after switches 1-4: %s (theirs %s)" % (
                case, ", ".join("%.3f/%.3f" % o for o in ours), ", ".join("%.3f/%.3f" % t for t in theirs)))
            check(all(abs(o[i] - t[i]) < 0.03 for o, t in zip(ours, theirs) for i in (0, 1)),
                  "fig8 %s: steps 1 and 5 after switches 1-4 within 0.03 of the authors' run" % case)
            if case == "forgetful":
                check(all(a[1] < b[1] for a, b in zip(ours, ours[1:])),
                      "fig8 forgetful: the loss 5 steps after a switch grows from switch 1 to 4, as theirs")


def check_figA16(f):
    after = {}
    for case in ("flexible", "forgetful"):
        L = ntatools.by_block(f, "loss", ntatools.case_runs(f, case))
        nb = L.shape[1]
        after[case] = (L[:, 1:4, 3:6].mean(), L[:, nb - 3:, 3:6].mean())
        print("     figA16 %s: loss 3-5 samples after a switch: blocks 2-4 %.4f, last 3 blocks %.4f"
              % ((case,) + after[case]))
    flex, forg = after["flexible"], after["forgetful"]
    check(flex[1] < 0.6 * flex[0], "figA16 flexible: few-shot recovery improves with training (late < 0.6 x early)")
    check(flex[1] < 0.6 * forg[1], "figA16: flexible recovers faster than forgetful in late blocks (< 0.6 x)")


def check_figA2(f):
    runs = ntatools.done_runs(f)
    rate, svsum = plot_figA2_rank.gate_rate_and_svsum(f, runs)
    rank = np.array([f["teacher_rank"][r] for r in runs])
    ranks = np.unique(rank)
    r_mean = np.array([rate[rank == k].mean() for k in ranks])
    s_mean = np.array([svsum[rank == k].mean() for k in ranks])
    for k, r, s in zip(ranks, r_mean, s_mean):
        print("     figA2 rank %d: gate rate %.3f, students' sum of s^2 %.3f (paper units)" % (k, r, s))
    check((np.diff(r_mean) > 0).all(), "figA2: gate rate grows with the rank")
    check(r_mean[-1] > 0.5 * ranks[-1] / ranks[0] * r_mean[0],
          "figA2: rank x%d gives gate rate x%.1f (> half proportional)" % (ranks[-1] / ranks[0], r_mean[-1] / r_mean[0]))
    ratio = r_mean / s_mean
    check(((ratio > 0.5) & (ratio < 1.5)).all(),
          "figA2: gate rate / sum of s^2 within [0.5, 1.5] for every rank (%s)" % np.round(ratio, 2))


CHECKS = {"fig8": check_fig8, "figA16_few_shot": check_figA16, "figA2_rank": check_figA2}

if len(sys.argv) < 2:
    ntatools.die("usage: check_figures.py RESULTS.h5 ...")
for path in sys.argv[1:]:
    f = ntatools.open_results(path, ("status", "loss"))
    name = ntatools.attr_str(f, "spec_name", "")
    if name not in CHECKS:
        ntatools.die("%s: sweep %r has no outcome check here (known: %s)" % (path, name, ", ".join(CHECKS)))
    check((f["status"][()] == 1).all(), "%s: every run done" % name)
    CHECKS[name](f)
sys.exit(check.summary())
