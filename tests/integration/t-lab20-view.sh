#!/usr/bin/env bash
# Description: lab 20, the viewer shows the loops: with two clients on echo-reactors --loops 2,
# bin/iolab-view --batch --conns gives a "loops" array of 2 (one connection each, every
# echoed line counted in its loop's frames_in) and each connection its "loop" (0 and 1, round
# robin); a one-loop server (echo-epoll-lt) has neither.
. "${IOLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

for b in echo-reactors echo-epoll-lt iolab-view; do
	[ -x "$IOLAB_BIN/$b" ] || t_fail "build bin/$b first (make)"
done
t_start_server echo-reactors -f line -q --loops 2
rpid=$T_PID
fds=()
for i in 1 2; do
	exec {fd}<>"/dev/tcp/127.0.0.1/$T_PORT" || t_fail "connect $i"
	fds+=("$fd")
	for j in 1 2 3; do
		printf 'line %s.%s\n' "$i" "$j" >&"$fd"
		IFS= read -r -t 5 -u "$fd" line && [ "$line" = "line $i.$j" ] || t_fail "no echo of line $i.$j"
	done
done
t_start_server echo-epoll-lt -f line -q
lpid=$T_PID
exec {fd}<>"/dev/tcp/127.0.0.1/$T_PORT" || t_fail "connect to echo-epoll-lt"
fds+=("$fd")

"$IOLAB_BIN/iolab-view" --batch --conns -n 2 -i 200 -p "$rpid" -p "$lpid" >"$T_TMP/view.json" ||
	t_fail "iolab-view --batch failed"
last=$(tail -1 "$T_TMP/view.json")
r=$(jq -c --argjson p "$rpid" '.servers[] | select(.pid == $p)' <<<"$last")
l=$(jq -c --argjson p "$lpid" '.servers[] | select(.pid == $p)' <<<"$last")
[ -n "$r" ] && [ -n "$l" ] || t_fail "the viewer did not list both servers: $last"
[ "$(jq '.loops | length' <<<"$r")" = 2 ] || t_fail "want 2 loops: $(jq -c .loops <<<"$r")"
[ "$(jq -c '[.loops[] | .active]' <<<"$r")" = "[1,1]" ] || t_fail "want one connection per loop: $(jq -c .loops <<<"$r")"
[ "$(jq -c '[.loops[] | .frames_in]' <<<"$r")" = "[3,3]" ] || t_fail "want 3 messages per loop: $(jq -c .loops <<<"$r")"
[ "$(jq -c '[.connections[] | .loop] | sort' <<<"$r")" = "[0,1]" ] ||
	t_fail "want the connections on loops 0 and 1: $(jq -c .connections <<<"$r")"
[ "$(jq 'has("loops")' <<<"$l")" = false ] || t_fail "a one-loop server shows loops"
[ "$(jq '.connections | length' <<<"$l")" = 1 ] || t_fail "echo-epoll-lt: want its one connection listed"
[ "$(jq '.connections[0] | has("loop")' <<<"$l")" = false ] || t_fail "a one-loop server's connection shows a loop"
for fd in "${fds[@]}"; do exec {fd}>&-; done
t_stop "$rpid" || t_fail "echo-reactors exited $? on SIGTERM"
t_stop "$lpid" || t_fail "echo-epoll-lt exited $? on SIGTERM"
t_pass "the viewer shows 2 loops, one connection and 3 messages each, and which loop owns each connection"
