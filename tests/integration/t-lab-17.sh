#!/usr/bin/env bash
# Description: make check-lab-17 passes (bin/iolab-herd -- iolab-herd: wakeups per connection for each way of waiting),
# nothing it started is left running or in /dev/shm, and make check-lab-17 BROKEN=1 fails.
. "$IOLAB_ROOT/tests/lib.sh"
. "$IOLAB_ROOT/tests/labcheck.sh"

[ -x "$IOLAB_BIN/iolab-herd" ] || t_skip "bin/iolab-herd is not built (make)"
t_check_lab 17 10
t_pass "make check-lab-17: $(grep -c '^PASS' "$T_CHECK_OUT") checks PASS; BROKEN=1: $(grep -c '^FAIL' "$T_BROKEN_OUT") FAIL"
