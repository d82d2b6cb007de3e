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
#include <sys/epoll.h>
#include <unistd.h>

#include "common/server.h"

#define MAX_EVENTS 256   /* most events one epoll_wait() returns; the rest wait for the next call */

static struct server srv;
static int epfd;

static const struct bug BUGS[] = {
	{ "lt-always-pollout", "leave EPOLLOUT registered: every wakeup reports writable, nothing to do" },
	{ "no-sigpipe", "keep SIGPIPE's default action: writing to a reset peer kills the server" },
	{ NULL, NULL },
};

static const struct model_option OPTIONS[] = {
	OPTION_HIGH_WATER(&srv),
	OPTIONS_END,
};

static const struct model MODEL = {
	.name = "epoll-lt",
	.program = "echo-epoll-lt",
	.wait_call = "epoll_wait",
	.summary = "level-triggered epoll: one thread, EPOLLOUT only while output is queued",
	.lesson = 5,
	.options = OPTIONS,
	.bugs = BUGS,
};

/* Tell the kernel what this connection waits for now, if that changed. */
static void update_interest(struct conn *c)
{
	uint32_t want = conn_wanted(c);   /* EPOLLIN unless paused; EPOLLOUT only while output waits */
	struct epoll_event ev;

	if (server_bug(&srv, "lt-always-pollout"))
		want |= EPOLLOUT;     /* BUG lab 5: never dropped, so every turn reports "writable" */
	if (want == c->interest)
		return;               /* no system call when nothing changed */
	/* events = 0 is allowed: the kernel still reports EPOLLERR and EPOLLHUP. */
	ev = (struct epoll_event){ .events = want, .data.fd = c->fd };
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		die("epoll_ctl(EPOLL_CTL_MOD)");
	conn_set_interest(c, want);
}

/* Accept everyone waiting; register each socket once, for EPOLLIN. */
static void accept_clients(void)
{
	struct epoll_event ev;
	struct conn *c;

	while ((c = conn_accept(&srv, SOCK_NONBLOCK))) {
		ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = c->fd };
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
			die("epoll_ctl(EPOLL_CTL_ADD)");
		conn_set_interest(c, EPOLLIN);
	}
	/* Backlog empty (or out of descriptors): level-triggered, the listener reports again. */
}

int main(int argc, char **argv)
{
	struct epoll_event events[MAX_EVENTS], ev;
	struct conn *c;
	int n;

	server_start(&srv, &MODEL, argc, argv);

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1");
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = srv.lfd };  /* all 64 data bits set */
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, srv.lfd, &ev) < 0)
		die("epoll_ctl(listener)");

	while (!server_stop) {
		/* The kernel keeps the interest list: we pass only room for the answer. */
		n = epoll_pwait(epfd, events, MAX_EVENTS, -1, &srv.waitmask);
		if (n < 0) {
			if (errno == EINTR)
				continue;     /* SIGINT/SIGTERM got in during the wait: the loop condition decides */
			die("epoll_wait");
		}
		turn_begin(n);
		/* Pass 1: everything in this batch became ready now (the wait clock starts). */
		for (int i = 0; i < n; i++)
			turn_ready(events[i].data.fd, events[i].events);
		/* Pass 2: serve them in order; the last one waited for all the others. */
		for (int i = 0; i < n; i++) {
			if (events[i].data.fd == srv.lfd) {
				accept_clients();
				continue;
			}
			c = conn_table_get(&srv.conns, events[i].data.fd);
			if (!c)
				continue;
			/* One read per report: what we leave behind, LT reports again next turn.
			 * EPOLLHUP/EPOLLERR: the read says what happened (0 = EOF, -1 = the error).
			 * The reply is written at once; EPOLLOUT is only for what the socket would not take.
			 * A closed socket leaves the epoll set by itself (no dup()s of it exist). */
			if (conn_serve(c, events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				update_interest(c);
		}
		turn_end();
	}

	close(epfd);
	server_finish(&srv);
	return 0;
}
