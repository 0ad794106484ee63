#!/usr/bin/env bash
# tools/reproduce on the tiny figure sweeps of tests/reproduce/: it runs them,
# draws the figure that has a plot script, reports the one that has none,
# skips smoke*.ini, writes the index; a second invocation reruns nothing;
# Ctrl-C stops it with exit 3 and the next invocation resumes to the same file.
# usage: reproduce.sh NTASWEEP_BINARY SOURCE_DIR
set -euo pipefail
bin=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# (tools/reproduce launches through tools/run-local and tools/mpi-launch, which set what the MPI needs)
repro() { "$src/tools/reproduce" --sweeps "$src/tests/reproduce" --bin "$bin" --ranks 2 "$@"; }
# Every assertion counts; a failure stops the test with the tally so far.
passed=0
fail() { echo "FAIL: $*"; echo "$passed passed, 1 failed"; exit 1; }
pass() { passed=$((passed + 1)); }
has() { if grep -q -- "$1" "$2"; then pass; else fail "'$1' not in $2"; fi; }
# repro_ok LOG ARGS...: tools/reproduce must exit 0; its output goes to LOG.
repro_ok() {
  local log=$1 rc=0; shift
  repro "$@" > "$log" 2>&1 || rc=$?
  cat "$log"
  [ "$rc" -eq 0 ] || fail "tools/reproduce $* exited $rc"
}
r=$tmp/r
index=$r/figures/README.md

# 1. Everything from nothing.
repro_ok "$tmp/log1" --results "$r"
[ -s "$r/figures/fig2.png" ] && pass || fail "no fig2.png"
[ ! -e "$r/figures/figA99_unplotted.png" ] && pass || fail "a PNG for a sweep without a plot script"
[ ! -e "$r/smoke_not_a_figure.h5" ] && pass || fail "smoke_not_a_figure.ini was run"
has "no plot script tools/plot_figA99_unplotted.py" "$tmp/log1"
[ "$("$bin" status --json "$r/fig2.h5" | "$src/tools/ntapython" "$src/tests/json_get.py" runs done failed pending)" = "6 6 0 0" ] || fail "fig2.h5 not complete"
[ "$("$bin" status --json "$r/figA99_unplotted.h5" | "$src/tools/ntapython" "$src/tests/json_get.py" runs done failed pending)" = "2 2 0 0" ] || fail "figA99_unplotted.h5 not complete"
cat "$index"
has '| Fig. 2 | flexible vs forgetful NTA' "$index"
has '\[fig2.png\](fig2.png) | 6/6 done | [0-9.]* s on 2 ranks |' "$index"
has '| Fig. A.99B | a sweep without a plot script' "$index"
has 'no plot script yet' "$index"
has '!\[Fig. 2\](fig2.png)' "$index"
has 'Total wall time of the sweeps' "$index"
# The paper_check verdicts: a column per figure and a table under the figure.
has '| wall time | paper check |' "$index"
has '| 6/6 done | [0-9.]* s on 2 ranks | [0-9]* pass\|| 6/6 done | [0-9.]* s on 2 ranks | [0-9]* differs' "$index"
has "Against the paper and the authors' runs" "$index"
has '| initial loss (flexible) | 0.25 | 0\.[0-9]* | 0.02 | ' "$index"
! grep -q smoke "$index" && pass || fail "the index lists a smoke sweep"
[ "$(grep -n 'Fig. 2 |' "$index" | cut -d: -f1)" -lt "$(grep -n 'Fig. A.99B |' "$index" | cut -d: -f1)" ] \
  && pass || fail "Fig. 2 is not listed before Fig. A.99B"
echo "ok   first invocation: runs, figure, index"

