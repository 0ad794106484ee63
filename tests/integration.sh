#!/usr/bin/env bash
# End-to-end tests through the real binary, the MPI launcher and the HDF5 file.
# usage: integration.sh TEST NTASWEEP_BINARY SOURCE_DIR
# Every assertion is a counted check (`check`); the last line is the real
# tally, "N passed, M failed", and the exit status is non-zero if any check
# failed or a step the checks depend on failed (then the tally says so).
# Exit 77 (skipped, with the reason) when a test needs data that is absent.
# MPI jobs go through tools/mpi-launch (NTASWEEP_MPIEXEC, set by ctest to the
# launcher the build was configured with, picks Open MPI or MPICH).
set -euo pipefail
test=$1 bin=$2 src=$3
tmp=$(mktemp -d /tmp/ntasweep-test.XXXXXX)
# shellcheck source=lib/checks.sh
. "$src/tests/lib/checks.sh"
on_exit() {
  local rc=$?
  rm -rf "$tmp"
  exit_checked "$rc"
}
trap on_exit EXIT
# Timing-dependent tests pick their moments as fractions of a reference
# run's duration measured just before, so they work on fast and slow machines,
# and retry with half the delay when the machine was faster than the reference.
frac() { awk -v a="$1" -v b="$2" -v f="$3" 'BEGIN { printf "%.3f", (b - a) * f }'; }
half() { awk -v d="$1" 'BEGIN { printf "%.3f", d / 2 }'; }
# The data the CNN tests need, found as ntasweep finds it (README, "Data").
fashion_dir() { echo "${NTASWEEP_FASHION_DIR:-/usr/share/datasets/fashion-mnist}"; }
mnist_dir() { # for sweep files in directory $1
  if [ -n "${NTASWEEP_MNIST_DIR:-}" ]; then echo "$NTASWEEP_MNIST_DIR"; return; fi
  local d c
  d=$(cd "$1" && pwd)
  while :; do
    for c in data/mnist shared/data/mnist-t10k; do
      if [ -d "$d/$c" ]; then echo "$d/$c"; return; fi
    done
    [ "$d" != / ] || return 0
    d=$(dirname "$d")
  done
}
idx_dir() { compgen -G "$1/t10k-images-idx3-ubyte*" > /dev/null; }
need_fashion() {
  idx_dir "$(fashion_dir)" ||
    skip "$test needs Fashion-MNIST in $(fashion_dir) (tools/install-deps installs dataset-fashion-mnist, or set NTASWEEP_FASHION_DIR)"
}
need_mnist() { # DIR of the sweep files
  local d; d=$(mnist_dir "$1")
  [ -n "$d" ] && idx_dir "$d" ||
    skip "$test needs MNIST: no data/mnist or shared/data/mnist-t10k with t10k-images-idx3-ubyte[.gz] in $1 or above (put it in ../shared/data/mnist-t10k beside the checkout, or set NTASWEEP_MNIST_DIR)"
}
# group_alive PGID: does a process of group PGID (zombies aside) still exist?
# Read entry by entry: a process may vanish between listing /proc and
# reading its stat, which is no error, only one process fewer.
group_alive() {
  local f line rest
  for f in /proc/[0-9]*/stat; do
    { read -r line < "$f"; } 2> /dev/null || continue
    rest=${line##*) }              # after "(comm) ": state ppid pgrp ...
    read -r -a rest <<< "$rest"
    [ "${rest[2]:-}" = "$1" ] && [ "${rest[0]}" != Z ] && return 0
  done
  return 1
}

case $test in
fig2_outcome)
  # The full Fig. 2 sweep (20 runs), then the paper's qualitative outcome.
  mpi 2 "$bin" run "$src/sweeps/fig2.ini" -o "$tmp/fig2.h5" --quiet
  check "the paper's Fig. 2 outcome" py "$src/tests/check_fig2.py" "$tmp/fig2.h5"
  finish
  ;;
ranks_bitwise)
  # Same sweep at 1, 2 and 3 ranks: every dataset bitwise equal.
  for np in 1 2 3; do
    mpi "$np" "$bin" run "$src/sweeps/smoke.ini" -o "$tmp/np$np.h5" --quiet
  done
  check "1 and 2 ranks bitwise equal" py "$src/tests/compare_h5.py" "$tmp/np1.h5" "$tmp/np2.h5"
  check "1 and 3 ranks bitwise equal" py "$src/tests/compare_h5.py" "$tmp/np1.h5" "$tmp/np3.h5"
  finish
  ;;
