/*
 * verify.h — "verify it yourself": the outside commands that show what the
 * viewer shows, with the server's real pid, port and descriptors filled in.
 */
#ifndef IOLAB_VIEW_VERIFY_H
#define IOLAB_VIEW_VERIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "viewer/sample.h"

#define VERIFY_MAX_CMDS   8
#define VERIFY_FDINFO     4096    /* bytes of /proc/PID/fdinfo/EPFD kept for the screen */

struct verify_info {
	pid_t    pid;
	bool     fd_ok;               /* /proc/PID/fd could be read */
	int      nfds, nsockets;
	int      epoll_fd;            /* anon_inode:[eventpoll], or -1 */
	int      uring_fd;            /* anon_inode:[io_uring], or -1 */
	char     fdinfo[VERIFY_FDINFO];  /* head of the fdinfo of whichever was found */
	uint64_t when_ns;             /* when this was gathered */
};

struct verify_cmd {
	char        cmd[224];
	char        why[160];
};

/* Read /proc/PID/fd links (and the fdinfo of the epoll/io_uring fd).  Cost: one readlink per fd. */
void verify_scan(pid_t pid, struct verify_info *v, uint64_t now);
/* The commands for a server, pid/port/fd filled in.  Returns how many. */
int  verify_commands(const struct seg *g, const struct verify_info *v,
		     struct verify_cmd out[VERIFY_MAX_CMDS]);

#endif
