#!/usr/bin/env bash
# Description: `make fuzz FUZZ_SECONDS=15` builds every libFuzzer harness in tests/fuzz/
# with clang (-fsanitize=fuzzer,address,undefined, into build/fuzz/) and runs each for
# 15 s from its committed seed corpus: it must exit 0 (no crash, leak or timeout), and
# every harness must have loaded its seeds and run.  Skips when clang or its libFuzzer
# runtime is missing.
. "${IOLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
cd "$IOLAB_ROOT" || t_fail "no repo root"
SECONDS_EACH=${FUZZ_SECONDS:-15}

command -v clang >/dev/null || t_skip "no clang: install clang and libclang-rt-14-dev (make deps)"
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }\n' >"$T_TMP/probe.c"
clang -fsanitize=fuzzer,address,undefined -o "$T_TMP/probe" "$T_TMP/probe.c" 2>"$T_TMP/probe.err" ||
	t_skip "clang cannot link a libFuzzer program ($(head -1 "$T_TMP/probe.err")): install libclang-rt-14-dev (make deps)"

harnesses=()
for f in tests/fuzz/fuzz_*.c; do h=${f##*/fuzz_}; harnesses+=("${h%.c}"); done
[ ${#harnesses[@]} -ge 2 ] || t_fail "expected at least the framing and telemetry harnesses, found: ${harnesses[*]}"

make --no-print-directory fuzz FUZZ_SECONDS="$SECONDS_EACH" >"$T_TMP/fuzz.out" 2>&1
rc=$?
cat "$T_TMP/fuzz.out" >&2
[ $rc -eq 0 ] || t_fail "make fuzz exit $rc (a crash: see the lines above and build/fuzz/crash-*)"

for h in "${harnesses[@]}"; do
	log=build/fuzz/$h.log
	[ -s "$log" ] || t_fail "$h: no log $log"
	nseeds=$(find "tests/fuzz/corpus/$h" -type f | wc -l)
	[ "$nseeds" -ge 10 ] || t_fail "$h: only $nseeds seed files in tests/fuzz/corpus/$h"
	grep -q 'INITED' "$log" || t_fail "$h: libFuzzer never finished loading the corpus"
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	[ -n "$execs" ] && [ "$execs" -gt "$nseeds" ] || t_fail "$h: ran ${execs:-no} inputs in ${SECONDS_EACH} s"
	t_log "$h: $execs inputs in ${SECONDS_EACH} s, no crash"
done
t_pass
