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
cli_export)
  # One row per run, in three formats, equal to ntaframe's table and to h5py.
  mpi 2 "$bin" run "$tidy" -o "$tmp/t.h5" --quiet
  "$bin" export "$tmp/t.h5" -o "$tmp/t.csv"
  "$bin" export "$tmp/t.h5" --format=tsv > "$tmp/t.tsv"
  "$bin" export "$tmp/t.h5" -o "$tmp/t.json"
  "$bin" export "$tmp/t.h5" --done -o "$tmp/done.csv"
  py "$src/tests/cli/check_export.py" "$tmp/t.h5" "$tmp/t.csv" "$tmp/t.tsv" "$tmp/t.json" "$tmp/done.csv"
  ok "export round trip (csv, tsv, json, --done)"
  expect_rc 2 "$bin" export "$tmp/nope.h5"
  grep -q "nope.h5: No such file" "$tmp/err" || fail "export of a missing file names it"
  expect_rc 2 "$bin" export "$tmp/t.h5" --format xml
  expect_rc 2 "$bin" export "$tmp/t.h5" -o "$tmp/no/such/dir/x.csv"
  [ ! -e "$tmp/no" ] || fail "export created a directory"
  ok "export refuses a missing file, a bad format and an unwritable path with exit 2"
  ;;
*)
  echo "unknown test $test"; exit 2 ;;
esac
echo "$passed checks passed"
