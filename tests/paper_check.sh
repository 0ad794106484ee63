#!/usr/bin/env bash
# tools/paper_check on a fake results directory (tests/make_fake_results.py):
# a reference row equal to our value passes, a wrong one differs (and fails
# --strict), a row of an absent results file is missing, --json carries the
# same verdicts, and the shipped reference table runs on the directory without
# error and reads what the fake file has.
# usage: paper_check.sh SOURCE_DIR
set -euo pipefail
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py() { "$src/tools/ntapython" "$@"; }
fail() { echo "FAIL: $*"; exit 1; }
has() { grep -q -- "$1" "$2" || fail "'$1' not in $2"; }

mkdir "$tmp/res"
py "$src/tests/make_fake_results.py" "$tmp/res/fig2.h5" --seeds 3 > /dev/null

# Our value, computed here independently: the flexible runs' mean first loss
# and their mean time to threshold in block 3.
read -r loss0 ttt3 < <(py - "$tmp/res/fig2.h5" <<'EOF'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
case = [bytes(c).rstrip(b"\0").decode() for c in f["case"][()]]
runs = [i for i, c in enumerate(case) if c == "flexible" and f["status"][i] == 1]
print(repr(float(np.mean(f["loss"][runs, 0]))), repr(float(np.mean(f["time_to_threshold"][runs, 2]))))
EOF
)
echo "expected: initial loss $loss0, time to threshold in block 3 $ttt3"

# table FILE INITIAL_LOSS_REF INITIAL_LOSS_TOL: a reference table of three rows.
table() {
  cat > "$1" <<EOF
R = dict(figure="Fig. 2", sweep="fig2", source="test")
ROWS = [
    dict(R, quantity="initial loss", measure=dict(kind="series", dataset="loss", case="flexible", t=0.0),
         ref=$2, tol=$3),
    dict(R, quantity="time to 0.1 in block 3", measure=dict(kind="time_to_threshold", case="flexible", blocks=[2]),
         ref=[$ttt3 - 0.01, $ttt3 + 0.01], tol=0),
    dict(R, figure="Fig. 9", sweep="fig9", quantity="absent file",
         measure=dict(kind="final", dataset="total_alignment", case="flexible"), ref=1.0, tol=0.1),
]
EOF
}
table "$tmp/good.py" "$loss0" 1e-9
# The initial loss off by 0.05, five times its tolerance.
table "$tmp/bad.py" "$loss0 + 0.05" 0.01

"$src/tools/paper_check" "$tmp/res" --reference "$tmp/good.py" --strict > "$tmp/good.out" \
  || { cat "$tmp/good.out"; fail "--strict failed on a table that matches"; }
cat "$tmp/good.out"
has "initial loss .* pass" "$tmp/good.out"
has "time to 0.1 in block 3 .* pass" "$tmp/good.out"
has "absent file .* missing (no results file fig9.h5)" "$tmp/good.out"
has "summary: 2 pass, 0 differs, 1 missing" "$tmp/good.out"
echo "ok   matching values pass, an absent file is missing, --strict exits 0"

rc=0; "$src/tools/paper_check" "$tmp/res" --reference "$tmp/bad.py" --strict > "$tmp/bad.out" || rc=$?
cat "$tmp/bad.out"
[ "$rc" -eq 1 ] || fail "--strict with a wrong reference value: expected exit 1, got $rc"
has "initial loss .* differs" "$tmp/bad.out"
"$src/tools/paper_check" "$tmp/res" --reference "$tmp/bad.py" > /dev/null \
  || fail "without --strict a differing row must not fail"
echo "ok   a wrong value differs; --strict exits 1, plain exits 0"

