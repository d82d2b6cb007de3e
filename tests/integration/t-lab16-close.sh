#!/usr/bin/env bash
# Description: lab 16's claims, straight from bin/iolab-close: after the peer's RST write 1
# is ECONNRESET and write 2 is killed by SIGPIPE; after its FIN write 1 succeeds and write 2
# is killed; MSG_NOSIGNAL / SIG_IGN give EPIPE; read() never raises SIGPIPE; the active
# closer holds TIME_WAIT for 60 s; SO_LINGER {1,0} resets and skips it; shutdown(SHUT_WR)
# half-closes; a server that closes leaves no CLOSE_WAIT.  Then the broken variants
# (--bug=forget-close, --bug=no-linger, --serve --forget-close) must show the failure.
. "$IOLAB_ROOT/tests/lib.sh"
. "$IOLAB_ROOT/tests/labcheck.sh"

P=$IOLAB_BIN/iolab-close
[ -x "$P" ] || t_skip "bin/iolab-close is not built (make)"

"$P" --json >"$T_TMP/all.json" 2>"$T_TMP/all.err" || t_fail "iolab-close --json exited $?: $(cat "$T_TMP/all.err")"
j=$T_TMP/all.json
t_want "$j" '.rst.write1.error == "ECONNRESET"' "write 1 after RST"
t_want "$j" '.rst.killed_by == 13 and .rst.calls_returned == 1' "write 2 after RST must die of SIGPIPE"
t_want "$j" '.rst_nosignal.write2.error == "EPIPE" and .rst_nosignal.killed_by == 0' "MSG_NOSIGNAL"
t_want "$j" '.rst_sigign.write2.error == "EPIPE" and .rst_sigign.killed_by == 0' "SIG_IGN"
t_want "$j" '.fin.write1.ret == 1 and .fin.killed_by == 13' "after FIN: write 1 ok, write 2 SIGPIPE"
t_want "$j" '.fin_nosignal.write2.error == "EPIPE"' "after FIN with MSG_NOSIGNAL"
t_want "$j" '.read_rst.killed_by == 0 and .read_rst.read1.error == "ECONNRESET" and .read_rst.read2.ret == 0' "read after RST"
t_want "$j" '.read_fin.killed_by == 0 and .read_fin.read1.ret == 0 and .read_fin.read3.ret == 0' "read after FIN"
t_want "$j" '.timewait.time_wait == 1 and .timewait.expires_ms > 55000 and .timewait.expires_ms <= 60000' "TIME_WAIT 60 s"
t_want "$j" '.timewait.passive_sockets == 0' "the passive closer keeps nothing"
t_want "$j" '.linger0.peer_read.error == "ECONNRESET" and .linger0.time_wait == 0' "SO_LINGER {1,0}"
t_want "$j" '.halfclose.peer_read.ret == 0 and .halfclose.peer_write.ret == 5 and .halfclose.our_read.ret == 5 and .halfclose.our_eof.ret == 0' "half-close"
t_want "$j" '.closewait.close_wait == 0' "a server that closes"
t_log "iolab-close: $(jq -c '{rst: .rst.write1.error, rst2: .rst.killed_by, fin1: .fin.write1.ret, tw_ms: .timewait.expires_ms, linger0_tw: .linger0.time_wait}' "$j")"

# The broken variants: what the lab's checks must catch.
"$P" --json --clients 4 --bug=forget-close --bug=no-linger closewait linger0 >"$T_TMP/bug.json" ||
	t_fail "iolab-close --bug=... exited $?"
t_want "$T_TMP/bug.json" '.closewait.close_wait == 4 and .closewait.forgot_close' "forget-close must leave 4 sockets in CLOSE_WAIT"
t_want "$T_TMP/bug.json" '.linger0.time_wait == 1 and .linger0.peer_read.ret == 0' "no-linger must leave TIME_WAIT and a FIN"

