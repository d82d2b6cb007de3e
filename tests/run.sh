#!/usr/bin/env bash
# tests/run.sh — run the iolab suite, liburing style: every test is a program or
# script that exits 0 (pass), 77 (skip, with the reason on stderr) or anything else
# (fail); each runs under `timeout`.  Ends with "N passed, N failed, N skipped".
#
#   tests/run.sh              everything
#   tests/run.sh unit         cmocka unit tests only (bin/tests/test_*)
#   tests/run.sh integration  integration tests only
#   tests/run.sh -k PATTERN   only tests whose name contains PATTERN
#
# What it finds:
#   bin/tests/test_*            cmocka unit programs (each cmocka case counts)
#   tests/servers.tsv x bin/tests/echo_suite --list
#                               the shared server suite: every case for every server row
#   bin/tests/t_*               standalone C integration tests
#   tests/integration/t-*.sh    shell integration tests
# Logs of failed and skipped tests: build/test-logs/.
# Last, integration/t-zz-nothing-left: no process started under the run is still
# running and no telemetry segment of the run is left in /dev/shm (else it fails).
set -u
cd "$(dirname "$0")/.."
export IOLAB_ROOT=$PWD IOLAB_BIN=${IOLAB_BIN:-$PWD/bin}
B=$IOLAB_BIN
# This run's own telemetry prefix, and a mark in the environment of everything it
# starts: at the end, any process still carrying the mark, or any segment with the
# prefix, was left behind by a test -- and the run fails.
export IOLAB_SHM_PREFIX=iolabtest-r$$
export IOLAB_TEST_RUN=run$$.$(date +%s%N)
TIMEOUT=${TEST_TIMEOUT:-180}
LOGS=build/test-logs
mkdir -p "$LOGS"   # per-test files are overwritten; other runs' logs are left alone

what=all pattern=
while [ $# -gt 0 ]; do
	case $1 in
	unit|integration|all) what=$1 ;;
	-k) pattern=$2; shift ;;
	-h|--help) sed -n '2,19p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
	esac
	shift
done

passed=0 failed=0 skipped=0
failed_list=() skipped_list=()

want() { [ -z "$pattern" ] || [[ $1 == *"$pattern"* ]]; }

record() {   # record NAME RC LOGFILE
	local name=$1 rc=$2 log=$3
	case $rc in
	0)  passed=$((passed + 1)); printf '  PASS  %s\n' "$name" ;;
	77) skipped=$((skipped + 1)); skipped_list+=("$name: $(grep -h 'SKIP' "$log" | tail -1)")
	    printf '  SKIP  %s\n' "$name" ;;
	*)  failed=$((failed + 1)); failed_list+=("$name (exit $rc, log $log)")
	    printf '  FAIL  %s (exit %s)\n' "$name" "$rc"; tail -n 15 "$log" | sed 's/^/        /' ;;
	esac
}

durations=()
run_one() {  # run_one NAME CMD...
	local name=$1; shift
	local log=$LOGS/$(echo "$name" | tr '/ ' '__').log
	local t0=$SECONDS
	timeout -k 5 "$TIMEOUT" "$@" >"$log" 2>&1
	local rc=$?
	[ $rc -eq 124 ] && echo "TIMEOUT after ${TIMEOUT}s" >>"$log"
	durations+=("$((SECONDS - t0)) $name")
	record "$name" $rc "$log"
}

if [ "$what" != integration ]; then
	echo "unit tests"
	for t in "$B"/tests/test_*; do
		[ -x "$t" ] || continue
		name=unit/$(basename "$t")
		want "$name" || continue
		log=$LOGS/$(basename "$t").log
		timeout -k 5 "$TIMEOUT" "$t" >"$log" 2>&1
		rc=$?
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
		s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
		p=${p:-0} f=${f:-0} s=${s:-0}
		if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi    # crashed before its summary
		passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
		if [ "$f" -gt 0 ]; then
			failed_list+=("$name ($f case(s), log $log)")
			printf '  FAIL  %s: %s passed, %s failed\n' "$name" "$p" "$f"
			grep -E '^\[  (FAILED|ERROR) |error:|Assert|Segmentation' "$log" | head -20 | sed 's/^/        /'
		else
			printf '  PASS  %s: %s cases\n' "$name" "$p"
		fi
		[ "$s" -gt 0 ] && skipped_list+=("$name: $s case(s)")
	done
fi

if [ "$what" != unit ]; then
	echo "server suite (tests/servers.tsv)"
	if [ -x "$B/tests/echo_suite" ]; then
		cases=$("$B/tests/echo_suite" --list)
		while IFS=$'\t' read -r prog flags skip; do
			case $prog in ''|'#'*) continue ;; esac
			[ "$flags" = "-" ] && flags=
			if [ ! -x "$B/$prog" ]; then
				skipped=$((skipped + 1)); skipped_list+=("$prog: $B/$prog not built (no source yet?)")
				printf '  SKIP  %s (not built)\n' "$prog"; continue
			fi
			for c in $cases; do
				name=$prog${flags:+ $flags}/$c
				want "$name" || continue
				case ",${skip:-}," in *",$c,"*) continue ;; esac
				# shellcheck disable=SC2086
				run_one "$name" "$B/tests/echo_suite" --case "$c" -- "$B/$prog" $flags
			done
		done < tests/servers.tsv
	fi
	echo "integration tests"
	for t in "$B"/tests/t_* tests/integration/t-*.sh; do
		[ -x "$t" ] || continue
		name=integration/$(basename "$t")
		want "$name" || continue
		run_one "$name" "$t"
	done
fi

# Nothing may be left behind: no process started under this run, no segment.
leftover_procs() {
	local d pid
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		[ "$pid" = $$ ] && continue
		grep -qz "^IOLAB_TEST_RUN=$IOLAB_TEST_RUN\$" "$d/environ" 2>/dev/null || continue
		[ "$(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ')" = $$ ] && continue   # our own grep/ps
		echo "$pid $(ps -o args= -p "$pid" 2>/dev/null)"
	done
}
if true; then   # whatever -k chose: a leak of any test is a failure
	for _ in $(seq 1 30); do [ -z "$(leftover_procs)" ] && break; sleep 0.1; done
	procs=$(leftover_procs)
	segs=$(ls /dev/shm/ 2>/dev/null | grep "^$IOLAB_SHM_PREFIX\\." || true)
	if [ -z "$procs" ] && [ -z "$segs" ]; then
		record "integration/t-zz-nothing-left" 0 /dev/null
	else
		log=$LOGS/t-zz-nothing-left.log
		{ echo "left running by the tests:"; echo "${procs:-  (none)}"
		  echo "left in /dev/shm:"; echo "${segs:-  (none)}"; } >"$log"
		record "integration/t-zz-nothing-left" 1 "$log"
		# Clean up after the failure is recorded, so the machine is not polluted.
		for p in $(echo "$procs" | awk '{ print $1 }'); do kill -KILL "$p" 2>/dev/null; done
		for f in $segs; do rm -f "/dev/shm/$f"; done
	fi
fi

echo
if [ ${#durations[@]} -gt 10 ]; then
	echo "slowest (seconds): $(printf '%s\n' "${durations[@]}" | sort -rn | head -8 | awk '{ printf "%s %s;  ", $2, $1 }')"
	echo "all $SECONDS s"
fi
if [ ${#skipped_list[@]} -gt 0 ]; then
	echo "skipped:"; printf '  %s\n' "${skipped_list[@]}"
fi
if [ ${#failed_list[@]} -gt 0 ]; then
	echo "failed:"; printf '  %s\n' "${failed_list[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ $((passed + failed)) -gt 0 ]
