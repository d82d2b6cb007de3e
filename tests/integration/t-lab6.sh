#!/usr/bin/env bash
# Description: make check-lab-6 passes (every check of labs/06-*/scenario), nothing left behind.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 6 normal
