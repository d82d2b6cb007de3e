# tests/integration/labcheck.sh — `make check-lab-N` and `make check-lab-N BROKEN=1` for
# a lab test (source it after tests/lib.sh).
#
#   lab_check N MIN_PASS      run-lab --check N: exit 0, no FAIL, at least MIN_PASS PASS
#                             lines, nothing it started left running or in /dev/shm
#   lab_check_broken N        run-lab --check --broken N: at least one FAIL, exit 1;
#                             sets LAB_OUT to its output (to look for the FAIL you expect)
runlab=$IOLAB_ROOT/labs/tools/run-lab

lab_left_nothing() {   # lab_left_nothing OUTFILE
	local p pids
	pids=$(sed -n 's/^started .*(pid \([0-9]*\).*/\1/p' "$1")
	[ -n "$pids" ] || t_fail "no 'started' lines"
	for p in $pids; do
		kill -0 "$p" 2>/dev/null && t_fail "pid $p ($(ps -o args= -p "$p")) still running after run-lab"
		[ -z "$(t_segment "$p")" ] || t_fail "telemetry segment $(t_segment "$p") left behind"
	done
}

lab_check() {
	local n=$1 min=$2 rc npass
	LAB_OUT=$T_TMP/check-$n.out
	timeout 120 "$runlab" --check "$n" >"$LAB_OUT" 2>&1; rc=$?
	cat "$LAB_OUT" >&2
	[ $rc -eq 77 ] && t_skip "lab $n cannot run here: $(grep -h SKIP "$LAB_OUT" | tail -1)"
	[ $rc -eq 0 ] || t_fail "run-lab --check $n exited $rc"
	grep -q '^FAIL' "$LAB_OUT" && t_fail "a check failed"
	npass=$(grep -c '^PASS' "$LAB_OUT")
	[ "$npass" -ge "$min" ] || t_fail "only $npass PASS lines (want $min): the scenario checks too little"
	lab_left_nothing "$LAB_OUT"
	LAB_NPASS=$npass
}

lab_check_broken() {
	local n=$1 rc
	LAB_OUT=$T_TMP/broken-$n.out
	timeout 120 "$runlab" --check --broken "$n" >"$LAB_OUT" 2>&1; rc=$?
	cat "$LAB_OUT" >&2
	[ $rc -eq 1 ] || t_fail "run-lab --check --broken $n exited $rc (want 1: a check must fail)"
	grep -q '^FAIL' "$LAB_OUT" || t_fail "the broken variant of lab $n passed every check"
	lab_left_nothing "$LAB_OUT"
}
