#!/usr/bin/env bash
# Description: every iolab-load mode runs clean against an honest server (the test
# helper corrupt_echo, and bin/echo-epoll-lt when it is built): echo with depth and
# sizes, -n counts exactly, hog (the hog gets the largest share; the others are
# reported apart), slow, tiny, churn (one echo per connection), idle (extra
# connections that never send), and the JSON carries the keys scripts rely on.
. "${IOLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$IOLAB_ROOT/tests/integration/t-load-lib.sh"

check_modes() {   # check_modes PORT PID NAME
	local port=$1 pid=$2 name=$3 k

	load "$port" -c 3 -d 4 -n 500 --server-pid "$pid"
	[ $RC -eq 0 ] || t_fail "$name: -n run failed: $ERR"
	[ "$(jget "$OUT" messages)" = 1500 ] || t_fail "$name: -c 3 -n 500 must give 1500 messages: $OUT"
	for k in ok mode conns threads framing size duration_s messages bytes msgs_per_s mb_per_s \
		 errors latency_us fairness client_cpu_us_per_msg server_cpu_us_per_msg; do
		grep -q "\"$k\":" <<<"$OUT" || t_fail "$name: JSON lacks \"$k\": $OUT"
	done
	for k in p50 p90 p99 p999 max mean; do
		grep -q "\"$k\":" <<<"$(jobj "$OUT" latency_us)" || t_fail "$name: latency_us lacks $k"
	done
	if command -v jq >/dev/null; then
		jq -e . <<<"$OUT" >/dev/null || t_fail "$name: output is not valid JSON: $OUT"
	fi

	load "$port" -c 4 --size-min 0 --size-max 3000 -d 2 -t 0.3
	[ $RC -eq 0 ] || t_fail "$name: size range: $ERR"

	load "$port" -c 3 -m hog -T 2 -t 0.5
	[ $RC -eq 0 ] || t_fail "$name: hog: $ERR"
	grep -q '"others_latency_us":{' <<<"$OUT" || t_fail "$name: hog: no others_latency_us: $OUT"
	[ "$(jget "$(jobj "$OUT" fairness)" max_conn)" = 0 ] || t_fail "$name: hog is not the most served: $OUT"

	load "$port" -c 2 -m slow --slow-after 10000 -t 0.5
	[ $RC -eq 0 ] || t_fail "$name: slow: $ERR"
	fcmp "$(jget "$OUT" others_msgs_per_s)" '>' 0 || t_fail "$name: slow: the other connection starved: $OUT"

	load "$port" -c 2 -m tiny -s 40 -t 0.3
	[ $RC -eq 0 ] || t_fail "$name: tiny: $ERR"
	[ "$(jget "$OUT" messages)" -ge 1 ] || t_fail "$name: tiny: no messages"

	load "$port" -c 2 -m churn -n 50
	[ $RC -eq 0 ] || t_fail "$name: churn: $ERR"
	[ "$(jget "$OUT" connects)" = 100 ] || t_fail "$name: churn: expected 100 connects: $OUT"
	[ "$(jget "$OUT" messages)" = 100 ] || t_fail "$name: churn: expected 100 messages: $OUT"

	load "$port" -c 2 -m idle --idle 300 -t 0.3
	[ $RC -eq 0 ] || t_fail "$name: idle: $ERR"
	[ "$(jget "$OUT" idle)" = 300 ] || t_fail "$name: idle count: $OUT"

	load "$port" -c 2 -f line -t 0.2
	[ $RC -ne 0 ] || t_fail "$name: a len32 server accepted line framing?"
	grep -q 'framing mismatch' <<<"$ERR" || t_fail "$name: no framing hint: $ERR"
	t_log "$name: all modes verified"
}

start_corrupt
check_modes "$T_PORT" "$T_PID" corrupt_echo
t_stop "$T_PID"

if [ -x "$IOLAB_BIN/echo-epoll-lt" ]; then
	t_start_server echo-epoll-lt
	check_modes "$T_PORT" "$T_PID" echo-epoll-lt
else
	t_log "bin/echo-epoll-lt not built: tested against corrupt_echo only"
fi
t_pass
