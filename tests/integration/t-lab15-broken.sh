#!/usr/bin/env bash
# Description: make check-lab-15 BROKEN=1 fails: without SO_KEEPALIVE the dead peer (b) is never reported.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 15 broken