# 2. A second invocation reruns nothing and changes no result.
cp "$r/fig2.h5" "$tmp/fig2-before.h5"
cp "$r/figA99_unplotted.h5" "$tmp/A99-before.h5"
cp "$r/fig2.h5.times" "$tmp/times-before"
repro_ok "$tmp/log2" --results "$r"
has "fig2: already complete (6 runs), not rerun" "$tmp/log2"
has "figA99_unplotted: already complete (2 runs), not rerun" "$tmp/log2"
! grep -q "^ntasweep:" "$tmp/log2" && pass || fail "ntasweep ran in the second invocation"
cmp "$tmp/fig2-before.h5" "$r/fig2.h5"
cmp "$tmp/A99-before.h5" "$r/figA99_unplotted.h5"
cmp "$tmp/times-before" "$r/fig2.h5.times"
[ -s "$r/figures/fig2.png" ] && pass || fail "fig2.png gone"
echo "ok   second invocation reran nothing"

# 3. Ctrl-C (SIGINT to tools/reproduce) as soon as the results file exists:
#    exit 3, a consistent partial file; the same command resumes it to a file
#    bitwise equal to the uninterrupted one.
r2=$tmp/r2
# (not through the function: $! must be tools/reproduce itself)
"$src/tools/reproduce" --sweeps "$src/tests/reproduce" --bin "$bin" --ranks 2 --results "$r2" --only fig2 \
  > "$tmp/log3" 2>&1 &
pid=$!
# (an observable state, bounded generously: start-up on a loaded machine is slow)
for _ in $(seq 1200); do [ -e "$r2/fig2.h5" ] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
[ -e "$r2/fig2.h5" ] && pass || { cat "$tmp/log3"; fail "fig2.h5 did not appear before tools/reproduce ended or within 60 s"; }
kill -INT "$pid"
rc=0; wait "$pid" || rc=$?
cat "$tmp/log3"
[ "$rc" -eq 3 ] && pass || fail "SIGINT: expected exit 3, got $rc"
has "stopped; rerun the same command to resume" "$tmp/log3"
"$bin" status "$r2/fig2.h5" || true
"$src/tools/ntapython" "$src/tests/check_partial.py" "$r/fig2.h5" "$r2/fig2.h5" && pass || fail "the stopped file is inconsistent"
repro_ok "$tmp/log4" --results "$r2" --only fig2
has "fig2: resuming" "$tmp/log4"
"$src/tools/ntapython" "$src/tests/compare_h5.py" "$r/fig2.h5" "$r2/fig2.h5" && pass || fail "resumed file not bitwise equal"
[ -s "$r2/figures/fig2.png" ] && pass || fail "no fig2.png after the resume"
[ "$(grep -vc '^#' "$r2/fig2.h5.times")" -eq 2 ] && pass || fail "expected two timed parts in $r2/fig2.h5.times"
has '(2 parts)' "$r2/figures/README.md"
echo "ok   Ctrl-C and resume"

# 4. --plot-only, --list, --names, --only errors.
rm "$r2/figures/fig2.png"
repro_ok "$tmp/log5" --results "$r2" --plot-only --only fig2
! grep -q "^ntasweep:" "$tmp/log5" && pass || fail "--plot-only ran ntasweep"
[ -s "$r2/figures/fig2.png" ] && pass || fail "--plot-only drew no fig2.png"
rc=0; repro --results "$tmp/empty" --plot-only > "$tmp/log6" 2>&1 || rc=$?
cat "$tmp/log6"
[ "$rc" -eq 1 ] && pass || fail "--plot-only without results: expected exit 1, got $rc"
has "fig2: FAILED: not plotted: no results file" "$tmp/log6"
repro --results "$r" --list > "$tmp/list"
cat "$tmp/list"
has "^fig2 *Fig. 2 *6 " "$tmp/list"
has "^figA99_unplotted *Fig. A.99B *2 .*none yet *2/2 done" "$tmp/list"
! grep -q smoke "$tmp/list" && pass || fail "--list shows a smoke sweep"
[ "$(repro --names | tr '\n' ' ')" = "fig2 figA99_unplotted " ] && pass || fail "--names: $(repro --names)"
rc=0; repro --only fig9 > "$tmp/log7" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && pass || fail "--only of an unknown sweep: expected exit 2, got $rc"
has "no figure sweep named fig9" "$tmp/log7"
echo "ok   --plot-only, --list, --names, --only"
echo "$passed passed, 0 failed"
