#!/usr/bin/env bash
# Description: lab 6 — the ready list's read budget.  While one client floods (a
# hog pipelining 256 KiB frames, reading its echoes in another thread), four light
# clients ping-pong small frames.  With the default budget their worst latency stays
# low; with --budget 0 (drain greedily) the hog holds the thread and it grows.  Both
# servers run in this test, alternately, and the medians of 3 rounds are compared.
. "${IOLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

client=$IOLAB_BIN/tests/lab_client
for b in "$IOLAB_BIN/echo-epoll-et" "$client"; do
	[ -x "$b" ] || t_fail "build $b first (make)"
done

rounds=3 ms=600 lights=4
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }

budget=() greedy=()
for r in $(seq 1 $rounds); do
	for mode in budget greedy; do
		if [ $mode = budget ]; then
			t_start_server echo-epoll-et -q
		else
			t_start_server echo-epoll-et -q --budget 0
		fi
		timeout 30 "$client" flood "$T_PORT" $ms $lights >"$T_TMP/flood" || t_fail "flood against the $mode server failed"
		t_stop "$T_PID" || t_fail "echo-epoll-et ($mode) exited $? on SIGTERM"
		read -r _ worst _ pings _ <"$T_TMP/flood"
		t_log "round $r, $mode: $(cat "$T_TMP/flood")"
		[ "$pings" -gt 0 ] || t_fail "the light clients got no echo at all ($mode)"
		if [ $mode = budget ]; then budget+=("$worst"); else greedy+=("$worst"); fi
	done
done

mb=$(median "${budget[@]}") mg=$(median "${greedy[@]}")
t_log "light clients' worst latency, median of $rounds: budget ${mb} us, --budget 0 ${mg} us"
[ "$mg" -gt $((2 * mb)) ] || t_fail "--budget 0 worst latency ${mg} us is not clearly above the budgeted ${mb} us"
t_pass
