# lab-scenario.sh — reading a scenario for labs/tools/run-lab (sourced, not run).
#
# Sourced once $scenario, $mode (lab|check), $broken, $lab and $SCEN_DIR are set, it
# reads the file and validates every line before anything starts, so a typo is a
# line-numbered error (exit 2), not a half-run lab.  It leaves:
#   L_NO L_SEC L_LINE L_DESC   each command line: its number, section ("", lab, check),
#                              text, and the "# text" printed with its PASS/FAIL line
#   KIND[name]                 server | load | client | run | measure
#   BROKEN_FLAGS[name]         the flags --broken adds to that server, run or load
# and exits 3 (saying what to build) if a program the run needs is not built.
# Each command line is kept with its number, its section ("", lab or check) and the
# "# text" that may follow it (printed with its PASS/FAIL line; not for say).
L_NO=() L_SEC=() L_LINE=() L_DESC=()
section=
lineno=0
while IFS= read -r raw || [ -n "$raw" ]; do
	lineno=$((lineno + 1))
	line=${raw%$'\r'}
	trimmed=${line#"${line%%[![:space:]]*}"}
	case $trimmed in ''|'#'*) continue ;; esac
	if [[ $trimmed =~ ^\[([a-z]*)\]([[:space:]]+#.*)?$ ]]; then
		case ${BASH_REMATCH[1]} in
		lab|check) section=${BASH_REMATCH[1]}; continue ;;
		esac
	fi
	[[ $trimmed == '['* ]] && DIE_CODE=2 die "$scenario:$lineno: unknown section '$trimmed' (use [lab] or [check])"
	desc=
	if [[ $trimmed != say && $trimmed != say[[:space:]]* && $trimmed =~ ^(.*[^[:space:]])[[:space:]]+#[[:space:]]?(.*)$ ]]; then
		trimmed=${BASH_REMATCH[1]} desc=${BASH_REMATCH[2]}
	fi
	L_NO+=("$lineno") L_SEC+=("$section") L_LINE+=("$trimmed") L_DESC+=("$desc")
done < "$scenario"

syntax() { DIE_CODE=2 die "$scenario:$1: $2"; }

NAME_RE='^[A-Za-z_][A-Za-z0-9_]*$'
REF_RE='^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z0-9_.]+)$'
NUM_RE='^-?[0-9]+(\.[0-9]+)?$'
HEX_RE='^0x[0-9a-fA-F]+$'
WORD_RE='^[A-Za-z0-9_,:>-]+$'
declare -A KIND=()          # name -> server | load | client | run | measure
declare -A BROKEN_FLAGS=()  # name -> flags added with --broken
HAVE_BROKEN=0
NEED_PROGS=()

# Check the tokens of one side of an expect.
check_operands() {   # NO TOKENS...
	local no=$1 t; shift
	[ $# -gt 0 ] || syntax "$no" "expect: a side is empty"
	for t in "$@"; do
		if [[ $t =~ $REF_RE ]]; then
			[ -n "${KIND[${BASH_REMATCH[1]}]:-}" ] || syntax "$no" "expect: '${BASH_REMATCH[1]}' is not a server or load named above"
		elif [[ $t =~ $NUM_RE || $t =~ $HEX_RE || $t == true || $t == false || $t == [-+*/\(\)] ]]; then
			:
		elif [[ $t =~ $WORD_RE ]]; then
			:   # a word: compared as text by == and !=
		else
			syntax "$no" "expect: cannot read '$t' (a number, true/false, NAME.FIELD, + - * / ( ), a word)"
		fi
	done
}

# Validate every line before starting anything.
for i in "${!L_LINE[@]}"; do
	sec=${L_SEC[$i]} no=${L_NO[$i]}
	read -r -a w <<<"${L_LINE[$i]}"
	cmd=${w[0]} n=${#w[@]}
	runs=1
	[ -z "$sec" ] || [ "$sec" = "$mode" ] || runs=0
	case $cmd in
	title|say) ;;
	watch)
		[ "$n" -ge 2 ] || syntax "$no" "usage: watch COUNTER..."
		for t in "${w[@]:1}"; do
			[[ $t =~ $NAME_RE ]] || syntax "$no" "watch: '$t' is not a counter name"
		done ;;
	broken)
		[ "$n" -ge 3 ] || syntax "$no" "usage: broken SERVER|RUN|LOAD FLAGS..."
		[[ ${w[1]} =~ $NAME_RE ]] || syntax "$no" "broken: '${w[1]}' is not a name"
		[ -z "${KIND[${w[1]}]:-}" ] || syntax "$no" "broken ${w[1]}: write it before the line that starts ${w[1]}"
		BROKEN_FLAGS[${w[1]}]="${BROKEN_FLAGS[${w[1]}]:-}${BROKEN_FLAGS[${w[1]}]:+ }${w[*]:2}"
		HAVE_BROKEN=1 ;;
	run)
		[ "$n" -ge 3 ] || syntax "$no" "usage: run NAME PROGRAM [ARGS...]"
		[[ ${w[1]} =~ $NAME_RE ]] || syntax "$no" "run name '${w[1]}': letters, digits and _ only"
		[ -z "${KIND[${w[1]}]:-}" ] || syntax "$no" "'${w[1]}' is already defined"
		KIND[${w[1]}]=run
		[ $runs = 1 ] && NEED_PROGS+=("${w[2]}") ;;
	measure)
		[ "$n" -eq 4 ] || syntax "$no" "usage: measure NAME SERVER SECONDS"
		[[ ${w[1]} =~ $NAME_RE ]] || syntax "$no" "measure name '${w[1]}': letters, digits and _ only"
		[ -z "${KIND[${w[1]}]:-}" ] || syntax "$no" "'${w[1]}' is already defined"
		[ "${KIND[${w[2]}]:-}" = server ] || syntax "$no" "measure: '${w[2]}' is not a server named above"
		[[ ${w[3]} =~ $NUM_RE ]] || syntax "$no" "measure: '${w[3]}' is not a number of seconds"
		KIND[${w[1]}]=measure ;;
	server)
		[ "$n" -ge 3 ] || syntax "$no" "usage: server NAME PROGRAM [FLAGS...]"
		[[ ${w[1]} =~ $NAME_RE ]] || syntax "$no" "server name '${w[1]}': letters, digits and _ only"
		[ -z "${KIND[${w[1]}]:-}" ] || syntax "$no" "'${w[1]}' is already defined"
		KIND[${w[1]}]=server
		[ $runs = 1 ] && NEED_PROGS+=("${w[2]}") ;;
	load)
		[ "$n" -ge 3 ] || syntax "$no" "usage: load NAME SERVER [FLAGS...]"
		[[ ${w[1]} =~ $NAME_RE ]] || syntax "$no" "load name '${w[1]}': letters, digits and _ only"
		[ -z "${KIND[${w[1]}]:-}" ] || syntax "$no" "'${w[1]}' is already defined"
		[ "${KIND[${w[2]}]:-}" = server ] || syntax "$no" "load: '${w[2]}' is not a server named above"
		KIND[${w[1]}]=load
		[ $runs = 1 ] && NEED_PROGS+=(iolab-load) ;;
	connect)
		[ "$n" -eq 3 ] || syntax "$no" "usage: connect CLIENT SERVER"
		[[ ${w[1]} =~ $NAME_RE ]] || syntax "$no" "client name '${w[1]}': letters, digits and _ only"
		[ -z "${KIND[${w[1]}]:-}" ] || [ "${KIND[${w[1]}]}" = client ] || syntax "$no" "'${w[1]}' is already a ${KIND[${w[1]}]}"
		[ "${KIND[${w[2]}]:-}" = server ] || syntax "$no" "connect: '${w[2]}' is not a server named above"
		KIND[${w[1]}]=client ;;
	send|expect-echo|expect-silence|close)
		[ "$n" -ge 2 ] || syntax "$no" "usage: $cmd CLIENT ..."
		[ "${KIND[${w[1]}]:-}" = client ] || syntax "$no" "$cmd: '${w[1]}' is not a client (connect it first)"
		case $cmd in
		expect-echo)    [ "$n" -le 3 ] && { [ "$n" -eq 2 ] || [[ ${w[2]} =~ $NUM_RE ]]; } || syntax "$no" "usage: expect-echo CLIENT [SECONDS]" ;;
		expect-silence) [ "$n" -eq 3 ] && [[ ${w[2]} =~ $NUM_RE ]] || syntax "$no" "usage: expect-silence CLIENT SECONDS" ;;
		close)          [ "$n" -eq 2 ] || syntax "$no" "usage: close CLIENT" ;;
		esac ;;
	view)
		[ "$n" -ge 2 ] || syntax "$no" "usage: view SERVER... [VIEWER FLAGS...]"
		for t in "${w[@]:1}"; do
			[[ $t == -* || ${KIND[$t]:-} == server ]] || syntax "$no" "view: '$t' is not a server named above"
		done ;;
	sleep)
		[ "$n" -eq 2 ] && [[ ${w[1]} =~ $NUM_RE ]] || syntax "$no" "usage: sleep SECONDS" ;;
	expect)
		op_at=-1 within_at=$n
		for ((k = 1; k < n; k++)); do
			case ${w[$k]} in
			==|!=|'<'|'<='|'>'|'>=') [ $op_at -lt 0 ] || syntax "$no" "expect: two operators"; op_at=$k ;;
			within) within_at=$k ;;
			esac
		done
		[ $op_at -gt 0 ] || syntax "$no" "expect: no operator (== != < <= > >=)"
		if [ $within_at -lt "$n" ]; then
			[ $within_at -eq $((n - 2)) ] && [[ ${w[$((n - 1))]} =~ $NUM_RE ]] || syntax "$no" "expect: 'within SECONDS' must end the line"
		fi
		check_operands "$no" "${w[@]:1:$((op_at - 1))}"
		check_operands "$no" "${w[@]:$((op_at + 1)):$((within_at - op_at - 1))}" ;;
	*)
		syntax "$no" "unknown command '$cmd' (title server broken watch say view load run measure connect send expect-echo expect-silence close sleep expect)" ;;
	esac
