#!/usr/bin/env bash
# Description: make check-lab-22 passes and make check-lab-22 BROKEN=1 fails.
# labs/22-http/scenario runs headless: http-check (curl and wrk against every model with
# -f http, in three groups) and http-bench --quick (nginx and four models under wrk, ratios
# printed) all PASS, and nothing it started is left running.  The broken variant (one group
# started with --bug http-fake-keepalive) must FAIL, on the keep-alive re-use check.
. "$IOLAB_ROOT/tests/lib.sh"

N=22
runlab=$IOLAB_ROOT/labs/tools/run-lab
command -v curl >/dev/null || t_skip "curl is not installed: sudo apt-get install curl (or make deps)"
command -v wrk >/dev/null || t_skip "wrk is not installed: sudo apt-get install wrk (or make deps)"
[ -x /usr/sbin/nginx ] || t_skip "nginx is not installed: sudo apt-get install nginx (or make deps)"

out=$T_TMP/check.out
timeout 170 "$runlab" --check "$N" >"$out" 2>&1; rc=$?
cat "$out" >&2
[ $rc -eq 77 ] && t_skip "$(grep SKIP "$out" | tail -1)"
[ $rc -eq 0 ] || t_fail "run-lab --check $N exited $rc"
grep -q '^FAIL' "$out" && t_fail "a check failed"
npass=$(grep -c '^PASS' "$out")
[ "$npass" -ge 12 ] || t_fail "only $npass PASS lines"
grep -q '^  -c 50:  epoll-lt [0-9.]* [0-9.]*  ' "$out" || t_fail "the ratios to nginx were not printed"
pids=$(sed -n 's/^started .*(pid \([0-9]*\).*/\1/p' "$out")
for p in $pids; do
	kill -0 "$p" 2>/dev/null && t_fail "pid $p ($(ps -o args= -p "$p")) still running after run-lab --check"
done

timeout 170 "$runlab" --check --broken "$N" >"$out" 2>&1; rc=$?
cat "$out" >&2
[ $rc -eq 77 ] && t_skip "$(grep SKIP "$out" | tail -1)"
[ $rc -eq 1 ] || t_fail "run-lab --check --broken $N exited $rc, expected 1"
grep -q '^FAIL .*c2.first_failure = .*re-uses the connection' "$out" ||
	t_fail "the broken variant did not fail on keep-alive re-use"
t_pass "make check-lab-$N: $npass checks PASS; BROKEN=1 fails on keep-alive re-use; nothing left running"
