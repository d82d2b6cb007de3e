# lab-supervise.sh — the process supervisor of labs/tools/run-lab (sourced, not run).
#
# run-lab reads a scenario and says what to start; this file owns what was started:
#
#   sup_init LAB          make the run directory ($RUN), install the traps, start the guard
#   spawn BASE CMD...     CMD in a process group of its own, stdin closed, output to BASE.out/.err
#   spawn_shown CMD...    the same, but its output goes to run-lab's stdout (a log tail)
#   spawn_viewer CMD...   the viewer: run-lab's process group (it needs the terminal's keys)
#   stop_groups PGID...   SIGTERM, 3 s, SIGKILL; reap; remove their telemetry segments
#   cleanup               stop everything, restore the terminal, remove $RUN (the EXIT trap)
#   nap SECS              a sleep that a trapped signal interrupts
#
# Nothing outlives run-lab.  Every process group is listed in $RUN/pgids, the viewer's
# pid in $RUN/viewer and the terminal in $RUN/tty.  A guard process (`run-lab --guard
# PID RUN`, in a session of its own) watches run-lab: if run-lab dies without cleaning
# up -- SIGKILL -- the guard stops the viewer and the groups, puts the terminal back
# (stty sane, leave the alternate screen) and removes the run directory.
#
# The caller sets ME (program name) and PREFIX (telemetry prefix) and may set KEEP=1.

# ------------------------------------------------------------------ the guard
# restore_tty TTY: what endwin() would have done, for a viewer that could not.
restore_tty() {
	local tty=$1
	[ -n "$tty" ] && [ -w "$tty" ] || return 0
	stty sane <"$tty" 2>/dev/null
	{ tput rmcup; tput cnorm; } >"$tty" 2>/dev/null
	printf '\n%s: the lab was killed; the guard stopped what it started\n' "$ME" >"$tty" 2>/dev/null
	return 0
}

# guard_main RUNNER_PID RUN_DIR: poll the runner; when it is gone and RUN_DIR is not, clean up.
guard_main() {
	local runner=$1 run=$2 pgs pg viewer tty alive
	# (A killed runner may stay a zombie until its parent reaps it: that is gone too.)
	while kill -0 "$runner" 2>/dev/null && [ -d "$run" ] &&
		[ "$(ps -o stat= -p "$runner" 2>/dev/null | cut -c1)" != Z ]; do
		sleep 0.3
	done
	[ -d "$run" ] || exit 0
	viewer=$(cat "$run/viewer" 2>/dev/null)
	tty=$(cat "$run/tty" 2>/dev/null)
	pgs=$(cat "$run/pgids" 2>/dev/null)
	# The viewer first: on SIGTERM it ends curses itself (viewer/crt.c); SIGKILL if it must.
	if [ -n "$viewer" ] && kill -0 "$viewer" 2>/dev/null; then
		kill -TERM "$viewer" 2>/dev/null
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$viewer" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$viewer" 2>/dev/null
		restore_tty "$tty"
	fi
	for pg in $pgs; do kill -TERM -- "-$pg" 2>/dev/null; done
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
		alive=0
		for pg in $pgs; do group_alive "$pg" && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.2
	done
	for pg in $pgs; do
		kill -KILL -- "-$pg" 2>/dev/null
		rm -f /dev/shm/"$PREFIX".*."$pg"
	done
	rm -rf "$run"
	exit 0
}

# ------------------------------------------------------------------ starting
# A never-ready descriptor: `read -t` on it is a sleep that a trapped signal interrupts.
nap() { read -r -t "$1" -u "$SLEEP_FD" _; return 0; }

# In a child about to exec: close run-lab's own descriptors, so that a server's fds
# are numbered as in the lesson and a client's socket is not held open by a load.
close_our_fds() {
	local f n
	for f in /proc/"$BASHPID"/fd/*; do
		n=${f##*/}
		[ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-" 2>/dev/null
	done
	return 0
}

note_group() { PGIDS+=("$1"); echo "$1" >>"$RUN/pgids"; }

# spawn LOG_BASE CMD...: start CMD in a new session (its own process group), stdin closed.
# (The subshell execs setsid, which execs CMD: $! is CMD's pid and its process group.)
spawn() {
	local base=$1; shift
	( close_our_fds; exec setsid "$@" ) </dev/null >"$base.out" 2>"$base.err" &
	SPAWNED=$!
	note_group "$SPAWNED"
}

