#!/usr/bin/env bash
# Description: lab 19 (UDP).  make check-lab-19 passes: one whole datagram per receive,
# no accept and no close, truncation counted (MSG_TRUNC) with the rest dropped, a burst
# lost silently but counted in Udp RcvbufErrors, recvmmsg batching.  The broken variant
# (a server buffer smaller than the datagrams) fails.  echo-udp and iolab-udp reject bad
# flags with exit 2, and echo-udp stops cleanly on SIGTERM.  Against a closed port
# iolab-udp counts the ECONNREFUSED the kernel reports.
. "$IOLAB_ROOT/tests/lib.sh"
. "$IOLAB_ROOT/tests/integration/labcheck.sh"

for p in echo-udp iolab-udp echo-epoll-lt iolab-load; do
	[ -x "$IOLAB_BIN/$p" ] || t_skip "bin/$p is not built (make)"
done
[ -r /proc/net/snmp ] || t_skip "/proc/net/snmp is not readable: mount /proc"
for bad in "--mmsg 0" "--mmsg 2000" "--rcvbuf x" "--bogus"; do
	# shellcheck disable=SC2086
	"$IOLAB_BIN/echo-udp" $bad >/dev/null 2>&1; rc=$?
	[ $rc -eq 2 ] || t_fail "echo-udp $bad exited $rc (want 2)"
done
for bad in "" "-p 0" "-p 1 -s 7" "-p 1 -s 70000" "-p 1 --bogus"; do
	# shellcheck disable=SC2086
	"$IOLAB_BIN/iolab-udp" $bad >/dev/null 2>&1; rc=$?
	[ $rc -eq 2 ] || t_fail "iolab-udp $bad exited $rc (want 2)"
done

# nc -u where a user would: one line, one datagram, echoed as it was.
if command -v nc >/dev/null; then
	t_start_server echo-udp
	got=$(printf 'hello udp\n' | timeout 3 nc -u -w 1 127.0.0.1 "$T_PORT")
	[ "$got" = "hello udp" ] || t_fail "nc -u got '$got' back (want 'hello udp')"
	t_stop "$T_PID" || t_fail "echo-udp exited $? on SIGTERM"
	[ -z "$(t_segment "$T_PID")" ] || t_fail "echo-udp left its telemetry segment"
fi

# A port where nothing listens: the echoes never come, and the connected socket hears
# the ICMP port unreachable as ECONNREFUSED, which the client counts and names.
t_start_server echo-udp
closed=$T_PORT
t_stop "$T_PID" || t_fail "echo-udp exited $? on SIGTERM"
out=$(timeout 10 "$IOLAB_BIN/iolab-udp" -p "$closed" -n 3 --wait-ms 100 --json); rc=$?
[ $rc -eq 1 ] || t_fail "iolab-udp against closed port $closed exited $rc (want 1: all lost)"
case $out in
*'"lost":3,"refused":'[1-9]*) ;;
*) t_fail "iolab-udp against closed port $closed did not count ECONNREFUSED: $out" ;;
esac

lab_check 19 15
lab_check_broken 19
grep -q '^FAIL .*e1.whole = 0' "$LAB_OUT" || t_fail "the broken variant did not cut the datagrams"
t_pass "check-lab-19: $LAB_NPASS PASS; BROKEN=1 (a 256-byte buffer) cuts every datagram"
