# checks.sh — the counted checks every shell test shares (source it after
# setting `src`, the source directory). Every assertion is `check WHAT CMD...`;
# `finish` prints the real tally "N passed, M failed" and fails if anything
# failed or nothing was checked. A script's EXIT trap ends with
# `exit_checked $rc`, which says when a step failed before the remaining checks.
passed=0 failed=0 finished=0
# check DESCRIPTION CMD...: run CMD, count a pass (exit 0) or a failure.
check() {
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $what"
  else failed=$((failed + 1)); echo "FAIL $what"; fi
}
finish() {
  finished=1
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}
# exit_checked RC: the last step of a script's EXIT trap (after its cleanup).
# A step that failed before `finish` ran is said, and makes the exit status
# non-zero even where the failing command's own was 0; a skip (77) stays 77.
exit_checked() {
  local rc=$1
  if [ "$finished" -eq 0 ] && [ "$rc" -ne 77 ]; then
    echo "$passed passed, $failed failed, then a step failed (exit $rc) before the remaining checks"
    [ "$rc" -ne 0 ] || rc=1
  fi
  exit "$rc"
}
not() { ! "$@"; }
has() { grep -q -- "$1" "$2"; }
is() { [ "$1" = "$2" ] || { echo "  got '$1', expected '$2'"; return 1; }; }
skip() { echo "SKIP: $*"; exit 77; }
py() { "$src/tools/ntapython" "$@"; }
mpi() { local np=$1; shift; "$src/tools/mpi-launch" -n "$np" "$@"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
