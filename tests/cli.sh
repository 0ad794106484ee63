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
  # The generic plot draws; it and a figure script refuse to average silently.
  mpi 2 "$bin" run "$tidy" -o "$tmp/p.h5" --set block_len=1 --set t_total=2,4 --quiet
  NTATOOLS_DPI=40 "$src/tools/plot_sweep.py" "$tmp/p.h5" --x t_total --y specialization --hue case -o "$tmp/p.png" > /dev/null
  NTATOOLS_DPI=40 "$src/tools/plot_sweep.py" "$tmp/p.h5" --x t_total --y loss --over time --hue case -o "$tmp/q.png" > /dev/null
  [ -s "$tmp/p.png" ] && [ -s "$tmp/q.png" ] || fail "plot_sweep wrote no image"
  expect_rc 2 "$src/tools/plot_sweep.py" "$tmp/t.h5" --x tau_c --y specialization -o "$tmp/r.png"
  grep -q "block_len, n_blocks, t_total also vary" "$tmp/err" || { cat "$tmp/err"; fail "plot_sweep did not name the hidden keys"; }
  expect_rc 2 "$src/tools/plot_fig2.py" "$tmp/t.h5" -o "$tmp/f.png"
  grep -q "which sweeps/fig2.ini keeps fixed" "$tmp/err" || { cat "$tmp/err"; fail "plot_fig2 accepted another sweep"; }
  [ ! -e "$tmp/r.png" ] && [ ! -e "$tmp/f.png" ] || fail "a refused plot wrote an image"
  ok "plot_sweep draws mean +- s.e.m.; plot_sweep and plot_fig2 refuse files they would average wrongly"
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
    f.attrs["format_version"] = np.int64(4)
PY
  cp "$tmp/old.h5" "$tmp/old-before.h5"
  expect_rc 2 "$bin" resume "$tmp/old.h5"
  cat "$tmp/err"
  grep -q "results format 4" "$tmp/err" && grep -q "writes format 5" "$tmp/err" || fail "no format message naming both formats"
  grep -q "started as:" "$tmp/err" && grep -q -- "--set record_every=4 --set batch=12" "$tmp/err" || fail "refusal without the stored command line"
  cmp "$tmp/old.h5" "$tmp/old-before.h5"
  expect_rc 2 "$bin" resume "$tmp/missing.h5"
  grep -q "nothing to resume" "$tmp/err" || fail "missing file message"
  ok "refusals: older format (exit 2, stored command line, file untouched), missing file"
  # A format-4 file from before max_dc_dt (a result every run writes) is
  # refused up front: exit 2, the dataset named, the file untouched.
  cp "$tmp/r2.h5" "$tmp/pre.h5"
  py - "$tmp/pre.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    del f["max_dc_dt"]
PY
  cp "$tmp/pre.h5" "$tmp/pre-before.h5"
  expect_rc 2 "$bin" resume "$tmp/pre.h5"
  cat "$tmp/err"
  grep -q "lacks dataset 'max_dc_dt'" "$tmp/err" && grep -q -- "--force-new" "$tmp/err" || fail "no missing-dataset message"
  cmp "$tmp/pre.h5" "$tmp/pre-before.h5"
  ok "refusal: a format-4 file without max_dc_dt (exit 2, dataset named, file untouched)"
  ;;
