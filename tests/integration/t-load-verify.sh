#!/usr/bin/env bash
# Description: iolab-load checks every echoed byte.  Against tests/integration/corrupt_echo:
# an honest echo verifies in all three framings; a flipped byte, a frame cut short
# (len32 length field, line '\n'), and a close mid-message are each caught, counted
# in the right class, reported with connection and stream offset, and exit 1.
. "${IOLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

. "$IOLAB_ROOT/tests/integration/t-load-lib.sh"
jerr() { jobj "$1" errors; }

# 1. An honest server verifies, in every framing.
for f in len32 line raw; do
	start_corrupt -f "$f"
	load "$T_PORT" -f "$f" -c 3 -d 2 -n 300
	[ $RC -eq 0 ] || t_fail "honest $f echo: exit $RC: $ERR"
	grep -q '"ok":true' <<<"$OUT" || t_fail "honest $f echo: not ok: $OUT"
	[ "$(jget "$OUT" messages)" = 900 ] || t_fail "honest $f echo: expected 900 messages: $OUT"
	t_stop "$T_PID"
done

# 2. One flipped bit in every 1000 bytes: the first is at stream offset 999.  With
#    len32 frames of 4 + 128 bytes that is message 7 (offsets 924..1055), byte 75.
start_corrupt --corrupt-every 1000
load "$T_PORT" -c 4 -t 1
[ $RC -eq 1 ] || t_fail "corruption: exit $RC, expected 1"
m=$(jget "$(jerr "$OUT")" mismatch)
[ "${m:-0}" -ge 1 ] || t_fail "corruption not counted as mismatch: $OUT"
grep -q 'mismatch: conn [0-9]* (echo): stream offset 999 (message 7, byte 75 of 132)' <<<"$ERR" ||
	t_fail "corruption report does not name conn/offset/message: $ERR"
grep -q '"ok":false' <<<"$OUT" || t_fail "corruption: ok is not false"
t_stop "$T_PID"

# Same in raw framing with variable sizes: found by stream offset alone.
start_corrupt -f raw --corrupt-every 5000
load "$T_PORT" -f raw --size-min 1 --size-max 300 -c 2 -d 3 -t 1
[ $RC -eq 1 ] || t_fail "raw corruption: exit $RC, expected 1"
grep -q 'stream offset 4999 ' <<<"$ERR" || t_fail "raw corruption: offset 4999 not reported: $ERR"
t_stop "$T_PID"

# 3. Every 5th frame one byte short: a "short" echo, not a generic mismatch.
start_corrupt --short-every 5
load "$T_PORT" -c 2 -t 1
[ $RC -eq 1 ] || t_fail "short len32: exit $RC"
[ "$(jget "$(jerr "$OUT")" short)" -ge 1 ] || t_fail "short len32 not counted as short: $OUT"
grep -q "length field says 127 bytes, 128 were sent" <<<"$ERR" || t_fail "short len32 report: $ERR"
t_stop "$T_PID"

start_corrupt -f line --short-every 5
load "$T_PORT" -f line -c 2 -t 1
[ $RC -eq 1 ] || t_fail "short line: exit $RC"
[ "$(jget "$(jerr "$OUT")" short)" -ge 1 ] || t_fail "short line not counted as short: $OUT"
grep -q "line ends after 127 of 128 payload bytes" <<<"$ERR" || t_fail "short line report: $ERR"
t_stop "$T_PID"

# 4. The server closes after 1000 bytes, in the middle of message 7 (raw, 128 B).
start_corrupt -f raw --close-after 1000
load "$T_PORT" -f raw -c 1 -t 1
[ $RC -eq 1 ] || t_fail "close mid-message: exit $RC"
[ "$(jget "$(jerr "$OUT")" short)" = 1 ] || t_fail "close mid-message not counted as short: $OUT"
grep -q "closed after 104 of the 128 bytes of message 7" <<<"$ERR" || t_fail "close report: $ERR"
t_stop "$T_PID"

# 5. The load generator itself is not fooled by a server that echoes nothing wrong
#    but slowly: a delay is not an error.
start_corrupt --delay-every 3 --delay-us 2000
load "$T_PORT" -c 2 -n 30
[ $RC -eq 0 ] || t_fail "slow but honest server flagged: $ERR"
t_pass
