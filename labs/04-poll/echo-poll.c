/*
 * echo-poll.c — lab 4: one thread, poll().
 *
 * What it shows: poll() fixes two of select()'s problems.  The interest list is
 * an array of struct pollfd {fd, events, revents}: the kernel writes its answer
 * into revents and leaves events alone, so the array is kept from turn to turn
 * instead of rebuilt; and there is no FD_SETSIZE, any descriptor number works.
 * It keeps the third: the answer is a count, so every entry's revents must be
 * looked at after each wakeup (the `scanned` counter), and the kernel looked at
 * every socket too.  With 1000 idle connections and one busy one, each message
 * costs a walk over 1001 entries, twice.  epoll (labs 5 and 6) keeps the interest
 * list in the kernel and hands back only the ready ones.
 *
 * A closed connection leaves a hole (fd = -1, which poll() skips); the array is
 * compacted after the scan, never during it, so no entry is skipped or seen twice.
 *
 * Usage:   echo-poll [-p PORT] [-b ADDR] [-f len32|line|raw] [--high-water BYTES]
 * Needs:   nothing special.
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
	OPTIONS_END,
};

static const struct model MODEL = {
	.name = "poll",
	.program = "echo-poll",
	.wait_call = "poll",
	.summary = "poll(): one thread, a pollfd array kept from turn to turn, scanned after every wakeup",
	.lesson = 4,
	.options = OPTIONS,
	.bugs = NULL,
};

/* The interest list: pfds[0] is the listener, then one entry per connection. */
static struct pollfd *pfds;
static nfds_t npfds, pfds_cap;

/* epoll bits -> poll events (the same values on Linux, spelled out). */
static short poll_events(uint32_t interest)
{
	return (short)((interest & EPOLLIN ? POLLIN : 0) | (interest & EPOLLOUT ? POLLOUT : 0));
}

static int add_pollfd(int fd, uint32_t interest)
{
	if (npfds == pfds_cap) {
		nfds_t cap = pfds_cap ? pfds_cap * 2 : 64;
		struct pollfd *p = realloc(pfds, cap * sizeof(*p));

		if (!p)
			return -1;
		pfds = p;
		pfds_cap = cap;
	}
	pfds[npfds++] = (struct pollfd){ .fd = fd, .events = poll_events(interest), .revents = 0 };
	return 0;
}

/* Squeeze out the holes closed connections left, keeping the order. */
static void compact(void)
{
	nfds_t j = 0;

	for (nfds_t i = 0; i < npfds; i++)
		if (pfds[i].fd >= 0)
			pfds[j++] = pfds[i];
	npfds = j;
}

/* Accept everyone waiting; each gets an entry at the end of the array, for POLLIN. */
static void accept_clients(void)
{
	struct conn *c;

	while ((c = conn_accept(&srv, SOCK_NONBLOCK))) {
		if (add_pollfd(c->fd, EPOLLIN) < 0) {
			conn_close(c, ENOMEM);
			continue;
		}
		conn_set_interest(c, EPOLLIN);
	}
	/* Backlog empty (or out of descriptors): poll() reports the listener again when needed. */
}

int main(int argc, char **argv)
{
	struct conn *c;
	nfds_t nscan;
	int n;

	server_start(&srv, &MODEL, argc, argv);

	if (add_pollfd(srv.lfd, EPOLLIN) < 0)
		die("realloc");

	while (!server_stop) {
		/* The whole interest list goes in with every call: the kernel looks at every entry. */
		n = ppoll(pfds, npfds, NULL, &srv.waitmask);
		if (n < 0) {
			if (errno == EINTR)
				continue;     /* SIGINT/SIGTERM got in during the wait: the loop condition decides */
			die("poll");
		}
		turn_begin(n);
		/* The answer is a count: find who is ready by looking at every entry.
		 * accept_clients() appends; the new entries have no answer yet, so stop at nscan. */
		nscan = npfds;
		tm_add(TM_SCANNED, (uint64_t)nscan);
		/* Pass 1: everything in this answer became ready now (the wait clock starts). */
		for (nfds_t i = 0; i < nscan; i++)
			if (pfds[i].revents)
				turn_ready(pfds[i].fd, mask_from_poll(pfds[i].revents));
		/* Pass 2: serve them in order; the last one waited for all the others. */
		for (nfds_t i = 0; i < nscan; i++) {
			if (!pfds[i].revents)
				continue;
			if (pfds[i].fd == srv.lfd) {
				accept_clients();     /* may realloc pfds: index it, never keep a pointer */
				continue;
			}
			c = conn_table_get(&srv.conns, pfds[i].fd);
			if (!c)
				continue;
			/* One read per report (POLLHUP/POLLERR come even unasked: the read says which);
			 * what we leave behind, poll() reports again next turn. */
			if (conn_serve(c, pfds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
				/* Nothing to tell the kernel: the entry's events field is the interest list. */
				conn_set_interest(c, conn_wanted(c));
				pfds[i].events = poll_events(c->interest);
			} else {
				pfds[i].fd = -1;      /* closed: poll() skips negative fds; compact() removes it */
			}
		}
		/* Removing entries inside the loop would shift unvisited ones under i: do it now. */
		compact();
		turn_end();
	}

	free(pfds);
	server_finish(&srv);
	return 0;
}
