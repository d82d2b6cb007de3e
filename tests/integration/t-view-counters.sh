#!/usr/bin/env bash
# Description: iolab-view shows the counters the labs name, by their telemetry names,
# on a real terminal (tmux) at 80x24 (a projector) and 160x45:
#  - --watch scanned,sigq_overflow / submits,completions adds those columns to the
#    Overview (header = the counter name, total then /s) and keeps PID, EV/WK, EMPT%;
#    the figures on screen are the servers' (poll's scanned and uring's submits and
#    completions grow under load; sigio's sigq_overflow, with a signal queue of 8,
#    is the number --batch reports, digit for digit);
#  - the Connections view of echo-epoll-et shows the interest mask 0x80002005 whole
#    (it was cut to 0x800020 at 80 columns), and the server's own counters above it;
#  - the Counters view lists every counter by name;
#  - --watch with an unknown name exits 2 and lists the valid names.
# Skips (77) when tmux is missing; the io_uring part alone is skipped (and the test
# exits 77 after everything else passed) where io_uring is switched off.
. "$IOLAB_ROOT/tests/lib.sh"

. "$IOLAB_ROOT/tests/integration/view_tmux.sh"
command -v jq >/dev/null || t_skip "jq is not installed (apt-get install jq, or make deps)"
view=$IOLAB_BIN/iolab-view load=$IOLAB_BIN/tests/view_load
[ -x "$view" ] && [ -x "$load" ] || t_fail "build bin/iolab-view and bin/tests/view_load first (make)"

# --- --watch: an unknown name is a usage error that lists the valid ones ---------
"$view" --batch --watch scanned,bogus_counter -n 1 >/dev/null 2>"$T_TMP/err"; rc=$?
[ $rc -eq 2 ] || t_fail "--watch with an unknown name exits $rc, not 2"
grep -q "unknown counter 'bogus_counter'" "$T_TMP/err" || t_fail "no message naming the bad name: $(cat "$T_TMP/err")"
for n in scanned sigq_overflow submits completions empty_wakeups spins scanned_per_wakeup; do
	grep -qw "$n" "$T_TMP/err" || t_fail "the message does not list '$n' among the valid names"
done
"$view" --batch --watch , -n 1 >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || t_fail "--watch , exits $rc, not 2"

# --- the servers ---------------------------------------------------------------------
t_start_server echo-epoll-et
et=$T_PID et_port=$T_PORT
t_start_server echo-poll
poll=$T_PID poll_port=$T_PORT
# sigio with room for only 8 more queued signals (RLIMIT_SIGPENDING counts this user's
# queued signals, SigQ in /proc/self/status): a burst overflows it.
used=$(awk '/^SigQ:/ { split($2, a, "/"); print a[1] }' /proc/self/status)
( ulimit -S -i $((used + 8)) && exec "$IOLAB_BIN/echo-sigio" -p 0 -q ) >"$T_TMP/sigio.out" 2>"$T_TMP/sigio.err" &
sigio=$!
T_PIDS+=("$sigio")
uring= uring_port=
"$IOLAB_BIN/echo-uring" -p 0 >"$T_TMP/uring.out" 2>"$T_TMP/uring.err" &
T_PIDS+=("$!")
for _ in $(seq 1 100); do
	grep -q '^listening' "$T_TMP/sigio.out" 2>/dev/null &&
		{ grep -q '^listening' "$T_TMP/uring.out" 2>/dev/null || ! kill -0 "${T_PIDS[-1]}" 2>/dev/null; } && break
	sleep 0.1
done
sigio_port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$T_TMP/sigio.out")
[ -n "$sigio_port" ] || t_fail "echo-sigio did not start: $(cat "$T_TMP/sigio.err")"
if grep -q '^listening' "$T_TMP/uring.out"; then
	uring=${T_PIDS[-1]} uring_port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$T_TMP/uring.out")
else
	t_log "echo-uring did not start (io_uring off?): $(head -1 "$T_TMP/uring.err")"
fi

