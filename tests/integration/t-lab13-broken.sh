#!/usr/bin/env bash
# Description: make check-lab-13 BROKEN=1 fails: epoll-et run with --budget 0 in the fair row starves the light clients and the checks see it.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 13 broken
