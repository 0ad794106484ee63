#!/usr/bin/env python3
"""Plot Fig. 5 (left) of Sandbrink et al. (NeurIPS 2024) from a results file
of sweeps/fig5_tauc.ini: the final total alignment of the NTA (mean over
seeds) against block length tau_B / tau_w (rows, longest on top) and gate
speed tau_w / tau_c (columns), at constant total time; B: its s.e.m.

usage: plot_fig5_tauc.py RESULTS.h5 [-o OUT.png]
"""
import sys

import ntatools

ntatools.ensure_interpreter(("h5py", "numpy", "matplotlib"))


def main():
    args = ntatools.plot_args(__doc__, "fig5_tauc")
    f = ntatools.open_for_plot(args.results, ("total_alignment", "block_len", "tau_w", "tau_c"))
    runs = ntatools.done_runs(f)
    x = {r: f["tau_w"][r] / f["tau_c"][r] for r in runs}
    y = {r: f["block_len"][r] / f["tau_w"][r] for r in runs}
    ntatools.alignment_grid_figure(args, f, x, y, "gate learning rate $\\tau_w/\\tau_c$",
                                   "block length $\\tau_B/\\tau_w$",
                                   "NTA: total alignment vs block length and gate speed")


if __name__ == "__main__":
    sys.exit(main())
