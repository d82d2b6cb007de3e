#!/usr/bin/env bash
# Description: make check-lab-21 BROKEN=1 fails: with --bug naive-as-fix every "fix" is the naive loop and the checks see it.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 21 broken
