#!/usr/bin/env python3
"""Checks the fast-weight cell of Fig. 5 (left) (tests/fastw_outcome.ini):
with the scaling of the authors' run (scaling = unit: teachers of singular
value 1, loss averaged over outputs) the students specialise by t = 7 (the
authors' notebook prints a total alignment of 0.9998 for this cell); with
the published code's scaling (fan_in) the same tau_w is d_out times faster
relative to the task, both students re-learn the current teacher every block
and the total alignment stays near 0.5. Also checks the loss normalisation
at t = 0 (W ~ 0, so L = 1/2 <|y*|^2>): 0.5 for unit rows averaged over
outputs, d_out / (2 d_in) = 0.25 for fan_in. Thresholds have margin around
the measured values, which are printed.

usage: check_fastw.py RESULTS.h5
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import ntatools  # noqa: E402

ntatools.ensure_interpreter(("h5py", "numpy"))
import h5py  # noqa: E402
import numpy as np  # noqa: E402

check = ntatools.Checks()
with h5py.File(sys.argv[1], "r") as f:
    for case, lo, hi, loss0 in (("unit", 0.95, 1.01, 0.5), ("fan_in", 0.0, 0.8, 0.25)):
        runs = ntatools.case_runs(f, case)
        check(len(runs) == 3, "%s: 3 runs done (%d)" % (case, len(runs)))
        ta = ntatools.read_runs(f, "total_alignment", runs)
        check(lo <= ta.mean() <= hi, "%s: mean total alignment %.4f in [%g, %g] (per seed %s)"
              % (case, ta.mean(), lo, hi, np.round(ta, 3)))
        l0 = ntatools.read_runs(f, "loss", runs)[:, 0]
        check(abs(l0.mean() / loss0 - 1) < 0.1, "%s: loss at t = 0 is %.3f, expected %.2f within 10%%"
              % (case, l0.mean(), loss0))
sys.exit(check.summary())
