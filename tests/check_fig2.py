#!/usr/bin/env python3
"""Checks the paper's Fig. 2 outcome (SPEC-NOTES §9) in a results file:
flexible runs specialise and get fast at switching, forgetful runs do not.

usage: check_fig2.py RESULTS.h5
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
    case = f["case"][:].astype(str)
    status = f["status"][:]
    spec = f["specialization"][:]
    ttt = f["time_to_threshold"][:]
    block_len = f["block_len"][:]

check((status == 1).all(), f"every run done ({(status == 1).sum()}/{len(status)})")
for name in ("flexible", "forgetful"):
    check((case == name).sum() >= 2, f"{name}: at least 2 seeds ({(case == name).sum()})")

flex, forg = case == "flexible", case == "forgetful"
check((spec[flex] > 0.9).all(), f"flexible: specialization > 0.9 for every seed (min {spec[flex].min():.3f})")
check((spec[forg] < 0.8).all(), f"forgetful: specialization < 0.8 for every seed (max {spec[forg].max():.3f})")

# Time to loss 0.1 in units of the block length, mean over seeds (a block that
# never reaches 0.1 counts as a whole block).
rel = np.where(np.isnan(ttt), 1.0, ttt) / block_len[:, None]
first_flex, last_flex = rel[flex, 0].mean(), rel[flex, -2:].mean()
check(first_flex > 0.7, f"flexible: first block takes most of a block ({first_flex:.3f} > 0.7)")
check(last_flex < 0.1, f"flexible: last blocks take a small fraction ({last_flex:.3f} < 0.1)")
last_forg = rel[forg, -2:].mean()
check(last_forg > 0.5, f"forgetful: last blocks still take over half a block ({last_forg:.3f} > 0.5)")

sys.exit(check.summary())
