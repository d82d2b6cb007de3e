#!/usr/bin/env bash
# Description: lab 3 — echo-select refuses a connection that lands on a descriptor
# >= FD_SETSIZE (1024): closed at once, logged with the reason, counted in `refused`;
# the client sees a close, and every other client (an early one included) is echoed.
. "${IOLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

client=$IOLAB_BIN/tests/lab_client
for b in "$IOLAB_BIN/echo-select" "$client"; do
	[ -x "$b" ] || t_fail "build $b first (make)"
done

# 1200 connections push the server's descriptors well past 1023.  The server raises
# its own soft limit to the hard limit; the client (lab_client) does the same.
conns=1200
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt $((conns + 100)) ]; then
	t_skip "descriptor hard limit is $hard, need $((conns + 100)): raise it (ulimit -Hn 4096 as root, or LimitNOFILE= in the unit)"
fi

t_start_server echo-select
seg=$(t_segment "$T_PID")
[ -n "$seg" ] || t_fail "no telemetry segment for pid $T_PID"

timeout 60 "$client" fdfill "$T_PORT" $conns >"$T_TMP/fill" || t_fail "fdfill failed (see above)"
cat "$T_TMP/fill" >&2
# "connections N echoed E closed C early ok"
read -r _ n _ echoed _ closed _ <"$T_TMP/fill"
refused=$("$client" counters "$seg" refused | awk '{print $2}')
logged=$(grep -c 'refused: select() can only watch descriptors below FD_SETSIZE' "$T_ERR")
lowest=$(sed -n 's/.*fd \([0-9]*\) (port [0-9]*): refused.*/\1/p' "$T_ERR" | sort -n | head -1)
t_log "echoed $echoed, closed by the server $closed, counter refused=$refused, log lines $logged, lowest refused fd ${lowest:-none}"

[ "$closed" -gt 0 ] || t_fail "no connection was refused although $conns were open"
[ "$echoed" -gt 0 ] || t_fail "no connection was echoed"
[ $((echoed + closed)) -eq "$n" ] || t_fail "echoed + closed = $((echoed + closed)), want $n"
[ "$echoed" -lt 1024 ] || t_fail "$echoed connections echoed: more than select() can watch"
[ "$refused" -eq "$closed" ] || t_fail "refused counter $refused, but $closed clients saw a close"
# Logged, but rate-limited: one line a second with a count, not one line per refusal.
[ "$logged" -ge 1 ] && [ "$logged" -le 5 ] || t_fail "$logged 'refused' log lines for $closed refusals, want 1 to 5 (one a second)"
[ "$lowest" -ge 1024 ] || t_fail "refused fd $lowest, which is below FD_SETSIZE"

t_stop "$T_PID" || t_fail "echo-select exited $? on SIGTERM"
t_pass
