/*
 * echo-select.c — lab 3: one thread, select().
 *
 * What it shows: one thread sleeps in select() until any of its sockets is
 * ready, so an idle server uses no CPU (compare lab 2).  The price is in the
 * interface:
 *   - the fd_sets are in/out parameters: select() overwrites them with the
 *     answer, so every turn rebuilds them from scratch (FD_ZERO, FD_SET...);
 *   - the answer is a count, not a list: finding who is ready means walking every
 *     descriptor number up to the highest one (the `scanned` counter), and the
 *     kernel walked them too, even if only one of 1000 connections spoke;
 *   - an fd_set is a fixed bitmap of FD_SETSIZE (1024) bits.  FD_SET() on a
 *     descriptor >= 1024 writes past its end, so a connection that lands on such
 *     a descriptor is refused (closed, logged, counted in `refused`), however
 *     high the descriptor limit is.
 * select() cannot tell "readable" from "error" or "hangup": all three just look
 * readable, and read() says which.
 *
 * Usage:   echo-select [-p PORT] [-b ADDR] [-f len32|line|raw] [--high-water BYTES]
 * Needs:   nothing special.
 * Try:     bin/echo-select -f line -p 7000      then in two terminals: nc 127.0.0.1 7000
 *          bin/iolab-load -p 7000 -c 1100       the connections past fd 1023 are refused
 * Lesson:  LESSONS.md §3
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>   /* only for the mask bit values telemetry uses */
#include <sys/select.h>
#include <unistd.h>

#include "common/server.h"

static const struct model MODEL = {
	.name = "select",
	.program = "echo-select",
	.wait_call = "select",
	.summary = "select(): one thread, fd_sets rebuilt every turn, descriptors below FD_SETSIZE only",
	.lesson = 3,
	.options = OPT_HIGH_WATER,
	.bugs = NULL,
};

static struct server srv;
static struct conn_table conns;
static bool did_work;        /* this wakeup moved bytes or accepted someone */

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

/* Nothing to tell the kernel now: the next turn builds its fd_sets from c->interest. */
static void update_interest(struct conn *c)
{
	uint32_t want = wanted(c);

	if (want == c->interest)
		return;
	c->interest = want;
	tm_conn_interest(c->fd, want);
	tm_log(EV_INTEREST, c->fd, want, want);
}

static void close_conn(struct conn *c, int reason)
{
	/* Nothing to deregister: the next turn's fd_sets simply leave it out. */
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
		if (fd >= FD_SETSIZE) {
			/* FD_SET() would write past the end of the fd_set bitmap: refuse, never pass it. */
			tm_add(TM_REFUSED, 1);
			tm_log(EV_REFUSED, fd, 0, fd);
			iolog("fd %d (port %u): refused: select() can only watch descriptors below FD_SETSIZE (%d); poll and epoll have no such limit",
			      fd, port, FD_SETSIZE);
			close(fd);
			continue;
		}
		did_work = true;
		c = conn_new(fd, port, &srv.opt);
		if (!c || conn_table_put(&conns, c) < 0) {
			iolog("fd %d: out of memory, closing", fd);
			if (c)
				conn_free(c, ENOMEM);
			else
				close(fd);
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
			return true;      /* socket buffer full: the write set will say when there is room */
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
	/* "Readable" may be data, EOF or an error: read() tells which (0 = EOF, -1 = the error). */
	if (ready & EPOLLIN) {
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
		/* EAGAIN here: select() can report readiness that is gone by the time we read. */
	}
	/* Reply at once; the write set is only for what the socket would not take. */
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
	fd_set rd, wr;
	struct conn *c;
	uint32_t mask;
	int n, maxfd;

	server_start(&srv, &MODEL, argc, argv, true);

	while (!server_stop) {
		/* select() overwrites the sets with its answer: build them again, every turn. */
		FD_ZERO(&rd);
		FD_ZERO(&wr);
		FD_SET(srv.lfd, &rd);
		maxfd = srv.lfd;
		for (size_t fd = 0; fd < conns.n; fd++) {
			c = conn_table_get(&conns, (int)fd);
			if (!c)
				continue;     /* every fd in the table is < FD_SETSIZE: accept refused the others */
			if (c->interest & EPOLLIN)
				FD_SET(c->fd, &rd);
			if (c->interest & EPOLLOUT)
				FD_SET(c->fd, &wr);
			if (c->fd > maxfd)
				maxfd = c->fd;
		}
		n = select(maxfd + 1, &rd, &wr, NULL, NULL);
		tm_add(TM_WAIT_CALLS, 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;     /* SIGINT/SIGTERM: the loop condition decides */
			die("select");
		}
		tm_add(TM_EVENTS, (uint64_t)n);
		did_work = false;
		/* The answer is a count: find who is ready by testing every descriptor up to maxfd. */
		tm_add(TM_SCANNED, (uint64_t)maxfd + 1);
		/* Pass 1: everything in this answer became ready now (the wait clock starts). */
		for (int fd = 0; fd <= maxfd; fd++) {
			if (!FD_ISSET(fd, &rd) && !FD_ISSET(fd, &wr))
				continue;
			mask = mask_from_select(FD_ISSET(fd, &rd), FD_ISSET(fd, &wr), 0);
			tm_conn_ready(fd, mask);
			tm_log(EV_READY, fd, mask, mask);
		}
		/* Pass 2: serve them in order; the last one waited for all the others. */
		for (int fd = 0; fd <= maxfd; fd++) {
			if (!FD_ISSET(fd, &rd) && !FD_ISSET(fd, &wr))
				continue;
			if (fd == srv.lfd) {
				accept_clients();
				continue;
			}
			c = conn_table_get(&conns, fd);
			if (c)
				serve(c, mask_from_select(FD_ISSET(fd, &rd), FD_ISSET(fd, &wr), 0));
		}
		if (!did_work)
			tm_add(TM_EMPTY_WAKEUPS, 1);
	}

	conn_table_free_all(&conns);
	server_finish(&srv);
	return 0;
}
