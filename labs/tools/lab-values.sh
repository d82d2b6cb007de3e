# lab-values.sh — the values and checks of labs/tools/run-lab (sourced, not run).
#
# A scenario names values -- srv.accepts, l1.latency_us.p99, p.observations.5.mask_hex,
# w.cpu_ms -- and compares them in `expect` lines.  This file reads them and judges:
#
#   resolve NAME FIELD     a value into RESOLVED (or RESOLVE_ERR): telemetry counters via
#                          bin/iolab-stat, cpu_ms from /proc, the event ring's trail, a
#                          load's or run's JSON via jq, a measure window's increases
#   expand TEXT            ${NAME.FIELD} in TEXT replaced by values
#   window_open/close, measure   counters and CPU time of a server over a window
#   do_expect DESC TOKENS  one check, retried while counters catch up, reported with
#                          every value it compared
#   report PASS|FAIL WHAT [DESC]
#
# run-lab provides the tables these read (KIND, SRV_PID, LOAD_RC, RUN_RC, MEAS, ...),
# RUN (the run directory), BIN, and nap (lab-supervise.sh).

# resolve NAME FIELD -> the value in RESOLVED, or returns 1 with the reason in RESOLVE_ERR.
# (Globals, not output: a $(...) subshell would lose RESOLVE_ERR and the counter cache.)
declare -A STATS=()
STATS_OF=''
read_stats() {     # read_stats SERVER: its counters into STATS, read now
	local name=$1 k v
	STATS=()
	STATS_OF=$name
	while read -r k v; do STATS[$k]=$v; done < <("$BIN/iolab-stat" "${SRV_PID[$name]}" 2>"$RUN/stat.err")
}
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
# cpu_ms PID: user + system CPU time the process has used, in ms (/proc/PID/stat fields
# 14 and 15, in clock ticks; the fields are counted after the ")" that ends the name).
cpu_ms() {
	local st rest
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	rest=${st##*) }
	read -r -a f <<<"$rest"
	echo $(( (f[11] + f[12]) * 1000 / CLK_TCK ))
}

# json_get FILE PATH: the value at a dotted path (a.b, list.0.x) of the JSON in FILE;
# returns 1 if there is none.  Objects and arrays come out as JSON text.
json_get() {
	jq -er --arg p "$2" 'getpath($p | split(".") | map(tonumber? // .))
		| if type == "object" or type == "array" then tojson else tostring end' "$1" 2>/dev/null |
		head -1 | grep -v '^null$'
}

resolve() {
	local name=$1 field=$2
	RESOLVED='' RESOLVE_ERR=''
	case ${KIND[$name]:-} in
	server)
		if [ -z "${SRV_PID[$name]:-}" ]; then RESOLVE_ERR="server $name has not been started"; return 1; fi
		case $field in
		port) RESOLVED=${SRV_PORT[$name]}; return 0 ;;
		pid)  RESOLVED=${SRV_PID[$name]}; return 0 ;;
		addr) RESOLVED=${SRV_ADDR[$name]}; return 0 ;;
		cpu_ms)
			RESOLVED=$(cpu_ms "${SRV_PID[$name]}") && return 0
			RESOLVE_ERR="server $name (pid ${SRV_PID[$name]}) is not running"; return 1 ;;
		trail.*)
			# The values of the ring's events of one kind, in order, repeats collapsed:
			# srv.trail.interest = 0x5,0x1 (masks in hex).
			RESOLVED=$("$BIN/iolab-stat" --events "${SRV_PID[$name]}" 2>"$RUN/stat.err" |
				awk -v k="${field#trail.}" '$1 == "event" && $3 == k {
					v = (k == "interest") ? sprintf("0x%x", $6) : $6
					if (v != last) { out = out (out == "" ? "" : ",") v; last = v } }
					END { print (out == "" ? "none" : out) }')
			return 0 ;;
		esac
		if [ ! -x "$BIN/iolab-stat" ]; then RESOLVE_ERR="bin/iolab-stat is not built (make)"; return 1; fi
		[ "$STATS_OF" = "$name" ] || read_stats "$name"
		RESOLVED=${STATS[$field]:-}
		if [ -z "$RESOLVED" ]; then
			RESOLVE_ERR="$name has no counter '$field'"
			[ -s "$RUN/stat.err" ] && RESOLVE_ERR="$RESOLVE_ERR ($(head -1 "$RUN/stat.err"))"
			return 1
		fi ;;
	load|run)
		local rc
		if [ "${KIND[$name]}" = load ]; then rc=${LOAD_RC[$name]:-}; else rc=${RUN_RC[$name]:-}; fi
		if [ -z "$rc" ]; then RESOLVE_ERR="${KIND[$name]} $name has not finished"; return 1; fi
		if [ "$field" = exit ]; then RESOLVED=$rc; return 0; fi
		if [[ $field == during.* ]]; then
			RESOLVED=${MEAS[$name.$field]:-}
			[ -n "$RESOLVED" ] || { RESOLVE_ERR="load $name: no '$field' (during.COUNTER, during.cpu_ms, during.ms)"; return 1; }
			return 0
		fi
		RESOLVED=$(json_get "$RUN/$name.out" "$field") || {
			RESOLVE_ERR="${KIND[$name]} $name's JSON has no '$field'"
			return 1
		} ;;
	measure)
		if [ -z "${MEAS[$name.ms]:-}" ]; then RESOLVE_ERR="measure $name has not run"; return 1; fi
		RESOLVED=${MEAS[$name.$field]:-}
		[ -n "$RESOLVED" ] || { RESOLVE_ERR="measure $name has no '$field' (a counter, cpu_ms or ms)"; return 1; } ;;
	*) RESOLVE_ERR="'$name' is not a server, load, run or measure"; return 1 ;;
	esac
	return 0
}

