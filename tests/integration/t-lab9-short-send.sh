#!/usr/bin/env bash
# Description: lab 9 — a send completion may report fewer bytes than submitted; echo-uring
# resubmits the rest.  A slow reader with a small SO_RCVBUF, whose writer thread keeps
# sending 1 MiB frames, gets more than the server's largest send buffer (net.ipv4.tcp_wmem
# max) echoed intact; the short sends are counted (eagain_wr), with and without the buffer
# ring.  (Less would fit in the send buffer whole — on loopback it grows to the max, 4 MiB
# here — and no send would come back short.)  The echo is appended to while sends are in
# flight: a server that sends straight out of its output buffer fails here (bad address, or
# a corrupted echo), as LESSONS.md §9's "break it" shows.
. "$(dirname "$0")/../lib.sh"
tool=$IOLAB_BIN/tests/lab_tool
[ -x "$tool" ] || t_fail "$tool not built (make bin/tests/lab_tool)"
why=$("$tool" uring-probe); [ $? = 77 ] && t_skip "$why"

wmem_max=$(awk '{ print $3 }' /proc/sys/net/ipv4/tcp_wmem 2>/dev/null)
FRAMES=$(( (${wmem_max:-4194304} >> 20) + 2 ))
SIZE=$((FRAMES * (1048576 + 4)))
[ "$FRAMES" -le 64 ] || t_skip "tcp_wmem max is $wmem_max: the echo needed to fill it is too big for a quick test"
counter() { "$tool" counters "$1" | awk -v k="$2" '$1 == k { print $2 }'; }

for flags in "" "--no-bufring"; do
	t_start_server echo-uring -q $flags
	"$tool" slow-reader "$T_PORT" 1048576 4096 $FRAMES >/dev/null || t_fail "slow reader: echo wrong ($flags)"
	short=$(counter "$T_PID" eagain_wr)
	sends=$(counter "$T_PID" write_calls)
	out=$(counter "$T_PID" bytes_out)
	t_log "echo-uring $flags: $FRAMES frames of 1 MiB echoed in $sends send submissions, $short of them short; bytes_out=$out"
	[ "$out" = $SIZE ] || t_fail "bytes_out=$out, want $SIZE"
	[ "$short" -gt 0 ] || t_fail "no short send counted: the server's send buffer filled, some send should come back short"
	# Every short send is followed by one for the rest (the echo came back whole, above).
	[ "$sends" -gt "$short" ] || t_fail "$sends sends for $short short ones: short ones not resubmitted?"
	t_stop "$T_PID" || t_fail "echo-uring $flags exited with status $? after SIGTERM"
done
t_pass
