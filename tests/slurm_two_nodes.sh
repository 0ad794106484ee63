#!/usr/bin/env bash
# slurm_two_nodes — a sweep on a real two-node SLURM cluster made on this
# machine, one node's ranks killed mid-sweep, the job requeued: the result is
# bitwise equal to a 1-host run.
#
# usage: slurm_two_nodes.sh NTASWEEP_BINARY SOURCE_DIR
#
# The two nodes are network namespaces joined by a veth pair, with addresses
# only inside them (10.251.N.1 and .2/30; nothing else is touched, nothing
# leaves the machine), as in tests/two_hosts.sh. The cluster:
#   munged      in this namespace; its socket is a file, which both nodes see;
#   slurmctld   in node A's namespace, listening on A's address;
#   slurmd -N nodeA / -N nodeB, one in each namespace, NodeAddr = that
#               namespace's address; each in a UTS namespace with its node's
#               host name and a mount namespace where TmpFS (a directory of
#               this test) is the node's own, so the two nodes' PMIx
#               directories do not collide; spool, pid and log files per node
#               (%n in slurm.conf).
# Namespaces are entered with `nsenter --net` (not `ip netns exec`, which
# remounts /sys without the cgroup file system slurmd needs).
# Then, with the results file in a directory both nodes see:
#   1. reference: the sweep on 2 ranks of this machine, no SLURM, no
#      namespaces (tools/mpi-launch);
#   2. jobs/sweep.sbatch submitted with `sbatch -N 2 --ntasks-per-node=1
#      --requeue`, LAUNCHER=srun, `srun --mpi=pmix` (NTASWEEP_SRUN_MPI
#      overrides) starting one rank on each node; Open MPI talks TCP over the
#      veth pair only (OMPI_MCA_btl=tcp,self, btl_tcp_if_include = the /30);
#   3. once the file has a run done, node B's ntasweep process is killed with
#      SIGKILL (its pid from `ip netns pids`); srun -K1 ends the step and the
#      job fails with the sweep unfinished;
#   4. `scontrol requeue` of the failed job: the next allocation, again on
#      both nodes, resumes the file and completes;
#   5. the file equals the reference bit for bit (tests/compare_h5.py).
# The sweep's length comes from a measured reference (as in two_hosts.sh), so
# the kill lands mid-sweep on a fast idle machine as on a loaded one.
# Skipped (exit 77, with the reason) without root (network namespaces,
# slurmd), without iproute2/nsenter/unshare, without SLURM or munge, without
# SLURM's pmix MPI plugin, or without Python's h5py. Every daemon is stopped
# by its pid and the namespaces are deleted at exit.
set -euo pipefail
bin=$1 src=$2
# shellcheck source=lib/checks.sh
. "$src/tests/lib/checks.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (CAP_NET_ADMIN for network namespaces; slurmd runs jobs as their owner)"
for c in ip nsenter unshare; do
  command -v "$c" > /dev/null || skip "needs $c (iproute2, util-linux)"
done
for c in munged slurmctld slurmd sbatch srun scontrol squeue sinfo scancel; do
  command -v "$c" > /dev/null || skip "SLURM or munge is not installed (no $c; tools/install-deps installs slurm-wlm and munge)"
done
"$src/tools/ntapython" -c 'import h5py' 2> /dev/null || skip "needs Python with h5py for the comparison"
srun_mpi=${NTASWEEP_SRUN_MPI:-pmix}

tag=$$
net=$((tag % 250))
nsA=ntasSA$tag nsB=ntasSB$tag
ipA=10.251.$net.1 ipB=10.251.$net.2 subnet=10.251.$net.0/30
tmp=$(mktemp -d /tmp/ntasweep-slurm2.XXXXXX)
cl=$tmp/cluster
export SLURM_CONF=$cl/slurm.conf
inA() { nsenter --net="/run/netns/$nsA" "$@"; }