# The `ss` line timewait prints names both ports, and finds exactly its own TIME_WAIT socket
# (the client's port alone can match other connections that reuse it on a busy machine).
"$P" timewait >"$T_TMP/tw.txt" || t_fail "iolab-close timewait exited $?"
ssline=$(sed -n 's/^  see it:  //p' "$T_TMP/tw.txt")
case $ssline in
"ss -tano state time-wait '( sport = :"*" and dport = :"*" )'") ;;
*) t_fail "timewait's ss line does not name both ports: '$ssline'" ;;
esac
filter=${ssline#*\'}; filter=${filter%\'}
n=$(ss -Htano state time-wait "$filter" | grep -c 'timer:(timewait,')
[ "$n" = 1 ] || t_fail "the printed ss line ($ssline) found $n TIME_WAIT sockets (want 1)"
# closewait prints no ss line: its sockets are closed before anyone could run it.
"$P" closewait | grep -q 'ss -tan' && t_fail "closewait prints an ss line that can find nothing"
"$P" --bug=forget-close closewait | grep -q 'make lab-16' ||
	t_fail "closewait --bug=forget-close does not say where to look at CLOSE_WAIT with ss"

# Usage errors: exit 2.
t_usage_errors iolab-close "--clients 0" "--bogus" "nocase" "--bug=nothing" "--serve rst"

# --serve --forget-close: clients that leave pile up in CLOSE_WAIT; without it, none.
for mode in forget plain; do
	flags=(--serve)
	[ $mode = forget ] && flags+=(--forget-close)
	t_start_server iolab-close "${flags[@]}"
	for _ in 1 2 3; do echo hi | timeout 2 nc 127.0.0.1 "$T_PORT" >/dev/null; done
	n=0
	for _ in $(seq 1 20); do
		n=$(ss -Htan state close-wait "( sport = :$T_PORT )" | wc -l)
		[ $mode = forget ] && [ "$n" -ge 3 ] && break
		sleep 0.1
	done
	# The viewer's figures: bin/iolab-stat reads the same telemetry segment.
	"$IOLAB_BIN/iolab-stat" "$T_PID" >"$T_TMP/stat.$mode" 2>&1 || t_fail "iolab-stat $T_PID: $(cat "$T_TMP/stat.$mode")"
	t_stop "$T_PID" || t_fail "iolab-close --serve exited $? on SIGTERM (want 0)"
	[ -z "$(t_segment "$T_PID")" ] || t_fail "--serve left its telemetry segment $(t_segment "$T_PID")"
	if [ $mode = forget ]; then
		grep -qx 'active 3' "$T_TMP/stat.$mode" && grep -qx 'closes 0' "$T_TMP/stat.$mode" ||
			t_fail "--forget-close telemetry: want active 3, closes 0: $(grep -E '^(accepts|closes|active) ' "$T_TMP/stat.$mode" | tr '\n' ' ')"
	else
		grep -qx 'active 0' "$T_TMP/stat.$mode" && grep -qx 'closes 3' "$T_TMP/stat.$mode" ||
			t_fail "--serve telemetry: want active 0, closes 3: $(grep -E '^(accepts|closes|active) ' "$T_TMP/stat.$mode" | tr '\n' ' ')"
	fi
	if [ $mode = forget ]; then
		[ "$n" -eq 3 ] || t_fail "--serve --forget-close: $n sockets in CLOSE_WAIT, want 3"
		grep -q 'no close()' "$T_ERR" || t_fail "--serve --forget-close did not log the forgotten close"
	else
		[ "$n" -eq 0 ] || t_fail "--serve: $n sockets in CLOSE_WAIT, want 0"
	fi
	left=$(ss -Htan state close-wait "( sport = :$T_PORT )" | wc -l)
	[ "$left" -eq 0 ] || t_fail "$left CLOSE_WAIT sockets left after the server exited"
done
t_pass "lab 16 claims hold; forget-close and no-linger are caught"