resume)
  # Running the same command again keeps every done run and changes nothing.
  mpi 2 "$bin" run "$src/sweeps/smoke.ini" -o "$tmp/a.h5" --quiet
  cp "$tmp/a.h5" "$tmp/before.h5"
  mpi 2 "$bin" run "$src/sweeps/smoke.ini" -o "$tmp/a.h5" 2> "$tmp/log"
  cat "$tmp/log"
  check "the rerun finds every run done" has "0 done, 0 failed, 8 already done" "$tmp/log"
  check "the rerun changes nothing" py "$src/tests/compare_h5.py" "$tmp/before.h5" "$tmp/a.h5"
  # Another sweep into the same file is refused and the file is untouched.
  cp "$tmp/a.h5" "$tmp/before-refused.h5"
  rc=0
  mpi 1 "$bin" run "$src/sweeps/smoke.ini" --set n_blocks=3 -o "$tmp/a.h5" 2> "$tmp/log" || rc=$?
  cat "$tmp/log"
  check "another sweep into the file: exit 2" is "$rc" 2
  check "the refusal says why" has "mix two different sweeps" "$tmp/log"
  check "the refusal shows the difference" has "n_blocks: 4 -> 3" "$tmp/log"
  check "the refused file is untouched" cmp "$tmp/before-refused.h5" "$tmp/a.h5"
  check "no a.h5.tmp left" not test -e "$tmp/a.h5.tmp"
  # A file of an older results format is refused, named with both formats
  # and the ways out, and stays untouched.
  cp "$tmp/a.h5" "$tmp/old.h5"
  py -c 'import sys, h5py, numpy as np; f = h5py.File(sys.argv[1], "r+"); f.attrs["format_version"] = np.int64(4); f.close()' "$tmp/old.h5"
  cp "$tmp/old.h5" "$tmp/before-old.h5"
  rc=0
  mpi 1 "$bin" run "$src/sweeps/smoke.ini" -o "$tmp/old.h5" 2> "$tmp/log" || rc=$?
  cat "$tmp/log"
  check "a format-4 file: exit 2" is "$rc" 2
  check "the refusal names the file's format" has "results format 4" "$tmp/log"
  check "the refusal names this format" has "writes format 5" "$tmp/log"
  check "the refusal names --force-new" has "--force-new" "$tmp/log"
  check "the format-4 file is untouched" cmp "$tmp/before-old.h5" "$tmp/old.h5"
  finish
  ;;
xarray_plot)
  # The file opens in xarray with named dims; the generic plot draws it, and
  # the Fig. 2 script refuses it (smoke varies tau_w, which fig2.ini fixes)
  # instead of silently averaging over tau_w.
  mpi 2 "$bin" run "$src/sweeps/smoke.ini" -o "$tmp/s.h5" --quiet
  check "opens in xarray with named dims" py "$src/tests/check_xarray.py" "$tmp/s.h5"
  check "tools/plot_sweep.py draws it" "$src/tools/plot_sweep.py" "$tmp/s.h5" --x tau_w --y specialization \
    --hue case -o "$tmp/s.png"
  check "a PNG was written" test -s "$tmp/s.png"
  rc=0; "$src/tools/plot_fig2.py" "$tmp/s.h5" -o "$tmp/f2.png" 2> "$tmp/err" || rc=$?
  check "plot_fig2.py refuses a sweep that varies tau_w: exit 2" is "$rc" 2
  check "plot_fig2.py says which key and what to use instead" has "varies tau_w.*plot_sweep.py" "$tmp/err"
  check "no PNG from the refused plot" test ! -e "$tmp/f2.png"
  # With smoke's tau_w axis fixed the file is a Fig. 2 sweep, and the Fig. 2 plot draws it.
  mpi 2 "$bin" run "$src/sweeps/smoke.ini" --set tau_w=1.3 -o "$tmp/s13.h5" --quiet
  check "tools/plot_fig2.py draws smoke with tau_w fixed" "$src/tools/plot_fig2.py" "$tmp/s13.h5" -o "$tmp/s13.png"
  check "its PNG was written" test -s "$tmp/s13.png"
  finish
  ;;
cnn_plot_refuse)
  # The CNN figure scripts refuse, like the others (xarray_plot), a file whose
  # sweep varies what theirs fixes: here the tiny Fig. 7 sweep with tau_w as a
  # grid axis, which sweeps/fig7.ini and sweeps/figA15.ini both fix. Needs
  # MNIST (skipped without it); Fashion-MNIST is not needed, since the
  # refusal comes before anything is drawn.
  need_mnist "$src/tests/plot_smoke"
  export NTASWEEP="$bin"   # the check asks this binary which keys the figure's sweep varies
  mpi 2 "$bin" run "$src/tests/plot_smoke/fig7.ini" --set "tau_w=10,20" -o "$tmp/c.h5" --quiet
  for name in fig7 figA15; do
    rc=0; py "$src/tools/plot_$name.py" "$tmp/c.h5" -o "$tmp/$name.png" 2> "$tmp/$name.err" || rc=$?
    cat "$tmp/$name.err"
    check "plot_$name.py refuses a sweep that varies tau_w: exit 2" is "$rc" 2
    check "plot_$name.py names the key, its sweep and what to use instead" \
      has "varies tau_w, which sweeps/$name.ini keeps fixed.*plot_sweep.py" "$tmp/$name.err"
    check "no PNG from the refused plot_$name.py" test ! -e "$tmp/$name.png"
  done
  # The same file with tau_w fixed is a Fig. 7 sweep: drawn.
  mpi 2 "$bin" run "$src/tests/plot_smoke/fig7.ini" -o "$tmp/c1.h5" --quiet
  check "plot_fig7.py draws the tiny Fig. 7 sweep" py "$src/tools/plot_fig7.py" "$tmp/c1.h5" -o "$tmp/c1.png"
  check "its PNG was written" test -s "$tmp/c1.png"
  finish
  ;;
kill9_resume)
  # kill -9 of the whole MPI job at random moments, then resume: the file
  # always opens, no run marked done is wrong, and the finished file is
  # bitwise equal to an uninterrupted run. Seeded, so the moments repeat.
  cat > "$tmp/k.ini" <<'INI'
