#!/usr/bin/env bash
# Description: labs/22-http/http-check catches both HTTP bugs every model accepts with
# -f http: --bug http-fake-keepalive (closes after every answer without "Connection:
# close": curl cannot re-use, wrk counts socket errors) and --bug http-silent-error (a
# malformed request gets no 400: exactly that one check fails); its --json says so; and it
# rejects bad flags with exit 2.  (make check-lab-22, t-lab-22.sh, runs it on all models.)
. "$IOLAB_ROOT/tests/lib.sh"

lab=$IOLAB_ROOT/labs/22-http
command -v curl >/dev/null || t_skip "curl is not installed: sudo apt-get install curl (or make deps)"
command -v wrk >/dev/null || t_skip "wrk is not installed: sudo apt-get install wrk (or make deps)"

out=$T_TMP/check
"$lab/http-check" --models epoll-lt --bug http-fake-keepalive >"$out" 2>&1; rc=$?
cat "$out" >&2
[ $rc -eq 1 ] || t_fail "http-check --bug http-fake-keepalive exited $rc, expected 1"
grep -q '^FAIL .*re-uses the connection' "$out" || t_fail "fake keep-alive not caught by the re-use check"
grep -q '^FAIL .*wrk -c 50 meanwhile: [0-9]* requests, [1-9][0-9]* socket errors' "$out" ||
	t_fail "fake keep-alive not seen by wrk as socket errors"
grep -q '^PASS .*GET / gives the page' "$out" || t_fail "the bytes themselves should still be right"

"$lab/http-check" --models uring --bug http-silent-error --json >"$out" 2>"$out.err"; rc=$?
cat "$out.err" "$out" >&2
grep -q '^SKIP' "$out.err" &&
	{ "$lab/http-check" --models epoll-et --bug http-silent-error --json >"$out" 2>"$out.err"; rc=$?; }
[ $rc -eq 1 ] || t_fail "http-check --bug http-silent-error exited $rc, expected 1"
[ "$(jq -r .failed "$out")" = 1 ] || t_fail "http-silent-error should break exactly one check: $(cat "$out")"
jq -r .first_failure "$out" | grep -q 'a malformed request gets 400' || t_fail "the silent error was not caught"

"$lab/http-check" --secs x >/dev/null 2>&1; [ $? -eq 2 ] || t_fail "--secs x should exit 2"
"$lab/http-check" --models >/dev/null 2>&1; [ $? -eq 2 ] || t_fail "--models without a value should exit 2"
"$lab/http-bench" --bogus >/dev/null 2>&1; [ $? -eq 2 ] || t_fail "http-bench --bogus should exit 2"
t_pass "both HTTP bugs fail http-check on the check that names them"
