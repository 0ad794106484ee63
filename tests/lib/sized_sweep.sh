# sized_sweep.sh — the sweep the multi-host tests kill mid-run (source it after
# tests/lib/checks.sh, with `src`, `bin` and `tmp` set): tests' smoke sweep with
# 6 seeds (24 runs) in $tmp/sweep.ini, n_blocks chosen from a measured one-host
# reference ($tmp/ref.h5) so that it lasts >= 6 s: a kill must land while runs
# are left, on a fast idle machine as on a loaded one. kill_b_mid_sweep: the
# kill of host/node B's ranks mid-sweep that both tests make.
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
# kill_b_mid_sweep FILE: runs the sweep into FILE and, once a run is done and
# host/node B's ranks are alive, kills B's ntasweep processes with SIGKILL.
# The caller defines start_sweep (starts the job writing FILE, in the
# background), sweep_running (true while that job runs) and end_sweep (waits
# for its end; sets what the caller checks), and sets nsA and nsB. B is killed
# once 1 to 12 of the 24 runs are done; a job that ends first, gets past 12
# runs first, has no run done within 60 s, or has all 24 done despite the
# kill is no kill: it is repeated with twice the blocks (and a new
# reference), 3 times. Sets killed (processes killed),
# seenA and seenB (1 if a rank of A / B was seen).
kill_b_mid_sweep() {
  local file=$1 attempt deadline pa pb d p
  for attempt in 1 2 3; do
    rm -f "$file"*
    start_sweep
    killed=0 seenA=0 seenB=0 deadline=$((SECONDS + 60))
    while [ "$SECONDS" -lt "$deadline" ] && sweep_running; do
      pa=$(ntasweep_pids "$nsA"); pb=$(ntasweep_pids "$nsB")
      [ -n "$pa" ] && seenA=1
      [ -n "$pb" ] && seenB=1
      d=$(runs_done "$file")
      # Past half the runs, A's ranks might finish the rest before the job
      # is aborted (seen under load: 24 of 24 done after the kill): no kill.
      [ -n "$d" ] && [ "$d" -gt 12 ] && break
      if [ -n "$pb" ] && [ -n "$d" ] && [ "$d" -ge 1 ]; then
        for p in $pb; do kill -KILL "$p" 2> /dev/null && killed=$((killed + 1)); done
        break
      fi
      sleep 0.1
    done
    end_sweep
    # A kill counts only if it left the sweep unfinished: under heavy load
    # A's ranks can still finish every remaining run before the job is
    # aborted (seen: 24 of 24 done after a kill at 12). Longer runs then.
    d=$(runs_done "$file")
    [ "$killed" -ge 1 ] && [ "${d:-0}" -lt 24 ] && return 0
    [ "$attempt" -lt 3 ] || return 0
    blocks=$((2 * blocks))
    echo "attempt $attempt: no kill landed mid-sweep (killed $killed, ${d:-0} of 24 done); again with n_blocks = $blocks"
    make_sweep "$blocks"
    secs=$(reference)
  done
}
# check_killed_mid_sweep FILE WHERE: the checks after kill_b_mid_sweep, once
# the job has ended (WHERE: "host" or "node"): ranks ran on A and on B, B's
# were killed, nothing of the job still runs on either (waiting up to 10 s),
# and FILE's sweep is unfinished.
check_killed_mid_sweep() {
  local file=$1 where=$2 left
  check "ranks ran on $where A" [ "$seenA" -eq 1 ]
  check "ranks ran on $where B" [ "$seenB" -eq 1 ]
  check "$where B's ranks were killed mid-sweep ($killed processes)" [ "$killed" -ge 1 ]
  for _ in $(seq 100); do
    [ -z "$(ntasweep_pids "$nsA")$(ntasweep_pids "$nsB")" ] && break
    sleep 0.1
  done
  check "no rank left running on either $where" [ -z "$(ntasweep_pids "$nsA")$(ntasweep_pids "$nsB")" ]
  left=$(runs_done "$file")
  check "the killed job left the sweep unfinished ($left of 24 done)" [ "${left:-0}" -lt 24 ]
}
