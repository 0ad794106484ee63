#!/usr/bin/env bash
# tools/fig5_score.py on fake Fig. 5 files: two seeds per cell whose mean is
# the authors' printed value score 50/50; one cell moved by 0.3 is the only
# one outside 0.1 and sets the largest deviation; columns are matched by rank
# (a tau_c grid scaled by 0.5 scores the same); --cells names that cell as
# the one outside paper_check's tolerance; --at reads the records; a
# missing file exits 2.
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
score() { "$src/tools/fig5_score.py" "$tmp/tauc.h5" "$tmp/reg.h5" "$@"; }

fake 1 0 0 0
score | tee "$tmp/out"
grep -q "tau_c grid 25/25, lam grid 25/25, all 50/50; max dev 0.00" "$tmp/out" || fail "exact grids do not score 50/50"
fake 0.5 2 3 0.3
score | tee "$tmp/out"
grep -q "tau_c grid 24/25, lam grid 25/25, all 49/50; max dev 0.30" "$tmp/out" || fail "one moved cell is not the one outside 0.1"
score --cells > "$tmp/out"
grep -q "within paper_check's tolerance: 49/50" "$tmp/out" || fail "--cells: not 49/50 within tolerance"
[ "$(grep -c ' differs$' "$tmp/out")" -eq 1 ] || fail "--cells: not exactly one cell differs"
grep -q "^tau_c tau_B 0.6 tau_c 0.08  ours 0.925 theirs 0.625 tol 0.05 differs$" "$tmp/out" \
  || fail "--cells: the moved cell (tau_B 0.6, 4th tau_c) is not the one that differs"
score --at 0.1 | tee "$tmp/out"
grep -q "; (b) 0.30 0.30 0.30 0.30" "$tmp/out" || fail "--at 0.1 does not read the records"
rc=0
"$src/tools/fig5_score.py" "$tmp/none.h5" "$tmp/reg.h5" 2> "$tmp/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q "none.h5" "$tmp/err" || fail "a missing file: exit $rc, not 2 naming the file"
