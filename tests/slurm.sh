#!/usr/bin/env bash
# jobs/*.sbatch on a real SLURM: a one-host cluster started for this test
# (tests/local_slurm.sh: munged, slurmctld, slurmd on free unprivileged ports,
# everything under a temporary directory, stopped by pid at exit).
#   slurm_requeue  tools/submit a sweep; USR1 to the batch shell mid-run (what
#                  --signal=B:USR1@N does before the time limit): ntasweep
#                  exits 3, the job requeues itself, the next allocation
#                  resumes, and the file equals an uninterrupted run (mpirun
#                  as the launcher). Then with srun, a 1-minute time limit and
#                  SLURM's own --signal: requeued until complete.
#   slurm_paper    jobs/paper.sbatch on tiny figure sweeps: the array, one task
#                  signalled and requeued, the plot job only after it, the
#                  figure and the index.
# Exit 77 (skipped) only when SLURM or munge is not installed (or not root).
# usage: slurm.sh TEST NTASWEEP_BINARY SOURCE_DIR
set -euo pipefail
test=$1 bin=$2 src=$3
tmp=$(mktemp -d)
cluster=$tmp/slurm
cleanup() {
  "$src/tests/local_slurm.sh" stop "$cluster" > /dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
export OPENBLAS_NUM_THREADS=1
py() { "$src/tools/ntapython" "$@"; }
# Checks count: every assertion passes (counted) or fails the test at once
# with the tally so far; the last line is the real tally.
passed=0
fail() { echo "FAIL: $*"; echo "$passed passed, 1 failed"; exit 1; }
pass() { passed=$((passed + 1)); }
has() { if grep -q -- "$1" "$2"; then pass; else fail "'$1' not in $2"; fi; }
now() { date +%s.%N; }
frac() { awk -v a="$1" -v b="$2" -v f="$3" 'BEGIN { printf "%.3f", (b - a) * f }'; }

rc=0
"$src/tests/local_slurm.sh" start "$cluster" > "$tmp/env" 2> "$tmp/start.log" || rc=$?
cat "$tmp/start.log"
if [ "$rc" -eq 77 ]; then echo "SKIP: $(tail -n 1 "$tmp/start.log")"; exit 77; fi
[ "$rc" -eq 0 ] || fail "could not start a local SLURM (exit $rc)"
# shellcheck disable=SC1091
. "$tmp/env"
echo "SLURM_CONF=$SLURM_CONF"

# job_field JOB FIELD: a field of `scontrol show job` (e.g. JobState, Restarts).
job_field() {
  scontrol -o show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}
# wait_state JOB STATE SECONDS: until the job is in STATE (or fail).
wait_state() {
  local s=
  for _ in $(seq $(($3 * 5))); do
    s=$(job_field "$1" JobState)
    [ "$s" = "$2" ] && return 0
    case $s in FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE)
      [ "$2" != "$s" ] && { scontrol show job "$1"; fail "job $1 ended $s, expected $2"; } ;;
    esac
    sleep 0.2
  done
  scontrol show job "$1"
  fail "job $1 not $2 after $3 s (state $s)"
}
# wait_file PATH SECONDS
wait_file() {
  for _ in $(seq $(($2 * 20))); do [ -e "$1" ] && return 0; sleep 0.05; done
  fail "$1 did not appear within $2 s"
}
# usr1_mid_run JOB RESULTS FRACTION: once JOB runs and has created RESULTS,
# wait FRACTION of the reference sweep's time (t0..t1), then send USR1 to
# its batch shell, as --signal=B:USR1@N does before the time limit.
usr1_mid_run() {
  local s=
  for _ in $(seq 300); do
    s=$(job_field "$1" JobState)
    case $s in RUNNING|COMPLETED|COMPLETING) break ;; esac
    sleep 0.2
  done
  case $s in
  RUNNING) ;;
  COMPLETED|COMPLETING) echo "job $1 already $s: too fast for a signal"; return 0 ;;
  *) scontrol show job "$1"; fail "job $1 not running after 60 s (state $s)" ;;
  esac
  wait_file "$2" 60
  sleep "$(frac "$t0" "$t1" "$3")"
  if scancel --signal=USR1 --batch "$1"; then echo "sent USR1 to the batch shell of job $1"
  else echo "could not signal job $1 (already ended?)"; fi
}

