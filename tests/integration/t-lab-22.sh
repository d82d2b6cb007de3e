#!/usr/bin/env bash
# Description: make check-lab-22 passes.  labs/22-http/scenario runs headless: http-check
# (curl and wrk against every model with -f http) and http-bench --quick (every model and
# nginx under wrk, ratios printed) both succeed, and nothing it started is left running.
. "$IOLAB_ROOT/tests/lib.sh"

N=22
runlab=$IOLAB_ROOT/labs/tools/run-lab
grep -q '^[[:space:]]*run)' "$runlab" ||
	t_skip "labs/tools/run-lab has no 'run' command yet (it comes with branch runner): make check-lab-22 needs it"
command -v curl >/dev/null || t_skip "curl is not installed: sudo apt-get install curl (or make deps)"
command -v wrk >/dev/null || t_skip "wrk is not installed: sudo apt-get install wrk (or make deps)"
[ -x /usr/sbin/nginx ] || t_skip "nginx is not installed: sudo apt-get install nginx (or make deps)"

out=$T_TMP/check.out
timeout 170 "$runlab" --check "$N" >"$out" 2>&1; rc=$?
cat "$out" >&2
[ $rc -eq 0 ] || t_fail "run-lab --check $N exited $rc"
grep -q '^FAIL' "$out" && t_fail "a check failed"
npass=$(grep -c '^PASS' "$out")
[ "$npass" -ge 2 ] || t_fail "only $npass PASS lines"
pids=$(sed -n 's/^started .*(pid \([0-9]*\).*/\1/p' "$out")
for p in $pids; do
	kill -0 "$p" 2>/dev/null && t_fail "pid $p ($(ps -o args= -p "$p")) still running after run-lab --check"
done
t_pass "make check-lab-$N: $npass checks PASS, nothing left running"
