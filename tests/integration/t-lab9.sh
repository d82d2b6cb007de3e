#!/usr/bin/env bash
# Description: make check-lab-9 passes (every check of labs/09-*/scenario), nothing left behind.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 9 normal io_uring
