#!/usr/bin/env bash
# Description: stopping labs/tools/compare mid-run (SIGTERM, as Ctrl-C's SIGINT is
# ignored by background jobs of a script) kills the server and the load generator it
# started, writes no half results, and exits promptly.
. "${IOLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

m=
for c in epoll-lt blocking select poll; do [ -x "$IOLAB_BIN/echo-$c" ] && { m=$c; break; }; done
[ -n "$m" ] || t_skip "no bin/echo-* server built yet: run make"

out=$T_TMP/results
"$IOLAB_ROOT/labs/tools/compare" --models "$m" --time 5 --repeats 1 --out "$out" \
	>"$T_TMP/compare.log" 2>&1 &
cpid=$!
T_PIDS+=("$cpid")

# Wait until the first run is under way: a server (child of compare) and
# iolab-load (under timeout) both running.
srv='' load=''
for _ in $(seq 1 200); do
	for k in $(ps -o pid= --ppid "$cpid"); do
		case $(cat "/proc/$k/comm" 2>/dev/null) in
		echo-*) srv=$k ;;
		timeout) load=$(ps -o pid= --ppid "$k" | tr -d ' ') ;;
		esac
	done
	[ -n "$srv" ] && [ -n "$load" ] && [ "$(cat "/proc/$load/comm" 2>/dev/null)" = iolab-load ] && break
	sleep 0.05
done
[ -n "$srv" ] && [ -n "$load" ] || t_fail "compare did not start a server and iolab-load (server '$srv', load '$load')"
t_log "compare $cpid: server $srv, iolab-load $load"
all="$srv $load"
sleep 0.5
kill -TERM "$cpid"
for _ in $(seq 1 100); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$cpid" 2>/dev/null && t_fail "compare still running 5 s after SIGTERM"
wait "$cpid"; rc=$?
[ $rc -ne 0 ] || t_fail "compare exited 0 after being stopped"
for p in $all; do
	kill -0 "$p" 2>/dev/null && t_fail "pid $p ($(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null)) survived"
done
[ -e "$out/compare.tsv" ] && t_fail "an interrupted compare wrote compare.tsv"
grep -q interrupted "$T_TMP/compare.log" || t_fail "no word of the interruption: $(cat "$T_TMP/compare.log")"
t_pass
