#!/usr/bin/env bash
# End-to-end tests through the real binary, mpirun and the HDF5 file.
# usage: integration.sh TEST NTASWEEP_BINARY SOURCE_DIR
set -euo pipefail
test=$1 bin=$2 src=$3
tmp=$(mktemp -d /tmp/ntasweep-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
py() { "$src/tools/ntapython" "$@"; }
mpi() { local np=$1; shift; mpirun -np "$np" --oversubscribe "$@"; }
# Timing-dependent tests pick their moments as fractions of a reference
# run's duration measured just before, so they work on fast and slow machines.
now() { date +%s.%N; }
frac() { awk -v a="$1" -v b="$2" -v f="$3" 'BEGIN { printf "%.3f", (b - a) * f }'; }

case $test in
fig2_outcome)
  # The full Fig. 2 sweep (20 runs), then the paper's qualitative outcome.
  mpi 2 "$bin" run "$src/sweeps/fig2.ini" -o "$tmp/fig2.h5" --quiet
  py "$src/tests/check_fig2.py" "$tmp/fig2.h5"
  ;;
ranks_bitwise)
  # Same sweep at 1, 2 and 3 ranks: every dataset bitwise equal.
  for np in 1 2 3; do
    mpi "$np" "$bin" run "$src/sweeps/smoke.ini" -o "$tmp/np$np.h5" --quiet
  done
  py "$src/tests/compare_h5.py" "$tmp/np1.h5" "$tmp/np2.h5"
  py "$src/tests/compare_h5.py" "$tmp/np1.h5" "$tmp/np3.h5"
  ;;
resume)
  # Running the same command again keeps every done run and changes nothing.
  mpi 2 "$bin" run "$src/sweeps/smoke.ini" -o "$tmp/a.h5" --quiet
  cp "$tmp/a.h5" "$tmp/before.h5"
  mpi 2 "$bin" run "$src/sweeps/smoke.ini" -o "$tmp/a.h5" 2> "$tmp/log"
  cat "$tmp/log"
  grep -q "0 done, 0 failed, 8 already done" "$tmp/log"
  py "$src/tests/compare_h5.py" "$tmp/before.h5" "$tmp/a.h5"
  # Another sweep into the same file is refused and the file is untouched.
  cp "$tmp/a.h5" "$tmp/before-refused.h5"
  rc=0
  mpi 1 "$bin" run "$src/sweeps/smoke.ini" --set n_blocks=3 -o "$tmp/a.h5" 2> "$tmp/log" || rc=$?
  cat "$tmp/log"
  [ "$rc" -eq 2 ] || { echo "expected exit 2 for another sweep, got $rc"; exit 1; }
  grep -q "mix two different sweeps" "$tmp/log"
  grep -q "n_blocks: 4 -> 3" "$tmp/log"
  cmp "$tmp/before-refused.h5" "$tmp/a.h5"
  [ ! -e "$tmp/a.h5.tmp" ]
  echo "3 passed, 0 failed"
  ;;