cli_json)
  # status --json and plan --json / --varied: schemas, and failed runs shown
  # with their varied parameters and the reason.
  "$bin" plan --json "$tidy" > "$tmp/plan.json"
  py "$src/tests/cli/check_json.py" plan "$tmp/plan.json"
  "$bin" plan --json --varied "$tidy" > "$tmp/plan-varied.json"
  py "$src/tests/cli/check_json.py" plan "$tmp/plan-varied.json" --varied block_len lambda_nonneg lambda_norm n_blocks seed t_total tau_c
  "$bin" plan --varied "$tidy" > "$tmp/plan.txt"
  grep -q "^run 0 key [0-9a-f]* case flexible: tau_c=0.1 block_len=0.5 n_blocks=4 lambda_nonneg=0.091 lambda_norm=0.456 seed=0 t_total=2 steps=" "$tmp/plan.txt" ||
    { head -3 "$tmp/plan.txt"; fail "plan --varied shows other keys"; }
  ok "plan --json schema; plan --varied (json and text) shows only the varying keys"
  # Runs that diverge (a huge step): exit 1, each failed run shown with its reason.
  expect_rc 1 mpi 2 "$bin" run "$tidy" -o "$tmp/f.h5" --set dt=0.09 --set tau_w=0.1 --set lambda_norm=50 --quiet
  expect_rc 1 "$bin" status --json "$tmp/f.h5"
  cp "$tmp/out" "$tmp/status.json"
  py "$src/tests/cli/check_json.py" status "$tmp/status.json"
  nf=$(py "$src/tests/json_get.py" failed < "$tmp/status.json")
  [ "$nf" -gt 0 ] || fail "no run failed"
  msg=$(py "$src/tests/json_get.py" failed_runs.0.message < "$tmp/status.json")
  [ -n "$msg" ] || fail "a failed run without a reason"
  expect_rc 1 "$bin" status "$tmp/f.h5"
  grep -q "failed: run [0-9]* (.*tau_c=.*): $msg" "$tmp/out" || { cat "$tmp/out"; fail "status text lacks the failed run's parameters and reason"; }
  ok "status --json schema ($nf failed runs, each with varied params and reason: $msg)"
  # A sweep in the middle of long runs (about 2000 s of work, stopped below):
  # status shows each rank's run and how far it is. status is read until both
  # ranks have reported steps (an observable state; at most 1200 tries), and
  # only if the sweep ended before that (an absurdly fast machine) is it
  # retried with 10 times longer runs.
  blocks=2000 seen=0
  for attempt in 1 2 3; do
    rm -f "$tmp"/long.h5*
    mpirun -np 2 --oversubscribe "$bin" run "$src/sweeps/fig2.ini" --set n_blocks=$blocks --set record_every=100000 \
      -o "$tmp/long.h5" --grace 0 --quiet > "$tmp/long.log" 2>&1 &
    pid=$! ended=0
    for _ in $(seq 1200); do
      kill -0 "$pid" 2> /dev/null || { ended=1; break; }
      if [ -e "$tmp/long.h5" ]; then
        { "$bin" status --json "$tmp/long.h5" 2> /dev/null || true; } > "$tmp/running.json"
        if py "$src/tests/cli/check_json.py" status "$tmp/running.json" --running 2 > "$tmp/check" 2>&1; then
          seen=1
          { "$bin" status "$tmp/long.h5" || true; } > "$tmp/running.txt" 2>&1
          break
        fi
      fi
      sleep 0.1
    done
    kill -USR1 "$pid" 2> /dev/null || true   # mpirun forwards USR1 (TERM would abort the job)
    rc=0; wait "$pid" || rc=$?
    if [ "$seen" = 1 ] || [ "$ended" = 0 ]; then break; fi
    blocks=$((blocks * 10))
  done
  [ "$seen" = 1 ] || { cat "$tmp/check" "$tmp/long.log"; fail "status --json never showed 2 ranks with 0 < step <= steps"; }
  grep -q "^  rank 1: run [0-9]* (.*): step [0-9]*/[0-9]*, for [0-9]* s, ETA [0-9]* s$" "$tmp/running.txt" ||
    { cat "$tmp/running.txt"; fail "status text lacks rank 1's step and ETA"; }
  [ "$rc" -eq 3 ] || { cat "$tmp/long.log"; fail "the stopped sweep exited $rc, expected 3"; }
  expect_rc 3 "$bin" status --json "$tmp/long.h5"
  [ "$(py "$src/tests/json_get.py" ranks < "$tmp/out")" = "[]" ] || fail "a stopped sweep still shows ranks"
  ok "status of a running sweep: both ranks in a run, 0 < step <= steps, ETA; none once stopped"
  ;;
