/* procstat.c — see procstat.h. */
#include "common/procstat.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool procstat_parse(const char *text, struct proc_stat *ps)
{
	/* Field (2), the command name, may hold spaces and ')': the fields restart after the last ')'. */
	const char *p = strrchr(text, ')');
	unsigned long long ut, st;
	char state;
	long threads, rss;

	if (!p)
		return false;
	/*        3   4   5   6   7   8   9  10  11  12  13  14  15  16  17  18  19  20 21  22  23 24 */
	if (sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %ld"
			  " %*d %*u %*u %ld", &state, &ut, &st, &threads, &rss) != 5)
		return false;
	ps->state = state;
	ps->utime = ut;
	ps->stime = st;
	ps->num_threads = threads;
	ps->rss = rss;
	return true;
}

int procstat_open(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	return open(path, O_RDONLY | O_CLOEXEC);
}

bool procstat_read_fd(int fd, struct proc_stat *ps)
{
	char buf[1024];
	ssize_t n;

	if (fd < 0)
		return false;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return procstat_parse(buf, ps);
}

bool procstat_read(pid_t pid, struct proc_stat *ps)
{
	int fd = procstat_open(pid);
	bool ok = procstat_read_fd(fd, ps);

	if (fd >= 0)
		close(fd);
	return ok;
}

int64_t procstat_cpu_ns(const struct proc_stat *ps)
{
	long tck = sysconf(_SC_CLK_TCK);

	if (tck <= 0)
		tck = 100;
	return (int64_t)((double)(ps->utime + ps->stime) * (1e9 / (double)tck));
}

bool procstat_alive(const struct proc_stat *ps)
{
	return ps->state != 'Z' && ps->state != 'X' && ps->state != 'x';
}

/* The number after "name:" at the start of a line, or false. */
static bool status_field(const char *text, const char *name, uint64_t *v)
{
	size_t len = strlen(name);
	unsigned long long x;

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, name, len) == 0 && p[len] == ':' && sscanf(p + len + 1, " %llu", &x) == 1) {
			*v = x;
			return true;
		}
	}
	return false;
}

bool proc_ctxt_parse(const char *text, struct proc_ctxt *c)
{
	return status_field(text, "voluntary_ctxt_switches", &c->voluntary) &&
	       status_field(text, "nonvoluntary_ctxt_switches", &c->nonvoluntary);
}

bool proc_ctxt_read(pid_t pid, pid_t tid, struct proc_ctxt *c)
{
	char path[80], buf[4096];
	ssize_t n;
	int fd;

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return proc_ctxt_parse(buf, c);
}
