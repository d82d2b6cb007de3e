#!/usr/bin/env bash
# Description: make check-lab-4 passes (every check of labs/04-*/scenario), nothing left behind.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 4 normal
