#!/usr/bin/env bash
# Description: bin/bench-wheel (lab 15) runs in its short mode and its output is sane:
# both structures checked every timer (each fired once, at its tick), every cost is a
# positive number of ns, every size is there, the table and --json have the same rows;
# bad flags exit 2.  Speed is never asserted: the ratios are printed, not tested.
. "$IOLAB_ROOT/tests/lib.sh"

bench=$IOLAB_BIN/bench-wheel
[ -x "$bench" ] || t_fail "build bin/bench-wheel first (make)"

"$bench" --help >"$T_TMP/help" || t_fail "--help exited $?"
for w in --quick --sizes --spread --reps --json; do
	grep -q -- "$w" "$T_TMP/help" || t_fail "--help does not mention $w"
done
for bad in --bogus "--sizes 0" "--sizes 10,x" "--spread 10" "--reps 0" extra; do
	# shellcheck disable=SC2086
	"$bench" $bad >/dev/null 2>&1; rc=$?
	[ $rc -eq 2 ] || t_fail "'bench-wheel $bad' exited $rc, want 2"
done

timeout 60 "$bench" --quick >"$T_TMP/text" 2>"$T_TMP/err"; rc=$?
cat "$T_TMP/text" >&2
[ $rc -eq 0 ] || { cat "$T_TMP/err" >&2; t_fail "bench-wheel --quick exited $rc"; }
grep -q '^checked: in every run each timer fired exactly once' "$T_TMP/text" ||
	t_fail "no 'checked:' line"
for n in 1000 10000; do
	for op in "add (per timer)" "cancel (per timer)" "expire (per timer)" \
	          "tick without cascade" "tick with cascade" "slowest cascading tick"; do
		line=$(grep -F "$op" "$T_TMP/text" | awk -v n="$n" '$1 == n')
		[ -n "$line" ] || t_fail "no row '$n $op'"
		# The last three fields: wheel ns, heap ns, ratio -- numbers, ns not negative.
		echo "$line" | awk '{ w = $(NF-2); h = $(NF-1); r = $NF;
			if (w !~ /^[0-9]+\.[0-9]$/ || h !~ /^[0-9]+\.[0-9]$/ || r !~ /^[0-9]+\.[0-9][0-9]$/) exit 1 }' ||
			t_fail "row '$line' is not three numbers"
	done
	# add and cancel do real work in both: more than 0 ns each.
	grep -F "add (per timer)" "$T_TMP/text" | awk -v n="$n" '$1 == n && ($(NF-2) <= 0 || $(NF-1) <= 0) { exit 1 }' ||
		t_fail "$n: an add cost 0 ns"
done

timeout 60 "$bench" --quick --json >"$T_TMP/json" || t_fail "--json run failed"
command -v jq >/dev/null || t_skip "jq is not installed (make deps installs it)"
jq -e '.checked and .n1000.timers == 1000 and .n10000.timers == 10000' "$T_TMP/json" >/dev/null ||
	t_fail "--json: not the 2 sizes: $(cat "$T_TMP/json")"
jq -e '[.n1000, .n10000 | .add.wheel_ns > 0 and .add.heap_ns > 0 and .expire.wheel_ns > 0
        and .expire.heap_ns > 0 and (.cascade_vs_heap_tick | type == "number")] | all' \
	"$T_TMP/json" >/dev/null || t_fail "--json: a cost is not positive: $(cat "$T_TMP/json")"
t_pass "bench-wheel --quick: checked, 2 sizes x 6 rows, --json agrees"
