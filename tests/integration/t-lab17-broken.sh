#!/usr/bin/env bash
# Description: make check-lab-17 BROKEN=1 fails: the checks see the broken variant the scenario declares.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 17 broken
