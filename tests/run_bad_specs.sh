#!/usr/bin/env bash
# run_bad_specs.sh — malformed sweep files and command-line misuse must be
# rejected with exit status 2, a message naming FILE:LINE: and key 'KEY',
# no crash, and no output file touched.
#
# usage: run_bad_specs.sh NTASWEEP_BINARY SOURCE_DIR
#
# Corpus: SOURCE_DIR/tests/bad_specs/*.ini, whose first line is
#   ; expect: LINE KEY
# (LINE or KEY is '-' when the message names none), plus a few files made
# here at run time (empty, binary junk, control bytes, too large) whose
# expectations live below. For every file:
#   (a) ntasweep validate FILE: exit 2, the expected FILE:LINE: / key 'KEY',
#       no "Segmentation", "AddressSanitizer", "runtime error" or leak report;
#   (b) ntasweep run FILE -o EXISTING.h5 (a real results file of
#       sweeps/smoke.ini): exit 2, EXISTING.h5 byte-for-byte unchanged and
#       nothing else (no EXISTING.h5.tmp) in its directory;
#   (c) ntasweep run FILE -o NEW.h5 in an empty directory: exit 2, and the
#       directory stays empty.
# `run` is started directly (MPI singleton), not under mpirun, for speed.
# Needs only bash, coreutils, cmp (diffutils) and python3 (stdlib).
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 NTASWEEP_BINARY SOURCE_DIR" >&2
    exit 2
fi
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=$(cd "$2" && pwd)
CORPUS=$SRC/tests/bad_specs
SMOKE=$SRC/sweeps/smoke.ini

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
export OMPI_MCA_rmaps_base_oversubscribe=1
# Open MPI leaks at exit; keep leak reports for the MPI-free validate only.
RUN_ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

WORK=$(mktemp -d /tmp/run_bad_specs.XXXXXX) || exit 1
trap 'rm -rf "$WORK"' EXIT

passed=0
failed=0
report() { # NAME PROBLEMS...
    local name=$1
    shift
    if [ $# -eq 0 ]; then
        passed=$((passed + 1))
        echo "PASS $name"
    else
        failed=$((failed + 1))
        echo "FAIL $name: $*"
    fi
}

# Prints the problems (if any) with one command's status and output.
# usage: problems_of RC OUTPUT WANT_RC [SUBSTRING...]
problems_of() {
    local rc=$1 out=$2 want_rc=$3
    shift 3
    local p=()
    [ "$rc" = "$want_rc" ] || p+=("exit $rc (want $want_rc)")
    case $out in
        *Segmentation* | *AddressSanitizer* | *LeakSanitizer* | *"runtime error"* | *"core dumped"*)
            p+=("crash/sanitizer report") ;;
    esac
    local s
    for s in "$@"; do
        case $out in
            *"$s"*) ;;
            *) p+=("message lacks \"$s\"") ;;
        esac
    done
    [ ${#p[@]} -eq 0 ] || printf '%s; ' "${p[@]}"
}

# --- a real results file to protect -------------------------------------------
EXIST_DIR=$WORK/existing
mkdir -p "$EXIST_DIR"
EXISTING=$EXIST_DIR/EXISTING.h5
if ! (cd "$WORK" && ASAN_OPTIONS=$RUN_ASAN_OPTIONS mpirun -np 1 "$BIN" run "$SMOKE" -o "$EXISTING" --quiet) \
    >"$WORK/setup.log" 2>&1 || [ ! -s "$EXISTING" ]; then
    cat "$WORK/setup.log"
    echo "FAIL setup: could not make $EXISTING from $SMOKE"
    echo "0 passed, 1 failed"
    exit 1
fi
cp -p "$EXISTING" "$WORK/reference.h5"

# --- the checks for one sweep file ------------------------------------------------
# usage: check_spec NAME FILE LINE KEY [EXTRA_SUBSTRING]
#   LINE: a number, '-' (none) or '*' (some line: FILE:<digits>:)
check_spec() {
    local name=$1 file=$2 line=$3 key=$4 extra=${5:-}
    local want=() p="" out rc
    if [ "$line" = "-" ]; then
        want+=("$file: ")
    elif [ "$line" != "*" ]; then
        want+=("$file:$line: ")
    fi
    [ "$key" = "-" ] || want+=("key '$key'")
    [ -z "$extra" ] || want+=("$extra")

    # (a) validate
    out=$("$BIN" validate "$file" 2>&1)
    rc=$?
    p+=$(problems_of "$rc" "$out" 2 "${want[@]}")
    case $line in
        "*") case $out in *"$file:"[0-9]*) ;; *) p+="message names no line ($file:N:); " ;; esac ;;
        -) case $out in *"$file:"[0-9]*) p+="message names a line; " ;; esac ;;
    esac
    local first=$out

    # (b) run against an existing results file
    out=$(cd "$EXIST_DIR" && ASAN_OPTIONS=$RUN_ASAN_OPTIONS "$BIN" run "$file" -o "$EXISTING" 2>&1)
    rc=$?
    p+=$(problems_of "$rc" "$out" 2 "${want[@]}")
    cmp -s "$EXISTING" "$WORK/reference.h5" || p+="EXISTING.h5 changed; "
    [ "$(ls -A "$EXIST_DIR")" = "EXISTING.h5" ] || p+="stray files next to EXISTING.h5: $(ls -A "$EXIST_DIR" | tr '\n' ' '); "

    # (c) run to a new file in an empty directory
    local new_dir=$WORK/new
    rm -rf "$new_dir"
    mkdir "$new_dir"
    out=$(cd "$new_dir" && ASAN_OPTIONS=$RUN_ASAN_OPTIONS "$BIN" run "$file" -o NEW.h5 2>&1)
    rc=$?
    p+=$(problems_of "$rc" "$out" 2 "${want[@]}")
    [ -z "$(ls -A "$new_dir")" ] || p+="created: $(ls -A "$new_dir" | tr '\n' ' '); "

    if [ -n "$p" ]; then
        report "$name" "$p| validate said: $(printf '%s' "$first" | head -c 400 | tr '\n' ' ')"
    else
        report "$name"
    fi
}