xarray_plot)
  # The file opens in xarray with named dims, and the Fig. 2 plot draws from it.
  mpi 2 "$bin" run "$src/sweeps/smoke.ini" -o "$tmp/s.h5" --quiet
  py "$src/tests/check_xarray.py" "$tmp/s.h5"
  "$src/tools/plot_fig2.py" "$tmp/s.h5" -o "$tmp/s.png"
  [ -s "$tmp/s.png" ] || { echo "no PNG written"; exit 1; }
  echo "2 passed, 0 failed"
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
    # the trial is repeated with half the delay, up to 4 times.
    delay=$(frac "$t0" "$t1" "$(awk -v r=$RANDOM 'BEGIN { print 0.15 + 0.7 * r / 32768 }')")
    for attempt in 1 2 3 4; do
      rm -f "$tmp"/k.h5*
      setsid mpirun -np 2 --oversubscribe "$bin" run "$tmp/k.ini" -o "$tmp/k.h5" --quiet --flush 0.3 &
      pid=$!
      sleep "$delay"
      alive=0
      if kill -0 "$pid" 2>/dev/null; then
        kill -9 -- -"$pid" 2>/dev/null || true
        alive=1
      fi
      wait "$pid" 2>/dev/null || true
      # wait reaps mpirun only: a rank busy in the kernel (file I/O) can
      # outlive it for a moment and still hold the lock rightly (CI saw the
      # resume refused, "held by ntasweep process N"). Resume once every
      # process of the killed group is gone (zombies aside), as a scheduler
      # would before the next allocation.
      for _ in $(seq 200); do
        left=$(cat /proc/[0-9]*/stat 2>/dev/null | awk -v g="$pid" '$5 == g && $3 != "Z"' | wc -l)
        [ "$left" -eq 0 ] && break
        sleep 0.05
      done
      echo "trial $trial.$attempt: killed after $delay s"
      done_runs=none
      if [ -e "$tmp/k.h5" ]; then
        py "$src/tests/check_partial.py" "$tmp/ref.h5" "$tmp/k.h5" > "$tmp/partial.txt"
        cat "$tmp/partial.txt"
        done_runs=$(awk '/runs done/ { print $1 }' "$tmp/partial.txt")
      else
        echo "(killed before the file was renamed into place)"
      fi
      # The killed job left a stale lock (and maybe k.h5.tmp); the resume takes over.
      mpi 2 "$bin" run "$tmp/k.ini" -o "$tmp/k.h5" --quiet
      py "$src/tests/compare_h5.py" "$tmp/ref.h5" "$tmp/k.h5"
      [ ! -e "$tmp/k.h5.lock" ] || { echo "lock file left behind"; exit 1; }
      if [ "$alive" = 1 ] && [ "$done_runs" != 24 ]; then kills=$((kills + 1)); break; fi
      delay=$(awk -v d="$delay" 'BEGIN { printf "%.3f", d / 2 }')
    done
  done
  echo "$kills kills, resumed to a bitwise-equal file"
  ;;
