#!/usr/bin/env bash
# Description: make check-lab-20 BROKEN=1 fails: with --no-eventfd the hand-over waits for the poll timeout.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 20 broken
