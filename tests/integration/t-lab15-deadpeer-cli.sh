#!/usr/bin/env bash
# Description: bin/iolab-deadpeer's command line (lab 15): --help names every flag, bad
# flags exit 2 before anything is created; a short run (--wait 5) prints every part of
# the report and leaves no process behind (or the program skips, exit 77, with a reason).
. "$IOLAB_ROOT/tests/lib.sh"

dp=$IOLAB_BIN/iolab-deadpeer
[ -x "$dp" ] || t_skip "bin/iolab-deadpeer is not built (make)"

"$dp" --help >"$T_TMP/help" || t_fail "--help exited $?"
for w in --wait --keepalive --no-keepalive --heartbeat --misses --json; do
	grep -q -- "$w" "$T_TMP/help" || t_fail "--help does not mention $w"
done
for bad in --bogus "--wait 0" "--wait x" "--keepalive 1/1" "--keepalive 0/1/3" "--heartbeat 5" "--misses 0" extra; do
	# shellcheck disable=SC2086
	"$dp" $bad >/dev/null 2>&1; rc=$?
	[ $rc -eq 2 ] || t_fail "'iolab-deadpeer $bad' exited $rc, want 2"
done

timeout 30 "$dp" --wait 5 >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?
cat "$T_TMP/out" "$T_TMP/err" >&2
[ $rc -eq 77 ] && t_skip "$(grep -h SKIP "$T_TMP/err" | tail -1)"
[ $rc -eq 0 ] || t_fail "iolab-deadpeer --wait 5 exited $rc"
for part in "(a) silent:" "(b) keepalive  epoll:" "(d) busy:" "(c) stopped:   keepalive never fired" \
            "(c) stopped:   no heartbeat" "probe 3 sent" "keepalive probes sent in this namespace"; do
	grep -qF -- "$part" "$T_TMP/out" || t_fail "no '$part' line"
done
left=$(ps -eo pid=,args= | awk -v p="$dp" '$2 == p { print $1 }')
[ -z "$left" ] || t_fail "left running: $left"
t_pass "iolab-deadpeer: help, bad flags, every part of a 5 s run"
