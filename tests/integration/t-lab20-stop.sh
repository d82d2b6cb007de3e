#!/usr/bin/env bash
# Description: lab 20, echo-reactors stops cleanly: SIGTERM reaches the acceptor only (the
# loops keep SIGINT/SIGTERM blocked); it tells each loop to stop through its task queue,
# and each loop closes its own connections in its own thread.  With the eventfd that is
# at once; with --no-eventfd --poll-ms 1500 a loop sees the stop task only at its next
# timeout, so the stop takes up to 1.5 s longer (the hand-over latency, once more).
# Bad flags (--loops 0, --loops 17, --poll-ms 0) exit 2.
. "${IOLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

for b in echo-reactors iolab-stat; do
	[ -x "$IOLAB_BIN/$b" ] || t_fail "build bin/$b first (make)"
done
for bad in "--loops 0" "--loops 17" "--poll-ms 0" "--loops x"; do
	# shellcheck disable=SC2086
	"$IOLAB_BIN/echo-reactors" -p 0 $bad >/dev/null 2>"$T_TMP/bad.err"; rc=$?
	[ $rc -eq 2 ] || t_fail "echo-reactors $bad exited $rc, want 2"
	grep -q "bad" "$T_TMP/bad.err" || t_fail "echo-reactors $bad: no message naming the bad value"
done

# stop_with_clients FLAGS...: 4 clients held open (2 per loop), then SIGTERM; prints ms to exit.
stop_with_clients() {
	local fds=() fd i t0 t1 active
	t_start_server echo-reactors -f line "$@"
	for i in 1 2 3 4; do
		exec {fd}<>"/dev/tcp/127.0.0.1/$T_PORT" || t_fail "connect $i"
		fds+=("$fd")
		printf 'hello %s\n' "$i" >&"$fd"
		IFS= read -r -t 5 -u "$fd" line || t_fail "no echo on connection $i ($*)"
		[ "$line" = "hello $i" ] || t_fail "connection $i got '$line' ($*)"
	done
	for i in 0 1; do
		active=$("$IOLAB_BIN/iolab-stat" "$T_PID" | awk -v k="loop$i.active" '$1 == k { print $2 }')
		[ "$active" = 2 ] || t_fail "loop $i owns $active connections, want 2 ($*)"
	done
	t0=$(date +%s%N)
	kill -TERM "$T_PID"
	for _ in $(seq 1 100); do kill -0 "$T_PID" 2>/dev/null || break; sleep 0.02; done
	t1=$(date +%s%N)
	kill -0 "$T_PID" 2>/dev/null && t_fail "still running 2 s after SIGTERM ($*)"
	wait "$T_PID"; rc=$?
	[ $rc -eq 0 ] || t_fail "exited $rc on SIGTERM, want 0 ($*)"
	[ "$(grep -c 'server stopping, closing' "$T_ERR")" = 4 ] ||
		t_fail "want 4 'server stopping, closing' lines, one per connection ($*): $(cat "$T_ERR")"
	for fd in "${fds[@]}"; do
		IFS= read -r -t 2 -u "$fd" line; [ $? -eq 1 ] || t_fail "a client did not see its connection closed ($*)"
		exec {fd}>&-
	done
	[ -z "$(t_segment "$T_PID")" ] || t_fail "telemetry segment left behind ($*)"
	STOP_MS=$(( (t1 - t0) / 1000000 ))
}

stop_with_clients --loops 2
fast=$STOP_MS
stop_with_clients --loops 2 --no-eventfd --poll-ms 1500
slow=$STOP_MS
t_log "stop with the eventfd: $fast ms; with --no-eventfd --poll-ms 1500: $slow ms"
[ "$slow" -gt "$fast" ] || t_fail "the polling loops stopped no later than the woken ones ($slow ms vs $fast ms)"
t_pass "SIGTERM: both loops closed their own connections, exit 0 ($fast ms; polling $slow ms)"
