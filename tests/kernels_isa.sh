#!/usr/bin/env bash
# NTASWEEP_KERNELS: every instruction set of the train kernels gives the same
# bits. A tiny Fig. 2 sweep (d_out 10, d_in 20: the hand-blocked copies) on
# the sampled path (batch_gemm.h) and the Wishart path (the factor form), run
# with NTASWEEP_KERNELS=portable, =avx2, =avx512 and unset, compared with
# tests/compare_h5.py; a set this CPU lacks is skipped (exit 77 when no set
# besides the portable one and the default can be compared), and an unknown
# value must warn once and fall back to the best.
# usage: kernels_isa.sh NTASWEEP_BINARY SOURCE_DIR
set -euo pipefail
bin=$1 src=$2
tmp=$(mktemp -d /tmp/ntasweep-isa.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
py() { "$src/tools/ntapython" "$@"; }
fail() { echo "FAIL $*"; exit 1; }
sweep() { # NAME DATA: one process, 2 runs of 2 blocks (~2000 steps each)
  "$bin" run "$src/sweeps/fig2.ini" --set replicates=1 --set n_blocks=2 --set data="$2" \
    -o "$tmp/$1.h5" --quiet 2> "$tmp/$1.err"
}
compared=0
for data in sampled wishart; do
  unset NTASWEEP_KERNELS
  sweep "best_$data" "$data" || { cat "$tmp/best_$data.err"; fail "default run ($data)"; }
  [ ! -s "$tmp/best_$data.err" ] || { cat "$tmp/best_$data.err"; fail "default run warned ($data)"; }
  for isa in portable avx2 avx512; do
    NTASWEEP_KERNELS=$isa sweep "${isa}_$data" "$data" || { cat "$tmp/${isa}_$data.err"; fail "$isa run ($data)"; }
    if grep -q "lacks $isa" "$tmp/${isa}_$data.err"; then
      echo "skip $isa ($data): not on this CPU"
      continue
    fi
    [ ! -s "$tmp/${isa}_$data.err" ] || { cat "$tmp/${isa}_$data.err"; fail "$isa run warned ($data)"; }
    py "$src/tests/compare_h5.py" "$tmp/best_$data.h5" "$tmp/${isa}_$data.h5" || fail "$isa differs from the default ($data)"
    echo "ok   $data: NTASWEEP_KERNELS=$isa bitwise equal to the default"
    [ "$isa" = portable ] || compared=$((compared + 1))
  done
done
# An unknown value: one warning line, the best set, the same bits.
NTASWEEP_KERNELS=sse9 sweep bad sampled || { cat "$tmp/bad.err"; fail "run with an unknown value"; }
[ "$(wc -l < "$tmp/bad.err")" -eq 1 ] && grep -q "NTASWEEP_KERNELS=sse9: unknown" "$tmp/bad.err" ||
  { cat "$tmp/bad.err"; fail "an unknown NTASWEEP_KERNELS must warn in one line"; }
py "$src/tests/compare_h5.py" "$tmp/best_sampled.h5" "$tmp/bad.h5" || fail "unknown value: not the default's bits"
echo "ok   NTASWEEP_KERNELS=sse9 warns once and runs the default"
if [ "$compared" -eq 0 ]; then
  echo "skip: this CPU has neither AVX2 with FMA nor AVX-512: only the portable copy was compared"
  exit 77
fi
