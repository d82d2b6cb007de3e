#!/usr/bin/env bash
# Description: iolab-load's numbers are right.  (1) Percentiles on a known latency
# distribution: a server that holds exactly every 20th frame for 20 ms gives a fast
# p50 and p90 and a p99 and max of at least 20 ms.  (2) Coordinated omission: one
# 300 ms stall shows in the open loop's p90 (every message due during the stall
# waited), while the closed loop hides it below p99.9.  (3) Open-loop rate holds
# within 5 %, over one and two threads.  Only directions and ratios are asserted,
# never absolute speed.
. "${IOLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$IOLAB_ROOT/tests/integration/t-load-lib.sh"

# 1. Known distribution: 400 messages, one connection, depth 1; frames 20, 40, ...
#    wait 20 ms in the server.  5 % slow: p50 and p90 fast, p99 slow.
start_corrupt --delay-every 20 --delay-us 20000
load "$T_PORT" -c 1 -n 400
[ $RC -eq 0 ] || t_fail "delay run failed: $ERR"
lat=$(jobj "$OUT" latency_us)
p50=$(jget "$lat" p50) p90=$(jget "$lat" p90) p99=$(jget "$lat" p99) max=$(jget "$lat" max)
t_log "delay run: p50 $p50 p90 $p90 p99 $p99 max $max (us)"
[ "$(jget "$lat" count)" = 400 ] || t_fail "expected 400 latency samples: $lat"
fcmp "$p99" '>=' 20000 || t_fail "p99 $p99 us < the 20 ms every 20th message waited"
fcmp "$max" '>=' 20000 || t_fail "max $max us < 20 ms"
fcmp "$p50" '<' 10000 || t_fail "p50 $p50 us: the fast 95 % should be well under 10 ms"
fcmp "$p90" '<' 10000 || t_fail "p90 $p90 us: 95 % of messages are fast, p90 must be too"
fcmp "$p99" '<' "$(awk -v m="$max" 'BEGIN{print m * 1.01 + 1}')" || t_fail "p99 $p99 above max $max"
# The mean is 5 % x 20 ms = 1 ms plus the fast messages: at least 1 ms.
fcmp "$(jget "$lat" mean)" '>=' 1000 || t_fail "mean $(jget "$lat" mean) us < 1 ms"
t_stop "$T_PID"

# 2. Coordinated omission.  The server stalls 300 ms once, at frame 300.
start_corrupt --stall-after 300 --stall-ms 300
load "$T_PORT" -c 1 -r 1000 -t 1
[ $RC -eq 0 ] || t_fail "open-loop stall run failed: $ERR"
open_p90=$(jget "$(jobj "$OUT" latency_us)" p90)
t_stop "$T_PID"
start_corrupt --stall-after 300 --stall-ms 300
load "$T_PORT" -c 1 -t 1
[ $RC -eq 0 ] || t_fail "closed-loop stall run failed: $ERR"
closed=$(jobj "$OUT" latency_us)
closed_p90=$(jget "$closed" p90)
t_stop "$T_PID"
t_log "stall: open-loop p90 $open_p90 us, closed-loop p90 $closed_p90 us, closed max $(jget "$closed" max) us"
# About 30 % of the open loop's messages were due during the stall; the slowest
# third of them waited 200-300 ms.  So p90 >= ~200 ms; ask for 100.
fcmp "$open_p90" '>=' 100000 || t_fail "open loop hides the stall: p90 $open_p90 us"
fcmp "$(jget "$closed" max)" '>=' 290000 || t_fail "closed loop did not see the stall at all"
fcmp "$closed_p90" '<' "$(awk -v o="$open_p90" 'BEGIN{print o / 10}')" ||
	t_fail "closed loop p90 $closed_p90 us not far below open loop's $open_p90 us"

# 3. Open-loop rate: 2 s at 1000/s and 3000/s (10 connections; one and two threads).
start_corrupt
for spec in "1000 1" "3000 2"; do
	set -- $spec
	load "$T_PORT" -c 10 -T "$2" -r "$1" -t 2
	[ $RC -eq 0 ] || t_fail "rate $1: $ERR"
	got=$(jget "$OUT" msgs_per_s)
	t_log "rate $1 over $2 thread(s): $got msg/s"
	fcmp "$got" '>=' "$(awk -v r="$1" 'BEGIN{print r * 0.95}')" || t_fail "rate $1: only $got msg/s"
	fcmp "$got" '<=' "$(awk -v r="$1" 'BEGIN{print r * 1.05}')" || t_fail "rate $1: $got msg/s, too many"
	# Each of the 10 connections gets its share of the schedule.
	fcmp "$(jget "$(jobj "$OUT" fairness)" jain)" '>=' 0.99 || t_fail "rate $1: uneven: $OUT"
done
t_pass
