#!/usr/bin/env bash
# Description: iolab-load names a framing mismatch once, instead of one "the server
# stalled?" line per connection (issue 8, lab 5's Run).  Against echo-epoll-lt:
#   -f len32 client, line server  -> nothing comes back: "framing mismatch ... -f line"
#   -f line client, len32 server  -> the server closes:   "framing mismatch ... -f len32"
#   the line server with --no-stats (no telemetry to read its framing): the symptom
#     alone, worded as a question ("framing mismatch?"), still suggesting -f line
#   same framing, server stopped (SIGSTOP): no echo either, but NOT called a mismatch
#   same framing, server stopped mid-run: the echoes stop; one line for all the
#     connections ("stopped getting echoes"), not called a mismatch either
#   same framing, server running: no diagnosis at all, exit 0
. "${IOLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$IOLAB_ROOT/tests/integration/t-load-lib.sh"
[ -x "$IOLAB_BIN/echo-epoll-lt" ] || t_fail "no $IOLAB_BIN/echo-epoll-lt: run make"

CONNS=20
# expect_once PATTERN WHAT: exactly one stderr line matches, and no per-connection lines.
expect_once() {
	local n
	n=$(grep -c -- "$1" <<<"$ERR")
	[ "$n" = 1 ] || t_fail "$2: $n stderr lines match '$1' (want 1): $ERR"
	! grep -q ': conn [0-9]* (echo): ' <<<"$ERR" || t_fail "$2: per-connection lines are back: $ERR"
	[ "$(grep -c . <<<"$ERR")" -le 3 ] || t_fail "$2: more than 3 stderr lines for $CONNS connections: $ERR"
}

# 1. len32 messages to a line server: it waits for a '\n' that never comes.
t_start_server echo-epoll-lt -f line -q
load "$T_PORT" -f len32 -c $CONNS -t 0.3 --drain 1
[ $RC -eq 1 ] || t_fail "len32 -> line: exit $RC, expected 1"
expect_once 'framing mismatch: .*frames by line.*Run with -f line' "len32 -> line"
grep -q '"diagnosis":"framing mismatch' <<<"$OUT" || t_fail "len32 -> line: no diagnosis in JSON: $OUT"
[ "$(jget "$(jobj "$OUT" errors)" unanswered)" = $CONNS ] || t_fail "len32 -> line: unanswered != $CONNS: $OUT"
human=$(timeout 30 "$LOAD" -p "$T_PORT" -f len32 -c 2 -t 0.2 --drain 0.5 2>/dev/null)
grep -q '^  diagnosis   framing mismatch' <<<"$human" || t_fail "no diagnosis line in the summary: $human"
t_stop "$T_PID"

# 2. line messages to a len32 server: "c0 s" is a length over --max-frame, it closes.
t_start_server echo-epoll-lt -f len32 -q
load "$T_PORT" -f line -c $CONNS -t 0.3 --drain 1
[ $RC -eq 1 ] || t_fail "line -> len32: exit $RC, expected 1"
expect_once 'framing mismatch: .*frames by len32.*Run with -f len32' "line -> len32"
[ "$(jget "$(jobj "$OUT" errors)" closed)" = $CONNS ] || t_fail "line -> len32: closed != $CONNS: $OUT"

# 5. (same server) matching framing: no diagnosis.
load "$T_PORT" -f len32 -c $CONNS -t 0.3
[ $RC -eq 0 ] || t_fail "len32 -> len32: exit $RC: $ERR"
! grep -q diagnosis <<<"$OUT" || t_fail "len32 -> len32: a diagnosis on a good run: $OUT"

# 4. (same server) stopped: nothing comes back, but the framing agrees: not a mismatch.
kill -STOP "$T_PID"
load "$T_PORT" -f len32 -c $CONNS -t 0.3 --drain 1
kill -CONT "$T_PID"
[ $RC -eq 1 ] || t_fail "stopped server: exit $RC, expected 1"
! grep -q 'framing mismatch[:?]' <<<"$ERR$OUT" || t_fail "a stopped server was called a framing mismatch: $ERR"
expect_once 'not a framing mismatch' "stopped server"

# 4b. (same server) stopped mid-run: connections that had echoes, then none.
"$LOAD" -p "$T_PORT" -c $CONNS -t 2 --drain 1 --json >"$T_TMP/mid.out" 2>"$T_TMP/mid.err" &
lp=$!
T_PIDS+=("$lp")
sleep 1
kill -STOP "$T_PID"
wait "$lp"; RC=$?
kill -CONT "$T_PID"
ERR=$(cat "$T_TMP/mid.err"); OUT=$(cat "$T_TMP/mid.out")
[ $RC -eq 1 ] || t_fail "stopped mid-run: exit $RC, expected 1"
expect_once "unanswered: $CONNS of $CONNS connections stopped getting echoes" "stopped mid-run"
! grep -q 'framing mismatch[:?]' <<<"$ERR" || t_fail "stopped mid-run called a framing mismatch: $ERR"
[ "$(jget "$(jobj "$OUT" errors)" unanswered)" -ge $CONNS ] || t_fail "stopped mid-run: unanswered < $CONNS: $OUT"
t_stop "$T_PID"

# 3. No telemetry: the symptom alone, as a question.
t_start_server echo-epoll-lt -f line -q --no-stats
load "$T_PORT" -f len32 -c $CONNS -t 0.3 --drain 1
[ $RC -eq 1 ] || t_fail "len32 -> line (no stats): exit $RC, expected 1"
expect_once 'framing mismatch? .*-f line' "len32 -> line (no stats)"
t_stop "$T_PID"
t_pass
