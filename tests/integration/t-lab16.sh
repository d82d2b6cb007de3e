#!/usr/bin/env bash
# Description: make check-lab-16 passes (every check of labs/16-closing/scenario), nothing left behind.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 16 normal