# spawn_shown CMD...: like spawn, output to our stdout (the server-log tail of lab mode).
spawn_shown() {
	( close_our_fds; exec setsid "$@" ) </dev/null &
	SPAWNED=$!
	note_group "$SPAWNED"
}

# spawn_viewer CMD...: the viewer stays in our process group, in the foreground of the
# terminal, reading keys from it; its pid and the terminal are noted for the guard.
spawn_viewer() {
	tty 2>/dev/null >"$RUN/tty" || : >"$RUN/tty"
	( close_our_fds; exec "$@" ) <&"$IN_FD" &
	VIEWER_PID=$!
	echo "$VIEWER_PID" >"$RUN/viewer"
}

# ------------------------------------------------------------------ stopping
# Does process group $1 still have a live member?  (A zombie is dead: it only waits
# to be reaped -- by init, for a grandchild whose parent we killed.)
group_alive() {
	kill -0 -- "-$1" 2>/dev/null || return 1
	ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

# Stop process groups: SIGTERM, up to 3 s, then SIGKILL; reap; remove their segments.
stop_groups() {
	local pg t alive
	[ $# -gt 0 ] || return 0
	for pg in "$@"; do kill -TERM -- "-$pg" 2>/dev/null; done
	for ((t = 0; t < 30; t++)); do
		alive=0
		for pg in "$@"; do group_alive "$pg" && alive=1; done
		[ $alive = 0 ] && break
		nap 0.1
	done
	for pg in "$@"; do
		if group_alive "$pg"; then
			printf '%s: process group %s did not stop on SIGTERM: SIGKILL\n' "$ME" "$pg" >&2
			kill -KILL -- "-$pg" 2>/dev/null
		fi
	done
	for pg in "$@"; do
		wait "$pg" 2>/dev/null
		rm -f /dev/shm/"$PREFIX".*."$pg"
	done
}

stop_viewer() {
	[ -n "$VIEWER_PID" ] || return 0
	kill -TERM "$VIEWER_PID" 2>/dev/null
	wait "$VIEWER_PID" 2>/dev/null
	VIEWER_PID=''
	rm -f "$RUN/viewer"
}

cleanup() {
	[ -n "$CLEANED" ] && return
	CLEANED=1
	trap '' INT TERM HUP
	declare -F before_cleanup >/dev/null && before_cleanup
	stop_viewer
	local pgs=() i
	for ((i = ${#PGIDS[@]} - 1; i >= 0; i--)); do pgs+=("${PGIDS[$i]}"); done
	stop_groups "${pgs[@]}"
	exec {SLEEP_FD}>&- 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then
		echo "logs kept in $RUN"
		rm -f "$RUN/pgids" "$RUN/viewer" "$RUN/tty"
	else
		rm -rf "$RUN"
	fi
	[ -n "$GUARD_PID" ] && { kill -- "-$GUARD_PID" 2>/dev/null; wait "$GUARD_PID" 2>/dev/null; }
}

on_signal() {   # on_signal SIG: stop everything, then die of the same signal (callers see it)
	exec 1>&"$OUT_FD" 2>&"$ERR_FD"
	echo
	echo "$ME: $1: stopping the lab"
	cleanup
	trap - "$1"
	kill -"$1" $$
	exit 130
}

# sup_init LAB SELF: the run directory, the traps and the guard (SELF --guard PID RUN).
sup_init() {
	RUN=$(mktemp -d "${TMPDIR:-/tmp}/iolab-$1.XXXXXX") || { echo "$ME: mktemp failed" >&2; exit 1; }
	: >"$RUN/pgids"
	PGIDS=() VIEWER_PID='' GUARD_PID='' CLEANED=''
	exec {SLEEP_FD}<> <(:)
	# The terminal's stdin/stdout/stderr, for the viewer and for a signal that arrives
	# while a step has them redirected.
	exec {IN_FD}<&0 {OUT_FD}>&1 {ERR_FD}>&2
	trap cleanup EXIT
	trap 'on_signal INT' INT
	trap 'on_signal TERM' TERM
	trap 'on_signal HUP' HUP
	( close_our_fds; exec setsid "$2" --guard $$ "$RUN" ) </dev/null >/dev/null 2>&1 &
	GUARD_PID=$!
}
