# tests/labcheck.sh — helpers for the tests of labs with a program of their own (source it
# after tests/lib.sh).
#
#   t_want FILE JQ-EXPR WHY   the jq expression must be true of the JSON in FILE
#   t_usage_errors PROG 'ARGS'...  bin/PROG with each ARGS (split at spaces) must exit 2
#   t_check_lab N MIN_PASS    `make check-lab-N` must pass with at least MIN_PASS PASS lines
#                             (exit 77 of the lab -> SKIP) and leave nothing running or in
#                             /dev/shm; then `make check-lab-N BROKEN=1` must FAIL a check.
#                             Sets T_CHECK_OUT and T_BROKEN_OUT.
command -v jq >/dev/null || t_skip "jq is not installed (make deps)"

t_want() {
	jq -e "$2" "$1" >/dev/null || t_fail "$3: jq '$2' is false in $(jq -c . "$1")"
}

t_usage_errors() {
	local prog=$1 args rc; shift
	for args in "$@"; do
		# shellcheck disable=SC2086
		"$IOLAB_BIN/$prog" $args >/dev/null 2>&1; rc=$?
		[ $rc -eq 2 ] || t_fail "$prog $args exited $rc, want 2 (a usage error)"
	done
}

t_lab_leftovers() {   # t_lab_leftovers OUTFILE
	local p pids
	pids=$(sed -n 's/^started .*(pid \([0-9]*\).*/\1/p' "$1")
	for p in $pids; do
		kill -0 "$p" 2>/dev/null && t_fail "pid $p ($(ps -o args= -p "$p")) still running after run-lab --check"
		[ -z "$(t_segment "$p")" ] || t_fail "telemetry segment $(t_segment "$p") left behind"
	done
	return 0
}

t_check_lab() {   # t_check_lab N MIN_PASS
	local n=$1 min=$2 rc npass
	local runlab=$IOLAB_ROOT/labs/tools/run-lab
	T_CHECK_OUT=$T_TMP/check.out T_BROKEN_OUT=$T_TMP/broken.out
	timeout 120 "$runlab" --check "$n" >"$T_CHECK_OUT" 2>&1; rc=$?
	cat "$T_CHECK_OUT" >&2
	[ $rc -eq 77 ] && t_skip "lab $n cannot run here: $(grep -h 'SKIP' "$T_CHECK_OUT" | head -1)"
	[ $rc -eq 0 ] || t_fail "run-lab --check $n exited $rc"
	grep -q '^FAIL' "$T_CHECK_OUT" && t_fail "a check failed"
	npass=$(grep -c '^PASS' "$T_CHECK_OUT")
	[ "$npass" -ge "$min" ] || t_fail "only $npass PASS lines (want >= $min): the scenario checks too little"
	t_lab_leftovers "$T_CHECK_OUT"

	timeout 120 "$runlab" --check --broken "$n" >"$T_BROKEN_OUT" 2>&1; rc=$?
	sed 's/^/broken: /' "$T_BROKEN_OUT" >&2
	[ $rc -eq 1 ] || t_fail "run-lab --check --broken $n exited $rc, want 1 (a check must fail)"
	grep -q '^FAIL' "$T_BROKEN_OUT" || t_fail "the broken variant of lab $n failed no check"
	t_lab_leftovers "$T_BROKEN_OUT"
	return 0
}
