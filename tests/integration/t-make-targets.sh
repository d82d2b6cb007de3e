#!/usr/bin/env bash
# Description: the README's commands reach what they promise: `make lab-N`,
# `make check-lab-N`, `make doctor` and `make compare` each run their tool
# (a pattern rule on a .PHONY target is silently never used: this caught it);
# BROKEN=1 reaches run-lab as --broken; a lab that does not exist lists those that do.
. "$(dirname "$0")/../lib.sh"
cd "$IOLAB_ROOT" || t_fail "no repo root"
for n in 1 5 9 12; do
	out=$(make -n --no-print-directory lab-$n 2>&1)
	grep -q "labs/tools/run-lab $n\$" <<<"$out" || t_fail "make lab-$n does not run run-lab $n: $out"
	out=$(make -n --no-print-directory check-lab-$n 2>&1)
	grep -q "labs/tools/run-lab --check $n\$" <<<"$out" || t_fail "make check-lab-$n does not run run-lab --check $n"
	out=$(make -n --no-print-directory check-lab-$n BROKEN=1 2>&1)
	grep -q "labs/tools/run-lab --check --broken $n\$" <<<"$out" || t_fail "make check-lab-$n BROKEN=1 does not run run-lab --check --broken $n"
done
out=$(make --no-print-directory BUILD="$T_TMP/build" lab-42 2>&1); rc=$?
[ $rc -ne 0 ] && grep -q 'there is no lab 42' <<<"$out" && grep -q 'make lab-12' <<<"$out" ||
	t_fail "make lab-42: exit $rc, want a failure that lists the labs: $out"
make -n --no-print-directory doctor 2>&1 | grep -q 'iolab-doctor' || t_fail "make doctor does not run iolab-doctor"
make -n --no-print-directory compare QUICK=1 2>&1 | grep -q 'labs/tools/compare --quick' || t_fail "make compare QUICK=1 does not pass --quick"
for bad in bogus address,bogus; do
	make -n --no-print-directory SANITIZER=$bad 2>&1 | grep -q 'SANITIZER must be address, undefined, thread' ||
		t_fail "SANITIZER=$bad is not rejected"
done
# One object, built for real in a build directory of its own (a dry run would not show it).
make --no-print-directory BUILD="$T_TMP/build" BIN="$T_TMP/bin" SANITIZER=address,undefined V=1 \
	"$T_TMP/build/common/buf.o" 2>&1 | grep -q -- '-fsanitize=address,undefined' ||
	t_fail "SANITIZER=address,undefined does not build with both sanitizers"
t_pass
