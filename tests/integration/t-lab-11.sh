#!/usr/bin/env bash
# Description: lab 11 (the write path).  make check-lab-11 passes: send() takes more than
# 1 MB before EAGAIN, level-triggered EPOLLOUT returns with most still queued, edge-
# triggered EPOLLOUT gives an edge only after an EAGAIN, and --send-timeout closes a peer
# that never reads (send_timeouts 1, memory bounded at the high-water mark).  The broken
# variant (no send timer) keeps the dead connection and fails.  echo-blocking and echo-select
# (a blocked write, a select() write set) get the send timer too.
. "$IOLAB_ROOT/tests/lib.sh"
. "$IOLAB_ROOT/tests/integration/labcheck.sh"

for p in echo-epoll-lt iolab-wpath; do
	[ -x "$IOLAB_BIN/$p" ] || t_skip "bin/$p is not built (make)"
done
"$IOLAB_BIN/iolab-wpath" --help | grep -q never-read || t_fail "iolab-wpath --help says nothing of --never-read"
for bad in "--never-read 0" "--never-read x" "--hold -1" "--bogus" "extra"; do
	# shellcheck disable=SC2086
	"$IOLAB_BIN/iolab-wpath" $bad >/dev/null 2>&1; rc=$?
	[ $rc -eq 2 ] || t_fail "iolab-wpath $bad exited $rc (want 2)"
done
"$IOLAB_BIN/echo-epoll-lt" --send-timeout -1 >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || t_fail "echo-epoll-lt --send-timeout -1 exited $rc (want 2)"

# --hold: it says which pid holds its telemetry (the viewer lists it as a probe), and the
# segment is there while it holds.
t_spawn sh -c 'exec "$1" --hold 5 >/dev/null 2>"$2"' sh "$IOLAB_BIN/iolab-wpath" "$T_TMP/hold.err"
hp=$T_LAST
for _ in $(seq 1 300); do
	grep -q "pid $hp holds its telemetry" "$T_TMP/hold.err" && break
	kill -0 "$hp" 2>/dev/null || break
	sleep 0.1
done
grep -q "pid $hp holds its telemetry 5 s: bin/iolab-view lists it as a probe" "$T_TMP/hold.err" ||
	t_fail "iolab-wpath --hold 5 did not say which pid holds its telemetry: $(cat "$T_TMP/hold.err")"
[ -n "$(t_segment "$hp")" ] || t_fail "iolab-wpath --hold: no telemetry segment for pid $hp while it holds"
t_stop "$hp" || t_fail "iolab-wpath --hold exited $? on SIGTERM (want 0)"
"$IOLAB_BIN/iolab-wpath" --hold 0.1 --no-stats 2>&1 >/dev/null | grep -q 'holds its telemetry' &&
	t_fail "iolab-wpath --no-stats --hold claims to hold telemetry it does not publish"

# The send timer is the skeleton's: models that wait in other ways get it too.
for m in echo-blocking echo-select; do
	t_start_server "$m" -q --send-timeout 2
	r=$(timeout 30 "$IOLAB_BIN/iolab-wpath" --never-read "$T_PORT" --time 12 --json)
	echo "$m: $r" >&2
	n=$("$IOLAB_BIN/iolab-stat" "$T_PID" | sed -n 's/^send_timeouts //p')
	[ "$n" = 1 ] || t_fail "$m --send-timeout 2: send_timeouts = '$n' after a peer that never reads (want 1)"
	case $r in *'"closed":true'*) ;; *) t_fail "$m --send-timeout 2: the client's connection stayed open: $r" ;; esac
	t_stop "$T_PID" || t_fail "$m exited $? on SIGTERM"
done

lab_check 11 10
lab_check_broken 11
grep -q '^FAIL .*srv.send_timeouts = 0' "$LAB_OUT" || t_fail "the broken variant did not keep the dead connection"
t_pass "check-lab-11: $LAB_NPASS PASS; BROKEN=1 (no send timer) keeps the dead connection"
