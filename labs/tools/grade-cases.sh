# grade-cases.sh — the cases of labs/tools/grade that every lab has (sourced, not run):
# starting and stopping the graded server, smoke, the shared suite, the lab's checks; and
# the cases of the two labs whose exercise is not a whole server (15: the wheel, 20: the
# hand-over).  The model checks are in grade-model.sh.
#
# Each case runs as `grade --case NAME` in a fresh process (its own process group), with
# G_* in the environment; it prints one line (why) last and exits 0 (pass) or 1.

# Start the graded server: G_SPID (the server's pid), G_PORT.  $1: a directory for its
# files; the rest: flags.  With STRACE=1 it runs under strace -f -ttt (G_TPID: strace).
start_server() {
	local dir=$1 i; shift
	mkdir -p "$dir"
	if [ "${STRACE:-0}" = 1 ]; then
		# LeakSanitizer cannot run under ptrace: in a SANITIZER=address build it would fail the exit.
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -ttt -y -o "$dir/trace" -e trace="$TRACE_SET" -e signal=none \
			"$G_PROG" -p 0 -q ${G_SERVER_FLAGS:-} "$@" >"$dir/out" 2>"$dir/err" &
	else
		"$G_PROG" -p 0 -q ${G_SERVER_FLAGS:-} "$@" >"$dir/out" 2>"$dir/err" &
	fi
	G_TPID=$!
	G_SPID=
	for i in $(seq 1 100); do
		if grep -q '^listening on ' "$dir/out" 2>/dev/null; then
			G_PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$dir/out" | head -1)
			break
		fi
		alive "$G_TPID" || { wait "$G_TPID"; say_exit $? "the server exited before 'listening on'" "$dir/err"; }
		sleep 0.1
	done
	[ -n "${G_PORT:-}" ] || { echo "the server did not print 'listening on ADDR:PORT' within 10 s"; exit 1; }
	# Its pid: from its telemetry segment (our prefix is ours alone), else strace's child.
	for i in $(seq 1 20); do
		G_SPID=$(ls /dev/shm/ 2>/dev/null | sed -n "s/^$IOLAB_SHM_PREFIX\\.[^.]*\\.\\([0-9]*\\)\$/\\1/p" | head -1)
		[ -n "$G_SPID" ] && break
		sleep 0.05
	done
	[ -n "$G_SPID" ] || G_SPID=$(pgrep -P "$G_TPID" | head -1)
	[ -n "$G_SPID" ] || G_SPID=$G_TPID
}

# alive PID: running (a zombie, dead but not yet reaped, is not).
alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z ' "/proc/$1/stat" 2>/dev/null; }

# say_exit STATUS WHAT ERRFILE: print why the server ended and fail.
say_exit() {
	local rc=$1 what=$2 err=$3 last
	last=$(grep -v '^$' "$err" 2>/dev/null | tail -1 | cut -c1-120)
	san=$(grep -m1 -oE '(AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer|ThreadSanitizer): .*|runtime error: .*' "$err" 2>/dev/null | cut -c1-120)
	if [ -n "$san" ]; then
		echo "$what: exit status $rc, a sanitizer caught it (a crash): $san"
	elif [ "$rc" -gt 128 ]; then
		echo "$what: killed by signal $(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128))) (a crash)${last:+; last line: $last}"
	else
		echo "$what: exit status $rc${last:+; last line: $last}"
	fi
	exit 1
}

# stop_server: SIGTERM, 5 s to exit with status 0.  Sets G_STOP_RC.
stop_server() {
	local i
	kill -TERM "$G_SPID" 2>/dev/null
	for i in $(seq 1 50); do alive "$G_TPID" || break; sleep 0.1; done
	if alive "$G_TPID"; then
		kill -KILL "$G_SPID" "$G_TPID" 2>/dev/null
		wait "$G_TPID" 2>/dev/null
		G_STOP_RC=timeout
		return
	fi
	wait "$G_TPID"; G_STOP_RC=$?
}

# logref FILE: where the log a message points to will be (only kept for a grade short of full marks).
logref() { [ -z "$G_LOGS" ] || echo " [log: $G_SHOW/$1]"; }

