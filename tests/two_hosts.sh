#!/usr/bin/env bash
# two_hosts — a sweep across two MPI hosts made on this machine, one of them
# killed mid-sweep, then resumed: the result is bitwise equal to a 1-host run.
#
# usage: two_hosts.sh NTASWEEP_BINARY SOURCE_DIR
#
# The two "hosts" are network namespaces joined by a veth pair, with
# addresses only inside them (10.250.N.1 and .2/30; nothing else is touched,
# nothing leaves the machine). Open MPI runs mpirun in host A; its daemon on
# host B is started by a plm_rsh_agent script that enters B's namespace (and
# a UTS namespace with B's own host name, so the two daemons keep separate
# session directories) instead of using ssh. Ranks talk over TCP on the veth
# pair only (btl tcp,self; oob and btl restricted to the /30). The results
# file lives in one directory both hosts see, as on a cluster's shared file
# system. Then:
#   1. reference: the sweep on 2 ranks of this machine, no namespaces;
#   2. the sweep on 2 + 2 ranks across A and B; once the file has a run done,
#      every ntasweep process of host B is killed with SIGKILL (their pids
#      from `ip netns pids`); mpirun ends the job (non-zero);
#   3. the same command again (as a requeue would): it resumes and completes;
#   4. the file equals the reference bit for bit (tests/compare_h5.py).
# Skipped (exit 77, with the reason) without network-namespace rights
# (CAP_NET_ADMIN), without Open MPI's mpirun, or without Python's h5py.
# The same on a real two-node SLURM: tests/slurm_two_nodes.sh.
set -euo pipefail
bin=$1 src=$2
# shellcheck source=lib/checks.sh
. "$src/tests/lib/checks.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (CAP_NET_ADMIN) to make network namespaces"
command -v ip > /dev/null || skip "needs iproute2's ip"
command -v unshare > /dev/null || skip "needs util-linux's unshare"
mpirun_bin=$(command -v mpirun || true)
[ -n "$mpirun_bin" ] && "$mpirun_bin" --version 2>&1 | grep -q "Open MPI" || skip "needs Open MPI's mpirun (the rsh agent is Open MPI's)"
"$src/tools/ntapython" -c 'import h5py' 2> /dev/null || skip "needs Python with h5py for the comparison"

tag=$$
net=$((tag % 250))
nsA=ntasA$tag nsB=ntasB$tag
ipA=10.250.$net.1 ipB=10.250.$net.2 subnet=10.250.$net.0/30
tmp=$(mktemp -d /tmp/ntasweep-2hosts.XXXXXX)
job=
# Everything this test started is ended by pid: the job, then whatever still
# runs inside the two namespaces (ip netns pids), then the namespaces.
cleanup() {
  local rc=$?
  if [ -n "$job" ] && kill -0 "$job" 2> /dev/null; then kill -KILL "$job" 2> /dev/null || true; fi
  for ns in "$nsA" "$nsB"; do
    if ip netns list | grep -qw "$ns"; then
      for p in $(ip netns pids "$ns" 2> /dev/null); do kill -KILL "$p" 2> /dev/null || true; done
      ip netns del "$ns" 2> /dev/null || true
    fi
  done
  rm -rf "$tmp"
  exit_checked "$rc"
}
trap cleanup EXIT

ip netns add "$nsA" 2> "$tmp/netns.err" || skip "cannot create a network namespace: $(cat "$tmp/netns.err")"
ip netns add "$nsB"
ip link add "v${tag}a" netns "$nsA" type veth peer name "v${tag}b" netns "$nsB"
ip -n "$nsA" addr add "$ipA/30" dev "v${tag}a"
ip -n "$nsB" addr add "$ipB/30" dev "v${tag}b"
for ns in "$nsA" "$nsB"; do
  ip -n "$ns" link set lo up
done
ip -n "$nsA" link set "v${tag}a" up
ip -n "$nsB" link set "v${tag}b" up

# Open MPI's launch agent: "AGENT HOST COMMAND..." as ssh would run it.
cat > "$tmp/agent.sh" <<SH
#!/bin/sh
host=\$1; shift
case \$host in
  $ipA) ns=$nsA ;;
  $ipB) ns=$nsB ;;
  *) echo "agent: unknown host \$host" >&2; exit 1 ;;
esac
exec ip netns exec "\$ns" unshare --uts sh -c 'hostname "\$0" && exec sh -c "\$1"' "node-\$ns" "\$*"
SH
chmod +x "$tmp/agent.sh"

# The smoke sweep with 6 seeds (24 runs) and n_blocks chosen from a measured
# reference so that a one-host run lasts several seconds: the kill must land
# while runs are left, on a fast idle machine as on a loaded one.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
two_hosts() { # OUT: the sweep on 2 ranks in A and 2 in B
  ip netns exec "$nsA" "$mpirun_bin" -np 4 --host "$ipA:2,$ipB:2" --oversubscribe \
    --mca plm_rsh_agent "$tmp/agent.sh" --mca pml ob1 --mca btl tcp,self \
    --mca oob_tcp_if_include "$subnet" --mca btl_tcp_if_include "$subnet" \
    -x OPENBLAS_NUM_THREADS "$bin" run "$tmp/sweep.ini" -o "$1" --quiet --grace 0
}

# shellcheck source=lib/sized_sweep.sh
. "$src/tests/lib/sized_sweep.sh"
size_sweep
check "reference on one host (2 ranks): 24 runs done" [ "$(runs_done "$tmp/ref.h5")" = 24 ]

shared=$tmp/shared
mkdir -p "$shared"
# Once a run is done with both hosts' ranks alive, host B's ranks are killed
# (tests/lib/sized_sweep.sh); mpirun then ends the job.
start_sweep() { two_hosts "$shared/two.h5" > "$tmp/kill.log" 2>&1 & job=$!; }
sweep_running() { kill -0 "$job" 2> /dev/null; }
end_sweep() { rc=0; wait "$job" || rc=$?; job=; }
kill_b_mid_sweep "$shared/two.h5"
check "the job failed when host B died (exit $rc)" [ "$rc" -ne 0 ]
check_killed_mid_sweep "$shared/two.h5" host
if [ "$failed" -gt 0 ]; then cat "$tmp/kill.log"; fi

# The requeue: the same command on the same two hosts resumes the file.
check "the resumed sweep on two hosts completes" two_hosts "$shared/two.h5"
check "all 24 runs done after the resume" [ "$(runs_done "$shared/two.h5")" = 24 ]
check "bitwise equal to the one-host run" py "$src/tests/compare_h5.py" "$tmp/ref.h5" "$shared/two.h5"
finish
