#!/usr/bin/env bash
# Description: lab 8 — IOCB_CMD_PREAD on a socket blocks inside io_submit(): with
# `echo-aio --pread`, client A idling for 1 s holds up client B, and blocked_ns shows
# about that second.  Plain echo-aio (IOCB_CMD_POLL) serves B at once and hardly blocks.
# And --pread still stops on SIGTERM however its blocking calls are stuck.
. "$(dirname "$0")/../lib.sh"
tool=$IOLAB_BIN/tests/lab_tool
[ -x "$tool" ] || t_fail "$tool not built (make bin/tests/lab_tool)"

counter() { "$tool" counters "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
event()   { "$tool" events "$1" | awk -v k="$2" -v f="$3" '$1 == k { for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == f) print a[2] } }'; }
IDLE_MS=1000

# A connects and idles IDLE_MS; B connects 200 ms later and sends at once.
stall() { "$tool" stall "$1" "$IDLE_MS" | sed -n 's/^b_wait_ms=//p'; }

t_start_server echo-aio -q --pread
wait_pread=$(stall "$T_PORT")
[ -n "$wait_pread" ] || t_fail "stall client failed against --pread"
blocked_pread=$(counter "$T_PID" blocked_ns)
nblocked=$(event "$T_PID" blocked count)
maxblocked=$(event "$T_PID" blocked max)
t_log "--pread: B waited ${wait_pread} ms; blocked_ns=$blocked_pread; blocked events=${nblocked:-0}, longest ${maxblocked:-0} ns"
# Nothing left running after Ctrl-C: SIGTERM while blocking PREADs wait on three idle peers...
exec 3<>"/dev/tcp/127.0.0.1/$T_PORT" 4<>"/dev/tcp/127.0.0.1/$T_PORT" 5<>"/dev/tcp/127.0.0.1/$T_PORT"
sleep 0.3
t_stop "$T_PID" || t_fail "echo-aio --pread exited with status $? on SIGTERM with idle clients (5 s allowed)"
exec 3>&- 4>&- 5>&-
# ...and while a blocking write() waits on a peer that does not read its 8 MiB echo.
t_start_server echo-aio -q --pread --max-frame 16M
t_spawn "$tool" hog "$T_PORT" $((8 << 20)) 10000
sleep 1
t_stop "$T_PID" || t_fail "echo-aio --pread exited with status $? on SIGTERM while writing to a stuck peer"

t_start_server echo-aio -q
wait_poll=$(stall "$T_PORT")
[ -n "$wait_poll" ] || t_fail "stall client failed against plain echo-aio"
blocked_poll=$(counter "$T_PID" blocked_ns)
submits=$(counter "$T_PID" submits)
completions=$(counter "$T_PID" completions)
ncompl=$(event "$T_PID" completion count)
wait_call=$("$tool" counters "$T_PID" | awk '$1 == "wait_call" { print $2 }')
t_log "POLL:    B waited ${wait_poll} ms; blocked_ns=$blocked_poll; submits=$submits completions=$completions"
t_stop "$T_PID" || t_fail "echo-aio exited with status $? after SIGTERM"

# The lesson: with --pread, B is not served while A idles, and the time is inside io_submit.
[ "$wait_pread" -ge $((IDLE_MS / 2)) ] || t_fail "--pread served B after ${wait_pread} ms while A idled ${IDLE_MS} ms"
[ "$blocked_pread" -ge $((IDLE_MS / 2 * 1000000)) ] || t_fail "--pread blocked_ns=$blocked_pread, want about ${IDLE_MS} ms"
[ "${nblocked:-0}" -ge 1 ] || t_fail "--pread logged no blocked event"
# Plain AIO: the same clients, no stall (compared with the run above, not with a clock).
[ "$wait_poll" -lt $((wait_pread / 2)) ] || t_fail "plain echo-aio made B wait ${wait_poll} ms (--pread: ${wait_pread} ms)"
[ "$blocked_poll" -lt $((blocked_pread / 10)) ] || t_fail "plain echo-aio blocked_ns=$blocked_poll is not far below --pread's $blocked_pread"
[ "$submits" -gt 0 ] && [ "$completions" -gt 0 ] || t_fail "submits=$submits completions=$completions"
[ "${ncompl:-0}" -gt 0 ] || t_fail "no completion events logged"
[ "$wait_call" = io_getevents ] || t_fail "wait_call is '$wait_call', want io_getevents"
t_pass
