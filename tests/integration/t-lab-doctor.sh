#!/usr/bin/env bash
# Description: `make doctor` (bin/iolab-doctor) gives a verdict for every check, a
# "fix:" line under every PROBLEM, exit 1 exactly when there is a PROBLEM, and
# --only CHECK runs that one check alone (the lab 8/9 tests use it to skip).
. "$IOLAB_ROOT/tests/lib.sh"

doc=$IOLAB_BIN/iolab-doctor
[ -x "$doc" ] || t_fail "bin/iolab-doctor is not built (make)"
"$doc" --help >"$T_TMP/help" || t_fail "--help exited $?"
"$doc" --only no-such-check >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || t_fail "--only no-such-check exited $rc, want 2"

"$doc" >"$T_TMP/all"; rc=$?
cat "$T_TMP/all" >&2
checks=$(sed -n 's/.*run one check: *//p' "$T_TMP/help")
[ -n "$checks" ] || t_fail "--help does not list the checks"
nverdicts=$(grep -cE '^  (ok|note|PROBLEM) ' "$T_TMP/all")
[ "$nverdicts" -eq "$(echo "$checks" | wc -w)" ] || t_fail "$nverdicts verdicts for $(echo "$checks" | wc -w) checks"
nprob=$(grep -c '^  PROBLEM ' "$T_TMP/all")
nfix=$(grep -c '^  *fix: ' "$T_TMP/all")
[ "$nfix" -ge "$nprob" ] || t_fail "$nprob problems but only $nfix fix lines"
if [ "$nprob" -gt 0 ]; then [ $rc -eq 1 ] || t_fail "$nprob problems, exit $rc"; else [ $rc -eq 0 ] || t_fail "no problem, exit $rc"; fi
for c in $checks; do
	"$doc" --only "$c" >"$T_TMP/one"; r=$?
	[ "$(grep -cE '^  (ok|note|PROBLEM) ' "$T_TMP/one")" -eq 1 ] || t_fail "--only $c: not exactly one verdict"
	grep -q '^  PROBLEM ' "$T_TMP/one" && want=1 || want=0
	[ $r -eq $want ] || t_fail "--only $c: exit $r, want $want"
done
grep -q "$(uname -r)" "$T_TMP/all" || t_fail "the kernel version $(uname -r) is not reported"
t_pass "doctor: $nverdicts checks, $nprob problem(s), exit $rc"
