#!/usr/bin/env python3
"""Checks the paper's qualitative outcomes of the model variants in a results
file of tests/variants_outcome.ini (thresholds set from measured values with
margin; the measured numbers are printed):
  - fc (Sec. 7, Fig. 6): the regularised FC network with a fast second layer
    specialises (sorted alignment high) and its sorted W2 blocks gate (the
    active teacher's block much larger than the inactive one's); the
    unregularised one does neither.
  - redundant paths (Fig. A.3): with the weight cost lambda_w > 0 the extra
    paths' gates and weights decay; without it they stay larger.
  - composition curriculum (Fig. 3): the flexible NTA's loss after a switch
    to a composite task is low compared to the forgetful one's.

usage: check_variants.py RESULTS.h5
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import ntatools  # noqa: E402

ntatools.ensure_interpreter(("h5py", "numpy"))
import h5py  # noqa: E402
import numpy as np  # noqa: E402

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

    # --- redundant paths: the two weakest paths over the last two blocks.
    extra_gate, extra_w = {}, {}
    for name in ("redundant_wcost", "redundant_free"):
        g, w = [], []
        for j in runs[name]:
            nr, ipb, P = n_valid(f, j), per_block(f, j), int(f["paths"][j])
            gm = np.sort(np.abs(f["gates"][j, nr - 2 * ipb:nr, :P]).max(0))
            wn = np.sort(np.sqrt((f["student_weights"][j, :P] ** 2).sum((1, 2))))
            g.append(gm[:P - 2].sum())
            w.append(wn[:P - 2].sum())
        extra_gate[name], extra_w[name] = np.mean(g), np.mean(w)
        print(f"     {name}: extra paths' max |gate| (sum of 2, mean over seeds) {np.mean(g):.3f}, "
              f"their ||W|| {np.mean(w):.3f}")
    check(extra_gate["redundant_wcost"] < 0.33, f"redundant_wcost: extra gates decay ({extra_gate['redundant_wcost']:.3f} < 0.33)")
    check(extra_gate["redundant_free"] > 0.40, f"redundant_free: extra gates stay ({extra_gate['redundant_free']:.3f} > 0.40)")
    check(extra_w["redundant_wcost"] < 0.55, f"redundant_wcost: extra weights decay ({extra_w['redundant_wcost']:.3f} < 0.55)")
    check(extra_w["redundant_free"] > 0.65, f"redundant_free: extra weights stay ({extra_w['redundant_free']:.3f} > 0.65)")

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

sys.exit(check.summary())
