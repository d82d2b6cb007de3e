#!/usr/bin/env bash
# Description: make check-lab-21 passes (the naive loop loses the signal sent in its window; every fix wakes at once), nothing left behind.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 21 normal
