#!/usr/bin/env python3
"""Plot Fig. A.7 (left) of Sandbrink et al. (NeurIPS 2024) from a results
file of sweeps/figA7_fc_tauw2.ini: the final total alignment of the sorted
fully-connected network (mean over seeds) against block length
tau_B / tau_W1 (rows, longest on top) and second-layer speed tau_W1 / tau_W2
(columns), at constant total time; B: its s.e.m.

usage: plot_figA7_fc_tauw2.py RESULTS.h5 [-o OUT.png]
"""
import sys

import ntatools

ntatools.ensure_interpreter(("h5py", "numpy", "matplotlib"))

if __name__ == "__main__":
    sys.exit(ntatools.alignment_grid_main(__doc__, "figA7_fc_tauw2"))
