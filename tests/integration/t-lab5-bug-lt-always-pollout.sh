#!/usr/bin/env bash
# Description: lab 5, --bug=lt-always-pollout — EPOLLOUT left registered on a
# level-triggered socket.  One client, written to once, then idle: without the bug
# the server sleeps (wait_calls flat); with it every epoll_wait() returns at once
# with "writable" and nothing to do (empty_wakeups race upward).
. "${IOLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

client=$IOLAB_BIN/tests/lab_client
for b in "$IOLAB_BIN/echo-epoll-lt" "$client"; do
	[ -x "$b" ] || t_fail "build $b first (make)"
done

# counters SEGMENT: "wait_calls empty_wakeups" from one reading.
counters() { "$client" counters "$1" wait_calls empty_wakeups | awk '{printf "%s ", $2}'; }

# idle_growth [FLAGS...]: growth of wait_calls and empty_wakeups over 0.5 s with one idle client.
idle_growth() {
	local seg w0 e0 w1 e1
	t_start_server echo-epoll-lt -q "$@"
	t_spawn "$client" hold "$T_PORT" 10 full >"$T_TMP/hold"
	for _ in $(seq 1 50); do grep -q ready "$T_TMP/hold" 2>/dev/null && break; sleep 0.1; done
	grep -q ready "$T_TMP/hold" || t_fail "the idle client did not get its first echo"
	seg=$(t_segment "$T_PID")
	[ -n "$seg" ] || t_fail "no telemetry segment for pid $T_PID"
	sleep 0.2
	read -r w0 e0 <<<"$(counters "$seg")"
	sleep 0.5
	read -r w1 e1 <<<"$(counters "$seg")"
	kill "$T_LAST" 2>/dev/null
	t_stop "$T_PID" || t_fail "echo-epoll-lt $* exited $? on SIGTERM"
	GROW_WAIT=$((w1 - w0)) GROW_EMPTY=$((e1 - e0))
}

idle_growth
ok_wait=$GROW_WAIT ok_empty=$GROW_EMPTY
t_log "without the bug, in 0.5 s idle: wait_calls +$ok_wait, empty_wakeups +$ok_empty"
idle_growth --bug lt-always-pollout
t_log "with --bug=lt-always-pollout:   wait_calls +$GROW_WAIT, empty_wakeups +$GROW_EMPTY"

[ "$ok_empty" -le 2 ] || t_fail "without the bug an idle server woke up $ok_empty times for nothing"
[ "$GROW_EMPTY" -gt $((100 * (ok_wait + 1))) ] || t_fail "with the bug empty wakeups grew by only $GROW_EMPTY"
t_pass
