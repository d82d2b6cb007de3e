#!/usr/bin/env bash
# Description: make check-lab-15 passes (every check of labs/15-*/scenario), nothing left behind.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 15 normal
