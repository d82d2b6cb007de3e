#!/usr/bin/env bash
# Description: lab 9 — echo-uring with the provided-buffer ring (detected at run time) and
# with --no-bufring: both echo many clients correctly, count submissions and completions,
# log completions with their result, and show the outstanding recv as EPOLLIN interest.
. "$(dirname "$0")/../lib.sh"
tool=$IOLAB_BIN/tests/lab_tool
[ -x "$tool" ] || t_fail "$tool not built (make bin/tests/lab_tool)"
why=$("$tool" uring-probe); [ $? = 77 ] && t_skip "$why"

counter() { "$tool" counters "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
event()   { "$tool" events "$1" | awk -v k="$2" -v f="$3" '$1 == k { for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == f) print a[2] } }'; }

# The buffer ring needs kernel 5.19+: on such a kernel it must be found.
kver=$(uname -r | awk -F. '{ print $1 * 1000 + $2 }')

for flags in "" "--no-bufring"; do
	t_start_server echo-uring $flags
	case $flags in
	"")	if grep -q 'provided buffers: a ring' "$T_ERR"; then mode=bufring
		elif [ "$kver" -ge 5019 ]; then t_fail "kernel $(uname -r) has buffer rings, echo-uring did not use one: $(cat "$T_ERR")"
		else mode=fallback; fi ;;
	*)	grep -q -- '--no-bufring: plain recv' "$T_ERR" || t_fail "--no-bufring not acknowledged: $(cat "$T_ERR")"
		mode=plain ;;
	esac
	# An idle client: its recv is outstanding, so the slot shows EPOLLIN interest.
	exec 3<>"/dev/tcp/127.0.0.1/$T_PORT" || t_fail "connect failed"
	for _ in $(seq 1 20); do
		slot=$("$tool" slots "$T_PID" | head -1)
		[[ $slot == *"interest=0x1 "* ]] && break
		sleep 0.1
	done
	[[ $slot == *"interest=0x1 "* ]] || t_fail "idle connection's slot: '$slot', want interest=0x1 (recv outstanding)"
	"$tool" flood "$T_PORT" 50 20 1000 >/dev/null || t_fail "echo wrong or missing ($mode)"
	exec 3>&-
	frames=$(counter "$T_PID" frames_in)
	submits=$(counter "$T_PID" submits)
	completions=$(counter "$T_PID" completions)
	reads=$(counter "$T_PID" read_calls)
	writes=$(counter "$T_PID" write_calls)
	eagain=$(counter "$T_PID" eagain_rd)
	waits=$(counter "$T_PID" wait_calls)
	ncompl=$(event "$T_PID" completion count)
	t_log "$mode: frames_in=$frames submits=$submits completions=$completions recv/send submitted=$reads/$writes io_uring_enter waits=$waits eagain_rd=$eagain"
	[ "$frames" = 1000 ] || t_fail "$mode: frames_in=$frames, want 1000"
	[ "$submits" -gt 0 ] && [ "$completions" -gt 0 ] || t_fail "$mode: submits=$submits completions=$completions"
	[ "$reads" -gt 0 ] && [ "$writes" -gt 0 ] || t_fail "$mode: read_calls=$reads write_calls=$writes"
	[ "$eagain" = 0 ] || t_fail "$mode: eagain_rd=$eagain: a Proactor never sees EAGAIN on a recv"
	[ "${ncompl:-0}" -gt 0 ] || t_fail "$mode: no completion events logged"
	t_stop "$T_PID" || t_fail "echo-uring $flags exited with status $? after SIGTERM"
done
t_pass
