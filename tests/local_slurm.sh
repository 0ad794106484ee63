#!/usr/bin/env bash
# A one-host SLURM cluster in a directory of its own, for the slurm_requeue
# test and for trying jobs/*.sbatch on a machine without a cluster:
#   eval "$(tests/local_slurm.sh start DIR)"   # prints: export SLURM_CONF=DIR/slurm.conf
#   sbatch ...; squeue; ...
#   tests/local_slurm.sh stop DIR
# It starts munged, slurmctld and slurmd as the calling user (root on these
# machines: SlurmUser=root) on free unprivileged ports, with every key, socket,
# state, spool and log file under DIR, so it touches nothing of a system SLURM
# and several can run side by side. Their pids are in DIR/*.pid; stop kills
# exactly those. The node has this host's name and CPUs; one partition "local".
# Exit status 77 when the SLURM or munge binaries are missing (the tests skip
# with that reason; tools/install-deps installs them).
set -euo pipefail
# shellcheck source=lib/slurm_conf.sh
. "$(cd "$(dirname "$0")" && pwd)/lib/slurm_conf.sh"

usage() { echo "usage: $0 start|stop|status DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
dir=$2

missing=()
for b in munged slurmctld slurmd sbatch scontrol sinfo; do
  command -v "$b" >/dev/null 2>&1 || missing+=("$b")
done

# Cancels every job of this cluster and waits (up to 30 s) until SLURM has
# ended their processes: slurmstepd and the job's processes would outlive the
# daemons otherwise.
cancel_jobs() {
  [ -s "$dir/slurmctld.pid" ] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null || return 0
  local jobs
  jobs=$(SLURM_CONF=$dir/slurm.conf squeue -h -o %A 2>/dev/null | tr '\n' ' ')
  [ -n "${jobs// }" ] || return 0
  echo "local_slurm: cancelling jobs $jobs" >&2
  # shellcheck disable=SC2086
  SLURM_CONF=$dir/slurm.conf scancel $jobs 2>/dev/null || true
  for _ in $(seq 150); do
    jobs=$(SLURM_CONF=$dir/slurm.conf squeue -h -o %A 2>/dev/null | tr -d '[:space:]')
    [ -z "$jobs" ] && return 0
    sleep 0.2
  done
  echo "local_slurm: jobs still listed after 30 s: $jobs" >&2
}

# Stops each daemon whose pid file is in DIR: TERM, then KILL after 10 s.
stop_daemons() {
  local name pid
  cancel_jobs
  for name in slurmd slurmctld munged; do
    [ -s "$dir/$name.pid" ] || continue
    pid=$(cat "$dir/$name.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then
        echo "local_slurm: $name (pid $pid) ignored SIGTERM for 10 s; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
    rm -f "$dir/$name.pid"
  done
}

# Prints a TCP port nobody listens on now (the kernel's choice).
free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])'
}

case $action in
stop)
  [ -d "$dir" ] || { echo "local_slurm: no directory $dir" >&2; exit 1; }
  stop_daemons
  exit 0
  ;;
status)
  export SLURM_CONF=$dir/slurm.conf
  sinfo
  squeue
  exit 0
  ;;
start) ;;
*) usage ;;
esac

if [ ${#missing[@]} -gt 0 ]; then
  echo "local_slurm: SLURM is not installed here (missing ${missing[*]}; tools/install-deps installs slurm-wlm and munge)" >&2
  exit 77
fi
if [ "$(id -u)" -ne 0 ]; then
  # slurmd must start job shells as the submitting user, which needs root.
  echo "local_slurm: a local SLURM needs root (slurmd runs jobs as their owner)" >&2
  exit 77
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
for name in munged slurmctld slurmd; do
  if [ -s "$dir/$name.pid" ] && kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null; then
    echo "local_slurm: $name already runs for $dir (pid $(cat "$dir/$name.pid")); stop it first" >&2
    exit 1
  fi
done
mkdir -p "$dir/state" "$dir/spool" "$dir/log"
# If anything below fails, leave no daemon behind.
trap 'rc=$?; if [ $rc -ne 0 ]; then stop_daemons; fi' EXIT

# munge: a fresh key and a socket of our own (slurm.conf points SLURM at it).
start_munged "$dir" || { echo "local_slurm: munged did not start" >&2; exit 1; }

host=$(hostname -s)
cpus=$(nproc)
ctld_port=$(free_port)
d_port=$(free_port)
while [ "$d_port" = "$ctld_port" ]; do d_port=$(free_port); done
{
  echo "# Written by tests/local_slurm.sh: a one-host cluster under $dir."
  slurm_conf "$dir" ntalocal "$host" "$ctld_port" "$d_port" 10
  echo "NodeName=$host CPUs=$cpus State=UNKNOWN"
  echo "PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP"
} > "$dir/slurm.conf"
export SLURM_CONF=$dir/slurm.conf

slurmctld -D -i -f "$SLURM_CONF" > "$dir/log/slurmctld.out" 2>&1 &
echo $! > "$dir/slurmctld.pid"
slurmd -D -f "$SLURM_CONF" -N "$host" > "$dir/log/slurmd.out" 2>&1 &
echo $! > "$dir/slurmd.pid"

# Ready when the node is idle: slurmd registered with slurmctld.
state=
for _ in $(seq 300); do
  for name in slurmctld slurmd; do
    if ! kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null; then
      echo "local_slurm: $name exited at start-up; its log:" >&2
      tail -n 30 "$dir/log/$name.out" "$dir/log/$name.log" >&2 2>/dev/null || true
      exit 1
    fi
  done
  state=$(sinfo -h -n "$host" -o %t 2>/dev/null || true)
  [ "$state" = idle ] && break
  sleep 0.2
done
if [ "$state" != idle ]; then
  echo "local_slurm: node $host not idle after 60 s (state '${state}'); logs in $dir/log" >&2
  tail -n 30 "$dir/log/slurmctld.log" "$dir/log/slurmd-$host.log" >&2 2>/dev/null || true
  exit 1
fi
echo "local_slurm: cluster up in $dir (node $host, $cpus CPUs, slurmctld port $ctld_port, slurmd port $d_port)" >&2
echo "export SLURM_CONF=$SLURM_CONF"