[sweep]
name = kill9
replicates = 6
[params]
d_in = 12
d_out = 4
batch = 50
dt = 0.002
n_blocks = 32
record_every = 7
[grid]
tau_c = 0.03, 1.3
tau_w = 1.3, 1.0
INI
  t0=$(now); mpi 2 "$bin" run "$tmp/k.ini" -o "$tmp/ref.h5" --quiet; t1=$(now)
  echo "reference sweep: $(frac "$t0" "$t1" 1) s"
  RANDOM=4242
  kills=0
  for trial in 1 2 3 4 5 6; do
    # The reference time is only a guide (the machine may have been busier
    # then): a kill that came after every run was done does not count, and
    # the trial is repeated with half the delay, up to 6 times; a trial that
    # never lands a kill fails the test.
    delay=$(frac "$t0" "$t1" "$(awk -v r=$RANDOM 'BEGIN { print 0.15 + 0.7 * r / 32768 }')")
    landed=0
    for attempt in 1 2 3 4 5 6; do
      rm -f "$tmp"/k.h5*
      # setsid: the launcher leads a process group of its own (its ranks
      # included), so one kill reaches the whole MPI job.
      setsid "$src/tools/mpi-launch" -n 2 "$bin" run "$tmp/k.ini" -o "$tmp/k.h5" --quiet --flush 0.3 &
      pid=$!
      sleep "$delay"
      sent=0
      kill -9 -- -"$pid" 2>/dev/null && sent=1
      rc=0; wait "$pid" 2>/dev/null || rc=$?
      # wait reaps the launcher only: a rank busy in the kernel (file I/O)
      # can outlive it for a moment and still hold the lock rightly. Resume
      # once every process of the killed group is gone (zombies aside), as a
      # scheduler would before the next allocation.
      # The ranks may sit in process groups of their own (the launcher's
      # daemon gives them one): wait for every process that writes this file
      # too (pgrep -f skips zombies, whose command line is empty).
      for _ in $(seq 1200); do
        group_alive "$pid" || pgrep -f -- "-o $tmp/k.h5" > /dev/null || break
        sleep 0.05
      done
      if group_alive "$pid" || pgrep -f -- "-o $tmp/k.h5" > /dev/null; then
        echo "the killed job (process group $pid) still runs 60 s after kill -9"; exit 1
      fi
      echo "trial $trial.$attempt: kill -9 after $delay s (sent: $sent, launcher exit status $rc)"
      done_runs=none
      if [ -e "$tmp/k.h5" ]; then
        py "$src/tests/check_partial.py" "$tmp/ref.h5" "$tmp/k.h5" > "$tmp/partial.txt"
        cat "$tmp/partial.txt"
        done_runs=$(awk '/runs done/ { print $1 }' "$tmp/partial.txt")
      else
        echo "(killed before the file was renamed into place)"
      fi
      if [ "$rc" -eq 137 ] && [ "$done_runs" != 24 ]; then
        # The kill landed mid-sweep: the launcher died of SIGKILL (exit
        # status 137) and the file, if any, is partial (every run flagged
        # done was checked against the reference by check_partial.py).
        check "trial $trial.$attempt: killed mid-sweep (exit 137, $done_runs runs done)" true
        landed=1
      elif [ "$rc" -eq 137 ]; then
        echo "(the kill came after every run was done: retrying sooner)"
      else
        # The sweep ended before the kill: nothing was tested; retry sooner.
        check "trial $trial.$attempt: a job that ended by itself exited 0" is "$rc" 0
        check "trial $trial.$attempt: a job that ended by itself left the whole sweep" is "$done_runs" 24
      fi
      # The killed job left a stale lock (and maybe k.h5.tmp); the resume takes over.
      mpi 2 "$bin" run "$tmp/k.ini" -o "$tmp/k.h5" --quiet
      check "trial $trial.$attempt: resumed to a file bitwise equal to the reference" \
        py "$src/tests/compare_h5.py" "$tmp/ref.h5" "$tmp/k.h5"
      check "trial $trial.$attempt: no lock file left behind" not test -e "$tmp/k.h5.lock"
      [ "$landed" -eq 0 ] || break
      delay=$(half "$delay")
    done
    check "trial $trial: a kill -9 landed mid-sweep" is "$landed" 1
    kills=$((kills + landed))
  done
  echo "$kills kills mid-sweep, each resumed to a bitwise-equal file"
  finish
  ;;
