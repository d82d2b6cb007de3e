#!/usr/bin/env bash
# Description: lab 13 — labs/13-fairness/fairness: --help, bad flags exit 2, and a short
# run of one row gives JSON with the figures the lab reads (p50, p99, Jain's index, the
# hog's share) from a verified run; no server is left running.
. "$IOLAB_ROOT/tests/lib.sh"
f=$IOLAB_ROOT/labs/13-fairness/fairness
"$f" --help | grep -q -- '--et-budget' || t_fail "--help does not describe --et-budget"
for bad in "--rounds 0" "--time x" "--models nosuch" "--et-budget lots" "--size 0" "extra"; do
	# shellcheck disable=SC2086
	"$f" $bad >/dev/null 2>"$T_TMP/err"; rc=$?
	[ $rc = 2 ] || t_fail "fairness $bad exited $rc, want 2"
	[ -s "$T_TMP/err" ] || t_fail "fairness $bad said nothing on stderr"
done
before=$(pgrep -c -u "$(id -u)" -f "$IOLAB_BIN/echo-epoll-lt" || true)
timeout 60 "$f" --json --rounds 1 --time 0.3 --size 4096 --models epoll_lt >"$T_TMP/out" 2>"$T_TMP/err" ||
	t_fail "fairness exited $?: $(tail -2 "$T_TMP/err")"
jq -e '.all_ok == true and .models.epoll_lt.ok == 1' "$T_TMP/out" >/dev/null ||
	t_fail "the run did not verify: $(cat "$T_TMP/out")"
jq -e '.models.epoll_lt | (.p50 > 0 and .p99 >= .p50 and .jain > 0 and .jain <= 1 and .hog_share > 0 and .p99_vs_ref == 1)' \
	"$T_TMP/out" >/dev/null || t_fail "figures missing or out of range: $(jq -c .models.epoll_lt "$T_TMP/out")"
after=$(pgrep -c -u "$(id -u)" -f "$IOLAB_BIN/echo-epoll-lt" || true)
[ "$after" -le "$before" ] || t_fail "an echo-epoll-lt was left running"
t_pass "epoll_lt under a hog: $(jq -r '.models.epoll_lt | "light p99 \(.p99) us, Jain \(.jain)"' "$T_TMP/out")"
