/*
 * echo-epoll-lt.c — lab 5: one thread, level-triggered epoll.
 *
 * What it shows: one thread waits in epoll_wait() for every socket at once.
 * Level-triggered means "tell me again": as long as a socket still has unread
 * bytes (or room to write) every epoll_wait() reports it, so reading once per
 * event is enough — what we leave behind is reported on the next turn.
 *
 * Writing follows redis's sendReplyToClient pattern (seed 000): write the echo
 * directly; only if the socket takes less than everything, register EPOLLOUT,
 * and drop it again as soon as the output drains.  A socket is writable almost
 * all the time, so an EPOLLOUT left registered wakes us for nothing on every
 * turn (see --bug=lt-always-pollout and the empty-wakeup counter).
 *
 * A peer that sends but never reads: its echo piles up.  Past --high-water
 * bytes queued we stop reading it (drop EPOLLIN) until it drains to half the
 * mark, so the server's memory stays bounded whatever the peer does.
 *
 * Usage:   echo-epoll-lt [-p PORT] [-b ADDR] [-f len32|line|raw] [--high-water BYTES] [--bug NAME]
 * Needs:   Linux (epoll); nothing special.
 * Try:     bin/echo-epoll-lt -f line -p 7000      then in two terminals: nc 127.0.0.1 7000
 *          bin/iolab-load -p 7000 -c 50           while bin/iolab-view shows it
 * Lesson:  LESSONS.md §5
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/server.h"

#define MAX_EVENTS 256   /* most events one epoll_wait() returns; the rest wait for the next call */

static const struct bug BUGS[] = {
	{ "lt-always-pollout", "leave EPOLLOUT registered: every wakeup reports writable, nothing to do" },
	{ "no-sigpipe", "keep SIGPIPE's default action: writing to a reset peer kills the server" },
	{ NULL, NULL },
};

static const struct model MODEL = {
	.name = "epoll-lt",
	.program = "echo-epoll-lt",
	.wait_call = "epoll_wait",
	.summary = "level-triggered epoll: one thread, EPOLLOUT only while output is queued",
	.lesson = 5,
	.options = OPT_HIGH_WATER,
	.bugs = BUGS,
};

static struct server srv;
static struct conn_table conns;
static int epfd;
static bool did_work;        /* this wakeup moved bytes or accepted someone */

/* What this connection should wait for, given its buffers. */
static uint32_t wanted(const struct conn *c)
{
	uint32_t want = 0;

	if (!c->paused && !c->rd_closed)
		want |= EPOLLIN;
	if (buf_len(&c->out) || server_bug(&srv, "lt-always-pollout")) /* BUG lab 5: never dropped */
		want |= EPOLLOUT;
	return want;
}

static void update_interest(struct conn *c)
{
	uint32_t want = wanted(c);
	struct epoll_event ev = { .events = want, .data.fd = c->fd };

	if (want == c->interest)
		return;
	/* events = 0 is allowed: the kernel still reports EPOLLERR and EPOLLHUP. */
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		die("epoll_ctl(EPOLL_CTL_MOD)");
	c->interest = want;
	tm_conn_interest(c->fd, want);
	tm_log(EV_INTEREST, c->fd, want, want);
}

static void close_conn(struct conn *c, int reason)
{
	/* close() removes the fd from the epoll set (no dup()s of it exist). */
	conn_table_del(&conns, c->fd);
	conn_free(c, reason);
}

static void accept_clients(void)
{
	struct epoll_event ev;
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
		if (!c || conn_table_put(&conns, c) < 0) {
			iolog("fd %d: out of memory, closing", fd);
			if (c)
				conn_free(c, ENOMEM);
			else
				close(fd);
			continue;
		}
		ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = fd };
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			die("epoll_ctl(EPOLL_CTL_ADD)");
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
			return true;      /* socket buffer full: EPOLLOUT will say when there is room */
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
	/* EPOLLHUP/EPOLLERR: let read() tell us what happened (0 = EOF, -1 = the error). */
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
		/* EAGAIN here: someone else's data was reported, or a spurious wakeup; LT will tell again. */
	}
	/* Reply at once; EPOLLOUT is only for what the socket would not take. */
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
	struct epoll_event events[MAX_EVENTS], ev;
	struct conn *c;
	int n;

	server_start(&srv, &MODEL, argc, argv, true);

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1");
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = srv.lfd };  /* all 64 data bits set */
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, srv.lfd, &ev) < 0)
		die("epoll_ctl(listener)");

	while (!server_stop) {
		n = epoll_wait(epfd, events, MAX_EVENTS, -1);
		tm_add(TM_WAIT_CALLS, 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;     /* SIGINT/SIGTERM: the loop condition decides */
			die("epoll_wait");
		}
		tm_add(TM_EVENTS, (uint64_t)n);
		did_work = false;
		/* Pass 1: everything in this batch became ready now (the wait clock starts). */
		for (int i = 0; i < n; i++) {
			tm_conn_ready(events[i].data.fd, events[i].events);
			tm_log(EV_READY, events[i].data.fd, events[i].events, events[i].events);
		}
		/* Pass 2: serve them in order; the last one waited for all the others. */
		for (int i = 0; i < n; i++) {
			if (events[i].data.fd == srv.lfd) {
				accept_clients();
				continue;
			}
			c = conn_table_get(&conns, events[i].data.fd);
			if (c)
				serve(c, events[i].events);
		}
		if (!did_work)
			tm_add(TM_EMPTY_WAKEUPS, 1);
	}

	conn_table_free_all(&conns);
	close(epfd);
	server_finish(&srv);
	return 0;
}