signal_stop)
  # SIGTERM/SIGINT to a rank and USR1 through the launcher: exit 3, a valid
  # file with the finished runs, and a resume that completes it bitwise.
  sweep=(run "$src/sweeps/fig2.ini" --set n_blocks=10)
  t0=$(now); mpi 2 "$bin" "${sweep[@]}" -o "$tmp/ref.h5" --quiet; t1=$(now)
  echo "reference sweep: $(frac "$t0" "$t1" 1) s on 2 ranks"
  # wait_started PID FILE: until the job has created FILE (it runs), or fail.
  wait_started() {
    for _ in $(seq 1200); do
      [ -e "$2" ] && return 0
      kill -0 "$1" 2>/dev/null || { echo "the job ended before it created $2"; return 1; }
      sleep 0.05
    done
    echo "$2 did not appear within 60 s"; return 1
  }
  for sig in TERM INT; do
    # One process takes about twice the reference time: stop it mid-way,
    # counted from the moment its file exists. If the reference was timed at
    # a busier moment and the sweep finished before the signal (exit 0),
    # retry with half the delay.
    delay=$(frac "$t0" "$t1" 0.6)
    for attempt in 1 2 3 4 5 6; do
      rm -f "$tmp/$sig.h5"*
      "$bin" "${sweep[@]}" -o "$tmp/$sig.h5" --grace 0 --quiet &
      pid=$!
      wait_started "$pid" "$tmp/$sig.h5"
      sleep "$delay"
      kill -"$sig" "$pid" 2>/dev/null || true
      rc=0; wait "$pid" || rc=$?
      [ "$rc" -eq 0 ] || break
      echo "SIG$sig after $delay s came too late (the sweep was done): retrying sooner"
      delay=$(half "$delay")
    done
    check "SIG$sig: exit 3" is "$rc" 3
    rc=0; "$bin" status "$tmp/$sig.h5" > "$tmp/status" || rc=$?
    cat "$tmp/status"
    check "SIG$sig: status of the stopped sweep exits 3" is "$rc" 3
    check "SIG$sig: status shows pending runs" not is "$("$bin" status --json "$tmp/$sig.h5" | py "$src/tests/json_get.py" pending)" 0
    check "SIG$sig: every run flagged done is right" py "$src/tests/check_partial.py" "$tmp/ref.h5" "$tmp/$sig.h5"
    mpi 2 "$bin" "${sweep[@]}" -o "$tmp/$sig.h5" --quiet
    check "SIG$sig: resumed bitwise equal" py "$src/tests/compare_h5.py" "$tmp/ref.h5" "$tmp/$sig.h5"
  done
  # SLURM's --signal path: USR1 to the launcher, which forwards it to every
  # rank. A long grace lets the running runs finish: done, not abandoned.
  delay=$(frac "$t0" "$t1" 0.6)
  for attempt in 1 2 3 4 5 6; do
    rm -f "$tmp/usr1.h5"*
    # Not through mpi(): a function in the background is a subshell, and
    # $! must be the launcher itself (mpi-launch execs it).
    "$src/tools/mpi-launch" -n 2 "$bin" "${sweep[@]}" -o "$tmp/usr1.h5" --grace 600 2> "$tmp/log" &
    pid=$!
    wait_started "$pid" "$tmp/usr1.h5"
    sleep "$delay"
    kill -USR1 "$pid" 2>/dev/null || true
    rc=0; wait "$pid" || rc=$?
    [ "$rc" -eq 0 ] || break
    echo "USR1 after $delay s came too late (the sweep was done): retrying sooner"
    delay=$(half "$delay")
  done
  cat "$tmp/log"
  check "USR1 via the launcher: exit 3" is "$rc" 3
  check "USR1 reached the ranks" has "stop requested (signal 10)" "$tmp/log"
  check "USR1 with a long grace abandons no run" has "(0 abandoned mid-run)" "$tmp/log"
  check "USR1: every run flagged done is right" py "$src/tests/check_partial.py" "$tmp/ref.h5" "$tmp/usr1.h5"
  mpi 2 "$bin" "${sweep[@]}" -o "$tmp/usr1.h5" --quiet
  check "USR1: resumed bitwise equal" py "$src/tests/compare_h5.py" "$tmp/ref.h5" "$tmp/usr1.h5"
  finish
  ;;
extend_lock)
  # New grid points: only they run, appended; the result equals a fresh run
  # of the extended sweep run by run. A sweep that lost points is refused with
  # a diff; --force-new keeps the old file. A second writer is refused; a
  # stale lock is taken over.
  smoke=$src/sweeps/smoke.ini
  sed 's/^tau_w = 1.3, 1.0$/tau_w = 1.3, 1.0, 0.8/' "$smoke" > "$tmp/ext.ini"
  sed 's/^tau_w = 1.3, 1.0$/tau_w = 1.3, 0.7/' "$smoke" > "$tmp/lost.ini"
  ! cmp -s "$smoke" "$tmp/ext.ini" && ! cmp -s "$smoke" "$tmp/lost.ini"
  mpi 2 "$bin" run "$smoke" -o "$tmp/a.h5" --quiet
  mpi 2 "$bin" run "$tmp/ext.ini" -o "$tmp/a.h5" 2> "$tmp/log"
  cat "$tmp/log"
  check "extension appends the 4 new runs" has "4 new runs appended to its 8" "$tmp/log"
  check "extension runs only the new runs" has "4 done, 0 failed, 8 already done before" "$tmp/log"
  mpi 2 "$bin" run "$tmp/ext.ini" -o "$tmp/fresh.h5" --quiet
  check "extended file equals a fresh run, run by run" py "$src/tests/compare_h5.py" --by-key "$tmp/fresh.h5" "$tmp/a.h5"
  cp "$tmp/a.h5" "$tmp/before.h5"
  rc=0; "$bin" run "$tmp/lost.ini" -o "$tmp/a.h5" 2> "$tmp/log" || rc=$?
  cat "$tmp/log"
  check "lost points: exit 2" is "$rc" 2
  check "lost points: the diff is shown" has "tau_w: 1.3, 1, 0.8 -> 1.3, 0.7" "$tmp/log"
  check "lost points: the file is untouched" cmp "$tmp/before.h5" "$tmp/a.h5"
  "$bin" run "$tmp/lost.ini" -o "$tmp/a.h5" --force-new --quiet
  check "--force-new keeps the old file as .old-1" cmp "$tmp/before.h5" "$tmp/a.h5.old-1"
  check "--force-new wrote the new sweep" is "$("$bin" status --json "$tmp/a.h5" | py "$src/tests/json_get.py" runs done)" "8 8"
  # A second writer while the first runs. The first writer is one process
  # on a sweep long enough (about 2000 s of work) that it cannot be done
  # before it is stopped by USR1 below; the second writer goes only once the
  # first holds the lock as `status` sees it (an observable state, not a
  # guess of how long start-up takes). Should the first writer still have
  # ended before the refusal was seen (an absurdly fast machine), it is
  # retried with a 10 times longer sweep.
  blocks=2000
  for attempt in 1 2 3; do
    rm -f "$tmp"/c.h5*
    long=(run "$src/sweeps/fig2.ini" --set n_blocks=$blocks --set record_every=100000 -o "$tmp/c.h5")
    "$bin" "${long[@]}" --grace 0 --quiet &
    pid=$!
    held=0
    for _ in $(seq 1200); do
      kill -0 "$pid" 2>/dev/null || break
      # (status exits 3 while runs are pending: read its JSON, then the lock)
      if [ -e "$tmp/c.h5" ] && { "$bin" status --json "$tmp/c.h5" 2>/dev/null || true; } | py "$src/tests/json_get.py" lock 2>/dev/null | grep -q "held by ntasweep process $pid"; then
        held=1; break
      fi
      sleep 0.05
    done
    check "the first writer holds the lock (status names its pid)" is "$held" 1
    rc2=0; "$bin" "${long[@]}" 2> "$tmp/log" || rc2=$?
    running=0; kill -0 "$pid" 2>/dev/null && running=1
    if [ "$running" -eq 1 ]; then
      kill -USR1 "$pid"
      rc=0; wait "$pid" || rc=$?
      break
    fi
    rc=0; wait "$pid" || rc=$?
    echo "the first writer ended (exit $rc) before the second was refused: retrying with a longer sweep"
    blocks=$((blocks * 10))
  done
  cat "$tmp/log"
  check "second writer: exit 2" is "$rc2" 2
  check "second writer: told the file is being written" has "being written by another job" "$tmp/log"
  check "first writer after USR1: exit 3" is "$rc" 3
  check "first writer released the lock" not test -e "$tmp/c.h5.lock"
  # A stale lock (dead process on this host) is taken over.
  sleep 100 & dead=$!; kill "$dead"; wait "$dead" 2>/dev/null || true
  echo "$(hostname) $dead" > "$tmp/a.h5.lock"
  rc=0; "$bin" run "$tmp/lost.ini" -o "$tmp/a.h5" 2> "$tmp/log" || rc=$?
  cat "$tmp/log"
  check "stale lock: the run goes ahead" is "$rc" 0
  check "stale lock: removed and said so" has "removed a stale lock" "$tmp/log"
  finish
  ;;
