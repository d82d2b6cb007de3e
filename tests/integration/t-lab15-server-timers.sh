#!/usr/bin/env bash
# Description: lab 15 — the servers' own timers.  --idle-timeout MS closes a connection
# that sent no data for MS ms (idle_timeouts); --heartbeat MS lets a peer prove it is alive
# with empty frames (an empty line in line framing: counted in heartbeats, never echoed),
# and closes one from which no byte at all came for 3 x MS (hb_timeouts).  A connection
# that keeps talking is never closed.  Every model whose wait takes a timeout.
. "$(dirname "$0")/../lib.sh"
trap "" PIPE   # writing to a connection the server closed must fail, not kill us
counter() { "$IOLAB_BIN/iolab-stat" "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
# closed_within FD SECS: true when the server closed the connection on fd within SECS.
closed_within() { local b; read -r -t "$2" -u "$1" b; [ $? = 1 ]; }   # 1 = EOF, >128 = timeout

for prog in echo-select echo-poll echo-epoll-lt echo-epoll-et echo-nonblocking echo-sigio; do
	t_start_server "$prog" -q -f line --idle-timeout 1000 --heartbeat 150
	exec 5<>/dev/tcp/127.0.0.1/"$T_PORT" 6<>/dev/tcp/127.0.0.1/"$T_PORT" 7<>/dev/tcp/127.0.0.1/"$T_PORT"
	# 5: says nothing at all -> dead after 3 x 150 ms (hb_timeouts)
	# 6: sends only heartbeats -> alive, but idle after 1000 ms (idle_timeouts); never echoed
	# 7: sends a line every 50 ms for 1.6 s or more -> never closed, every line echoed
	t0=$(date +%s%N)
	for i in $(seq 32); do
		printf '\n' >&6 2>/dev/null
		printf 'line %d\n' "$i" >&7
		read -r -t 2 -u 7 echo || t_fail "$prog: line $i not echoed"
		[ "$echo" = "line $i" ] || t_fail "$prog: echo '$echo', want 'line $i'"
		sleep 0.05
	done
	closed_within 5 0.01 || t_fail "$prog: the silent connection is still open after 1.6 s (--heartbeat 150: 450 ms)"
	closed_within 6 0.01 || t_fail "$prog: the heartbeat-only connection is still open after 1.6 s (--idle-timeout 1000)"
	closed_within 7 0.01 && t_fail "$prog: the talking connection was closed"
	idle=$(counter "$T_PID" idle_timeouts); hb=$(counter "$T_PID" hb_timeouts); beats=$(counter "$T_PID" heartbeats)
	t_log "$prog: hb_timeouts=$hb idle_timeouts=$idle heartbeats=$beats after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
	[ "$hb" = 1 ] && [ "$idle" -ge 1 ] || t_fail "$prog: hb_timeouts=$hb idle_timeouts=$idle, want 1 and >= 1"
	[ "$beats" -ge 1 ] || t_fail "$prog: no heartbeat counted"
	exec 5<&- 6<&- 7<&-
	t_stop "$T_PID" || t_fail "$prog did not stop cleanly"
done
t_pass
