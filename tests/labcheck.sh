# tests/labcheck.sh — helpers for the tests of labs with a program of their own (source it
# after tests/lib.sh).
#
#   t_want FILE JQ-EXPR WHY   the jq expression must be true of the JSON in FILE
#   t_usage_errors PROG 'ARGS'...  bin/PROG with each ARGS (split at spaces) must exit 2
# (The tests of `make check-lab-N` itself use t_lab in tests/lib.sh.)
command -v jq >/dev/null || t_skip "jq is not installed (make deps)"

t_want() {
	jq -e "$2" "$1" >/dev/null || t_fail "$3: jq '$2' is false in $(jq -c . "$1")"
}

t_usage_errors() {
	local prog=$1 args rc; shift
	for args in "$@"; do
		# shellcheck disable=SC2086
		"$IOLAB_BIN/$prog" $args >/dev/null 2>&1; rc=$?
		[ $rc -eq 2 ] || t_fail "$prog $args exited $rc, want 2 (a usage error)"
	done
}
