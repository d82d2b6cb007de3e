/*
 * verify.c — find the descriptor a server waits on, and write out the commands
 * (strace, ss, /proc) that let a student check the viewer from the outside.
 *
 * The epoll instance and the io_uring are anonymous inodes: readlink() of
 * /proc/PID/fd/N says "anon_inode:[eventpoll]" or "anon_inode:[io_uring]".
 * Their /proc/PID/fdinfo/N lists, for epoll, one "tfd:" line per registered
 * socket with the interest mask in hex ("events: 2019"), the same number as
 * the viewer's interest column.
 */
#include "viewer/verify.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "viewer/text.h"

static void read_fdinfo(pid_t pid, int fd, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return;
	n = read(f, buf, len - 1);
	close(f);
	buf[n > 0 ? n : 0] = '\0';
}

void verify_scan(pid_t pid, struct verify_info *v, uint64_t now)
{
	char dir[64], path[320], link[128];
	struct dirent *d;
	DIR *dp;

	memset(v, 0, sizeof(*v));
	v->pid = pid;
	v->epoll_fd = v->uring_fd = -1;
	v->when_ns = now;
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	dp = opendir(dir);
	if (!dp)
		return;                 /* gone, or not ours to look at (run as the same user, or root) */
	v->fd_ok = true;
	while ((d = readdir(dp)) != NULL) {
		ssize_t n;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue;           /* closed meanwhile */
		link[n] = '\0';
		v->nfds++;
		if (strncmp(link, "socket:", 7) == 0)
			v->nsockets++;
		else if (strcmp(link, "anon_inode:[eventpoll]") == 0 && v->epoll_fd < 0)
			v->epoll_fd = atoi(d->d_name);
		else if (strcmp(link, "anon_inode:[io_uring]") == 0 && v->uring_fd < 0)
			v->uring_fd = atoi(d->d_name);
	}
	closedir(dp);
	if (v->epoll_fd >= 0)
		read_fdinfo(pid, v->epoll_fd, v->fdinfo, sizeof(v->fdinfo));
	else if (v->uring_fd >= 0)
		read_fdinfo(pid, v->uring_fd, v->fdinfo, sizeof(v->fdinfo));
}

int verify_commands(const struct seg *g, const struct verify_info *v,
		    struct verify_cmd out[VERIFY_MAX_CMDS])
{
	const char *wait = g->wait_call[0] ? g->wait_call : "its waiting call";
	int pid = (int)g->pid, n = 0;

#define CMD(...)  snprintf(out[n].cmd, sizeof(out[n].cmd), __VA_ARGS__)
#define WHY(...)  (snprintf(out[n].why, sizeof(out[n].why), __VA_ARGS__), n++)
	CMD("strace -f -tt -T -e trace=%s -p %d", strace_filter(g->wait_call), pid);
	if (strcmp(g->wait_call, "none (busy loop)") == 0)
		WHY("every accept4/readv/write as it happens: thousands of EAGAIN a second (-c counts instead)");
	else if (strcmp(g->wait_call, "accept/read") == 0)
		WHY("each thread asleep in accept4 or readv (<unfinished ...>), then its write");
	else
		WHY("every %s and the I/O after it: when, what it returned, how long it blocked (<...>)", wait);

	if (g->port) {
		CMD("ss -tni state established '( sport = :%u )'", g->port);
		WHY("the kernel's view of each connection: Recv-Q/Send-Q bytes queued, rtt, cwnd");
		CMD("ss -tlni '( sport = :%u )'", g->port);
		WHY("the listener: Recv-Q = connections waiting for accept(), Send-Q = backlog");
	}
	CMD("ls -l /proc/%d/fd", pid);
	WHY("its descriptors: the listener, one socket per connection, the wait object");

	if (v->epoll_fd >= 0) {
		CMD("cat /proc/%d/fdinfo/%d", pid, v->epoll_fd);
		WHY("fd %d is anon_inode:[eventpoll]: a tfd line per socket; events: is the interest in hex,"
		    " plus ERR|HUP (0x18) that epoll always adds", v->epoll_fd);
	} else if (v->uring_fd >= 0) {
		CMD("cat /proc/%d/fdinfo/%d", pid, v->uring_fd);
		WHY("fd %d is anon_inode:[io_uring]: ring heads and tails, requests in flight", v->uring_fd);
	} else {
		CMD("ls -l /proc/%d/fd | grep anon_inode", pid);
		WHY("no epoll or io_uring descriptor: this model waits in %s", wait);
	}
	CMD("grep -E 'Threads|ctxt' /proc/%d/status", pid);
	WHY("threads, and voluntary switches = times it went to sleep waiting");
	CMD("perf trace -s -p %d   # or: strace -c -f -p %d", pid, pid);
	WHY("system calls per type over a while: compare with syscalls/message");
#undef CMD
#undef WHY
	return n;
}
