#!/usr/bin/env bash
# Description: the exercises (make exercise-N, make grade-N) for every lab with a
# labs/NN-name/exercise.txt: the generated file compiles with -Werror; graded unchanged
# it scores well below full; the solution (the model file) gets full marks; the wrong
# answers in tests/exercises/ lose the model's points (a busy-poll and a poll() answer
# to lab 5, an ET answer that does not drain to lab 6, a timing wheel with a sorted
# insert, one that scans and one that never cascades to lab 15, loops that poll their
# task queues to lab 20); a file that hangs or crashes is graded within the time limit
# and leaves no process; a changed exercise is never overwritten (FORCE resets it,
# keeping a .bak); lab 15's exercise is work/15-timers/wheel.c (its handout's @file).
# `t-exercises.sh solutions` grades only the solutions (t-exercise-solutions.sh runs it
# so: each half stays well under the runner's time limit); without it, everything else.
. "$IOLAB_ROOT/tests/lib.sh"
part=${1:-rest}

EX=$IOLAB_ROOT/labs/tools/exercise
GRADE=$IOLAB_ROOT/labs/tools/grade
ENV=$IOLAB_BIN/tests/grade.env
[ -f "$ENV" ] || t_skip "$ENV is missing: build first (make)"
command -v strace >/dev/null || t_skip "strace is missing: make deps"
command -v jq >/dev/null || t_skip "jq is missing: make deps"
strace -f -qq -o /dev/null true 2>/dev/null || t_skip "strace cannot trace here (ptrace not permitted?): the model checks need it"
. "$ENV"
export GRADE_LOGS= TMPDIR=$T_TMP/tmp IOLAB_WORK=$T_TMP/work
mkdir -p "$TMPDIR"
labs=$(ls "$IOLAB_ROOT"/labs/*/exercise.txt | sed 's|.*/labs/0*\([0-9]*\)-.*|\1|' | sort -n | tr '\n' ' ')
[ "$(echo $labs | wc -w)" -ge 9 ] || t_fail "only labs $labs have an exercise: the nine model labs need one each"
for n in 15 20; do
	[[ " $labs " == *" $n "* ]] || t_fail "lab $n has no exercise (labs/$n-*/exercise.txt)"
done

score() { sed -n 's/^score: \([0-9]*\)\/\([0-9]*\)$/\1 \2/p' "$1"; }
# No process may run a binary from the grader's temporary directories.
leftovers() {
	local p e
	for p in /proc/[0-9]*; do
		e=$(readlink "$p/exe" 2>/dev/null) || continue
		[[ $e == "$TMPDIR"/* ]] && echo "${p#/proc/} $e"
	done
}

# solution_file N: lab N's solution: its handout's @file, else its one echo-*.c.
solution_file() {
	local d at
	d=$(ls -d "$IOLAB_ROOT"/labs/"$(printf %02d "$1")"-*/ | head -1)
	at=$(sed -n 's/^@file  *//p' "$d/exercise.txt")
	if [ -n "$at" ]; then echo "$IOLAB_ROOT/$at"; else ls "$d"echo-*.c; fi
}

# The solutions (part "solutions"): full marks, two graded at a time.
grade_solution() {
	local n=$1 only=()
	# Lab 20's own checks take 20 s and compare latencies, which a grade running beside
	# them disturbs; t-lab20.sh runs them on this same file.  Here: the rest of its grade.
	[ "$n" = 20 ] && only=(--only smoke,suite,unit,model)
	local s=$SECONDS
	timeout 170 "$GRADE" --timeout 40 "${only[@]}" --src "$(solution_file "$n")" "$n" >"$T_TMP/sol$n" 2>&1
	echo $((SECONDS - s)) >"$T_TMP/sol$n.s"
}
if [ "$part" = solutions ]; then
	# Two at a time, but lab 6 alone: its check compares latencies under a hog, and a
	# grade beside it is exactly the noise that makes such a check miss.
	pids=()
	for n in $labs; do
		[ "$n" = 6 ] && continue
		grade_solution "$n" & pids+=($!)
		if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
	done
	wait
	[[ " $labs " == *" 6 "* ]] && grade_solution 6
	for n in $labs; do
		read -r got max <<<"$(score "$T_TMP/sol$n")"
		if [ -n "${max:-}" ] && [ "$got" != "$max" ] && [ "$(grep -c ' FAIL ' "$T_TMP/sol$n")" = 1 ] &&
		   grep -q '^lab-checks  *FAIL' "$T_TMP/sol$n" &&
		   ! timeout 120 "$IOLAB_ROOT/labs/tools/run-lab" --check "$n" >"$T_TMP/lab$n" 2>&1; then
			# The lab's own check fails on this build with the reference binary too (a
			# latency ratio under a sanitizer, say): that is the lab's, not the grader's.
			t_log "lab $n solution: $got/$max; lab-checks fails with bin/ too: $(grep -m1 '^FAIL' "$T_TMP/lab$n")"
			continue
		fi
		if [ -z "${max:-}" ] || [ "$got" != "$max" ]; then
			grep -E 'FAIL|SKIP|score' "$T_TMP/sol$n" >&2 || tail -5 "$T_TMP/sol$n" >&2
			# A kernel without the model's feature (io_uring off) is a skip, not a pass.
			grep -q '^smoke .*exit status 3' "$T_TMP/sol$n" && t_skip "lab $n: the model cannot run on this kernel (make doctor)"
			t_fail "lab $n: the solution scores ${got:-?}/${max:-?}, not full marks"
		fi
		grep -q '^(.*skipped' "$T_TMP/sol$n" && t_log "lab $n: $(grep '^(.*skipped' "$T_TMP/sol$n")"
		t_log "lab $n solution: $got/$max ($(cat "$T_TMP/sol$n.s") s)"
	done
	t_pass "the solutions of $(echo $labs | wc -w) exercises get full marks"
fi

# 1. The markers and the handouts agree; every exercise compiles as handed out.
"$EX" --check >"$T_TMP/check" 2>&1 || { cat "$T_TMP/check" >&2; t_fail "exercise --check: markers and handouts disagree"; }
for n in $labs; do
	"$EX" --stdout "$n" >"$T_TMP/ex$n.c" || t_fail "lab $n: the exercise was not generated"
	grep -q 'TODO(' "$T_TMP/ex$n.c" || t_fail "lab $n: the exercise has no TODO"
	(cd "$IOLAB_ROOT" && $GRADE_CC $GRADE_CFLAGS -Werror $GRADE_URING_CFLAGS -c -o "$T_TMP/ex$n.o" "$T_TMP/ex$n.c") 2>"$T_TMP/cc$n" ||
		{ cat "$T_TMP/cc$n" >&2; t_fail "lab $n: the generated exercise does not compile with -Werror"; }
done
t_log "ok: every exercise generated with its TODOs, and compiles with -Werror"

# 2. Graded unchanged: well below full marks (a quarter at most), and quickly.
for n in $labs; do
	s=$SECONDS
	timeout 120 "$GRADE" --timeout 20 --src "$T_TMP/ex$n.c" "$n" >"$T_TMP/un$n" 2>&1
	read -r got max <<<"$(score "$T_TMP/un$n")"
	[ -n "${max:-}" ] || { cat "$T_TMP/un$n" >&2; t_fail "lab $n unchanged: no score line"; }
	[ $((got * 4)) -le "$max" ] || { cat "$T_TMP/un$n" >&2; t_fail "lab $n unchanged scores $got/$max: the stubs give too much"; }
	t_log "lab $n unchanged: $got/$max ($((SECONDS - s)) s)"
done

# 3. Wrong models lose the model's points (only the smoke group and the groups of the
# cases named: the echo is fine).
wrong_grade() {   # wrong_grade ANSWER LAB GROUP/CASE...: generate the answer and grade it
	local a=$1 n=$2 c groups=smoke; shift 2
	for c in "$@"; do [[ ,$groups, == *,${c%%/*},* ]] || groups=$groups,${c%%/*}; done
	"$EX" --stdout --answer "$IOLAB_ROOT/tests/exercises/$a.txt" "$n" >"$T_TMP/$a.c" ||
		{ echo "not generated" >"$T_TMP/$a.out"; return; }
	timeout 120 "$GRADE" --timeout 30 --only "$groups" --src "$T_TMP/$a.c" "$n" >"$T_TMP/$a.out" 2>&1
}
wrong_check() {   # wrong_check ANSWER LAB GROUP/CASE...: each CASE failed, the smoke case passed
	local a=$1 c; shift 2
	for c in "$@"; do
		grep -q "^$c  *FAIL" "$T_TMP/$a.out" || { cat "$T_TMP/$a.out" >&2; t_fail "$a: $c did not fail"; }
	done
	grep -q '^smoke  *PASS' "$T_TMP/$a.out" || { cat "$T_TMP/$a.out" >&2; t_fail "$a: it echoes, the smoke case should pass"; }
	t_log "$a: $(score "$T_TMP/$a.out" | tr ' ' /), failed: $(grep -o '^[a-z]*/[a-z-]*  *FAIL' "$T_TMP/$a.out" | sed 's/  *FAIL//' | tr '\n' ' ')"
}
wrong() { wrong_grade "$@"; wrong_check "$@"; }
wrong 05-busy-poll 5 model/idle
wrong 05-poll 5 model/wait-call
wrong 06-no-drain 6 model/drain
# Lab 15: the work is counted (basic blocks), so an O(n) wheel loses points however fast
# the machine: the counts do not mind a grade beside them, so these run together.  A
# wheel that never cascades misses its timers.  Lab 20: loops that poll their task
# queues (no eventfd) echo everything, but late, and awake when idle.
lab15_20=("15-sorted 15 model/ops-add" "15-scan 15 model/ops-tick" "15-no-cascade 15 unit/property model/timers"
	  "20-poll 20 model/eventfd model/idle model/handover")
pids=()
for w in "${lab15_20[@]}"; do
	# shellcheck disable=SC2086
	wrong_grade $w & pids+=($!)
done
wait "${pids[@]}"
for w in "${lab15_20[@]}"; do
	# shellcheck disable=SC2086
	wrong_check $w
done

# 4. A file that hangs (deaf to SIGTERM) and one that crashes: failed with a message,
# within the time limit, nothing left running.  The hang also hits the per-case limit.
for a in 05-hang 05-crash; do
	"$EX" --stdout --answer "$IOLAB_ROOT/tests/exercises/$a.txt" 5 >"$T_TMP/$a.c" || t_fail "$a: not generated"
done
s=$SECONDS
timeout 100 "$GRADE" --timeout 20 --src "$T_TMP/05-hang.c" 5 >"$T_TMP/hang.out" 2>&1; rc=$?
[ $rc = 124 ] && t_fail "grading a hanging server hung the grader"
[ $((SECONDS - s)) -le 60 ] || t_fail "grading a hanging server took $((SECONDS - s)) s"
grep -q '^smoke  *FAIL .*no echo' "$T_TMP/hang.out" || { cat "$T_TMP/hang.out" >&2; t_fail "05-hang: no 'no echo' failure"; }
timeout 60 "$GRADE" --timeout 2 --only smoke --src "$T_TMP/05-hang.c" 5 >"$T_TMP/hang2.out" 2>&1
grep -q '^smoke  *FAIL .*timed out after 2 s' "$T_TMP/hang2.out" || { cat "$T_TMP/hang2.out" >&2; t_fail "05-hang --timeout 2: the case did not time out"; }
timeout 60 "$GRADE" --timeout 20 --src "$T_TMP/05-crash.c" 5 >"$T_TMP/crash.out" 2>&1
grep -q '^smoke  *FAIL .*SEGV' "$T_TMP/crash.out" || { cat "$T_TMP/crash.out" >&2; t_fail "05-crash: the crash (SIGSEGV) is not reported"; }
grep -q '^score: 1/' "$T_TMP/crash.out" || t_fail "05-crash: $(grep score "$T_TMP/crash.out")"
left=$(leftovers)
[ -z "$left" ] || { kill -KILL $(echo "$left" | cut -d' ' -f1) 2>/dev/null; t_fail "left running after grading: $left"; }
[ -z "$(ls "$TMPDIR")" ] || t_fail "the grader left $(ls "$TMPDIR") in TMPDIR"
t_log "hang: $(grep '^smoke' "$T_TMP/hang.out")"
t_log "hang, --timeout 2: $(grep '^smoke' "$T_TMP/hang2.out")"
t_log "crash: $(grep '^smoke' "$T_TMP/crash.out")"

# 5. make exercise-N keeps a student's changes; FORCE resets them (keeping a .bak).
out=$("$EX" 5) || t_fail "exercise 5 failed: $out"
f=$(ls "$IOLAB_WORK"/05-*/echo-epoll-lt.c) || t_fail "exercise 5 wrote no file"
echo '/* my work */' >>"$f"
out=$("$EX" 5)
grep -q 'has your changes: not overwritten' <<<"$out" || t_fail "a changed file: no 'not overwritten' message: $out"
tail -1 "$f" | grep -q 'my work' || t_fail "the student's change was overwritten"
FORCE=1 "$EX" 5 >/dev/null || t_fail "FORCE=1 failed"
tail -1 "$f.bak" | grep -q 'my work' || t_fail "FORCE=1 did not keep the change in .bak"
cmp -s "$f" "$T_TMP/ex5.c" || t_fail "FORCE=1 did not write a fresh exercise"
"$EX" 5 >/dev/null && cmp -s "$f" "$T_TMP/ex5.c" || t_fail "an unchanged exercise is not simply written again"
# A handout's @file names the exercise: lab 15's is wheel.c, and grade-15 finds it there.
"$EX" 15 >/dev/null && cmp -s "$IOLAB_WORK/15-timers/wheel.c" "$T_TMP/ex15.c" || t_fail "exercise 15 did not write work/15-timers/wheel.c"
"$GRADE" --only build 15 >"$T_TMP/build15" 2>&1 && grep -q 'work/15-timers/wheel.c' "$T_TMP/build15" ||
	{ cat "$T_TMP/build15" >&2; t_fail "grade 15 did not build work/15-timers/wheel.c"; }
t_pass "exercises: $(echo $labs | wc -w) generated, compile, unchanged << full, wrong models lose, hang/crash contained, changes kept"
