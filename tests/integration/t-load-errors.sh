#!/usr/bin/env bash
# Description: iolab-load fails clearly.  A refused connection, a server that dies
# mid-run (noticed through --server-pid, and without it through the closed
# connections), and Ctrl-C each give a clear message, partial results and exit 1;
# bad flags exit 2 with a message that names the flag.
. "${IOLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$IOLAB_ROOT/tests/integration/t-load-lib.sh"

# 1. Refused: start a server, note its port, stop it.  Nothing listens there now
#    (a stranger could take the port in between, but not on this test's time scale).
start_corrupt
port=$T_PORT
t_stop "$T_PID"
load "$port" -c 3 -t 1
[ $RC -eq 1 ] || t_fail "refused: exit $RC, expected 1"
[ "$(jget "$(jobj "$OUT" errors)" connect)" = 1 ] || t_fail "refused: errors.connect != 1: $OUT"
grep -q '"ok":false' <<<"$OUT" || t_fail "refused: JSON not printed or ok not false: $OUT"
grep -q 'Connection refused' <<<"$ERR" || t_fail "refused: no clear message: $ERR"
human=$(timeout 10 "$LOAD" -p "$port" 2>&1); rc=$?
[ $rc -eq 1 ] || t_fail "refused (human output): exit $rc"
grep -q 'is the server running' <<<"$human" || t_fail "refused: no hint in: $human"

# 2. The server dies after 2000 frames; with --server-pid the generator says so.
start_corrupt --exit-after 2000
load "$T_PORT" -c 4 -t 5 --server-pid "$T_PID"
[ $RC -eq 1 ] || t_fail "server died: exit $RC, expected 1"
grep -q '"server_died":true' <<<"$OUT" || t_fail "server death not reported: $OUT"
grep -q 'server died' <<<"$ERR" || t_fail "no clear message on stderr: $ERR"
msgs=$(jget "$OUT" messages)
[ "${msgs:-0}" -ge 1000 ] || t_fail "partial results missing: $msgs messages before the death"
fcmp "$(jget "$OUT" duration_s)" '<' 4 || t_fail "the run went on after the server died: $OUT"

# ... and without --server-pid: every connection closed -> errors, exit 1, partial results.
start_corrupt --exit-after 2000
load "$T_PORT" -c 4 -t 5
[ $RC -eq 1 ] || t_fail "server died (no pid): exit $RC"
[ "$(jget "$(jobj "$OUT" errors)" closed)" -ge 1 ] || t_fail "closed connections not counted: $OUT"
[ "$(jget "$OUT" messages)" -ge 1000 ] || t_fail "partial results missing: $OUT"

# 3. Ctrl-C: partial results, exit 1, the run ends at once.
start_corrupt
"$LOAD" -p "$T_PORT" -c 2 -t 30 --json >"$T_TMP/int.out" 2>"$T_TMP/int.err" &
lp=$!
T_PIDS+=("$lp")
sleep 1
kill -INT "$lp"
for _ in $(seq 1 50); do kill -0 "$lp" 2>/dev/null || break; sleep 0.1; done
kill -0 "$lp" 2>/dev/null && t_fail "iolab-load still running 5 s after SIGINT"
wait "$lp"; rc=$?
[ $rc -eq 1 ] || t_fail "SIGINT: exit $rc, expected 1"
out=$(cat "$T_TMP/int.out")
grep -q '"error":"interrupted' <<<"$out" || t_fail "SIGINT: no partial results: $out"
[ "$(jget "$out" messages)" -ge 1 ] || t_fail "SIGINT: no messages counted: $out"
t_stop "$T_PID"

# 4. Bad flags: exit 2 and a message naming the problem.
bad -c 3                                   # no port
bad -p 0
bad -p 70000
bad -p 1 -m nosuchmode
bad -p 1 -f xml
bad -p 1 -t 1 -n 5
bad -p 1 -t -1
bad -p 1 -t abc
bad -p 1 -s 10 --size-min 1 --size-max 5
bad -p 1 --size-min 10 --size-max 5
bad -p 1 -r 100 -d 4
bad -p 1 -f raw -s 0
bad -p 1 --host not-an-address
bad -p 1 --no-such-flag
bad -p 1 extra-argument
"$LOAD" --help | grep -q -- '--server-pid' || t_fail "--help does not list the flags"
t_pass
