#!/usr/bin/env bash
# ntasweep built against another MPI or another BLAS, in a build directory of
# its own inside the main build tree:
#   mpich_build   -DNTASWEEP_MPI=mpich (mpicc.mpich, HDF5 of /usr/include/hdf5/mpich),
#                 only the ntasweep target; the smoke sweep at 1, 2 and 3 ranks
#                 with mpiexec.mpich, bitwise equal to each other and to the
#                 main (Open MPI) build's result.
#   blas_variant  -DBLA_VENDOR=FLAME (BLIS), only the unit tests, which run there.
# Exit 77 (skipped, with the reason) when the variant's packages are absent
# (tools/install-deps installs them).
# usage: build_variant.sh TEST SOURCE_DIR BUILD_DIR MAIN_NTASWEEP_BINARY
set -euo pipefail
test=$1 src=$2 build=$3 main_bin=$4
# shellcheck source=lib/checks.sh
. "$src/tests/lib/checks.sh"
tmp=$(mktemp -d /tmp/ntasweep-variant.XXXXXX)
on_exit() {
  local rc=$?
  rm -rf "$tmp"
  exit_checked "$rc"
}
trap on_exit EXIT
# configure_build DIR TARGETS... -- CMAKE_ARGS...: configure (logs in DIR.*.log), build TARGETS with -j2.
configure_build() {
  local dir=$1; shift
  local targets=()
  while [ "$1" != -- ]; do targets+=("$1"); shift; done
  shift
  local t0; t0=$(now)
  cmake -S "$src" -B "$dir" -DNTASWEEP_SANITIZER_TEST=OFF "$@" > "$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log"; echo "FAIL configure $*"; return 1; }
  grep "ntasweep:" "$dir.configure.log" || true
  cmake --build "$dir" -j2 --target "${targets[@]}" > "$dir.build.log" 2>&1 ||
    { tail -n 40 "$dir.build.log"; echo "FAIL build"; return 1; }
  echo "configured and built ${#targets[@]} target(s) in $(since "$t0") s"
}

case $test in
mpich_build)
  missing=()
  for b in mpicc.mpich mpiexec.mpich h5pcc.mpich; do command -v "$b" > /dev/null || missing+=("$b"); done
  [ -e /usr/include/hdf5/mpich/hdf5.h ] || missing+=(/usr/include/hdf5/mpich/hdf5.h)
  [ ${#missing[@]} -eq 0 ] ||
    skip "MPICH is not installed here (missing ${missing[*]}; tools/install-deps installs mpich libmpich-dev libhdf5-mpich-dev)"
  dir=$build/mpich
  configure_build "$dir" ntasweep -- -DNTASWEEP_MPI=mpich -DBUILD_TESTING=OFF
  bin=$dir/ntasweep
  ldd "$bin" > "$tmp/ldd"
  check "linked against MPICH" has "libmpich" "$tmp/ldd"
  check "linked against MPICH's HDF5" has "libhdf5_mpich" "$tmp/ldd"
  check "not linked against Open MPI" not grep -q "libmpi\.so" "$tmp/ldd"
  check "the build recorded mpiexec.mpich as its launcher" grep -q "mpiexec\.mpich$" "$dir/mpiexec.txt"
  # tools/mpi-launch finds the recorded launcher by itself (NTASWEEP_MPIEXEC unset).
  unset NTASWEEP_MPIEXEC
  "$src/tools/mpi-launch" --print -n 3 "$bin" run x > "$tmp/cmd"
  check "mpi-launch uses the recorded launcher with MPICH's flags" grep -q "^/usr/bin/mpiexec.mpich -n 3 -genv " "$tmp/cmd"
  for np in 1 2 3; do
    t0=$(now)
    "$src/tools/mpi-launch" -n "$np" "$bin" run "$src/sweeps/smoke.ini" -o "$tmp/np$np.h5" --quiet
    echo "smoke sweep on $np rank(s) with mpiexec.mpich: $(since "$t0") s"
  done
  check "all smoke runs done" is "$("$bin" status --json "$tmp/np3.h5" | py "$src/tests/json_get.py" runs done failed)" "8 8 0"
  check "MPICH: 1 and 2 ranks bitwise equal" py "$src/tests/compare_h5.py" "$tmp/np1.h5" "$tmp/np2.h5"
  check "MPICH: 1 and 3 ranks bitwise equal" py "$src/tests/compare_h5.py" "$tmp/np1.h5" "$tmp/np3.h5"
  # The same sweep by the main build (its own MPI, one process): the MPI
  # library changes no number.
  "$main_bin" run "$src/sweeps/smoke.ini" -o "$tmp/main.h5" --quiet
  check "MPICH and the main build bitwise equal" py "$src/tests/compare_h5.py" "$tmp/main.h5" "$tmp/np2.h5"
  finish
  ;;
blas_variant)
  # Debian's libblis-dev: libblis.so (alternative) and cblas.h in /usr/include/x86_64-linux-gnu/blis-*.
  blis_lib=$(compgen -G "/usr/lib/x86_64-linux-gnu/libblis.so" || true)
  blis_h=$(compgen -G "/usr/include/x86_64-linux-gnu/blis-*/cblas.h" | head -n 1 || true)
  [ -n "$blis_lib" ] && [ -n "$blis_h" ] ||
    skip "BLIS is not installed here (no /usr/lib/x86_64-linux-gnu/libblis.so or blis-*/cblas.h; tools/install-deps installs libblis-dev)"
  dir=$build/blis
  mapfile -t units < <(cd "$src/tests" && ls test_*.c | sed 's/\.c$//')
  configure_build "$dir" "${units[@]}" -- -DBLA_VENDOR=FLAME
  check "configured with BLIS's cblas.h" grep -q "cblas.h in .*blis" "$dir.configure.log"
  ldd "$dir/tests/test_model_nta" > "$tmp/ldd"
  check "the unit tests link BLIS" has "libblis" "$tmp/ldd"
  check "the unit tests do not link OpenBLAS" not grep -q "libopenblas" "$tmp/ldd"
  export BLIS_NUM_THREADS=1 OMP_NUM_THREADS=1
  check "the ${#units[@]} unit tests pass against BLIS" ctest --test-dir "$dir" -L unit --output-on-failure
  check "ntas_blas_set_threads reaches BLIS" grep -q "linked BLAS: BLIS" <("$dir/tests/test_blas_threads")
  finish
  ;;
*) echo "unknown test $test" >&2; exit 2 ;;
esac