# Client helpers on bash's /dev/tcp.  echo_line FD TEXT: send a line, expect it back in 3 s.
echo_line() {
	local fd=$1 text=$2 got=
	printf '%s\n' "$text" >&"$fd" 2>/dev/null || return 1
	read -t 3 -r -u "$fd" got || return 1
	[ "$got" = "$text" ]
}

case_smoke() {
	local fd
	start_server "$G_TMP/smoke" -f line
	sleep 0.2
	if ! alive "$G_TPID"; then
		wait "$G_TPID"
		say_exit $? "the server stopped right after 'listening on'" "$G_TMP/smoke/err"
	fi
	exec {fd}<>"/dev/tcp/127.0.0.1/$G_PORT" || { echo "cannot connect to port $G_PORT"; stop_server; exit 1; }
	if ! echo_line "$fd" "hello from the grader"; then
		for _ in 1 2 3 4 5 6 7 8 9 10; do alive "$G_TPID" || break; sleep 0.1; done  # dying takes a moment
		alive "$G_TPID" || { wait "$G_TPID"; say_exit $? "no echo: the server died" "$G_TMP/smoke/err"; }
		echo "no echo of one line within 3 s, and the server is still running $(logref smoke/err)"
		exec {fd}>&-
		stop_server
		exit 1
	fi
	exec {fd}>&-
	stop_server
	[ "$G_STOP_RC" = 0 ] || { echo "echoed, but SIGTERM did not stop it with status 0 (got: $G_STOP_RC)"; exit 1; }
	echo "one line echoed; SIGTERM stopped it with status 0"
}

case_suite() {
	# shellcheck disable=SC2086
	"$BIN/tests/echo_suite" --case "$1" -- "$G_PROG" ${G_SERVER_FLAGS:-} >"$G_TMP/suite-$1.log" 2>&1
	local rc=$?
	[ $rc = 0 ] && { echo "passed"; exit 0; }
	[ $rc = 77 ] && { echo "SKIP: $(grep -h SKIP "$G_TMP/suite-$1.log" | tail -1)"; exit 77; }
	local why
	why=$(grep -m1 '^FAIL' "$G_TMP/suite-$1.log" | sed 's/^FAIL ([^)]*): //' | cut -c1-140)
	[ -n "$why" ] || why=$(grep -v '^case \|^$' "$G_TMP/suite-$1.log" | tail -1 | cut -c1-140)
	[ $rc -gt 128 ] && why="echo_suite killed by signal $((rc - 128))${why:+: $why}"
	echo "${why:-failed (exit $rc)}  $(logref "suite-$1.log")"
	exit 1
}

case_lab() {
	local rc npass nfail try again=
	# Some of a lab's checks compare latencies under load: on a busy machine one run can
	# miss.  A second run decides (and the message says so).
	for try in 1 2; do
		IOLAB_BIN=$G_FAKEBIN "$ROOT/labs/tools/run-lab" --check "$G_LAB" >"$G_TMP/lab.log" 2>&1
		rc=$?
		npass=$(grep -c '^PASS' "$G_TMP/lab.log") nfail=$(grep -c '^FAIL' "$G_TMP/lab.log")
		if [ $rc = 0 ] && [ "$nfail" = 0 ] && [ "$npass" -gt 0 ]; then
			echo "make check-lab-$G_LAB: $npass checks pass$again"
			exit 0
		fi
		[ "$npass" -gt 0 ] || break      # nothing passed at all: no second chance needed
		cp "$G_TMP/lab.log" "$G_TMP/lab.1.log"
		again=" (second run; the first: $(grep -m1 '^FAIL' "$G_TMP/lab.1.log" | cut -c1-80))"
	done
	echo "$npass pass, $nfail fail: $( (grep -m1 '^FAIL' "$G_TMP/lab.log" || grep -v '^$' "$G_TMP/lab.log" | tail -1) | cut -c1-120)  $(logref lab.log)"
	exit 1
}

