#!/usr/bin/env bash
# Description: make check-lab-2 passes (every check of labs/02-*/scenario), nothing left behind.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 2 normal
