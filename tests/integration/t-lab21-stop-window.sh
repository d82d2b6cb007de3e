#!/usr/bin/env bash
# Description: lab 21 — no server has a shutdown window.  SIGINT is blocked outside
# each model's wait and let in only inside it (epoll_pwait, ppoll, pselect,
# io_pgetevents, io_uring_enter's sigmask, sigwaitinfo's set; the blocking model's
# handler shuts its listener down, the busy loop looks every turn), so a SIGINT sent
# the instant a server says "listening" -- before, during or after it reaches its
# wait -- always ends it.  A server with the window would sit in its wait until the
# next event: here none comes, so it would hang.  Each server: ROUNDS rounds, each
# must exit within BOUND_MS (100 ms; 1000 in an ASan build, whose exit is slow); a
# slow round is run once more and the second decides.  A server still running after
# LIMIT_MS has the window.  Prints the slowest exit seen per server.
. "$(dirname "$0")/../lib.sh"
ROUNDS=${ROUNDS:-20}
LIMIT=${LIMIT_MS:-3000}   # a server still running after this has the window (it waits for an event)
BOUND=${BOUND_MS:-100}    # the issue's bound for every exit
if ldd "$IOLAB_BIN/echo-epoll-lt" 2>/dev/null | grep -q libasan; then
	BOUND=1000
	t_log "(an AddressSanitizer build: its exit-time work is slow, so the bound is ${BOUND} ms)"
fi

# One round: start, SIGINT the instant it says "listening", time the exit into $ms.
# Returns 1 if the server did not start because io_uring is off (not this test's business).
round() {
	local prog=$1 out=$T_TMP/out err=$T_TMP/err pid t0
	: >"$out"
	t_spawn "$IOLAB_BIN/$prog" -p 0 -q >"$out" 2>"$err"   # killed at exit if we stop early
	pid=$T_LAST
	for _ in $(seq 400); do grep -q '^listening on' "$out" && break; kill -0 $pid 2>/dev/null || break; sleep 0.005; done
	if ! grep -q '^listening on' "$out"; then
		kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
		[ "$prog" = echo-uring ] && grep -q io_uring_setup "$err" && return 1
		t_fail "$prog did not start: $(cat "$err")"
	fi
	t0=$(date +%s%N)
	kill -INT $pid
	for _ in $(seq $((LIMIT / 5))); do kill -0 $pid 2>/dev/null || break; sleep 0.005; done
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	if kill -0 $pid 2>/dev/null; then
		kill -9 $pid; wait $pid 2>/dev/null
		t_fail "$prog: SIGINT sent right after 'listening on' was not acted on within ${LIMIT} ms (a shutdown window)"
	fi
	wait $pid; rc=$?
	[ $rc = 0 ] || t_fail "$prog exited with status $rc after SIGINT, want 0"
	return 0
}

worst_all=0
for prog in $(awk '!/^#/ && NF { print $1 }' "$IOLAB_ROOT/tests/servers.tsv" | sort -u); do
	[ -x "$IOLAB_BIN/$prog" ] || t_fail "$IOLAB_BIN/$prog not built"
	worst=0 retried=0
	for _ in $(seq "$ROUNDS"); do
		round "$prog" || continue 2
		if [ $ms -gt $BOUND ]; then
			# One slow exit on a busy 2-core machine can be the scheduler; the same
			# slowness twice in a row is the server's.
			retried=$((retried + 1))
			first=$ms
			round "$prog"
			[ $ms -le $BOUND ] || t_fail "$prog: exits took ${first} ms and then ${ms} ms after SIGINT (bound ${BOUND} ms)"
		fi
		[ $ms -gt $worst ] && worst=$ms
	done
	t_log "$prog: $ROUNDS SIGINTs, every one obeyed; slowest exit ${worst} ms (bound ${BOUND} ms; rounds re-run after a slow exit: $retried)"
	[ $worst -gt $worst_all ] && worst_all=$worst
done
t_log "slowest exit over all servers: ${worst_all} ms"
t_pass
