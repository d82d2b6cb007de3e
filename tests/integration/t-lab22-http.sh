#!/usr/bin/env bash
# Description: -f http on every model, asked by curl and wrk (labs/22-http/http-check):
# exact bytes of GET /, /bytes/N and POST /echo, keep-alive re-use, HTTP/1.0 and
# Connection: close, pipelining, a 400 that closes only its own connection while wrk -c 50
# runs with zero errors.  Then the broken variants must FAIL the check: --bug
# http-fake-keepalive (no re-use, wrk socket errors) and --bug http-silent-error (no 400).
# Then http-bench --quick against nginx completes for every model (skip if nginx is missing).
. "$IOLAB_ROOT/tests/lib.sh"

lab=$IOLAB_ROOT/labs/22-http
command -v curl >/dev/null || t_skip "curl is not installed: sudo apt-get install curl (or make deps)"
command -v wrk >/dev/null || t_skip "wrk is not installed: sudo apt-get install wrk (or make deps)"

out=$T_TMP/check
"$lab/http-check" >"$out" 2>&1; rc=$?
cat "$out" >&2
[ $rc -eq 0 ] || t_fail "http-check exited $rc"
n=$(grep -c '^PASS' "$out")
models=$(grep -c '^PASS .*: GET / gives the page' "$out")
skips=$(grep -c '^SKIP' "$out")
[ $((models + skips)) -eq 9 ] || t_fail "only $models models checked ($skips skipped)"
[ "$n" -ge $((models * 12)) ] || t_fail "only $n PASS lines for $models models"

# The broken variants: each must make the check fail, on the check that names the bug.
"$lab/http-check" --models epoll-lt --bug http-fake-keepalive >"$out" 2>&1; rc=$?
cat "$out" >&2
[ $rc -eq 1 ] || t_fail "http-check --bug http-fake-keepalive exited $rc, expected 1"
grep -q '^FAIL .*re-uses the connection' "$out" || t_fail "fake keep-alive not caught by the re-use check"
grep -q '^FAIL .*wrk -c 50' "$out" || t_fail "fake keep-alive not seen by wrk as socket errors"
"$lab/http-check" --models epoll-et --bug http-silent-error >"$out" 2>&1; rc=$?
cat "$out" >&2
[ $rc -eq 1 ] || t_fail "http-check --bug http-silent-error exited $rc, expected 1"
grep -q '^FAIL .*a malformed request gets 400' "$out" || t_fail "the silent error was not caught"
[ "$(grep -c '^FAIL' "$out")" -eq 1 ] || t_fail "http-silent-error should break exactly one check"

IOLAB_BENCH_WAIT=60 "$lab/http-bench" --quick >"$out" 2>&1; rc=$?
cat "$out" >&2
[ $rc -eq 77 ] && t_skip "$(grep SKIP "$out")"
[ $rc -eq 0 ] || t_fail "http-bench --quick exited $rc"
for s in nginx epoll-lt epoll-et uring blocking; do
	grep -q "^$s  *50 " "$out" || grep -q "^SKIP $s" "$out" || t_fail "no -c 50 row for $s"
	grep -q "^$s  *500 " "$out" || grep -q "^SKIP $s" "$out" || t_fail "no -c 500 row for $s"
done
t_pass "http-check: $n checks on $models models; both broken variants fail it; http-bench --quick completed"
