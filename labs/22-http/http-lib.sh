# http-lib.sh — what http-check and http-bench share (source it): start a model with
# -f http or nginx on a free loopback port, run wrk with a one-line result, read a
# process tree's CPU time, and stop everything started, by pid, however the script ends.
set -u

H_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
H_BIN=${IOLAB_BIN:-$H_ROOT/bin}
NGINX=${NGINX:-/usr/sbin/nginx}
H_PIDS=()
H_TMP=$(mktemp -d "${TMPDIR:-/tmp}/iolab-http.XXXXXX")

h_stop() {   # h_stop PID: SIGTERM, wait up to 2 s, then SIGKILL.  H_RC: its exit status.
	local p=$1 st
	H_RC=0
	kill -TERM "$p" 2>/dev/null || return 0
	for _ in $(seq 20); do
		# Exited: a zombie until we wait for it (kill -0 still succeeds on a zombie).
		st=$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)
		[ -z "$st" ] || [ "$st" = Z ] && break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	H_RC=$?
	return 0
}

h_cleanup() {
	local p
	for p in "${H_PIDS[@]}"; do
		h_stop "$p"
	done
	rm -rf "$H_TMP"
}
trap h_cleanup EXIT
trap 'exit 130' INT TERM
# A server that closes early (a broken variant) must not kill the script with SIGPIPE
# when it writes to the socket (printf >&3): the write fails, the check reports it.
trap '' PIPE

# h_need_tools: the real clients.  Exit 77 (skip) with the install line when one is missing.
h_need_tools() {
	local t
	for t in curl wrk "$@"; do
		command -v "$t" >/dev/null 2>&1 && continue
		[ -x "$t" ] && continue
		echo "SKIP: $(basename "$t") is not installed; install it: sudo apt-get install $(h_pkg "$t") (or: make deps)"
		exit 77
	done
}
h_pkg() { case $(basename "$1") in nginx) echo nginx ;; *) basename "$1" ;; esac; }

# h_start_model MODEL [FLAGS...]: bin/echo-MODEL -f http on port 0.  Sets H_PID, H_PORT.
# Returns 3 when the model cannot run on this kernel (it exits 3: io_uring off...).
h_start_model() {
	local m=$1 out
	shift
	out=$H_TMP/$m.$RANDOM
	IOLAB_SHM_PREFIX=${IOLAB_SHM_PREFIX:-iolab} "$H_BIN/echo-$m" -p 0 -f http -q "$@" >"$out.out" 2>"$out.err" &
	H_PID=$!
	H_PIDS+=("$H_PID")
	H_ERR=$out.err
	for _ in $(seq 100); do
		H_PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$out.out")
		[ -n "$H_PORT" ] && return 0
		if ! kill -0 "$H_PID" 2>/dev/null; then
			wait "$H_PID"
			local rc=$?
			[ $rc -eq 3 ] && return 3
			echo "echo-$m did not start (exit $rc): $(tr '\n' ' ' <"$out.err")" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "echo-$m: no 'listening on' line in 10 s" >&2
	return 1
}