t_spawn "$load" -p "$et_port" -c 3 --rate 200 -s 100 --time 120 >/dev/null 2>"$T_TMP/l1.err"
t_spawn "$load" -p "$poll_port" -c 3 --rate 200 -s 100 --time 120 >/dev/null 2>"$T_TMP/l2.err"
[ -n "$uring" ] && t_spawn "$load" -p "$uring_port" -c 3 --rate 200 -s 100 --time 120 >/dev/null 2>"$T_TMP/l3.err"
# Bursts of 200 connections x 5 frames against a queue of 8, until one overflows it
# (the server drains the queue quickly; a burst overflows it most of the time).
ovf=0
for try in 1 2 3 4 5 6; do
	"$load" -p "$sigio_port" -c 200 -n 5 -s 1000 >"$T_TMP/burst.out" 2>"$T_TMP/burst.err" &
	burst=$!
	T_PIDS+=("$burst")
	for _ in $(seq 1 150); do grep -q '^done' "$T_TMP/burst.out" && break; sleep 0.1; done
	grep -q '^done conns=200 frames=1000' "$T_TMP/burst.out" ||
		t_fail "a sigio burst did not complete: $(cat "$T_TMP/burst.out" "$T_TMP/burst.err")"
	kill "$burst"; wait "$burst" 2>/dev/null
	ovf=$("$view" --batch --pid "$sigio" -n 1 --interval 100 | jq '.servers[0].counters.sigq_overflow')
	[ "${ovf:-0}" -gt 0 ] && break
done
t_log "sigq_overflow $ovf after $try burst(s)"
[ "${ovf:-0}" -gt 0 ] || t_skip "sigq_overflow stayed 0 with a queue of 8 in 6 bursts (cannot lower RLIMIT_SIGPENDING here?)"

# open COLSxLINES ARGS...: the viewer in a fresh pane of that size.
open() {
	local size=$1; shift
	if "${TM[@]}" has-session -t v 2>/dev/null; then
		"${TM[@]}" resize-window -t v -x "${size%x*}" -y "${size#*x}"
		"${TM[@]}" respawn-pane -k -t v "$view --interval 300 $*; sleep 600"
	else
		"${TM[@]}" new-session -d -s v -x "${size%x*}" -y "${size#*x}" "$view --interval 300 $*; sleep 600" ||
			t_fail "tmux cannot start a session"
	fi
	wait_for "^MODEL" "the viewer did not start ($*)"
}
# cell ROW-REGEX TITLE [OFFSET]: in the first row matching, the cell under the column
# titled TITLE (or OFFSET columns to its right: 1 = its /s).  Every cell is one word.
cell() {
	screen | awk -v re="$1" -v t="$2" -v off="${3:-0}" '
		/^MODEL/ { for (i = 1; i <= NF; i++) { h = $i; sub(/[▲▼^v]$/, "", h); if (h == t && !c) c = i + off } }
		c && $0 ~ re { print $c; exit }'
}
# positive VALUE: a figure such as 812, 4.56k, 1.2M, above zero.
positive() { [[ $1 =~ ^[0-9.]+[kMGT]?$ ]] && [[ ! $1 =~ ^0*\.?0*$ ]]; }
save() { screen >"$T_TMP/screen-$1.txt"; cp "$T_TMP/screen-$1.txt" "${IOLAB_SCREENS:-/nonexistent}/$1.txt" 2>/dev/null; true; }

# --- 80x24, --watch scanned,sigq_overflow --------------------------------------------
open 80x24 --watch scanned,sigq_overflow
wait_for "^MODEL.* PID .*EV/WK +EMPT% +scanned +/s +sigq_[^ ]*w +/s" \
	"at 80x24 the header lacks PID, EV/WK, EMPT% and the watched columns"
sleep 1
positive "$(cell "^poll +$poll " scanned)" && positive "$(cell "^poll +$poll " scanned 1)" ||
	{ screen >&2; t_fail "poll's scanned total and rate are not on screen (or 0)"; }
