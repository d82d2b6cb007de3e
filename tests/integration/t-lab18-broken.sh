#!/usr/bin/env bash
# Description: make check-lab-18 BROKEN=1 fails: the checks see the broken variant the scenario declares.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 18 broken
