#!/usr/bin/env bash
# Builds ntasweep with ASan + UBSan in BUILD_DIR and runs its unit tests there.
# usage: sanitizer.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
# The MPI flavour of the build that runs this test (ctest passes NTASWEEP_MPI).
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DNTASWEEP_SANITIZE=ON -DNTASWEEP_MPI="${NTASWEEP_MPI:-openmpi}" \
      -DNTASWEEP_SANITIZER_TEST=OFF > "$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j"$(nproc)" > "$build.build.log" 2>&1 || { tail -50 "$build.build.log"; exit 1; }
export OPENBLAS_NUM_THREADS=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$build" -L unit --output-on-failure

# The whole program too (spec, store, coordinator): one sweep, 1 and 2 ranks.
# Leak checking is off: the MPI library's own allocations at exit are not ours.
export ASAN_OPTIONS=detect_leaks=0
out=$(mktemp -d /tmp/ntasweep-asan.XXXXXX)
trap 'rm -rf "$out"' EXIT
passed=0 failed=0
check() { # DESCRIPTION CMD...
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $what"; else failed=$((failed + 1)); echo "FAIL $what"; fi
}
for np in 1 2; do
  check "sanitized sweep on $np rank(s)" \
    "$src/tools/mpi-launch" -n "$np" "$build/ntasweep" run "$src/sweeps/smoke.ini" -o "$out/np$np.h5" --quiet
  check "every run of it done" grep -q "8 total, 8 done, 0 failed" <("$build/ntasweep" status "$out/np$np.h5" 2>&1)
done
check "sanitized plan" "$build/ntasweep" plan "$src/sweeps/fig2.ini" > /dev/null
echo "sanitized sweep runs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
