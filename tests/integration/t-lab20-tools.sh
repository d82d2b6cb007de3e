#!/usr/bin/env bash
# Description: lab 20's two programs: iolab-interleave (two threads writing one socket:
# the reader sees each writer's bytes in order but the two writes cut into interleaved
# runs; one writer: two whole runs) and iolab-handover (times connect -> first echo; fails
# with exit 1 when nothing listens).  --help exits 0, bad flags exit 2.
. "${IOLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

for b in iolab-interleave iolab-handover echo-reactors; do
	[ -x "$IOLAB_BIN/$b" ] || t_fail "build bin/$b first (make)"
done
il=$IOLAB_BIN/iolab-interleave ho=$IOLAB_BIN/iolab-handover
"$il" --help >/dev/null || t_fail "iolab-interleave --help"
"$ho" --help >/dev/null || t_fail "iolab-handover --help"
for bad in "--size 0" "--size 1X" "--threads 3" "--repeat 0" "extra"; do
	# shellcheck disable=SC2086
	"$il" $bad >/dev/null 2>&1; rc=$?
	[ $rc -eq 2 ] || t_fail "iolab-interleave $bad exited $rc, want 2"
done
for bad in "" "-p 0" "-p 1 -n 0" "-p 1 --gap-ms -1"; do
	# shellcheck disable=SC2086
	"$ho" $bad >/dev/null 2>&1; rc=$?
	[ $rc -eq 2 ] || t_fail "iolab-handover $bad exited $rc, want 2"
done

# Whether a write is cut is a race (who gets the socket lock when room frees): 5 rounds.
timeout 60 "$il" --repeat 5 --json >"$T_TMP/il.json" || t_fail "iolab-interleave: bytes lost or out of order: $(cat "$T_TMP/il.json")"
runs=$(jq -c .runs "$T_TMP/il.json")
[ "$(jq -r .in_order "$T_TMP/il.json")" = true ] || t_fail "bytes lost or out of order: $(cat "$T_TMP/il.json")"
[ "$(jq -r .interleaved "$T_TMP/il.json")" -ge 1 ] ||
	t_fail "two 8 MiB writes from two threads arrived whole in 5 rounds out of 5: $(cat "$T_TMP/il.json")"
timeout 30 "$il" --threads 1 --json >"$T_TMP/solo.json" || t_fail "iolab-interleave --threads 1 failed"
[ "$(jq -c .runs "$T_TMP/solo.json")" = "[2]" ] || t_fail "one writer: want 2 runs: $(cat "$T_TMP/solo.json")"

t_start_server echo-reactors -f line -q
timeout 30 "$ho" -p "$T_PORT" -n 4 --gap-ms 5 --json >"$T_TMP/ho.json" || t_fail "iolab-handover against echo-reactors failed"
[ "$(jq -r '.samples == 4 and .min_us > 0 and .min_us <= .p50_us and .p50_us <= .max_us' "$T_TMP/ho.json")" = true ] ||
	t_fail "iolab-handover's figures do not add up: $(cat "$T_TMP/ho.json")"
port=$T_PORT
t_stop "$T_PID" || t_fail "echo-reactors exited $? on SIGTERM"
"$ho" -p "$port" -n 1 --gap-ms 0 >/dev/null 2>&1; rc=$?
[ $rc -eq 1 ] || t_fail "iolab-handover with nothing listening exited $rc, want 1"
t_pass "interleave: runs $runs from two writers, 2 from one; handover: $(jq -c . "$T_TMP/ho.json")"
