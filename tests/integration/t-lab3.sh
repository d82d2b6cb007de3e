#!/usr/bin/env bash
# Description: make check-lab-3 passes (every check of labs/03-*/scenario), nothing left behind.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 3 normal