done
for t in "${!BROKEN_FLAGS[@]}"; do
	case ${KIND[$t]:-} in server|run|load) ;; *) DIE_CODE=2 die "$scenario: broken $t: no server, run or load named $t" ;; esac
done
if [ $broken = 1 ] && [ $HAVE_BROKEN = 0 ]; then
	DIE_CODE=2 die "$scenario has no 'broken' line: --broken has nothing to break"
fi

# Every program this run needs must be built; say exactly what is missing.
missing=0
for p in $(printf '%s\n' "${NEED_PROGS[@]}" | sort -u); do
	[ -n "$p" ] || continue
	if [[ $p == */* ]]; then
		[[ $p == /* ]] || p=$SCEN_DIR/$p
		[ -x "$p" ] && continue
		printf '%s: %s: %s is not an executable file\n' "$ME" "$lab" "$p" >&2
		missing=1; continue
	fi
	[ -x "$BIN/$p" ] && continue
	src=$(ls "$ROOT"/labs/*/"$p".c 2>/dev/null | head -1)
	if [ -n "$src" ]; then
		printf '%s: %s needs bin/%s, which is not built: run make (or make bin/%s)\n' "$ME" "$lab" "$p" "$p" >&2
	else
		printf '%s: %s needs bin/%s, which does not exist yet (no labs/*/%s.c): this lab cannot run until it is written\n' "$ME" "$lab" "$p" "$p" >&2
	fi
	missing=1
done
[ $missing = 0 ] || exit 3
