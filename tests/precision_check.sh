#!/usr/bin/env bash
# tools/precision_check.py, quick: --figure 8 with 2 seeds and --figure 5 (the
# default) on one short cell each print a float64 and a float32 line of finite
# numbers that agree within 0.01 (the same draws in both precisions); after
# every Fig. 8 switch the loss falls from step 1 to step 5; --only prints one
# precision; bad options exit 2 with a message and print no result.
# Skipped (exit 77) when no interpreter here imports numpy.
# usage: precision_check.sh SOURCE_DIR
set -euo pipefail
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

py=
for cand in /usr/bin/python3 "$(command -v python3 2>/dev/null || true)" /usr/bin/python3.11; do
  if [ -n "$cand" ] && [ -x "$cand" ] && "$cand" -c 'import numpy' 2>/dev/null; then py=$cand; break; fi
done
[ -n "$py" ] || { echo "SKIP: no Python interpreter here imports numpy (install Debian's python3-numpy)"; exit 77; }
tool() { "$py" "$src/tools/precision_check.py" "$@"; }

# check FILE KIND: two lines, float64 then float32, every number finite, the
# precisions within 0.01 of each other; KIND fig8 also wants step 5 < step 1.
check() {
  "$py" - "$1" "$2" <<'PY' || fail "$2: $(cat "$1")"
import math, re, sys
lines = open(sys.argv[1]).read().splitlines()
kind = sys.argv[2]
assert [l.split()[0] for l in lines] == ["float64", "float32"], "not one float64 and one float32 line"
def numbers(line):
    if kind == "fig8":
        pairs = re.findall(r"(\d): (\S+)/(\S+)", line)
        assert [p[0] for p in pairs] == ["1", "2", "3", "4"], "not switches 1-4"
        return [float(v) for p in pairs for v in p[1:]]
    m = re.search(r"total alignment mean (\S+) sd (\S+) \((\d+) seeds\) (.*)$", line)
    assert m and m.group(3) == "2", "no mean, sd and 2 seeds"
    return [float(m.group(1)), float(m.group(2))] + [float(v) for v in m.group(4).split()]
n64, n32 = (numbers(l) for l in lines)
assert len(n64) == len(n32) and all(math.isfinite(v) for v in n64 + n32), "a number is not finite"
assert max(abs(a - b) for a, b in zip(n64, n32)) < 0.01, "float32 is not within 0.01 of float64"
if kind == "fig8":
    assert all(n64[i + 1] < n64[i] for i in range(0, 8, 2)), "the loss does not fall after a switch"
PY
}

tool --figure 8 --seeds 2 > "$tmp/fig8" || fail "--figure 8 --seeds 2 exits $?"
cat "$tmp/fig8"
check "$tmp/fig8" fig8
cell=(--seeds 2 --steps 300 --block 0.1 --tau-c 0.08 --lam-nonneg 0.5 --lam-norm 1.25)
tool --figure 5 "${cell[@]}" > "$tmp/fig5" || fail "--figure 5 exits $?"
cat "$tmp/fig5"
check "$tmp/fig5" fig5
tool "${cell[@]}" --only float32 > "$tmp/only" || fail "--only float32 exits $?"
[ "$(cat "$tmp/only")" = "$(sed -n 2p "$tmp/fig5")" ] || fail "without --figure, --only float32 is not the float32 line of --figure 5"

# bad ARGS... EXPECTED: exit 2, EXPECTED on stderr, nothing on stdout
bad() {
  local want=${*: -1} rc=0
  tool "${@:1:$#-1}" > "$tmp/out" 2> "$tmp/err" || rc=$?
  [ "$rc" -eq 2 ] && grep -qF -- "$want" "$tmp/err" && [ ! -s "$tmp/out" ] \
    || fail "${*:1:$#-1}: exit $rc, stderr '$(cat "$tmp/err")', not 2 with '$want'"
}
bad --figure 7 "invalid choice: 7"
bad --figure 8 --block 1 "--block applies to --figure 5 only"
bad --figure 8 --seeds 0 "--seeds must be at least 1"
bad --block 1 --tau-c 0.08 --lam-nonneg 0.5 "--figure 5 needs --lam-norm"
bad "${cell[@]}" --tau-c nan "not a finite number"