# stop PIDFILE: TERM, then KILL after 10 s.
stop() {
  local pid
  [ -s "$1" ] || return 0
  pid=$(cat "$1")
  if kill -0 "$pid" 2> /dev/null; then
    kill -TERM "$pid" 2> /dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2> /dev/null || true
  fi
  rm -f "$1"
}
# Everything this test started is ended by pid: the jobs (scancel, while
# slurmctld runs), the daemons, whatever still runs inside the namespaces
# (slurmstepd, ranks: ip netns pids), munged; then the namespaces go.
cleanup() {
  local rc=$? p ns
  if [ -s "$cl/slurmctld.pid" ] && kill -0 "$(cat "$cl/slurmctld.pid")" 2> /dev/null; then
    inA scancel --full --signal=KILL -u root > /dev/null 2>&1 || true
    inA scancel -u root > /dev/null 2>&1 || true
  fi
  stop "$cl/slurmd-nodeB.pid"
  stop "$cl/slurmd-nodeA.pid"
  stop "$cl/slurmctld.pid"
  for ns in "$nsA" "$nsB"; do
    if ip netns list | grep -qw "$ns"; then
      for p in $(ip netns pids "$ns" 2> /dev/null); do kill -KILL "$p" 2> /dev/null || true; done
      ip netns del "$ns" 2> /dev/null || true
    fi
  done
  stop "$cl/munged.pid"
  wait 2> /dev/null || true
  if [ "$finished" -eq 0 ] && [ "$rc" -ne 77 ]; then
    for f in "$cl"/log/*; do [ -f "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }; done
  fi
  rm -rf "$tmp"
  exit_checked "$rc"
}
trap cleanup EXIT
trap "exit 1" INT TERM HUP

# --- the two nodes' network: namespaces A and B, a veth pair between them.
ip netns add "$nsA" 2> "$tmp/netns.err" || skip "cannot create a network namespace: $(cat "$tmp/netns.err")"
ip netns add "$nsB"
ip link add "w${tag}a" netns "$nsA" type veth peer name "w${tag}b" netns "$nsB"
ip -n "$nsA" addr add "$ipA/30" dev "w${tag}a"
ip -n "$nsB" addr add "$ipB/30" dev "w${tag}b"
for ns in "$nsA" "$nsB"; do ip -n "$ns" link set lo up; done
ip -n "$nsA" link set "w${tag}a" up
ip -n "$nsB" link set "w${tag}b" up

# --- munge (a fresh key, a socket of our own) and slurm.conf: each daemon
# is alone in its namespace, so the standard ports are free there and nothing
# of this machine's own network is used.
# shellcheck source=lib/slurm_conf.sh
. "$src/tests/lib/slurm_conf.sh"
mkdir -p "$cl/state" "$cl/log" "$cl/nodetmp" "$cl/tmp-nodeA" "$cl/tmp-nodeB" \
  "$cl/spool/slurmd-nodeA" "$cl/spool/slurmd-nodeB"
start_munged "$cl" || exit 1
cpus=$(nproc)
{
  echo "# Written by tests/slurm_two_nodes.sh: two nodes in network namespaces."
  # A dead rank's peers hang in MPI: SLURM kills them 5 s after the step ends.
  slurm_conf "$cl" ntastwo "nodeA($ipA)" 6817 6818 5
  cat <<EOF
# Each slurmd sees its own directory here (a bind mount in its mount
# namespace): the PMIx plugin makes per-step directories in TmpFS.
TmpFS=$cl/nodetmp
NodeName=nodeA NodeAddr=$ipA NodeHostname=nodeA CPUs=$cpus State=UNKNOWN
NodeName=nodeB NodeAddr=$ipB NodeHostname=nodeB CPUs=$cpus State=UNKNOWN
PartitionName=two Nodes=nodeA,nodeB Default=YES MaxTime=INFINITE State=UP
EOF
} > "$SLURM_CONF"

# nsenter, unshare and sh exec one another: each $! is the daemon's own pid.
# shellcheck disable=SC2016 # the inner shell expands its own arguments
inA unshare --uts sh -c 'hostname nodeA && exec slurmctld -D -i -f "$0"' "$SLURM_CONF" \
  > "$cl/log/slurmctld.out" 2>&1 &
echo $! > "$cl/slurmctld.pid"
for n in A B; do
  ns=$nsA
  [ "$n" = B ] && ns=$nsB
  # shellcheck disable=SC2016
  nsenter --net="/run/netns/$ns" unshare --uts --mount sh -c \
    'hostname "$1" && mount --bind "$2" "$3" && exec slurmd -D -N "$1" -f "$0"' \
    "$SLURM_CONF" "node$n" "$cl/tmp-node$n" "$cl/nodetmp" > "$cl/log/slurmd-node$n.out" 2>&1 &
  echo $! > "$cl/slurmd-node$n.pid"
done
# Ready when both nodes are idle (registered with slurmctld), within 60 s.
states=
for _ in $(seq 300); do
  for d in slurmctld slurmd-nodeA slurmd-nodeB; do
    kill -0 "$(cat "$cl/$d.pid")" 2> /dev/null || { echo "$d exited at start-up"; exit 1; }
  done
  states=$(inA sinfo -h -N -o '%N=%t' 2> /dev/null | sort | tr '\n' ' ' || true)
  [ "$states" = "nodeA=idle nodeB=idle " ] && break
  sleep 0.2
done
check "both nodes registered and idle ($states)" [ "$states" = "nodeA=idle nodeB=idle " ]
[ "$failed" -eq 0 ] || exit 1
inA srun --mpi=list 2>&1 | grep -qw "$srun_mpi" ||
  skip "SLURM has no MPI plugin '$srun_mpi' (srun --mpi=list; Debian's slurm-wlm ships mpi_pmix)"

# --- the sweep: tests' smoke sweep with 6 seeds (24 runs) and n_blocks
# chosen from a measured reference so that a one-host run lasts >= 6 s.
export OPENBLAS_NUM_THREADS=1
# shellcheck source=lib/sized_sweep.sh
. "$src/tests/lib/sized_sweep.sh"
size_sweep
check "reference on one host (2 ranks): 24 runs done" [ "$(runs_done "$tmp/ref.h5")" = 24 ]

# job_field JOB FIELD: a field of `scontrol show job` (JobState, Restarts, ...).
job_field() {
  inA scontrol -o show job "$1" 2> /dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}
# wait_end JOB SECONDS: until JOB is in a final state; prints it.
wait_end() {
  local s=
  for _ in $(seq $(($2 * 5))); do
    s=$(job_field "$1" JobState)
    case $s in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL) break ;; esac
    sleep 0.2
  done
  echo "$s"
}
# Open MPI between the nodes: TCP over the veth pair only (srun passes the
# submitting environment to the batch shell and on to every rank).
export OMPI_MCA_pml=ob1 OMPI_MCA_btl=tcp,self OMPI_MCA_btl_tcp_if_include=$subnet
shared=$tmp/shared
mkdir -p "$shared"
submit() { # prints the job id
  (cd "$src" && inA sbatch --parsable -N 2 --ntasks-per-node=1 --requeue --output="$tmp/job-%j.log" \
    --export="ALL,SWEEP=$tmp/sweep.ini,OUTPUT=$shared/two.h5,NTASWEEP=$bin,LAUNCHER=srun,NTASWEEP_SRUN_MPI=$srun_mpi,NTASWEEP_MPI_LAUNCH=$src/tools/mpi-launch,GRACE=0" \
    jobs/sweep.sbatch)
}

# Once a run is done with node B's rank alive, that rank is killed
# (tests/lib/sized_sweep.sh); srun -K1 then ends the step and the job fails.
start_sweep() { job=$(submit); }
sweep_running() {
  case $(job_field "$job" JobState) in PENDING|RUNNING|CONFIGURING|"") return 0 ;; *) return 1 ;; esac
}
end_sweep() { state=$(wait_end "$job" 60); }
kill_b_mid_sweep "$shared/two.h5"
nodes=$(job_field "$job" NodeList)
check "job $job ran on both nodes (NodeList=$nodes)" [ "$nodes" = "nodeA,nodeB" ]
check "the job failed when node B's rank died ($state)" [ "$state" = FAILED ]
check_killed_mid_sweep "$shared/two.h5" node

# The requeue: the same job, again on both nodes, resumes the file.
check "scontrol requeue $job" inA scontrol requeue "$job"
for _ in $(seq 50); do [ "$(job_field "$job" Restarts)" = 1 ] && break; sleep 0.2; done
state=$(wait_end "$job" 90)
restarts=$(job_field "$job" Restarts)
check "the requeued job completed ($state, Restarts=$restarts)" [ "$state/$restarts" = COMPLETED/1 ]
check "all 24 runs done after the requeue" [ "$(runs_done "$shared/two.h5")" = 24 ]
check "bitwise equal to the one-host run" py "$src/tests/compare_h5.py" "$tmp/ref.h5" "$shared/two.h5"
if [ "$failed" -gt 0 ]; then cat "$tmp"/job-*.log; fi
finish