# --- the committed corpus ----------------------------------------------------------
n_corpus=0
for f in "$CORPUS"/*.ini; do
    [ -e "$f" ] || continue
    n_corpus=$((n_corpus + 1))
    header=$(head -n 1 "$f")
    if [[ ! $header =~ ^\;\ expect:\ ([0-9]+|-)\ ([A-Za-z0-9_]+|-)[[:space:]]*$ ]]; then
        report "$(basename "$f")" "first line is not '; expect: LINE KEY': $header"
        continue
    fi
    check_spec "$(basename "$f")" "$f" "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
done
[ "$n_corpus" -ge 20 ] || report "corpus" "only $n_corpus files in $CORPUS"

# --- files made at run time --------------------------------------------------------
GEN=$WORK/generated
mkdir -p "$GEN"
python3 - "$GEN" <<'EOF' || report "generate" "python3 failed"
import random, sys
out = sys.argv[1]
def w(name, data):
    with open(f"{out}/{name}", "wb") as fh:
        fh.write(data)
rng = random.Random(20241210)
def junk(n):
    return bytes(rng.randrange(256) for _ in range(n))
# Pseudo-random bytes with NULs sprinkled in.
b = bytearray(junk(400))
for i in range(0, 400, 37):
    b[i] = 0
w("junk-nul.bin", bytes(b))
# A valid start, then junk on line 3.
w("junk-after-header.ini", b"[params]\nd_in = 20\n" + junk(300))
# High bytes and control characters, no NUL, no newline: one line.
w("junk-no-nul.ini", bytes(rng.randrange(1, 256) for _ in range(300)).replace(b"\n", b"\x80"))
# A NUL inside a value on line 3.
w("nul-in-value.ini", b"[params]\nd_out = 10\nd_in = 2\x000\n")
# A control byte in a value on line 2.
w("control-byte.ini", b"[params]\nd_in = 2\x010\n")
# A carriage return in the middle of line 2 (old Mac line end).
w("bare-cr.ini", b"[params]\nd_in = 20\rd_out = 10\n")
# An empty file and one with only blank lines.
w("empty.ini", b"")
w("blank.ini", b"\n   \n\t\n\r\n")
# Larger than the 1 MiB limit (all comments).
w("too-large.ini", b"; padding padding padding padding padding padding padding\n" * 20000)
# UTF-16 with a byte-order mark (what some editors save).
w("utf16.ini", "[params]\nd_in = 20\n".encode("utf-16"))
EOF
check_spec "gen:junk-nul.bin" "$GEN/junk-nul.bin" "*" -
check_spec "gen:junk-after-header.ini" "$GEN/junk-after-header.ini" "*" -
check_spec "gen:junk-no-nul.ini" "$GEN/junk-no-nul.ini" 1 -
check_spec "gen:nul-in-value.ini" "$GEN/nul-in-value.ini" 3 - "NUL"
check_spec "gen:control-byte.ini" "$GEN/control-byte.ini" 2 - "0x01"
check_spec "gen:bare-cr.ini" "$GEN/bare-cr.ini" 2 - "0x0d"
check_spec "gen:empty.ini" "$GEN/empty.ini" - - "empty"
check_spec "gen:blank.ini" "$GEN/blank.ini" - - "nothing to run"
check_spec "gen:too-large.ini" "$GEN/too-large.ini" - - "larger than"
check_spec "gen:utf16.ini" "$GEN/utf16.ini" 1 -
check_spec "gen:missing-file" "$GEN/does-not-exist.ini" - - "cannot open"
check_spec "gen:directory" "$GEN" - - ""

# --- command-line misuse -------------------------------------------------------------
# usage: check_cli NAME SUBSTRING -- ARGS...   (run in an empty directory)
check_cli() {
    local name=$1 want=$2
    shift 3
    local dir=$WORK/cli
    rm -rf "$dir"
    mkdir "$dir"
    local out rc p
    out=$(cd "$dir" && ASAN_OPTIONS=$RUN_ASAN_OPTIONS "$BIN" "$@" 2>&1)
    rc=$?
    if [ -n "$want" ]; then p=$(problems_of "$rc" "$out" 2 "$want"); else p=$(problems_of "$rc" "$out" 2); fi
    [ -z "$(ls -A "$dir")" ] || p+="created: $(ls -A "$dir" | tr '\n' ' '); "
    cmp -s "$EXISTING" "$WORK/reference.h5" || p+="EXISTING.h5 changed; "
    if [ -n "$p" ]; then
        report "cli:$name" "$p| said: $(printf '%s' "$out" | head -c 300 | tr '\n' ' ')"
    else
        report "cli:$name"
    fi
}
check_cli "no arguments" "usage" --
check_cli "unknown command" "unknown command" -- frobnicate "$SMOKE"
check_cli "unknown option" "unknown option" -- validate "$SMOKE" --frobnicate
check_cli "unknown option (run)" "unknown option" -- run "$SMOKE" -o NEW.h5 -x
check_cli "missing -o" "missing -o" -- run "$SMOKE"
check_cli "-o without a value" "needs a value" -- run "$SMOKE" -o
check_cli "missing spec" "missing SPEC" -- validate
check_cli "missing spec (run)" "missing SPEC" -- run -o NEW.h5
check_cli "two specs" "unexpected argument" -- validate "$SMOKE" "$SMOKE"
check_cli "--set without '='" "expected key=value" -- validate "$SMOKE" --set d_in
check_cli "--set without a value" "--set" -- validate "$SMOKE" --set
check_cli "--set=key without '='" "expected key=value" -- validate "$SMOKE" --set=d_in
check_cli "--set unknown key" "did you mean 'tau_c'" -- validate "$SMOKE" --set tau_cc=0.1
check_cli "--set bad value" "key 'd_in'" -- validate "$SMOKE" --set d_in=twenty
check_cli "--set empty value" "key 'd_in'" -- validate "$SMOKE" --set d_in=
check_cli "--set out of range" "key 'batch'" -- validate "$SMOKE" --set batch=-5
check_cli "--set dt >= tau_c" "--set dt" -- validate "$SMOKE" --set dt=0.05
check_cli "--set makes cases identical" "identical" -- validate "$SMOKE" --set tau_c=0.5 --set lambda_nonneg=0 --set lambda_norm=0
check_cli "--set without '=' (run)" "expected key=value" -- run "$SMOKE" -o NEW.h5 --set d_in
check_cli "--set unknown key (run)" "did you mean" -- run "$SMOKE" -o NEW.h5 --set tau_cc=0.1
check_cli "--set bad value (run)" "key 'd_in'" -- run "$SMOKE" -o NEW.h5 --set d_in=twenty
check_cli "--set bad value (run, existing)" "key 'd_in'" -- run "$SMOKE" -o "$EXISTING" --set d_in=twenty

# A correct sweep is accepted (the checks above are not vacuous).
out=$("$BIN" validate "$SMOKE" 2>&1)
rc=$?
p=$(problems_of "$rc" "$out" 0 "8 runs")
if [ -n "$p" ]; then report "control:validate smoke.ini" "$p| said: $out"; else report "control:validate smoke.ini"; fi
cmp -s "$EXISTING" "$WORK/reference.h5"
if [ $? -eq 0 ] && [ "$(ls -A "$EXIST_DIR")" = "EXISTING.h5" ]; then
    report "control:EXISTING.h5 intact"
else
    report "control:EXISTING.h5 intact" "changed or stray files"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
