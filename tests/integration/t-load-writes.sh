#!/usr/bin/env bash
# Description: iolab-load's write patterns (labs/tools/load/writes.c) and -f fixed:N.
# Every pattern must still echo-verify, and the write calls must be what the flag
# says: --split header two per message, --writev one, --split 7 ceil(wire/7),
# --coalesce 4 at most one per 4 messages, --split random more than one per message.
# Nagle: --nagle --split header (write-write-read) stalls on the delayed ACK: p50
# at least 5 ms (about 40 ms on Linux; a slower machine only makes it longer, so the
# bound cannot fail for lack of speed).  -f fixed:N against a raw server verifies.
# Bad combinations exit 2.
. "${IOLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$IOLAB_ROOT/tests/integration/t-load-lib.sh"
[ -x "$IOLAB_BIN/echo-epoll-lt" ] || t_fail "no $IOLAB_BIN/echo-epoll-lt: run make"

t_start_server echo-epoll-lt -q
N=200
# run_n FLAGS...: 2 connections x N messages, must verify; sets MSGS and WRITES.
run_n() {
	load "$T_PORT" -c 2 -n $N "$@"
	[ $RC -eq 0 ] || t_fail "$*: exit $RC: $ERR $OUT"
	MSGS=$(jget "$OUT" messages)
	WRITES=$(jget "$OUT" write_calls)
	[ "$MSGS" = $((2 * N)) ] || t_fail "$*: $MSGS messages, expected $((2 * N))"
	t_log "  $*: $WRITES write calls for $MSGS messages"
}

run_n
[ "$WRITES" = "$MSGS" ] || t_fail "default: $WRITES writes for $MSGS messages (one each expected)"
run_n --split header
[ "$WRITES" -ge $((2 * MSGS)) ] || t_fail "--split header: $WRITES writes, want >= $((2 * MSGS))"
grep -q '"split":"header"' <<<"$OUT" || t_fail "--split header not in the JSON: $OUT"
run_n --split header --writev
[ "$WRITES" = "$MSGS" ] || t_fail "--writev: $WRITES calls for $MSGS messages (one each expected)"
run_n --split 7 -s 128                  # 132 wire bytes: 19 writes of <= 7 bytes each
[ "$WRITES" -ge $((19 * MSGS)) ] || t_fail "--split 7: $WRITES writes, want >= $((19 * MSGS))"
run_n --split random
[ "$WRITES" -gt "$MSGS" ] || t_fail "--split random: $WRITES writes for $MSGS messages (never cut?)"
run_n --coalesce 4 -d 4
[ "$WRITES" -le $((MSGS / 4 + 2)) ] || t_fail "--coalesce 4: $WRITES writes for $MSGS messages"
run_n --nagle                           # Nagle alone, one write per message: no stall to see
grep -q '"nagle":true' <<<"$OUT" || t_fail "--nagle not in the JSON: $OUT"

# Write-write-read with Nagle on: the body waits for the header's delayed ACK.
load "$T_PORT" -c 1 -n 20 --nagle --split header
[ $RC -eq 0 ] || t_fail "--nagle --split header: exit $RC: $ERR"
p50=$(jget "$(jobj "$OUT" latency_us)" p50)
fcmp "$p50" '>=' 5000 || t_fail "--nagle --split header: p50 $p50 us, expected the ~40 ms delayed-ACK stall"
t_log "  --nagle --split header: p50 $p50 us (the delayed-ACK stall)"
t_stop "$T_PID"

# -f fixed:N: a raw server echoes any stream; the client counts frames by size.
t_start_server echo-epoll-lt -q -f raw
load "$T_PORT" -c 2 -n $N -f fixed:100 --split random
[ $RC -eq 0 ] || t_fail "-f fixed:100 against a raw server: exit $RC: $ERR"
grep -q '"framing":"fixed:100","size":100' <<<"$OUT" || t_fail "fixed:100 not in the JSON: $OUT"
t_stop "$T_PID"

bad -p 1 --writev
bad -p 1 --split
bad -p 1 --split sideways
bad -p 1 --split 0
bad -p 1 --split 7 -m tiny
bad -p 1 --coalesce 4
bad -p 1 --coalesce 4 -d 4 --split header
bad -p 1 --coalesce 0
bad -p 1 -f fixed
bad -p 1 -f fixed:0
bad -p 1 -f fixed:10 -s 20
bad -p 1 -f fixed:10 --size-min 1 --size-max 10
bad -p 1 --nagle=yes
"$LOAD" --help | grep -q -- '--nagle' || t_fail "--help does not list --nagle"
t_pass
