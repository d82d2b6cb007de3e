#!/usr/bin/env bash
# Description: make check-lab-16 BROKEN=1 fails: the checks see the broken variant the scenario declares.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 16 broken
