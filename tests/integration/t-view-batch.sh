#!/usr/bin/env bash
# Description: iolab-view --batch reports what a known workload did to a real
# server (bin/echo-epoll-lt): 3 connections x 50 frames of 1000 bytes give exactly
# 150600 bytes in and out, 150 frames, 3 connections of 50200 bytes each; a client
# that stops reading makes the server's writes hit EAGAIN, which shows in the
# counters, in eagain_wr_s over the interval it happened in, and on that
# connection (queued output, EAGAIN count).  Connections left ready and unserved
# (a fake segment: tests/integration/view_fake.c) count as starving and lower the
# fairness index.  Also: one JSON line per snapshot,
# --count/--interval, --pid, batch chosen when stdout is not a terminal, --help,
# and exit 2 with a message for bad flags.
. "$IOLAB_ROOT/tests/lib.sh"

view=$IOLAB_BIN/iolab-view load=$IOLAB_BIN/tests/view_load
[ -x "$view" ] && [ -x "$load" ] || t_fail "build bin/iolab-view and bin/tests/view_load first (make)"
[ -x "$IOLAB_BIN/echo-epoll-lt" ] || t_fail "build bin/echo-epoll-lt first (make)"
# Our own prefix: other tests' servers must not show up in our snapshots.
export IOLAB_SHM_PREFIX=iolabtest-vb$$
view_cleanup() {
	t_cleanup
	rm -f /dev/shm/"$IOLAB_SHM_PREFIX".*      # left only if a server had to be SIGKILLed
}
trap view_cleanup EXIT

# json_get LINE PATH: a value from one JSON line.  jq when present; otherwise sed,
# which knows just enough for the paths below (one server; counters.* looked up
# inside the counters object, since connections repeat some names).
json_get() {
	if command -v jq >/dev/null; then
		jq -r "$2" <<<"$1"
		return
	fi
	local obj=$1 key=${2##*.}
	case $2 in *counters.*) obj=$(sed 's/.*"counters":{\([^}]*\)}.*/\1/' <<<"$1") ;; esac
	sed -n "s/^{*\"$key\":\"*\([^,\"}]*\).*/\1/p; s/.*[{,]\"$key\":\"*\([^,\"}]*\).*/\1/p" <<<"$obj" | head -1
}

# --- flags -----------------------------------------------------------------
"$view" --help >"$T_TMP/help" || t_fail "--help exits $?"
grep -q -- '--batch' "$T_TMP/help" || t_fail "--help does not mention --batch"
for bad in "--bogus" "--count" "--count x" "--interval 0" "--pid -3" "stray"; do
	# shellcheck disable=SC2086
	"$view" --batch $bad >/dev/null 2>"$T_TMP/err"; rc=$?
	[ $rc -eq 2 ] || t_fail "'$bad' exits $rc, not 2"
	grep -q 'iolab-view: ' "$T_TMP/err" || t_fail "'$bad': no message on stderr"
done

# --- a known workload ------------------------------------------------------
t_start_server echo-epoll-lt
srv=$T_PID port=$T_PORT
t_spawn "$load" -p "$port" -c 3 -n 50 -s 1000 >"$T_TMP/load.out" 2>"$T_TMP/load.err"
for _ in $(seq 1 100); do grep -q '^done' "$T_TMP/load.out" && break; sleep 0.1; done
grep -q '^done conns=3 frames=150 bytes=150600$' "$T_TMP/load.out" ||
	t_fail "load client: $(cat "$T_TMP/load.out" "$T_TMP/load.err")"

# stdout is a file here: batch mode without asking for it.
"$view" --pid "$srv" --count 2 --interval 200 --conns >"$T_TMP/snap" 2>"$T_TMP/snap.err" ||
	t_fail "iolab-view exits $?: $(cat "$T_TMP/snap.err")"
[ "$(wc -l <"$T_TMP/snap")" -eq 2 ] || t_fail "--count 2 printed $(wc -l <"$T_TMP/snap") lines"
if command -v jq >/dev/null; then
	jq -e . "$T_TMP/snap" >/dev/null || t_fail "not JSON lines: $(head -c 300 "$T_TMP/snap")"
fi
line=$(tail -1 "$T_TMP/snap")
check() {   # check JQPATH EXPECTED
	local got
	got=$(json_get "$line" "$1")
	[ "$got" = "$2" ] || t_fail "$1 is '$got', expected $2"
}
check '.servers[0].pid' "$srv"
check '.servers[0].port' "$port"
check '.servers[0].model' epoll-lt
check '.servers[0].conns' 3
check '.servers[0].counters.accepts' 3
check '.servers[0].counters.bytes_in' 150600
check '.servers[0].counters.bytes_out' 150600
check '.servers[0].counters.frames_in' 150
if command -v jq >/dev/null; then
	[ "$(jq '.servers | length' <<<"$line")" = 1 ] || t_fail "--pid did not restrict the servers"
	[ "$(jq '[.servers[0].connections[] | select(.bytes_in == 50200 and .bytes_out == 50200)] | length' <<<"$line")" = 3 ] ||
		t_fail "not 3 connections of 50200 bytes each: $(jq -c '.servers[0].connections' <<<"$line")"
	[ "$(jq '.interval_s >= 0.15 and .interval_s < 2' <<<"$line")" = true ] || t_fail "interval_s is $(jq .interval_s <<<"$line")"
	[ "$(jq '.servers[0].msgs_s' <<<"$line")" = 0 ] || [ "$(jq '.servers[0].msgs_s' <<<"$line")" = "0.000" ] ||
		t_fail "an idle server shows $(jq .servers[0].msgs_s <<<"$line") msg/s"
