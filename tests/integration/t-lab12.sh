#!/usr/bin/env bash
# Description: make check-lab-12 passes (every check of labs/12-*/scenario), nothing left behind.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 12 normal
