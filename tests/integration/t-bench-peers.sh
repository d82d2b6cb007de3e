#!/usr/bin/env bash
# Description: the benchmark peers (bin/libuv-echo, bin/libevent-echo) behave like the
# iolab servers where make bench relies on it: --help (exit 0), a bad flag (exit 2),
# -p 0 prints "listening on ADDR:PORT"; iolab-load verifies every echo in len32, line,
# raw and fixed:100; a frame over --max-frame closes the connection without an echo; a frame
# followed by a half-close is echoed, then the connection closes; SIGINT and SIGTERM
# end the peer with exit 0.
. "${IOLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

[ -x "$IOLAB_BIN/iolab-load" ] || t_fail "no bin/iolab-load: run make"
command -v nc >/dev/null || t_skip "no nc: install netcat-openbsd (make deps)"

for p in libuv-echo libevent-echo; do
	[ -x "$IOLAB_BIN/$p" ] || t_fail "no $IOLAB_BIN/$p: make builds it (libuv1-dev, libevent-dev: make deps)"
	"$IOLAB_BIN/$p" --help >"$T_TMP/help" 2>&1 || t_fail "$p --help: exit $?"
	grep -q -- '--max-frame' "$T_TMP/help" || t_fail "$p --help does not list --max-frame"
	"$IOLAB_BIN/$p" --bogus >/dev/null 2>"$T_TMP/err"; rc=$?
	[ $rc -eq 2 ] || t_fail "$p --bogus: exit $rc, expected 2"
	grep -q "unknown option" "$T_TMP/err" || t_fail "$p --bogus: no clear error: $(cat "$T_TMP/err")"
	"$IOLAB_BIN/$p" -f nonsense >/dev/null 2>&1; rc=$?
	[ $rc -eq 2 ] || t_fail "$p -f nonsense: exit $rc, expected 2"

	for f in len32 line raw fixed:100; do
		t_start_server "$p" -q -f "$f"
		grep -q "^listening on 127.0.0.1:$T_PORT\$" "$T_OUT" || t_fail "$p: no 'listening on 127.0.0.1:PORT' line"
		sizes=(--size-min 1 --size-max 3000)
		[ "$f" = fixed:100 ] && sizes=(-s 100)
		"$IOLAB_BIN/iolab-load" -p "$T_PORT" -f "$f" -c 8 -n 50 "${sizes[@]}" \
			>"$T_TMP/load" 2>&1 || { cat "$T_TMP/load" >&2; t_fail "$p -f $f: iolab-load did not verify"; }
		t_stop "$T_PID"; rc=$?
		[ $rc -eq 0 ] || t_fail "$p -f $f: SIGTERM: exit $rc, expected 0"
	done

	# Over the limit: 4096 > --max-frame 100, closed with nothing echoed.
	t_start_server "$p" -q --max-frame 100
	exec 3<>"/dev/tcp/127.0.0.1/$T_PORT" || t_fail "$p: cannot connect"
	printf '\000\000\020\000xyz' >&3
	timeout 5 cat <&3 >"$T_TMP/over" 2>/dev/null; rc=$?     # EOF (or a reset) when it closes
	exec 3<&-
	[ $rc -ne 124 ] || t_fail "$p: a frame over --max-frame did not close the connection within 5 s"
	[ ! -s "$T_TMP/over" ] || t_fail "$p: something was echoed for a frame over --max-frame"
	# A frame then a half-close: echoed, then closed.
	printf '\000\000\000\005hello' | timeout 5 nc -N 127.0.0.1 "$T_PORT" >"$T_TMP/half"; rc=$?
	[ $rc -ne 124 ] || t_fail "$p: no close after a half-close within 5 s"
	[ "$(od -An -c "$T_TMP/half" | tr -d ' \n')" = '\0\0\0005hello' ] ||
		t_fail "$p: half-close: echoed '$(od -An -c "$T_TMP/half")', expected the frame"
	kill -INT "$T_PID"
	for _ in $(seq 1 50); do kill -0 "$T_PID" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$T_PID" 2>/dev/null && t_fail "$p: still running 5 s after SIGINT"
	wait "$T_PID"; rc=$?
	[ $rc -eq 0 ] || t_fail "$p: SIGINT: exit $rc, expected 0 ($(tail -2 "$T_ERR"))"
	t_log "$p: ok"
done
t_pass
