#!/usr/bin/env bash
# Description: run-lab leaves nothing behind after Ctrl-C.  It is started in the
# background on a scenario with a real server, a background load and a stand-in
# server that ignores SIGTERM and has a child of its own; once everything is up it
# gets SIGINT -- first to run-lab alone, then to its whole process group (what a
# terminal's Ctrl-C does).  Every pid it started (and the stand-in's child) must be
# gone, and no telemetry segment of theirs may remain in /dev/shm.
. "$IOLAB_ROOT/tests/lib.sh"

runlab=$IOLAB_ROOT/labs/tools/run-lab
server=echo-epoll-lt
[ -x "$IOLAB_BIN/$server" ] || server=echo-blocking
[ -x "$IOLAB_BIN/$server" ] || t_skip "neither bin/echo-epoll-lt nor bin/echo-blocking is built (make)"
[ -x "$IOLAB_BIN/iolab-load" ] || t_skip "bin/iolab-load is not built (make)"
env --default-signal=INT true 2>/dev/null || t_skip "env --default-signal (coreutils >= 8.31) is needed to undo the shell's SIGINT-ignore for background jobs"

# A stand-in server: ignores SIGTERM (run-lab must escalate to SIGKILL) and starts a
# grandchild (run-lab must stop the whole process group, not just the pid it knows).
cat >"$T_TMP/stubborn-server" <<'EOS'
#!/usr/bin/env bash
trap '' TERM
sleep 300 &
echo $! >"$(dirname "$0")/grandchild.pid"
echo "listening on 127.0.0.1:9"
while :; do sleep 1; done
EOS
chmod +x "$T_TMP/stubborn-server"
cat >"$T_TMP/scenario" <<EOF2
title run-lab SIGINT test
server srv $server -f line
server odd ./stubborn-server
[lab]
say port \${srv.port}
load l1 srv -c 2 -s 16 -t 60 -f line
EOF2

# Alive and not a zombie (a killed grandchild waits to be reaped by init).
running() { kill -0 "$1" 2>/dev/null && ! ps -o stat= -p "$1" | grep -q '^Z'; }

# run_and_interrupt WHO: start run-lab, wait for its processes, SIGINT WHO (runner|group).
run_and_interrupt() {
	local who=$1 out=$T_TMP/run.$1.out pid pids gc p seg rc
	rm -f "$T_TMP/grandchild.pid"
	# Background jobs of a script start with SIGINT ignored; a terminal's job would not.
	setsid env --default-signal=INT "$runlab" --scenario "$T_TMP/scenario" --no-view --duration 60 \
		>"$out" 2>&1 </dev/null &
	pid=$!
	T_PIDS+=("$pid")
	for _ in $(seq 1 100); do
		grep -q '^started load l1' "$out" && grep -q '^Server log' "$out" && break
		kill -0 "$pid" 2>/dev/null || { cat "$out" >&2; t_fail "run-lab exited before the lab was up"; }
		sleep 0.1
	done
	grep -q '^Server log' "$out" || { cat "$out" >&2; t_fail "the lab was not up within 10 s"; }
	pids=$(sed -n 's/^started .*(pid \([0-9]*\).*/\1/p' "$out")
	[ "$(echo "$pids" | wc -w)" -eq 3 ] || { cat "$out" >&2; t_fail "expected 3 'started' lines (2 servers, 1 load), got: $pids"; }
	gc=$(cat "$T_TMP/grandchild.pid" 2>/dev/null)
	[ -n "$gc" ] && kill -0 "$gc" 2>/dev/null || t_fail "the stand-in's child is not running"
	srvpid=$(sed -n 's/^started srv: .*(pid \([0-9]*\).*/\1/p' "$out")
	[ -n "$(t_segment "$srvpid")" ] || t_fail "no telemetry segment for the server (pid $srvpid) while it runs"
	for p in $pids; do
		[ "$(ps -o pgid= -p "$p" | tr -d ' ')" = "$p" ] || t_fail "pid $p is not the leader of its own process group"
	done

	if [ "$who" = group ]; then kill -INT -- "-$pid"; else kill -INT "$pid"; fi
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && t_fail "SIGINT to $who: run-lab still running after 10 s"
	wait "$pid"; rc=$?
	[ $rc -eq 130 ] || t_fail "SIGINT to $who: run-lab exited $rc, want 130 (killed by SIGINT)"
	for p in $pids $gc; do
		running "$p" && t_fail "SIGINT to $who: pid $p ($(ps -o args= -p "$p")) is still running"
	done
	for p in $pids; do
		seg=$(t_segment "$p")
		[ -z "$seg" ] || t_fail "SIGINT to $who: telemetry segment $seg is left behind"
	done
	pgrep -f -- "--guard $pid " >/dev/null && t_fail "SIGINT to $who: run-lab's guard process is still running"
	grep -q 'did not stop on SIGTERM: SIGKILL' "$out" || t_fail "SIGINT to $who: no word about the stand-in needing SIGKILL"
	t_log "SIGINT to $who: run-lab exited 130; pids $(echo $pids) and grandchild $gc are gone, no segments left"
}

run_and_interrupt runner
run_and_interrupt group
t_pass "run-lab stops everything on SIGINT"
