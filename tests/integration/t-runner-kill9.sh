#!/usr/bin/env bash
# Description: nothing outlives run-lab.  In a tmux pane, `run-lab --duration 60 5`
# opens the viewer; a SIGKILL of run-lab must stop the viewer, the server and the
# guard, leave the terminal in its normal mode (icanon echo) and off the alternate
# screen, and remove the run directory.  Then, without a terminal, run-lab shows the
# server log with tail: a SIGKILL must stop that tail and the server too.
# Skips (77) only when tmux is not installed.
. "$IOLAB_ROOT/tests/lib.sh"

command -v tmux >/dev/null || t_skip "tmux is not installed (apt-get install tmux, or make deps)"
runlab=$IOLAB_ROOT/labs/tools/run-lab
for p in echo-epoll-lt iolab-view iolab-stat; do
	[ -x "$IOLAB_BIN/$p" ] || t_skip "bin/$p is not built (make)"
done
export IOLAB_SHM_PREFIX=iolabtest-k9$$ TMPDIR=$T_TMP
TM=(tmux -L "iolabtest-k9-$$" -f /dev/null)
k9_cleanup() { "${TM[@]}" kill-server 2>/dev/null; t_cleanup; }
trap k9_cleanup EXIT

ours() { ps -eo pid=,args= | grep -F -- "$1" | grep -v grep; }
# What run-lab started and may leave: servers and viewer (by our prefix in their
# environment), the log tail and the guard (by our private TMPDIR on their command line).
left() {
	{ ps -eo pid=,args= | grep -E "$IOLAB_BIN/(echo-epoll-lt|iolab-view)" | grep -v grep |
	  while read -r pid args; do
		tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "IOLAB_SHM_PREFIX=$IOLAB_SHM_PREFIX" &&
			echo "$pid $args"
	  done; ours "$T_TMP/iolab-"; } | sort -u
}
wait_gone() {   # wait_gone WHAT: up to 10 s for nothing of ours to be left
	for _ in $(seq 1 100); do [ -z "$(left)" ] && return 0; sleep 0.1; done
	left >&2
	t_fail "$1: left running after run-lab was SIGKILLed"
}

# 1. A terminal: the viewer draws over the pane.
{
	echo "export IOLAB_SHM_PREFIX=$IOLAB_SHM_PREFIX TMPDIR=$T_TMP"
	echo "'$runlab' --duration 60 5"
	echo 'rc=$?'
	# Like a shell prompt coming back: the modes are read once the guard has done its work.
	echo "for i in \$(seq 1 100); do pgrep -f '$T_TMP/iolab-' >/dev/null || break; sleep 0.1; done"
	echo 'echo "runlab-exit=$rc"'
	echo "stty -a | tr ' ;' '\\n\\n' | grep -E '^-?(icanon|echo)\$' | tr '\\n' ' '; echo '<modes'"
	echo 'sleep 600'
} >"$T_TMP/pane.sh"
"${TM[@]}" new-session -d -s k -x 100 -y 30 "bash $T_TMP/pane.sh" || t_fail "tmux cannot start a session"
screen() { "${TM[@]}" capture-pane -p -t k; }
viewer=''
for _ in $(seq 1 150); do
	viewer=$(ours "$IOLAB_BIN/iolab-view" | awk '{ print $1 }' | head -1)
	[ -n "$viewer" ] && screen | grep -q 'epoll-lt' && break
	sleep 0.1
done
[ -n "$viewer" ] || { screen >&2; t_fail "run-lab 5 in a pane never opened the viewer"; }
runner=$(ps -o ppid= -p "$viewer" | tr -d ' ')
ps -o args= -p "$runner" | grep -q run-lab || t_fail "the viewer's parent ($runner) is not run-lab"
kill -KILL "$runner"
wait_gone "with the viewer open"
for _ in $(seq 1 100); do screen | grep -q '<modes' && break; sleep 0.1; done
screen >&2
screen | grep -q 'runlab-exit=137' || t_fail "the pane's shell did not see run-lab die of SIGKILL"
screen | grep -q '^icanon echo <modes' || t_fail "the terminal was not put back in its normal mode (want 'icanon echo')"
screen | grep -q 'the guard stopped what it started' || t_fail "the guard did not say what it did"
alt=$("${TM[@]}" display -p -t k '#{alternate_on}')
[ "$alt" = 0 ] || t_fail "the pane is still on the alternate screen (the viewer's)"
ls -d "$T_TMP"/iolab-05-* 2>/dev/null && t_fail "the run directory was left behind"

# 2. No terminal: the server log is shown by tail.
"$runlab" --duration 60 5 >"$T_TMP/notty.out" 2>&1 &
runner=$!
for _ in $(seq 1 100); do ours "tail -n 0 -f $T_TMP/iolab-" | grep -q . && break; sleep 0.1; done
ours "tail -n 0 -f $T_TMP/iolab-" | grep -q . || { cat "$T_TMP/notty.out" >&2; t_fail "no server-log tail started"; }
kill -KILL "$runner"; wait "$runner" 2>/dev/null
wait_gone "without a terminal (the log tail)"
ls /dev/shm/"$IOLAB_SHM_PREFIX".* 2>/dev/null && t_fail "a telemetry segment was left behind"
t_pass "run-lab SIGKILLed: viewer, server, log tail and guard stopped; terminal sane"
