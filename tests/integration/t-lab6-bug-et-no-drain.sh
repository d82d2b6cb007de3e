#!/usr/bin/env bash
# Description: lab 6, --bug=et-no-drain — one read per edge.  1000 bytes sent in
# one write, read 100 at a time (--read-chunk 100, raw framing): the correct server
# reads until EAGAIN and echoes all 1000; with the bug it reads 100, and the other
# 900 bring no new edge, so nothing more comes back.
. "${IOLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

client=$IOLAB_BIN/tests/lab_client
for b in "$IOLAB_BIN/echo-epoll-et" "$client"; do
	[ -x "$b" ] || t_fail "build $b first (make)"
done

t_start_server echo-epoll-et -q -f raw --read-chunk 100
"$client" stall "$T_PORT" 1000 1000 >"$T_TMP/ok"; rc=$?
t_log "without the bug: $(cat "$T_TMP/ok")"
[ $rc -eq 0 ] || t_fail "without the bug not everything came back (exit $rc)"
t_stop "$T_PID" || t_fail "echo-epoll-et exited $? on SIGTERM"

t_start_server echo-epoll-et -q -f raw --read-chunk 100 --bug et-no-drain
"$client" stall "$T_PORT" 1000 1000 >"$T_TMP/bug"; rc=$?
t_log "with --bug=et-no-drain: $(cat "$T_TMP/bug")"
[ $rc -eq 3 ] || t_fail "with the bug the echo did not stall (exit $rc, want 3)"
# "sent 1000, echoed N within 1000 ms": the first read's 100 bytes did come back.
got=$(sed -n 's/.*echoed \([0-9]*\) within.*/\1/p' "$T_TMP/bug")
[ "$got" -gt 0 ] || t_fail "with the bug nothing at all came back: that is not the lesson"
t_stop "$T_PID" || t_fail "echo-epoll-et --bug et-no-drain exited $? on SIGTERM"
t_pass
