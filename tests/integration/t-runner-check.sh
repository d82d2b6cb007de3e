#!/usr/bin/env bash
# Description: run-lab's headless mode and scenario language.  A scenario with checks
# that must hold and checks that must not gives PASS and FAIL lines for exactly those,
# a correct summary and exit 1; an all-true one exits 0.  Values come from the live
# server (telemetry) and from the load's JSON.  A syntax error names file:line and
# exits 2; a program that is not built exits 3 and says which; lab mode with no
# terminal prints the instructions with the real port and stops by itself.
. "$IOLAB_ROOT/tests/lib.sh"

runlab=$IOLAB_ROOT/labs/tools/run-lab
server=echo-epoll-lt
[ -x "$IOLAB_BIN/$server" ] || t_skip "bin/echo-epoll-lt is not built (make)"
[ -x "$IOLAB_BIN/iolab-load" ] || t_skip "bin/iolab-load is not built (make)"
[ -x "$IOLAB_BIN/iolab-stat" ] || t_fail "bin/iolab-stat is not built (make)"

"$runlab" --help >"$T_TMP/help" || t_fail "--help exited $?"
for w in server say view load connect expect-echo expect-silence expect within '\[check\]'; do
	grep -q -- "$w" "$T_TMP/help" || t_fail "--help does not document '$w'"
done