cli_habits)
  # Help: per command, <= 80 columns, the man page is current.
  for c in "" $("$bin" help --commands); do
    if [ -n "$c" ]; then "$bin" "$c" --help > "$tmp/help"; else "$bin" --help > "$tmp/help"; fi
    [ -s "$tmp/help" ] || fail "no help for '$c'"
    awk -v c="$c" 'length($0) > 80 { print "help of " c " is " length($0) " wide: " $0; bad = 1 } END { exit bad }' "$tmp/help" || fail "help wider than 80 columns"
  done
  "$bin" help --man | cmp - "$src/docs/ntasweep.1" || fail "docs/ntasweep.1 is not what ntasweep help --man prints (regenerate it)"
  ok "every command has --help within 80 columns; the man page is current"
  # Completion: valid bash, and it completes commands and options from the binary.
  bash -n "$src/tools/ntasweep-completion.bash"
  words=$(bash -c 'source "$1"; PATH=$(dirname "$2"):$PATH; COMP_WORDS=(ntasweep sta); COMP_CWORD=1; _ntasweep; echo "${COMPREPLY[*]}"; COMP_WORDS=(ntasweep export x.h5 --fo); COMP_CWORD=3; _ntasweep; echo "${COMPREPLY[*]}"' _ "$src/tools/ntasweep-completion.bash" "$bin")
  [ "$words" = "$(printf 'status\n--format')" ] || fail "completion gave: $words"
  ok "completion script: bash -n, commands and options"
  # Habits: --opt=value, did you mean, exit codes.
  expect_rc 0 "$bin" validate "--set=tau_c=0.1" "$tidy"
  expect_rc 2 "$bin" stauts x.h5
  grep -q "did you mean 'status'" "$tmp/err" || fail "no suggestion for stauts"
  expect_rc 2 "$bin" plan "$tidy" --varid
  grep -q "did you mean '--varied'" "$tmp/err" || fail "no suggestion for --varid"
  expect_rc 2 "$bin" status "$tmp/nope.h5"
  grep -q "nope.h5: No such file" "$tmp/err" || fail "status of a missing file"
  : > "$tmp/plain"
  expect_rc 2 "$bin" run "$tidy" -o "$tmp/plain/sub/x.h5"
  mkdir "$tmp/outdir"
  expect_rc 2 "$bin" run "$tidy" -o "$tmp/outdir" --force-new
  [ -d "$tmp/outdir" ] && [ -z "$(ls "$tmp/outdir")" ] && [ -z "$(ls -d "$tmp"/outdir.* 2>/dev/null)" ] || fail "--force-new moved or filled a directory"
  ok "--opt=value; did you mean (command, option); exit 2 for a missing file, an unwritable path, -o DIR --force-new (untouched)"
  # A sweep file with a UTF-8 byte-order mark and CRLF line endings.
  printf '\xEF\xBB\xBF[sweep]\r\nname = bom\r\n[params]\r\nd_in = 6\r\nd_out = 3\r\nbatch = 10\r\ndt = 0.05\r\nn_blocks = 2\r\n[grid]\r\ntau_c = 0.1, 0.2\r\n' > "$tmp/bom.ini"
  expect_rc 0 "$bin" validate "$tmp/bom.ini"
  grep -q "2 runs" "$tmp/out" || fail "BOM/CRLF file: $(cat "$tmp/out" "$tmp/err")"
  ok "BOM and CRLF accepted"
  # --set key=a,b,c adds a grid axis; --set replicates=N.
  n=$("$bin" plan --json --varied "$tidy" --set tau_c=0.1,0.2,0.3 --set replicates=3 | py "$src/tests/json_get.py" runs)
  [ "$n" = 72 ] || fail "--set tau_c=0.1,0.2,0.3 --set replicates=3 gave $n runs, expected 2 cases x 3 x 4 x 3 = 72"
  expect_rc 2 "$bin" validate "$tidy" --set n_blocks=1,2
  grep -q "computed in \[derived\]" "$tmp/err" || fail "--set list on a derived key"
  ok "--set key=a,b,c is a grid axis; --set replicates=N"
  ;;
*)
  echo "unknown test $test"; exit 2 ;;
esac
echo "$passed checks passed"