signal_stop)
  # SIGTERM/SIGINT to a rank and USR1 through mpirun: exit 3, a valid file
  # with the finished runs, and a resume that completes it bitwise.
  sweep=(run "$src/sweeps/fig2.ini" --set n_blocks=10)
  t0=$(now); mpi 2 "$bin" "${sweep[@]}" -o "$tmp/ref.h5" --quiet; t1=$(now)
  echo "reference sweep: $(frac "$t0" "$t1" 1) s on 2 ranks"
  for sig in TERM INT; do
    # One process takes about twice the reference time: stop it mid-way.
    # If the reference was timed at a busier moment and the sweep finished
    # before the signal (exit 0), retry with half the delay.
    delay=$(frac "$t0" "$t1" 0.6)
    for attempt in 1 2 3 4; do
      rm -f "$tmp/$sig.h5"*
      "$bin" "${sweep[@]}" -o "$tmp/$sig.h5" --grace 0 --quiet &
      pid=$!
      sleep "$delay"
      kill -"$sig" "$pid" 2>/dev/null || true
      rc=0; wait "$pid" || rc=$?
      [ "$rc" -eq 0 ] || break
      delay=$(awk -v d="$delay" 'BEGIN { printf "%.3f", d / 2 }')
    done
    [ "$rc" -eq 3 ] || { echo "SIG$sig: expected exit 3, got $rc"; exit 1; }
    rc=0; "$bin" status "$tmp/$sig.h5" > "$tmp/status" || rc=$?
    cat "$tmp/status"
    [ "$rc" -eq 3 ] || { echo "status of a stopped sweep: expected 3, got $rc"; exit 1; }
    grep -q "pending" "$tmp/status"
    py "$src/tests/check_partial.py" "$tmp/ref.h5" "$tmp/$sig.h5"
    mpi 2 "$bin" "${sweep[@]}" -o "$tmp/$sig.h5" --quiet
    py "$src/tests/compare_h5.py" "$tmp/ref.h5" "$tmp/$sig.h5"
  done
  # SLURM's --signal path: USR1 to mpirun, which forwards it to every rank.
  # A long grace lets the running runs finish: they are done, not abandoned.
  delay=$(frac "$t0" "$t1" 0.6)
  for attempt in 1 2 3 4; do
    rm -f "$tmp/usr1.h5"*
    mpirun -np 2 --oversubscribe "$bin" "${sweep[@]}" -o "$tmp/usr1.h5" --grace 600 2> "$tmp/log" &
    pid=$!
    sleep "$delay"
    kill -USR1 "$pid" 2>/dev/null || true
    rc=0; wait "$pid" || rc=$?
    [ "$rc" -eq 0 ] || break
    delay=$(awk -v d="$delay" 'BEGIN { printf "%.3f", d / 2 }')
  done
  cat "$tmp/log"
  [ "$rc" -eq 3 ] || { echo "USR1 via mpirun: expected exit 3, got $rc"; exit 1; }
  grep -q "stop requested (signal 10)" "$tmp/log"
  grep -q "(0 abandoned mid-run)" "$tmp/log"
  py "$src/tests/check_partial.py" "$tmp/ref.h5" "$tmp/usr1.h5"
  mpi 2 "$bin" "${sweep[@]}" -o "$tmp/usr1.h5" --quiet
  py "$src/tests/compare_h5.py" "$tmp/ref.h5" "$tmp/usr1.h5"
  echo "3 passed, 0 failed"
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
  grep -q "4 new runs appended to its 8" "$tmp/log"
  grep -q "4 done, 0 failed, 8 already done before" "$tmp/log"
  mpi 2 "$bin" run "$tmp/ext.ini" -o "$tmp/fresh.h5" --quiet
  py "$src/tests/compare_h5.py" --by-key "$tmp/fresh.h5" "$tmp/a.h5"
  cp "$tmp/a.h5" "$tmp/before.h5"
  rc=0; "$bin" run "$tmp/lost.ini" -o "$tmp/a.h5" 2> "$tmp/log" || rc=$?
  cat "$tmp/log"
  [ "$rc" -eq 2 ] || { echo "lost points: expected exit 2, got $rc"; exit 1; }
  grep -q "tau_w: 1.3, 1, 0.8 -> 1.3, 0.7" "$tmp/log"
  cmp "$tmp/before.h5" "$tmp/a.h5"
  "$bin" run "$tmp/lost.ini" -o "$tmp/a.h5" --force-new --quiet
  cmp "$tmp/before.h5" "$tmp/a.h5.old-1"
  [ "$("$bin" status "$tmp/a.h5" | grep -c '8 total, 8 done')" -eq 1 ]
  # A second writer while the first runs.
  "$bin" run "$src/sweeps/fig2.ini" -o "$tmp/c.h5" --quiet &
  pid=$!
  for _ in $(seq 100); do [ -e "$tmp/c.h5.lock" ] && break; sleep 0.1; done
  [ -e "$tmp/c.h5.lock" ] || { echo "no lock file while running"; exit 1; }
  rc=0; "$bin" run "$src/sweeps/fig2.ini" -o "$tmp/c.h5" 2> "$tmp/log" || rc=$?
  cat "$tmp/log"
  [ "$rc" -eq 2 ] || { echo "second writer: expected exit 2, got $rc"; exit 1; }
  grep -q "being written by another job" "$tmp/log"
  "$bin" status "$tmp/c.h5" > "$tmp/status" || true
  grep -q "lock: .*held by ntasweep process $pid" "$tmp/status"
  kill -USR1 "$pid"
  rc=0; wait "$pid" || rc=$?
  [ "$rc" -eq 3 ] || { echo "first writer after USR1: expected 3, got $rc"; exit 1; }
  [ ! -e "$tmp/c.h5.lock" ] || { echo "lock not released"; exit 1; }
  # A stale lock (dead process on this host) is taken over.
  sleep 100 & dead=$!; kill "$dead"; wait "$dead" 2>/dev/null || true
  echo "$(hostname) $dead" > "$tmp/a.h5.lock"
  "$bin" run "$tmp/lost.ini" -o "$tmp/a.h5" 2> "$tmp/log"
  grep -q "removed a stale lock" "$tmp/log"
  echo "6 passed, 0 failed"
  ;;
