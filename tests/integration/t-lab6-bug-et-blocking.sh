#!/usr/bin/env bash
# Description: lab 6, --bug=et-blocking — blocking sockets with EPOLLET.  A first
# client sends half a frame; the server reads it and, draining "until EAGAIN", calls
# read() again, which sleeps.  A second client then gets no echo until the first
# leaves.  Without the bug the second client is echoed at once.
. "${IOLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

client=$IOLAB_BIN/tests/lab_client
for b in "$IOLAB_BIN/echo-epoll-et" "$client"; do
	[ -x "$b" ] || t_fail "build $b first (make)"
done

# hold_partial: a first client with half a frame sent; waits for its "ready" line.
hold_partial() {
	t_spawn "$client" hold "$T_PORT" 20 partial >"$T_TMP/hold.$1"
	HOLD=$T_LAST
	for _ in $(seq 1 50); do
		grep -q ready "$T_TMP/hold.$1" 2>/dev/null && return 0
		sleep 0.1
	done
	t_fail "the holding client did not get going"
}

where() {   # where PID: what the server's thread is sleeping in
	local s
	s=$(grep -o -m1 -E 'tcp_recvmsg|do_epoll_wait|ep_poll' "/proc/$1/stack" 2>/dev/null)
	echo "${s:-$(cat "/proc/$1/wchan" 2>/dev/null)}"
}

t_start_server echo-epoll-et -q
hold_partial ok
sleep 0.2
"$client" ping "$T_PORT" 1000 >"$T_TMP/ping" || t_fail "without the bug a second client got no echo: $(cat "$T_TMP/ping")"
t_log "without the bug: second client $(cat "$T_TMP/ping"); server sleeps in $(where "$T_PID")"
kill "$HOLD" 2>/dev/null
t_stop "$T_PID" || t_fail "echo-epoll-et exited $? on SIGTERM"

t_start_server echo-epoll-et -q --bug et-blocking
hold_partial bug
sleep 0.2
in=$(where "$T_PID")
if "$client" ping "$T_PORT" 1000 >"$T_TMP/ping"; then
	t_fail "with --bug=et-blocking the second client was echoed: the server did not block"
fi
t_log "with the bug: second client: $(cat "$T_TMP/ping"); server sleeps in $in"
if [ -r "/proc/$T_PID/stack" ] && grep -q 'recvmsg' "/proc/$T_PID/stack"; then
	t_log "kernel stack confirms the server is inside read(): $(grep -o -m1 'tcp_recvmsg[^ ]*' "/proc/$T_PID/stack")"
fi
case $in in *epoll*) t_fail "the server is in epoll_wait, not blocked in read" ;; esac
# The first client leaves: read() returns 0, the server wakes and serves the second.
kill "$HOLD" 2>/dev/null
"$client" ping "$T_PORT" 2000 >"$T_TMP/ping" || t_fail "after the first client left, the second still got no echo"
t_log "after the first client left: $(cat "$T_TMP/ping")"
t_stop "$T_PID" || t_fail "echo-epoll-et --bug et-blocking exited $? on SIGTERM"
t_pass
