#!/usr/bin/env bash
# Command-line and tidy-results tests (issue: results as tidy data, CLI habits).
# usage: cli.sh TEST NTASWEEP_BINARY SOURCE_DIR
set -euo pipefail
test=$1 bin=$2 src=$3
tmp=$(mktemp -d /tmp/ntasweep-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
py() { "$src/tools/ntapython" "$@"; }
mpi() { local np=$1; shift; mpirun -np "$np" --oversubscribe "$@"; }
passed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { echo "FAIL $*"; exit 1; }
# expect_rc WANT CMD...: runs CMD, its stderr into $tmp/err, and checks the exit status.
expect_rc() {
  local want=$1 rc=0; shift
  "$@" > "$tmp/out" 2> "$tmp/err" || rc=$?
  [ "$rc" -eq "$want" ] || { cat "$tmp/err"; fail "$* exited $rc, expected $want"; }
}
tidy=$src/tests/cli/tidy.ini

case $test in
cli_tidy)
  # Parameters, cases and [vars] are coordinates along run; strings are str.
  mpi 2 "$bin" run "$tidy" -o "$tmp/t.h5" --quiet
  py "$src/tests/cli/check_tidy.py" "$tmp/t.h5"
  ok "xarray sel / where / groupby on cases and vars"
  ;;
*)
  echo "unknown test $test"; exit 2 ;;
esac
echo "$passed checks passed"