case $test in
slurm_requeue)
  sweep=$src/sweeps/fig2.ini
  sets=(--set n_blocks=10)
  t0=$(now); "$src/tools/mpi-launch" -n 2 "$bin" run "$sweep" "${sets[@]}" -o "$tmp/ref.h5" --quiet; t1=$(now)
  echo "reference sweep: $(frac "$t0" "$t1" 1) s on 2 ranks"

  # 0. The idle count (OUTPUT.idle) belongs to one submission's requeues: an
  #    allocation that ends any other way, here exit 2 on a bad sweep file,
  #    removes a leftover one (run directly: no queue needed for that).
  #    NTASWEEP_SETUP is sourced first (with set -u off, as module scripts need).
  printf '[params]\nd_in = twenty\n' > "$tmp/bad.ini"
  echo 2 > "$tmp/bad.h5.idle"
  printf 'echo "setup ran: ${UNSET_IN_SETUP:-}ok"\nexport NTAS_FROM_SETUP=1\n' > "$tmp/setup.sh"
  brc=0
  (cd "$tmp" && SWEEP=bad.ini OUTPUT=bad.h5 NTASWEEP="$bin" NTASWEEP_SETUP="$tmp/setup.sh" bash "$src/jobs/sweep.sbatch") \
    > "$tmp/bad.log" 2>&1 || brc=$?
  cat "$tmp/bad.log"
  has "setup ran: ok" "$tmp/bad.log"
  has "sourced NTASWEEP_SETUP=$tmp/setup.sh" "$tmp/bad.log"
  [ "$brc" -eq 2 ] && pass || fail "sweep.sbatch on a bad sweep file exited $brc, expected 2"
  [ ! -e "$tmp/bad.h5.idle" ] && pass || fail "a leftover bad.h5.idle outlived an allocation that ended with exit 2"
  echo "ok   a leftover idle count is removed when an allocation ends without a requeue"

  # 1. mpirun, USR1 sent to the batch shell by hand half-way through.
  #    The signal goes a fraction of the reference after the file appears;
  #    if the job was faster than the reference and done before it (no
  #    requeue), the submission is repeated with half the fraction.
  f=0.5
  for attempt in 1 2 3 4; do
    out=$tmp/mpirun$attempt/fig2.h5
    (cd "$tmp" && "$src/tools/submit" "$sweep" "${sets[@]}" -n 2 -t 10 -o "$out" --grace 0 --bin "$bin") \
      > "$tmp/submit.log" 2>&1 || { cat "$tmp/submit.log"; fail "tools/submit"; }
    cat "$tmp/submit.log"
    job=$(sed -n 's/^submitted job \([0-9]*\):.*/\1/p' "$tmp/submit.log")
    [ -n "$job" ] || fail "no job id in the output of tools/submit"
    log=$tmp/mpirun$attempt/fig2-$job.log
    usr1_mid_run "$job" "$out" "$f"
    wait_state "$job" COMPLETED 120
    cat "$log"
    [ "$(job_field "$job" Restarts)" = 0 ] && ! grep -q "ntasweep exited with status 3" "$log" || break
    echo "USR1 came after the sweep was done (not requeued): retrying with half the delay"
    f=$(awk -v f="$f" 'BEGIN { print f / 2 }')
  done
  [ "$(job_field "$job" Restarts)" = 1 ] && pass || fail "job $job restarted '$(job_field "$job" Restarts)' times, expected 1"
  [ "$(job_field "$job" ExitCode)" = "0:0" ] && pass || fail "exit code $(job_field "$job" ExitCode)"
  has "USR1: time limit near, stopping the sweep" "$log"
  has "ntasweep: stop requested (signal 10)" "$log"
  has "ntasweep exited with status 3" "$log"
  has "requeueing (SLURM_RESTART_COUNT will be 1)" "$log"
  has "allocation 2 (SLURM_RESTART_COUNT=1)" "$log"
  has "sweep complete" "$log"
  done_first=$(sed -n 's/.*resuming: \([0-9]*\) of 20 runs already done.*/\1/p' "$log")
  [ -n "$done_first" ] && [ "$done_first" -gt 0 ] && [ "$done_first" -lt 20 ] && pass \
    || fail "the first allocation should leave a partial sweep (done: '$done_first')"
  echo "the first allocation finished $done_first of 20 runs, the second the rest"
  py "$src/tests/compare_h5.py" "$tmp/ref.h5" "$out" && pass || fail "not bitwise equal to the uninterrupted run"
  [ ! -e "$out.lock" ] && pass || fail "lock file left behind"
  [ "$(grep -vc '^#' "$out.times")" -eq 2 ] && pass || fail "expected 2 allocations in $out.times"
  echo "ok   mpirun, USR1 by scancel: exit 3, requeue, resume, bitwise equal to an uninterrupted run"

  # 2. srun, and the signal from SLURM itself: -t 1 (60 s) with
  #    --signal=B:USR1@25. slurmctld checks time limits every 30 s and sends
  #    the signal at the check before it is due, so it comes 5 to 35 s into
  #    each allocation. The sweep is sized to last about 80 s, so the first
  #    allocation is always cut, even if the sweep runs twice as fast as
  #    sized (a 10 s grace then still leaves work). The time per block comes
  #    from two reference sweeps (1 and 10 blocks): the start-up of mpirun
  #    and of the file, which a single reference would count as compute,
  #    cancels out (with fast steps it was a third of the 10-block time, and
  #    a sweep sized for 50 s finished at the first signal).
  t2=$(now); "$src/tools/mpi-launch" -n 2 "$bin" run "$sweep" --set n_blocks=1 -o "$tmp/ref1.h5" --quiet; t3=$(now)
  blocks=$(awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN {
    per = ((b - a) - (d - c)) / 9; if (per < 0.01) per = 0.01
    n = int(80 / per) + 1; print (n < 20 ? 20 : n) }')
  echo "per block on 2 ranks: $(awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN { printf "%.3f", ((b - a) - (d - c)) / 9 }') s; srun sweep of $blocks blocks"
  out=$tmp/srun/fig2.h5
  (cd "$tmp" && "$src/tools/submit" "$sweep" --set n_blocks="$blocks" -n 2 -t 1 -o "$out" --grace 10 \
     --launcher srun --bin "$bin" -- --signal=B:USR1@25) > "$tmp/submit.log" 2>&1 \
    || { cat "$tmp/submit.log"; fail "tools/submit"; }
  cat "$tmp/submit.log"
  job=$(sed -n 's/^submitted job \([0-9]*\):.*/\1/p' "$tmp/submit.log")
  [ -n "$job" ] || fail "no job id in the output of tools/submit"
  log=$tmp/srun/fig2-$job.log
  wait_state "$job" COMPLETED 420
  cat "$log"
  restarts=$(job_field "$job" Restarts)
  [ "$restarts" -ge 1 ] && pass || fail "job $job was not requeued (Restarts=$restarts)"
  [ "$(job_field "$job" ExitCode)" = "0:0" ] && pass || fail "exit code $(job_field "$job" ExitCode)"
  has "USR1: time limit near, stopping the sweep" "$log"
  has "ntasweep exited with status 3" "$log"
  has "allocation 2 (SLURM_RESTART_COUNT=1)" "$log"
  has "sweep complete" "$log"
  # Every requeue followed a signal; the last allocation may be signalled
  # too and still finish (exit 0) within its grace.
  signals=$(grep -c 'USR1: time limit near' "$log")
  [ "$signals" -ge "$restarts" ] && [ "$signals" -le $((restarts + 1)) ] && pass ||
    fail "expected $restarts or $((restarts + 1)) signals, got $signals"
  [ "$(grep -vc '^#' "$out.times")" -eq $((restarts + 1)) ] && pass || fail "expected $((restarts + 1)) allocations in $out.times"
  [ "$("$bin" status --json "$out" | "$src/tools/ntapython" "$src/tests/json_get.py" runs done failed pending)" = "20 20 0 0" ] || fail "the sweep is not complete"
  echo "ok   srun, USR1 from --signal before the time limit: $((restarts + 1)) allocations, sweep complete"
  echo "$passed passed, 0 failed"
  ;;
slurm_paper)
  # Tiny figure sweeps; fig2 lengthened below to be signalled mid-run.
  mkdir -p "$tmp/sweeps"
  cp "$src"/tests/reproduce/*.ini "$tmp/sweeps/"
  # Long enough (about 6 s on 2 idle ranks) that the signal, sent a fraction
  # of the reference after the file appears, lands mid-sweep even when the
  # reference was timed at a busier moment than the job runs in.
  sed -i 's/^n_blocks = 100$/n_blocks = 500/' "$tmp/sweeps/fig2.ini"
  grep -q '^n_blocks = 500$' "$tmp/sweeps/fig2.ini" || fail "could not lengthen the fig2 test sweep"
  t0=$(now); "$src/tools/mpi-launch" -n 2 "$bin" run "$tmp/sweeps/fig2.ini" -o "$tmp/ref.h5" --quiet; t1=$(now)
  echo "reference fig2 test sweep: $(frac "$t0" "$t1" 1) s on 2 ranks"
  # As above: a signal that came after task 0 was done is retried sooner.
  f=0.25
  for attempt in 1 2 3 4; do
    res=$tmp/results$attempt
    (cd "$src" && SWEEPS=$tmp/sweeps RESULTS=$res NTASWEEP=$bin GRACE=0 RANKS=2 TIME=10 \
       jobs/paper.sbatch) > "$tmp/paper.log" 2>&1 || { cat "$tmp/paper.log"; fail "jobs/paper.sbatch"; }
    cat "$tmp/paper.log"
    read -r array plots < <(tail -n 1 "$tmp/paper.log")
    [ -n "$array" ] && [ -n "$plots" ] || fail "no job ids from jobs/paper.sbatch"
    has "2 sweeps (task i runs the i-th of: fig2 figA99_unplotted)" "$tmp/paper.log"
    usr1_mid_run "${array}_0" "$res/fig2.h5" "$f"   # task 0 runs fig2
    wait_state "$plots" COMPLETED 180
    cat "$res"/logs/*.log
    [ "$(job_field "${array}_0" Restarts)" = 0 ] &&
      ! grep -q "ntasweep exited with status 3" "$res/logs/paper-sweeps-${array}_0.log" || break
    echo "USR1 came after task 0 was done (not requeued): retrying with half the delay"
    f=$(awk -v f="$f" 'BEGIN { print f / 2 }')
  done
  [ "$(job_field "${array}_0" Restarts)" = 1 ] && pass || fail "task 0 restarted '$(job_field "${array}_0" Restarts)' times"
  [ "$(job_field "${array}_0" JobState)" = COMPLETED ] && pass || fail "task 0 not completed"
  [ "$(job_field "${array}_1" JobState)" = COMPLETED ] && pass || fail "task 1 not completed"
  log0=$res/logs/paper-sweeps-${array}_0.log
  has "ntasweep exited with status 3" "$log0"
  has "allocation 2 (SLURM_RESTART_COUNT=1)" "$log0"
  # The plot job started only after the requeued task had finished.
  end0=$(date -d "$(job_field "${array}_0" EndTime)" +%s)
  start_plots=$(date -d "$(job_field "$plots" StartTime)" +%s)
  [ "$start_plots" -ge "$end0" ] && pass || fail "plot job started before task 0 ended"
  [ -s "$res/figures/fig2.png" ] && pass || fail "no fig2.png"
  index=$res/figures/README.md
  cat "$index"
  has '| Fig. 2 |' "$index"
  has '\[fig2.png\](fig2.png) | 6/6 done | .* (2 parts) |' "$index"
  has '| Fig. A.99B | .* no plot script yet' "$index"
  has '2/2 done' "$index"
  [ "$("$bin" status --json "$res/fig2.h5" | "$src/tools/ntapython" "$src/tests/json_get.py" runs done failed pending)" = "6 6 0 0" ] || fail "fig2.h5 is not complete"
  py "$src/tests/compare_h5.py" "$tmp/ref.h5" "$res/fig2.h5" && pass || fail "fig2.h5 not bitwise equal to the uninterrupted run"
  echo "ok   paper.sbatch: array, requeue of one task, plots after it, index"
  echo "$passed passed, 0 failed"
  ;;
*) echo "unknown test $test" >&2; exit 2 ;;
esac
