#!/usr/bin/env bash
# Description: lab 15's claims on this kernel (bin/iolab-deadpeer, in network namespaces
# it makes itself): a peer cut off without FIN/RST is never reported without keepalive;
# keepalive 1/1/3 reports ETIMEDOUT after ~4 s, after 3 unanswered probes; keepalive does
# not probe a connection with data in flight; a SIGSTOPped peer answers the probes and is
# found only by the application heartbeat.  The broken variant (--no-keepalive) must
# fail the keepalive claim.  Through `run-lab --check 15` when the runner knows `run`
# lines, else by running the program directly.  Nothing may be left running.
. "$IOLAB_ROOT/tests/lib.sh"

dp=$IOLAB_BIN/iolab-deadpeer
runlab=$IOLAB_ROOT/labs/tools/run-lab
[ -x "$dp" ] || t_skip "bin/iolab-deadpeer is not built (make)"
command -v jq >/dev/null || t_skip "jq is not installed (make deps)"

# The command line first: --help names every flag, bad flags exit 2.
"$dp" --help >"$T_TMP/help" || t_fail "--help exited $?"
for w in --wait --keepalive --no-keepalive --heartbeat --misses --json; do
	grep -q -- "$w" "$T_TMP/help" || t_fail "--help does not mention $w"
done
for bad in --bogus "--wait 0" "--wait x" "--keepalive 1/1" "--keepalive 0/1/3" "--heartbeat 5" "--misses 0" extra; do
	# shellcheck disable=SC2086
	"$dp" $bad >/dev/null 2>&1; rc=$?
	[ $rc -eq 2 ] || t_fail "'iolab-deadpeer $bad' exited $rc, want 2"
done

leftovers() {   # processes of this build's iolab-deadpeer still alive
	ps -eo pid=,args= | awk -v p="$dp" '$2 == p { print $1 }'
}

# The claims, checked on one --json line ($1) -- the same as the scenario's [check].
claims() {
	jq -e '.silent_reported == false and .silent_poll_ready == 0 and .silent_select_ready == 0 and
	       .keepalive_reported == true and .keepalive_errno == 110 and
	       .keepalive_s >= 3 and .keepalive_s <= 5.5 and .keepalive_probes_seen == 3 and
	       .busy_reported == false and .busy_retransmits > 0 and
	       .stopped_reported == false and .stopped_last_ack_ms < 1500 and
	       .heartbeat_detected == true and .heartbeat_s < 2' "$1" >/dev/null
}

if "$runlab" --help 2>/dev/null | grep -q '^#* *run NAME'; then
	timeout 60 "$runlab" --check 15 >"$T_TMP/check" 2>&1; rc=$?
	cat "$T_TMP/check" >&2
	[ $rc -eq 77 ] && t_skip "$(grep -h SKIP "$T_TMP/check" | tail -1)"
	[ $rc -eq 0 ] || t_fail "run-lab --check 15 exited $rc"
	grep -q '^FAIL' "$T_TMP/check" && t_fail "a check failed"
	timeout 60 "$runlab" --check --broken 15 >"$T_TMP/broken" 2>&1; rc=$?
	cat "$T_TMP/broken" >&2
	grep -q '^FAIL.*keepalive' "$T_TMP/broken" ||
		t_fail "the broken variant (--no-keepalive) did not fail the keepalive check"
	[ -z "$(leftovers)" ] || t_fail "left running: $(leftovers)"
	t_pass "check-lab-15 passes; with --no-keepalive its keepalive check fails"
fi

# The runner has no `run` yet: the program itself, and its broken variant, side by side
# (each in namespaces of its own, so they cannot disturb each other).
"$dp" --json --wait 6 >"$T_TMP/ok.json" 2>"$T_TMP/ok.err" & p1=$!
T_PIDS+=("$p1")
"$dp" --json --wait 6 --no-keepalive >"$T_TMP/broken.json" 2>"$T_TMP/broken.err" & p2=$!
T_PIDS+=("$p2")
wait "$p1"; rc1=$?
wait "$p2"; rc2=$?
cat "$T_TMP/ok.json" "$T_TMP/ok.err" "$T_TMP/broken.json" >&2
[ $rc1 -eq 77 ] && t_skip "$(grep -h SKIP "$T_TMP/ok.err" | tail -1)"
[ $rc1 -eq 0 ] || t_fail "iolab-deadpeer exited $rc1"
[ $rc2 -eq 0 ] || t_fail "iolab-deadpeer --no-keepalive exited $rc2"
claims "$T_TMP/ok.json" || t_fail "a claim does not hold: $(cat "$T_TMP/ok.json")"
claims "$T_TMP/broken.json" && t_fail "the broken variant (--no-keepalive) passed every claim"
jq -e '.keepalive_reported == false' "$T_TMP/broken.json" >/dev/null ||
	t_fail "--no-keepalive: the dead peer was still reported"
[ -z "$(leftovers)" ] || t_fail "left running: $(leftovers)"
t_pass "lab 15: keepalive after $(jq .keepalive_s "$T_TMP/ok.json") s, heartbeat after $(jq .heartbeat_s "$T_TMP/ok.json") s; --no-keepalive: never"
