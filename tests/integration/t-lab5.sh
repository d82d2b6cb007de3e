#!/usr/bin/env bash
# Description: make check-lab-5 passes (every check of labs/05-*/scenario), nothing left behind.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 5 normal