variants_bitwise)
  # Every model variant end to end: 1 and 2 ranks bitwise equal, the file
  # opens in xarray with named dims.
  for np in 1 2; do
    mpi "$np" "$bin" run "$src/sweeps/smoke_variants.ini" -o "$tmp/np$np.h5" --quiet
  done
  check "every variant run done" is "$("$bin" status --json "$tmp/np2.h5" | py "$src/tests/json_get.py" runs done failed)" "14 14 0"
  check "1 and 2 ranks bitwise equal" py "$src/tests/compare_h5.py" "$tmp/np1.h5" "$tmp/np2.h5"
  check "opens in xarray with named dims" py "$src/tests/check_xarray.py" "$tmp/np2.h5"
  finish
  ;;
variants_outcome)
  # The variants' qualitative outcomes (fc specialises, redundant paths decay
  # under a weight cost (20 seeds: tests/redundant_outcome.ini), composition
  # adapts fast), scaled down.
  mpi 2 "$bin" run "$src/tests/variants_outcome.ini" -o "$tmp/v.h5" --quiet
  mpi 2 "$bin" run "$src/tests/redundant_outcome.ini" -o "$tmp/r.h5" --quiet
  check "the variants' outcomes" py "$src/tests/check_variants.py" "$tmp/v.h5" "$tmp/r.h5"
  finish
  ;;
fastw_outcome)
  # Fig. 5's fast-weight cell specialises in the authors' scaling (unit) and
  # not in the published code's (fan_in); the loss normalisation of each.
  mpi 2 "$bin" run "$src/tests/fastw_outcome.ini" -o "$tmp/fw.h5" --quiet
  check "fast weights specialise in unit scaling only" py "$src/tests/check_fastw.py" "$tmp/fw.h5"
  finish
  ;;
figures_outcome)
  # Outcomes the paper and the authors' logged runs state for Figs. 8, A.16
  # and A.13 (full sweeps, a few seconds each), 3 and A.2 (scaled down).
  mpi 2 "$bin" run "$src/sweeps/fig8.ini" -o "$tmp/fig8.h5" --quiet
  mpi 2 "$bin" run "$src/sweeps/figA16_few_shot.ini" -o "$tmp/figA16.h5" --quiet
  mpi 2 "$bin" run "$src/sweeps/figA13_rho.ini" -o "$tmp/figA13.h5" --quiet
  mpi 2 "$bin" run "$src/tests/figA2_outcome.ini" -o "$tmp/figA2.h5" --quiet
  mpi 2 "$bin" run "$src/tests/fig3_outcome.ini" -o "$tmp/fig3.h5" --quiet
  check "Figs. 8, A.16, A.13, A.2, 3 outcomes" py "$src/tests/check_figures.py" "$tmp/fig8.h5" "$tmp/figA16.h5" \
    "$tmp/figA13.h5" "$tmp/figA2.h5" "$tmp/fig3.h5"
  finish
  ;;