"$src/tools/paper_check" "$tmp/res" --reference "$tmp/bad.py" --json > "$tmp/bad.json"
py - "$tmp/bad.json" "$loss0" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
v = [r["verdict"] for r in d["rows"]]
assert v == ["differs", "pass", "missing"], v
assert abs(d["rows"][0]["value"] - float(sys.argv[2])) < 1e-12, d["rows"][0]
assert d["summary"] == {"pass": 1, "differs": 1, "missing": 1}, d["summary"]
assert d["figures"]["Fig. 2"]["differs"] == 1 and d["figures"]["Fig. 9"]["missing"] == 1, d["figures"]
EOF
echo "ok   --json carries values and verdicts"

# A differing row with a documented cause still differs (and fails --strict),
# and says why in the text and the JSON; a passing row does not print it.
py - "$tmp/bad.py" "$tmp/cause.py" <<'PYEOF'
import sys
s = open(sys.argv[1]).read()
s = s.replace("tol=0.01),", "tol=0.01, cause=\"a known single-batch spread\"),", 1)
s = s.replace("tol=0),", "tol=0, cause=\"never shown on a pass\"),", 1)
open(sys.argv[2], "w").write(s)
PYEOF
grep -q "known single-batch spread" "$tmp/cause.py" || fail "the cause table was not written"
rc=0; "$src/tools/paper_check" "$tmp/res" --reference "$tmp/cause.py" --strict > "$tmp/cause.out" || rc=$?
cat "$tmp/cause.out"
[ "$rc" -eq 1 ] || fail "--strict with a caused difference: expected exit 1, got $rc"
has "initial loss .* differs (cause: a known single-batch spread)" "$tmp/cause.out"
has "time to 0.1 in block 3 .* pass$" "$tmp/cause.out"
has "summary: 1 pass, 1 differs, 1 missing (1 of the differing rows with a documented cause)" "$tmp/cause.out"
"$src/tools/paper_check" "$tmp/res" --reference "$tmp/cause.py" --json > "$tmp/cause.json"
py - "$tmp/cause.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert [r["verdict"] for r in d["rows"]] == ["differs", "pass", "missing"], d["rows"]
assert d["rows"][0]["cause"] == "a known single-batch spread", d["rows"][0]
assert d["rows"][2]["cause"] is None, d["rows"][2]
assert d["summary"] == {"pass": 1, "differs": 1, "missing": 1}, d["summary"]
assert d["differs_with_cause"] == 1, d
PYEOF
echo "ok   a documented cause is printed with the differing row, in text and JSON"
py - "$tmp/bad.py" "$tmp/badcause.py" <<'PYEOF'
import sys
open(sys.argv[2], "w").write(open(sys.argv[1]).read().replace("tol=0.01),", "tol=0.01, cause=3),", 1))
PYEOF
rc=0; "$src/tools/paper_check" "$tmp/res" --reference "$tmp/badcause.py" > "$tmp/badcause.out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "a cause that is not a string: expected exit 2, got $rc"
has "cause must be a string" "$tmp/badcause.out"
echo "ok   a cause that is not text is refused"

# The shipped table: every row gets a verdict; fig2 rows are computed from the fake file.
"$src/tools/paper_check" "$tmp/res" --json > "$tmp/all.json"
py - "$tmp/all.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
rows = d["rows"]
assert len(rows) > 100, len(rows)
assert all(r["source"] and r["verdict"] in ("pass", "differs", "missing") for r in rows)
fig2 = [r for r in rows if r["sweep"] == "fig2"]
assert any(r["value"] is not None for r in fig2), fig2
other = [r for r in rows if r["sweep"] != "fig2"]
assert all(r["verdict"] == "missing" and "no results file" in r["reason"] for r in other)
EOF
echo "ok   the shipped reference table runs on the directory"

rc=0; "$src/tools/paper_check" "$tmp/res" --only fig99 > "$tmp/only.out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "--only of an unknown sweep: expected exit 2, got $rc"
echo "x = (" > "$tmp/broken.py"
rc=0; "$src/tools/paper_check" "$tmp/res" --reference "$tmp/broken.py" > "$tmp/broken.out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "broken reference table: expected exit 2, got $rc"
has "cannot read the reference table" "$tmp/broken.out"
echo "ok   bad usage exits 2"
