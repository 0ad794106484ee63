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
  grep -q "another sweep" "$tmp/log"
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
*) echo "unknown test $test" >&2; exit 2 ;;
esac
