#!/usr/bin/env bash
# Description: lab 5, --bug=no-sigpipe — SIGPIPE left at its default action.  A
# client sends 8 MiB and never reads, so the server is still writing the echo; it
# half-closes (FIN) and then resets (SO_LINGER 0).  The reset of a socket in
# CLOSE_WAIT leaves EPIPE pending, so the server's next write raises SIGPIPE: with
# the bug the server dies of it (exit 128+13); without it the write just fails with
# EPIPE and only that connection is closed.
. "${IOLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

client=$IOLAB_BIN/tests/lab_client
for b in "$IOLAB_BIN/echo-epoll-lt" "$client"; do
	[ -x "$b" ] || t_fail "build $b first (make)"
done

# --high-water 64M: keep reading all 8 MiB although the client reads nothing back.
t_start_server echo-epoll-lt --high-water 64M
timeout 20 "$client" reset "$T_PORT" 8388608 halfclose || t_fail "the resetting client failed"
sleep 0.3
kill -0 "$T_PID" 2>/dev/null || { wait "$T_PID"; t_fail "without the bug the server died (status $?)"; }
grep -q 'Broken pipe, closing' "$T_ERR" || { cat "$T_ERR" >&2; t_fail "without the bug: no 'Broken pipe' close in the log"; }
"$client" ping "$T_PORT" 2000 >/dev/null || t_fail "without the bug the server stopped echoing"
t_stop "$T_PID" || t_fail "echo-epoll-lt exited $? on SIGTERM"
t_log "without the bug: the write failed with EPIPE, the connection was closed, the server lives on"

t_start_server echo-epoll-lt --high-water 64M --bug no-sigpipe
timeout 20 "$client" reset "$T_PORT" 8388608 halfclose || t_fail "the resetting client failed"
for _ in $(seq 1 30); do
	kill -0 "$T_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$T_PID" 2>/dev/null && t_fail "with --bug=no-sigpipe the server survived the write to a reset peer"
wait "$T_PID"; rc=$?
[ $rc -eq $((128 + 13)) ] || t_fail "with the bug the server exited $rc, want $((128 + 13)) (killed by SIGPIPE)"
t_log "with --bug=no-sigpipe: the server was killed by SIGPIPE (status $rc)"
# Killed by a signal, it could not remove its telemetry segment: do it for it.
rm -f "/dev/shm/$IOLAB_SHM_PREFIX.epoll-lt.$T_PID"
t_pass
