#!/usr/bin/env python3
"""Checks qualitative outcomes the paper states for three figure sweeps
(thresholds set from measured values with margin; the measured numbers are
printed). Each argument is a results file, recognised by its sweep name:
  fig8            (sweeps/fig8.ini, Fig. 8B): the loss 0.03 after a switch
                  falls with training for the flexible model and rises for
                  the forgetful one; at the authors' dt = tau_c = 0.01, the
                  loss 1 step after switches 1-4 is theirs (+-0.04), 5 steps
                  after switches 1 and 4 too (+-0.03).
  figA16_few_shot (sweeps/figA16_few_shot.ini, App. A.10): with one sample
                  per step, the flexible model recovers within a few samples
                  in late blocks, faster than early on and than the
                  forgetful model.
  figA2_rank      (tests/figA2_outcome.ini, App. A.2): the gates' rate of
                  change grows with the teachers' rank and tracks the
                  students' sum of squared singular values (y = x).
  fig3_composition (tests/fig3_outcome.ini, Fig. 3): the composites start at
                  block 23 with CA; the loss at that switch is the authors'
                  (0.23 task, 0.30 subtask) in the fan_in scale of their
                  logged run, d_in/d_out times higher in the unit scale.
  figA13_rho      (sweeps/figA13_rho.ini): the authors' specialization per rho
                  (+-0.12) and an adaptation speed that falls with rho, about
                  2.9-fold from rho = 0 to 0.5, as theirs.
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
import plot_figA13_rho  # noqa: E402
import plot_figA2_rank  # noqa: E402

check = ntatools.Checks()

# Read off the authors' Fig. 8 image (fig8_task_switching.ipynb): loss 1 and 5
# steps after switches 1-4.
SWITCHES_DRAWN = (1, 2, 3, 4)
FIG8_THEIRS = {"flexible": ((0.250, 0.140), (0.142, 0.066), (0.145, 0.024), (0.114, 0.006)),
               "forgetful": ((0.24, 0.049), (0.24, 0.076), (0.24, 0.100), (0.24, 0.122))}


PROBE = 0.03  # time after a switch compared across switches


def switch_losses(f, runs):
    """loss [run, block, record in block] and the time of each record in a block."""
    L = ntatools.by_block(f, "loss", runs)
    t = np.arange(L.shape[2]) * float(f["dt"][runs[0]]) * int(f["record_every"][runs[0]])
    return L, t


def check_fig8(f):
    for case in ("flexible", "forgetful"):
        runs = ntatools.case_runs(f, case)
        L, t = switch_losses(f, runs)
        k = int(np.argmin(np.abs(t - PROBE)))
        per_switch = L[:, 1:, k].mean(axis=0)          # switch after b blocks, b = 1 ...
        early, late = per_switch[0], per_switch[9:].mean()
        print("     fig8 %s: loss %.2g after the switch: %.4f after 1 block, %.4f after 10+ blocks"
              % (case, PROBE, early, late))
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
            # Step 1 is set by the state the previous block left; step 5 at
            # switches 2-3 depends on when each seed specialised (10-seed means
            # move by ~0.02 with the seeds), so it is held only at switches 1, 4.
            check(all(abs(o[0] - t[0]) < 0.04 for o, t in zip(ours, theirs)),
                  "fig8 %s: step 1 after switches 1-4 within 0.04 of the authors' run" % case)
            check(all(abs(ours[n][1] - theirs[n][1]) < 0.03 for n in (0, 3)),
                  "fig8 %s: step 5 after switches 1 and 4 within 0.03 of the authors' run" % case)
            if case == "flexible":
                check(ours[3][1] < 0.1 * ours[0][1],
                      "fig8 flexible: 5 steps after switch 4 the loss is < 1/10 of that after switch 1, as theirs")
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


def check_fig3(f):
    """tests/fig3_outcome.ini: the loss at the first step of the first
    composite block, per case and scale."""
    cases, scales = ntatools.decode(f["case"][()]), ntatools.decode(f["scaling"][()])
    peak = {}
    for r in ntatools.done_runs(f):
        tasks = ntatools.block_tasks(f, r)
        first = int(np.nonzero(tasks >= int(f["teachers"][r]))[0][0])
        check(first == 23 and tasks[first] == int(f["teachers"][r]) + 2,
              "fig3 %s %s: the composites start at block 23 with CA, as the authors' run" % (cases[r], scales[r]))
        steps = int(round(float(f["block_len"][r]) / float(f["dt"][r])))
        every = int(f["record_every"][r])
        check(steps * first % every == 0, "fig3: block 23's first step is recorded")
        peak[cases[r], scales[r]] = float(f["loss"][r][steps * first // every])
    for (case, scale), v in sorted(peak.items()):
        print("     fig3 %s, %s: loss at the first composite step %.3f" % (case, scale, v))
    for case, theirs in (("task", 0.234), ("subtask", 0.30)):
        for kind in ("flexible", "forgetful"):
            v = peak[case + "_" + kind, "fan_in"]
            check(abs(v - theirs) < 0.04, "fig3 %s_%s: peak %.3f within 0.04 of the authors' %.3f (fan_in, 1 seed)"
                  % (case, kind, v, theirs))
            ratio = peak[case + "_" + kind, "unit"] / v
            check(2.5 < ratio < 4.0, "fig3 %s_%s: the unit-scale peak is d_in/d_out = 3.3 times fan_in's (%.2f)"
                  % (case, kind, ratio))


# Read off the authors' Fig. A.13 image (figA13_orthogonality.ipynb, 1 seed).
FIGA13_SPEC_THEIRS = {0.0: 1.04, 0.25: 0.70, 0.5: 0.58, 0.75: 0.26, 1.0: 0.01}


def check_figA13(f):
    runs = ntatools.done_runs(f)
    rho = np.array([f["rho"][r] for r in runs])
    rhos = np.unique(rho)
    speed = np.array([plot_figA13_rho.adaptation_speed(f, r) for r in runs])
    spec = np.array([plot_figA13_rho.specialization_gap(f, r) for r in runs])
    sm = np.array([speed[rho == v].mean() for v in rhos])
    gm = np.array([spec[rho == v].mean() for v in rhos])
    print("     figA13 rho %s: specialization %s, adaptation speed %s" % (rhos, np.round(gm, 2), np.round(sm, 1)))
    for v, g in zip(rhos, gm):
        if v in FIGA13_SPEC_THEIRS:
            check(abs(g - FIGA13_SPEC_THEIRS[v]) < 0.12,
                  "figA13 rho %g: specialization %.2f within 0.12 of the authors' %.2f" % (v, g, FIGA13_SPEC_THEIRS[v]))
    check((np.diff(sm) < 0).all(), "figA13: adaptation speed falls with rho")
    if 0.0 in rhos and 0.5 in rhos:
        ratio = sm[rhos == 0.0][0] / sm[rhos == 0.5][0]
        check(2.1 < ratio < 3.7, "figA13: adaptation speed rho 0 : rho 0.5 = %.2f, the authors' 2.9 +- 0.8" % ratio)


CHECKS = {"fig8": check_fig8, "figA16_few_shot": check_figA16, "figA2_rank": check_figA2,
          "fig3_composition": check_fig3, "figA13_rho": check_figA13}

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
