/*
 * echo-poll.c — lab 4: one thread, poll().
 *
 * What it shows: poll() fixes two of select()'s problems.  The interest list is an
 * array of struct pollfd {fd, events, revents}: the kernel writes its answer into
 * revents and leaves events alone, so the array is kept from turn to turn, not
 * built again; and there is no FD_SETSIZE, any descriptor works.  It keeps the
 * third: the answer is a count, so every entry's revents is looked at after each
 * wakeup (the `scanned` counter), and the kernel looked at every socket too.  With
 * 1000 idle connections and one busy one, each message costs two walks over 1000
 * entries.  epoll (labs 5, 6) keeps the interest list in the kernel instead.
 * POLLHUP and POLLERR come even when not asked for; the read says which it was.
 *
 * Try:     bin/echo-poll -f line -p 7000      then in two terminals: nc 127.0.0.1 7000
 *          bin/iolab-load -p 7000 -c 1000      while bin/iolab-view shows scanned per wakeup
 * Lesson:  LESSONS.md §4
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>   /* only for the mask bit values telemetry uses */
#include <unistd.h>

#include "common/server.h"

static struct server srv;

static const struct model_option OPTIONS[] = {
	OPTION_HIGH_WATER(&srv),
	OPTION_TIMERS(&srv),
	OPTIONS_END,
};

static const struct model MODEL = {
	.name = "poll", .program = "echo-poll", .lesson = 4,
	.wait_call = "poll", .options = OPTIONS,
	.summary = "poll(): one thread, a pollfd array kept from turn to turn, scanned after every wakeup",
};

/* The interest list, kept: pfds[fd] is descriptor fd's entry; fd = -1 where none (poll() skips it). */
static struct pollfd *pfds;
static nfds_t npfds, cap;    /* entries in use (highest fd + 1), entries allocated */

static void watch(int fd, uint32_t interest)
{
	if ((nfds_t)fd >= cap) {
		nfds_t n = (nfds_t)fd * 2 + 64;
		struct pollfd *p = realloc(pfds, n * sizeof(*p));

		if (!p)
			die("realloc");
		for (nfds_t i = cap; i < n; i++)
			p[i] = (struct pollfd){ .fd = -1 };
		pfds = p;
		cap = n;
	}
	if ((nfds_t)fd >= npfds)
		npfds = (nfds_t)fd + 1;
	/* epoll bits -> poll events: the same values on Linux, spelled out. */
	pfds[fd] = (struct pollfd){ .fd = fd, .events = (short)((interest & EPOLLIN ? POLLIN : 0) |
								 (interest & EPOLLOUT ? POLLOUT : 0)) };
}

/* Accept everyone waiting: each gets its entry, for POLLIN. */
static void accept_clients(void)
{
	struct conn *c;

	while ((c = conn_accept(&srv, SOCK_NONBLOCK))) {
		watch(c->fd, EPOLLIN);
		conn_set_interest(c, EPOLLIN);
	}
	/* The backlog is empty (or we are out of descriptors): the listener will be reported again. */
}

int main(int argc, char **argv)
{
	struct timespec ts;
	struct conn *c;
	short ready;
	int n, fd;

	server_start(&srv, &MODEL, argc, argv);
	watch(srv.lfd, EPOLLIN);

	while (!server_stop) {
		/* The whole array goes in with every call: the kernel looks at every entry. */
		n = ppoll(pfds, npfds, server_wait_ts(&ts), &srv.waitmask);
		if (n < 0) {
			if (errno == EINTR)
				continue;     /* SIGINT/SIGTERM got in during the wait: the loop condition decides */
			die("poll");
		}
		turn_begin(n);
		/* The answer is a count: find who is ready by looking at every entry. */
		tm_add(TM_SCANNED, (uint64_t)npfds);
		/* Pass 1: everything in this answer became ready now (the wait clock starts). */
		for (nfds_t i = 0; i < npfds; i++)
			if (pfds[i].fd >= 0 && pfds[i].revents)
				turn_ready(pfds[i].fd, mask_from_poll(pfds[i].revents));
		/* Pass 2: serve them in order; the last one waited for all the others.
		 * accept_clients() may move the array (realloc): index it, keep no pointer;
		 * the entries it adds have revents 0, so they are not served before they speak. */
		for (nfds_t i = 0; i < npfds; i++) {
			if (pfds[i].fd < 0 || !pfds[i].revents)
				continue;
			fd = pfds[i].fd;
			ready = pfds[i].revents;
			if (fd == srv.lfd) {
				accept_clients();
				continue;
			}
			if (!(c = conn_table_get(&srv.conns, fd))) {
				pfds[i].fd = -1;          /* closed by its timer (POLLNVAL): forget the entry */
				continue;
			}
			/* One read per report; what we leave behind, poll() reports again next turn.
			 * The reply is written at once; POLLOUT is only for what did not fit. */
			if (conn_serve(c, ready & (POLLIN | POLLHUP | POLLERR))) {
				conn_set_interest(c, conn_wanted(c));
				watch(fd, c->interest);   /* no system call: the entry is the interest */
			} else {
				pfds[fd].fd = -1;         /* closed: poll() skips it from now on */
			}
		}
		while (npfds > 0 && pfds[npfds - 1].fd < 0)
			npfds--;                      /* closed at the end: the array gets shorter */
		server_expire();   /* connections past --idle-timeout/--heartbeat */
		turn_end();
	}

	free(pfds);
	server_finish(&srv);
	return 0;
}
