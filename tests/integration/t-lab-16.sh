#!/usr/bin/env bash
# Description: make check-lab-16 passes (bin/iolab-close -- iolab-close: writes after RST/FIN, SIGPIPE, TIME_WAIT, SO_LINGER, half-close, CLOSE_WAIT),
# nothing it started is left running or in /dev/shm, and make check-lab-16 BROKEN=1 fails.
. "$IOLAB_ROOT/tests/lib.sh"
. "$IOLAB_ROOT/tests/labcheck.sh"

[ -x "$IOLAB_BIN/iolab-close" ] || t_skip "bin/iolab-close is not built (make)"
t_check_lab 16 20
t_pass "make check-lab-16: $(grep -c '^PASS' "$T_CHECK_OUT") checks PASS; BROKEN=1: $(grep -c '^FAIL' "$T_BROKEN_OUT") FAIL"
