#!/usr/bin/env bash
# Description: scale (slow: ~2 s a model) -- every event-driven model holds 10,000
# connections at once (iolab-load connects them all before the clock starts), echoes
# two verified messages on each, and gives its descriptors back when they close; its
# RSS falls back to less than half of what it grew by.  echo-aio sizes its AIO context
# from the descriptor limit and the system's headroom (it used to stop at 4,095);
# select is left out on purpose: it refuses descriptors >= FD_SETSIZE (lab 3).
. "$(dirname "$0")/../lib.sh"
N=${SCALE_CONNS:-10000}
need=$((N + 200))
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || [ "$hard" -ge "$need" ] ||
	t_skip "the descriptor limit is $hard, this test needs $need per process (fix: raise the hard limit, e.g. ulimit -Hn 20000 as root, or LimitNOFILE)"
ulimit -n "$need" 2>/dev/null || ulimit -n "$hard"
asan=$(ldd "$IOLAB_BIN/echo-epoll-lt" 2>/dev/null | grep -o libasan | head -1)
rss() { awk '/^VmRSS/ { print $2 }' /proc/"$1"/status; }
hwm() { awk '/^VmHWM/ { print $2 }' /proc/"$1"/status; }
nfd() { ls /proc/"$1"/fd | wc -l; }

for prog in echo-nonblocking echo-poll echo-epoll-lt echo-epoll-et echo-sigio echo-aio echo-uring; do
	if ! t_start_server "$prog" -q; then
		[ "$prog" = echo-uring ] && continue   # io_uring switched off here: t-uring-unavailable covers it
		t_fail "$prog did not start"
	fi
	fd0=$(nfd "$T_PID"); rss0=$(rss "$T_PID")
	json=$("$IOLAB_BIN/iolab-load" -p "$T_PORT" -c "$N" -n 2 -s 64 --json) || true
	ok=$(jq -r .ok <<<"$json"); msgs=$(jq -r .messages <<<"$json")
	[ "$ok" = true ] && [ "$msgs" = $((2 * N)) ] ||
		t_fail "$prog with $N connections: ok=$ok messages=$msgs (want $((2 * N))): $(jq -c '{errors,error}' <<<"$json")"
	accepts=$("$IOLAB_BIN/iolab-stat" "$T_PID" | awk '$1 == "accepts" { print $2 }')
	refused=$("$IOLAB_BIN/iolab-stat" "$T_PID" | awk '$1 == "refused" { print $2 }')
	for _ in $(seq 100); do [ "$(nfd "$T_PID")" -le "$fd0" ] && break; sleep 0.05; done
	fd1=$(nfd "$T_PID"); rss1=$(rss "$T_PID"); peak=$(hwm "$T_PID")
	t_log "$prog: $N connections held, $msgs echoes verified, accepts=$accepts refused=$refused; fds $fd0 -> $fd1; RSS ${rss0} kB -> peak ${peak} kB -> ${rss1} kB"
	[ "$accepts" = "$N" ] && [ "$refused" = 0 ] || t_fail "$prog: accepts=$accepts refused=$refused, want $N and 0"
	[ "$fd1" -le "$fd0" ] || t_fail "$prog: $fd1 descriptors open after every client left, $fd0 before"
	if [ -n "$asan" ]; then
		t_log "  (an AddressSanitizer build: its allocator keeps freed memory in quarantine, so RSS is not checked)"
	else
		[ $((rss1 - rss0)) -le $(((peak - rss0) / 2)) ] || t_fail "$prog: RSS ${rss1} kB after, ${rss0} kB before, peak ${peak} kB: memory not given back"
	fi
	t_stop "$T_PID" || t_fail "$prog did not stop cleanly"
done
t_pass
