#!/usr/bin/env bash
# Description: make check-lab-8 passes (every check of labs/08-*/scenario), nothing left behind.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 8 normal aio