variants_bitwise)
  # Every model variant end to end: 1 and 2 ranks bitwise equal, the file
  # opens in xarray with named dims.
  for np in 1 2; do
    mpi "$np" "$bin" run "$src/sweeps/smoke_variants.ini" -o "$tmp/np$np.h5" --quiet
  done
  "$bin" status "$tmp/np2.h5" | grep -q "14 total, 14 done, 0 failed"
  py "$src/tests/compare_h5.py" "$tmp/np1.h5" "$tmp/np2.h5"
  py "$src/tests/check_xarray.py" "$tmp/np2.h5"
  ;;
variants_outcome)
  # The variants' qualitative outcomes (fc specialises, redundant paths decay
  # under a weight cost, composition adapts fast), scaled down.
  mpi 2 "$bin" run "$src/tests/variants_outcome.ini" -o "$tmp/v.h5" --quiet
  py "$src/tests/check_variants.py" "$tmp/v.h5"
  ;;
fastw_outcome)
  # Fig. 5's fast-weight cell specialises in the authors' scaling (unit) and
  # not in the published code's (fan_in); the loss normalisation of each.
  mpi 2 "$bin" run "$src/tests/fastw_outcome.ini" -o "$tmp/fw.h5" --quiet
  py "$src/tests/check_fastw.py" "$tmp/fw.h5"
  ;;
figures_outcome)
  # Outcomes the paper and the authors' logged runs state for Figs. 8, A.16
  # and A.13 (full sweeps, a few seconds each), 3 and A.2 (scaled down).
  mpi 2 "$bin" run "$src/sweeps/fig8.ini" -o "$tmp/fig8.h5" --quiet
  mpi 2 "$bin" run "$src/sweeps/figA16_few_shot.ini" -o "$tmp/figA16.h5" --quiet
  mpi 2 "$bin" run "$src/sweeps/figA13_rho.ini" -o "$tmp/figA13.h5" --quiet
  mpi 2 "$bin" run "$src/tests/figA2_outcome.ini" -o "$tmp/figA2.h5" --quiet
  mpi 2 "$bin" run "$src/tests/fig3_outcome.ini" -o "$tmp/fig3.h5" --quiet
  py "$src/tests/check_figures.py" "$tmp/fig8.h5" "$tmp/figA16.h5" "$tmp/figA13.h5" "$tmp/figA2.h5" \
    "$tmp/fig3.h5"
  ;;
