#!/usr/bin/env python3
"""Checks the paper's qualitative outcomes of the model variants in a results
file of tests/variants_outcome.ini (thresholds set from measured values with
margin; the measured numbers are printed):
  - fc (Sec. 7, Fig. 6): the regularised FC network with a fast second layer
    specialises (sorted alignment high) and its sorted W2 blocks gate (the
    active teacher's block much larger than the inactive one's); the
    unregularised one does neither.
  - redundant paths (Fig. A.3), from a results file of
    tests/redundant_outcome.ini: with the weight cost lambda_w > 0 the extra
    paths' gates and weights decay; without it they stay larger.
  - composition curriculum (Fig. 3): the flexible NTA's loss after a switch
    to a composite task is low compared to the forgetful one's.

usage: check_variants.py RESULTS.h5 REDUNDANT.h5
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import ntatools  # noqa: E402

ntatools.ensure_interpreter(("h5py", "numpy"))
import h5py  # noqa: E402
import numpy as np  # noqa: E402

if len(sys.argv) != 3:
    sys.exit("usage: check_variants.py RESULTS.h5 REDUNDANT.h5 (results of tests/variants_outcome.ini "
             "and tests/redundant_outcome.ini)")
check = ntatools.Checks()

def n_valid(f, j):
    return int(np.isfinite(f["loss"][j]).sum())


def per_block(f, j):
    return int(round(f["block_len"][j] / (f["dt"][j] * f["record_every"][j])))


with h5py.File(sys.argv[1], "r") as f:
    case = f["case"][:].astype(str)
    runs = {c: np.where(case == c)[0] for c in set(case)}
    check((f["status"][:] == 1).all(), "every run done")
    spec = f["specialization"][:]

    # --- fc: sorted alignment and gate-like W2 blocks.
    for name, lo, hi in (("fc_flexible", 0.75, None), ("fc_forgetful", None, 0.45)):
        s = spec[runs[name]]
        if lo is not None:
            check((s > lo).all(), f"{name}: sorted alignment > {lo} for every seed (min {s.min():.3f})")
        else:
            check((s < hi).all(), f"{name}: sorted alignment < {hi} for every seed (max {s.max():.3f})")
    for name in ("fc_flexible", "fc_forgetful"):
        ratios = []
        for j in runs[name]:
            active = int((f["n_blocks"][j] - 1) % f["teachers"][j])   # alternating: task of the last block
            M = int(f["teachers"][j])
            w2, rs = f["fc_w2_final"][j], f["row_source"][j][:M].astype(int)
            diag = [np.abs(np.diag(w2[:, rs[t]])).mean() for t in range(M)]
            ratios.append(diag[active] / diag[1 - active])
        ratios = np.array(ratios)
        if name == "fc_flexible":
            check((ratios > 3).all(), f"{name}: active sorted W2 block > 3x the inactive one (min ratio {ratios.min():.2f})")
        else:
            check((ratios < 1.5).all(), f"{name}: W2 blocks do not gate, ratio < 1.5 (max {ratios.max():.2f})")

    # --- composition: loss over the first 20% of each composite block.
    early = {}
    for name in ("compose_flexible", "compose_forgetful"):
        vals = []
        for j in runs[name]:
            bt, ipb, M = f["block_task"][j], per_block(f, j), int(f["teachers"][j])
            nb = int(f["n_blocks"][j])
            L = f["loss"][j, :nb * ipb].reshape(nb, ipb)
            comp = bt[:nb] >= M
            vals.append(L[comp, :max(1, ipb // 5)].mean())
        early[name] = np.array(vals)
        print(f"     {name}: loss in the first 20% of composite blocks per seed {np.round(early[name], 4)}")
    check(early["compose_flexible"].max() < 0.035,
          f"compose_flexible: low loss after a switch to a composite ({early['compose_flexible'].max():.4f} < 0.035)")
    check(early["compose_forgetful"].min() > 0.045,
          f"compose_forgetful: higher loss after a switch ({early['compose_forgetful'].min():.4f} > 0.045)")
    check(early["compose_flexible"].mean() < 0.6 * early["compose_forgetful"].mean(),
          "compose: flexible < 0.6 x forgetful")


# --- redundant paths: the two weakest paths over the last two blocks, as
# means over the 20 seeds of tests/redundant_outcome.ini. Thresholds from the
# spread of 20-seed means, resampled (200 000 draws) from 100 measured seeds
# (seeds 0-49 of that sweep under the Box-Muller normals of results format 3
# and under the ziggurat of format 4: two independent seed sets); 0.01 % and
# 99.99 % quantiles of the mean:
#   with the cost:    gates 0.087 .. 0.219 (median 0.122), ||W|| 0.103 .. 0.238 (0.147)
#   without the cost: gates 0.210 .. 0.461 (median 0.329), ||W|| 0.427 .. 0.748 (0.581)
with h5py.File(sys.argv[2], "r") as f:
    case = f["case"][:].astype(str)
    check((f["status"][:] == 1).all(), "redundant paths: every run done")
    extra_gate, extra_w = {}, {}
    for name in ("redundant_wcost", "redundant_free"):
        g, w = [], []
        for j in np.where(case == name)[0]:
            nr, ipb, P = n_valid(f, j), per_block(f, j), int(f["paths"][j])
            gm = np.sort(np.abs(f["gates"][j, nr - 2 * ipb:nr, :P]).max(0))
            wn = np.sort(np.sqrt((f["student_weights"][j, :P] ** 2).sum((1, 2))))
            g.append(gm[:P - 2].sum())
            w.append(wn[:P - 2].sum())
        check(len(g) >= 20, f"{name}: at least 20 seeds ({len(g)})")
        extra_gate[name], extra_w[name] = np.mean(g), np.mean(w)
        print(f"     {name}: extra paths' max |gate| (sum of 2, mean over seeds) {np.mean(g):.3f}, "
              f"their ||W|| {np.mean(w):.3f}")
    check(extra_gate["redundant_wcost"] < 0.22, f"redundant_wcost: extra gates decay ({extra_gate['redundant_wcost']:.3f} < 0.22)")
    check(extra_gate["redundant_free"] > 0.20, f"redundant_free: extra gates stay ({extra_gate['redundant_free']:.3f} > 0.20)")
    check(extra_w["redundant_wcost"] < 0.30, f"redundant_wcost: extra weights decay ({extra_w['redundant_wcost']:.3f} < 0.30)")
    check(extra_w["redundant_free"] > 0.36, f"redundant_free: extra weights stay ({extra_w['redundant_free']:.3f} > 0.36)")

sys.exit(check.summary())
