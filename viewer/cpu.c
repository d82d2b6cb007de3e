/*
 * cpu.c — utime + stime of a process, from /proc/PID/stat.
 *
 * The descriptor is kept open for the life of a segment and re-read with
 * pread(): one system call a refresh instead of three, and it stays bound to
 * the process it was opened for (a recycled pid cannot slip in; a dead process
 * reads as ESRCH).
 */
#include "viewer/cpu.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cpu_open(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	return open(path, O_RDONLY | O_CLOEXEC);
}

bool cpu_ticks(int fd, uint64_t *ticks)
{
	char buf[1024];
	unsigned long long ut, st;
	const char *p;
	ssize_t n;

	if (fd < 0)
		return false;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces and ')': fields restart after the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return false;
	/* After ')' come field 3 (state) ... field 14 utime, 15 stime. */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return false;
	*ticks = ut + st;
	return true;
}