plot_smoke)
  # Every figure sweep has a plot script and a tiny version in tests/plot_smoke/
  # (which includes the sweep and shrinks it), and each plot script has both:
  # no figure is skipped silently. Each tiny sweep runs on 2 ranks and its plot
  # script must write a PNG.
  missing=0
  for f in "$src"/sweeps/*.ini; do
    name=$(basename "$f" .ini)
    case $name in smoke*) continue ;; esac
    [ -e "$src/tools/plot_$name.py" ] || { echo "sweeps/$name.ini has no tools/plot_$name.py"; missing=1; }
  done
  for p in "$src"/tools/plot_*.py; do
    name=$(basename "$p" .py); name=${name#plot_}
    [ -e "$src/sweeps/$name.ini" ] || { echo "tools/plot_$name.py has no sweeps/$name.ini"; missing=1; }
    [ -e "$src/tests/plot_smoke/$name.ini" ] || { echo "tools/plot_$name.py has no tests/plot_smoke/$name.ini"; missing=1; }
  done
  for t in "$src"/tests/plot_smoke/*.ini; do
    name=$(basename "$t" .ini)
    [ -e "$src/tools/plot_$name.py" ] || { echo "tests/plot_smoke/$name.ini has no tools/plot_$name.py"; missing=1; }
    grep -q "^include = ../../sweeps/$name.ini\$" "$t" || { echo "tests/plot_smoke/$name.ini does not include ../../sweeps/$name.ini"; missing=1; }
  done
  [ "$missing" -eq 0 ] || exit 1
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
  echo "$(( ${#names[@]} - failed )) passed, $failed failed"
  [ "$failed" -eq 0 ]
  ;;
validate_sweeps)
  # Every shipped sweep file is valid.
  n=0
  for f in "$src"/sweeps/*.ini "$src"/tests/variants_outcome.ini "$src"/tests/figA2_outcome.ini \
           "$src"/tests/fig3_outcome.ini \
           "$src"/tests/plot_smoke/*.ini; do
    "$bin" validate "$f"
    n=$((n + 1))
  done
  echo "$n passed, 0 failed"
  ;;
tiny_runs)
  # 10 000 one-step runs all complete; the benchmark prints the per-run overhead.
  "$src/tools/bench-overhead" --runs 10000 --ranks 2 --bin "$bin" --keep "$tmp/tiny.h5"
  "$bin" status "$tmp/tiny.h5" | tee "$tmp/status"
  grep -q "10000 total, 10000 done, 0 failed, 0 pending" "$tmp/status"
  ;;
cnn_sweep)
  # The CNN-embedded variant end to end on 6000 + 1000 real Fashion-MNIST
  # images: one short pretraining per sweep, the heads' outcome, 1 and 2
  # ranks bitwise equal, resume without pretraining again, extension copies
  # the pretraining, and other data in the directory is refused.
  fashion=/usr/share/datasets/fashion-mnist
  [ -d "$fashion" ] || { echo "missing $fashion (tools/install-deps installs dataset-fashion-mnist)"; exit 1; }
  py "$src/tests/make_idx_subset.py" "$fashion" "$tmp/fsub" --train 6000 --test 1000
  export NTASWEEP_FASHION_DIR="$tmp/fsub"
  # plan counts the one pretraining (three models share dataset, steps and
  # seed) apart from the runs; a sweep without CNN runs has none.
  "$bin" plan "$src/tests/cnn_smoke.ini" > "$tmp/plan"
  grep -E "^pretraining: 1 CNN pretraining before the runs, estimated 13 s wall" "$tmp/plan" \
    || { echo "plan of cnn_smoke.ini does not estimate its one 150-step pretraining:"; cat "$tmp/plan"; exit 1; }
  { sed '/^cnn_seed = /d' "$src/tests/cnn_smoke.ini"; printf '\n[grid]\ncnn_seed = 0, 1\n'; } > "$tmp/cnn_seeds.ini"
  "$bin" plan "$tmp/cnn_seeds.ini" | grep -E "^pretraining: 2 CNN pretrainings" \
    || { echo "two cnn_seed values should mean two pretrainings"; exit 1; }
  if "$bin" plan "$src/sweeps/fig2.ini" | grep -q "^pretraining:"; then echo "fig2 has no pretraining"; exit 1; fi
  mpi 2 "$bin" run "$src/tests/cnn_smoke.ini" -o "$tmp/np2.h5" 2> "$tmp/log"
  cat "$tmp/log"
  grep -q "pretrained the fashion CNN" "$tmp/log"
  py "$src/tests/check_cnn.py" "$tmp/np2.h5" --min-accuracy 0.78
  "$src/tools/plot_fig7.py" "$tmp/np2.h5" -o "$tmp/fig7.png"
  "$src/tools/plot_figA15.py" "$tmp/np2.h5" -o "$tmp/figA15.png"
  [ -s "$tmp/fig7.png" ] && [ -s "$tmp/figA15.png" ] || { echo "no PNG written"; exit 1; }
  mpi 1 "$bin" run "$src/tests/cnn_smoke.ini" -o "$tmp/np1.h5" --quiet
  py "$src/tests/compare_h5.py" "$tmp/np1.h5" "$tmp/np2.h5"
  # Resume: nothing is pretrained or run again, nothing changes.
  cp "$tmp/np2.h5" "$tmp/before.h5"
  mpi 2 "$bin" run "$src/tests/cnn_smoke.ini" -o "$tmp/np2.h5" 2> "$tmp/log"
  cat "$tmp/log"
  grep -q "read from the results file" "$tmp/log"
  grep -q "0 done, 0 failed, 6 already done" "$tmp/log"
  if grep -q "pretraining the" "$tmp/log"; then echo "pretrained again on resume"; exit 1; fi
  py "$src/tests/compare_h5.py" "$tmp/before.h5" "$tmp/np2.h5"
  # Extension (a third seed): the pretraining is copied, not redone.
  sed 's/^replicates = 2/replicates = 3/' "$src/tests/cnn_smoke.ini" > "$tmp/cnn3.ini"
  mpi 2 "$bin" run "$tmp/cnn3.ini" -o "$tmp/np2.h5" 2> "$tmp/log"
  cat "$tmp/log"
  grep -q "3 done, 0 failed, 6 already done" "$tmp/log"
  if grep -q "pretraining the" "$tmp/log"; then echo "pretrained again on extension"; exit 1; fi
  py "$src/tests/check_cnn.py" "$tmp/np2.h5" --same-pretrained "$tmp/before.h5"
  # Other images under the same name: refused (exit 2), the file untouched.
  py "$src/tests/make_idx_subset.py" "$fashion" "$tmp/fflip" --train 6000 --test 1000 --flip-pixel
  cp "$tmp/np2.h5" "$tmp/before.h5"
  rc=0
  NTASWEEP_FASHION_DIR="$tmp/fflip" mpi 2 "$bin" run "$tmp/cnn3.ini" -o "$tmp/np2.h5" 2> "$tmp/log" || rc=$?
  cat "$tmp/log"
  [ "$rc" -eq 2 ] || { echo "expected exit 2 for changed data, got $rc"; exit 1; }
  grep -q "has no pretraining of dataset = fashion" "$tmp/log"
  cmp "$tmp/before.h5" "$tmp/np2.h5"
  # A missing dataset is bad input before any file exists.
  rc=0
  NTASWEEP_FASHION_DIR="$tmp/nowhere" mpi 1 "$bin" run "$tmp/cnn3.ini" -o "$tmp/none.h5" 2> "$tmp/log" || rc=$?
  cat "$tmp/log"
  [ "$rc" -eq 2 ] && grep -q "NTASWEEP_FASHION_DIR=$tmp/nowhere: no t10k" "$tmp/log" && [ ! -e "$tmp/none.h5" ] ||
    { echo "expected exit 2 and no file for a missing dataset, got $rc"; exit 1; }
  echo "cnn_sweep: 10 passed, 0 failed"
  ;;
cnn_holdout)
  # A directory with only the 10k test files (the MNIST we have): 4:1 split
  # by image index, recorded in the pretrained group; a short pretraining.
  py "$src/tests/make_idx_subset.py" /usr/share/datasets/fashion-mnist "$tmp/t10k" --test 2500 --test-only
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
  py - "$tmp/h.h5" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
g = next(iter(f["pretrained"].values()))
got = (int(g.attrs["n_train"]), int(g.attrs["n_test"]), int(g.attrs["held_out_split"]), g.attrs["dataset"])
print("n_train, n_test, held_out_split, dataset:", got)
assert got[:3] == (2000, 500, 1) and got[3] in ("mnist", b"mnist"), got
assert g["train_features"].shape == (2000, 64) and int(g["status"][0]) == 1
assert int(f["status"][0]) == 1
print("1 passed, 0 failed")
PY
  # USR1 through mpirun during a long pretraining: stops within a step,
  # exit 3, the pretraining and the run left pending (resumable).
  NTASWEEP_MNIST_DIR="$tmp/t10k" mpirun -np 2 --oversubscribe "$bin" run "$tmp/h.ini" --set cnn_steps=1000000 \
    -o "$tmp/stop.h5" 2> "$tmp/log" &
  pid=$!
  for _ in $(seq 600); do
    if grep -q "step 1/\|pretraining the mnist CNN" "$tmp/log"; then break; fi
    sleep 0.1
  done
  sleep 1
  kill -USR1 "$pid"
  rc=0; wait "$pid" || rc=$?
  cat "$tmp/log"
  [ "$rc" -eq 3 ] || { echo "signal during pretraining: expected exit 3, got $rc"; exit 1; }
  grep -q "stopped by a signal while pretraining" "$tmp/log"
  rc=0; "$bin" status "$tmp/stop.h5" > "$tmp/status" || rc=$?
  cat "$tmp/status"
  [ "$rc" -eq 3 ] && grep -q "1 pending" "$tmp/status" || { echo "expected 1 pending run"; exit 1; }
  py - "$tmp/stop.h5" <<'PY'
import sys, h5py
g = next(iter(h5py.File(sys.argv[1], "r")["pretrained"].values()))
assert int(g["status"][0]) == 0, "an interrupted pretraining must stay pending"
print("2 passed, 0 failed")
PY
  ;;
bench_quick)
  # `ntasweep bench --quick` prints the whole table: one row per model and
  # data path with positive finite numbers, then the per-run lines. No timing
  # thresholds (the machine is shared); bad options exit 2.
  "$bin" bench --quick > "$tmp/bench.txt"
  cat "$tmp/bench.txt"
  awk '
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
  grep "^machine: GEMM" "$tmp/bench.txt" > /dev/null
  grep "^run setup in-process" "$tmp/bench.txt" > /dev/null
  grep "tools/bench-overhead" "$tmp/bench.txt" > /dev/null
  # Sampled draws B d_in = 4000 normals per step, wishart d_in (d_in + 1) / 2 = 210, expected none.
  awk '$1 == "nta" && $2 == "sampled" && $6 != 4000 { exit 1 } $1 == "nta" && $2 == "wishart" && $6 != 210 { exit 1 }
       $1 == "nta" && $2 == "expected" && $6 != 0 { exit 1 }' "$tmp/bench.txt"
  for bad in "--steps 0" "--steps x" "--reps" "--fast"; do
    rc=0
    # shellcheck disable=SC2086
    "$bin" bench $bad > /dev/null 2> "$tmp/err" || rc=$?
    [ "$rc" -eq 2 ] || { echo "bench $bad: expected exit 2, got $rc"; exit 1; }
    grep "bad option" "$tmp/err" > /dev/null
  done
  echo "2 passed, 0 failed"
  ;;
data_paths)
  # The wishart and expected paths through the whole program: valid sweeps,
  # the key stored per run, bitwise identical at 1 and 2 ranks; reduced
  # refuses wishart before anything is written; plan estimates the cheaper
  # paths as cheaper (bench measured ~10x and ~45x on the Fig. 2 step).
  core_s() { "$bin" plan "$src/sweeps/fig2.ini" --set data="$1" | sed -n 's/^total: .*estimated \([0-9.eE+-]*\) core-seconds.*/\1/p'; }
  s_sampled=$(core_s sampled) s_wishart=$(core_s wishart) s_expected=$(core_s expected)
  echo "plan of fig2.ini: sampled $s_sampled, wishart $s_wishart, expected $s_expected core-seconds"
  awk -v a="$s_sampled" -v b="$s_wishart" -v c="$s_expected" 'BEGIN { exit !(b < a / 4 && c < b) }' \
    || { echo "plan does not know that wishart and expected steps are cheaper"; exit 1; }
  for d in wishart expected; do
    for np in 1 2; do
      mpi "$np" "$bin" run "$src/sweeps/smoke.ini" --set data=$d -o "$tmp/$d-$np.h5" --quiet
    done
    py "$src/tests/compare_h5.py" "$tmp/$d-1.h5" "$tmp/$d-2.h5"
    py - "$tmp/$d-1.h5" "$d" <<'PY'
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
  if py "$src/tests/compare_h5.py" "$tmp/wishart-1.h5" "$tmp/expected-1.h5" > /dev/null 2>&1; then
    echo "wishart and expected gave identical files"; exit 1
  fi
  rc=0
  "$bin" validate "$src/sweeps/fig4_reduced.ini" --set data=wishart > /dev/null 2> "$tmp/err" || rc=$?
  cat "$tmp/err"
  [ "$rc" -eq 2 ] || { echo "reduced with data=wishart: expected exit 2, got $rc"; exit 1; }
  grep "data" "$tmp/err" > /dev/null
  "$bin" validate "$src/sweeps/fig4_reduced.ini" --set data=expected
  echo "5 passed, 0 failed"
  ;;
*) echo "unknown test $test" >&2; exit 2 ;;
esac
