#!/usr/bin/env bash
# Description: make check-lab-13 passes (under a hog the LT models and budgeted epoll-et keep the light clients' p99 within 20x their p50; greedy epoll-et and sigio do not), nothing left behind.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 13 normal