fi

# --- a slow reader: the server's writes hit EAGAIN ---------------------------
# Snapshots whose intervals cover the moment the client stops reading.
"$view" --batch --pid "$srv" --count 3 --interval 1000 --conns >"$T_TMP/slow" 2>&1 &
vpid=$!
T_PIDS+=("$vpid")
sleep 0.5
t_spawn "$load" -p "$port" -c 1 -n 0 --slow 67108864 >"$T_TMP/slow.out" 2>"$T_TMP/slow.err"
for _ in $(seq 1 100); do grep -q '^slow' "$T_TMP/slow.out" && break; sleep 0.1; done
grep -q 'stuck=1' "$T_TMP/slow.out" || t_fail "the slow reader never got stuck: $(cat "$T_TMP/slow.out" "$T_TMP/slow.err")"
wait "$vpid" || t_fail "iolab-view (slow snapshot) exits $?"
line=$(tail -1 "$T_TMP/slow")
wr=$(json_get "$line" '.servers[0].counters.eagain_wr')
[ "${wr:-0}" -gt 0 ] || t_fail "no write EAGAIN counted with a client that does not read: $line"
check '.servers[0].conns' 5
if command -v jq >/dev/null; then
	[ "$(jq -s '[.[].servers[0].eagain_wr_s] | max > 0' "$T_TMP/slow")" = true ] ||
		t_fail "eagain_wr_s is $(jq -c '[.servers[0].eagain_wr_s]' "$T_TMP/slow") over the seconds the EAGAINs happened in"
	stuck=$(jq -c '[.servers[0].connections[] | select(.eagain_wr > 0 and .queued > 0)] | length' <<<"$line")
	[ "$stuck" -ge 1 ] || t_fail "no connection shows queued output and write EAGAIN: $(jq -c .servers[0].connections <<<"$line")"
	[ "$(jq '.servers[0].counters.bytes_in > 150600' <<<"$line")" = true ] || t_fail "the slow reader's bytes are not counted"
fi

# --- starvation: a segment whose every 50th connection is left ready and unserved
fake=$IOLAB_BIN/tests/view_fake
[ -x "$fake" ] || t_fail "build bin/tests/view_fake first (make)"
t_spawn "$fake" --conns 200 --hz 20 >"$T_TMP/fake.out"
fpid=$T_LAST
for _ in $(seq 1 50); do grep -q '^ready' "$T_TMP/fake.out" && break; sleep 0.1; done
"$view" --batch --pid "$fpid" --count 8 --interval 300 --starve 100 >"$T_TMP/fake" 2>&1 ||
	t_fail "iolab-view on the fake segment exits $?"
check_fake() {   # check_fake JQ-EXPRESSION-OVER-ALL-LINES WHAT
	[ "$(jq -s "$1" "$T_TMP/fake")" = true ] || t_fail "$2: $(jq -c '.servers[0] | [.conns, .starving, .starve_ms, .fairness]' "$T_TMP/fake" | tr '\n' ' ')"
}
if command -v jq >/dev/null; then
	check_fake 'all(.[]; .servers[0].conns == 200)' "not 200 connections"
	check_fake 'any(.[]; .servers[0].starving == 4 and .servers[0].starve_ms > 100)' \
		"the 4 connections left waiting were never counted as starving"
	check_fake 'any(.[]; .servers[0].fairness < 1)' "fairness stays 1 while 4 connections get nothing"
else
	grep -q '"starving":4,' "$T_TMP/fake" || t_fail "the 4 connections left waiting were never counted as starving"
fi

# --- a server that exits is reported, not fatal --------------------------------
"$view" --batch --pid "$srv" --count 8 --interval 250 >"$T_TMP/exit" 2>&1 &
vpid=$!
T_PIDS+=("$vpid")
sleep 0.4
t_stop "$srv" || t_fail "echo-epoll-lt did not exit 0 on SIGTERM"
wait "$vpid" || t_fail "iolab-view exits $? when its server exits"
grep -q '"status":"exited"' "$T_TMP/exit" || t_fail "the exit is not shown: $(tail -2 "$T_TMP/exit")"
grep -q 'epoll-lt pid '"$srv"' exited' "$T_TMP/exit" || t_fail "no note about the exit"
t_pass
