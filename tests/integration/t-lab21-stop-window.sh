#!/usr/bin/env bash
# Description: lab 21 — no server has a shutdown window.  SIGINT is blocked outside
# each model's wait and let in only inside it (epoll_pwait, ppoll, pselect,
# io_pgetevents, io_uring_enter's sigmask, sigwaitinfo's set; the blocking model's
# handler shuts its listener down, the busy loop looks every turn), so a SIGINT sent
# the instant a server says "listening" -- before, during or after it reaches its
# wait -- always ends it.  A server with the window would sit in its wait until the
# next event: here none comes, so it would hang.  Each server: ROUNDS rounds, each
# must exit within LIMIT ms (generous: a sanitizer build exits slowly; a missed signal
# never exits at all).  Prints the slowest exit seen per server.
. "$(dirname "$0")/../lib.sh"
ROUNDS=${ROUNDS:-20}
LIMIT=${LIMIT_MS:-3000}

worst_all=0
for prog in $(awk '!/^#/ && NF { print $1 }' "$IOLAB_ROOT/tests/servers.tsv" | sort -u); do
	[ -x "$IOLAB_BIN/$prog" ] || t_fail "$IOLAB_BIN/$prog not built"
	worst=0
	for _ in $(seq "$ROUNDS"); do
		out=$T_TMP/out err=$T_TMP/err
		: >"$out"
		t_spawn "$IOLAB_BIN/$prog" -p 0 -q >"$out" 2>"$err"   # killed at exit if we stop early
		pid=$T_LAST
		for _ in $(seq 400); do grep -q '^listening on' "$out" && break; kill -0 $pid 2>/dev/null || break; sleep 0.005; done
		if ! grep -q '^listening on' "$out"; then
			kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
			# echo-uring exits 3 where io_uring is switched off: not this test's business.
			[ "$prog" = echo-uring ] && grep -q io_uring_setup "$err" && continue 2
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
		[ $ms -gt $worst ] && worst=$ms
	done
	t_log "$prog: $ROUNDS SIGINTs, every one obeyed; slowest exit ${worst} ms"
	[ $worst -gt $worst_all ] && worst_all=$worst
done
t_log "slowest exit over all servers: ${worst_all} ms"
t_pass
