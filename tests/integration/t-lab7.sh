#!/usr/bin/env bash
# Description: make check-lab-7 passes (every check of labs/07-*/scenario), nothing left behind.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 7 normal
