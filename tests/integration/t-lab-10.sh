#!/usr/bin/env bash
# Description: lab 10 (framing and Nagle).  make check-lab-10 passes: one frame in many
# reads, many frames in one read with TCP_NODELAY on, len32/line/fixed on bad input, the
# write-write-read stall with Nagle on (client and server) and none with TCP_NODELAY or
# writev.  The broken variant (Nagle on in the client that should be fast) fails exactly
# that check.  -f fixed:N is parsed by every server, and a bad one exits 2.
. "$IOLAB_ROOT/tests/lib.sh"
. "$IOLAB_ROOT/tests/integration/labcheck.sh"

for p in echo-epoll-lt iolab-load; do
	[ -x "$IOLAB_BIN/$p" ] || t_skip "bin/$p is not built (make)"
done
for bad in fixed fixed:0 fixed:12x fixed:999999999; do
	"$IOLAB_BIN/echo-epoll-lt" -f "$bad" >/dev/null 2>"$T_TMP/err"; rc=$?
	[ $rc -eq 2 ] || t_fail "echo-epoll-lt -f $bad exited $rc (want 2)"
	grep -q "unknown framing" "$T_TMP/err" || t_fail "-f $bad: no clear message: $(cat "$T_TMP/err")"
done

lab_check 10 15
grep -q '^PASS .*ng.latency_us.p50' "$LAB_OUT" || t_fail "the Nagle stall was not measured"
lab_check_broken 10
grep -q '^FAIL .*nd.latency_us.p50' "$LAB_OUT" || t_fail "the broken variant did not fail on the Nagle stall"
t_pass "check-lab-10: $LAB_NPASS PASS; BROKEN=1 fails on the client's Nagle stall"