# ------------------------------------------------------------ lab 15: the timing wheel
# The student's file is common/wheel.c; the programs relinked with it are in G_LINK.

# unit/NAME: a unit test program of the file (bin/tests/$1, relinked), only its tests
# whose names start with $2 (a cmocka glob).  Bounded (15 s; they take 1 s, 2 under a
# sanitizer): a wheel that walks every tick of a 2^34-tick advance would take hours.
case_unit() {
	local log=$G_TMP/unit-$2.log rc n failed why limit=$((G_TIMEOUT > 20 ? 15 : G_TIMEOUT * 3 / 4 + 1))
	timeout -k 1 "$limit" "$G_FAKEBIN/tests/$1" "$2*" >"$log" 2>&1
	rc=$?
	n=$(grep -c '^\[       OK \]' "$log")
	if [ $rc = 0 ] && [ "$n" -gt 0 ]; then
		echo "$1 '$2*': $n test$([ "$n" = 1 ] && echo " passes" || echo "s pass")$(grep -m1 -o '[0-9]* adds .*fired' "$log" | sed 's/^/ (/; s/$/)/')"
		exit 0
	fi
	failed=$(sed -n 's/^\[  FAILED  \] \([a-z_]*\)$/\1/p' "$log" | awk '!seen[$0]++')
	why=$(grep -m1 -E -e '--- |Failure|TODO\(|runtime error|Sanitizer' "$log" | sed 's/^\[ *[A-Z]* *\] //' | cut -c1-100)
	if [ $rc = 124 ] || [ $rc = 137 ]; then
		why="still running after $limit s (a tick that walks every tick, or every timer?)${why:+; $why}"
	elif [ $rc -gt 128 ]; then
		why="killed by signal $(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128))) (a crash)${why:+; $why}"
	fi
	[ -n "$failed" ] && failed="$(wc -l <<<"$failed") failed, the first $(head -1 <<<"$failed")"
	echo "$1 '$2*': $n passed${failed:+, $failed}${why:+: $why}  $(logref "unit-$2.log")"
	exit 1
}

# model/timers: the server's own timers on the wheel (tests/integration/
# t-lab15-server-timers.sh, on the graded server): --idle-timeout 1000 --heartbeat 150,
# three clients.  a says nothing: closed after 3 x 150 ms (hb_timeouts); b sends only
# heartbeats (empty lines): closed once idle for 1000 ms (idle_timeouts); c sends a line
# every 50 ms for 1.6 s: never closed, every line echoed.
case_timers() {
	local a b c i got hb idle
	trap '' PIPE           # writing to a connection the server closed must fail, not kill us
	start_server "$G_TMP/timers" -f line --idle-timeout 1000 --heartbeat 150
	exec {a}<>"/dev/tcp/127.0.0.1/$G_PORT" {b}<>"/dev/tcp/127.0.0.1/$G_PORT" {c}<>"/dev/tcp/127.0.0.1/$G_PORT" ||
		{ echo "cannot connect three clients"; stop_server; exit 1; }
	for i in $(seq 32); do
		printf '\n' >&"$b" 2>/dev/null
		if ! echo_line "$c" "line $i"; then
			alive "$G_TPID" || { wait "$G_TPID"; say_exit $? "the server died" "$G_TMP/timers/err"; }
			echo "--idle-timeout 1000 --heartbeat 150: line $i of a client talking every 50 ms was not echoed (closed too early?)"
			stop_server; exit 1
		fi
		sleep 0.05
	done
	closed() { local x; read -r -t 0.05 -u "$1" x; [ $? = 1 ]; }   # 1: EOF; above 128: nothing yet
	hb=$(counters | jq -r '.counters.hb_timeouts // 0') idle=$(counters | jq -r '.counters.idle_timeouts // 0')
	if ! closed "$a" || ! closed "$b" || closed "$c"; then
		echo "after 1.6 s: the silent client $(closed "$a" && echo closed || echo STILL OPEN) (want closed after 450 ms), the heartbeat-only client $(closed "$b" && echo closed || echo STILL OPEN) (want closed at 1000 ms idle), the talking one $(closed "$c" && echo CLOSED || echo open); hb_timeouts $hb, idle_timeouts $idle"
		stop_server; exit 1
	fi
	exec {a}>&- {b}>&- {c}>&-
	stop_server
	[ "$hb" = 1 ] && [ "$idle" -ge 1 ] || { echo "hb_timeouts $hb, idle_timeouts $idle: want 1, and 1 or more"; exit 1; }
	[ "$G_STOP_RC" = 0 ] || { echo "the timers worked, but SIGTERM did not stop the server with status 0 (got: $G_STOP_RC)"; exit 1; }
	echo "--idle-timeout 1000 --heartbeat 150: silent client closed (hb_timeouts $hb), heartbeat-only client closed (idle_timeouts $idle), the talking one served 32 lines and kept"
}