got=$(cell "^sigio +$sigio " sigq_overflow)
[ "$got" = "$ovf" ] || { screen >&2; t_fail "sigio's sigq_overflow on screen is '$got', --batch says $ovf"; }
save overview-80x24
for w in $(screen | sed -n '/^MODEL/,$p' | grep -o '0x[0-9a-f]*'); do t_fail "a mask on the Overview? $w"; done

# --- 80x24 Connections of epoll-et: the ET mask whole -----------------------------------
keys / "$et" Enter
wait_for "^epoll-et +$et " "the filter did not keep the epoll-et row"
keys Enter
wait_for "^ +FD.* INTEREST +LAST READY" "Enter did not open the connections view"
wait_for "^ +[0-9]+ +reading +0x80002005 " "the ET interest mask is not shown whole (0x80002005) at 80x24"
screen | grep -Eq '0x800020( |$)' && t_fail "an interest mask cut to 0x800020 at 80x24"
wait_for "ever: [0-9.]+(ns|us|ms|s) \(MAXWAIT\)" "no 'ever' figure beside the starvation count"
save conns-et-80x24
esc

# --- the server's own counters over its connections: poll and sigio ---------------------
keys / C-u "$poll" Enter     # by pid: "poll" would match epoll-et too
wait_for "^poll +$poll " "the filter did not keep the poll row"
keys Enter
wait_for "scanned [1-9][0-9.]*k? [0-9.]+k?/s" "the Connections view of poll does not show scanned (total, /s)"
esc
keys / C-u "$sigio" Enter
wait_for "^sigio +$sigio " "the filter did not keep the sigio row"
keys Enter
wait_for "sigq_overflow $ovf " "the Connections view of sigio does not show sigq_overflow $ovf"
keys c
wait_for "^\* sigq_overflow +$ovf " "the Counters view does not list sigq_overflow $ovf (watched, marked *)"
wait_for "^[* ] scanned +[1-9]" "the Counters view does not list sigio's scanned (the fallback scans)"
save counters-sigio-80x24

# --- 80x24 and 160x45, --watch submits,completions: io_uring ---------------------------
if [ -n "$uring" ]; then
	open 80x24 --watch submits,completions,completions_per_wait
	wait_for "^MODEL.* PID .*EV/WK +EMPT% +submits +/s +completions +/s +comp[^ ]*wait" \
		"at 80x24 the header lacks the watched io_uring columns"
	sleep 1
	for c in "submits 0" "submits 1" "completions 0" "completions 1"; do
		positive "$(cell "^uring +$uring " $c)" || { screen >&2; t_fail "uring's $c (total, /s) is not on screen, or 0"; }
	done
	save overview-uring-80x24
	open 160x45 --watch scanned,sigq_overflow,submits,completions
	wait_for "^MODEL.* PORT .* EV/WK +EMPT% +scanned +/s +sigq_overflow +/s +submits +/s +completions +/s" \
		"at 160x45 the four watched counters are not shown with their whole names"
	sleep 1
	for c in "submits 0" "submits 1" "completions 0" "completions 1" "scanned 0"; do
		v=$(cell "^(uring +$uring|poll +$poll) " $c)
		[ -n "$v" ] || { screen >&2; t_fail "at 160x45 no $c cell"; }
	done
	positive "$(cell "^uring +$uring " completions)" || t_fail "at 160x45 uring's completions is 0"
	[ "$(cell "^sigio +$sigio " sigq_overflow)" = "$ovf" ] || t_fail "at 160x45 sigio's sigq_overflow is not $ovf"
	save overview-160x45
fi
open 160x45
keys / "$et" Enter
wait_for "^epoll-et +$et " "the filter did not keep the epoll-et row"
keys Enter
wait_for "^ +[0-9]+ +:[0-9]+ +reading +0x80002005 IN\|OUT\|RDHUP\|ET" "at 160x45 the ET mask is not whole and named"
save conns-et-160x45

kill -0 "$et" && kill -0 "$poll" && kill -0 "$sigio" || t_fail "a server died while being watched"
[ -n "$uring" ] || t_skip "io_uring is not available here ($(head -1 "$T_TMP/uring.err")); the rest passed"
t_pass
