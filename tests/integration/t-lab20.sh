#!/usr/bin/env bash
# Description: make check-lab-20 passes (every check of labs/20-*/scenario), nothing left behind.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 20 normal
