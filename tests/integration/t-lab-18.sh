#!/usr/bin/env bash
# Description: make check-lab-18 passes (bin/iolab-backlog -- iolab-backlog: backlog N+1, dropped SYNs, tcp_abort_on_overflow, EMFILE),
# nothing it started is left running or in /dev/shm, and make check-lab-18 BROKEN=1 fails.
. "$IOLAB_ROOT/tests/lib.sh"
. "$IOLAB_ROOT/tests/labcheck.sh"

[ -x "$IOLAB_BIN/iolab-backlog" ] || t_skip "bin/iolab-backlog is not built (make)"
t_check_lab 18 15
t_pass "make check-lab-18: $(grep -c '^PASS' "$T_CHECK_OUT") checks PASS; BROKEN=1: $(grep -c '^FAIL' "$T_BROKEN_OUT") FAIL"
