#!/usr/bin/env bash
# Description: lab 7 — echo-sigio takes one queued real-time signal per event, and when
# that queue overflows (RLIMIT_SIGPENDING) it falls back to a poll() scan: the echo stays
# correct and sigq_overflow / overflow events count the fallbacks.  SIGINT ends it cleanly.
. "$(dirname "$0")/../lib.sh"
tool=$IOLAB_BIN/tests/lab_tool
[ -x "$tool" ] || t_fail "$tool not built (make bin/tests/lab_tool)"

counter() { "$tool" counters "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
event()   { "$tool" events "$1" | awk -v k="$2" -v f="$3" '$1 == k { for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == f) print a[2] } }'; }

# 50 clients x 20 frames, one write each, all at once: about a thousand readiness events.
load() { "$tool" flood "$1" 50 20 1000 >/dev/null || t_fail "echo wrong or missing ($2)"; }

# 1. The default queue (ulimit -i: tens of thousands) holds it all: one signal per event.
t_start_server echo-sigio -q
load "$T_PORT" "default signal queue"
ovf=$(counter "$T_PID" sigq_overflow)
frames=$(counter "$T_PID" frames_in)
nsig=$(event "$T_PID" signal count)
band=$(event "$T_PID" signal or)
t_log "default queue: frames_in=$frames signals=${nsig:-0} sigq_overflow=$ovf band bits seen=$band"
[ "$frames" = 1000 ] || t_fail "frames_in=$frames, want 1000"
[ "$ovf" = 0 ] || t_fail "sigq_overflow=$ovf with a queue of $(ulimit -i): nothing should overflow"
[ "${nsig:-0}" -gt 0 ] || t_fail "no signal events logged (EV_SIGNAL with si_band)"
(( band & 1 )) || t_fail "no signal's si_band had POLLIN (bits seen: $band)"
t_stop "$T_PID" || t_fail "echo-sigio exited with status $? after SIGTERM"

# 2. A queue with room for only 8 more signals.  RLIMIT_SIGPENDING counts every signal
# queued for this user (SigQ in /proc/self/status), so the limit is set relative to that.
used=$(awk '/^SigQ:/ { split($2, a, "/"); print a[1] }' /proc/self/status)
ulimit -S -i $((used + 8)) || t_skip "cannot lower RLIMIT_SIGPENDING (ulimit -i)"
t_start_server echo-sigio -q
load "$T_PORT" "with the signal queue overflowing"
ovf=$(counter "$T_PID" sigq_overflow)
scanned=$(counter "$T_PID" scanned)
frames=$(counter "$T_PID" frames_in)
nevt=$(event "$T_PID" overflow count)
t_log "queue limit $((used + 8)): frames_in=$frames sigq_overflow=$ovf scanned=$scanned overflow events=${nevt:-0}"
[ "$frames" = 1000 ] || t_fail "frames_in=$frames, want 1000"
[ "$ovf" -gt 0 ] || t_fail "sigq_overflow=0 with a queue of 8: the SIGIO fallback never ran"
[ "$scanned" -gt 0 ] || t_fail "scanned=0: an overflow must be followed by a poll() scan"
[ "${nevt:-0}" -gt 0 ] || t_fail "no overflow event in the log"

# The stop signals come through the same sigwaitinfo(): SIGINT must end it with status 0.
kill -INT "$T_PID"
for _ in $(seq 1 50); do kill -0 "$T_PID" 2>/dev/null || break; sleep 0.1; done
wait "$T_PID"; rc=$?
[ "$rc" = 0 ] || t_fail "echo-sigio exited with status $rc after SIGINT"
[ -z "$(t_segment "$T_PID")" ] || t_fail "telemetry segment left behind"
t_pass
