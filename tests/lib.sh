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
