#!/usr/bin/env python3
"""Plot Fig. 5 (left) of Sandbrink et al. (NeurIPS 2024) from a results file
of sweeps/fig5_tauc.ini: the total alignment of the NTA at t = 7 (the
authors' last tape entry), paths sorted by their time-averaged cos_sim as
theirs (ntatools.GRID_FIGURES; mean over
seeds) against block length tau_B / tau_w (rows, longest on top) and gate
speed tau_w / tau_c (columns), at constant total time; B: its s.e.m.

usage: plot_fig5_tauc.py RESULTS.h5 [-o OUT.png]
"""
import sys

import ntatools

ntatools.ensure_interpreter(("h5py", "numpy", "matplotlib"))

if __name__ == "__main__":
    sys.exit(ntatools.alignment_grid_main(__doc__, "fig5_tauc"))
