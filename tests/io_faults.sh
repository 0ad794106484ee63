#!/usr/bin/env bash
# I/O failures injected into real runs: every one must end with a clear
# message and the exit status of README's table — 1 for a failure while
# writing (a full disk, a vanished directory), 2 for a path that cannot be
# written at all (read-only, not creatable: bad input, nothing touched) —
# no crash, no OUT.h5.tmp or OUT.h5.lock left behind, and an existing
# results file unchanged.
# usage: io_faults.sh TEST NTASWEEP_BINARY SOURCE_DIR FAILIO_LIBRARY
#   io_full_create   a 2 MB tmpfs: the create fails (1 and 2 ranks)
#   io_full_extend   a tmpfs that holds a file but not its extension
#   io_write_fail    writes of the results file fail after some runs (failio)
#   io_flush_fail    fsync of the results file fails (failio)
#   io_readonly      the directory's file system remounted read-only (exit 2)
#   io_missing_dir   the output directory cannot exist / vanishes mid-run
# Exit 77 (skipped, with the reason) where mounting a tmpfs is not allowed.
set -euo pipefail
test=$1 bin=$2 src=$3 failio=$4
tmp=$(mktemp -d /tmp/ntasweep-iofaults.XXXXXX)
# shellcheck source=lib/checks.sh
. "$src/tests/lib/checks.sh"
mounted=""
on_exit() {
  local rc=$?
  [ -z "$mounted" ] || umount "$mounted" 2>/dev/null || umount -l "$mounted" 2>/dev/null || true
  rm -rf "$tmp"
  exit_checked "$rc"
}
trap on_exit EXIT
export OPENBLAS_NUM_THREADS=1
# A tmpfs of SIZE at $tmp/disk (skip where mounting is not permitted).
disk() {
  mkdir -p "$tmp/disk"
  mount -t tmpfs -o "size=$1" tmpfs "$tmp/disk" 2>"$tmp/mount.log" ||
    { echo "SKIP: cannot mount a tmpfs here ($(cat "$tmp/mount.log")): the full-disk and read-only cases need one"; exit 77; }
  mounted=$tmp/disk
}
# run NP OUT [ARGS...]: rc and the log of one run.
run() {
  local np=$1 out=$2; shift 2
  rc=0
  if [ "$np" -eq 1 ]; then "$bin" run "$@" -o "$out" --quiet 2> "$tmp/log" || rc=$?
  else mpi "$np" "$bin" run "$@" -o "$out" --quiet 2> "$tmp/log" || rc=$?; fi
  cat "$tmp/log"
}
# The promises every failure keeps (want: the exit status, default 1).
no_leftovers() {
  check "$1: exit ${want_rc:-1} (not a crash)" is "$rc" "${want_rc:-1}"
  check "$1: no $2.tmp left" not test -e "$2.tmp"
  check "$1: no $2.lock left" not test -e "$2.lock"
  check "$1: no guessed cause in the message" not has "disk full?" "$tmp/log"
}
# said TEXT: ntasweep's own message carries TEXT (Open MPI's MPI-IO prints the
# system's reason on a line of its own: that line does not count).
said() { grep '^ntasweep: ' "$tmp/log" | grep -q -- "$1"; }
smoke=$src/sweeps/smoke.ini

case $test in
io_full_create)
  disk 2m
  for np in 1 2; do
    run "$np" "$tmp/disk/F.h5" "$src/sweeps/fig2.ini"
    no_leftovers "full disk at create, $np rank(s)" "$tmp/disk/F.h5"
    check "full disk at create, $np rank(s): the system's reason is in the message" said "No space left on device"
    check "full disk at create, $np rank(s): no results file" not test -e "$tmp/disk/F.h5"
  done
  finish
  ;;
io_full_extend)
  # Room for the 8-run smoke file, not for its 12-run extension beside it.
  "$bin" run "$smoke" -o "$tmp/probe.h5" --quiet
  size=$(stat -c %s "$tmp/probe.h5")
  disk "$((size + size / 3 + 65536))"
  run 1 "$tmp/disk/a.h5" "$smoke"
  check "the smoke file fits" is "$rc" 0
  cp "$tmp/disk/a.h5" "$tmp/before.h5"
  sed 's/^tau_w = 1.3, 1.0$/tau_w = 1.3, 1.0, 0.8/' "$smoke" > "$tmp/ext.ini"
  for np in 1 2; do
    run "$np" "$tmp/disk/a.h5" "$tmp/ext.ini"
    no_leftovers "full disk while extending, $np rank(s)" "$tmp/disk/a.h5"
    check "full disk while extending, $np rank(s): the system's reason is in the message" said "No space left on device"
    check "full disk while extending, $np rank(s): the existing file is unchanged" cmp "$tmp/before.h5" "$tmp/disk/a.h5"
  done
  finish
  ;;