# model/probe: labs/tools/grade-probes/wheel-ops, linked with the file compiled with
# -fsanitize-coverage=trace-pc, counts the basic blocks each wheel operation executes
# with 1,000 and with 100,000 timers, and checks that every timer fired once, at its tick.
case_probe() {
	local rc
	timeout -k 1 20 "$G_FAKEBIN/wheel-ops" >"$G_TMP/probe.json" 2>"$G_TMP/probe.err"
	rc=$?
	[ $rc = 124 ] && { echo "the counting run (100,000 timers over 60,000 ticks) took more than 20 s"; exit 1; }
	[ $rc -gt 128 ] && say_exit $rc "the counting run" "$G_TMP/probe.err"
	jq -e '.checked == true' "$G_TMP/probe.json" >/dev/null 2>&1 ||
		{ echo "with 1,000 and 100,000 timers due over 60,000 ticks, not every timer fired once at its tick (or a cancelled one fired)$(grep -m1 . "$G_TMP/probe.err" | sed 's/^/: /')"; exit 1; }
	echo "1,000 and 100,000 timers: each fired once, at its tick; $(jq -r .blocks "$G_TMP/probe.json") basic blocks counted"
}

# model/ops-add, ops-cancel, ops-tick: the blocks one operation costs with 100,000 timers
# armed must be at most twice its cost with 1,000, plus 10: O(1).  A sorted insert, or a
# tick that looks at timers that are not due, grows with the count (by about 100 here).
case_ops() {
	local what=$1 small big hint
	[ -s "$G_TMP/probe.json" ] || { echo "nothing counted (the probe case failed)"; exit 1; }
	small=$(jq -r ".n1000.$what" "$G_TMP/probe.json") big=$(jq -r ".n100000.$what" "$G_TMP/probe.json")
	case $what in
	add)    hint="the slot is computed from the due tick, never searched for: no walk along a list" ;;
	cancel) hint="a doubly-linked unlink and the slot's bit: no search" ;;
	tick)   hint="a tick touches the timers due (and a slot that cascades), no other: no scan" ;;
	esac
	if awk -v s="$small" -v b="$big" 'BEGIN { exit !(b + 0 <= 2 * s + 10) }'; then
		echo "$what: $small basic blocks each with 1,000 timers, $big with 100,000: the same work, O(1)"
		exit 0
	fi
	echo "$what: $small basic blocks each with 1,000 timers, $big with 100,000: the work grows with the number of timers ($hint)"
	exit 1
}

# lab/bench-wheel: the lab's program that drives the wheel, on this one: bench-wheel
# --quick checks that the wheel and a heap fire every timer once, at its tick.  (The
# rest of make check-lab-15, keepalive in iolab-deadpeer, does not use the wheel.)
case_bench() {
	local rc
	timeout -k 1 $((G_TIMEOUT > 10 ? G_TIMEOUT - 5 : 5)) "$G_FAKEBIN/bench-wheel" --quick --json >"$G_TMP/bench.json" 2>"$G_TMP/bench.err"
	rc=$?
	[ $rc -gt 128 ] && say_exit $rc "bench-wheel --quick" "$G_TMP/bench.err"
	if [ $rc = 0 ] && jq -e '.checked == true' "$G_TMP/bench.json" >/dev/null 2>&1; then
		echo "bench-wheel --quick on this wheel: it and the heap fired every timer once, at its tick ($(jq -r '[keys[] | select(startswith("n"))] | map(ltrimstr("n")) | join(", ")' "$G_TMP/bench.json") timers)"
		exit 0
	fi
	echo "bench-wheel --quick: exit $rc, $(grep -m1 . "$G_TMP/bench.err" || echo 'not checked')  $(logref bench.err)"
	exit 1
}

