#!/usr/bin/env bash
# Description: `make compare QUICK=1` works end to end: labs/tools/compare --quick
# (with 0.1 s runs, to stay well under a minute) writes compare.tsv, compare.json and,
# with gnuplot, compare.png and compare.svg; the TSV has matrix rows for every
# bin/echo-* present and idle-sweep rows for select/poll/epolls; each model's ratio
# to echo-epoll-lt is 1 for epoll-lt itself; every server it started is gone.
. "${IOLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

[ -x "$IOLAB_BIN/iolab-load" ] || t_fail "no bin/iolab-load: run make"
models=()
for f in "$IOLAB_BIN"/echo-*; do [ -x "$f" ] && [ "${f##*/}" != echo-udp ] && models+=("${f##*/echo-}"); done   # UDP: not a TCP echo
[ ${#models[@]} -gt 0 ] || t_skip "no bin/echo-* servers built yet: run make"

out=$T_TMP/results
start=$(date +%s)
"$IOLAB_ROOT/labs/tools/compare" --quick --time 0.1 --out "$out" >"$T_TMP/compare.log" 2>&1
rc=$?
t_log "compare --quick took $(( $(date +%s) - start )) s for ${#models[@]} models"
[ $rc -eq 0 ] || { tail -20 "$T_TMP/compare.log" >&2; t_fail "compare exit $rc"; }

tsv=$out/compare.tsv json=$out/compare.json
[ -s "$tsv" ] || t_fail "no $tsv"
[ -s "$json" ] || t_fail "no $json"
if command -v gnuplot >/dev/null; then
	[ -s "$out/compare.png" ] || t_fail "gnuplot is here but no compare.png"
	[ -s "$out/compare.svg" ] || t_fail "gnuplot is here but no compare.svg"
	[ "$(head -c 4 "$out/compare.png" | od -An -c | tr -d ' ')" = "211PNG" ] || t_fail "compare.png is not a PNG"
	grep -q '<svg' "$out/compare.svg" || t_fail "compare.svg is not SVG"
else
	t_log "no gnuplot: charts not checked"
fi

head -1 "$tsv" | grep -q '^suite	model	conns	size	idle	variant	runs	ok	msgs_s	' ||
	t_fail "unexpected TSV header: $(head -1 "$tsv")"
for m in "${models[@]}"; do
	n=$(awk -F'\t' -v m="$m" '$1 == "matrix" && $2 == m' "$tsv" | wc -l)
	[ "$n" -eq 8 ] || t_fail "$m: $n matrix rows in the TSV, expected 8 (4 connection counts x 2 sizes)"
	case $m in
	select|poll|epoll-lt|epoll-et)
		n=$(awk -F'\t' -v m="$m" '$1 == "idle" && $2 == m' "$tsv" | wc -l)
		[ "$n" -ge 3 ] || t_fail "$m: only $n idle-sweep rows" ;;
	esac
	[ "$m" = blocking ] && continue
	n=$(awk -F'\t' -v m="$m" '$1 == "telemetry" && $2 == m' "$tsv" | wc -l)
	[ "$n" -eq 2 ] || t_fail "$m: $n telemetry rows, expected 2 (stats, nostats)"
done
# At least some runs verified, and the reference's ratio to itself is 1.
ok=$(awk -F'\t' 'NR > 1 && $8 > 0' "$tsv" | wc -l)
[ "$ok" -ge 1 ] || t_fail "no cell has a verified run"
if [[ " ${models[*]} " == *" epoll-lt "* ]]; then
	bad=$(awk -F'\t' '$1 == "matrix" && $2 == "epoll-lt" && $8 > 0 && $19 != "1.000"' "$tsv")
	[ -z "$bad" ] || t_fail "epoll-lt ratio to itself is not 1: $bad"
fi
grep -q '"machine":{"kernel":' "$json" || t_fail "JSON lacks the machine"
grep -q '"congestion_control":' "$json" || t_fail "JSON lacks the congestion control"
if command -v jq >/dev/null; then
	jq -e '.rows | length > 0' "$json" >/dev/null || t_fail "compare.json is not valid JSON with rows"
fi
grep -q '== connections x size' "$T_TMP/compare.log" || t_fail "no table printed"

# Every server compare started is gone (their pids are in the raw runs).
for pid in $(grep -o '"server_pid":[0-9]*' "$json" | cut -d: -f2 | sort -u); do
	if kill -0 "$pid" 2>/dev/null && grep -q echo- "/proc/$pid/cmdline" 2>/dev/null; then
		t_fail "server pid $pid is still running"
	fi
done
t_pass