io_write_fail|io_flush_fail)
  op=write after=40 want="No space left on device"
  [ "$test" = io_write_fail ] || { op=sync after=0 want="Input/output error"; }
  # The hook must come first in the library list: a sanitizer build refuses that.
  if ldd "$bin" 2>/dev/null | grep -q 'lib[at]san'; then
    echo "SKIP: $bin is a sanitizer build, which cannot run under the failio LD_PRELOAD hook"; exit 77
  fi
  probe_rc=0
  LD_PRELOAD=$failio NTAS_FAILIO_PATH=$tmp/probe NTAS_FAILIO_OP=write bash -c 'echo x | cat > "$0"' "$tmp/probe" 2>/dev/null ||
    probe_rc=$?
  if [ "$probe_rc" -eq 0 ]; then
    echo "SKIP: the failio LD_PRELOAD hook does not intercept writes here"; exit 77
  fi
  for np in 1 2; do
    out=$tmp/w$np.h5
    rc=0
    LD_PRELOAD=$failio NTAS_FAILIO_PATH=$out NTAS_FAILIO_OP=$op NTAS_FAILIO_AFTER=$after \
      run "$np" "$out" "$smoke" --flush 0
    no_leftovers "failing $op, $np rank(s)" "$out"
    check "failing $op, $np rank(s): the system's reason is in the message" said "system error: $want"
    check "failing $op, $np rank(s): the file still opens and is resumable" \
      bash -c '"$0" status "$1" > /dev/null; rc=$?; [ $rc -eq 3 ] || [ $rc -eq 0 ]' "$bin" "$out"
    # Without the failure the same command finishes the sweep.
    run "$np" "$out" "$smoke"
    check "failing $op, $np rank(s): the next run finishes the sweep" is "$rc" 0
  done
  finish
  ;;
io_readonly)
  disk 8m
  run 1 "$tmp/disk/a.h5" "$smoke" --set n_blocks=2
  check "a first, partial sweep" is "$rc" 0
  cp "$tmp/disk/a.h5" "$tmp/before.h5"
  mount -o remount,ro "$tmp/disk"
  want_rc=2   # an unwritable path is bad input (README, Exit status)
  for np in 1 2; do
    run "$np" "$tmp/disk/a.h5" "$smoke"
    no_leftovers "read-only directory, resume, $np rank(s)" "$tmp/disk/a.h5"
    check "read-only directory, $np rank(s): the reason is in the message" said "Read-only file system"
    check "read-only directory, $np rank(s): the existing file is unchanged" cmp "$tmp/before.h5" "$tmp/disk/a.h5"
    run "$np" "$tmp/disk/new.h5" "$smoke"
    no_leftovers "read-only directory, new file, $np rank(s)" "$tmp/disk/new.h5"
    check "read-only directory, new file, $np rank(s): the reason is in the message" said "Read-only file system"
  done
  finish
  ;;
io_missing_dir)
  # A directory that cannot be made: its parent is a plain file.
  : > "$tmp/plain"
  run 1 "$tmp/plain/sub/a.h5" "$smoke"
  check "uncreatable directory: exit 2 (bad input)" is "$rc" 2
  check "uncreatable directory: the reason is in the message" said "Not a directory"
  # The directory vanishes while the sweep runs: the results would be lost
  # with the unlinked file, so the run must say so and fail. The sweep lasts
  # long enough that the directory goes before it ends (the first writer is
  # seen holding the lock, then the directory is removed, then USR1 stops it).
  mkdir -p "$tmp/gone"
  "$bin" run "$src/sweeps/fig2.ini" --set n_blocks=2000 --set record_every=100000 -o "$tmp/gone/a.h5" \
    --grace 0 --quiet 2> "$tmp/log" &
  pid=$!
  held=0
  for _ in $(seq 1200); do
    kill -0 "$pid" 2>/dev/null || break
    # (status exits 3 while runs are pending: only its JSON counts here)
    if [ -e "$tmp/gone/a.h5" ] && { "$bin" status --json "$tmp/gone/a.h5" 2>/dev/null || true; } |
         py "$src/tests/json_get.py" lock 2>/dev/null | grep -q "held by ntasweep process $pid"; then
      held=1; break
    fi
    sleep 0.05
  done
  check "the writer holds the lock" is "$held" 1
  rm -rf "$tmp/gone"
  kill -USR1 "$pid" 2>/dev/null || true
  rc=0; wait "$pid" || rc=$?
  cat "$tmp/log"
  check "vanished directory: exit 1" is "$rc" 1
  check "vanished directory: said so" said "no longer there"
  finish
  ;;
*) echo "unknown test $test"; exit 2 ;;
esac
