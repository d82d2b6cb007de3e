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

static const struct model MODEL = {
	.name = "poll",
	.program = "echo-poll",
	.wait_call = "poll",
	.summary = "poll(): one thread, a pollfd array kept from turn to turn, scanned after every wakeup",
	.lesson = 4,
	.options = OPT_HIGH_WATER,
	.bugs = NULL,
};

static struct server srv;
static struct conn_table conns;
static bool did_work;        /* this wakeup moved bytes or accepted someone */

/* The interest list: pfds[0] is the listener, then one entry per connection. */
static struct pollfd *pfds;
static nfds_t npfds, pfds_cap;

/* What this connection should wait for, given its buffers. */
static uint32_t wanted(const struct conn *c)
{
	uint32_t want = 0;

	if (!c->paused && !c->rd_closed)
		want |= EPOLLIN;
	if (buf_len(&c->out))
		want |= EPOLLOUT;
	return want;
}

/* Record it; after serve() the main loop copies c->interest into the connection's pollfd. */
static void update_interest(struct conn *c)
{
	uint32_t want = wanted(c);

	if (want == c->interest)
		return;
	c->interest = want;
	tm_conn_interest(c->fd, want);
	tm_log(EV_INTEREST, c->fd, want, want);
}

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

static void close_conn(struct conn *c, int reason)
{
	/* Its pollfd becomes a hole once serve() returns (see main). */
	conn_table_del(&conns, c->fd);
	conn_free(c, reason);
}

static void accept_clients(void)
{
	struct conn *c;
	uint16_t port;
	int fd;

	for (;;) {
		fd = net_accept(srv.lfd, SOCK_NONBLOCK, &port);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;       /* backlog empty: done until the listener is readable again */
			if (errno == EINTR || errno == ECONNABORTED)
				continue;     /* a signal, or a client that gave up while queued */
			if (errno == EMFILE || errno == ENFILE) {
				/* Out of descriptors: net_accept shed one client instead of spinning. */
				tm_add(TM_ACCEPT_EMFILE, 1);
				iolog("accept: out of descriptors, one connection refused");
				return;
			}
			die("accept4");
		}
		did_work = true;
		c = conn_new(fd, port, &srv.opt);
		if (!c || conn_table_put(&conns, c) < 0 || add_pollfd(fd, EPOLLIN) < 0) {
			iolog("fd %d: out of memory, closing", fd);
			if (c) {
				conn_table_del(&conns, fd);
				conn_free(c, ENOMEM);
			} else {
				close(fd);
			}
			continue;
		}
		c->interest = EPOLLIN;
		tm_conn_interest(fd, EPOLLIN);
	}
}

/* Write what is queued until it is gone or the socket is full.  false: connection closed. */
static bool flush_output(struct conn *c)
{
	while (buf_len(&c->out)) {
		if (conn_write(c) > 0) {
			did_work = true;
			continue;         /* all of it, or a short write: offer the rest */
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return true;      /* socket buffer full: POLLOUT will say when there is room */
		if (errno == EINTR)
			continue;         /* a signal arrived mid-call: nothing was written, try again */
		close_conn(c, errno); /* EPIPE, ECONNRESET: the peer is gone */
		return false;
	}
	return true;
}

static void serve(struct conn *c, uint32_t ready)
{
	ssize_t n;

	tm_conn_served(c->fd);
	/* POLLHUP/POLLERR (reported even when not asked for): read() says what happened. */
	if (ready & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		n = conn_read(c);
		if (n > 0) {
			did_work = true;
			if (conn_ingest(c) < 0) {
				close_conn(c, CLOSE_PROTOCOL);
				return;
			}
		} else if (n == 0) {
			did_work = true;      /* half-close: echo what we have, then close */
		} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			close_conn(c, errno); /* ECONNRESET: only this connection goes */
			return;
		}
		/* EAGAIN here: a spurious wakeup; poll() is level-triggered and will tell again. */
	}
	/* Reply at once; POLLOUT is only for what the socket would not take. */
	if (!flush_output(c))
		return;
	if (conn_done(c)) {
		close_conn(c, CLOSE_EOF);
		return;
	}
	conn_check_pause(c);
	update_interest(c);
}

int main(int argc, char **argv)
{
	struct conn *c;
	nfds_t nscan;
	uint32_t mask;
	int n;

	server_start(&srv, &MODEL, argc, argv, true);

	if (add_pollfd(srv.lfd, EPOLLIN) < 0)
		die("realloc");

	while (!server_stop) {
		n = poll(pfds, npfds, -1);
		tm_add(TM_WAIT_CALLS, 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;     /* SIGINT/SIGTERM: the loop condition decides */
			die("poll");
		}
		tm_add(TM_EVENTS, (uint64_t)n);
		did_work = false;
		/* The answer is a count: find who is ready by looking at every entry.
		 * accept_clients() appends; the new entries have no answer yet, so stop at nscan. */
		nscan = npfds;
		tm_add(TM_SCANNED, (uint64_t)nscan);
		/* Pass 1: everything in this answer became ready now (the wait clock starts). */
		for (nfds_t i = 0; i < nscan; i++) {
			if (!pfds[i].revents)
				continue;
			mask = mask_from_poll(pfds[i].revents);
			tm_conn_ready(pfds[i].fd, mask);
			tm_log(EV_READY, pfds[i].fd, mask, mask);
		}
		/* Pass 2: serve them in order; the last one waited for all the others. */
		for (nfds_t i = 0; i < nscan; i++) {
			if (!pfds[i].revents)
				continue;
			if (pfds[i].fd == srv.lfd) {
				accept_clients();     /* may realloc pfds: index it, never keep a pointer */
				continue;
			}
			c = conn_table_get(&conns, pfds[i].fd);
			if (!c)
				continue;
			serve(c, mask_from_poll(pfds[i].revents));
			/* Write back what it waits for now, or leave a hole if serve() closed it. */
			c = conn_table_get(&conns, pfds[i].fd);
			if (c)
				pfds[i].events = poll_events(c->interest);
			else
				pfds[i].fd = -1;      /* poll() skips negative fds; compact() removes it below */
		}
		/* Removing entries inside the loop would shift unvisited ones under i: do it now. */
		compact();
		if (!did_work)
			tm_add(TM_EMPTY_WAKEUPS, 1);
	}

	conn_table_free_all(&conns);
	free(pfds);
	server_finish(&srv);
	return 0;
}
