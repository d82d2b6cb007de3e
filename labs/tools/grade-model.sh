# grade-model.sh — the model checks of labs/tools/grade (sourced, not run): the strace
# run of the graded server and what it must show for each lab (the waiting call, no busy
# loop, epoll_ctl only when interest changes, the drain, threads, completions...), and
# lab_model N, the table of each lab's cases.

# ------------------------------------------------------------ the model run
# The server under strace -f -ttt: 3 silent clients (each echoes one line first), a 1 s
# load of 4 clients, then 1 s with only the silent clients connected (the idle window,
# its timestamps in run/idle), then SIGTERM.  Files in $G_TMP/run: trace, stat0/1 (the
# counters at the idle window's ends), cpu0/1, load.json, view.json.
counters() { "$BIN/iolab-stat" --json "$G_SPID" 2>/dev/null; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$G_SPID/stat" 2>/dev/null || echo 0; }

case_run() {
	local R=$G_TMP/run a b c
	STRACE=1 start_server "$R" -f line ${G_RUN_FLAGS:-}
	echo "$G_SPID" >"$R/pid"
	exec {a}<>"/dev/tcp/127.0.0.1/$G_PORT" {b}<>"/dev/tcp/127.0.0.1/$G_PORT" {c}<>"/dev/tcp/127.0.0.1/$G_PORT" ||
		{ echo "cannot connect three clients"; stop_server; exit 1; }
	for fd in $a $b $c; do
		echo_line "$fd" "silent client $fd says hello" || { echo "no echo for a silent client's first line"; stop_server; exit 1; }
	done
	timeout 20 "$BIN/iolab-load" -p "$G_PORT" -c 4 -s 32 -t 1 -f line --json >"$R/load.json" 2>"$R/load.err"
	alive "$G_SPID" || { wait "$G_TPID"; say_exit $? "the server died under the load" "$R/err"; }
	# Let it finish what the load left queued (stale signals, completions): the idle window
	# starts once wait_calls stood still for 0.3 s (3 s at most: a busy loop never does).
	local w prev=-1 k
	for k in $(seq 1 15); do
		sleep 0.2
		w=$(counters | jq -r '.counters.wait_calls // 0' 2>/dev/null)
		[ "$w" = "$prev" ] && break
		prev=$w
	done
	counters >"$R/stat0"; cpu_ticks >"$R/cpu0"; t0=$(date +%s.%N)
	sleep 1
	counters >"$R/stat1"; cpu_ticks >"$R/cpu1"; t1=$(date +%s.%N)
	echo "$t0 $t1" >"$R/idle"
	"$BIN/iolab-view" --batch --conns -n 1 -i 100 -p "$G_SPID" >"$R/view.json" 2>/dev/null
	exec {a}>&- {b}>&- {c}>&-
	stop_server
	[ "$G_STOP_RC" = 0 ] || { echo "SIGTERM did not stop the server with status 0 (got: $G_STOP_RC)"; exit 1; }
	jq -e '.ok == true' "$R/load.json" >/dev/null 2>&1 ||
		{ echo "the load's echoes were wrong or missing: $(jq -c '{ok, messages, errors}' "$R/load.json" 2>/dev/null | cut -c1-100)"; exit 1; }
	echo "ran under strace: 3 silent clients, a 1 s load ($(jq .messages "$R/load.json") messages, all echoed), 1 s idle, stopped with status 0"
}

# --- reading the run (the model checks need case_run to have passed)
need_run() {
	[ -s "$G_TMP/run/stat1" ] || { echo "no model run to look at (the run case failed)"; exit 1; }
}
# calls NAME...: how many of these syscalls the trace shows (whole run).
calls() {
	local re
	re=$(IFS='|'; echo "$*")
	grep -cE "^[0-9]+ +[0-9.]+ ($re)\\(" "$G_TMP/run/trace" || true
}
# idle_calls: syscalls traced inside the idle window.
idle_calls() {
	awk -v t0="$(cut -d' ' -f1 "$G_TMP/run/idle")" -v t1="$(cut -d' ' -f2 "$G_TMP/run/idle")" \
		'$2 >= t0 && $2 <= t1 && $3 !~ /^(<\.\.\.|\+\+\+|---)/ { n++ } END { print n + 0 }' "$G_TMP/run/trace"
}
# stat FILE NAME: a counter (stat0 = start of the idle window, stat1 = end).
stat() { jq -r ".counters.$2 // 0" "$G_TMP/run/$1" 2>/dev/null || echo 0; }
delta() { echo $(( $(stat stat1 "$1") - $(stat stat0 "$1") )); }

WAITS='select|pselect6|poll|ppoll|epoll_wait|epoll_pwait|epoll_pwait2|io_getevents|io_pgetevents|io_uring_enter|rt_sigtimedwait'

# model/wait-call: the lab's waiting call, and no other model's.
# G_WANT: the calls it must use (| list); G_WANT2: also needed (| list, optional);
# G_FORBID: the calls it must not use.
case_wait_call() {
	need_run
	local want want2=0 bad
	want=$(calls $(tr '|' ' ' <<<"$G_WANT"))
	[ -n "${G_WANT2:-}" ] && want2=$(calls $(tr '|' ' ' <<<"$G_WANT2"))
	bad=$(grep -oE "^[0-9]+ +[0-9.]+ ($G_FORBID)\\(" "$G_TMP/run/trace" | awk '{ sub(/\(/, "", $3); n[$3]++ } END { for (k in n) printf "%s %d, ", k, n[k] }')
	[ "$want" -gt 0 ] || { echo "strace shows no ${G_WANT//|/ or } at all${bad:+ (but: ${bad%, })}"; exit 1; }
	[ -z "${G_WANT2:-}" ] || [ "$want2" -gt 0 ] || { echo "strace shows no ${G_WANT2//|/ or }"; exit 1; }
	[ -z "$bad" ] || { echo "strace shows another model's calls: ${bad%, } (this lab is ${G_WANT//|/ or })"; exit 1; }
	echo "strace: ${G_WANT//|/\/} $want calls${G_WANT2:+, ${G_WANT2//|/\/} $want2}, none of ${G_FORBID//|/ }"
}

# model/idle: with three silent clients connected, one second costs (almost) nothing.
case_idle() {
	need_run
	local n w e s cpu
	n=$(idle_calls) w=$(delta wait_calls) e=$(delta empty_wakeups) s=$(delta spins)
	cpu=$(( $(cat "$G_TMP/run/cpu1") - $(cat "$G_TMP/run/cpu0") ))
	if [ "$n" -le 6 ] && [ "$w" -le 3 ] && [ "$e" -le 3 ] && [ "$s" = 0 ] && [ "$cpu" -le 10 ]; then
		echo "1 s idle (3 silent clients): $n system calls, wait_calls +$w, empty_wakeups +$e, CPU $cpu% of a core: it sleeps"
		exit 0
	fi
	echo "1 s idle with 3 silent clients: $n system calls, wait_calls +$w, empty_wakeups +$e, spins +$s, CPU $cpu% of a core: it should sleep in its wait (a busy loop? a wait that returns at once?)"
	exit 1
}

# model/busy-loop (lab 2): no waiting call, and the loop asks everyone every turn.
case_busy() {
	need_run
	local s r sc
	s=$(delta spins) r=$(delta eagain_rd) sc=$(delta scanned)
	if [ "$s" -ge 100 ] && [ "$r" -ge 100 ] && [ "$sc" -ge "$s" ]; then
		echo "1 s idle: spins +$s, eagain_rd +$r, scanned +$sc: it asks every socket every turn"
		exit 0
	fi
	echo "1 s idle with 3 silent clients: spins +$s, eagain_rd +$r, scanned +$sc: a busy loop turns thousands of times (turn_spin), reading every connection (EAGAIN) and counting scanned"
	exit 1
}

# model/sleep-us (lab 2): --sleep-us naps after an empty turn.
case_sleep_us() {
	local R=$G_TMP/nap w0 w1 s0 s1 fd
	start_server "$R" -f line --sleep-us 20000
	exec {fd}<>"/dev/tcp/127.0.0.1/$G_PORT"
	echo_line "$fd" "nap" || { echo "no echo with --sleep-us 20000"; stop_server; exit 1; }
	w0=$(counters | jq .counters.wait_calls) s0=$(counters | jq .counters.spins)
	sleep 1
	w1=$(counters | jq .counters.wait_calls) s1=$(counters | jq .counters.spins)
	exec {fd}>&-
	stop_server
	local w=$((w1 - w0)) s=$((s1 - s0))
	if [ "$w" -ge 5 ] && [ "$w" -le 60 ] && [ "$s" -le 60 ]; then
		echo "--sleep-us 20000, 1 s idle: $w naps (wait_calls), $s spins"
		exit 0
	fi
	echo "--sleep-us 20000, 1 s idle: $w naps (wait_calls), $s spins; expected about 50 of each (one 20 ms nap per empty turn)"
	exit 1
}

# model/scanned (labs 3, 4): the answer is a count, so every wakeup scans.
case_scanned() {
	need_run
	local sc w
	sc=$(stat stat1 scanned) w=$(stat stat1 wait_calls)
	if [ "$w" -gt 0 ] && [ "$sc" -ge "$w" ]; then
		echo "scanned $sc over $w wakeups: every answer scanned (counted with tm_add(TM_SCANNED))"
		exit 0
	fi
	echo "scanned $sc over $w wakeups (wait_calls): the answer is a count, each wakeup scans every descriptor and counts it (tm_add(TM_SCANNED, ...)); turn_begin(n) counts the wakeups"
	exit 1
}

# model/telemetry: the wakeups telemetry counts are the waiting calls strace saw.
case_counts() {
	need_run
	local w t
	w=$(stat stat1 wait_calls)
	t=$(calls $(tr '|' ' ' <<<"$G_WANT"))
	# stat1 is taken before the idle clients close: a few wakeups come after it.
	if [ "$w" -gt 0 ] && [ "$w" -le "$t" ] && [ $((w * 10)) -ge $((t * 7)) ]; then
		echo "telemetry wait_calls $w, strace ${G_WANT//|/\/} $t: every wakeup counted (turn_begin)"
		exit 0
	fi
	echo "telemetry wait_calls $w, strace ${G_WANT//|/\/} $t: call turn_begin(n) once per wakeup, so the viewer shows the truth"
	exit 1
}

# model/epoll-ctl-lt (lab 5): epoll_ctl only when the interest changes.
case_ctl_lt() {
	need_run
	local n a mods
	n=$(calls epoll_ctl) a=$(stat stat1 accepts)
	mods=$(grep -cE 'epoll_ctl\([0-9]+(<[^>]*>)?, EPOLL_CTL_MOD' "$G_TMP/run/trace")
	if [ "$n" -le $((2 * a + 4)) ]; then
		echo "epoll_ctl $n calls ($mods MOD) for $a connections and $(stat stat1 frames_in) messages: only when the interest changes"
		exit 0
	fi
	echo "epoll_ctl $n calls ($mods MOD) for $a connections and $(stat stat1 frames_in) messages: call it only when want != c->interest"
	exit 1
}

# model/epoll-ctl-et (lab 6): registered once with EPOLLET, never modified.
case_ctl_et() {
	need_run
	local n a adds noet
	n=$(calls epoll_ctl) a=$(stat stat1 accepts)
	adds=$(grep -cE 'epoll_ctl\([0-9]+(<[^>]*>)?, EPOLL_CTL_ADD' "$G_TMP/run/trace")
	noet=$(grep -E 'epoll_ctl\([0-9]+(<[^>]*>)?, EPOLL_CTL_ADD' "$G_TMP/run/trace" | grep -vc 'EPOLLET')
	if [ "$n" -le $((a + 2)) ] && [ "$adds" -gt "$a" ] && [ "$noet" = 0 ]; then
		echo "epoll_ctl $n calls for $a connections, every ADD with EPOLLET: registered once, never modified"
		exit 0
	fi
	echo "epoll_ctl $n calls for $a connections, $noet ADD without EPOLLET: register each socket once, edge-triggered, and never change it"
	exit 1
}

# send_count DIR BYTES FLAGS...: a server with FLAGS, one client sends BYTES and stays;
# prints how many bytes came back within 3 s.
send_count() {
	local dir=$1 bytes=$2 fd got=; shift 2
	start_server "$dir" "$@"
	exec {fd}<>"/dev/tcp/127.0.0.1/$G_PORT" || { echo 0; return; }
	head -c "$bytes" /dev/zero | tr '\0' x >&"$fd"
	read -t 3 -r -N "$bytes" -u "$fd" got
	echo "${#got}"
	exec {fd}>&-
	stop_server
}

# model/drain (labs 6, 7): edge-like, so read until EAGAIN.
case_drain() {
	local n
	n=$(send_count "$G_TMP/drain" 1000 -f raw --read-chunk 100)
	if [ "$n" = 1000 ]; then
		echo "1000 bytes sent at once, read 100 at a time (--read-chunk 100): all 1000 echoed"
		exit 0
	fi
	echo "1000 bytes sent at once, read 100 at a time (--read-chunk 100): $n echoed within 3 s; the rest was never reported again: read until EAGAIN"
	exit 1
}

# model/ready-list (lab 6): past the budget, back on the ready list, and the wait does not sleep.
case_ready_list() {
	local n zero
	n=$(STRACE=1 TRACE_SET=epoll_wait,epoll_pwait,epoll_pwait2 send_count "$G_TMP/ready" 5000 -f raw --read-chunk 100 --budget 1000)
	zero=$(grep -cE 'epoll_p?wait2?\(.*(\], [0-9]+, 0[,)]|tv_sec=0, tv_nsec=0)' "$G_TMP/ready/trace" 2>/dev/null)
	if [ "$n" = 5000 ] && [ "${zero:-0}" -gt 0 ]; then
		echo "5000 bytes with --budget 1000: all echoed; $zero waits with timeout 0 while the ready list was not empty"
		exit 0
	fi
	echo "5000 bytes with --budget 1000 --read-chunk 100: $n echoed, ${zero:-0} waits with timeout 0: past the budget, push the connection back on the ready list and wait with timeout 0 while it is not empty"
	exit 1
}

# model/threads (lab 1): a thread per connection.
case_threads() {
	need_run
	local n a
	n=$(calls clone clone3) a=$(stat stat1 accepts)
	if [ "$a" -gt 0 ] && [ "$n" -ge "$a" ]; then
		echo "$a connections, $n threads created (clone/clone3): one each"
		exit 0
	fi
	echo "$a connections, $n threads created (clone/clone3): each connection gets its own thread"
	exit 1
}

# model/blocking-calls (lab 1): it sleeps in accept() and read().
case_blocking_calls() {
	need_run
	local acc rd eag
	acc=$(calls accept accept4) rd=$(calls read recvfrom)
	eag=$(grep -cE ' (read|recvfrom|accept4?)\(.* = -1 EAGAIN' "$G_TMP/run/trace")
	if [ "$acc" -gt 0 ] && [ "$rd" -gt 0 ] && [ "$eag" = 0 ]; then
		echo "strace: accept $acc, read $rd calls, none said EAGAIN: they sleep"
		exit 0
	fi
	echo "strace: accept $acc, read $rd calls, $eag said EAGAIN: blocking sockets, and the calls themselves are the waits"
	exit 1
}

# model/signals (lab 7): every socket asks for a queued real-time signal.
case_signals() {
	need_run
	local a sig async
	a=$(stat stat1 accepts)
	sig=$(grep -cE 'fcntl\([0-9]+(<[^>]*>)?, F_SETSIG, SIGRT' "$G_TMP/run/trace")
	async=$(grep -cE 'fcntl\([0-9]+(<[^>]*>)?, F_SETFL, [^)]*(O_ASYNC|FASYNC)' "$G_TMP/run/trace")
	if [ "$sig" -ge $((a + 1)) ] && [ "$async" -ge $((a + 1)) ]; then
		echo "F_SETSIG (a real-time signal) $sig times and O_ASYNC $async times for $a connections and the listener"
		exit 0
	fi
	echo "F_SETSIG to a real-time signal $sig times, O_ASYNC $async times, for $a connections and the listener: each socket needs F_SETOWN, F_SETSIG and O_ASYNC"
	exit 1
}

# model/completions (labs 8, 9): completions drive it, and every one is counted.
case_completions() {
	need_run
	local c s f
	c=$(stat stat1 completions) s=$(stat stat1 submits) f=$(stat stat1 frames_in)
	if [ "$c" -gt 0 ] && [ "$s" -gt 0 ] && [ "$c" -ge "$f" ] && [ "$s" -ge $((c / 2)) ]; then
		echo "$s submitted, $c completions for $f messages"
		exit 0
	fi
	echo "$s submitted, $c completions for $f messages: count them (tm_add(TM_COMPLETIONS, n)) and re-arm after each"
	exit 1
}

# model/no-readiness-io (lab 9): the kernel does the I/O: no read/recv/write/send calls.
case_proactor() {
	need_run
	local n f
	# strace -y names each descriptor: only reads on sockets count (a sanitizer's runtime
	# reads /proc at start-up).
	n=$(grep -cE '^[0-9]+ +[0-9.]+ (read|recvfrom|recvmsg|readv)\([0-9]+<(socket|TCP|UDP)' "$G_TMP/run/trace")
	f=$(stat stat1 frames_in)
	if [ "$n" -le 10 ] && [ "$f" -gt 100 ]; then
		echo "$f messages, $n read/recv system calls on sockets: the ring did the reading"
		exit 0
	fi
	echo "$f messages, $n read/recv system calls on sockets: submit recv SQEs, do not read() yourself"
	exit 1
}

# model/batched-submit (lab 8): all of a turn's re-arms go in one io_submit().
case_batched() {
	need_run
	local s w
	s=$(calls io_submit) w=$(calls io_getevents io_pgetevents)
	if [ "$s" -le $((w + 2)) ]; then
		echo "io_submit $s calls for $w waits: one batch per turn"
		exit 0
	fi
	echo "io_submit $s calls for $w waits: prepare with new_iocb(), and let submit_pending() send the turn's batch in one call"
	exit 1
}

# =================================================================== per lab
# lab_model N: the lab's cases ("name points function args...") and what they need:
#   MODEL_CASES   the model group (after model/run, when MODEL_RUN=1: the strace run)
#   UNIT_CASES    the unit group; LAB_CASES the lab group (default: run-lab --check N)
#   G_LINK        a library-file exercise (@file): the programs relinked with the student's
#                 file, the graded server first; tests/NAME is bin/tests/NAME
#   G_PROBE       labs/tools/grade-probes/NAME.c, linked with the student's file compiled
#                 with -fsanitize-coverage=trace-pc (it counts basic blocks), as bin/NAME
#   G_SERVER_FLAGS  flags for every run of the graded server (smoke, suite, model)
#   TRACE_SET     the system calls the model run traces (TRACE_BASE, and the lab's)
TRACE_BASE='select,pselect6,poll,ppoll,epoll_wait,epoll_pwait,epoll_pwait2,epoll_ctl,io_submit,io_getevents,io_pgetevents,io_uring_enter,rt_sigtimedwait,accept,accept4,clone,clone3,read,recvfrom,recvmsg,readv,fcntl,nanosleep,clock_nanosleep'
lab_model() {
	G_WANT= G_WANT2= G_FORBID= G_LINK= G_PROBE= G_SERVER_FLAGS= MODEL_RUN=1 TRACE_SET=$TRACE_BASE
	UNIT_CASES=() LAB_CASES=("lab-checks 3 case_lab")
	case $1 in
	1) G_WANT='accept|accept4' G_FORBID="$WAITS"
	   MODEL_CASES=("blocking-calls 2 case_blocking_calls" "threads 2 case_threads" "idle 3 case_idle") ;;
	2) G_WANT='read|recvfrom' G_FORBID="$WAITS"
	   MODEL_CASES=("no-wait-call 2 case_wait_call" "busy-loop 2 case_busy" "sleep-us 2 case_sleep_us") ;;
	3) G_WANT='select|pselect6' G_FORBID='poll|ppoll|epoll_wait|epoll_pwait|epoll_pwait2|io_getevents|io_pgetevents|io_uring_enter|rt_sigtimedwait'
	   MODEL_CASES=("wait-call 2 case_wait_call" "counted 1 case_counts" "scanned 2 case_scanned" "idle 3 case_idle") ;;
	4) G_WANT='poll|ppoll' G_FORBID='select|pselect6|epoll_wait|epoll_pwait|epoll_pwait2|io_getevents|io_pgetevents|io_uring_enter|rt_sigtimedwait'
	   MODEL_CASES=("wait-call 2 case_wait_call" "counted 1 case_counts" "scanned 2 case_scanned" "idle 3 case_idle") ;;
	5) G_WANT='epoll_wait|epoll_pwait|epoll_pwait2' G_WANT2=epoll_ctl G_FORBID='select|pselect6|poll|ppoll|io_getevents|io_pgetevents|io_uring_enter|rt_sigtimedwait'
	   MODEL_CASES=("wait-call 2 case_wait_call" "counted 1 case_counts" "epoll-ctl 2 case_ctl_lt" "idle 3 case_idle") ;;
	6) G_WANT='epoll_wait|epoll_pwait|epoll_pwait2' G_WANT2=epoll_ctl G_FORBID='select|pselect6|poll|ppoll|io_getevents|io_pgetevents|io_uring_enter|rt_sigtimedwait'
	   MODEL_CASES=("wait-call 2 case_wait_call" "epoll-ctl 2 case_ctl_et" "drain 2 case_drain" "ready-list 2 case_ready_list" "idle 3 case_idle") ;;
	7) G_WANT='rt_sigtimedwait' G_FORBID='select|pselect6|epoll_wait|epoll_pwait|epoll_pwait2|io_getevents|io_pgetevents|io_uring_enter'
	   MODEL_CASES=("wait-call 2 case_wait_call" "signals 2 case_signals" "drain 2 case_drain" "idle 3 case_idle") ;;
	8) G_WANT='io_getevents|io_pgetevents' G_WANT2=io_submit G_FORBID='select|pselect6|poll|ppoll|epoll_wait|epoll_pwait|epoll_pwait2|io_uring_enter|rt_sigtimedwait'
	   MODEL_CASES=("wait-call 2 case_wait_call" "completions 2 case_completions" "batched 1 case_batched" "idle 3 case_idle") ;;
	9) G_WANT='io_uring_enter' G_FORBID='select|pselect6|poll|ppoll|epoll_wait|epoll_pwait|epoll_pwait2|io_getevents|io_pgetevents|rt_sigtimedwait'
	   MODEL_CASES=("wait-call 2 case_wait_call" "completions 2 case_completions" "no-read-calls 2 case_proactor" "idle 3 case_idle") ;;
	15) # The wheel, in lab 5's server: every connection armed (--idle-timeout), so the
	    # smoke case and the suite run it too.  Its model is counted, not traced.
	   G_LINK='echo-epoll-lt tests/test_wheel bench-wheel' G_PROBE=wheel-ops MODEL_RUN=0
	   G_SERVER_FLAGS='--idle-timeout 20000'
	   UNIT_CASES=("edge-cases 3 case_unit test_wheel edge_" "property 4 case_unit test_wheel property_")
	   LAB_CASES=("lab/bench-wheel 2 case_bench")
	   MODEL_CASES=("timers 3 case_timers" "probe 1 case_probe" "ops-add 2 case_ops add" "ops-cancel 2 case_ops cancel" "ops-tick 2 case_ops tick") ;;
	20) G_WANT='epoll_wait|epoll_pwait|epoll_pwait2' G_FORBID='select|pselect6|poll|ppoll|io_getevents|io_pgetevents|io_uring_enter|rt_sigtimedwait'
	   TRACE_SET=$TRACE_BASE,write,eventfd,eventfd2
	   MODEL_CASES=("wait-call 2 case_wait_call" "eventfd 2 case_eventfd" "idle 3 case_idle" "handover 2 case_handover") ;;
	*) MODEL_CASES=() ;;
	esac
	export G_WANT G_WANT2 G_FORBID G_SERVER_FLAGS
}