# h_start_nginx PAGEFILE: nginx, one worker, access log off, its own config, pid file
# and error log in a temporary directory, on a free loopback port; GET / answers the
# bytes of PAGEFILE from memory (`return 200`, as the models do: no file is opened).
# Sets H_PID (the master), H_PORT.  nginx cannot be told "port 0", so: pick a port,
# and try another if it is taken.
h_start_nginx() {
	local page d token try
	page=$(cat "$1")
	d=$H_TMP/nginx
	mkdir -p "$d"
	token=iolab-$$-$RANDOM
	for try in $(seq 20); do
		H_PORT=$((20000 + RANDOM % 40000))
		cat >"$d/nginx.conf" <<-EOF
		worker_processes 1;
		daemon off;
		pid $d/nginx.pid;
		error_log $d/error.log;
		events { worker_connections 4096; }
		http {
		    access_log off;
		    client_body_temp_path $d/body;
		    proxy_temp_path $d/proxy;
		    fastcgi_temp_path $d/fastcgi;
		    uwsgi_temp_path $d/uwsgi;
		    scgi_temp_path $d/scgi;
		    keepalive_requests 1000000;
		    server {
		        listen 127.0.0.1:$H_PORT;
		        add_header X-Iolab $token;
		        location = / { default_type text/html; return 200 "$page
		"; }
		    }
		}
		EOF
		"$NGINX" -c "$d/nginx.conf" -p "$d" -e "$d/error.log" 2>"$d/stderr" &
		H_PID=$!
		H_PIDS+=("$H_PID")
		for _ in $(seq 30); do
			# Our nginx (the token), not someone else's server on that port.
			if curl -s -m 1 -D - -o /dev/null "http://127.0.0.1:$H_PORT/" 2>/dev/null | grep -q "$token"; then
				return 0
			fi
			kill -0 "$H_PID" 2>/dev/null || break
			sleep 0.1
		done
		h_stop "$H_PID"
		grep -q 'Address already in use' "$d/error.log" "$d/stderr" 2>/dev/null && continue
		echo "nginx did not start: $(cat "$d/error.log" "$d/stderr" 2>/dev/null | tail -3 | tr '\n' ' ')" >&2
		return 1
	done
	echo "nginx: no free port in 20 tries" >&2
	return 1
}

# h_cpu_ticks PID: utime + stime (clock ticks) of PID, its threads and its children
# that are alive (nginx's worker is the master's child).
h_cpu_ticks() {
	local p=$1 t=0 c
	# Fields 14 and 15 of /proc/PID/stat; the name (field 2) has no spaces here.
	t=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)
	for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$c/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}

# h_csw PID: context switches (voluntary + involuntary) of every thread of PID and of its
# children, alive now.  A thread that exits takes its count with it: sample mid-run.
h_csw() {
	local p=$1 c
	{
		cat /proc/"$p"/task/*/status 2>/dev/null
		for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do
			cat /proc/"$c"/task/*/status 2>/dev/null
		done
	} | awk '/^(non)?voluntary_ctxt_switches:/ { n += $2 } END { print n + 0 }'
}

# The wrk script: one machine-readable line at the end of a run.
cat >"$H_TMP/result.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout))
end
EOF

# h_wrk URL CONNS SECS OUT: run wrk (one thread: the other core is the server's), its
# output into OUT.  h_wrk_read OUT then sets W_REQ, W_US (duration), W_SOCKERR (connect +
# read + write + timeout errors), W_NON2XX (wrk's "status" errors: answers >= 400).
h_wrk() {
	wrk -t1 -c"$2" -d"$3"s --timeout 5s -s "$H_TMP/result.lua" "$1" >"$4" 2>&1
}
h_wrk_read() {
	local line
	line=$(grep '^RESULT' "$1")
	if [ -z "$line" ]; then
		echo "wrk failed: $(tr '\n' ' ' <"$1")" >&2
		W_REQ=0 W_US=1 W_SOCKERR=-1 W_NON2XX=-1
		return 1
	fi
	W_REQ=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$line")
	W_US=$(sed 's/.*duration_us=\([0-9]*\).*/\1/' <<<"$line")
	W_SOCKERR=$(awk '{ n = 0; for (i = 4; i <= NF; i++) if ($i !~ /^status=/) { split($i, a, "="); n += a[2] } print n }' <<<"$line")
	W_NON2XX=$(sed 's/.*status=\([0-9]*\).*/\1/' <<<"$line")
}

# The page GET / gives (common/http.c PAGE): the check compares bytes with this.
h_expected_page() {
	printf '<!doctype html>\n<title>iolab</title>\n<p>Hello from an iolab server. Try /bytes/N and POST /echo.</p>\n'
}

# N bytes of the /bytes/N pattern: "abc...z" repeated.
h_pattern() {
	(trap - PIPE; yes abcdefghijklmnopqrstuvwxyz | tr -d '\n' | head -c "$1")   # yes stops at SIGPIPE
}
