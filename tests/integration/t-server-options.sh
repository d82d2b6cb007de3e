#!/usr/bin/env bash
# Description: every server takes the common flags plus its model's own (struct model's
# option table) and nothing else: a model's option is refused by the others (exit 2,
# naming --help), and the telemetry header lists only the options that apply to it
# (the viewer shows that line as it is).
. "$(dirname "$0")/../lib.sh"
opts() { "$IOLAB_BIN/iolab-stat" --json "$1" | jq -r .options; }

"$IOLAB_BIN/echo-epoll-lt" --budget 1K >/dev/null 2>"$T_TMP/err"; rc=$?
[ $rc = 2 ] || t_fail "echo-epoll-lt --budget exited $rc, want 2 (not an option of that model)"
grep -q -- '--help' "$T_TMP/err" || t_fail "the refusal does not point at --help: $(cat "$T_TMP/err")"
"$IOLAB_BIN/echo-blocking" --high-water 1M >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || t_fail "echo-blocking --high-water exited $rc, want 2"
"$IOLAB_BIN/echo-epoll-et" --budget 12x >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || t_fail "echo-epoll-et --budget 12x exited $rc, want 2 (bad size)"
"$IOLAB_BIN/echo-epoll-et" --help | grep -q -- '--budget BYTES' || t_fail "echo-epoll-et --help does not list --budget"

t_start_server echo-epoll-et --budget 4K -q
o=$(opts "$T_PID"); t_log "echo-epoll-et: $o"
[[ $o == *"budget=4096"* && $o == *"high-water="* ]] || t_fail "epoll-et options '$o' lack budget=4096 or high-water"
t_stop "$T_PID" || t_fail "echo-epoll-et did not stop cleanly"
t_start_server echo-epoll-lt -q
o=$(opts "$T_PID"); t_log "echo-epoll-lt: $o"
[[ $o == *budget* || $o == *sleep-us* ]] && t_fail "epoll-lt publishes another model's options: '$o'"
t_stop "$T_PID" || t_fail "echo-epoll-lt did not stop cleanly"
t_start_server echo-blocking -q --iterative
o=$(opts "$T_PID"); t_log "echo-blocking: $o"
[[ $o == *high-water* ]] && t_fail "blocking publishes high-water, which it does not take: '$o'"
[[ $o == *iterative* ]] || t_fail "blocking --iterative is not in its options: '$o'"
t_stop "$T_PID" || t_fail "echo-blocking did not stop cleanly"
t_pass
