#!/usr/bin/env bash
# Description: even when run-lab itself is killed with SIGKILL (no trap can run), the
# processes it started do not outlive it: its guard process notices within a few
# seconds and stops their process groups, and their telemetry segments go too.
. "$IOLAB_ROOT/tests/lib.sh"

runlab=$IOLAB_ROOT/labs/tools/run-lab
server=echo-epoll-lt
[ -x "$IOLAB_BIN/$server" ] || server=echo-blocking
[ -x "$IOLAB_BIN/$server" ] || t_skip "neither bin/echo-epoll-lt nor bin/echo-blocking is built (make)"

cat >"$T_TMP/scenario" <<EOF2
server one $server -f line
server two $server -f line
EOF2
out=$T_TMP/run.out
"$runlab" --scenario "$T_TMP/scenario" --no-view --duration 60 >"$out" 2>&1 </dev/null &
pid=$!
T_PIDS+=("$pid")
for _ in $(seq 1 100); do
	grep -q '^Server log' "$out" && break
	kill -0 "$pid" 2>/dev/null || { cat "$out" >&2; t_fail "run-lab exited early"; }
	sleep 0.1
done
pids=$(sed -n 's/^started .*(pid \([0-9]*\).*/\1/p' "$out")
[ "$(echo "$pids" | wc -w)" -eq 2 ] || { cat "$out" >&2; t_fail "expected 2 servers, got: $pids"; }
for p in $pids; do [ -n "$(t_segment "$p")" ] || t_fail "no segment for server pid $p"; done

kill -KILL "$pid"
wait "$pid" 2>/dev/null   # "Killed": as intended
left=
for _ in $(seq 1 80); do
	left=
	for p in $pids; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
	[ -z "$left" ] && break
	sleep 0.1
done
[ -z "$left" ] || t_fail "8 s after run-lab was SIGKILLed, its servers are still running:$left"
for _ in $(seq 1 20); do
	segs=
	for p in $pids; do segs="$segs$(t_segment "$p")"; done
	[ -z "$segs" ] && break
	sleep 0.1
done
[ -z "$segs" ] || t_fail "segments left after the guard cleaned up: $segs"
for _ in $(seq 1 50); do pgrep -f -- "--guard $pid " >/dev/null || break; sleep 0.1; done
pgrep -f -- "--guard $pid " >/dev/null && t_fail "the guard is still running 5 s after its work was done"
t_pass "run-lab SIGKILLed: the guard stopped servers $(echo $pids) and removed their segments"
