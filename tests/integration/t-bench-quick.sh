#!/usr/bin/env bash
# Description: `make bench QUICK=1` works end to end on a tiny run (one cell, 0.3 s per
# server): labs/tools/bench/bench writes bench.tsv, bench.json and (with gnuplot)
# bench.png; the table has a row for every bin/echo-* and both peers (libuv-echo,
# libevent-echo), every run verified every echoed byte, each row carries its ratios to
# libuv-echo (1.00 for libuv-echo itself), and every server it started is gone.
# It never asserts a speed.
. "${IOLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

[ -x "$IOLAB_BIN/iolab-load" ] || t_fail "no bin/iolab-load: run make"
command -v jq >/dev/null || t_skip "no jq: make deps installs it"
servers=(libuv-echo libevent-echo)
for s in "${servers[@]}"; do
	[ -x "$IOLAB_BIN/$s" ] || t_fail "no $IOLAB_BIN/$s: make builds it (libuv1-dev, libevent-dev: make deps)"
done
for f in "$IOLAB_BIN"/echo-*; do [ -x "$f" ] && [ "${f##*/}" != echo-udp ] && servers+=("${f##*/}"); done   # UDP: not a TCP echo
[ ${#servers[@]} -gt 2 ] || t_skip "no bin/echo-* servers built yet: run make"

out=$T_TMP/results
"$IOLAB_ROOT/labs/tools/bench/bench" --quick --time 0.3 --cells 20x128 --out "$out" \
	--lock-wait 150 >"$T_TMP/bench.log" 2>&1
rc=$?
[ $rc -eq 75 ] && t_skip "another benchmark held /tmp/iolab-bench.lock for 150 s: run again when it is done"
[ $rc -eq 0 ] || { tail -20 "$T_TMP/bench.log" >&2; t_fail "bench exit $rc"; }
cat "$T_TMP/bench.log" >&2

tsv=$out/bench.tsv json=$out/bench.json
[ -s "$tsv" ] || t_fail "no $tsv"
[ -s "$json" ] || t_fail "no $json"
head -1 "$tsv" | grep -q '^server	conns	size	runs	ok	cpu_us_msg	' || t_fail "unexpected TSV header: $(head -1 "$tsv")"
for s in "${servers[@]}"; do
	row=$(awk -F'\t' -v s="$s" '$1 == s && $2 == 20 && $3 == 128' "$tsv")
	[ -n "$row" ] || t_fail "$s: no row in bench.tsv"
	IFS=$'\t' read -r _ _ _ runs ok cpu _ _ msgs _ _ p99 _ _ rcpu rmsgs rp99 note <<<"$row"
	[ "$runs" = 1 ] || t_fail "$s: $runs runs, expected 1"
	[ "$ok" = 1 ] || t_fail "$s: its run did not verify every echo: $note"
	for v in "$cpu" "$msgs" "$p99" "$rcpu" "$rmsgs" "$rp99"; do
		[[ $v =~ ^[0-9]+(\.[0-9]+)?$ ]] || t_fail "$s: a figure or ratio is missing: $row"
	done
done
awk -F'\t' '$1 == "libuv-echo" && ($15 != "1.00" || $16 != "1.00" || $17 != "1.00")' "$tsv" | grep -q . &&
	t_fail "libuv-echo's ratios to itself are not 1.00"
jq -e --argjson n ${#servers[@]} '(.rows | length) == $n and (.runs | length) == $n
	and all(.runs[]; .result.ok == true) and .machine.pinning != null' "$json" >/dev/null ||
	t_fail "bench.json: not one verified run and one row per server, or no machine"
grep -q '== 20 connections x 128 B ==' "$T_TMP/bench.log" || t_fail "no table printed"
if command -v gnuplot >/dev/null; then
	[ "$(head -c 4 "$out/bench.png" 2>/dev/null | od -An -c | tr -d ' ')" = "211PNG" ] ||
		t_fail "gnuplot is here but no bench.png"
else
	t_log "no gnuplot: chart not checked"
fi
# Every server it started is gone.
for pid in $(jq -r '.runs[].result.server_pid // empty' "$json"); do
	if kill -0 "$pid" 2>/dev/null && grep -qa -e echo "/proc/$pid/cmdline" 2>/dev/null; then
		t_fail "server pid $pid is still running"
	fi
done
t_pass
