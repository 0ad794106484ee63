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
cli_resume)
  # A sweep started with --set, some runs left pending, the sweep file (and
  # its include) gone: `ntasweep resume OUT.h5` alone finishes it, bitwise
  # equal to an uninterrupted sweep, on 1 or 2 ranks.
  mkdir -p "$tmp/s/sub" "$tmp/elsewhere"
  sed -n '/^\[params\]/,/^record_every/p' "$tidy" > "$tmp/s/sub/base.ini"
  { printf '[sweep]\nname = tidy_inc\nreplicates = 2\ninclude = sub/base.ini\n'; sed -n '/^\[vars\]/,$p' "$tidy"; } > "$tmp/s/main.ini"
  set_args=(--set record_every=4 --set "batch=12")
  mpi 2 "$bin" run "$tmp/s/main.ini" -o "$tmp/ref.h5" "${set_args[@]}" --quiet
  for np in 1 2; do
    cp "$tmp/ref.h5" "$tmp/r$np.h5"
    py - "$tmp/r$np.h5" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as f:
    st = f["status"][()]
    st[3:11] = 0            # these runs are pending again
    f["status"][:] = st
    for name in ("loss", "specialization"):
        d = f[name][()]; d[3:11] = np.nan; f[name][:] = d
PY
  done
  mv "$tmp/s" "$tmp/s-moved"
  (cd "$tmp/elsewhere" && mpi 1 "$bin" resume "$tmp/r1.h5" --quiet)
  (cd "$tmp/elsewhere" && mpi 2 "$bin" resume "$tmp/r2.h5" 2> "$tmp/log")
  cat "$tmp/log"
  grep -q "8 done, 0 failed, 8 already done before" "$tmp/log" || fail "resume ran other than the 8 pending runs"
  py "$src/tests/compare_h5.py" "$tmp/ref.h5" "$tmp/r1.h5"
  py "$src/tests/compare_h5.py" "$tmp/ref.h5" "$tmp/r2.h5"
  [ -z "$(ls "$tmp" | grep 'spec-')" ] || fail "the stored sweep text was left behind: $(ls "$tmp")"
  ok "resume from the file alone (sweep file and include moved away, --set stored), 1 and 2 ranks, bitwise"
  # With the sweep file where it was, resume uses it (same text) and finishes nothing twice.
  mv "$tmp/s-moved" "$tmp/s"
  (cd "$tmp" && "$bin" resume "$tmp/r2.h5" 2> "$tmp/log")
  grep -q "0 done, 0 failed, 16 already done before" "$tmp/log" || { cat "$tmp/log"; fail "second resume"; }
  ok "resume of a finished sweep runs nothing"
  # Refusals print the stored command line, --set included; the file is untouched.
  cp "$tmp/r2.h5" "$tmp/old.h5"
  py - "$tmp/old.h5" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as f:
    f.attrs["format_version"] = np.int64(3)
PY
  cp "$tmp/old.h5" "$tmp/old-before.h5"
  expect_rc 2 "$bin" resume "$tmp/old.h5"
  cat "$tmp/err"
  grep -q "results format 3" "$tmp/err" || fail "no format message"
  grep -q "started as:" "$tmp/err" && grep -q -- "--set record_every=4 --set batch=12" "$tmp/err" || fail "refusal without the stored command line"
  cmp "$tmp/old.h5" "$tmp/old-before.h5"
  expect_rc 2 "$bin" resume "$tmp/missing.h5"
  grep -q "nothing to resume" "$tmp/err" || fail "missing file message"
  ok "refusals: older format (exit 2, stored command line, file untouched), missing file"
  ;;
*)
  echo "unknown test $test"; exit 2 ;;
esac
echo "$passed checks passed"
