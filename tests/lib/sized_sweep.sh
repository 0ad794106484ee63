# sized_sweep.sh — the sweep the multi-host tests kill mid-run (source it after
# tests/lib/checks.sh, with `src`, `bin` and `tmp` set): tests' smoke sweep with
# 6 seeds (24 runs) in $tmp/sweep.ini, n_blocks chosen from a measured one-host
# reference ($tmp/ref.h5) so that it lasts >= 6 s: a kill must land while runs
# are left, on a fast idle machine as on a loaded one.
make_sweep() { # N_BLOCKS
  sed "s/^replicates = .*/replicates = 6/; s/^n_blocks = .*/n_blocks = $1/" "$src/sweeps/smoke.ini" > "$tmp/sweep.ini"
}
runs_done() { { "$bin" status --json "$1" 2> /dev/null || true; } | py "$src/tests/json_get.py" done 2> /dev/null || true; }
ntasweep_pids() { # NS: pids of ntasweep processes in that network namespace
  local p
  for p in $(ip netns pids "$1" 2> /dev/null); do
    [ "$(cat "/proc/$p/comm" 2> /dev/null || true)" = ntasweep ] && echo "$p"
  done
  return 0
}
reference() { # the sweep on 2 ranks of this machine, no namespaces; prints its seconds
  local t0
  rm -f "$tmp/ref.h5"*
  t0=$(now)
  "$src/tools/mpi-launch" -n 2 "$bin" run "$tmp/sweep.ini" -o "$tmp/ref.h5" --quiet
  since "$t0"
}
# size_sweep: sets `blocks` and `secs` (the reference's seconds), grown in
# proportion until the reference takes >= 6 s (at most 4096 blocks).
size_sweep() {
  blocks=16
  make_sweep "$blocks"
  secs=$(reference)
  while awk -v s="$secs" 'BEGIN { exit !(s < 6) }' && [ "$blocks" -lt 4096 ]; do
    blocks=$(awk -v b="$blocks" -v s="$secs" 'BEGIN { n = int(b * 7 / (s > 0.05 ? s : 0.05)); if (n > 4096) n = 4096; if (n <= b) n = 2 * b; print n }')
    make_sweep "$blocks"
    secs=$(reference)
  done
  echo "reference: $secs s on one host with n_blocks = $blocks"
}
