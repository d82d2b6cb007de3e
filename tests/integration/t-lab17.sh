#!/usr/bin/env bash
# Description: make check-lab-17 passes (every check of labs/17-herd/scenario), nothing left behind.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 17 normal