# --- a mixed scenario: the second check of each pair must FAIL
cat >"$T_TMP/mixed" <<EOF2
server srv $server -f line
[lab]
say never printed in check mode
[check]
connect a srv
send a ping
expect-echo a 2                  # echo comes back
send a pong
expect-silence a 0.3             # wrong on purpose: the echo does come
close a
load l1 srv -c 2 -s 16 -n 50 -f line
expect l1.ok == true
expect l1.messages == 100        # 2 connections x 50 messages
expect l1.messages == 101        # wrong on purpose
expect srv.accepts == 3
expect srv.accepts > 3 within 0.3  # wrong on purpose
expect srv.frames_in == l1.messages + 2
expect srv.no_such_counter == 0  # an unknown counter is a FAIL, not a crash
EOF2
"$runlab" --check --scenario "$T_TMP/mixed" >"$T_TMP/mixed.out" 2>&1; rc=$?
cat "$T_TMP/mixed.out" >&2
[ $rc -eq 1 ] || t_fail "mixed scenario exited $rc, want 1"
grep -q 'never printed' "$T_TMP/mixed.out" && t_fail "[lab] text was printed in check mode"
want_pass=("expect-echo a" "l1.ok == true" "l1.messages == 100 " "srv.accepts == 3 " "srv.frames_in == l1.messages + 2" "exit 0 on SIGTERM")
want_fail=("expect-silence a" "l1.messages == 101" "srv.accepts > 3" "srv.no_such_counter")
for w in "${want_pass[@]}"; do grep -q "^PASS  .*$w" "$T_TMP/mixed.out" || t_fail "no PASS line for '$w'"; done
for w in "${want_fail[@]}"; do grep -q "^FAIL  .*$w" "$T_TMP/mixed.out" || t_fail "no FAIL line for '$w'"; done
np=$(grep -c '^PASS  ' "$T_TMP/mixed.out"); nf=$(grep -c '^FAIL  ' "$T_TMP/mixed.out")
[ "$nf" -eq ${#want_fail[@]} ] || t_fail "$nf FAIL lines, want ${#want_fail[@]}"
grep -q "passed, $nf failed\$" "$T_TMP/mixed.out" || t_fail "summary line does not say $nf failed"
grep -q "^.*: $np passed" "$T_TMP/mixed.out" || t_fail "summary line does not say $np passed"
grep -q -- '-- 2 connections x 50 messages' "$T_TMP/mixed.out" || t_fail "a check's '# text' is not printed with it"
pid=$(sed -n 's/^started srv: .*(pid \([0-9]*\).*/\1/p' "$T_TMP/mixed.out")
[ -n "$pid" ] || t_fail "no 'started srv' line"
kill -0 "$pid" 2>/dev/null && t_fail "server $pid still running after run-lab --check"
[ -z "$(t_segment "$pid")" ] || t_fail "segment of $pid left behind"

# --- all true: exit 0
cat >"$T_TMP/good" <<EOF2
server srv $server -f line
[check]
expect srv.accepts == 0
expect srv.port > 0
EOF2
"$runlab" --check --scenario "$T_TMP/good" >"$T_TMP/good.out" 2>&1 || { cat "$T_TMP/good.out" >&2; t_fail "all-true scenario exited $?"; }
port=$(sed -n 's/^started srv: .*listening on .*:\([0-9]*\))$/\1/p' "$T_TMP/good.out")
grep -q "srv.port = $port" "$T_TMP/good.out" || t_fail "srv.port is not the port from 'listening on' ($port)"

# --- syntax errors name file:line, exit 2, start nothing
printf 'server srv %s -f line\n\nfrobnicate now\n' "$server" >"$T_TMP/bad"
"$runlab" --check --scenario "$T_TMP/bad" >"$T_TMP/bad.out" 2>&1; rc=$?
[ $rc -eq 2 ] || t_fail "unknown command: exit $rc, want 2"
grep -q "$T_TMP/bad:3: unknown command 'frobnicate'" "$T_TMP/bad.out" || t_fail "unknown command: message lacks file:line: $(cat "$T_TMP/bad.out")"
grep -q '^started' "$T_TMP/bad.out" && t_fail "a server was started despite the syntax error"
printf 'server srv %s\n[check]\nexpect nobody.accepts == 1\n' "$server" >"$T_TMP/bad2"
"$runlab" --check --scenario "$T_TMP/bad2" >"$T_TMP/bad2.out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "bad2:3: .*'nobody' is not a server or load" "$T_TMP/bad2.out" ||
	t_fail "undefined name: exit $rc, $(cat "$T_TMP/bad2.out")"

# --- a program that is not built: exit 3, named
printf 'server srv echo-no-such-model -f line\n' >"$T_TMP/missing"
"$runlab" --check --scenario "$T_TMP/missing" >"$T_TMP/missing.out" 2>&1; rc=$?
[ $rc -eq 3 ] || t_fail "missing program: exit $rc, want 3"
grep -q 'bin/echo-no-such-model' "$T_TMP/missing.out" || t_fail "missing program not named: $(cat "$T_TMP/missing.out")"

# --- lab mode, stdin not a terminal: instructions with the real port, then stop by itself
cat >"$T_TMP/labmode" <<EOF2
server srv $server -f line
[lab]
say connect with: nc 127.0.0.1 \${srv.port}
view srv
[check]
say never printed in lab mode
EOF2
timeout 20 "$runlab" --scenario "$T_TMP/labmode" </dev/null >"$T_TMP/lab.out" 2>&1; rc=$?
[ $rc -eq 0 ] || { cat "$T_TMP/lab.out" >&2; t_fail "lab mode without a terminal exited $rc (124 = it hung)"; }
port=$(sed -n 's/^started srv: .*listening on .*:\([0-9]*\))$/\1/p' "$T_TMP/lab.out")
grep -qx "connect with: nc 127.0.0.1 $port" "$T_TMP/lab.out" || t_fail "say did not get the real port $port: $(cat "$T_TMP/lab.out")"
grep -q 'never printed' "$T_TMP/lab.out" && t_fail "[check] text was printed in lab mode"
pid=$(sed -n 's/^started srv: .*(pid \([0-9]*\).*/\1/p' "$T_TMP/lab.out")
kill -0 "$pid" 2>/dev/null && t_fail "lab mode left server $pid running"

t_pass "run-lab check mode: $np PASS and $nf FAIL as designed; syntax, missing-program and no-tty cases"
