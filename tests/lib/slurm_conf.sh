# shellcheck shell=bash
# slurm_conf.sh — the pieces of a test SLURM cluster that tests/local_slurm.sh
# (one host) and tests/slurm_two_nodes.sh (two network namespaces) share:
# munged with a key and socket of its own, and the slurm.conf settings. Every
# file lives under the cluster's directory DIR, so nothing of a system SLURM
# or munge is touched. Source it; it sets nothing until a function is called.

# start_munged DIR: munged with a fresh key and its socket under DIR/munge,
# its log in DIR/log, its pid in DIR/munged.pid (stop it by that pid). 0 once
# the socket is there; 1 with munged's log on stderr if it is not within 10 s.
start_munged() {
  local dir=$1
  mkdir -p "$dir/munge" "$dir/log"
  chmod 700 "$dir/munge"
  head -c 1024 /dev/urandom > "$dir/munge/munge.key"
  chmod 600 "$dir/munge/munge.key"
  munged --foreground --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --seed-file="$dir/munge/munged.seed" \
    --log-file="$dir/log/munged.log" > "$dir/log/munged.out" 2>&1 &
  echo $! > "$dir/munged.pid"
  for _ in $(seq 100); do [ -S "$dir/munge/munge.socket" ] && return 0; sleep 0.1; done
  echo "munged did not start; its log:" >&2
  cat "$dir/log/munged.out" "$dir/log/munged.log" >&2 2> /dev/null || true
  return 1
}

# slurm_conf DIR CLUSTER CTLD_HOST CTLD_PORT SLURMD_PORT KILL_WAIT: prints the
# slurm.conf lines every test cluster has (root daemons, munge at DIR's socket,
# state, spool, pid and log files under DIR, one slurmd log per node, no
# cgroups, no accounting, short scheduling and requeue intervals); the caller
# adds its own lines (nodes, partition, TmpFS) after them.
slurm_conf() {
  local dir=$1 cluster=$2 ctld_host=$3 ctld_port=$4 d_port=$5 kill_wait=$6
  cat <<CONF
ClusterName=$cluster
SlurmctldHost=$ctld_host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
AuthType=auth/munge
CredType=cred/munge
# cred_expire also sets how long a requeued job waits before it may start
# again (SLURM default 120 s); the tests requeue, so keep it short.
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=10
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/slurmd-%n
SlurmctldPidFile=$dir/state/slurmctld.pidfile
SlurmdPidFile=$dir/spool/slurmd-%n.pidfile
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
# Short scheduling intervals: the tests wait on them.
SchedulerParameters=sched_interval=2
MinJobAge=600
KillWait=$kill_wait
CONF
}
