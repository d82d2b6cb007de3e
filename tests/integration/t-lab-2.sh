#!/usr/bin/env bash
# Description: make check-lab-2 passes.  labs/02-nonblocking/scenario runs headless against
# bin/echo-nonblocking -- nonblocking busy loop: both clients served, the loop spins and meets EAGAIN -- every check PASSes, and nothing it started is left
# running or left in /dev/shm.
. "$IOLAB_ROOT/tests/lib.sh"

N=2 PROG=echo-nonblocking FEATURE=''

runlab=$IOLAB_ROOT/labs/tools/run-lab
[ -x "$IOLAB_BIN/$PROG" ] || t_skip "bin/$PROG is not built (make)"
[ -x "$IOLAB_BIN/iolab-load" ] || t_skip "bin/iolab-load is not built (make)"
if [ -n "$FEATURE" ]; then
	"$IOLAB_BIN/iolab-doctor" --only "$FEATURE" >"$T_TMP/doctor" 2>&1 ||
		t_skip "lab $N needs $FEATURE, which this machine does not give: $(sed 's/^ *//' "$T_TMP/doctor" | tr '\n' ' ')"
fi

out=$T_TMP/check.out
timeout 60 "$runlab" --check "$N" >"$out" 2>&1; rc=$?
cat "$out" >&2
[ $rc -eq 0 ] || t_fail "run-lab --check $N exited $rc"
grep -q '^FAIL' "$out" && t_fail "a check failed"
npass=$(grep -c '^PASS' "$out")
[ "$npass" -ge 5 ] || t_fail "only $npass PASS lines: the scenario checks too little"
pids=$(sed -n 's/^started .*(pid \([0-9]*\).*/\1/p' "$out")
[ -n "$pids" ] || t_fail "no 'started' lines"
for p in $pids; do
	kill -0 "$p" 2>/dev/null && t_fail "pid $p ($(ps -o args= -p "$p")) still running after run-lab --check"
	[ -z "$(t_segment "$p")" ] || t_fail "telemetry segment $(t_segment "$p") left behind"
done
t_pass "make check-lab-$N: $npass checks PASS, nothing left running"
