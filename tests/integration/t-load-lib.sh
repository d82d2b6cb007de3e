#!/usr/bin/env bash
# Description: helpers shared by the t-load-*.sh tests, and, run by itself, their
# smoke test: corrupt_echo starts, iolab-load runs against it and its JSON parses.
#
#   . "$IOLAB_ROOT/tests/integration/t-load-lib.sh"     (after tests/lib.sh)
#   start_corrupt [corrupt_echo flags]    like t_start_server, for bin/tests/corrupt_echo
#   load PORT [iolab-load flags]          runs iolab-load --json: sets OUT, ERR, RC
#   jget JSON KEY                         a number from a flat JSON object (first match)
#   jobj JSON KEY                         the {...} object under KEY
#   fcmp A OP B                           float comparison with awk: fcmp 1.5 '<' 2
#   bad FLAGS...                          iolab-load FLAGS must exit 2 with a message
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	. "${IOLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
fi

LOAD=$IOLAB_BIN/iolab-load
[ -x "$LOAD" ] || t_fail "no $LOAD: run make"
[ -x "$IOLAB_BIN/tests/corrupt_echo" ] || t_fail "no $IOLAB_BIN/tests/corrupt_echo: run make"

jget() { grep -o "\"$2\":-\{0,1\}[0-9.]*" <<<"$1" | head -1 | cut -d: -f2; }
jobj() { grep -o "\"$2\":{[^}]*}" <<<"$1" | head -1; }
fcmp() { awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN {
	r = (op == "<") ? a < b : (op == "<=") ? a <= b : (op == ">") ? a > b : (op == ">=") ? a >= b : a == b
	exit !r }'; }

bad() {
	local msg rc
	msg=$("$LOAD" "$@" 2>&1 >/dev/null); rc=$?
	[ $rc -eq 2 ] || t_fail "'iolab-load $*': exit $rc, expected 2"
	[ -n "$msg" ] || t_fail "'iolab-load $*': no message"
}

start_corrupt() {
	local out=$T_TMP/corrupt.${#T_PIDS[@]}.out
	"$IOLAB_BIN/tests/corrupt_echo" -p 0 "$@" >"$out" 2>"$out.err" &
	T_PID=$!
	T_PIDS+=("$T_PID")
	for _ in $(seq 1 200); do
		T_PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$out")
		[ -n "$T_PORT" ] && return 0
		kill -0 "$T_PID" 2>/dev/null || t_fail "corrupt_echo $*: exited: $(cat "$out.err")"
		sleep 0.05
	done
	t_fail "corrupt_echo did not print 'listening on' within 10 s"
}

load() {
	local port=$1; shift
	OUT=$(timeout 60 "$LOAD" -p "$port" --json "$@" 2>"$T_TMP/load.err"); RC=$?
	ERR=$(cat "$T_TMP/load.err")
	t_log "iolab-load -p $port $* -> exit $RC"
}

# Run by itself: the smoke test of the helpers above.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	start_corrupt
	load "$T_PORT" -c 2 -n 100
	[ $RC -eq 0 ] || t_fail "iolab-load against an honest corrupt_echo: exit $RC: $ERR"
	[ "$(jget "$OUT" messages)" = 200 ] || t_fail "jget: messages is not 200 in: $OUT"
	[ -n "$(jget "$(jobj "$OUT" latency_us)" p99)" ] || t_fail "jobj/jget: no latency_us.p99 in: $OUT"
	fcmp 1.5 '<' 2 && ! fcmp 2 '<' 1.5 || t_fail "fcmp compares wrongly"
	t_pass
fi
