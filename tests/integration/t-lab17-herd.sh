#!/usr/bin/env bash
# Description: lab 17's claims, straight from bin/iolab-herd (8 workers, 10 connections one
# at a time): with an epoll instance per worker the kernel wakes every worker for every
# connection (voluntary context switches ~ 80); EPOLLEXCLUSIVE, one shared ET instance and
# blocking accept() wake about one; the mutex around epoll_wait and SO_REUSEPORT leave no
# empty wakeup, and SO_REUSEPORT spreads the connections.  --bug=no-exclusive must show the
# herd again.  --serve prints one line per connection and stops its workers on SIGTERM.
. "$IOLAB_ROOT/tests/lib.sh"
. "$IOLAB_ROOT/tests/labcheck.sh"

P=$IOLAB_BIN/iolab-herd
[ -x "$P" ] || t_skip "bin/iolab-herd is not built (make)"

# Counts, not timings: the driver waits until every woken worker is back asleep and the
# counters are still before the next connection, so a busy machine makes it slower, not
# wrong (no benchmark lock needed).
"$P" --json -w 8 -n 10 >"$T_TMP/h.json" 2>"$T_TMP/h.err" ||
	t_fail "iolab-herd exited $?: $(cat "$T_TMP/h.err")"
j=$T_TMP/h.json
t_want "$j" '[.modes[] | .accepts == 10] | all' "every mode accepted every connection"
t_want "$j" '.modes.separate.kernel_wakeups >= 60' "epoll per worker: the herd (every worker woken)"
t_want "$j" '.modes.exclusive.kernel_wakeups <= 20' "EPOLLEXCLUSIVE wakes about one"
t_want "$j" '.modes.shared_et.kernel_wakeups <= 20' "one shared ET instance wakes about one"
t_want "$j" '.modes.accept.wakeups == 10 and .modes.accept.empty == 0' "blocking accept() wakes one"
t_want "$j" '.modes.lock.empty == 0' "the mutex: no empty wakeup"
t_want "$j" '.modes.reuseport.empty == 0 and .modes.reuseport.workers_that_accepted >= 2' "SO_REUSEPORT spreads"
t_log "iolab-herd: $(jq -c '.modes | map_values([.wakeups, .empty, .kernel_wakeups])' "$j")"

# The broken variant: "exclusive" without EPOLLEXCLUSIVE is the herd again.
"$P" --json -w 8 -n 10 --mode exclusive --bug=no-exclusive >"$T_TMP/b.json" ||
	t_fail "iolab-herd --bug=no-exclusive exited $?"
t_want "$T_TMP/b.json" '.modes.exclusive.kernel_wakeups > 20' "--bug=no-exclusive must wake the herd"

t_usage_errors iolab-herd "-w 0" "--mode nope" "--bug=x" "--serve" "extra"

# --serve: one line per connection; SIGTERM stops the workers.
t_start_server iolab-herd --serve --mode separate -w 4
pids=$(sed -n 's/.*; pids \(.*\)$/\1/p' "$T_ERR")
[ -n "$pids" ] || t_fail "--serve printed no worker pids: $(cat "$T_ERR")"
nc -z 127.0.0.1 "$T_PORT" || t_fail "nc -z could not connect"
for _ in $(seq 1 50); do grep -q '^connection 1:' "$T_ERR" && break; sleep 0.1; done
# Every worker woken: at least 4 kernel wakeups (a busy machine can add one: a worker
# that blocks briefly elsewhere also counts a voluntary context switch).
kw=$(sed -n 's/^connection 1: .*, \([0-9]*\) kernel wakeups; accepted by worker.*/\1/p' "$T_ERR")
[ -n "$kw" ] && [ "$kw" -ge 4 ] ||
	t_fail "--serve did not report connection 1 with >= 4 kernel wakeups: $(cat "$T_ERR")"
"$IOLAB_BIN/iolab-stat" "$T_PID" >"$T_TMP/stat" 2>&1 || t_fail "iolab-stat $T_PID: $(cat "$T_TMP/stat")"
grep -qx 'accepts 1' "$T_TMP/stat" || t_fail "--serve telemetry: want accepts 1: $(grep -E '^(accepts|wait_calls|empty_wakeups) ' "$T_TMP/stat" | tr '\n' ' ')"
grep -q '^wait_calls [1-9]' "$T_TMP/stat" || t_fail "--serve telemetry: no wait_calls (wakeups)"
t_stop "$T_PID" || t_fail "iolab-herd --serve exited $? on SIGTERM (want 0)"
[ -z "$(t_segment "$T_PID")" ] || t_fail "--serve left its telemetry segment $(t_segment "$T_PID")"
for p in $pids; do
	kill -0 "$p" 2>/dev/null && t_fail "worker $p still running after the server stopped"
done
t_pass "lab 17 claims hold; --bug=no-exclusive brings the herd back"
