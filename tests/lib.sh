# tests/lib.sh — shared helpers for shell tests (source it; t_ prefix, liburing style).
#
#   . "$IOLAB_ROOT/tests/lib.sh"
#   t_start_server echo-epoll-lt -f line      # sets T_PID and T_PORT (port 0 -> real port)
#   ... exercise it ...
#   t_pass / t_fail "why" / t_skip "why, and how to enable it"
#
# Every process started with t_spawn / t_start_server is killed by pid (and its
# process group) when the test exits, however it exits.
set -u

IOLAB_ROOT=${IOLAB_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
IOLAB_BIN=${IOLAB_BIN:-$IOLAB_ROOT/bin}
export IOLAB_ROOT IOLAB_BIN
export IOLAB_SHM_PREFIX=${IOLAB_SHM_PREFIX:-iolabtest}

T_PIDS=()
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/iolab-test.XXXXXX")

t_cleanup() {
	local p
	for p in "${T_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${T_PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$T_TMP"
}
trap t_cleanup EXIT
trap 'exit 1' INT TERM

t_log()  { printf '%s\n' "$*" >&2; }
t_pass() { t_log "PASS: ${1:-$(basename "$0")}"; exit 0; }
t_fail() { t_log "FAIL: $*"; exit 1; }
t_skip() { t_log "SKIP: $*"; exit 77; }

# t_spawn CMD...: run in the background, remember the pid (T_LAST).
t_spawn() {
	"$@" &
	T_LAST=$!
	T_PIDS+=("$T_LAST")
}

# t_start_server PROGRAM [FLAGS...]: start bin/PROGRAM on port 0, wait (10 s at most)
# for its "listening on ADDR:PORT" line.  Sets T_PID, T_PORT, T_OUT (its stdout file),
# T_ERR (its stderr file).
t_start_server() {
	local prog=$1; shift
	local n=0
	local base=${prog//\//_}          # tests/corrupt_echo -> tests_corrupt_echo
	T_OUT=$T_TMP/$base.$n.out
	while [ -e "$T_OUT" ]; do n=$((n + 1)); T_OUT=$T_TMP/$base.$n.out; done
	T_ERR=${T_OUT%.out}.err
	"$IOLAB_BIN/$prog" -p 0 "$@" >"$T_OUT" 2>"$T_ERR" &
	T_PID=$!
	T_PIDS+=("$T_PID")
	for _ in $(seq 1 100); do
		if grep -q '^listening on ' "$T_OUT" 2>/dev/null; then
			T_PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$T_OUT" | head -1)
			return 0
		fi
		kill -0 "$T_PID" 2>/dev/null || { cat "$T_ERR" >&2; t_fail "$prog exited before listening"; }
		sleep 0.1
	done
	t_fail "$prog did not print 'listening on' within 10 s"
}

# t_stop PID: SIGTERM, wait up to 5 s, then SIGKILL.  Returns the exit status.
t_stop() {
	local p=$1 rc
	kill -TERM "$p" 2>/dev/null
	for _ in $(seq 1 50); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null; rc=$?
	return $rc
}

# The telemetry segment of a pid, if any.
t_segment() { ls /dev/shm/"$IOLAB_SHM_PREFIX".*."$1" 2>/dev/null | head -1; }

# t_lab N normal|broken [DOCTOR_CHECK]: the test of lab N's check (tests/integration/t-labN*.sh).
#   normal: `run-lab --check N` (make check-lab-N) passes: no FAIL, at least 5 PASS lines.
#   broken: `run-lab --check --broken N` (make check-lab-N BROKEN=1) must FAIL a check --
#           the check can fail, and fails when the lab's mechanism is broken.
# Either way nothing it started may be left running or in /dev/shm.  DOCTOR_CHECK (an
# iolab-doctor --only name) skips the test where the machine lacks the lab's feature.
# Timing-sensitive checks (lab 6's latencies) run under the benchmark lock.
t_lab() {
	local n=$1 kind=$2 feature=${3:-} out=$T_TMP/check.out rc npass pids p
	local runlab=$IOLAB_ROOT/labs/tools/run-lab args=(--check)
	[ "$kind" = broken ] && args+=(--broken)
	if [ -n "$feature" ]; then
		"$IOLAB_BIN/iolab-doctor" --only "$feature" >"$T_TMP/doctor" 2>&1 ||
			t_skip "lab $n needs $feature, which this machine does not give: $(sed 's/^ *//' "$T_TMP/doctor" | tr '\n' ' ')"
	fi
	exec 9>>/tmp/iolab-bench.lock
	flock -w 90 9 || t_log "(the benchmark lock is busy: running without it)"
	timeout 150 "$runlab" "${args[@]}" "$n" >"$out" 2>&1; rc=$?
	# Checks compare ratios from one interleaved run, and a noisy machine can still tip one
	# (lab 6's p99 under a hog): a normal run that failed, or a broken run that passed, is
	# run once more, and that second run decides.
	if { [ "$kind" = broken ] && [ $rc -eq 0 ]; } || { [ "$kind" != broken ] && [ $rc -eq 1 ]; }; then
		cat "$out" >&2
		t_log "(lab $n, $kind: a timing-dependent result? running the check once more)"
		timeout 150 "$runlab" "${args[@]}" "$n" >"$out" 2>&1; rc=$?
	fi
	flock -u 9
	cat "$out" >&2
	case $rc in
	3)  t_skip "lab $n: a program it needs is not built (make)" ;;
	77) t_skip "lab $n cannot run here: $(grep SKIP "$out" | tail -1)" ;;
	esac
	if grep -q "has no 'broken' line" "$out"; then
		t_skip "lab $n has no broken variant yet: its scenario declares no 'broken' line (see the scenario's comment for what it needs)"
	fi
	npass=$(grep -c '^PASS' "$out")
	if [ "$kind" = broken ]; then
		[ $rc -eq 1 ] || t_fail "run-lab --check --broken $n exited $rc, want 1 (a check failed)"
		grep -q '^FAIL' "$out" || t_fail "the broken variant of lab $n passed every check: the check cannot see the bug"
		grep -q '^broken variant: ' "$out" || t_fail "no 'broken variant:' line: --broken changed nothing"
	else
		[ $rc -eq 0 ] || t_fail "run-lab --check $n exited $rc"
		grep -q '^FAIL' "$out" && t_fail "a check failed"
		[ "$npass" -ge 5 ] || t_fail "only $npass PASS lines: the scenario checks too little"
	fi
	pids=$(sed -n 's/^started .*(pid \([0-9]*\).*/\1/p' "$out")
	for p in $pids; do
		kill -0 "$p" 2>/dev/null && t_fail "pid $p ($(ps -o args= -p "$p")) still running after run-lab --check"
		[ -z "$(t_segment "$p")" ] || t_fail "telemetry segment $(t_segment "$p") left behind"
	done
	if [ "$kind" = broken ]; then
		t_pass "make check-lab-$n BROKEN=1: $(grep -c '^FAIL' "$out") check(s) FAIL as they must"
	else
		t_pass "make check-lab-$n: $npass checks PASS, nothing left running"
	fi
}
