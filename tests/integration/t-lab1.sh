#!/usr/bin/env bash
# Description: make check-lab-1 passes (every check of labs/01-*/scenario), nothing left behind.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 1 normal
