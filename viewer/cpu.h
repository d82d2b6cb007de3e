/*
 * cpu.h — a server's CPU use, from /proc/PID/stat (the viewer's only /proc reading
 * besides the Verify view's descriptor list).
 */
#ifndef IOLAB_VIEW_CPU_H
#define IOLAB_VIEW_CPU_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Open /proc/PID/stat to be re-read with cpu_ticks(); -1 if the process is gone. */
int  cpu_open(pid_t pid);
/* utime+stime in clock ticks from a descriptor cpu_open() gave.  false if gone/unreadable. */
bool cpu_ticks(int fd, uint64_t *ticks);

#endif
