/* cpu.c — CPU time of this process and of the server, and whether the server still lives. */
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <time.h>

#include "common/procstat.h"

#include "labs/tools/load/load.h"

/* CPU time (user + system, ns) of process pid: its CPU clock, or /proc/PID/stat. */
int64_t proc_cpu_ns(pid_t pid)
{
	clockid_t clk;
	struct timespec ts;
	struct proc_stat ps;

	if (clock_getcpuclockid(pid, &clk) == 0 && clock_gettime(clk, &ts) == 0)
		return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	return procstat_read(pid, &ps) ? procstat_cpu_ns(&ps) : -1;
}

int64_t self_cpu_ns(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
	       ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* Alive and not a zombie (a dead child of the shell that has not been reaped). */
bool proc_alive(pid_t pid)
{
	struct proc_stat ps;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return false;
	return !procstat_read(pid, &ps) || procstat_alive(&ps);   /* no /proc: kill() said it exists */
}
