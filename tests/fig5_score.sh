#!/usr/bin/env bash
# tools/fig5_score.py on fake Fig. 5 files: two seeds per cell whose mean is
# the authors' printed value score 50/50; one cell moved by 0.3 is the only
# one outside 0.1 and sets the largest deviation; columns are matched by rank
# (a tau_c grid scaled by 0.5 scores the same); --cells names that cell as
# the one outside paper_check's tolerance; --at reads the records; a
# missing file exits 2. These read the best path per teacher (--match best);
# the authors' sorted matching (the default, ntatools.sorted_alignment_at)
# is checked on a hand-made run: paths whose time-averaged cos_sim leans
# the other way (or both to one teacher) are swapped, as their sort_it does.
# usage: fig5_score.sh SOURCE_DIR
set -euo pipefail
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py() { "$src/tools/ntapython" "$@"; }
fail() { echo "FAIL: $*"; exit 1; }

# fake TAUC_FACTOR SHIFT_ROW SHIFT_COL SHIFT: writes $tmp/tauc.h5 and $tmp/reg.h5
fake() {
  py - "$tmp" "$src/tools" "$@" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import h5py, numpy as np
from paper_reference import REG_GRID, TAU_C_GRID
out, factor, row, col, shift = sys.argv[1], float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
for name, column, grid, values in (("tauc", "tau_c", TAU_C_GRID, [v * factor for v in (0.02, 0.04, 0.06, 0.08, 0.1)]),
                                   ("reg", "lam", REG_GRID, [0, 0.05, 0.1, 0.15, 0.2])):
    blocks, cols, ta = [], [], []
    for i, b in enumerate((1, 0.8, 0.6, 0.4, 0.1)):
        for j, c in enumerate(values):
            v = grid[i][j] + (shift if (name, i, j) == ("tauc", row, col) else 0.0)
            for d in (-0.01, 0.01):     # two seeds, mean v
                blocks.append(b); cols.append(c); ta.append(v + d)
    n = len(ta)
    # records: state at t = 0, 0.1, ...; cos_sim[m, p] = 0.3 on the diagonal at every record
    cos = np.zeros((n, 3, 2, 2)); cos[:, :, 0, 0] = cos[:, :, 1, 1] = 0.3
    with h5py.File("%s/%s.h5" % (out, name), "w") as f:
        f["block_len"] = np.array(blocks); f[column] = np.array(cols); f["total_alignment"] = np.array(ta)
        f["status"] = np.ones(n, dtype=np.int8); f["cos_sim"] = cos; f["record_interval"] = np.full(n, 0.1)
PY
}
score() { "$src/tools/fig5_score.py" "$tmp/tauc.h5" "$tmp/reg.h5" --match best "$@"; }

fake 1 0 0 0
score | tee "$tmp/out"
grep -q "tau_c grid 25/25, lam grid 25/25, all 50/50; max dev 0.00" "$tmp/out" || fail "exact grids do not score 50/50"
fake 0.5 2 3 0.3
score | tee "$tmp/out"
grep -q "tau_c grid 24/25, lam grid 25/25, all 49/50; max dev 0.30" "$tmp/out" || fail "one moved cell is not the one outside 0.1"
score --cells > "$tmp/out"
grep -q "within paper_check's tolerance: 49/50" "$tmp/out" || fail "--cells: not 49/50 within tolerance"
[ "$(grep -c ' differs ' "$tmp/out")" -eq 1 ] || fail "--cells: not exactly one cell differs"
grep -q "^tau_c tau_B 0.6 tau_c 0.08  ours 0.925 theirs 0.625 tol 0.05 differs sd 0.014 theirs at 67.1 se10$" "$tmp/out" \
  || fail "--cells: the moved cell (tau_B 0.6, 4th tau_c) is not the one that differs"
score --at 0.1 | tee "$tmp/out"
grep -q "; (b) 0.30 0.30 0.30 0.30" "$tmp/out" || fail "--at 0.1 does not read the records"
rc=0
"$src/tools/fig5_score.py" "$tmp/none.h5" "$tmp/reg.h5" 2> "$tmp/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q "none.h5" "$tmp/err" || fail "a missing file: exit $rc, not 2 naming the file"

# The sorted matching on hand-made runs (M = P = 2, teachers e-rows, records
# of cos_sim at t = 0, 0.1, 0.2 and the final state at 0.3):
#   run 0: records lean path 0 -> teacher 0: kept; final specialised -> 1
#   run 1: records lean path 0 -> teacher 1, path 1 -> teacher 0: swapped;
#          the final state specialised the other way -> 0 (best per teacher: 1)
#   run 2: both paths lean to teacher 0: swapped (their rule) -> 0
py - "$tmp" "$src/tools" <<'PY' || fail "sorted_alignment_at does not sort as the authors' sort_it"
import sys
sys.path.insert(0, sys.argv[2])
import h5py, numpy as np, ntatools
T = np.zeros((2, 2, 4)); T[0, 0, 0] = T[0, 1, 1] = T[1, 0, 2] = T[1, 1, 3] = 1
W = T.copy()  # path p = teacher p at the end
lean = {0: [[0.9, 0.1], [0.1, 0.9]], 1: [[0.1, 0.9], [0.9, 0.1]], 2: [[0.9, 0.8], [0.1, 0.2]]}
with h5py.File(sys.argv[1] + "/s.h5", "w") as f:
    f["cos_sim"] = np.array([[lean[r]] * 3 for r in range(3)], dtype=float)
    f["record_interval"] = np.full(3, 0.1)
    f["teacher_weights"] = np.array([T] * 3); f["student_weights"] = np.array([W] * 3)
    f["total_alignment"] = np.ones(3)
with h5py.File(sys.argv[1] + "/s.h5", "r") as f:
    got = ntatools.sorted_alignment_at(f, [0, 1, 2], 0.3)
    best = ntatools.alignment_at(f, [0, 1, 2], 0.3)
    at_record = ntatools.sorted_alignment_at(f, [0], 0.1)
print(got, best, at_record)
assert np.allclose(got, [1, 0, 0]) and np.allclose(best, [1, 1, 1]) and np.allclose(at_record, [0.9])
PY
