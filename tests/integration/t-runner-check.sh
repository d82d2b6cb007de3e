#!/usr/bin/env bash
# Description: run-lab's headless mode and scenario language.  A scenario with checks
# that must hold and checks that must not gives PASS and FAIL lines for exactly those,
# a correct summary and exit 1; an all-true one exits 0.  Values come from the live
# server (telemetry) and from the load's JSON.  A syntax error names file:line and
# exits 2; a program that is not built exits 3 and says which; lab mode with no
# terminal prints the instructions with the real port and stops by itself.  Every
# check line prints the values it compared.  The commands the labs' headline checks
# use: watch (names checked against the telemetry), run (a probe's JSON as values;
# exit 77 = SKIP), measure (counters and CPU over a window), broken (--broken adds
# flags; without a broken line --broken is an error), text and 0x masks in expect.
. "$IOLAB_ROOT/tests/lib.sh"

runlab=$IOLAB_ROOT/labs/tools/run-lab
server=echo-epoll-lt
[ -x "$IOLAB_BIN/$server" ] || t_skip "bin/echo-epoll-lt is not built (make)"
[ -x "$IOLAB_BIN/iolab-load" ] || t_skip "bin/iolab-load is not built (make)"
[ -x "$IOLAB_BIN/iolab-stat" ] || t_fail "bin/iolab-stat is not built (make)"

"$runlab" --help >"$T_TMP/help" || t_fail "--help exited $?"
for w in server say view load connect expect-echo expect-silence expect within '\[check\]' \
	broken watch 'run NAME' measure cpu_ms trail.KIND during.COUNTER -- --broken; do
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
want_pass=("expect-echo a" "l1.ok = true (want == true)" "l1.messages = 100 (want == 100)" "srv.accepts = 3 (want == 3)"
	"srv.frames_in = 102 (want == 102 = l1.messages + 2)" "exit 0 on SIGTERM")
want_fail=("expect-silence a" "l1.messages = 100 (want == 101)" "srv.accepts = 3 (want > 3)" "srv.no_such_counter")
for w in "${want_pass[@]}"; do grep -q -F "$w" <(grep '^PASS  ' "$T_TMP/mixed.out") || t_fail "no PASS line for '$w'"; done
for w in "${want_fail[@]}"; do grep -q -F "$w" <(grep '^FAIL  ' "$T_TMP/mixed.out") || t_fail "no FAIL line for '$w'"; done
np=$(grep -c '^PASS  ' "$T_TMP/mixed.out"); nf=$(grep -c '^FAIL  ' "$T_TMP/mixed.out")
[ "$nf" -eq ${#want_fail[@]} ] || t_fail "$nf FAIL lines, want ${#want_fail[@]}"
grep -q "passed, $nf failed\$" "$T_TMP/mixed.out" || t_fail "summary line does not say $nf failed"
grep -q "^.*: $np passed" "$T_TMP/mixed.out" || t_fail "summary line does not say $np passed"
grep -q -- '^PASS  2 connections x 50 messages: l1.messages = 100' "$T_TMP/mixed.out" || t_fail "a check's '# text' is not printed with it"
pid=$(sed -n 's/^started srv: .*(pid \([0-9]*\).*/\1/p' "$T_TMP/mixed.out")
[ -n "$pid" ] || t_fail "no 'started srv' line"
kill -0 "$pid" 2>/dev/null && t_fail "server $pid still running after run-lab --check"
[ -z "$(t_segment "$pid")" ] || t_fail "segment of $pid left behind"

# --- the headline-check commands: watch, run, measure, broken, words and masks
printf '#!/bin/sh\necho "SKIP: no widget here (install widget)" >&2\nexit 77\n' >"$T_TMP/skipper"
chmod +x "$T_TMP/skipper"
cat >"$T_TMP/new" <<EOF2
broken srv --high-water 65536
server srv $server -f line
watch accepts wait_calls
watch no_such_counter            # wrong on purpose
[check]
run p iolab-probe --json --no-stats
expect p.exit == 0
expect p.observations.5.case == before-connect
expect p.observations.5.mask_hex == 0x14
expect p.observations.5.mask_hex == p.observations.5.mask
measure w srv 0.5
expect w.ms >= 400               # the window
expect w.cpu_ms * 100 / w.ms < 50   # an idle epoll server sleeps
expect w.wait_calls == 0
EOF2
[ -x "$IOLAB_BIN/iolab-probe" ] || t_skip "bin/iolab-probe is not built (make)"
"$runlab" --check --scenario "$T_TMP/new" >"$T_TMP/new.out" 2>&1; rc=$?
cat "$T_TMP/new.out" >&2
[ $rc -eq 1 ] || t_fail "new-commands scenario exited $rc, want 1 (one wrong watch)"
grep -q '^PASS  watch: accepts wait_calls are telemetry counters' "$T_TMP/new.out" || t_fail "watch of real counters did not PASS"
grep -q '^FAIL  .*watch: no_such_counter not a telemetry counter' "$T_TMP/new.out" || t_fail "watch of a wrong name did not FAIL"
[ "$(grep -c '^FAIL' "$T_TMP/new.out")" = 1 ] || t_fail "want exactly one FAIL (the wrong watch)"
grep -q '^PASS  p.observations.5.case = before-connect (want == before-connect)' "$T_TMP/new.out" || t_fail "a word from run's JSON was not compared as text"
grep -q '^PASS  p.observations.5.mask_hex = 0x14 (want == 0x14)' "$T_TMP/new.out" || t_fail "a hex mask was not compared and shown as written"
grep -q '^PASS  an idle epoll server sleeps: w.cpu_ms \* 100 / w.ms = [0-9.]* (want < 50)  \[w.cpu_ms = [0-9]*, w.ms = [0-9]*\]' "$T_TMP/new.out" ||
	t_fail "measure's figures are not printed with the check"
grep -q 'broken variant' "$T_TMP/new.out" && t_fail "broken flags applied without --broken"
"$runlab" --check --broken --scenario "$T_TMP/new" >"$T_TMP/newb.out" 2>&1
grep -q '^broken variant: srv gets --high-water 65536' "$T_TMP/newb.out" || t_fail "--broken did not say what it changed"
grep -q '^started srv: bin/echo-epoll-lt -p 0 -f line --high-water 65536 ' "$T_TMP/newb.out" || t_fail "--broken did not add the flags to the server"
"$runlab" --check --broken --scenario "$T_TMP/mixed" >"$T_TMP/nob.out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "has no 'broken' line" "$T_TMP/nob.out" || t_fail "--broken without a broken line: exit $rc, want 2 and a reason"
printf 'server srv %s -f line\n[check]\nrun s %s\nexpect srv.accepts == 99\n' "$server" "$T_TMP/skipper" >"$T_TMP/skip"
"$runlab" --check --scenario "$T_TMP/skip" >"$T_TMP/skip.out" 2>&1; rc=$?
[ $rc -eq 77 ] || { cat "$T_TMP/skip.out" >&2; t_fail "a run program exiting 77: run-lab exit $rc, want 77"; }
grep -q '^SKIP .*no widget here (install widget)' "$T_TMP/skip.out" || t_fail "the SKIP line does not carry the program's reason"
grep -q '^FAIL' "$T_TMP/skip.out" && t_fail "checks ran after the SKIP"
pid=$(sed -n 's/^started srv: .*(pid \([0-9]*\).*/\1/p' "$T_TMP/skip.out")
kill -0 "$pid" 2>/dev/null && t_fail "the SKIP left server $pid running"

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
