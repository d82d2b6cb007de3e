#!/usr/bin/env bash
# Description: lab 9 — where io_uring is switched off (a seccomp filter here, standing in for
# kernel.io_uring_disabled or a container profile) echo-uring exits 3 before listening and
# names the likely cause; the io_uring probe the other uring tests use says "skip" (77).
. "$(dirname "$0")/../lib.sh"
tool=$IOLAB_BIN/tests/lab_tool
[ -x "$tool" ] || t_fail "$tool not built (make bin/tests/lab_tool)"

for e in EPERM ENOSYS; do
	"$tool" no-uring "$e" "$IOLAB_BIN/echo-uring" -p 0 >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	[ "$rc" = 77 ] && t_skip "$(cat "$T_TMP/out") (needs seccomp filters, CONFIG_SECCOMP_FILTER)"
	t_log "io_uring_setup -> $e: exit $rc; $(head -1 "$T_TMP/err")"
	[ "$rc" = 3 ] || t_fail "echo-uring with io_uring_setup failing ($e) exited $rc, want 3"
	grep -q '^listening on' "$T_TMP/out" && t_fail "echo-uring said 'listening on' without a ring"
	grep -q 'io_uring_setup' "$T_TMP/err" || t_fail "the message does not name io_uring_setup"
	case $e in
	EPERM)  grep -q 'io_uring_disabled' "$T_TMP/err" && grep -q 'seccomp' "$T_TMP/err" ||
			t_fail "EPERM message should name kernel.io_uring_disabled and seccomp" ;;
	ENOSYS) grep -q 'CONFIG_IO_URING' "$T_TMP/err" || t_fail "ENOSYS message should name CONFIG_IO_URING" ;;
	esac
	"$tool" no-uring "$e" "$IOLAB_BIN/tests/lab_tool" uring-probe >"$T_TMP/probe"
	rc=$?
	[ "$rc" = 77 ] || t_fail "uring-probe under the filter exited $rc, want 77"
done
# --help still works without a ring.
"$tool" no-uring EPERM "$IOLAB_BIN/echo-uring" --help >"$T_TMP/help" 2>&1 || t_fail "--help failed without io_uring"
grep -q -- '--no-bufring' "$T_TMP/help" || t_fail "--help does not list --no-bufring"
t_pass
