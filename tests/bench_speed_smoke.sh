#!/usr/bin/env bash
# bench_speed_smoke: `tools/bench-speed --quick --scaling` prints the side-by-side
# table (ntasweep sampled, ntasweep wishart, numpy peer: positive finite
# seconds, µs per step and ratios, the first ratio 1.00) and the scaling table
# (one row per shape, a bound of GEMM-bound or RNG-bound). Shape only: no
# timing thresholds (the machine is shared). Bad options exit 2.
# usage: bench_speed_smoke.sh NTASWEEP_BINARY SOURCE_DIR
set -u
bin=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { local what=$1; shift; if "$@"; then :; else echo "FAIL: $what"; fail=1; fi; }

if ! "$src/tools/bench-speed" --quick --scaling --bin "$bin" > "$tmp/out.txt" 2> "$tmp/err.txt"; then
  cat "$tmp/out.txt" "$tmp/err.txt"; echo "FAIL: tools/bench-speed --quick --scaling exited non-zero"; exit 1
fi
cat "$tmp/out.txt"

check "side-by-side table: three rows with four positive numbers, ratio 1.00 first" awk '
  $1 == "implementation" { inside = 1; next }
  inside && /^(ntasweep sampled|ntasweep wishart|numpy peer \(float32\)) / {
    for (i = NF - 3; i <= NF; i++) if (!($i + 0 > 0) || $i ~ /nan|inf/) { print "bad: " $0; bad = 1 }
    if (n == 0 && $NF != "1.00") { print "first ratio not 1.00: " $0; bad = 1 }
    n++; next }
  inside { inside = 0 }
  END { if (n != 3) { print "rows: " n; bad = 1 } exit bad }' "$tmp/out.txt"
check "ratio lines and the load averages" bash -c '
  grep -q "^numpy peer / ntasweep sampled = [0-9.]*, / ntasweep wishart = [0-9.]*" "$1" &&
  grep -q "^load average before: [0-9.]* [0-9.]* [0-9.]*$" "$1" &&
  grep -q "^load average after --scaling: " "$1"' _ "$tmp/out.txt"
check "scaling table: 8 shapes, 11 columns, a bound each" awk '
  $1 == "d_in" && $2 == "batch" { inside = 1; next }
  inside && NF == 11 && $1 ~ /^[0-9]+$/ {
    # us_per_step and ratio (columns 4, 9) are measured: a difference of two
    # short CPU times that the tool clamps at 0 when the load makes it come
    # out negative, so only their form is checked; the floor columns are
    # computed and must be positive.
    for (i = 4; i <= 10; i++)
      if ((i == 4 || i == 9) ? $i !~ /^[0-9]+\.[0-9]+$/ : (!($i + 0 > 0) || $i ~ /nan|inf/)) { print "bad: " $0; bad = 1 }
    if ($11 != "GEMM-bound" && $11 != "RNG-bound") { print "bound: " $0; bad = 1 }
    shape[$1 " " $2 " " $3] = 1; n++; next }
  inside { inside = 0 }
  END { if (n != 8) { print "rows: " n; bad = 1 }
        if (!(("20 200 2") in shape) || !(("80 200 2") in shape) || !(("20 800 2") in shape) || !(("20 200 8") in shape)) { print "missing shape"; bad = 1 }
        exit bad }' "$tmp/out.txt"

"$src/tools/bench-speed" --no-such-option > /dev/null 2>&1; rc=$?
check "a bad option exits 2 (got $rc)" test "$rc" -eq 2
"$src/tools/bench-speed" --blocks 0 --bin "$bin" > /dev/null 2>&1; rc=$?
check "--blocks 0 exits 2 (got $rc)" test "$rc" -eq 2
"$src/tools/bench-speed" --bin "$tmp/missing" > /dev/null 2>&1; rc=$?
check "a missing binary exits 2 (got $rc)" test "$rc" -eq 2
exit $fail