# ${NAME.FIELD} in TEXT -> values.
expand() {
	local s=$1 out='' v
	while [[ $s =~ ^(.*)\$\{([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z0-9_.]+)\}(.*)$ ]]; do
		local pre=${BASH_REMATCH[1]} name=${BASH_REMATCH[2]} field=${BASH_REMATCH[3]} post=${BASH_REMATCH[4]}
		STATS_OF=''
		if resolve "$name" "$field"; then v=$RESOLVED; else
			printf '%s: ${%s.%s}: %s\n' "$ME" "$name" "$field" "$RESOLVE_ERR" >&2; v="?"
		fi
		out=$v$post$out
		s=$pre
	done
	printf '%s' "$s$out"
}

report() {   # report PASS|FAIL WHAT [DESC]: "PASS  DESC: WHAT", or "PASS  WHAT" without DESC
	local verdict=$1 what=$2 desc=${3:-}
	if [ "$verdict" = PASS ]; then NPASS=$((NPASS + 1)); else NFAIL=$((NFAIL + 1)); fi
	printf '%s  %s%s\n' "$verdict" "${desc:+$desc: }" "$what"
}

# window_open SERVER / window_close SERVER KEY: a server's counters and CPU time at two
# moments; window_close stores the increases as MEAS[KEY.counter], KEY.cpu_ms, KEY.ms.
declare -A W_BEFORE=()
W_CPU0=0 W_T0=0
window_open() {
	local k
	W_BEFORE=()
	STATS_OF=''; read_stats "$1"
	for k in "${!STATS[@]}"; do W_BEFORE[$k]=${STATS[$k]}; done
	W_CPU0=$(cpu_ms "${SRV_PID[$1]}") W_T0=$(date +%s%N)
}
window_close() {
	local k c1 t1
	STATS_OF=''; read_stats "$1"
	c1=$(cpu_ms "${SRV_PID[$1]}") t1=$(date +%s%N)
	for k in "${!STATS[@]}"; do
		[[ ${STATS[$k]} =~ ^[0-9]+$ && ${W_BEFORE[$k]:-} =~ ^[0-9]+$ ]] || continue
		MEAS[$2.$k]=$((STATS[$k] - W_BEFORE[$k]))
	done
	MEAS[$2.cpu_ms]=$(( ${c1:-0} - ${W_CPU0:-0} ))
	MEAS[$2.ms]=$(( (t1 - W_T0) / 1000000 ))
	STATS_OF=''
}

# measure NAME SERVER SECS: counters and CPU over a window of SECS seconds.
measure() {
	window_open "$2"
	nap "$3"
	window_close "$2" "$1"
	[ $verbose = 1 ] && echo "  measure $1: ${MEAS[$1.ms]} ms, cpu ${MEAS[$1.cpu_ms]} ms"
	return 0
}

