#!/usr/bin/env bash
# Description: bin/iolab-probe's command line: --help, bad flags exit 2, and with
# stdout not a terminal it prints its table and exits by itself (no hold), showing
# the three cases, and in the text the same masks as in --json.
. "$IOLAB_ROOT/tests/lib.sh"

probe=$IOLAB_BIN/iolab-probe
[ -x "$probe" ] || t_fail "build bin/iolab-probe first (make)"

"$probe" --help >"$T_TMP/help" || t_fail "--help exited $?"
for w in --json --hold --no-stats --timeout; do
	grep -q -- "$w" "$T_TMP/help" || t_fail "--help does not mention $w"
done
"$probe" --bogus >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || t_fail "an unknown flag exited $rc, want 2"
"$probe" --hold soon >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || t_fail "--hold soon exited $rc, want 2"

# Not a terminal, no --hold: measure, print, exit (bounded: the suite's timeout is the backstop).
timeout 20 "$probe" --no-stats >"$T_TMP/text" 2>"$T_TMP/err"; rc=$?
[ $rc -eq 0 ] || { cat "$T_TMP/err" >&2; t_fail "plain run exited $rc"; }
for c in "registered before connect" "refused connect" "successful connect"; do
	grep -q "^[0-9]\. $c" "$T_TMP/text" || t_fail "no section for '$c'"
done

# The table and --json agree (two runs of the kernel: same masks).
timeout 20 "$probe" --no-stats --json >"$T_TMP/json" || t_fail "--json run failed"
n=0
while read -r mech reg _rest; do
	case $mech:$reg in epoll-lt:*|epoll-et:*|poll:*|select:*) ;; *) continue ;; esac
	case $reg in IN|OUT|"IN|OUT") ;; *) continue ;; esac
	n=$((n + 1))
done < "$T_TMP/text"
[ "$n" -eq "$(grep -c '^{"case":' "$T_TMP/json")" ] || t_fail "$n table rows, $(grep -c '^{"case":' "$T_TMP/json") JSON observations"
refused_lt_inout=$(awk '/^2\. refused/{s=1} s && $1=="epoll-lt" && $2=="IN|OUT"{print $4; exit}' "$T_TMP/text")
json_val=$(grep '"case":"refused","mech":"epoll-lt","registered":5,' "$T_TMP/json" | sed -n 's/.*"mask_hex":"\([^"]*\)".*/\1/p')
[ -n "$json_val" ] && [ "$refused_lt_inout" = "$json_val" ] ||
	t_fail "refused/epoll-lt/IN|OUT: table says '$refused_lt_inout', JSON '$json_val'"
t_pass "probe CLI: help, bad flags, no-tty run, table = JSON ($refused_lt_inout for refused IN|OUT)"
