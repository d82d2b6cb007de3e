#!/usr/bin/env bash
# Description: lab 18's claims, straight from bin/iolab-backlog in a network namespace of its
# own: listen(fd, 2) completes 3 handshakes nobody accepts (ss: Recv-Q 3, Send-Q 2); the
# 4th client sits in SYN_SENT and retransmits, counted by ListenOverflows/ListenDrops;
# tcp_abort_on_overflow=1 still drops such SYNs but resets a handshake whose final ACK
# finds the queue full; EMFILE with plain accept4 spins and leaves clients hanging, the
# spare descriptor sheds them; a client that leaves before accept() is still returned by
# accept() (no ECONNABORTED).  --bug=accept and --bug=no-spare must break those claims.
# Skips (77) where network namespaces are not allowed.
. "$IOLAB_ROOT/tests/lib.sh"
. "$IOLAB_ROOT/tests/labcheck.sh"

P=$IOLAB_BIN/iolab-backlog
[ -x "$P" ] || t_skip "bin/iolab-backlog is not built (make)"

"$P" --json --watch 1.5 >"$T_TMP/b.json" 2>"$T_TMP/b.err"; rc=$?
[ $rc -eq 77 ] && t_skip "$(grep -h SKIP "$T_TMP/b.json" "$T_TMP/b.err" | head -1)"
[ $rc -eq 0 ] || t_fail "iolab-backlog exited $rc: $(cat "$T_TMP/b.err")"
j=$T_TMP/b.json
t_want "$j" '.netns == true' "ran in its own namespace"
t_want "$j" '.queue.established == 3 and .queue.recv_q == 3 and .queue.send_q == 2' "backlog 2 -> 3 queued"
t_want "$j" '.queue.next_syn_sent and .queue.next_retransmits >= 1 and (.queue.next_refused_or_reset | not)' "4th client: SYN dropped, retransmitted"
t_want "$j" '.queue.listen_overflows >= 2 and .queue.listen_drops >= 2' "ListenOverflows/ListenDrops"
t_want "$j" '.abort.next_syn_sent and .abort.established == 3' "abort_on_overflow=1: the SYN is still dropped"
t_want "$j" '.late.abort1.reset and .late.abort1.read_error == "ECONNRESET"' "abort_on_overflow=1 resets a late ACK"
t_want "$j" '(.late.abort0.reset | not) and .late.abort0.state == "ESTABLISHED" and .late.abort0.retransmits >= 1' "abort_on_overflow=0 drops a late ACK"
t_want "$j" '.emfile.plain.emfile_errors > 1000 and .emfile.plain.clients_closed == 0' "EMFILE: plain accept4 spins"
t_want "$j" '.emfile.spare.clients_closed >= 1 and .emfile.spare.emfile_errors < 100' "EMFILE: the spare descriptor sheds"
t_want "$j" '(.aborted.rst.econnaborted | not) and .aborted.rst.read_error == "ECONNRESET" and .aborted.fin.read_ret == 0' "a client that left before accept()"
t_log "iolab-backlog: $(jq -c '{q: .queue.established, rq: .queue.recv_q, st: .queue.next_state, rtx: .queue.next_retransmits, of: .queue.listen_overflows, late1: .late.abort1.read_error, emfile: .emfile.plain.emfile_errors}' "$j")"

# The broken variants.
"$P" --json --watch 0.5 --bug=accept --bug=no-spare queue emfile >"$T_TMP/bug.json" || t_fail "iolab-backlog --bug=... exited $?"
t_want "$T_TMP/bug.json" '.queue.established == 5 and (.queue.next_syn_sent | not)' "--bug=accept: every client gets in"
t_want "$T_TMP/bug.json" '.emfile.spare.clients_closed == 0 and .emfile.spare.emfile_errors > 1000' "--bug=no-spare: the second server spins too"

t_usage_errors iolab-backlog "-b 0" "--watch x" "nocase" "--bug=x" "--serve queue"

# --serve on the host loopback: backlog 2, 4 clients -> Recv-Q 3, one SYN-SENT.
t_start_server iolab-backlog --serve -b 2
for _ in 1 2 3 4; do t_spawn timeout 10 nc 127.0.0.1 "$T_PORT"; done
srv=$T_PID
for _ in $(seq 1 30); do
	rq=$(ss -Htln "( sport = :$T_PORT )" | awk '{print $2}')
	ss_=$(ss -Htan state syn-sent "( dport = :$T_PORT )" | wc -l)
	[ "$rq" = 3 ] && [ "$ss_" = 1 ] && break
	sleep 0.1
done
[ "$rq" = 3 ] || t_fail "--serve -b 2: Recv-Q $rq, want 3"
[ "$ss_" = 1 ] || t_fail "--serve -b 2: $ss_ clients in SYN-SENT, want 1"
t_stop "$srv" || t_fail "iolab-backlog --serve exited $? on SIGTERM (want 0)"
t_pass "lab 18 claims hold; --bug=accept and --bug=no-spare are caught"
