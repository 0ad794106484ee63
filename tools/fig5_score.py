#!/usr/bin/env python3
"""Score a pair of Fig. 5 results files against the authors' printed grids.

Reads a results file of sweeps/fig5_tauc.ini and one of sweeps/fig5_reg.ini
(or of copies with one setting changed), averages the total alignment over
the seeds of every cell and counts the cells within 0.1 of the arrays the
authors' notebook printed (fig5_NTA_hpam.ipynb, held in paper_reference.py).
Columns are matched by rank (the k-th smallest tau_c or lam of the file is
the authors' k-th column), so a copy with every tau_c scaled by one factor is
scored cell for cell.

usage: fig5_score.py TAUC.h5 REG.h5 [--at T | --at 7tauB] [--match sorted|best] [--show] [--cells]
                     [--name NAME]

  --at T      total alignment of the state at time T (from the records; the
              final state when T is the end of the run) instead of the final
              state; 7tauB = after 7 blocks, whatever the block length
  --match M   how paths meet teachers: sorted (default; the authors' Fig. 5
              value, ntatools.sorted_alignment_at: paths sorted by their
              cos_sim averaged up to T, then one to one) or best (the best
              path per teacher at T, ntasweep's total_alignment)
  --show      print both grids of seed means
  --cells     print every cell: ours, theirs, tools/paper_check's tolerance
              (paper_reference.py: +-0.05 for clear-cut cells, +-0.15 near
              0.85) and the verdict, and the seed spread: the standard
              deviation sd of one seed's value and how far the authors' value
              lies from our mean in standard errors of a 10-seed mean
              (sd / sqrt(10), the noise of their printed mean); then the
              count within the tolerance
Prints one line: cells within 0.1 (tau_c grid, lam grid, all 50), the
largest deviation, and the cells of the two regions that differ on main:
(a) tau_B = 1, 0.8 x tau_c = 0.06, 0.08, 0.1 and (b) tau_B = 0.1, lam > 0.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ntatools  # noqa: E402

ntatools.ensure_interpreter(("h5py", "numpy"))

import h5py  # noqa: E402
import numpy as np  # noqa: E402

from paper_reference import REG_GRID, TAU_C_GRID, _grid_tol  # noqa: E402

BLOCK_LENS = (1, 0.8, 0.6, 0.4, 0.1)  # rows: tau_B / tau_w = 10, 8, 6, 4, 1


def alignment_at(f, at, match):
    """Per-run total alignment: final (at None), at time `at`, or after 7
    blocks (at "7tauB"), from the records, paths matched as `match` says."""
    runs = list(range(f["total_alignment"].shape[0]))
    if at is None and match == "best":
        return ntatools.alignment_at(f, runs, None)
    if at is None:
        t = f["n_blocks"][:] * f["block_len"][:]
    else:
        t = 7 * f["block_len"][:] if at == "7tauB" else float(at)
    if match == "sorted":
        return ntatools.sorted_alignment_at(f, runs, t)
    return ntatools.alignment_at(f, runs, t)


def grid(path, column, at, match):
    """Seed mean and seed standard deviation of every cell."""
    with h5py.File(path, "r") as f:
        block, col = f["block_len"][:], f[column][:]
        value = alignment_at(f, at, match)
        done = f["status"][:] == 1
    cols = sorted(set(np.round(col, 12)))
    if len(cols) != 5:
        sys.exit("%s: %d values of %s, expected 5" % (path, len(cols), column))
    g, sd = np.full((5, 5), np.nan), np.full((5, 5), np.nan)
    for i, b in enumerate(BLOCK_LENS):
        for j, c in enumerate(cols):
            sel = (np.abs(block - b) < 1e-9) & (np.abs(col - c) < 1e-12) & done & np.isfinite(value)
            if sel.any():
                g[i, j] = value[sel].mean()
                sd[i, j] = value[sel].std(ddof=1) if sel.sum() > 1 else np.nan
    return g, sd


def main(argv):
    at, show, cells, name, match = None, False, False, "", "sorted"
    args = []
    i = 0
    while i < len(argv):
        if argv[i] == "--at" and i + 1 < len(argv):
            at = argv[i + 1]
            i += 2
            continue
        if argv[i] == "--match" and i + 1 < len(argv):
            match = argv[i + 1]
            if match not in ("sorted", "best"):
                print("fig5_score: --match %s: sorted or best" % match, file=sys.stderr)
                return 2
            i += 2
            continue
        if argv[i] == "--name" and i + 1 < len(argv):
            name = argv[i + 1]
            i += 2
            continue
        if argv[i] == "--show":
            show = True
        elif argv[i] == "--cells":
            cells = True
        elif argv[i] in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            args.append(argv[i])
        i += 1
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    for p in args:
        if not os.path.exists(p):
            print("fig5_score: %s: no such file" % p, file=sys.stderr)
            return 2
    (tauc, sd_t), (reg, sd_r) = grid(args[0], "tau_c", at, match), grid(args[1], "lam", at, match)
    dev_t, dev_r = np.abs(tauc - np.array(TAU_C_GRID)), np.abs(reg - np.array(REG_GRID))
    ok_t, ok_r = int((dev_t <= 0.1).sum()), int((dev_r <= 0.1).sum())
    missing = int(np.isnan(tauc).sum() + np.isnan(reg).sum())
    worst = np.nanmax(np.concatenate([dev_t.ravel(), dev_r.ravel()]))
    region_a = " ".join("%.2f" % v for v in tauc[:2, 2:].ravel())
    region_b = " ".join("%.2f" % v for v in reg[4, 1:])
    print("%-12s within 0.1: tau_c grid %2d/25, lam grid %2d/25, all %2d/50; max dev %.2f; "
          "(a) %s; (b) %s%s" % (name or "-", ok_t, ok_r, ok_t + ok_r, worst, region_a, region_b,
                               "; %d cells without a finished run" % missing if missing else ""))
    if show:
        np.set_printoptions(precision=3, suppress=True)
        print("tau_c grid (rows tau_B = 1 ... 0.1, columns tau_c ascending)\n", tauc)
        print("lam grid (columns lam ascending)\n", reg)
    if cells:
        print_cells(tauc, reg, sd_t, sd_r)
    return 0


def print_cells(tauc, reg, sd_t, sd_r):
    """Every cell against paper_check's tolerance, with the seed spread; the
    count that pass."""
    n_pass = 0
    for label, ours, sd, theirs, cols in (("tau_c", tauc, sd_t, TAU_C_GRID, (0.02, 0.04, 0.06, 0.08, 0.1)),
                                          ("lam", reg, sd_r, REG_GRID, (0, 0.05, 0.1, 0.15, 0.2))):
        for i, b in enumerate(BLOCK_LENS):
            for j, c in enumerate(cols):
                v, ref = ours[i, j], theirs[i][j]
                tol = _grid_tol(ref)
                ok = abs(v - ref) <= tol
                n_pass += bool(ok)
                z = abs(v - ref) / (sd[i, j] / np.sqrt(10)) if sd[i, j] > 0 else np.inf
                print("%-5s tau_B %-3g %s %-5g ours %.3f theirs %.3f tol %.2f %-7s sd %.3f theirs at %.1f se10"
                      % (label, b, label, c, v, ref, tol, "pass" if ok else "differs", sd[i, j], z))
    print("within paper_check's tolerance: %d/50" % n_pass)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
