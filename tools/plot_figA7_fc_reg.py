#!/usr/bin/env python3
"""Plot Fig. A.7 (right) of Sandbrink et al. (NeurIPS 2024) from a results
file of sweeps/figA7_fc_reg.ini: the final total alignment of the sorted
fully-connected network (mean over seeds) against block length
tau_B / tau_W1 (rows, longest on top) and the regularisation strength lam
(columns; lambda_nonneg = 10 lam / 11, App. B.5); B: its s.e.m.

usage: plot_figA7_fc_reg.py RESULTS.h5 [-o OUT.png]
"""
import sys

import ntatools

ntatools.ensure_interpreter(("h5py", "numpy", "matplotlib"))


def main():
    args = ntatools.plot_args(__doc__, "figA7_fc_reg")
    f = ntatools.open_for_plot(args.results, ("total_alignment", "block_len", "tau_w", "lambda_nonneg"))
    runs = ntatools.done_runs(f)
    x = {r: round(11 * f["lambda_nonneg"][r] / 10, 10) for r in runs}
    y = {r: f["block_len"][r] / f["tau_w"][r] for r in runs}
    ntatools.alignment_grid_figure(args, f, x, y, "regularization strength $\\lambda$",
                                   "block length $\\tau_B/\\tau_{W_1}$",
                                   "FC network: total alignment vs block length and regularization")


if __name__ == "__main__":
    sys.exit(main())
