#!/usr/bin/env bash
# Description: lab 21 — bin/iolab-sigrace: --help, bad flags exit 2, and one mode at a
# time tells the naive loop (lost signal: runs into its timeout) from epoll_pwait (woken
# by EINTR inside the wait); no thread or process is left behind.
. "$IOLAB_ROOT/tests/lib.sh"
p=$IOLAB_BIN/iolab-sigrace
[ -x "$p" ] || t_fail "build $p first (make)"
"$p" --help | grep -q 'naive-as-fix' || t_fail "--help does not describe --bug naive-as-fix"
for bad in "--mode nosuch" "--rounds 0" "--window x" "--timeout 0" "--bug other" "extra"; do
	# shellcheck disable=SC2086
	"$p" $bad >/dev/null 2>"$T_TMP/err"; rc=$?
	[ $rc = 2 ] || t_fail "iolab-sigrace $bad exited $rc, want 2"
	[ -s "$T_TMP/err" ] || t_fail "iolab-sigrace $bad said nothing on stderr"
done
timeout 20 "$p" --json --mode naive,epoll_pwait --timeout 300 >"$T_TMP/out" || t_fail "iolab-sigrace exited $?"
naive=$(jq -r '.modes.naive | "\(.woken_by) \(.late) \(.wait_ms)"' "$T_TMP/out")
pwait=$(jq -r '.modes.epoll_pwait | "\(.woken_by) \(.late) \(.wait_ms)"' "$T_TMP/out")
[ "$(jq -r '.modes | keys | join(",")' "$T_TMP/out")" = "epoll_pwait,naive" ] || t_fail "--mode naive,epoll_pwait ran $(jq -c '.modes | keys' "$T_TMP/out")"
read -r how late ms <<<"$naive"
[ "$how" = timeout ] && [ "$late" = 1 ] || t_fail "naive: woken by $how, late $late: want timeout, 1 (the signal in the window is lost)"
awk -v ms="$ms" 'BEGIN { exit !(ms >= 290) }' || t_fail "naive waited $ms ms, want the 300 ms timeout"
read -r how late ms <<<"$pwait"
[ "$how" = EINTR ] && [ "$late" = 0 ] || t_fail "epoll_pwait: woken by $how, late $late: want EINTR, 0"
awk -v ms="$ms" 'BEGIN { exit !(ms < 100) }' || t_fail "epoll_pwait waited $ms ms after the window, want < 100"
t_pass "naive: timeout after $(jq -r .modes.naive.wait_ms "$T_TMP/out") ms; epoll_pwait: EINTR after $ms ms"
