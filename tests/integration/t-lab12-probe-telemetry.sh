#!/usr/bin/env bash
# Description: bin/iolab-probe publishes what it saw: one tm_probe record per
# observation, equal to its --json output, in a segment of kind "probe" that stays
# while --hold lasts and is gone after Ctrl-C (SIGINT).  --no-stats publishes nothing.
. "$IOLAB_ROOT/tests/lib.sh"

probe=$IOLAB_BIN/iolab-probe stat=$IOLAB_BIN/iolab-stat
[ -x "$probe" ] && [ -x "$stat" ] || t_fail "build bin/iolab-probe and bin/iolab-stat first (make)"

out=$T_TMP/probe.json
"$probe" --json --hold 30 >"$out" 2>"$T_TMP/probe.err" &
pid=$!
T_PIDS+=("$pid")
for _ in $(seq 1 100); do
	grep -q '^]}' "$out" 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || { cat "$T_TMP/probe.err" >&2; t_fail "the probe exited early"; }
	sleep 0.1
done
grep -q '^]}' "$out" || t_fail "no complete --json output within 10 s"
seg=$(t_segment "$pid")
[ -n "$seg" ] || t_fail "no /dev/shm/$IOLAB_SHM_PREFIX.*.$pid segment while the probe holds"
case $seg in */"$IOLAB_SHM_PREFIX".probe."$pid") ;; *) t_fail "segment $seg is not named <prefix>.probe.<pid>" ;; esac

"$stat" --probes "$pid" >"$T_TMP/stat" || t_fail "iolab-stat cannot read $seg"
grep -qx 'kind probe' "$T_TMP/stat" || t_fail "segment kind is not probe: $(grep ^kind "$T_TMP/stat")"
grep -qx 'model probe' "$T_TMP/stat" || t_fail "segment model is not probe"

# Every JSON observation, in order, must be the record with the same index.
i=0
while IFS= read -r line; do
	mech=$(sed -n 's/.*"mech":"\([^"]*\)".*/\1/p' <<<"$line")
	reg=$(sed -n 's/.*"registered":\([0-9]*\).*/\1/p' <<<"$line")
	mask=$(sed -n 's/.*"mask":\([0-9]*\).*/\1/p' <<<"$line")
	soe=$(sed -n 's/.*"so_error":\([-0-9]*\).*/\1/p' <<<"$line")
	rec=$(sed -n "s/^probe\\.$i //p" "$T_TMP/stat")
	[ -n "$rec" ] || t_fail "no probe record $i for: $line"
	IFS='|' read -r _label rmech rreg rmask rsoe <<<"$rec"
	[ "$rmech" = "$mech" ] && [ $((rreg)) -eq "$reg" ] && [ $((rmask)) -eq "$mask" ] && [ "$rsoe" -eq "$soe" ] ||
		t_fail "record $i ($rec) differs from the JSON ($mech reg $reg mask $mask so_error $soe)"
	i=$((i + 1))
done < <(grep '^{"case":' "$out")
[ "$i" -gt 0 ] || t_fail "no observations in the JSON"
nrec=$(grep -c '^probe\.' "$T_TMP/stat")
[ "$nrec" -eq "$i" ] || t_fail "$nrec probe records, $i observations"
t_log "$i records match the JSON output"

# Counters: two waits per observation; one event per wait that did not time out.
waits=$(sed -n 's/^wait_calls //p' "$T_TMP/stat")
events=$(sed -n 's/^events //p' "$T_TMP/stat")
fired=$(grep -c '"timed_out":false' "$out")
[ "$waits" -eq $((2 * i)) ] || t_fail "wait_calls $waits, want 2 x $i"
[ "$events" -eq "$fired" ] || t_fail "events $events, but $fired first waits reported something"

# Ctrl-C ends the hold: exit 0, segment removed.
kill -INT "$pid"
for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && t_fail "the probe is still running 5 s after SIGINT"
wait "$pid"; rc=$?
[ "$rc" -eq 0 ] || t_fail "the probe exited $rc after SIGINT during --hold, want 0"
[ -e "$seg" ] && t_fail "$seg is still there after the probe exited"

# --no-stats: nothing published (and so nothing to hold: it exits when done).
"$probe" --no-stats --json --hold 30 >"$T_TMP/nostats.json" 2>/dev/null &
pid=$!
T_PIDS+=("$pid")
for _ in $(seq 1 100); do
	[ -z "$(t_segment "$pid")" ] || t_fail "--no-stats, yet a segment exists: $(t_segment "$pid")"
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
kill -0 "$pid" 2>/dev/null && t_fail "--no-stats --hold 30: still running after 5 s (nothing to hold)"
wait "$pid" || t_fail "--no-stats run exited $?"
grep -q '^]}' "$T_TMP/nostats.json" || t_fail "--no-stats: no JSON output"

t_pass "probe telemetry: $i records = JSON, counters consistent, segment removed on SIGINT"