# ------------------------------------------------------------ lab 20: the hand-over
# model/eventfd: the acceptor (the main thread) wakes the loops through their eventfds,
# and the loops (the other threads) read them.  At least 3 writes: the three silent
# clients connect one at a time, so each hand-over finds its loop asleep (a post() that
# writes only when the queue was empty is fine: a loop that is awake will look anyway).
# strace -y names the descriptor: anon_inode:[eventfd].
case_eventfd() {
	need_run
	local main a made wr rd
	main=$(cat "$G_TMP/run/pid") a=$(stat stat1 accepts)
	made=$(calls eventfd eventfd2)
	wr=$(grep -cE "^$main +[0-9.]+ write\\([0-9]+<anon_inode:\\[eventfd\\]>" "$G_TMP/run/trace")
	rd=$(grep -E '^[0-9]+ +[0-9.]+ read\([0-9]+<anon_inode:\[eventfd\]>' "$G_TMP/run/trace" | awk -v m="$main" '$1 != m' | wc -l)
	if [ "$made" -gt 0 ] && [ "$wr" -ge 3 ] && [ "$rd" -gt 0 ]; then
		echo "$made eventfds; $a connections handed over, $wr eventfd writes by the acceptor, $rd eventfd reads by the loops"
		exit 0
	fi
	echo "$made eventfds; $a connections handed over, $wr eventfd writes by the acceptor, $rd eventfd reads by the loops: post() writes 1 to the loop's eventfd after queueing, the loop reads it when epoll_wait() reports it"
	exit 1
}

# handover_p50 DIR FLAGS...: the graded server with FLAGS; bin/iolab-handover connects
# 10 times to it, idle in between, and times connect -> first echo.  P50: the median, us
# ("none": no echo).
handover_p50() {
	local dir=$1; shift
	G_PORT=
	start_server "$dir" -f line "$@"
	timeout 30 "$BIN/iolab-handover" -p "$G_PORT" -n 10 --json >"$dir/handover.json" 2>"$dir/handover.err"
	P50=$(jq -r '.p50_us // empty' "$dir/handover.json" 2>/dev/null)
	P50=${P50:-none}
	stop_server
}

# model/handover: a new connection on an idle server waits for its loop to pick the
# task up: this server as it is, and again with --no-eventfd --poll-ms 100 (the loops
# find their tasks when their wait times out).  Woken by the eventfd, a loop picks a
# hand-over up at once: the median must be 10 times shorter (a ratio of two runs, one
# after the other, not a time: the lab's own check asks for 20).
case_handover() {
	local fast slow
	handover_p50 "$G_TMP/handover-eventfd"; fast=$P50
	handover_p50 "$G_TMP/handover-poll" --no-eventfd --poll-ms 100; slow=$P50
	[ "$fast" != none ] && [ "$slow" != none ] ||
		{ echo "bin/iolab-handover got no echo from a new connection (median: $fast us, with --no-eventfd: $slow us)"; exit 1; }
	if awk -v f="$fast" -v s="$slow" 'BEGIN { exit !(s >= 10 * f) }'; then
		echo "connect -> first echo, median of 10: ${fast} us woken by the eventfd, ${slow} us polling every 100 ms (--no-eventfd): $(awk -v f="$fast" -v s="$slow" 'BEGIN { printf "%.0f", s / f }') times faster"
		exit 0
	fi
	echo "connect -> first echo, median of 10: ${fast} us, and ${slow} us with --no-eventfd --poll-ms 100: a loop asleep in epoll_wait(-1) must be woken by the hand-over (its eventfd), not find it at a timeout"
	exit 1
}