# expect TOKENS... -- evaluate, retrying counter checks, and report with the figures:
#   PASS  DESC: LEFT = VALUE (want OP VALUE [= RIGHT]) [NAME = VALUE, ...]
do_expect() {   # do_expect DESC TOKENS...
	local desc=$1; shift
	local toks=("$@") n=$# within='' has_server=0 t k op_at=0
	if [ "$n" -ge 2 ] && [ "${toks[$((n - 2))]}" = within ]; then
		within=${toks[$((n - 1))]}; toks=("${toks[@]:0:$((n - 2))}"); n=$((n - 2))
	fi
	for ((k = 0; k < n; k++)); do
		case ${toks[$k]} in ==|!=|'<'|'<='|'>'|'>=') op_at=$k ;; esac
		[[ ${toks[$k]} =~ $REF_RE ]] && [ "${KIND[${BASH_REMATCH[1]}]}" = server ] && has_server=1
	done
	[ -n "$within" ] || { [ $has_server = 1 ] && within=2 || within=0; }
	local op=${toks[$op_at]} ltext="${toks[*]:0:$op_at}" rtext="${toks[*]:$((op_at + 1))}"
	local deadline tries=0 line
	deadline=$(awk -v w="$within" 'BEGIN { printf "%d", w * 10 }')
	while :; do
		local lhs="" rhs="" vals="" err="" side=l v nref=0 words=0 lv="" rv="" ok=1
		STATS_OF=   # counters are read afresh on every try
		for ((k = 0; k < n; k++)); do
			t=${toks[$k]}
			if [ $k -eq $op_at ]; then side=r; continue; fi
			if [[ $t =~ $REF_RE ]]; then
				resolve "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" || { err=$RESOLVE_ERR; break; }
				v=$RESOLVED nref=$((nref + 1))
				vals="$vals${vals:+, }$t = $v"
				t=$v
			fi
			case $t in
			true) t=1 ;; false) t=0 ;;
			0x*|0X*) [[ $t =~ $HEX_RE ]] && t=$((t)) ;;
			esac
			[[ $t =~ $NUM_RE || $t == [-+*/\(\)] ]] || words=1
			if [ $side = l ]; then lhs="$lhs${lhs:+ }$t"; else rhs="$rhs${rhs:+ }$t"; fi
		done
		if [ -z "$err" ] && [ $words = 1 ]; then
			# Text: one word a side, == or != only.
			lv=$lhs rv=$rhs
			case $op in
			==) [ "$lhs" = "$rhs" ] || ok=0 ;;
			!=) [ "$lhs" != "$rhs" ] || ok=0 ;;
			*)  err="$op compares numbers; \"$lhs\" $op \"$rhs\" are words" ;;
			esac
		elif [ -z "$err" ]; then
			local out
			out=$(awk "function f(x) { return x == int(x) || x >= 100 || x <= -100 ? sprintf(\"%d\", x + (x < 0 ? -0.5 : 0.5)) : sprintf(\"%.3g\", x) }
				BEGIN { l = ($lhs); r = ($rhs); print f(l), f(r), ((l $op r) ? 1 : 0) }" 2>&1) ||
				err="cannot compute $lhs $op $rhs (a division by zero?)"
			read -r lv rv ok <<<"$out"
			[[ $ok == [01] ]] || { err="cannot compute $lhs $op $rhs"; ok=0; }
			# A lone true/false value is shown as such, not as 1/0.
			[[ $ltext =~ $REF_RE && $vals =~ ^$ltext\ =\ (true|false)(,|$) ]] && lv=${BASH_REMATCH[1]}
			[[ $rtext == true || $rtext == false ]] && rv=$rtext
			# A lone mask is shown as it was written (0x14), not as 20.
			[[ $ltext =~ $REF_RE && $vals =~ ^$ltext\ =\ (0x[0-9a-fA-F]+)(,|$) ]] && lv=${BASH_REMATCH[1]}
			[[ $rtext =~ $HEX_RE ]] && rv=$rtext
			[[ $rtext =~ $REF_RE && $vals =~ (^|, )$rtext\ =\ (0x[0-9a-fA-F]+)(,|$) ]] && rv=${BASH_REMATCH[2]}
		fi
		line="$ltext = ${lv:-?} (want $op ${rv:-?}"
		[[ $rtext =~ ^-?[0-9.]+$|^0x[0-9a-fA-F]+$|^(true|false)$ ]] || [ "$rtext" = "$rv" ] || line="$line = $rtext"
		line="$line)"
		[ $nref -gt 1 ] || [[ $ltext == *' '* ]] && line="$line  [$vals]"
		if [ -z "$err" ] && [ "$ok" = 1 ]; then
			report PASS "$line" "$desc"
			return
		fi
		if [ -n "$err" ] || [ $tries -ge "$deadline" ]; then
			[ -n "$err" ] && line="${toks[*]}  ($err${vals:+; $vals})"
			report FAIL "$line" "$desc"
			return
		fi
		tries=$((tries + 1))
		nap 0.1
	done
}

