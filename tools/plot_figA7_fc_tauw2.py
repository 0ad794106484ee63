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


def main():
    args = ntatools.plot_args(__doc__, "figA7_fc_tauw2")
    f = ntatools.open_for_plot(args.results, ("total_alignment", "block_len", "tau_w", "tau_w2"))
    runs = ntatools.done_runs(f)
    x = {r: f["tau_w"][r] / f["tau_w2"][r] for r in runs}
    y = {r: f["block_len"][r] / f["tau_w"][r] for r in runs}
    ntatools.alignment_grid_figure(args, f, x, y, "layer 2 learning rate $\\tau_{W_1}/\\tau_{W_2}$",
                                   "block length $\\tau_B/\\tau_{W_1}$",
                                   "FC network: total alignment vs block length and layer-2 speed")


if __name__ == "__main__":
    sys.exit(main())