plot_smoke)
  # Every figure sweep has a plot script and a tiny version in tests/plot_smoke/
  # (which includes the sweep and shrinks it), and each plot script has both:
  # no figure is skipped silently. Each tiny sweep runs on 2 ranks and its plot
  # script must write a PNG. The CNN figures (fig7: MNIST, figA15:
  # Fashion-MNIST) need their data: without it the test is skipped.
  need_mnist "$src/tests/plot_smoke"
  need_fashion
  missing=0
  for f in "$src"/sweeps/*.ini; do
    name=$(basename "$f" .ini)
    case $name in smoke*) continue ;; esac
    [ -e "$src/tools/plot_$name.py" ] || { echo "sweeps/$name.ini has no tools/plot_$name.py"; missing=1; }
  done
  for p in "$src"/tools/plot_*.py; do
    name=$(basename "$p" .py); name=${name#plot_}
    [ "$name" = sweep ] && continue   # tools/plot_sweep.py: the generic plot, for any sweep
    [ -e "$src/sweeps/$name.ini" ] || { echo "tools/plot_$name.py has no sweeps/$name.ini"; missing=1; }
    [ -e "$src/tests/plot_smoke/$name.ini" ] || { echo "tools/plot_$name.py has no tests/plot_smoke/$name.ini"; missing=1; }
  done
  for t in "$src"/tests/plot_smoke/*.ini; do
    name=$(basename "$t" .ini)
    [ -e "$src/tools/plot_$name.py" ] || { echo "tests/plot_smoke/$name.ini has no tools/plot_$name.py"; missing=1; }
    grep -q "^include = ../../sweeps/$name.ini\$" "$t" || { echo "tests/plot_smoke/$name.ini does not include ../../sweeps/$name.ini"; missing=1; }
  done
  check "every figure sweep has a plot script and a tiny sweep, and back" is "$missing" 0
  # The runs one after another on 2 ranks, then the plots two at a time.
  names=()
  t0=$(now)
  for t in "$src"/tests/plot_smoke/*.ini; do
    name=$(basename "$t" .ini)
    mpi 2 "$bin" run "$t" -o "$tmp/$name.h5" --quiet
    "$bin" status "$tmp/$name.h5" > "$tmp/$name.status" || { cat "$tmp/$name.status"; exit 1; }
    names+=("$name")
  done
  echo "${#names[@]} tiny sweeps run in $(frac "$t0" "$(now)" 1) s"
  plot_one() {
    local name=$1
    if ! NTATOOLS_DPI=50 py "$src/tools/plot_$name.py" "$tmp/$name.h5" -o "$tmp/$name.png" \
        > "$tmp/$name.log" 2>&1; then
      cat "$tmp/$name.log"; echo "FAIL $name: plot script failed"; return 1
    fi
    [ -s "$tmp/$name.png" ] || { echo "FAIL $name: no PNG written"; return 1; }
    [ "$(head -c 8 "$tmp/$name.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
      { echo "FAIL $name: $name.png is not a PNG"; return 1; }
    echo "ok   $name ($(stat -c %s "$tmp/$name.png") bytes)"
  }
  t0=$(now)
  failed=0 pids=()
  for name in "${names[@]}"; do
    plot_one "$name" &
    pids+=($!)
    if [ "${#pids[@]}" -ge 2 ]; then
      wait "${pids[0]}" || failed=$((failed + 1))
      pids=("${pids[@]:1}")
    fi
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
  echo "plots drawn in $(frac "$t0" "$(now)" 1) s"
  check "all ${#names[@]} plot scripts drew a PNG ($failed failed)" is "$failed" 0
  finish
  ;;
validate_sweeps)
  # Every shipped sweep file is valid.
  for f in "$src"/sweeps/*.ini "$src"/tests/variants_outcome.ini "$src"/tests/redundant_outcome.ini "$src"/tests/figA2_outcome.ini \
           "$src"/tests/fig3_outcome.ini \
           "$src"/tests/plot_smoke/*.ini; do
    check "valid: ${f#"$src"/}" "$bin" validate "$f"
  done
  finish
  ;;
tiny_runs)
  # 10 000 one-step runs all complete; the benchmark prints the per-run overhead.
  "$src/tools/bench-overhead" --runs 10000 --ranks 2 --bin "$bin" --keep "$tmp/tiny.h5"
  "$bin" status "$tmp/tiny.h5" | tee "$tmp/status"
  check "all 10 000 runs done" is "$("$bin" status --json "$tmp/tiny.h5" | py "$src/tests/json_get.py" runs done failed pending)" "10000 10000 0 0"
  finish
  ;;
cnn_sweep)
  # The CNN-embedded variant end to end on 6000 + 1000 real Fashion-MNIST
  # images: one short pretraining per sweep, the heads' outcome, 1 and 2
  # ranks bitwise equal, resume without pretraining again, extension copies
  # the pretraining, and other data in the directory is refused.
  need_fashion
  fashion=$(fashion_dir)
  py "$src/tests/make_idx_subset.py" "$fashion" "$tmp/fsub" --train 6000 --test 1000
  export NTASWEEP_FASHION_DIR="$tmp/fsub"
  # plan counts the one pretraining (three models share dataset, steps and
  # seed) apart from the runs; a sweep without CNN runs has none.
  check "plan estimates the one 150-step pretraining (16 s on 1 rank)" \
    is "$("$bin" plan --json --varied "$src/tests/cnn_smoke.ini" | py "$src/tests/json_get.py" pretrainings pretraining_s | awk '{ printf "%s %.0f", $1, $2 }')" "1 16"
  { sed '/^cnn_seed = /d' "$src/tests/cnn_smoke.ini"; printf '\n[grid]\ncnn_seed = 0, 1\n'; } > "$tmp/cnn_seeds.ini"
  check "two cnn_seed values mean two pretrainings" is "$("$bin" plan --json --varied "$tmp/cnn_seeds.ini" | py "$src/tests/json_get.py" pretrainings)" 2
  check "fig2 has no pretraining" is "$("$bin" plan --json --varied "$src/sweeps/fig2.ini" | py "$src/tests/json_get.py" pretrainings)" 0
  mpi 2 "$bin" run "$src/tests/cnn_smoke.ini" -o "$tmp/np2.h5" 2> "$tmp/log"
  cat "$tmp/log"
  check "the sweep pretrained the CNN" has "pretrained the fashion CNN" "$tmp/log"
  check "the heads' outcome" py "$src/tests/check_cnn.py" "$tmp/np2.h5" --min-accuracy 0.78
  "$src/tools/plot_fig7.py" "$tmp/np2.h5" -o "$tmp/fig7.png"
  "$src/tools/plot_figA15.py" "$tmp/np2.h5" -o "$tmp/figA15.png"
  check "plot_fig7.py and plot_figA15.py wrote PNGs" test -s "$tmp/fig7.png" -a -s "$tmp/figA15.png"
  mpi 1 "$bin" run "$src/tests/cnn_smoke.ini" -o "$tmp/np1.h5" --quiet
  check "1 and 2 ranks bitwise equal" py "$src/tests/compare_h5.py" "$tmp/np1.h5" "$tmp/np2.h5"
  # Resume: nothing is pretrained or run again, nothing changes.
  cp "$tmp/np2.h5" "$tmp/before.h5"
  mpi 2 "$bin" run "$src/tests/cnn_smoke.ini" -o "$tmp/np2.h5" 2> "$tmp/log"
  cat "$tmp/log"
  check "resume reads the pretraining back" has "read from the results file" "$tmp/log"
  check "resume runs nothing again" has "0 done, 0 failed, 6 already done" "$tmp/log"
  check "resume does not pretrain again" not grep -q "pretraining the" "$tmp/log"
  check "resume changes nothing" py "$src/tests/compare_h5.py" "$tmp/before.h5" "$tmp/np2.h5"
  # Extension (a third seed): the pretraining is copied, not redone.
  sed 's/^replicates = 2/replicates = 3/' "$src/tests/cnn_smoke.ini" > "$tmp/cnn3.ini"
  mpi 2 "$bin" run "$tmp/cnn3.ini" -o "$tmp/np2.h5" 2> "$tmp/log"
  cat "$tmp/log"
  check "extension runs only the new seed" has "3 done, 0 failed, 6 already done" "$tmp/log"
  check "extension does not pretrain again" not grep -q "pretraining the" "$tmp/log"
  check "extension keeps the same pretraining" py "$src/tests/check_cnn.py" "$tmp/np2.h5" --same-pretrained "$tmp/before.h5"
  # Other images under the same name: refused (exit 2), the file untouched.
  py "$src/tests/make_idx_subset.py" "$fashion" "$tmp/fflip" --train 6000 --test 1000 --flip-pixel
  cp "$tmp/np2.h5" "$tmp/before.h5"
  rc=0
  NTASWEEP_FASHION_DIR="$tmp/fflip" mpi 2 "$bin" run "$tmp/cnn3.ini" -o "$tmp/np2.h5" 2> "$tmp/log" || rc=$?
  cat "$tmp/log"
  check "changed data: exit 2" is "$rc" 2
  check "changed data: the message says so" has "has no pretraining of dataset = fashion" "$tmp/log"
  check "changed data: the file is untouched" cmp "$tmp/before.h5" "$tmp/np2.h5"
  # A missing dataset is bad input before any file exists.
  rc=0
  NTASWEEP_FASHION_DIR="$tmp/nowhere" mpi 1 "$bin" run "$tmp/cnn3.ini" -o "$tmp/none.h5" 2> "$tmp/log" || rc=$?
  cat "$tmp/log"
  check "missing data: exit 2" is "$rc" 2
  check "missing data: the message names the directory" has "NTASWEEP_FASHION_DIR=$tmp/nowhere: no t10k" "$tmp/log"
  check "missing data: no file created" not test -e "$tmp/none.h5"
  finish
  ;;
cnn_holdout)
  # A directory with only the 10k test files (the MNIST we have): 4:1 split
  # by image index, recorded in the pretrained group; a short pretraining.
  need_fashion
  py "$src/tests/make_idx_subset.py" "$(fashion_dir)" "$tmp/t10k" --test 2500 --test-only
  cat > "$tmp/h.ini" <<'INI'
[sweep]
name = holdout
[params]
model = cnn_nta
dataset = mnist
cnn_steps = 5
d_in = 64
d_out = 10
batch = 100
tau_w = 10
tau_c = 0.005
n_blocks = 2
block_len = 0.1
record_every = 10
INI
  NTASWEEP_MNIST_DIR="$tmp/t10k" mpi 1 "$bin" run "$tmp/h.ini" -o "$tmp/h.h5" --quiet
  check "a 10k-only directory is split 4:1 by index" py - "$tmp/h.h5" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
g = next(iter(f["pretrained"].values()))
got = (int(g.attrs["n_train"]), int(g.attrs["n_test"]), int(g.attrs["held_out_split"]), g.attrs["dataset"])
print("n_train, n_test, held_out_split, dataset:", got)
assert got[:3] == (2000, 500, 1) and got[3] in ("mnist", b"mnist"), got
assert g["train_features"].shape == (2000, 64) and int(g["status"][0]) == 1
assert int(f["status"][0]) == 1
PY
  # USR1 through the launcher during a long pretraining: stops within a
  # step, exit 3, the pretraining and the run left pending (resumable). Sent
  # once the log says the pretraining has begun (an observable state).
  # (not through mpi(): $! must be the launcher, see signal_stop)
  NTASWEEP_MNIST_DIR="$tmp/t10k" "$src/tools/mpi-launch" -n 2 "$bin" run "$tmp/h.ini" --set cnn_steps=1000000 \
    -o "$tmp/stop.h5" 2> "$tmp/log" &
  pid=$!
  started=0
  for _ in $(seq 1200); do
    if grep -q "step 1/\|pretraining the mnist CNN" "$tmp/log"; then started=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  check "the long pretraining began" is "$started" 1
  kill -USR1 "$pid" 2>/dev/null || true
  rc=0; wait "$pid" || rc=$?
  cat "$tmp/log"
  check "signal during pretraining: exit 3" is "$rc" 3
  check "the log says the pretraining was stopped" has "stopped by a signal while pretraining" "$tmp/log"
  rc=0; "$bin" status "$tmp/stop.h5" > "$tmp/status" || rc=$?
  cat "$tmp/status"
  check "status of the stopped sweep: exit 3" is "$rc" 3
  check "status: 1 pending run" is "$("$bin" status --json "$tmp/stop.h5" | py "$src/tests/json_get.py" pending)" 1
  check "an interrupted pretraining stays pending" py - "$tmp/stop.h5" <<'PY'
import sys, h5py
g = next(iter(h5py.File(sys.argv[1], "r")["pretrained"].values()))
assert int(g["status"][0]) == 0, "an interrupted pretraining must stay pending"
PY
  finish
  ;;
bench_quick)
  # `ntasweep bench --quick` prints the whole table: one row per model and
  # data path with positive finite numbers, then the per-run lines. No timing
  # thresholds (the machine is shared); bad options exit 2.
  "$bin" bench --quick > "$tmp/bench.txt"
  cat "$tmp/bench.txt"
  check "one row per model and data path, positive finite numbers" awk '
    $1 == "model" && $2 == "data" { header = 1; next }
    header && NF == 8 && $1 ~ /^(nta|nta_neuron|fc)$/ {
      for (i = 3; i <= 8; i++) if (!($i + 0 >= 0) || $i == "nan" || $i == "inf") { print "bad field " i ": " $0; bad = 1 }
      if (!($3 > 0 && $6 >= 0 && $7 > 0 && $8 > 0)) { print "non-positive: " $0; bad = 1 }
      rows[$1 " " $2] = 1; n++
    }
    END {
      split("nta nta_neuron fc", m, " "); split("sampled wishart expected", d, " ")
      for (i = 1; i <= 3; i++) for (j = 1; j <= 3; j++)
        if (!((m[i] " " d[j]) in rows)) { print "missing row " m[i] " " d[j]; bad = 1 }
      if (n != 9) { print "expected 9 rows, got " n; bad = 1 }
      exit bad
    }' "$tmp/bench.txt"
  check "the machine line" has "^machine: GEMM" "$tmp/bench.txt"
  check "the run-setup line" has "^run setup in-process" "$tmp/bench.txt"
  check "the pointer to tools/bench-overhead" has "tools/bench-overhead" "$tmp/bench.txt"
  # Sampled draws B d_in = 4000 normals per step, wishart d_in (d_in + 1) / 2 = 210, expected none.
  check "normals per step: 4000 sampled, 210 wishart, 0 expected" awk '$1 == "nta" && $2 == "sampled" && $6 != 4000 { exit 1 } $1 == "nta" && $2 == "wishart" && $6 != 210 { exit 1 }
       $1 == "nta" && $2 == "expected" && $6 != 0 { exit 1 }' "$tmp/bench.txt"
  for bad in "--steps 0" "--steps x" "--reps" "--fast"; do
    rc=0
    # shellcheck disable=SC2086
    "$bin" bench $bad > /dev/null 2> "$tmp/err" || rc=$?
    check "bench $bad: exit 2" is "$rc" 2
    check "bench $bad: names the option" has "ntasweep bench: .*${bad%% *}" "$tmp/err"
  done
  finish
  ;;
data_paths)
  # The wishart and expected paths through the whole program: valid sweeps,
  # the key stored per run, bitwise identical at 1 and 2 ranks; reduced
  # refuses wishart before anything is written; plan estimates the cheaper
  # paths as cheaper (bench measured ~10x and ~45x on the Fig. 2 step).
  core_s() { "$bin" plan --json --varied "$src/sweeps/fig2.ini" --set data="$1" | py "$src/tests/json_get.py" core_seconds; }
  s_sampled=$(core_s sampled) s_wishart=$(core_s wishart) s_expected=$(core_s expected)
  echo "plan of fig2.ini: sampled $s_sampled, wishart $s_wishart, expected $s_expected core-seconds"
  check "plan knows that wishart and expected steps are cheaper" \
    awk -v a="$s_sampled" -v b="$s_wishart" -v c="$s_expected" 'BEGIN { exit !(b < a / 4 && c < b) }'
  for d in wishart expected; do
    for np in 1 2; do
      mpi "$np" "$bin" run "$src/sweeps/smoke.ini" --set data=$d -o "$tmp/$d-$np.h5" --quiet
    done
    check "$d: 1 and 2 ranks bitwise equal" py "$src/tests/compare_h5.py" "$tmp/$d-1.h5" "$tmp/$d-2.h5"
    check "$d: the key stored per run, all done" py - "$tmp/$d-1.h5" "$d" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    data = [v.decode() if isinstance(v, bytes) else str(v) for v in f["data"][()]]
    assert data == [sys.argv[2]] * len(data), data
    assert (f["status"][()] == 1).all(), f["status"][()]
    assert np.isfinite(f["specialization"][()]).all()
print(sys.argv[2], "stored for", len(data), "runs, all done")
PY
  done
  # The two paths are different computations (different run keys and streams).
  check "wishart and expected give different files" \
    not py "$src/tests/compare_h5.py" "$tmp/wishart-1.h5" "$tmp/expected-1.h5" > /dev/null 2>&1
  rc=0
  "$bin" validate "$src/sweeps/fig4_reduced.ini" --set data=wishart > /dev/null 2> "$tmp/err" || rc=$?
  cat "$tmp/err"
  check "reduced with data=wishart: exit 2" is "$rc" 2
  check "reduced with data=wishart: the message names data" has "data" "$tmp/err"
  check "reduced with data=expected is valid" "$bin" validate "$src/sweeps/fig4_reduced.ini" --set data=expected
  finish
  ;;
*) echo "unknown test $test" >&2; exit 2 ;;
esac
