#!/usr/bin/env bash
# Description: make check-lab-14 BROKEN=1 fails: epoll-lt with EPOLLOUT left registered hands back every idle socket on each wakeup, and the flatness check sees it.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 14 broken
