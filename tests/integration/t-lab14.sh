#!/usr/bin/env bash
# Description: make check-lab-14 passes (select/poll per-wakeup work grows >= 50x with 1000 idle connections, epoll's stays within 2x; every model echoes every byte), nothing left behind.
. "$IOLAB_ROOT/tests/lib.sh"; t_lab 14 normal
