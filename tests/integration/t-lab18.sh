#!/usr/bin/env bash
# Description: make check-lab-18 passes (every check of labs/18-accept-queue/scenario), nothing left behind.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 18 normal
